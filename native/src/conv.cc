// Convolution (NHWC input, [kh, kw, cin, cout] filters) as im2col + GEMM. With at least as many images as
// threads, each thread takes whole images with its own column buffer; otherwise the GEMM itself runs in parallel.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "binding.h"
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

// Images per GEMM call: enough rows to amortize packing the weights, within a bounded column buffer.
long chunk_images(const Geo& g) {
  const long byRows = std::max(1L, 4096 / std::max(1L, g.pix));
  const long byMemory = std::max(1L, (1L << 22) / std::max(1L, g.pix * g.k));
  return std::max(1L, std::min({byRows, byMemory, g.n}));
}

// Runs body(b0, count, parallelGemm) over chunks of images: whole chunks per thread when there are enough images,
// otherwise one chunk at a time with the GEMM itself parallel.
template <class F>
void over_chunks(const Geo& g, F body) {
  const int threads = get_threads();
  const long chunk = chunk_images(g);
  if (g.n >= threads && threads > 1) {
    const long per = (g.n + threads - 1) / threads;
    pool().run_tasks(threads, [&](int t) {
      const long end = std::min(g.n, (t + 1) * per);
      for (long b = t * per; b < end; b += std::min(chunk, end - b)) body(t, b, std::min(chunk, end - b), false);
    });
  } else {
    for (long b = 0; b < g.n; b += std::min(chunk, g.n - b)) body(0, b, std::min(chunk, g.n - b), true);
  }
}

void gemm(bool parallel, bool ta, bool tb, long m, long n, long k, const float* A, long lda, const float* B, long ldb, float* C,
          long ldc, bool acc) {
  if (parallel) sgemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, acc);
  else sgemm_serial(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, acc);
}

int conv_mode = 0;

// Which products go direct: measured per shape on AVX-512 (see bench/README.md). Direct wins while the
// channel counts are small enough that im2col and packing cost more than the arithmetic.
enum class Product { Forward, Input, Filter };
bool use_direct(const Geo& g, Product p) {
  if (!direct_conv_available() || conv_mode == 1 || conv_mode == 3) return false;
  if (p == Product::Input && g.n < get_threads()) return false;  // it parallelizes over images
  if (conv_mode == 2) return true;
  switch (p) {
    // Rows of output pixels are the register block: it needs rows long enough to fill one.
    case Product::Forward: return g.ow >= 4 && (g.cin <= 64 || (g.ow >= 12 && g.cin <= 128));
    // Input channels (times the filter width, in the scatter form) are the vector lanes.
    case Product::Input: return g.ow >= 4 && g.cin <= 64 && (g.cin >= 12 || (g.a.dw == 1 && g.kw * g.cin >= 12));
    // Filters are the vector lanes, and every column block rereads all pixels.
    default: return g.cout <= 64;
  }
}

// In auto mode only with enough tiles to amortize the transforms.
bool use_winograd(const Shape& ws, const Conv2DAttrs& a, const Shape& ys) {
  if (conv_mode == 3) return winograd_eligible(ws, a);
  return conv_mode == 0 && winograd_eligible(ws, a) && winograd_tiles(ys) >= 512;
}

}  // namespace

void set_conv_mode(int mode) { conv_mode = mode; }
int get_conv_mode() { return conv_mode; }

// act(y + bias) in place over rows of c values (the GEMM path's epilogue, applied while the rows are in cache).
void apply_epilogue(float* y, long rows, long c, const Epilogue& epi) {
  const float s = epi.slope;
  for (long r = 0; r < rows; r++) {
    float* yr = y + r * c;
    if (epi.bias)
      for (long j = 0; j < c; j++) yr[j] += epi.bias[j];
    if (s != 1.f)
      for (long j = 0; j < c; j++) yr[j] = std::max(yr[j], 0.f) + s * std::min(yr[j], 0.f);
  }
}

