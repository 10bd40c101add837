// Max and average pooling, NHWC, with the window clipped to the image (padded cells never count).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "binding.h"
#include "kernels.h"
#include "threadpool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CONVLAB_GATHER 1
#endif

namespace convlab {

namespace {
// Calls f(b, oy, ox, y0, y1, x0, x1) for every output pixel, parallel over (image, output row).
template <class F>
void windows(const Shape& xs, const Shape& ys, const Pool2DAttrs& a, F f) {
  const long n = xs[0], h = xs[1], w = xs[2], oh = ys[1], ow = ys[2];
  pool().parallel_for(n * oh, std::max<long>(1, 4096 / std::max<long>(1, ow * xs[3])), [&](long s, long e) {
    for (long t = s; t < e; t++) {
      const long b = t / oh, oy = t % oh;
      const long y0 = std::max(0L, oy * a.sh - a.pt), y1 = std::min(h, oy * a.sh - a.pt + a.ph);
      for (long ox = 0; ox < ow; ox++) {
        const long x0 = std::max(0L, ox * a.sw - a.pl), x1 = std::min(w, ox * a.sw - a.pl + a.pw);
        f(b, oy, ox, y0, y1, x0, x1);
      }
    }
  });
}
}  // namespace

void max_pool2d(const float* x, const Shape& xs, const Pool2DAttrs& a, float* y, const Shape& ys) {
  const long h = xs[1], w = xs[2], c = xs[3], oh = ys[1], ow = ys[2];
  windows(xs, ys, a, [&](long b, long oy, long ox, long y0, long y1, long x0, long x1) {
    float* o = y + ((b * oh + oy) * ow + ox) * c;
    std::fill(o, o + c, -INFINITY);
    for (long iy = y0; iy < y1; iy++)
      for (long ix = x0; ix < x1; ix++) {
        const float* in = x + ((b * h + iy) * w + ix) * c;
        for (long k = 0; k < c; k++) o[k] = in[k] > o[k] ? in[k] : o[k];
      }
  });
}

namespace {
// The gradient of one window: dy goes to the first cell (in scan order) holding the window's maximum, per
// channel. Written with 0/1 masks rather than selects or an argmax array, so every loop over channels vectorizes.
void max_window_grad(const float* __restrict xb, float* __restrict dxb, const float* __restrict g, long w, long c,
                     long y0, long y1, long x0, long x1, float* __restrict best, float* __restrict open) {
  for (long k = 0; k < c; k++) {
    best[k] = -INFINITY;
    open[k] = 1.f;
  }
  for (long iy = y0; iy < y1; iy++)
    for (long ix = x0; ix < x1; ix++) {
      const float* __restrict in = xb + (iy * w + ix) * c;
      for (long k = 0; k < c; k++) best[k] = std::max(best[k], in[k]);
    }
  for (long iy = y0; iy < y1; iy++)
    for (long ix = x0; ix < x1; ix++) {
      const float* __restrict in = xb + (iy * w + ix) * c;
      float* __restrict d = dxb + (iy * w + ix) * c;
      for (long k = 0; k < c; k++) {
        const float take = static_cast<float>(in[k] == best[k]) * open[k];
        d[k] += take * g[k];
        open[k] -= take;
      }
    }
}
}  // namespace

void max_pool2d_backprop(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Pool2DAttrs& a, float* dx) {
  const long n = xs[0], h = xs[1], w = xs[2], c = xs[3], oh = dys[1], ow = dys[2];
  // Windows that do not overlap vertically make output rows independent; otherwise whole images are the unit.
  const bool rows_apart = a.sh >= a.ph;
  const long units = rows_apart ? n * oh : n;
  pool().parallel_for(units, 1, [&](long u0, long u1) {
    std::vector<float> best(c), open(c);
    for (long u = u0; u < u1; u++) {
      const long b = rows_apart ? u / oh : u;
      const float* xb = x + b * h * w * c;
      float* dxb = dx + b * h * w * c;
      const long oy0 = rows_apart ? u % oh : 0, oy1 = rows_apart ? oy0 + 1 : oh;
      // Zero exactly the input rows this unit owns (all of them for the last row, or a whole image).
      const long r0 = rows_apart ? std::max(0L, oy0 * a.sh - a.pt) : 0;
      const long r1 = rows_apart ? (oy0 == oh - 1 ? h : std::min(h, (oy0 + 1) * a.sh - a.pt)) : h;
      if (rows_apart && oy0 == 0) std::memset(dxb, 0, sizeof(float) * r0 * w * c);
      if (r1 > r0) std::memset(dxb + r0 * w * c, 0, sizeof(float) * (r1 - r0) * w * c);
      for (long oy = oy0; oy < oy1; oy++) {
        const long y0 = std::max(0L, oy * a.sh - a.pt), y1 = std::min(h, oy * a.sh - a.pt + a.ph);
        for (long ox = 0; ox < ow; ox++) {
          const long x0 = std::max(0L, ox * a.sw - a.pl), x1 = std::min(w, ox * a.sw - a.pl + a.pw);
          max_window_grad(xb, dxb, dy + ((b * oh + oy) * ow + ox) * c, w, c, y0, y1, x0, x1, best.data(), open.data());
        }
      }
    }
  });
}

namespace {
// Windows that tile the image without padding or overlap (pool == stride, the usual 2×2 / 2): every window is
// whole, so the mean has one divisor, and each input cell belongs to at most one window. Rows left over at the
// bottom or right edge belong to none.
bool tiled(const Pool2DAttrs& a) {
  return a.ph == a.sh && a.pw == a.sw && a.pt == 0 && a.pb == 0 && a.pl == 0 && a.pr == 0;
}

// Channel counts that are not a multiple of 16 (LeNet-5's 6) leave short loops over channels in the window sums;
// with AVX-512, out[o] = scale·Σ_j src[idx[o] + j·step] (j < count) gathers 16 outputs at a time instead.
bool gather_available() {
#ifdef CONVLAB_GATHER
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return ok;
#else
  return false;
#endif
}

#ifdef CONVLAB_GATHER
__attribute__((target("avx512f"))) void gather_sum(const float* src, const int* idx, long len, long count, long step, float scale, float* out) {
  const __m512 s = _mm512_set1_ps(scale);
  for (long o = 0; o < len; o += 16) {
    const __mmask16 k = static_cast<__mmask16>(len - o >= 16 ? 0xFFFF : (1u << (len - o)) - 1u);
    const __m512i base = _mm512_maskz_loadu_epi32(k, idx + o);
    __m512 acc = _mm512_setzero_ps();
    for (long j = 0; j < count; j++)
      acc = _mm512_add_ps(acc, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, _mm512_add_epi32(base, _mm512_set1_epi32(static_cast<int>(j * step))), src, 4));
    _mm512_mask_storeu_ps(out + o, k, _mm512_mul_ps(acc, s));
  }
}
#else
void gather_sum(const float*, const int*, long, long, long, float, float*) {}
#endif
}  // namespace

