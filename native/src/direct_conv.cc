// Direct convolution for AVX-512 ("implicit GEMM"): the three convolution products read the input, the output
// gradient and the filters where they lie, with no im2col matrix and no packing. For the few-channel layers of
// small CNNs (3 to 64 channels) those copies cost more than the arithmetic; here every step of the inner loop is
// one or a few vector loads of 16 output channels and a broadcast-FMA per register-blocked row.
//
// One micro-kernel serves all three: C[P rows][V·16 columns] (+)= Σ_taps Σ_t A(p, t) · B(t, columns), where
// A(p, t) = a[aoff[tap] + p·as + t·at] and B(t, ·) = b[boff[tap] + t·ldb + ·]. Which array plays A, B and C, and
// what the taps are, is what tells the forward pass, the input gradient and the filter gradient apart.
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CONVLAB_DIRECT 1
#endif

namespace convlab {

#ifdef CONVLAB_DIRECT
namespace {

struct Micro {
  const float* a;
  long as, at, T;
  const long* aoff;
  const long* boff;
  long ntaps;
  const float* b;
  long ldb;
  float* c;
  long cs;
  __mmask16 last;  // lanes of the last column vector that exist
  bool accumulate; // add to C instead of overwriting it
  const float* bias = nullptr;  // epilogue: + bias (per column), then max(v, 0) + slope·min(v, 0)
  float slope = 1.f;
  bool epilogue = false;
};

template <int P, int V>
__attribute__((target("avx512f"))) void micro(const Micro& m) {
  __m512 acc[P][V];
#pragma GCC unroll 28
  for (int p = 0; p < P; p++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[p][v] = _mm512_setzero_ps();
  const long as = m.as, at = m.at, ldb = m.ldb, T = m.T;
  for (long tap = 0; tap < m.ntaps; tap++) {
    const float* pa = m.a + m.aoff[tap];
    const float* pb = m.b + m.boff[tap];
    // Pixel p's value sits at pa + p·as. Written as bases[p / 8] + k·as (k = p % 8), the P addresses need P/8 base
    // pointers and 7 shared offsets; one offset register per pixel left the compiler spilling them and moving them
    // back from vector registers every step, on the FMA ports (seed 000's 16→32 input gradient 2.7 → 2.0 ms).
    const long ab = as * static_cast<long>(sizeof(float));
    const long off[8] = {0, ab, 2 * ab, 3 * ab, 4 * ab, 5 * ab, 6 * ab, 7 * ab};
    const char* bases[(P + 7) / 8];
#pragma GCC unroll 4
    for (int j = 0; j < (P + 7) / 8; j++) bases[j] = reinterpret_cast<const char*>(pa + 8 * j * as);
    const long step = at * static_cast<long>(sizeof(float));
    for (long t = 0; t < T; t++, pb += ldb) {
      __m512 bv[V];
#pragma GCC unroll 4
      for (int v = 0; v < V - 1; v++) bv[v] = _mm512_loadu_ps(pb + 16 * v);
      bv[V - 1] = _mm512_maskz_loadu_ps(m.last, pb + 16 * (V - 1));
#pragma GCC unroll 28
      for (int p = 0; p < P; p++) {
        const __m512 av = _mm512_set1_ps(*reinterpret_cast<const float*>(bases[p >> 3] + off[p & 7]));
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(av, bv[v], acc[p][v]);
      }
#pragma GCC unroll 4
      for (int j = 0; j < (P + 7) / 8; j++) bases[j] += step;
    }
  }
#pragma GCC unroll 28
  for (int p = 0; p < P; p++) {
    float* cr = m.c + p * m.cs;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const __mmask16 k = v == V - 1 ? m.last : static_cast<__mmask16>(0xFFFF);
      __m512 r = acc[p][v];
      if (m.accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(k, cr + 16 * v));
      if (m.epilogue) {
        if (m.bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(k, m.bias + 16 * v));
        const __m512 zero = _mm512_setzero_ps();
        r = _mm512_fmadd_ps(_mm512_set1_ps(m.slope), _mm512_min_ps(r, zero), _mm512_max_ps(r, zero));
      }
      _mm512_mask_storeu_ps(cr + 16 * v, k, r);
    }
  }
}

using MicroFn = void (*)(const Micro&);
// Rows per block for V column vectors: P·V accumulators of the 32 registers, leaving room for B and A.
constexpr int kMaxRows[5] = {0, 28, 14, 9, 7};

template <int V, size_t... P>
constexpr std::array<MicroFn, sizeof...(P)> row_table(std::index_sequence<P...>) {
  return {&micro<static_cast<int>(P) + 1, V>...};
}

const MicroFn* table(int v) {
  static const auto t1 = row_table<1>(std::make_index_sequence<28>());
  static const auto t2 = row_table<2>(std::make_index_sequence<14>());
  static const auto t3 = row_table<3>(std::make_index_sequence<9>());
  static const auto t4 = row_table<4>(std::make_index_sequence<7>());
  switch (v) {
    case 1: return t1.data();
    case 2: return t2.data();
    case 3: return t3.data();
    default: return t4.data();
  }
}

void run_micro(int rows, int v, const Micro& m) { table(v)[rows - 1](m); }

__mmask16 lanes(long n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u); }

// Column blocks of at most 64 (4 vectors), as even as the vector count allows.
template <class F>
void column_blocks(long n, F f) {
  for (long c0 = 0; c0 < n; c0 += 64) {
    const long w = std::min(64L, n - c0);
    f(c0, w, static_cast<int>((w + 15) / 16));
  }
}

// Splits `len` rows into blocks of at most `most`, of nearly equal size (32 pixels → 16 + 16, not 28 + 4).
template <class F>
void row_blocks(long len, int most, F f) {
  const long blocks = (len + most - 1) / most;
  const long base = len / blocks, extra = len % blocks;
  long r0 = 0;
  for (long i = 0; i < blocks; i++) {
    const long r = base + (i < extra ? 1 : 0);
    f(r0, static_cast<int>(r));
    r0 += r;
  }
}

struct Geo {
  long n, h, w, cin, kh, kw, cout, oh, ow;
  long hp, wp;  // padded input size
  Conv2DAttrs a;
};

Geo geo(const Shape& xs, const Shape& ws, long oh, long ow, const Conv2DAttrs& a) {
  return {xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], oh, ow, xs[1] + a.pt + a.pb, xs[2] + a.pl + a.pr, a};
}