void conv2d(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y, const Shape& ys,
            const Epilogue& epi) {
  const Geo g = geo(xs, ws, ys, a);
  if (use_winograd(ws, a, ys)) return conv2d_winograd(x, xs, w, ws, a, y, ys, epi);
  if (use_direct(g, Product::Forward)) return conv2d_direct(x, xs, w, ws, a, y, ys, epi);
  if (pointwise(g)) {
    sgemm(false, false, g.n * g.pix, g.cout, g.cin, x, g.cin, w, g.cout, y, g.cout, false);
    if (epi.on)
      pool().parallel_for(g.n * g.pix, 256, [&](long s, long e) { apply_epilogue(y + s * g.cout, e - s, g.cout, epi); });
    return;
  }
  over_chunks(g, [&](int, long b0, long count, bool parallel) {
    thread_local std::vector<float> col;
    col.resize(count * g.pix * g.k);
    for (long j = 0; j < count; j++) im2col(x + (b0 + j) * g.h * g.w * g.cin, g, col.data() + j * g.pix * g.k);
    float* out = y + b0 * g.pix * g.cout;
    gemm(parallel, false, false, count * g.pix, g.cout, g.k, col.data(), g.k, w, g.cout, out, g.cout, false);
    if (epi.on) apply_epilogue(out, count * g.pix, g.cout, epi);
  });
}

void conv2d_backprop_input(const float* dy, const Shape& dys, const float* w, const Shape& ws, const Shape& xs,
                           const Conv2DAttrs& a, float* dx) {
  const Geo g = geo(xs, ws, dys, a);
  if (use_winograd(ws, a, xs)) {
    // Stride 1: dx is the convolution of dy (padded by kernel − 1 − pad) with the filters flipped and transposed.
    const long pt = 2 - a.pt, pl = 2 - a.pl, pb = g.h - g.oh + 2 - pt, pr = g.w - g.ow + 2 - pl;
    if (pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0) {
      std::vector<float> wf(9 * g.cout * g.cin);
      for (long t = 0; t < 9; t++)
        for (long ci = 0; ci < g.cin; ci++)
          for (long co = 0; co < g.cout; co++) wf[((8 - t) * g.cout + co) * g.cin + ci] = w[(t * g.cin + ci) * g.cout + co];
      const Conv2DAttrs t{1, 1, 1, 1, pt, pb, pl, pr};
      return conv2d_winograd(dy, dys, wf.data(), Shape{3, 3, g.cout, g.cin}, t, dx, xs, Epilogue());
    }
  }
  if (use_direct(g, Product::Input)) return conv2d_backprop_input_direct(dy, dys, w, ws, xs, a, dx);
  if (pointwise(g)) {
    sgemm(false, true, g.n * g.pix, g.cin, g.cout, dy, g.cout, w, g.cout, dx, g.cin, false);
    return;
  }
  std::memset(dx, 0, sizeof(float) * g.n * g.h * g.w * g.cin);
  over_chunks(g, [&](int, long b0, long count, bool parallel) {
    thread_local std::vector<float> col;
    col.resize(count * g.pix * g.k);
    gemm(parallel, false, true, count * g.pix, g.k, g.cout, dy + b0 * g.pix * g.cout, g.cout, w, g.cout, col.data(), g.k, false);
    for (long j = 0; j < count; j++) col2im(col.data() + j * g.pix * g.k, g, dx + (b0 + j) * g.h * g.w * g.cin);
  });
}

void conv2d_backprop_filter(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Shape& ws,
                            const Conv2DAttrs& a, float* dw) {
  const Geo g = geo(xs, ws, dys, a);
  if (use_direct(g, Product::Filter)) return conv2d_backprop_filter_direct(x, xs, dy, dys, ws, a, dw);
  if (pointwise(g)) {
    sgemm(true, false, g.cin, g.cout, g.n * g.pix, x, g.cin, dy, g.cout, dw, g.cout, false);
    return;
  }
  const long wsize = g.k * g.cout;
  // Each thread sums its images' contributions into a private buffer; the buffers are added in a fixed order.
  const int threads = get_threads();
  std::vector<std::vector<float>> partial(threads, std::vector<float>(wsize, 0.f));
  over_chunks(g, [&](int t, long b0, long count, bool parallel) {
    thread_local std::vector<float> col;
    col.resize(count * g.pix * g.k);
    for (long j = 0; j < count; j++) im2col(x + (b0 + j) * g.h * g.w * g.cin, g, col.data() + j * g.pix * g.k);
    gemm(parallel, true, false, g.k, g.cout, count * g.pix, col.data(), g.k, dy + b0 * g.pix * g.cout, g.cout, partial[t].data(), g.cout, true);
  });
  std::memcpy(dw, partial[0].data(), sizeof(float) * wsize);
  for (int t = 1; t < threads; t++)
    for (long i = 0; i < wsize; i++) dw[i] += partial[t][i];
}

}  // namespace convlab

