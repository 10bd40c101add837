// The fused end of a training step: softmax cross-entropy (forward and backward in one pass each) and the
// optimizer updates, in place over a whole parameter array. The updates compute in double with the same
// expression order as the TypeScript backend, so both backends take the same steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "binding.h"
#include "kernels.h"
#include "threadpool.h"

namespace convlab {

namespace {
constexpr long GRAIN = 1 << 14;

}  // namespace

void softmax_cross_entropy(const float* z, const float* t, long rows, long c, float* loss, float* logp) {
  pool().parallel_for(rows, std::max(1L, GRAIN / std::max(1L, c)), [&](long s, long e) {
    for (long r = s; r < e; r++) {
      const float* zr = z + r * c;
      double mx = -INFINITY;
      for (long j = 0; j < c; j++) mx = std::max(mx, static_cast<double>(zr[j]));
      double sum = 0;
      for (long j = 0; j < c; j++) sum += std::exp(zr[j] - mx);
      const double lse = mx + std::log(sum);
      double l = 0;
      for (long j = 0; j < c; j++) {
        const double lp = zr[j] - lse;
        logp[r * c + j] = static_cast<float>(lp);
        if (t[r * c + j] != 0.f) l -= t[r * c + j] * lp;
      }
      loss[r] = static_cast<float>(l);
    }
  });
}

void softmax_cross_entropy_grad(const float* dl, const float* logp, const float* t, long rows, long c, float* dz) {
  pool().parallel_for(rows, std::max(1L, GRAIN / std::max(1L, c)), [&](long s, long e) {
    for (long r = s; r < e; r++) {
      double tsum = 0;
      for (long j = 0; j < c; j++) tsum += t[r * c + j];
      for (long j = 0; j < c; j++) dz[r * c + j] = static_cast<float>(dl[r] * (std::exp(static_cast<double>(logp[r * c + j])) * tsum - t[r * c + j]));
    }
  });
}

void sgd_update(float* p, const float* g, float* v, long n, double lr, double mu, bool nesterov) {
  parallel_chunks(n, GRAIN, [&](long s, long e) {
    if (!v || mu == 0) {
      for (long i = s; i < e; i++) p[i] = static_cast<float>(p[i] - lr * g[i]);
      return;
    }
    for (long i = s; i < e; i++) {
      v[i] = static_cast<float>(mu * v[i] - lr * g[i]);
      p[i] = static_cast<float>(p[i] + (nesterov ? mu * v[i] - lr * g[i] : static_cast<double>(v[i])));
    }
  });
}

void adam_update(float* p, const float* g, float* m, float* v, float* vhat, long n, double alpha, double b1, double b2,
                 double eps) {
  parallel_chunks(n, GRAIN, [&](long s, long e) {
    for (long i = s; i < e; i++) {
      const double gi = g[i];
      m[i] = static_cast<float>(m[i] + (gi - m[i]) * (1 - b1));
      v[i] = static_cast<float>(v[i] + (gi * gi - v[i]) * (1 - b2));
      double denom = v[i];
      if (vhat) {
        vhat[i] = std::max(vhat[i], v[i]);
        denom = vhat[i];
      }
      p[i] = static_cast<float>(p[i] - (alpha * m[i]) / (std::sqrt(denom) + eps));
    }
  });
}

namespace {
// Eight uint32 lanes with GCC's vector extensions (two SSE registers on the x86-64 baseline, one elsewhere with
// wider vectors); multiplications by 5 and 9 are written as shifts and adds, which every ISA has.
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));

uint32_t xoshiro_next(uint32_t* s) {
  const uint32_t m = s[1] * 5u;
  const uint32_t u = ((m << 7) | (m >> 25)) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 11) | (s[3] >> 21);
  return u;
}
}  // namespace

