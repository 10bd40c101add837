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
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

using namespace convlab;

namespace {

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A wrong argument (type, length, shape): thrown to JavaScript as a TypeError naming the kernel and the argument.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status s, const char* what) {
  if (s != napi_ok) throw ArgError(std::string("convlab native: bad argument: ") + what);
}

std::string dims(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Every array a kernel reads or writes is checked against the shapes and sizes it is given, before the kernel
// runs: a short array is a TypeError, never a read or write past its end.
struct Args {
  napi_env env;
  const char* kernel;
  napi_value v[12];
  size_t n = 12;
  Args(napi_env e, napi_callback_info info, size_t expected, const char* k) : env(e), kernel(k) {
    check(env, napi_get_cb_info(env, info, &n, v, nullptr, nullptr), "arguments");
    if (n < expected) fail("arguments", "expected " + std::to_string(expected) + ", got " + std::to_string(n));
  }
  [[noreturn]] void fail(const char* arg, const std::string& why) const {
    throw ArgError(std::string("convlab native ") + kernel + ": " + arg + ": " + why);
  }
  float* f32_any(size_t i, const char* name, size_t* len) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value buf;
    size_t offset;
    bool is;
    napi_is_typedarray(env, v[i], &is);
    if (!is) fail(name, "expected a Float32Array");
    check(env, napi_get_typedarray_info(env, v[i], &type, &length, &data, &buf, &offset), name);
    if (type != napi_float32_array) fail(name, "expected a Float32Array");
    *len = length;
    return static_cast<float*>(data);
  }
  // A Float32Array of exactly `expected` elements.
  // `from` names what the expected size comes from, when it is another array's length.
  float* f32(size_t i, const char* name, long expected, const char* from = nullptr) {
    size_t len;
    float* p = f32_any(i, name, &len);
    if (expected < 0 || static_cast<long>(len) != expected)
      fail(name, "has " + std::to_string(len) + " elements, expected " + std::to_string(expected) + (from ? std::string(" (from the length of ") + from + ")" : ""));
    return p;
  }
  bool is_null(size_t i) {
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  // A Float32Array of `expected` elements, or nullptr for null/undefined.
  float* opt_f32(size_t i, const char* name, long expected, const char* from = nullptr) { return is_null(i) ? nullptr : f32(i, name, expected, from); }
  long i64(size_t i, const char* name) {
    int64_t x;
    if (napi_get_value_int64(env, v[i], &x) != napi_ok) fail(name, "expected an integer");
    return static_cast<long>(x);
  }
  long positive(size_t i, const char* name) {
    long x = i64(i, name);
    if (x < 1) fail(name, "expected a positive integer, got " + std::to_string(x));
    return x;
  }
  double f64(size_t i, const char* name) {
    double x;
    if (napi_get_value_double(env, v[i], &x) != napi_ok) fail(name, "expected a number");
    return x;
  }
  bool flag(size_t i, const char* name) {
    bool b;
    if (napi_get_value_bool(env, v[i], &b) != napi_ok) fail(name, "expected a boolean");
    return b;
  }
  std::vector<long> ints(size_t i, const char* name) {
    uint32_t len;
    bool is;
    napi_is_array(env, v[i], &is);
    if (!is) fail(name, "expected an array of integers");
    check(env, napi_get_array_length(env, v[i], &len), name);
    std::vector<long> s(len);
    for (uint32_t k = 0; k < len; k++) {
      napi_value e;
      int64_t x;
      check(env, napi_get_element(env, v[i], k, &e), name);
      if (napi_get_value_int64(env, e, &x) != napi_ok) fail(name, "expected an array of integers");
      s[k] = static_cast<long>(x);
    }
    return s;
  }
  // A shape: dimensions ≥ 0 (of `rank` dimensions when rank ≥ 0) whose product fits in memory.
  Shape shape(size_t i, const char* name, long rank = -1) {
    Shape s = ints(i, name);
    if (rank >= 0 && static_cast<long>(s.size()) != rank) fail(name, "expected " + std::to_string(rank) + " dimensions, got " + dims(s));
    long total = 1;
    for (long d : s) {
      if (d < 0) fail(name, "negative dimension in " + dims(s));
      if (d > 0 && total > (1L << 40) / d) fail(name, "too large: " + dims(s));
      total *= d;
    }
    return s;
  }
  Conv2DAttrs conv(size_t i) {
    std::vector<long> s = ints(i, "attrs");
    if (s.size() != 8) fail("attrs", "conv attributes need 8 integers (strides, dilations, pads)");
    for (int k = 0; k < 4; k++) if (s[k] < 1) fail("attrs", "strides and dilations must be positive");
    for (int k = 4; k < 8; k++) if (s[k] < 0) fail("attrs", "pads must be ≥ 0");
    return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
  }
  Pool2DAttrs pooling(size_t i) {
    std::vector<long> s = ints(i, "attrs");
    if (s.size() != 8) fail("attrs", "pool attributes need 8 integers (pool, strides, pads)");
    for (int k = 0; k < 4; k++) if (s[k] < 1) fail("attrs", "pool sizes and strides must be positive");
    for (int k = 4; k < 8; k++) if (s[k] < 0) fail("attrs", "pads must be ≥ 0");
    return {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
  }
  // `part` (of dimensions) broadcasts to `full`: right-aligned, each dimension 1 or equal.
  void broadcastable(const Shape& part, const Shape& full, const char* name) {
    if (part.size() > full.size()) fail(name, dims(part) + " has more dimensions than " + dims(full));
    const size_t off = full.size() - part.size();
    for (size_t d = 0; d < part.size(); d++)
      if (part[d] != 1 && part[d] != full[off + d]) fail(name, dims(part) + " does not broadcast to " + dims(full));
  }
  void equal(long got, long expected, const char* name, const char* what) {
    if (got != expected) fail(name, std::string(what) + " is " + std::to_string(got) + ", expected " + std::to_string(expected));
  }
};

template <class F>
napi_value guard(napi_env env, F f) {
  ScopedFlushDenormals ftz;
  try {
    return f();
  } catch (const std::bad_alloc&) {
    napi_throw_error(env, "ERR_CONVLAB_OOM", "convlab native: out of memory");
  } catch (const ArgError& e) {
    napi_throw_type_error(env, "ERR_CONVLAB_ARGUMENT", e.what());
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
#define KERNEL(name, js, nargs, ...)                       \
  napi_value name(napi_env env, napi_callback_info info) { \
    return guard(env, [&]() -> napi_value {               \
      Args a(env, info, nargs, js);                       \
      __VA_ARGS__;                                        \
      return undefined(env);                              \
    });                                                   \
  }

// The output size of a convolution or pooling window along one axis.
long window_out(long in, long before, long after, long k, long dilation, long stride) {
  const long span = (k - 1) * dilation + 1;
  return in + before + after < span ? 0 : (in + before + after - span) / stride + 1;
}

// Checks x [n,h,w,cin], w [kh,kw,cin,cout] and y [n,oh,ow,cout] against each other and the attributes.
void conv_shapes(Args& a, const Shape& xs, const Shape& ws, const Shape& ys, const Conv2DAttrs& c, const char* yname) {
  if (xs[3] != ws[2]) a.fail("wShape", "the filters take " + std::to_string(ws[2]) + " input channels, the input has " + std::to_string(xs[3]));
  const Shape want = {xs[0], window_out(xs[1], c.pt, c.pb, ws[0], c.dh, c.sh), window_out(xs[2], c.pl, c.pr, ws[1], c.dw, c.sw), ws[3]};
  if (ys != want) a.fail(yname, "is " + dims(ys) + ", expected " + dims(want) + " for input " + dims(xs) + " and filters " + dims(ws));
}

void pool_shapes(Args& a, const Shape& xs, const Shape& ys, const Pool2DAttrs& p, const char* yname) {
  const Shape want = {xs[0], window_out(xs[1], p.pt, p.pb, p.ph, 1, p.sh), window_out(xs[2], p.pl, p.pr, p.pw, 1, p.sw), xs[3]};
  if (ys != want) a.fail(yname, "is " + dims(ys) + ", expected " + dims(want) + " for input " + dims(xs));
}

// Rows of a [rows, c] array given as n elements: n must be a whole number of rows.
long rows_of(Args& a, long n, long c, const char* name) {
  if (n % c != 0) a.fail(name, "has " + std::to_string(n) + " elements, not a whole number of rows of " + std::to_string(c));
  return n / c;
}

KERNEL(JsUnary, "unary", 3, {
  const long op = a.i64(0, "op");
  if (op < 0 || op > static_cast<long>(Unary::Erf)) a.fail("op", "unknown unary op " + std::to_string(op));
  size_t n;
  const float* x = a.f32_any(1, "x", &n);
  unary(static_cast<Unary>(op), x, a.f32(2, "out", static_cast<long>(n), "x"), static_cast<long>(n));
})
KERNEL(JsBinary, "binary", 7, {
  const long op = a.i64(0, "op");
  if (op < 0 || op > static_cast<long>(Binary::Equal)) a.fail("op", "unknown binary op " + std::to_string(op));
  const Shape as = a.shape(2, "aShape"), bs = a.shape(4, "bShape"), os = a.shape(6, "outShape");
  a.broadcastable(as, os, "aShape");
  a.broadcastable(bs, os, "bShape");
  binary(static_cast<Binary>(op), a.f32(1, "a", size_of(as)), as, a.f32(3, "b", size_of(bs)), bs, a.f32(5, "out", size_of(os)), os);
})
KERNEL(JsBiasActivation, "biasActivation", 5, {
  size_t n;
  const float* x = a.f32_any(0, "x", &n);
  const long c = a.positive(1, "c");
  const long rows = rows_of(a, static_cast<long>(n), c, "x");
  bias_activation(x, rows, c, a.opt_f32(2, "bias", c), static_cast<float>(a.f64(3, "slope")), a.f32(4, "out", static_cast<long>(n), "x"));
})
KERNEL(JsBiasActivationGrad, "biasActivationGrad", 6, {
  size_t n;
  const float* dy = a.f32_any(0, "dy", &n);
  const long c = a.positive(2, "c");
  const long rows = rows_of(a, static_cast<long>(n), c, "dy");
  bias_activation_grad(dy, a.f32(1, "y", static_cast<long>(n), "dy"), rows, c, static_cast<float>(a.f64(3, "slope")), a.f32(4, "dx", static_cast<long>(n), "dy"), a.opt_f32(5, "db", c));
})
// (x, c, gamma|null, beta|null, eps, y, mean, variance)
KERNEL(JsBatchNorm, "batchNorm", 8, {
  size_t n;
  const float* x = a.f32_any(0, "x", &n);
  const long c = a.positive(1, "c");
  const long rows = rows_of(a, static_cast<long>(n), c, "x");
  batch_norm(x, rows, c, a.opt_f32(2, "gamma", c), a.opt_f32(3, "beta", c), static_cast<float>(a.f64(4, "eps")), a.f32(5, "y", static_cast<long>(n), "x"),
             a.f32(6, "mean", c), a.f32(7, "variance", c));
})
// (dy, x, c, mean, variance, gamma|null, eps, dx, dgamma, dbeta)
KERNEL(JsBatchNormGrad, "batchNormGrad", 10, {
  size_t n;
  const float* dy = a.f32_any(0, "dy", &n);
  const long c = a.positive(2, "c");
  const long rows = rows_of(a, static_cast<long>(n), c, "dy");
  const long len = static_cast<long>(n);
  batch_norm_grad(dy, a.f32(1, "x", len, "dy"), rows, c, a.f32(3, "mean", c), a.f32(4, "variance", c), a.opt_f32(5, "gamma", c), static_cast<float>(a.f64(6, "eps")),
                  a.f32(7, "dx", len, "dy"), a.f32(8, "dgamma", c), a.f32(9, "dbeta", c));
})
// (z, t, c, loss, logp)
KERNEL(JsSoftmaxCrossEntropy, "softmaxCrossEntropy", 5, {
  size_t n;
  const float* z = a.f32_any(0, "z", &n);
  const long c = a.positive(2, "c");
  const long rows = rows_of(a, static_cast<long>(n), c, "z");
  softmax_cross_entropy(z, a.f32(1, "t", static_cast<long>(n), "z"), rows, c, a.f32(3, "loss", rows, "z (rows)"), a.f32(4, "logp", static_cast<long>(n), "z"));
})
// (dl, logp, t, c, dz)
KERNEL(JsSoftmaxCrossEntropyGrad, "softmaxCrossEntropyGrad", 5, {
  size_t rows;
  const float* dl = a.f32_any(0, "dl", &rows);
  const long c = a.positive(3, "c");
  const long n = static_cast<long>(rows) * c;
  softmax_cross_entropy_grad(dl, a.f32(1, "logp", n, "dl"), a.f32(2, "t", n, "dl"), static_cast<long>(rows), c, a.f32(4, "dz", n, "dl"));
})
// (p, g, v|null, lr, momentum, nesterov)
KERNEL(JsSgdUpdate, "sgdUpdate", 6, {
  size_t n;
  float* p = a.f32_any(0, "p", &n);
  const long len = static_cast<long>(n);
  sgd_update(p, a.f32(1, "g", len, "p"), a.opt_f32(2, "v", len, "p"), len, a.f64(3, "lr"), a.f64(4, "momentum"), a.flag(5, "nesterov"));
})
// (p, g, m, v, vhat|null, alpha, beta1, beta2, eps)
KERNEL(JsAdamUpdate, "adamUpdate", 9, {
  size_t n;
  float* p = a.f32_any(0, "p", &n);
  const long len = static_cast<long>(n);
  adam_update(p, a.f32(1, "g", len, "p"), a.f32(2, "m", len, "p"), a.f32(3, "v", len, "p"), a.opt_f32(4, "vhat", len, "p"), len, a.f64(5, "alpha"), a.f64(6, "beta1"),
              a.f64(7, "beta2"), a.f64(8, "eps"));
})
// (state Uint32Array(4), rate, keep, out)
KERNEL(JsBernoulliMask, "bernoulliMask", 4, {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buf;
  size_t offset;
  bool is;
  napi_is_typedarray(a.env, a.v[0], &is);
  if (!is) a.fail("state", "expected a Uint32Array of 4 state words");
  check(a.env, napi_get_typedarray_info(a.env, a.v[0], &type, &length, &data, &buf, &offset), "state");
  if (type != napi_uint32_array || length != 4) a.fail("state", "expected a Uint32Array of 4 state words");
  size_t n;
  float* out = a.f32_any(3, "out", &n);
  bernoulli_mask(static_cast<uint32_t*>(data), static_cast<long>(n), a.f64(1, "rate"), static_cast<float>(a.f64(2, "keep")), out);
})
KERNEL(JsReduce, "reduce", 5, {
  const Shape s = a.shape(2, "shape");
  const std::vector<long> axes = a.ints(3, "axes");
  std::vector<bool> seen(s.size(), false);
  long kept = 1;
  for (long ax : axes) {
    if (ax < 0 || ax >= static_cast<long>(s.size()) || seen[ax]) a.fail("axes", "expected distinct axes in 0.." + std::to_string(static_cast<long>(s.size()) - 1));
    seen[ax] = true;
  }
  for (size_t d = 0; d < s.size(); d++) if (!seen[d]) kept *= s[d];
  reduce(a.flag(0, "max"), a.f32(1, "x", size_of(s)), s, axes, a.f32(4, "out", kept));
})
KERNEL(JsPermute, "permute", 4, {
  const Shape s = a.shape(1, "shape");
  const std::vector<long> perm = a.ints(2, "perm");
  std::vector<bool> seen(s.size(), false);
  if (perm.size() != s.size()) a.fail("perm", "expected " + std::to_string(s.size()) + " axes");
  for (long p : perm) {
    if (p < 0 || p >= static_cast<long>(s.size()) || seen[p]) a.fail("perm", "not a permutation of 0.." + std::to_string(static_cast<long>(s.size()) - 1));
    seen[p] = true;
  }
  permute(a.f32(0, "x", size_of(s)), s, perm, a.f32(3, "out", size_of(s)));
})
KERNEL(JsBroadcastTo, "broadcastTo", 4, {
  const Shape s = a.shape(1, "shape"), os = a.shape(2, "outShape");
  a.broadcastable(s, os, "shape");
  broadcast_to(a.f32(0, "x", size_of(s)), s, os, a.f32(3, "out", size_of(os)));
})
KERNEL(JsSlice, "slice", 5, {
  const Shape s = a.shape(1, "shape");
  const std::vector<long> begin = a.ints(2, "begin");
  const Shape size = a.shape(3, "size", static_cast<long>(s.size()));
  if (begin.size() != s.size()) a.fail("begin", "expected " + std::to_string(s.size()) + " values");
  for (size_t d = 0; d < s.size(); d++)
    if (begin[d] < 0 || begin[d] + size[d] > s[d]) a.fail("begin", "the slice " + dims(begin) + " + " + dims(size) + " leaves " + dims(s));
  slice(a.f32(0, "x", size_of(s)), s, begin, size, a.f32(4, "out", size_of(size)));
})
KERNEL(JsPad, "pad", 4, {
  const Shape s = a.shape(1, "shape");
  const std::vector<long> pads = a.ints(2, "pads");
  if (pads.size() != 2 * s.size()) a.fail("pads", "expected 2 values per dimension");
  Shape os(s.size());
  for (size_t d = 0; d < s.size(); d++) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0) a.fail("pads", "must be ≥ 0");
    os[d] = s[d] + pads[2 * d] + pads[2 * d + 1];
  }
  pad(a.f32(0, "x", size_of(s)), s, pads, a.f32(3, "out", size_of(os)));
})
KERNEL(JsMatmul, "matmul", 8, {
  const long m = a.i64(2, "m"), k = a.i64(3, "k"), n = a.i64(4, "n");
  if (m < 0 || k < 0 || n < 0) a.fail("m, k, n", "must be ≥ 0");
  const bool ta = a.flag(5, "transA"), tb = a.flag(6, "transB");
  sgemm(ta, tb, m, n, k, a.f32(0, "a", m * k), ta ? m : k, a.f32(1, "b", k * n), tb ? k : n, a.f32(7, "out", m * n), n, false);
})
// (x, xShape, w, wShape, attrs, out, outShape, bias|null, slope, epilogue)
KERNEL(JsConv2D, "conv2d", 10, {
  const Shape xs = a.shape(1, "xShape", 4), ws = a.shape(3, "wShape", 4), ys = a.shape(6, "outShape", 4);
  const Conv2DAttrs c = a.conv(4);
  conv_shapes(a, xs, ws, ys, c, "outShape");
  Epilogue epi;
  epi.bias = a.opt_f32(7, "bias", ws[3]);
  epi.slope = static_cast<float>(a.f64(8, "slope"));
  epi.on = a.flag(9, "epilogue");
  conv2d(a.f32(0, "x", size_of(xs)), xs, a.f32(2, "w", size_of(ws)), ws, c, a.f32(5, "out", size_of(ys)), ys, epi);
})
KERNEL(JsConv2DBackpropInput, "conv2dBackpropInput", 7, {
  const Shape dys = a.shape(1, "dyShape", 4), ws = a.shape(3, "wShape", 4), xs = a.shape(4, "xShape", 4);
  const Conv2DAttrs c = a.conv(5);
  conv_shapes(a, xs, ws, dys, c, "dyShape");
  conv2d_backprop_input(a.f32(0, "dy", size_of(dys)), dys, a.f32(2, "w", size_of(ws)), ws, xs, c, a.f32(6, "out", size_of(xs)));
})
KERNEL(JsConv2DBackpropFilter, "conv2dBackpropFilter", 7, {
  const Shape xs = a.shape(1, "xShape", 4), dys = a.shape(3, "dyShape", 4), ws = a.shape(4, "wShape", 4);
  const Conv2DAttrs c = a.conv(5);
  conv_shapes(a, xs, ws, dys, c, "dyShape");
  conv2d_backprop_filter(a.f32(0, "x", size_of(xs)), xs, a.f32(2, "dy", size_of(dys)), dys, ws, c, a.f32(6, "out", size_of(ws)));
})
// (x, xShape, w, wShape, dy, dyShape, attrs, dx|null, dw|null)
KERNEL(JsConv2DBackprop, "conv2dBackprop", 9, {
  const Shape xs = a.shape(1, "xShape", 4), ws = a.shape(3, "wShape", 4), dys = a.shape(5, "dyShape", 4);
  const Conv2DAttrs c = a.conv(6);
  conv_shapes(a, xs, ws, dys, c, "dyShape");
  conv2d_backprop(a.f32(0, "x", size_of(xs)), xs, a.f32(2, "w", size_of(ws)), ws, a.f32(4, "dy", size_of(dys)), dys, c, a.opt_f32(7, "dx", size_of(xs)),
                  a.opt_f32(8, "dw", size_of(ws)));
})
// (x, xShape, attrs, out, outShape) for max and average pooling alike.
void pool_forward(Args& a, void (*kernel)(const float*, const Shape&, const Pool2DAttrs&, float*, const Shape&)) {
  const Shape xs = a.shape(1, "xShape", 4), ys = a.shape(4, "outShape", 4);
  const Pool2DAttrs p = a.pooling(2);
  pool_shapes(a, xs, ys, p, "outShape");
  kernel(a.f32(0, "x", size_of(xs)), xs, p, a.f32(3, "out", size_of(ys)), ys);
}

KERNEL(JsMaxPool2D, "maxPool2d", 5, { pool_forward(a, max_pool2d); })
KERNEL(JsMaxPool2DBackprop, "maxPool2dBackprop", 6, {
  const Shape xs = a.shape(1, "xShape", 4), dys = a.shape(3, "dyShape", 4);
  const Pool2DAttrs p = a.pooling(4);
  pool_shapes(a, xs, dys, p, "dyShape");
  max_pool2d_backprop(a.f32(0, "x", size_of(xs)), xs, a.f32(2, "dy", size_of(dys)), dys, p, a.f32(5, "out", size_of(xs)));
})
KERNEL(JsAvgPool2D, "avgPool2d", 5, { pool_forward(a, avg_pool2d); })
KERNEL(JsAvgPool2DBackprop, "avgPool2dBackprop", 5, {
  const Shape dys = a.shape(1, "dyShape", 4), xs = a.shape(2, "xShape", 4);
  const Pool2DAttrs p = a.pooling(3);
  pool_shapes(a, xs, dys, p, "dyShape");
  avg_pool2d_backprop(a.f32(0, "dy", size_of(dys)), dys, xs, p, a.f32(4, "out", size_of(xs)));
})
KERNEL(JsSetThreads, "setThreads", 1, { set_threads(static_cast<int>(a.positive(0, "n"))); })
KERNEL(JsSetConvMode, "setConvMode", 1, { set_conv_mode(static_cast<int>(a.i64(0, "mode"))); })

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