void avg_pool2d(const float* x, const Shape& xs, const Pool2DAttrs& a, float* y, const Shape& ys) {
  const long n = xs[0], h = xs[1], w = xs[2], c = xs[3], oh = ys[1], ow = ys[2];
  if (tiled(a)) {
    // Sum the window's input rows over the whole row width (contiguous, vectorized), then sum the pw cells of each
    // window from that row.
    const float inv = 1.f / static_cast<float>(a.ph * a.pw);
    const long rw = w * c, pwc = a.pw * c;
    // For gathers: output o of a row reads the summed row at (o / c)·pw·c + o mod c, plus dx·c for the window's
    // other columns.
    const bool gather = c % 16 != 0 && gather_available();
    std::vector<int> idx(gather ? ow * c : 0);
    for (long o = 0; o < static_cast<long>(idx.size()); o++) idx[o] = static_cast<int>(o / c * pwc + o % c);
    pool().parallel_for(n * oh, std::max<long>(1, 4096 / std::max<long>(1, rw)), [&](long s, long e) {
      std::vector<float> acc(rw);
      for (long t = s; t < e; t++) {
        const long b = t / oh, oy = t % oh;
        const float* __restrict r = x + (b * h + oy * a.sh) * rw;
        float* __restrict sum = acc.data();
        for (long j = 0; j < rw; j++) sum[j] = r[j];
        for (long dy = 1; dy < a.ph; dy++) {
          const float* __restrict rr = r + dy * rw;
          for (long j = 0; j < rw; j++) sum[j] += rr[j];
        }
        float* __restrict o = y + t * ow * c;
        if (gather) {
          gather_sum(sum, idx.data(), ow * c, a.pw, c, inv, o);
          continue;
        }
        for (long ox = 0; ox < ow; ox++) {
          const float* __restrict src = sum + ox * pwc;
          float* __restrict oo = o + ox * c;
          for (long k = 0; k < c; k++) oo[k] = src[k];
          for (long dx = 1; dx < a.pw; dx++)
            for (long k = 0; k < c; k++) oo[k] += src[dx * c + k];
          for (long k = 0; k < c; k++) oo[k] *= inv;
        }
      }
    });
    return;
  }
  windows(xs, ys, a, [&](long b, long oy, long ox, long y0, long y1, long x0, long x1) {
    float* o = y + ((b * oh + oy) * ow + ox) * c;
    std::fill(o, o + c, 0.f);
    const float inv = 1.f / static_cast<float>((y1 - y0) * (x1 - x0));
    for (long iy = y0; iy < y1; iy++)
      for (long ix = x0; ix < x1; ix++) {
        const float* in = x + ((b * h + iy) * w + ix) * c;
        for (long k = 0; k < c; k++) o[k] += in[k] * inv;
      }
  });
}

