// The N-API side of a kernel, kept beside the kernel it binds: each kernel file ends with its bindings, written with
// KERNEL(), which registers the binding under the name the contract in src/engine/backend.ts gives it. addon.cc
// exports whatever is registered, so adding a kernel touches no list here.
//
// A binding takes the kernel's output arrays first (allocated by the caller from its buffer pool), then the
// contract's arguments in the contract's order: Float32Arrays read in place, shapes as arrays of integers, op and
// activation names as strings, attributes as the contract's objects. Every array is checked against the shapes and
// sizes it comes with before the kernel runs: a wrong argument is a TypeError naming the kernel and the argument,
// never a read or write past an array's end.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace convlab {

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::string dims(const std::vector<long>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// The output length of a sliding window along one axis (the formula of src/engine/shape.ts's windowOutput).
inline long window_out(long in, long before, long after, long k, long dilation, long stride) {
  const long span = (k - 1) * dilation + 1;
  return in + before + after < span ? 0 : (in + before + after - span) / stride + 1;
}

struct Args {
  static constexpr size_t kMax = 12;
  napi_env env;
  const char* kernel;
  napi_value v[kMax];
  size_t n = kMax;
  Args(napi_env e, napi_callback_info info, size_t required, const char* k) : env(e), kernel(k) {
    // Arguments not passed read as undefined (N-API fills the rest of v), so optional trailing ones may be left out.
    if (napi_get_cb_info(env, info, &n, v, nullptr, nullptr) != napi_ok) fail("arguments", "unreadable");
    if (n < required) fail("arguments", "expected " + std::to_string(required) + ", got " + std::to_string(n));
  }
  [[noreturn]] void fail(const char* arg, const std::string& why) const {
    throw ArgError(std::string("convlab native ") + kernel + ": " + arg + ": " + why);
  }
  void check(napi_status s, const char* name) const {
    if (s != napi_ok) fail(name, "unreadable");
  }
  bool is_null(size_t i) const {
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    return t == napi_null || t == napi_undefined;
  }
  // The data of a typed array of the given type (`what` names it in the message), and its length.
  void* typed(size_t i, const char* name, napi_typedarray_type want, const char* what, size_t* len) const {
    napi_typedarray_type type;
    void* data;
    napi_value buf;
    size_t offset;
    bool is = false;
    napi_is_typedarray(env, v[i], &is);
    if (!is) fail(name, std::string("expected a ") + what);
    check(napi_get_typedarray_info(env, v[i], &type, len, &data, &buf, &offset), name);
    if (type != want) fail(name, std::string("expected a ") + what);
    return data;
  }
  float* f32_any(size_t i, const char* name, size_t* len) const {
    return static_cast<float*>(typed(i, name, napi_float32_array, "Float32Array", len));
  }
  // A Float32Array of exactly `expected` elements; `from` names what the expected size comes from.
  float* f32(size_t i, const char* name, long expected, const char* from = nullptr) const {
    size_t len;
    float* p = f32_any(i, name, &len);
    if (expected < 0 || static_cast<long>(len) != expected)
      fail(name, "has " + std::to_string(len) + " elements, expected " + std::to_string(expected) +
                     (from ? std::string(" (from ") + from + ")" : ""));
    return p;
  }
  // A Float32Array of `expected` elements, or nullptr for null or undefined.
  float* opt_f32(size_t i, const char* name, long expected, const char* from = nullptr) const {
    return is_null(i) ? nullptr : f32(i, name, expected, from);
  }
  long i64(size_t i, const char* name) const {
    int64_t x;
    if (napi_get_value_int64(env, v[i], &x) != napi_ok) fail(name, "expected an integer");
    return static_cast<long>(x);
  }
  long positive(size_t i, const char* name) const {
    const long x = i64(i, name);
    if (x < 1) fail(name, "expected a positive integer, got " + std::to_string(x));
    return x;
  }
  double f64(size_t i, const char* name) const {
    double x;
    if (napi_get_value_double(env, v[i], &x) != napi_ok) fail(name, "expected a number");
    return x;
  }
  bool flag(size_t i, const char* name) const {
    bool b;
    if (napi_get_value_bool(env, v[i], &b) != napi_ok) fail(name, "expected a boolean");
    return b;
  }
  std::string str(size_t i, const char* name) const {
    char buf[64];
    size_t len;
    if (napi_get_value_string_utf8(env, v[i], buf, sizeof buf, &len) != napi_ok) fail(name, "expected a string");
    return std::string(buf, len);
  }
  // One of `names`, as its index: the op's code (the contract names ops; the C++ enums follow these lists).
  template <size_t N>
  int pick(size_t i, const char* name, const char* const (&names)[N]) const {
    const std::string s = str(i, name);
    for (size_t k = 0; k < N; k++)
      if (s == names[k]) return static_cast<int>(k);
    std::string known;
    for (size_t k = 0; k < N; k++) known += (k ? ", " : "") + std::string(names[k]);
    fail(name, "unknown '" + s + "': expected one of " + known);
  }
  std::vector<long> ints_of(napi_value arr, const char* name) const {
    uint32_t len;
    bool is = false;
    napi_is_array(env, arr, &is);
    if (!is) fail(name, "expected an array of integers");
    check(napi_get_array_length(env, arr, &len), name);
    std::vector<long> s(len);
    for (uint32_t k = 0; k < len; k++) {
      napi_value e;
      int64_t x;
      check(napi_get_element(env, arr, k, &e), name);
      if (napi_get_value_int64(env, e, &x) != napi_ok) fail(name, "expected an array of integers");
      s[k] = static_cast<long>(x);
    }
    return s;
  }
  std::vector<long> ints(size_t i, const char* name) const { return ints_of(v[i], name); }
  // [[before, after], ...] flattened to before, after, before, after, ...
  std::vector<long> pairs(size_t i, const char* name) const {
    uint32_t len;
    bool is = false;
    napi_is_array(env, v[i], &is);
    if (!is) fail(name, "expected an array of [before, after] pairs");
    check(napi_get_array_length(env, v[i], &len), name);
    std::vector<long> out;
    for (uint32_t k = 0; k < len; k++) {
      napi_value e;
      check(napi_get_element(env, v[i], k, &e), name);
      const std::vector<long> p = ints_of(e, name);
      if (p.size() != 2) fail(name, "expected an array of [before, after] pairs");
      out.push_back(p[0]);
      out.push_back(p[1]);
    }
    return out;
  }
  // A shape: dimensions ≥ 0 (of `rank` dimensions when rank ≥ 0) whose product fits in memory.
  Shape shape(size_t i, const char* name, long rank = -1) const {
    Shape s = ints(i, name);
    if (rank >= 0 && static_cast<long>(s.size()) != rank)
      fail(name, "expected " + std::to_string(rank) + " dimensions, got " + dims(s));
    long total = 1;
    for (long d : s) {
      if (d < 0) fail(name, "negative dimension in " + dims(s));
      if (d > 0 && total > (1L << 40) / d) fail(name, "too large: " + dims(s));
      total *= d;
    }
    return s;
  }
  napi_value field(size_t i, const char* obj, const char* key) const {
    napi_valuetype t;
    napi_typeof(env, v[i], &t);
    if (t != napi_object) fail(obj, std::string("expected an object with '") + key + "'");
    napi_value out;
    check(napi_get_named_property(env, v[i], key, &out), obj);
    return out;
  }
  std::vector<long> field_ints(size_t i, const char* obj, const char* key, size_t count) const {
    const std::vector<long> s = ints_of(field(i, obj, key), obj);
    if (s.size() != count) fail(obj, std::string(key) + " needs " + std::to_string(count) + " integers");
    return s;
  }
  // A window's attributes {first: [a, b], second: [c, d], pads: [top, bottom, left, right]} as a, b, c, d (all
  // positive), then the four pads (≥ 0).
  std::vector<long> window_attrs(size_t i, const char* first, const char* second) const {
    std::vector<long> out = field_ints(i, "attrs", first, 2);
    for (long x : field_ints(i, "attrs", second, 2)) out.push_back(x);
    for (long x : out)
      if (x < 1) fail("attrs", std::string(first) + " and " + second + " must be positive");
    for (long x : field_ints(i, "attrs", "pads", 4)) {
      if (x < 0) fail("attrs", "pads must be ≥ 0");
      out.push_back(x);
    }
    return out;
  }
  // {strides: [sh, sw], dilations: [dh, dw], pads: [top, bottom, left, right]}
  Conv2DAttrs conv_attrs(size_t i) const {
    const std::vector<long> a = window_attrs(i, "strides", "dilations");
    return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]};
  }
  // {pool: [ph, pw], strides: [sh, sw], pads: [top, bottom, left, right]}
  Pool2DAttrs pool_attrs(size_t i) const {
    const std::vector<long> a = window_attrs(i, "pool", "strides");
    return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]};
  }
  // The slope below zero of a fused activation ('linear', 'relu', 'leaky_relu' with alpha): 1, 0 or alpha.
  float slope(size_t act, size_t alpha) const {
    static const char* const names[] = {"linear", "relu", "leaky_relu"};
    const int a = pick(act, "act", names);
    return a == 0 ? 1.f : a == 1 ? 0.f : static_cast<float>(f64(alpha, "alpha"));
  }
  // The last dimension of a shape (1 for a scalar), for kernels that work on rows of channels.
  long last(const Shape& s, const char* name) const {
    const long c = s.empty() ? 1 : s.back();
    if (c < 1) fail(name, "the last dimension must be positive, got " + dims(s));
    return c;
  }
  // `part` broadcasts to `full`: right-aligned, each dimension 1 or equal.
  void broadcastable(const Shape& part, const Shape& full, const char* name) const {
    if (part.size() > full.size()) fail(name, dims(part) + " has more dimensions than " + dims(full));
    const size_t off = full.size() - part.size();
    for (size_t d = 0; d < part.size(); d++)
      if (part[d] != 1 && part[d] != full[off + d]) fail(name, dims(part) + " does not broadcast to " + dims(full));
  }
};