bool has_padding(const Geo& g) { return g.a.pt || g.a.pb || g.a.pl || g.a.pr; }

// Pixel groups for layers with fewer than 16 filters (LeNet-5's 6): G neighbouring output pixels share the vector
// lanes, G·cout of them, so a step fills 12 of 16 lanes instead of 6. The price is a longer filter row: the G
// pixels of a group read (G − 1)·sw + kw input columns, and each pixel's filters are zero outside its own kw.
// Picks the G with the most useful multiplications per vector FMA; 1 when grouping does not pay.
int pixel_group(const Geo& g) {
  if (g.a.dw != 1 || g.cout >= 16) return 1;
  int best = 1;
  double best_use = static_cast<double>(g.cout) / 16.0;
  for (int G = 2; G * g.cout <= 16 && G <= g.ow; G++) {
    const double use = static_cast<double>(g.kw) / static_cast<double>((G - 1) * g.a.sw + g.kw) * (G * g.cout) / 16.0;
    if (use > best_use * 1.1) {
      best = G;
      best_use = use;
    }
  }
  return best;
}

// The filters of a pixel group: wg[ky][u][ci][d·cout + co] = w[ky][u − d·sw][ci][co], zero where u − d·sw is not a
// column of the filter (u < (G − 1)·sw + kw).
std::vector<float> group_filters(const float* w, const Geo& g, int G) {
  const long U = (G - 1) * g.a.sw + g.kw, L = G * g.cout;
  std::vector<float> wg(g.kh * U * g.cin * L, 0.f);
  for (long ky = 0; ky < g.kh; ky++)
    for (long u = 0; u < U; u++)
      for (long ci = 0; ci < g.cin; ci++)
        for (long d = 0; d < G; d++) {
          const long kx = u - d * g.a.sw;
          if (kx < 0 || kx >= g.kw) continue;
          for (long co = 0; co < g.cout; co++)
            wg[((ky * U + u) * g.cin + ci) * L + d * g.cout + co] = w[((ky * g.kw + kx) * g.cin + ci) * g.cout + co];
        }
  return wg;
}

// Rows [top, bot) of image b's zero-padded input (padded coordinates, wp·cin floats a row) into buf. Kernels pad
// the rows each thread is about to read, into its own buffer, rather than the whole batch up front: a padded copy
// of the batch is as large as the input, and writing it and reading it back cost more memory traffic than the
// arithmetic of a few-channel layer.
const float* pad_rows(const float* x, const Geo& g, long b, long top, long bot, std::vector<float>& buf) {
  const long row = g.wp * g.cin;
  if (buf.size() < static_cast<size_t>((bot - top) * row)) buf.resize((bot - top) * row);
  for (long pr = top; pr < bot; pr++) {
    float* dst = buf.data() + (pr - top) * row;
    const long iy = pr - g.a.pt;
    if (iy < 0 || iy >= g.h) {
      std::memset(dst, 0, sizeof(float) * row);
      continue;
    }
    std::memset(dst, 0, sizeof(float) * g.a.pl * g.cin);
    std::memcpy(dst + g.a.pl * g.cin, x + ((b * g.h + iy) * g.w) * g.cin, sizeof(float) * g.w * g.cin);
    std::memset(dst + (g.a.pl + g.w) * g.cin, 0, sizeof(float) * g.a.pr * g.cin);
  }
  return buf.data();
}

