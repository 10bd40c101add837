// N-API binding: each function takes Float32Arrays (read in place, no copies), shapes as JS arrays, and writes
// into an output Float32Array allocated by the caller. Failures become JS exceptions.
#include <node_api.h>

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif


#include <new>
#include <stdexcept>
#include <string>

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

using namespace convlab;

namespace {

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status s, const char* what) {
  if (s != napi_ok) throw JsError(std::string("convlab native: bad argument: ") + what);
}

struct Args {
  napi_env env;
  napi_value v[12];
  size_t n = 12;
  Args(napi_env e, napi_callback_info info, size_t expected) : env(e) {
    check(env, napi_get_cb_info(env, info, &n, v, nullptr, nullptr), "arguments");
    if (n < expected) throw JsError("convlab native: expected " + std::to_string(expected) + " arguments");
  }
  float* f32(size_t i, size_t* len = nullptr) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value buf;
    size_t offset;
    check(env, napi_get_typedarray_info(env, v[i], &type, &length, &data, &buf, &offset), "expected a Float32Array");
    if (type != napi_float32_array) throw JsError("convlab native: expected a Float32Array");
    if (len) *len = length;
    return static_cast<float*>(data);
  }
  long i64(size_t i) {
    int64_t x;
    check(env, napi_get_value_int64(env, v[i], &x), "expected an integer");
    return static_cast<long>(x);
  }
  // A Float32Array, or nullptr for null/undefined.
  float* opt_f32(size_t i) {
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined ? nullptr : f32(i);
  }
  double f64(size_t i) {
    double x;
    check(env, napi_get_value_double(env, v[i], &x), "expected a number");
    return x;
  }
  bool flag(size_t i) {
    bool b;
    check(env, napi_get_value_bool(env, v[i], &b), "expected a boolean");
    return b;
  }
  Shape shape(size_t i) {
    uint32_t len;
    check(env, napi_get_array_length(env, v[i], &len), "expected an array of integers");
    Shape s(len);
    for (uint32_t k = 0; k < len; k++) {
      napi_value e;
      int64_t x;
      check(env, napi_get_element(env, v[i], k, &e), "array element");
      check(env, napi_get_value_int64(env, e, &x), "expected an array of integers");
      s[k] = static_cast<long>(x);
    }
    return s;
  }
  Conv2DAttrs conv(size_t i) {
    Shape s = shape(i);
    if (s.size() != 8) throw JsError("convlab native: conv attributes need 8 integers");
    return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
  }
  Pool2DAttrs pooling(size_t i) {
    Shape s = shape(i);
    if (s.size() != 8) throw JsError("convlab native: pool attributes need 8 integers");
    return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
  }
};