// The output shape of a convolution of x [n,h,w,cin] with w [kh,kw,cin,cout], checking that the channels agree.
inline Shape conv_out(const Args& a, const Shape& xs, const Shape& ws, const Conv2DAttrs& c) {
  if (xs[3] != ws[2])
    a.fail("wShape", "the filters take " + std::to_string(ws[2]) + " input channels, the input has " + std::to_string(xs[3]));
  return {xs[0], window_out(xs[1], c.pt, c.pb, ws[0], c.dh, c.sh), window_out(xs[2], c.pl, c.pr, ws[1], c.dw, c.sw), ws[3]};
}

inline Shape pool_out(const Pool2DAttrs& p, const Shape& xs) {
  return {xs[0], window_out(xs[1], p.pt, p.pb, p.ph, 1, p.sh), window_out(xs[2], p.pl, p.pr, p.pw, 1, p.sw), xs[3]};
}

inline void same_shape(const Args& a, const Shape& got, const Shape& want, const char* name, const char* what) {
  if (got != want) a.fail(name, "is " + dims(got) + ", expected " + dims(want) + " (" + what + ")");
}

// Runs a binding: flush-to-zero for subnormals while it runs; C++ errors become JS errors.
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

struct Binding {
  const char* name;
  napi_callback fn;
};

// Every binding, in the order the kernel files registered them (filled before the addon's Init runs).
inline std::vector<Binding>& bindings() {
  static std::vector<Binding> all;
  return all;
}

struct Register {
  Register(const char* name, napi_callback fn) { bindings().push_back({name, fn}); }
};

}  // namespace convlab

// A binding named `js` (the contract's kernel name) that reads at least `required` arguments as `a`, runs the body
// and returns undefined; it registers itself with the addon.
#define KERNEL(ident, js, required, ...)                                      \
  namespace {                                                                 \
  napi_value ident(napi_env env, napi_callback_info info) {                   \
    return ::convlab::guard(env, [&]() -> napi_value {                        \
      ::convlab::Args a(env, info, required, js);                             \
      __VA_ARGS__;                                                            \
      napi_value undefined;                                                   \
      napi_get_undefined(env, &undefined);                                    \
      return undefined;                                                       \
    });                                                                       \
  }                                                                           \
  const ::convlab::Register ident##_registered(js, ident);                    \
  }