// The padded input rows that output rows [oy0, oy1) of image b read, starting at padded row `top`: a pointer p
// such that padded row pr of the image starts at p + (pr − top)·wp·cin. Without padding, the input itself.
const float* input_rows(const float* x, const Geo& g, long b, long oy0, long oy1, long& top, std::vector<float>& buf) {
  top = oy0 * g.a.sh;
  if (!has_padding(g)) return x + (b * g.h + top) * g.w * g.cin;
  return pad_rows(x, g, b, top, (oy1 - 1) * g.a.sh + (g.kh - 1) * g.a.dh + 1, buf);
}

// Scratch arrays kept between calls, so a training step does not fault in fresh pages for them every time; one set
// per thread, since the two gradients of a convolution may run side by side.
std::vector<float>& scratch(int which) {
  thread_local std::vector<float> bufs[2];
  return bufs[which];
}

}  // namespace

bool direct_conv_available() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return ok;
}

void conv2d_direct(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y,
                   const Shape& ys, const Epilogue& epi) {
  const Geo g = geo(xs, ws, ys[1], ys[2], a);
  // With dw == 1 a filter row's (kx, ci) pairs are contiguous in the input and in the filters, so each ky is one
  // tap of kw·cin steps (3 taps of 9 for a 3×3 RGB layer, not 9 taps of 3: fewer short inner loops).
  const bool rows_merged = a.dw == 1;
  const long ntaps = rows_merged ? g.kh : g.kh * g.kw, steps = rows_merged ? g.kw * g.cin : g.cin;
  std::vector<long> aoff(ntaps), boff(ntaps);
  for (long ky = 0; ky < g.kh; ky++)
    for (long kx = 0; kx < (rows_merged ? 1 : g.kw); kx++) {
      const long t = rows_merged ? ky : ky * g.kw + kx;
      aoff[t] = (ky * a.dh * g.wp + kx * a.dw) * g.cin;
      boff[t] = (ky * g.kw + kx) * g.cin * g.cout;
    }
  // Pixel groups (few filters): their filters, bias and taps; the pixels left over at the end of a row, fewer than
  // G, take the plain filters.
  const int G = pixel_group(g);
  const long U = (G - 1) * a.sw + g.kw, L = G * g.cout;
  std::vector<float> wg, bg;
  std::vector<long> boffg(g.kh);
  if (G > 1) {
    wg = group_filters(w, g, G);
    if (epi.bias) {
      bg.resize(L);
      for (long i = 0; i < L; i++) bg[i] = epi.bias[i % g.cout];
    }
    for (long ky = 0; ky < g.kh; ky++) boffg[ky] = ky * U * g.cin * L;
  }
  const long grouped = G > 1 ? g.ow / G * G : 0;  // output pixels of a row computed in groups
  // Output rows (image, oy) are independent: split them across threads, each padding the input rows it reads.
  pool().parallel_for(g.n * g.oh, 1, [&](long s, long e) {
    thread_local std::vector<float> local;
    for (long r = s; r < e;) {
      const long b = r / g.oh, oy0 = r % g.oh, oy1 = std::min(g.oh, oy0 + (e - r));
      long top = 0;
      const float* img = input_rows(x, g, b, oy0, oy1, top, local);
      for (long oy = oy0; oy < oy1; oy++, r++) {
        const float* xrow = img + (oy * a.sh - top) * g.wp * g.cin;
        float* yrow = y + r * g.ow * g.cout;
        if (G > 1)
          row_blocks(grouped / G, kMaxRows[1], [&](long p0, int rows) {
            Micro m{xrow + p0 * G * a.sw * g.cin, G * a.sw * g.cin, 1, U * g.cin, aoff.data(), boffg.data(), ntaps, wg.data(), L,
                    yrow + p0 * L, L, lanes(L), false, epi.bias ? bg.data() : nullptr, epi.slope, epi.on};
            run_micro(rows, 1, m);
          });
        if (grouped == g.ow) continue;
        column_blocks(g.cout, [&](long c0, long cw, int v) {
          row_blocks(g.ow - grouped, kMaxRows[v], [&](long ox0, int rows) {
            ox0 += grouped;
            Micro m{xrow + ox0 * a.sw * g.cin, a.sw * g.cin, 1, steps, aoff.data(), boff.data(), ntaps, w + c0, g.cout,
                    yrow + ox0 * g.cout + c0, g.cout, lanes(cw - 16 * (v - 1)), false, epi.bias ? epi.bias + c0 : nullptr, epi.slope, epi.on};
            run_micro(rows, v, m);
          });
        });
      }
    }
  });
}

