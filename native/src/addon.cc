// The addon: exports every kernel binding the kernel files registered (see binding.h), plus the thread pool's and
// the convolution selector's settings. Nothing here changes when a kernel is added.
#include <node_api.h>

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <string>
#include <vector>

#include "binding.h"
#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

using namespace convlab;

KERNEL(JsSetThreads, "setThreads", 1, { set_threads(static_cast<int>(a.positive(0, "n"))); })
KERNEL(JsSetConvMode, "setConvMode", 1, { set_conv_mode(static_cast<int>(a.i64(0, "mode"))); })

namespace {

napi_value JsGetThreads(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int32(env, get_threads(), &r);
  return r;
}

napi_value JsIsa(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_string_utf8(env, gemm_isa(), NAPI_AUTO_LENGTH, &r);
  return r;
}

// glibc serves allocations above a dynamic threshold (128 KiB at first, 32 MiB at most) with fresh mmap'd pages and
// returns them on free, so every large tensor or scratch buffer faults in a page per 4 KiB each time it is made:
// 4,000 faults and 8 ms a step on the largest benchmark model, 4-8 ms a call for a 2048² product. Kept in the heap
// below 256 MiB, freed blocks are reused instead. The cost: freed memory stays with the process (up to 512 MiB
// above the heap's top) rather than going back to the system. CONVLAB_MALLOC_TUNING=0 leaves glibc's defaults.
void tune_malloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("CONVLAB_MALLOC_TUNING");
  if (env && env[0] == '0') return;
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  tune_malloc();
  std::vector<napi_property_descriptor> props;
  for (const Binding& b : bindings()) props.push_back({b.name, nullptr, b.fn, nullptr, nullptr, nullptr, napi_enumerable, nullptr});
  props.push_back({"getThreads", nullptr, JsGetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr});
  props.push_back({"isa", nullptr, JsIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr});
  if (napi_define_properties(env, exports, props.size(), props.data()) != napi_ok) {
    napi_throw_error(env, nullptr, ("convlab native: could not export the kernels (" + std::to_string(props.size()) + " bindings)").c_str());
    return nullptr;
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
