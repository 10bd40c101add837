// The fused end of a training step: softmax cross-entropy (forward and backward in one pass each) and the
// optimizer updates, in place over a whole parameter array. The updates compute in double with the same
// expression order as the TypeScript backend, so both backends take the same steps.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels.h"
#include "threadpool.h"

namespace convlab {

namespace {
constexpr long GRAIN = 1 << 14;

template <class F>
void par(long n, F f) {
  if (n < 2 * GRAIN) f(0, n);
  else pool().parallel_for(n, GRAIN, f);
}
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
  par(n, [&](long s, long e) {
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
  par(n, [&](long s, long e) {
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

void bernoulli_mask(uint32_t* state, long n, double rate, float keep, float* out) {
  uint32_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  const double threshold = rate * 4294967296.0;
  auto rotl = [](uint32_t x, int k) { return (x << k) | (x >> (32 - k)); };
  for (long i = 0; i < n; i++) {
    const uint32_t u = rotl(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    out[i] = keep * static_cast<float>(static_cast<double>(u) >= threshold);
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}

}  // namespace convlab