namespace {
// Strided input gradient in gather form, one class of input pixels per stride phase (py, px): the pixels
// (s·i + py, s·j + px) receive dy only through the taps with ky ≡ py + pt and kx ≡ px + pl (mod s), from dy at a
// fixed offset. Each class is a stride-1 convolution of dy with those taps, written to every s-th pixel of dx:
// dx is written once, with no zeroing and no read-modify-write.
void backprop_input_phases(const float* dy, const Geo& g, const float* w, float* dx) {
  const Conv2DAttrs& a = g.a;
  const long sh = a.sh, sw = a.sw;
  // wt[tap][co][ci]: the filters transposed so the input channels are the contiguous columns.
  std::vector<float> wt(g.kh * g.kw * g.cout * g.cin);
  for (long t = 0; t < g.kh * g.kw; t++)
    for (long ci = 0; ci < g.cin; ci++)
      for (long co = 0; co < g.cout; co++) wt[(t * g.cout + co) * g.cin + ci] = w[(t * g.cin + ci) * g.cout + co];
  // Phase row i reads dy row i + (py + pt − ky) / sh: from i − ceil((kh − 1) / sh) up to the last phase row plus
  // (py + pt) / sh. Pad dy with zeros to cover that whole range.
  const long top = (g.kh - 1 + sh - 1) / sh, left = (g.kw - 1 + sw - 1) / sw;
  long bottom = 0, right = 0;
  for (long py = 0; py < sh; py++) bottom = std::max(bottom, (g.h - py + sh - 1) / sh - 1 + (py + a.pt) / sh - g.oh + 1);
  for (long px = 0; px < sw; px++) right = std::max(right, (g.w - px + sw - 1) / sw - 1 + (px + a.pl) / sw - g.ow + 1);
  const long hp = g.oh + top + bottom, wp = g.ow + left + right;
  // dy of one image, zero-padded: each thread pads the images it works on, as it comes to them.
  const auto pad_image = [&](long b, std::vector<float>& buf) {
    if (buf.size() < static_cast<size_t>(hp * wp * g.cout)) buf.resize(hp * wp * g.cout);
    std::memset(buf.data(), 0, sizeof(float) * hp * wp * g.cout);
    for (long y = 0; y < g.oh; y++)
      std::memcpy(buf.data() + ((y + top) * wp + left) * g.cout, dy + ((b * g.oh + y) * g.ow) * g.cout, sizeof(float) * g.ow * g.cout);
  };
  struct Phase {
    long py, px, rows, cols;
    std::vector<long> aoff, boff;
  };
  std::vector<Phase> phases;
  for (long py = 0; py < sh; py++)
    for (long px = 0; px < sw; px++) {
      Phase ph{py, px, (g.h - py + sh - 1) / sh, (g.w - px + sw - 1) / sw, {}, {}};
      for (long ky = 0; ky < g.kh; ky++) {
        if (((py + a.pt - ky) % sh + sh) % sh != 0) continue;
        for (long kx = 0; kx < g.kw; kx++) {
          if (((px + a.pl - kx) % sw + sw) % sw != 0) continue;
          const long oy = (py + a.pt - ky) / sh, ox = (px + a.pl - kx) / sw;  // exact divisions
          ph.aoff.push_back(((oy + top) * wp + ox + left) * g.cout);
          ph.boff.push_back((ky * g.kw + kx) * g.cout * g.cin);
        }
      }
      if (ph.rows > 0 && ph.cols > 0) phases.push_back(std::move(ph));
    }
  // Work items: (image, phase, row); rows of dx are disjoint between items.
  long items = 0;
  std::vector<long> first(phases.size() + 1, 0);
  for (size_t p = 0; p < phases.size(); p++) first[p + 1] = first[p] + phases[p].rows;
  items = g.n * first.back();
  pool().parallel_for(items, 1, [&](long s, long e) {
    thread_local std::vector<float> dyp;
    long padded_image = -1;
    for (long it = s; it < e; it++) {
      const long b = it / first.back(), r = it % first.back();
      if (b != padded_image) {
        pad_image(b, dyp);
        padded_image = b;
      }
      size_t p = 0;
      while (first[p + 1] <= r) p++;
      const Phase& ph = phases[p];
      const long i = r - first[p];  // row within the phase: dx row sh·i + py, dy row i (+ tap offsets)
      const float* arow = dyp.data() + i * wp * g.cout;
      float* crow = dx + ((b * g.h + sh * i + ph.py) * g.w + ph.px) * g.cin;
      column_blocks(g.cin, [&](long c0, long cw, int v) {
        row_blocks(ph.cols, kMaxRows[v], [&](long j0, int rows) {
          Micro m{arow + j0 * g.cout, g.cout, 1, g.cout, ph.aoff.data(), ph.boff.data(), static_cast<long>(ph.aoff.size()),
                  wt.data() + c0, g.cin, crow + j0 * sw * g.cin + c0, sw * g.cin, lanes(cw - 16 * (v - 1)), false};
          run_micro(rows, v, m);
        });
      });
    }
  });
}
}  // namespace

