// Convolution (NHWC input, [kh, kw, cin, cout] filters) as im2col + GEMM. With at least as many images as
// threads, each thread takes whole images with its own column buffer; otherwise the GEMM itself runs in parallel.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

namespace convlab {

namespace {

struct Geo {
  long n, h, w, cin, kh, kw, cout, oh, ow, k, pix;
  Conv2DAttrs a;
};

Geo geo(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2DAttrs& a) {
  Geo g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], ys[1], ys[2], ws[0] * ws[1] * xs[3], ys[1] * ys[2], a};
  return g;
}

bool pointwise(const Geo& g) {
  return g.kh == 1 && g.kw == 1 && g.a.sh == 1 && g.a.sw == 1 && g.a.pt == 0 && g.a.pl == 0 && g.oh == g.h && g.ow == g.w;
}

// Columns of one image: col[(oy*ow + ox), (ky*kw + kx)*cin + c].
void im2col(const float* x, const Geo& g, float* col) {
  const long run = g.kw * g.cin;
  for (long oy = 0; oy < g.oh; oy++) {
    for (long ox = 0; ox < g.ow; ox++) {
      float* dst = col + (oy * g.ow + ox) * g.k;
      const long ix0 = ox * g.a.sw - g.a.pl;
      const bool inside = g.a.dw == 1 && ix0 >= 0 && ix0 + g.kw <= g.w;
      for (long ky = 0; ky < g.kh; ky++) {
        const long iy = oy * g.a.sh - g.a.pt + ky * g.a.dh;
        if (iy < 0 || iy >= g.h) {
          std::memset(dst, 0, sizeof(float) * run);
        } else if (inside) {
          std::memcpy(dst, x + (iy * g.w + ix0) * g.cin, sizeof(float) * run);
        } else {
          for (long kx = 0; kx < g.kw; kx++) {
            const long ix = ix0 + kx * g.a.dw;
            if (ix < 0 || ix >= g.w) std::memset(dst + kx * g.cin, 0, sizeof(float) * g.cin);
            else std::memcpy(dst + kx * g.cin, x + (iy * g.w + ix) * g.cin, sizeof(float) * g.cin);
          }
        }
        dst += run;
      }
    }
  }
}

// Adds columns back into one image's gradient: the adjoint of im2col.
void col2im(const float* col, const Geo& g, float* dx) {
  for (long oy = 0; oy < g.oh; oy++) {
    for (long ox = 0; ox < g.ow; ox++) {
      const float* src = col + (oy * g.ow + ox) * g.k;
      for (long ky = 0; ky < g.kh; ky++) {
        const long iy = oy * g.a.sh - g.a.pt + ky * g.a.dh;
        for (long kx = 0; kx < g.kw; kx++, src += g.cin) {
          const long ix = ox * g.a.sw - g.a.pl + kx * g.a.dw;
          if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
          float* d = dx + (iy * g.w + ix) * g.cin;
          for (long c = 0; c < g.cin; c++) d[c] += src[c];
        }
      }
    }
  }
}

// Splits images across threads when there are enough of them; returns false to ask for GEMM-level parallelism.
template <class F>
bool per_image(long n, F f) {
  const int threads = get_threads();
  if (n < threads) return false;
  pool().parallel_for(n, 1, f);
  return true;
}

}  // namespace

void conv2d(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y, const Shape& ys) {
  const Geo g = geo(xs, ws, ys, a);
  if (pointwise(g)) {
    sgemm(false, false, g.n * g.pix, g.cout, g.cin, x, g.cin, w, g.cout, y, g.cout, false);
    return;
  }
  const bool done = per_image(g.n, [&](long b0, long b1) {
    std::vector<float> col(g.pix * g.k);
    for (long b = b0; b < b1; b++) {
      im2col(x + b * g.h * g.w * g.cin, g, col.data());
      sgemm_serial(false, false, g.pix, g.cout, g.k, col.data(), g.k, w, g.cout, y + b * g.pix * g.cout, g.cout, false);
    }
  });
  if (done) return;
  std::vector<float> col(g.pix * g.k);
  for (long b = 0; b < g.n; b++) {
    im2col(x + b * g.h * g.w * g.cin, g, col.data());
    sgemm(false, false, g.pix, g.cout, g.k, col.data(), g.k, w, g.cout, y + b * g.pix * g.cout, g.cout, false);
  }
}

void conv2d_backprop_input(const float* dy, const Shape& dys, const float* w, const Shape& ws, const Shape& xs,
                           const Conv2DAttrs& a, float* dx) {
  const Geo g = geo(xs, ws, dys, a);
  if (pointwise(g)) {
    sgemm(false, true, g.n * g.pix, g.cin, g.cout, dy, g.cout, w, g.cout, dx, g.cin, false);
    return;
  }
  std::memset(dx, 0, sizeof(float) * g.n * g.h * g.w * g.cin);
  const bool done = per_image(g.n, [&](long b0, long b1) {
    std::vector<float> col(g.pix * g.k);
    for (long b = b0; b < b1; b++) {
      sgemm_serial(false, true, g.pix, g.k, g.cout, dy + b * g.pix * g.cout, g.cout, w, g.cout, col.data(), g.k, false);
      col2im(col.data(), g, dx + b * g.h * g.w * g.cin);
    }
  });
  if (done) return;
  std::vector<float> col(g.pix * g.k);
  for (long b = 0; b < g.n; b++) {
    sgemm(false, true, g.pix, g.k, g.cout, dy + b * g.pix * g.cout, g.cout, w, g.cout, col.data(), g.k, false);
    col2im(col.data(), g, dx + b * g.h * g.w * g.cin);
  }
}

void conv2d_backprop_filter(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Shape& ws,
                            const Conv2DAttrs& a, float* dw) {
  const Geo g = geo(xs, ws, dys, a);
  if (pointwise(g)) {
    sgemm(true, false, g.cin, g.cout, g.n * g.pix, x, g.cin, dy, g.cout, dw, g.cout, false);
    return;
  }
  const long wsize = g.k * g.cout;
  const int threads = get_threads();
  if (g.n >= threads) {
    // Each thread sums its images' contributions into a private buffer; the buffers are added at the end.
    std::vector<std::vector<float>> partial(threads, std::vector<float>(wsize, 0.f));
    const long step = (g.n + threads - 1) / threads;
    pool().run_tasks(threads, [&](int t) {
      std::vector<float> col(g.pix * g.k);
      for (long b = t * step; b < std::min(g.n, (t + 1) * step); b++) {
        im2col(x + b * g.h * g.w * g.cin, g, col.data());
        sgemm_serial(true, false, g.k, g.cout, g.pix, col.data(), g.k, dy + b * g.pix * g.cout, g.cout, partial[t].data(), g.cout, true);
      }
    });
    std::memcpy(dw, partial[0].data(), sizeof(float) * wsize);
    for (int t = 1; t < threads; t++)
      for (long i = 0; i < wsize; i++) dw[i] += partial[t][i];
    return;
  }
  std::memset(dw, 0, sizeof(float) * wsize);
  std::vector<float> col(g.pix * g.k);
  for (long b = 0; b < g.n; b++) {
    im2col(x + b * g.h * g.w * g.cin, g, col.data());
    sgemm(true, false, g.k, g.cout, g.pix, col.data(), g.k, dy + b * g.pix * g.cout, g.cout, dw, g.cout, true);
  }
}

}  // namespace convlab
