{
  "targets": [
    {
      "target_name": "convlab_native",
      "sources": ["src/addon.cc", "src/threadpool.cc", "src/gemm.cc", "src/elementwise.cc", "src/conv.cc", "src/direct_conv.cc", "src/train_kernels.cc", "src/winograd.cc", "src/pool.cc"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=fast", "-fno-trapping-math"],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3"] }
    }
  ]
}
