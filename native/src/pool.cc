// Max and average pooling, NHWC, with the window clipped to the image (padded cells never count).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

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

void max_pool2d_backprop(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Pool2DAttrs& a, float* dx) {
  const long n = xs[0], h = xs[1], w = xs[2], c = xs[3], oh = dys[1], ow = dys[2];
  std::memset(dx, 0, sizeof(float) * n * h * w * c);
  // Windows of one image can overlap, so images (not rows) are the unit of parallel work here.
  pool().parallel_for(n, 1, [&](long b0, long b1) {
    std::vector<float> best(c);
    std::vector<int> arg(c);
    for (long b = b0; b < b1; b++) {
      const float* xb = x + b * h * w * c;
      float* dxb = dx + b * h * w * c;
      for (long oy = 0; oy < oh; oy++) {
        const long y0 = std::max(0L, oy * a.sh - a.pt), y1 = std::min(h, oy * a.sh - a.pt + a.ph);
        for (long ox = 0; ox < ow; ox++) {
          const long x0 = std::max(0L, ox * a.sw - a.pl), x1 = std::min(w, ox * a.sw - a.pl + a.pw);
          std::fill(best.begin(), best.end(), -INFINITY);
          std::fill(arg.begin(), arg.end(), -1);
          for (long iy = y0; iy < y1; iy++)
            for (long ix = x0; ix < x1; ix++) {
              const int base = static_cast<int>((iy * w + ix) * c);
              const float* in = xb + base;
              // Selects, not branches: on real activations "is this the new maximum" is a coin toss.
              for (long k = 0; k < c; k++) {
                const float v = in[k];
                const bool gt = v > best[k];
                best[k] = gt ? v : best[k];
                arg[k] = gt ? base + static_cast<int>(k) : arg[k];
              }
            }
          const float* g = dy + ((b * oh + oy) * ow + ox) * c;
          for (long k = 0; k < c; k++)
            if (arg[k] >= 0) dxb[arg[k]] += g[k];
        }
      }
    }
  });
}

void avg_pool2d(const float* x, const Shape& xs, const Pool2DAttrs& a, float* y, const Shape& ys) {
  const long h = xs[1], w = xs[2], c = xs[3], oh = ys[1], ow = ys[2];
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