namespace convlab {

void conv2d_backprop(const float* x, const Shape& xs, const float* w, const Shape& ws, const float* dy, const Shape& dys,
                     const Conv2DAttrs& a, float* dx, float* dw) {
  // With two threads and a small product (under 10⁸ flops a gradient: LeNet-5's layers), the input and filter
  // gradients run side by side, one thread each: split across both threads, such a product loses much of its speed
  // to the split (partial sums, imbalance, the wait at the end). Larger products (seed 000's CIFAR net) gain
  // nothing measurable from it, and with more threads each gradient uses them all in turn.
  const double flops = 2.0 * dys[0] * dys[1] * dys[2] * dys[3] * ws[0] * ws[1] * ws[2];
  if (dx && dw && get_threads() == 2 && flops < 1e8) {
    pool().run_tasks(2, [&](int t) {
      if (t == 0) conv2d_backprop_input(dy, dys, w, ws, xs, a, dx);
      else conv2d_backprop_filter(x, xs, dy, dys, ws, a, dw);
    });
    return;
  }
  if (dx) conv2d_backprop_input(dy, dys, w, ws, xs, a, dx);
  if (dw) conv2d_backprop_filter(x, xs, dy, dys, ws, a, dw);
}

}  // namespace convlab

// Bindings (see binding.h): outputs first, then the contract's arguments.
using namespace convlab;

// conv2d(out | x, xShape, w, wShape, attrs, epilogue?)
KERNEL(JsConv2D, "conv2d", 6, {
  const Shape xs = a.shape(2, "xShape", 4), ws = a.shape(4, "wShape", 4);
  const Conv2DAttrs c = a.conv_attrs(5);
  const Shape ys = conv_out(a, xs, ws, c);
  Epilogue epi;
  if (!a.is_null(6)) {
    epi.on = true;
    napi_value bias = a.field(6, "epilogue", "bias");
    napi_value act = a.field(6, "epilogue", "act");
    napi_value alpha = a.field(6, "epilogue", "alpha");
    // The epilogue's fields are read as arguments of their own (beyond the contract's, so the names stay clear).
    a.v[7] = bias;
    a.v[8] = act;
    a.v[9] = alpha;
    epi.bias = a.opt_f32(7, "epilogue.bias", ws[3], "the filters");
    epi.slope = a.slope(8, 9);
  }
  conv2d(a.f32(1, "x", size_of(xs), "xShape"), xs, a.f32(3, "w", size_of(ws), "wShape"), ws, c, a.f32(0, "out", size_of(ys), "the output shape"),
         ys, epi);
})
// conv2dBackprop(dx, dw | x, xShape, w, wShape, dy, dyShape, attrs, wantInput, wantFilter)
KERNEL(JsConv2DBackprop, "conv2dBackprop", 11, {
  const Shape xs = a.shape(3, "xShape", 4), ws = a.shape(5, "wShape", 4), dys = a.shape(7, "dyShape", 4);
  const Conv2DAttrs c = a.conv_attrs(8);
  same_shape(a, dys, conv_out(a, xs, ws, c), "dyShape", "the convolution's output shape");
  const bool want_input = a.flag(9, "wantInput"), want_filter = a.flag(10, "wantFilter");
  conv2d_backprop(a.f32(2, "x", size_of(xs), "xShape"), xs, a.f32(4, "w", size_of(ws), "wShape"), ws, a.f32(6, "dy", size_of(dys), "dyShape"),
                  dys, c, want_input ? a.f32(0, "dx", size_of(xs), "xShape") : nullptr,
                  want_filter ? a.f32(1, "dw", size_of(ws), "wShape") : nullptr);
})