namespace {
// Sums the overlapping rows of a tile into one row: out[o] = Σ_p tile[p·ldt + o − p·shift] over the p with
// 0 ≤ o − p·shift < ncol, for o < len. Each output vector is summed in a register from masked loads of the tile
// rows that reach it and stored once: adding the tile rows into the row one after another would make every
// load wait for the overlapping store just before it.
__attribute__((target("avx512f"))) void overlap_sum(const float* tile, long rows, long ldt, long ncol, long shift, float* out, long len) {
  for (long o0 = 0; o0 < len; o0 += 16) {
    __m512 acc = _mm512_setzero_ps();
    const long p_lo = std::max(0L, (o0 - ncol + shift) / shift), p_hi = std::min(rows - 1, (o0 + 15) / shift);
    for (long p = p_lo; p <= p_hi; p++) {
      const long start = o0 - p * shift;  // tile column of lane 0 (may be negative)
      const long l0 = std::max(0L, -start), l1 = std::min(16L, ncol - start);
      if (l1 <= l0) continue;
      const __mmask16 k = static_cast<__mmask16>(((1u << l1) - 1u) & ~((1u << l0) - 1u));
      acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(k, tile + p * ldt + start));
    }
    _mm512_mask_storeu_ps(out + o0, lanes(len - o0), acc);
  }
}

// Input gradient for few input channels (dw == 1), one padded row of dx at a time: the taps ky that reach the row
// are gathered (a sum over ky and the filters in the micro-kernel), and the kw·cin columns of each output pixel,
// which overlap their neighbours' in dx, are scattered by overlap_sum. Every dx row is written once, and rows are
// independent, so threads split them freely.
void backprop_input_rows(const float* dy, const Geo& g, const float* w, float* dx) {
  const Conv2DAttrs& a = g.a;
  const long ncol = g.kw * g.cin, ldt = (ncol + 15) / 16 * 16;
  // wt[ky][co][kx·cin + ci]: the filters transposed so a pixel's kw·cin columns are contiguous.
  std::vector<float> wt(g.kh * g.cout * ncol);
  for (long ky = 0; ky < g.kh; ky++)
    for (long kx = 0; kx < g.kw; kx++)
      for (long ci = 0; ci < g.cin; ci++)
        for (long co = 0; co < g.cout; co++) wt[(ky * g.cout + co) * ncol + kx * g.cin + ci] = w[((ky * g.kw + kx) * g.cin + ci) * g.cout + co];
  pool().parallel_for(g.n * g.h, 1, [&](long s, long e) {
    thread_local std::vector<float> tile, row;
    tile.resize(g.ow * ldt);
    row.resize((g.wp + 16) * g.cin);
    std::vector<long> aoff(g.kh), boff(g.kh);
    for (long t = s; t < e; t++) {
      const long b = t / g.h, iy = t % g.h, R = iy + a.pt;  // R: the row in padded coordinates
      long taps = 0;
      for (long ky = 0; ky < g.kh; ky++) {
        const long q = R - ky * a.dh;
        if (q < 0 || q % a.sh != 0 || q / a.sh >= g.oh) continue;
        aoff[taps] = ((b * g.oh + q / a.sh) * g.ow) * g.cout;
        boff[taps++] = ky * g.cout * ncol;
      }
      float* dxrow = dx + t * g.w * g.cin;
      if (taps == 0) {
        std::memset(dxrow, 0, sizeof(float) * g.w * g.cin);
        continue;
      }
      column_blocks(ncol, [&](long c0, long cw, int v) {
        row_blocks(g.ow, kMaxRows[v], [&](long ox0, int rows) {
          Micro m{dy + ox0 * g.cout, g.cout, 1, g.cout, aoff.data(), boff.data(), taps, wt.data() + c0, ncol, tile.data() + ox0 * ldt + c0,
                  ldt, lanes(cw - 16 * (v - 1)), false};
          run_micro(rows, v, m);
        });
      });
      const long span = ((g.ow - 1) * a.sw + g.kw) * g.cin;  // padded columns the row's pixels reach
      overlap_sum(tile.data(), g.ow, ldt, ncol, a.sw * g.cin, row.data(), span);
      // dx columns ix = padded column − pl; those beyond the span get nothing.
      const long from = a.pl * g.cin, have = std::max(0L, std::min(g.w * g.cin, span - from));
      std::memcpy(dxrow, row.data() + from, sizeof(float) * have);
      if (have < g.w * g.cin) std::memset(dxrow + have, 0, sizeof(float) * (g.w * g.cin - have));
    }
  });
}
}  // namespace