namespace {
// The draws of eight streams, in place: the loop is the same source for every instruction set (GCC vector
// extensions); the AVX2 copy runs each step as one 256-bit operation instead of two 128-bit ones. Only scalars and
// references cross between the two: a 256-bit vector passed by value travels differently with and without AVX.
template <int Isa>
inline __attribute__((always_inline)) void mask_loop(u32x8& s0, u32x8& s1, u32x8& s2, u32x8& s3, uint32_t T, uint32_t keep_bits, long n, float* out) {
  const i32x8 Tf = (i32x8)((u32x8){} + (T ^ 0x80000000u));
  for (long i0 = 0; i0 < n; i0 += 8) {
    const u32x8 m = (s1 << 2) + s1;
    const u32x8 r = (m << 7) | (m >> 25);
    const u32x8 u = (r << 3) + r;
    const u32x8 t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
    const i32x8 ge = (i32x8)(u ^ 0x80000000u) >= Tf;  // -1 where kept
    const u32x8 bits = (u32x8)ge & keep_bits;
    if (n - i0 >= 8) {
      std::memcpy(out + i0, &bits, 32);
    } else {
      float v[8];
      std::memcpy(v, &bits, 32);
      std::memcpy(out + i0, v, sizeof(float) * (n - i0));
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void mask_loop_avx2(u32x8& s0, u32x8& s1, u32x8& s2, u32x8& s3, uint32_t T, uint32_t keep_bits, long n, float* out) {
  mask_loop<1>(s0, s1, s2, s3, T, keep_bits, n, out);
}
bool has_avx2() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return ok;
}
#endif
}  // namespace

void bernoulli_mask(uint32_t* state, long n, double rate, float keep, float* out) {
  // Eight interleaved xoshiro128** streams (element i from stream i mod 8), seeded by 32 draws of the caller's
  // stream: one stream's dependency chain caps it near 6 ns a draw, eight independent ones run as vectors.
  uint32_t seed[4][8];
  for (int k = 0; k < 8; k++) {
    for (int j = 0; j < 4; j++) seed[j][k] = xoshiro_next(state);
    if ((seed[0][k] | seed[1][k] | seed[2][k] | seed[3][k]) == 0) seed[0][k] = 1;
  }
  u32x8 s0, s1, s2, s3;
  std::memcpy(&s0, seed[0], 32);
  std::memcpy(&s1, seed[1], 32);
  std::memcpy(&s2, seed[2], 32);
  std::memcpy(&s3, seed[3], 32);
  // u ≥ rate·2³² ⇔ u ≥ ceil(rate·2³²) for integer u; compared as signed after flipping the sign bits.
  const double th = std::ceil(rate * 4294967296.0);
  const bool none = th > 4294967295.0;
  const uint32_t T = none ? 0u : static_cast<uint32_t>(std::max(th, 0.0));
  uint32_t keep_bits;
  const float kv = none ? 0.f : keep;
  std::memcpy(&keep_bits, &kv, 4);
#if defined(__x86_64__)
  if (has_avx2()) return mask_loop_avx2(s0, s1, s2, s3, T, keep_bits, n, out);
#endif
  mask_loop<0>(s0, s1, s2, s3, T, keep_bits, n, out);
}

}  // namespace convlab

// Bindings (see binding.h): outputs first, then the contract's arguments.
using namespace convlab;

// softmaxCrossEntropy(loss, logp | z, t, shape)
KERNEL(JsSoftmaxCrossEntropy, "softmaxCrossEntropy", 5, {
  const Shape s = a.shape(4, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  softmax_cross_entropy(a.f32(2, "z", n, "shape"), a.f32(3, "t", n, "shape"), n / c, c, a.f32(0, "loss", n / c, "the rows of shape"),
                        a.f32(1, "logp", n, "shape"));
})
// softmaxCrossEntropyGrad(dz | dl, logp, t, shape)
KERNEL(JsSoftmaxCrossEntropyGrad, "softmaxCrossEntropyGrad", 5, {
  const Shape s = a.shape(4, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  softmax_cross_entropy_grad(a.f32(1, "dl", n / c, "the rows of shape"), a.f32(2, "logp", n, "shape"), a.f32(3, "t", n, "shape"), n / c, c,
                             a.f32(0, "dz", n, "shape"));
})
// sgdUpdate(p, g, v, lr, momentum, nesterov): in place, no outputs.
KERNEL(JsSgdUpdate, "sgdUpdate", 6, {
  size_t n;
  float* p = a.f32_any(0, "p", &n);
  const long len = static_cast<long>(n);
  sgd_update(p, a.f32(1, "g", len, "p"), a.opt_f32(2, "v", len, "p"), len, a.f64(3, "lr"), a.f64(4, "momentum"), a.flag(5, "nesterov"));
})
// adamUpdate(p, g, m, v, vhat, alpha, beta1, beta2, eps): in place, no outputs.
KERNEL(JsAdamUpdate, "adamUpdate", 9, {
  size_t n;
  float* p = a.f32_any(0, "p", &n);
  const long len = static_cast<long>(n);
  adam_update(p, a.f32(1, "g", len, "p"), a.f32(2, "m", len, "p"), a.f32(3, "v", len, "p"), a.opt_f32(4, "vhat", len, "p"), len,
              a.f64(5, "alpha"), a.f64(6, "beta1"), a.f64(7, "beta2"), a.f64(8, "eps"));
})
// bernoulliMask(out | state, n, rate, keep)
KERNEL(JsBernoulliMask, "bernoulliMask", 5, {
  size_t length;
  void* data = a.typed(1, "state", napi_uint32_array, "Uint32Array of 4 state words", &length);
  if (length != 4) a.fail("state", "expected a Uint32Array of 4 state words");
  const long n = a.i64(2, "n");
  bernoulli_mask(static_cast<uint32_t*>(data), n, a.f64(3, "rate"), static_cast<float>(a.f64(4, "keep")), a.f32(0, "out", n, "n"));
})