void avg_pool2d_backprop(const float* dy, const Shape& dys, const Shape& xs, const Pool2DAttrs& a, float* dx) {
  const long n = xs[0], h = xs[1], w = xs[2], c = xs[3], oh = dys[1], ow = dys[2];
  if (tiled(a)) {
    // Each input row gets the scaled gradient of its window row, spread over the pw cells of each window; the rows
    // and columns no window covers get zero. Every cell of dx is written once, with no zeroing pass.
    const float inv = 1.f / static_cast<float>(a.ph * a.pw);
    const long rw = w * c, pwc = a.pw * c, covered = ow * pwc;
    // For gathers: dx column j of a covered row reads dy at (j / (pw·c))·c + j mod c.
    const bool gather = c % 16 != 0 && gather_available();
    std::vector<int> idx(gather ? covered : 0);
    for (long j = 0; j < static_cast<long>(idx.size()); j++) idx[j] = static_cast<int>(j / pwc * c + j % c);
    pool().parallel_for(n * h, std::max<long>(1, 4096 / std::max<long>(1, rw)), [&](long s, long e) {
      for (long t = s; t < e; t++) {
        const long b = t / h, iy = t % h, oy = iy / a.sh;
        float* __restrict d = dx + t * rw;
        if (oy >= oh) {
          std::memset(d, 0, sizeof(float) * rw);
          continue;
        }
        const float* __restrict g = dy + (b * oh + oy) * ow * c;
        if (gather) {
          // The window's first input row gathers; the others copy it.
          if (iy % a.sh == 0 || t == s) gather_sum(g, idx.data(), covered, 1, 0, inv, d);
          else std::memcpy(d, d - rw, sizeof(float) * covered);
          if (covered < rw) std::memset(d + covered, 0, sizeof(float) * (rw - covered));
          continue;
        }
        for (long ox = 0; ox < ow; ox++) {
          const float* __restrict gg = g + ox * c;
          float* __restrict dd = d + ox * pwc;
          for (long dx_ = 0; dx_ < a.pw; dx_++)
            for (long k = 0; k < c; k++) dd[dx_ * c + k] = gg[k] * inv;
        }
        if (covered < rw) std::memset(d + covered, 0, sizeof(float) * (rw - covered));
      }
    });
    return;
  }
  std::memset(dx, 0, sizeof(float) * n * h * w * c);
  pool().parallel_for(n, 1, [&](long b0, long b1) {
    for (long b = b0; b < b1; b++)
      for (long oy = 0; oy < oh; oy++) {
        const long y0 = std::max(0L, oy * a.sh - a.pt), y1 = std::min(h, oy * a.sh - a.pt + a.ph);
        for (long ox = 0; ox < ow; ox++) {
          const long x0 = std::max(0L, ox * a.sw - a.pl), x1 = std::min(w, ox * a.sw - a.pl + a.pw);
          const float inv = 1.f / static_cast<float>((y1 - y0) * (x1 - x0));
          const float* g = dy + ((b * oh + oy) * ow + ox) * c;
          for (long iy = y0; iy < y1; iy++)
            for (long ix = x0; ix < x1; ix++) {
              float* d = dx + ((b * h + iy) * w + ix) * c;
              for (long k = 0; k < c; k++) d[k] += g[k] * inv;
            }
        }
      }
  });
}

}  // namespace convlab

// Bindings (see binding.h): outputs first, then the contract's arguments.
using namespace convlab;

namespace {
// (out | x, xShape, attrs) for max and average pooling alike.
void pool_forward(Args& a, void (*kernel)(const float*, const Shape&, const Pool2DAttrs&, float*, const Shape&)) {
  const Shape xs = a.shape(2, "xShape", 4);
  const Pool2DAttrs p = a.pool_attrs(3);
  const Shape ys = pool_out(p, xs);
  kernel(a.f32(1, "x", size_of(xs), "xShape"), xs, p, a.f32(0, "out", size_of(ys), "the output shape"), ys);
}
}  // namespace

KERNEL(JsMaxPool2D, "maxPool2d", 4, { pool_forward(a, max_pool2d); })
// maxPool2dBackprop(dx | x, xShape, dy, dyShape, attrs)
KERNEL(JsMaxPool2DBackprop, "maxPool2dBackprop", 6, {
  const Shape xs = a.shape(2, "xShape", 4), dys = a.shape(4, "dyShape", 4);
  const Pool2DAttrs p = a.pool_attrs(5);
  same_shape(a, dys, pool_out(p, xs), "dyShape", "the pooling's output shape");
  max_pool2d_backprop(a.f32(1, "x", size_of(xs), "xShape"), xs, a.f32(3, "dy", size_of(dys), "dyShape"), dys, p,
                      a.f32(0, "dx", size_of(xs), "xShape"));
})
KERNEL(JsAvgPool2D, "avgPool2d", 4, { pool_forward(a, avg_pool2d); })
// avgPool2dBackprop(dx | dy, dyShape, xShape, attrs)
KERNEL(JsAvgPool2DBackprop, "avgPool2dBackprop", 5, {
  const Shape dys = a.shape(2, "dyShape", 4), xs = a.shape(3, "xShape", 4);
  const Pool2DAttrs p = a.pool_attrs(4);
  same_shape(a, dys, pool_out(p, xs), "dyShape", "the pooling's output shape");
  avg_pool2d_backprop(a.f32(1, "dy", size_of(dys), "dyShape"), dys, xs, p, a.f32(0, "dx", size_of(xs), "xShape"));
})