void conv2d_backprop_input_direct(const float* dy, const Shape& dys, const float* w, const Shape& ws, const Shape& xs,
                                  const Conv2DAttrs& a, float* dx) {
  const Geo g = geo(xs, ws, dys[1], dys[2], a);
  const long ntaps = g.kh * g.kw;
  // Stride 1: the input gradient is itself a convolution (of dy, padded, with the filters flipped and their channel
  // axes swapped), so it runs as the gather-form forward kernel with no read-modify-write of dx.
  const long tp = (g.kh - 1) * a.dh - a.pt, lp = (g.kw - 1) * a.dw - a.pl;
  const long bp = g.h - g.oh + (g.kh - 1) * a.dh - tp, rp = g.w - g.ow + (g.kw - 1) * a.dw - lp;
  if ((a.sh > 1 || a.sw > 1) && a.dh == 1 && a.dw == 1 && g.cin >= 16 && a.pt < a.sh * g.kh && a.pl < a.sw * g.kw)
    return backprop_input_phases(dy, g, w, dx);
  if (a.sh == 1 && a.sw == 1 && g.cin >= 16 && tp >= 0 && lp >= 0 && bp >= 0 && rp >= 0) {
    std::vector<float> wf(ntaps * g.cout * g.cin);
    for (long ky = 0; ky < g.kh; ky++)
      for (long kx = 0; kx < g.kw; kx++) {
        const long src = (g.kh - 1 - ky) * g.kw + (g.kw - 1 - kx), dst = ky * g.kw + kx;
        for (long ci = 0; ci < g.cin; ci++)
          for (long co = 0; co < g.cout; co++) wf[(dst * g.cout + co) * g.cin + ci] = w[(src * g.cin + ci) * g.cout + co];
      }
    const Conv2DAttrs t{1, 1, a.dh, a.dw, tp, bp, lp, rp};
    conv2d_direct(dy, dys, wf.data(), Shape{g.kh, g.kw, g.cout, g.cin}, t, dx, xs);
    return;
  }
  if (a.dw == 1) return backprop_input_rows(dy, g, w, dx);
  // Scatter form (dilated filter rows): for each output pixel, dy times the transposed filters is added into the input rows it came
  // from. With dw == 1, one filter row's (kx, ci) pairs land on consecutive floats of dx, so they form one group
  // of kw·cin columns (30 for LeNet-5's 5×5×6, where cin alone would fill 6 of 16 lanes); rows of C then overlap
  // in dx, which is fine because the micro-kernel adds its rows into C one after another.
  const long groups = a.dw == 1 ? 1 : g.kw;         // column groups per filter row
  const long ncol = a.dw == 1 ? g.kw * g.cin : g.cin;  // columns per group
  // wt[ky][group][co][col]: the filters transposed so that a group's columns are contiguous.
  std::vector<float> wt(g.kh * groups * g.cout * ncol);
  for (long ky = 0; ky < g.kh; ky++)
    for (long kx = 0; kx < g.kw; kx++)
      for (long ci = 0; ci < g.cin; ci++) {
        const long grp = a.dw == 1 ? 0 : kx, col = a.dw == 1 ? kx * g.cin + ci : ci;
        for (long co = 0; co < g.cout; co++)
          wt[((ky * groups + grp) * g.cout + co) * ncol + col] = w[((ky * g.kw + kx) * g.cin + ci) * g.cout + co];
      }
  const bool pad = has_padding(g);
  std::vector<float>& dxbuf = scratch(1);
  if (pad && dxbuf.size() < static_cast<size_t>(g.n * g.hp * g.wp * g.cin)) dxbuf.resize(g.n * g.hp * g.wp * g.cin);
  float* dxp = pad ? dxbuf.data() : dx;
  const long zero = 0;
  // Images are independent (rows of one image overlap through the taps): whole images per thread.
  pool().parallel_for(g.n, 1, [&](long s, long e) {
    for (long b = s; b < e; b++) {
      float* dimg = dxp + b * g.hp * g.wp * g.cin;
      std::memset(dimg, 0, sizeof(float) * g.hp * g.wp * g.cin);
      for (long oy = 0; oy < g.oh; oy++) {
        const float* dyrow = dy + ((b * g.oh + oy) * g.ow) * g.cout;
        column_blocks(ncol, [&](long c0, long cw, int v) {
          row_blocks(g.ow, kMaxRows[v], [&](long ox0, int rows) {
            for (long ky = 0; ky < g.kh; ky++)
              for (long grp = 0; grp < groups; grp++) {
                float* c = dimg + ((oy * a.sh + ky * a.dh) * g.wp + ox0 * a.sw + grp * a.dw) * g.cin + c0;
                Micro m{dyrow + ox0 * g.cout, g.cout, 1, g.cout, &zero, &zero, 1, wt.data() + (ky * groups + grp) * g.cout * ncol + c0,
                        ncol, c, a.sw * g.cin, lanes(cw - 16 * (v - 1)), true};
                run_micro(rows, v, m);
              }
          });
        });
      }
      if (pad)
        for (long yy = 0; yy < g.h; yy++)
          std::memcpy(dx + ((b * g.h + yy) * g.w) * g.cin, dimg + ((yy + a.pt) * g.wp + a.pl) * g.cin, sizeof(float) * g.w * g.cin);
    }
  });
}