template <class F>
napi_value guard(napi_env env, F f) {
  ScopedFlushDenormals ftz;
  try {
    return f();
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_CONVLAB_OOM", "convlab native: out of memory");
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Body of a binding that validates its arguments, runs a kernel and returns undefined.
#define KERNEL(name, nargs, ...)                          \
  napi_value name(napi_env env, napi_callback_info info) { \
    return guard(env, [&]() -> napi_value {               \
      Args a(env, info, nargs);                           \
      __VA_ARGS__;                                        \
      return undefined(env);                              \
    });                                                   \
  }

KERNEL(JsUnary, 3, { size_t n; const float* x = a.f32(1, &n); unary(static_cast<Unary>(a.i64(0)), x, a.f32(2), static_cast<long>(n)); })
KERNEL(JsBinary, 7, { binary(static_cast<Binary>(a.i64(0)), a.f32(1), a.shape(2), a.f32(3), a.shape(4), a.f32(5), a.shape(6)); })
KERNEL(JsBiasActivation, 5, {
  size_t n;
  const float* x = a.f32(0, &n);
  const long c = a.i64(1);
  bias_activation(x, static_cast<long>(n) / std::max(1L, c), c, a.opt_f32(2), static_cast<float>(a.f64(3)), a.f32(4));
})
KERNEL(JsBiasActivationGrad, 6, {
  size_t n;
  const float* dy = a.f32(0, &n);
  const long c = a.i64(2);
  bias_activation_grad(dy, a.f32(1), static_cast<long>(n) / std::max(1L, c), c, static_cast<float>(a.f64(3)), a.f32(4), a.opt_f32(5));
})
// (x, c, gamma|null, beta|null, eps, y, mean, variance)
KERNEL(JsBatchNorm, 8, {
  size_t n;
  const float* x = a.f32(0, &n);
  const long c = a.i64(1);
  batch_norm(x, static_cast<long>(n) / std::max(1L, c), c, a.opt_f32(2), a.opt_f32(3), static_cast<float>(a.f64(4)), a.f32(5), a.f32(6), a.f32(7));
})
// (dy, x, c, mean, variance, gamma|null, eps, dx, dgamma, dbeta)
KERNEL(JsBatchNormGrad, 10, {
  size_t n;
  const float* dy = a.f32(0, &n);
  const long c = a.i64(2);
  batch_norm_grad(dy, a.f32(1), static_cast<long>(n) / std::max(1L, c), c, a.f32(3), a.f32(4), a.opt_f32(5), static_cast<float>(a.f64(6)), a.f32(7), a.f32(8), a.f32(9));
})
// (z, t, c, loss, logp)
KERNEL(JsSoftmaxCrossEntropy, 5, {
  size_t n;
  const float* z = a.f32(0, &n);
  const long c = std::max(1L, a.i64(2));
  softmax_cross_entropy(z, a.f32(1), static_cast<long>(n) / c, c, a.f32(3), a.f32(4));
})
// (dl, logp, t, c, dz)
KERNEL(JsSoftmaxCrossEntropyGrad, 5, {
  size_t rows;
  const float* dl = a.f32(0, &rows);
  softmax_cross_entropy_grad(dl, a.f32(1), a.f32(2), static_cast<long>(rows), std::max(1L, a.i64(3)), a.f32(4));
})
// (p, g, v|null, lr, momentum, nesterov)
KERNEL(JsSgdUpdate, 6, {
  size_t n;
  float* p = a.f32(0, &n);
  sgd_update(p, a.f32(1), a.opt_f32(2), static_cast<long>(n), a.f64(3), a.f64(4), a.flag(5));
})
// (p, g, m, v, vhat|null, alpha, beta1, beta2, eps)
KERNEL(JsAdamUpdate, 9, {
  size_t n;
  float* p = a.f32(0, &n);
  adam_update(p, a.f32(1), a.f32(2), a.f32(3), a.opt_f32(4), static_cast<long>(n), a.f64(5), a.f64(6), a.f64(7), a.f64(8));
})
// (state Uint32Array(4), rate, keep, out)
KERNEL(JsBernoulliMask, 4, {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buf;
  size_t offset;
  check(a.env, napi_get_typedarray_info(a.env, a.v[0], &type, &length, &data, &buf, &offset), "expected a Uint32Array");
  if (type != napi_uint32_array || length != 4) throw JsError("convlab native: expected a Uint32Array of 4 state words");
  size_t n;
  float* out = a.f32(3, &n);
  bernoulli_mask(static_cast<uint32_t*>(data), static_cast<long>(n), a.f64(1), static_cast<float>(a.f64(2)), out);
})
KERNEL(JsReduce, 5, { reduce(a.flag(0), a.f32(1), a.shape(2), a.shape(3), a.f32(4)); })
KERNEL(JsPermute, 4, { permute(a.f32(0), a.shape(1), a.shape(2), a.f32(3)); })
KERNEL(JsBroadcastTo, 4, { broadcast_to(a.f32(0), a.shape(1), a.shape(2), a.f32(3)); })
KERNEL(JsSlice, 5, { slice(a.f32(0), a.shape(1), a.shape(2), a.shape(3), a.f32(4)); })
KERNEL(JsPad, 4, { pad(a.f32(0), a.shape(1), a.shape(2), a.f32(3)); })
KERNEL(JsMatmul, 8, {
  const long m = a.i64(2), k = a.i64(3), n = a.i64(4);
  const bool ta = a.flag(5), tb = a.flag(6);
  sgemm(ta, tb, m, n, k, a.f32(0), ta ? m : k, a.f32(1), tb ? k : n, a.f32(7), n, false);
})
// (x, xShape, w, wShape, attrs, out, outShape, bias|null, slope, epilogue)
KERNEL(JsConv2D, 10, {
  Epilogue epi;
  epi.bias = a.opt_f32(7);
  epi.slope = static_cast<float>(a.f64(8));
  epi.on = a.flag(9);
  conv2d(a.f32(0), a.shape(1), a.f32(2), a.shape(3), a.conv(4), a.f32(5), a.shape(6), epi);
})
KERNEL(JsConv2DBackpropInput, 7, { conv2d_backprop_input(a.f32(0), a.shape(1), a.f32(2), a.shape(3), a.shape(4), a.conv(5), a.f32(6)); })
KERNEL(JsConv2DBackpropFilter, 7, { conv2d_backprop_filter(a.f32(0), a.shape(1), a.f32(2), a.shape(3), a.shape(4), a.conv(5), a.f32(6)); })
// (x, xShape, w, wShape, dy, dyShape, attrs, dx|null, dw|null)
KERNEL(JsConv2DBackprop, 9, { conv2d_backprop(a.f32(0), a.shape(1), a.f32(2), a.shape(3), a.f32(4), a.shape(5), a.conv(6), a.opt_f32(7), a.opt_f32(8)); })
KERNEL(JsMaxPool2D, 5, { max_pool2d(a.f32(0), a.shape(1), a.pooling(2), a.f32(3), a.shape(4)); })
KERNEL(JsMaxPool2DBackprop, 6, { max_pool2d_backprop(a.f32(0), a.shape(1), a.f32(2), a.shape(3), a.pooling(4), a.f32(5)); })
KERNEL(JsAvgPool2D, 5, { avg_pool2d(a.f32(0), a.shape(1), a.pooling(2), a.f32(3), a.shape(4)); })
KERNEL(JsAvgPool2DBackprop, 5, { avg_pool2d_backprop(a.f32(0), a.shape(1), a.shape(2), a.pooling(3), a.f32(4)); })
KERNEL(JsSetThreads, 1, { set_threads(static_cast<int>(a.i64(0))); })
KERNEL(JsSetConvMode, 1, { set_conv_mode(static_cast<int>(a.i64(0))); })

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

  const napi_property_descriptor props[] = {
      {"unary", nullptr, JsUnary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, JsBinary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasActivation", nullptr, JsBiasActivation, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasActivationGrad", nullptr, JsBiasActivationGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, JsBatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormGrad", nullptr, JsBatchNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxCrossEntropy", nullptr, JsSoftmaxCrossEntropy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxCrossEntropyGrad", nullptr, JsSoftmaxCrossEntropyGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdUpdate", nullptr, JsSgdUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamUpdate", nullptr, JsAdamUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bernoulliMask", nullptr, JsBernoulliMask, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, JsReduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"permute", nullptr, JsPermute, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"broadcastTo", nullptr, JsBroadcastTo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"slice", nullptr, JsSlice, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pad", nullptr, JsPad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, JsMatmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, JsConv2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, JsConv2DBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, JsConv2DBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackprop", nullptr, JsConv2DBackprop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2d", nullptr, JsMaxPool2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2dBackprop", nullptr, JsMaxPool2DBackprop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPool2d", nullptr, JsAvgPool2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPool2dBackprop", nullptr, JsAvgPool2DBackprop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, JsSetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setConvMode", nullptr, JsSetConvMode, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, JsGetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, JsIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