void conv2d_backprop_filter_direct(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Shape& ws,
                                   const Conv2DAttrs& a, float* dw) {
  const Geo g = geo(xs, ws, dys[1], dys[2], a);
  const long wsize = g.kh * g.kw * g.cin * g.cout;
  // With dw == 1, one filter row's (kx, ci) pairs are contiguous in the input: kw·cin rows of C with stride 1.
  // Otherwise each kx is its own group of cin rows.
  const long groups = a.dw == 1 ? 1 : g.kw;
  const long grows = a.dw == 1 ? g.kw * g.cin : g.cin;
  const int threads = std::max(1, std::min<int>(get_threads(), static_cast<int>(g.n * g.oh)));
  // Each task sums a fixed range of output rows into its own double buffer, in chunks of about 256 pixels summed
  // in float registers (one register chain over all pixels would lose precision); buffers are added in task order.
  std::vector<std::vector<double>> partial(threads, std::vector<double>(wsize, 0.0));
  const long rows_total = g.n * g.oh, per = (rows_total + threads - 1) / threads;
  const long chunk_rows = std::max(1L, 256 / std::max(1L, g.ow));
  // With fewer than 32 filters, put a group's kx·ci columns on the vector lanes when there are more of them:
  // broadcasting dy and loading input vectors then takes far fewer loads per FMA than broadcasting every input
  // value. From 32 filters on, the filters fill two whole vectors, and the transposed form's scattered write-back
  // costs more than it saves (seed 000's 32→32 stride-2 layer: 1.3–1.5 vs 1.6–2.1 ms at one thread).
  const bool transposed = grows > g.cout && g.cout < 32;
  // Pixel groups (few filters, filters on the lanes): G pixels' gradients side by side on the lanes, against
  // U = (G − 1)·sw + kw input columns; each lane block d of a row u·cin + ci belongs to filter column u − d·sw.
  const int G = transposed ? 1 : pixel_group(g);
  const long U = (G - 1) * a.sw + g.kw, L = G * g.cout, grouped = G > 1 ? g.ow / G * G : 0;
  pool().run_tasks(threads, [&](int t) {
    const long r0 = t * per, r1 = std::min(rows_total, r0 + per);
    if (r0 >= r1) return;
    thread_local std::vector<float> local;
    std::vector<long> aoff(chunk_rows), boff(chunk_rows);
    float tile[28 * 64];
    double* part = partial[t].data();
    // Per image, the task pads the input rows it reads; then chunks of rows: a chunk's input and gradient rows
    // stay in cache while every filter block is summed.
    for (long seg = r0; seg < r1;) {
      const long b = seg / g.oh, oy0 = seg % g.oh, oy1 = std::min(g.oh, oy0 + (r1 - seg));
      long top = 0;
      const float* img = input_rows(x, g, b, oy0, oy1, top, local);
      for (long c = seg; c < seg + (oy1 - oy0); c += chunk_rows) {
        const long rows_here = std::min(chunk_rows, seg + (oy1 - oy0) - c);
        for (long ky = 0; ky < g.kh; ky++) {
          for (long r = c; r < c + rows_here; r++) {
            const long oy = r % g.oh;
            aoff[r - c] = (oy * a.sh + ky * a.dh - top) * g.wp * g.cin;
            boff[r - c] = r * g.ow * g.cout;
          }
          for (long grp = 0; grp < groups; grp++) {
            const long kxoff = grp * a.dw * g.cin;  // 0 when dw == 1 (one group)
            const long kbase = (ky * g.kw + (a.dw == 1 ? 0 : grp)) * g.cin;  // dW row of the group's first column
            if (G > 1) {
              row_blocks(U * g.cin, kMaxRows[1], [&](long q0, int rows) {
                Micro m{img + q0, 1, G * a.sw * g.cin, grouped / G, aoff.data(), boff.data(), rows_here, dy, L, tile, 64, lanes(L), false};
                run_micro(rows, 1, m);
                for (int q = 0; q < rows; q++) {
                  const long u = (q0 + q) / g.cin, ci = (q0 + q) % g.cin;
                  for (long d = 0; d < G; d++) {
                    const long kx = u - d * a.sw;
                    if (kx < 0 || kx >= g.kw) continue;
                    for (long co = 0; co < g.cout; co++) part[(kbase + kx * g.cin + ci) * g.cout + co] += tile[q * 64 + d * g.cout + co];
                  }
                }
              });
              // The pixels left over at the end of each row, one at a time.
              if (grouped < g.ow)
                row_blocks(grows, kMaxRows[1], [&](long q0, int rows) {
                  Micro m{img + grouped * a.sw * g.cin + q0, 1, a.sw * g.cin, g.ow - grouped, aoff.data(), boff.data(), rows_here,
                          dy + grouped * g.cout, g.cout, tile, 64, lanes(g.cout), false};
                  run_micro(rows, 1, m);
                  for (int q = 0; q < rows; q++)
                    for (long j = 0; j < g.cout; j++) part[(kbase + q0 + q) * g.cout + j] += tile[q * 64 + j];
                });
            } else if (!transposed) {
              // Lanes = filters: C[q][co], A = the input (rows q, consecutive floats), B = dy rows.
              column_blocks(g.cout, [&](long c0, long cw, int v) {
                row_blocks(grows, kMaxRows[v], [&](long q0, int rows) {
                  Micro m{img + kxoff + q0, 1, a.sw * g.cin, g.ow, aoff.data(), boff.data(), rows_here, dy + c0, g.cout, tile, 64,
                          lanes(cw - 16 * (v - 1)), false};
                  run_micro(rows, v, m);
                  for (int q = 0; q < rows; q++)
                    for (long j = 0; j < cw; j++) part[(kbase + q0 + q) * g.cout + c0 + j] += tile[q * 64 + j];
                });
              });
            } else {
              // Lanes = the group's (kx, ci) columns: C[co][q], A = dy (rows co), B = input rows.
              column_blocks(grows, [&](long q0, long qw, int v) {
                row_blocks(g.cout, kMaxRows[v], [&](long c0, int rows) {
                  Micro m{dy + c0, 1, g.cout, g.ow, boff.data(), aoff.data(), rows_here, img + kxoff + q0, a.sw * g.cin, tile, 64,
                          lanes(qw - 16 * (v - 1)), false};
                  run_micro(rows, v, m);
                  for (int co = 0; co < rows; co++)
                    for (long j = 0; j < qw; j++) part[(kbase + q0 + j) * g.cout + c0 + co] += tile[co * 64 + j];
                });
              });
            }
          }
        }
      }
      seg += oy1 - oy0;
    }
  });
  for (long i = 0; i < wsize; i++) {
    double sum = 0;
    for (int t = 0; t < threads; t++) sum += partial[t][i];
    dw[i] = static_cast<float>(sum);
  }
}

bool gemm_narrow(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb, float* C,
                 long ldc, bool accumulate) {
  if (!direct_conv_available() || n > 16 || m < 16 || k < 16) return false;
  // C[i][·] (+)= Σ_t A(i, t)·B(t, ·) with the n ≤ 16 columns on one vector and rows of A broadcast: the classifier
  // layers (n = 10), which the packed GEMM pads to a whole register block of columns.
  std::vector<float> bt;
  if (transB) {
    bt.resize(k * n);
    for (long j = 0; j < n; j++)
      for (long t = 0; t < k; t++) bt[t * n + j] = B[j * ldb + t];
    B = bt.data();
    ldb = n;
  }
  const long as = transA ? 1 : lda, at = transA ? lda : 1;
  const long zero = 0;
  parallel_chunks(m, 32, [&](long s, long e) {
    row_blocks(e - s, kMaxRows[1], [&](long i0, int rows) {
      i0 += s;
      Micro mk{A + i0 * as, as, at, k, &zero, &zero, 1, B, ldb, C + i0 * ldc, ldc, lanes(n), accumulate};
      run_micro(rows, 1, mk);
    });
  });
  return true;
}

#else
bool direct_conv_available() { return false; }
bool gemm_narrow(bool, bool, long, long, long, const float*, long, const float*, long, float*, long, bool) { return false; }
void conv2d_direct(const float*, const Shape&, const float*, const Shape&, const Conv2DAttrs&, float*, const Shape&, const Epilogue&) {}
void conv2d_backprop_input_direct(const float*, const Shape&, const float*, const Shape&, const Shape&, const Conv2DAttrs&, float*) {}
void conv2d_backprop_filter_direct(const float*, const Shape&, const float*, const Shape&, const Shape&, const Conv2DAttrs&, float*) {}
#endif

}  // namespace convlab
