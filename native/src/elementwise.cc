// Elementwise, reduction and data-movement kernels. Large arrays are split across the thread pool.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "binding.h"
#include "kernels.h"
#include "threadpool.h"

namespace convlab {

namespace {
constexpr long GRAIN = 1 << 15;

template <class F>
void par(long n, F f) {
  parallel_chunks(n, GRAIN, f);
}

std::vector<long> strides_of(const Shape& s) {
  std::vector<long> st(s.size());
  long acc = 1;
  for (long i = static_cast<long>(s.size()) - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// Strides of `shape` seen broadcast into `out` (0 where a dimension is broadcast).
std::vector<long> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<long> st = strides_of(shape), res(out.size(), 0);
  const long off = static_cast<long>(out.size() - shape.size());
  for (size_t i = 0; i < shape.size(); i++) res[off + i] = (shape[i] == 1 && out[off + i] != 1) ? 0 : st[i];
  return res;
}

// Copies x read at offset + Σ idx[d]·strides[d] into a contiguous array of shape out_shape.
void gather(const float* x, long offset, const std::vector<long>& strides, const Shape& out_shape, float* out) {
  const long n = size_of(out_shape);
  if (n == 0) return;
  const long rank = static_cast<long>(out_shape.size());
  if (rank == 0) {
    out[0] = x[offset];
    return;
  }
  const long inner = out_shape[rank - 1], sl = strides[rank - 1];
  const long rows = n / inner;
  auto body = [&](long r0, long r1) {
    // Position of row r0 in the source.
    std::vector<long> idx(rank, 0);
    long base = offset, rem = r0;
    for (long d = rank - 2; d >= 0; d--) {
      idx[d] = rem % out_shape[d];
      rem /= out_shape[d];
      base += idx[d] * strides[d];
    }
    for (long r = r0; r < r1; r++) {
      float* o = out + r * inner;
      if (sl == 1) std::memcpy(o, x + base, sizeof(float) * inner);
      else for (long j = 0; j < inner; j++) o[j] = x[base + j * sl];
      for (long d = rank - 2; d >= 0; d--) {
        idx[d]++;
        base += strides[d];
        if (idx[d] < out_shape[d]) break;
        base -= strides[d] * out_shape[d];
        idx[d] = 0;
      }
    }
  };
  if (n < 2 * GRAIN) body(0, rows);
  else pool().parallel_for(rows, std::max<long>(1, GRAIN / inner), body);
}

template <class F>
void binary_loop(F f, const float* a, const Shape& as, const float* b, const Shape& bs, float* out, const Shape& os) {
  const long n = size_of(os), na = size_of(as), nb = size_of(bs);
  if (na == n && nb == n) {
    par(n, [&](long s, long e) { for (long i = s; i < e; i++) out[i] = f(a[i], b[i]); });
    return;
  }
  if (na == n && nb == 1) {
    const float v = b[0];
    par(n, [&](long s, long e) { for (long i = s; i < e; i++) out[i] = f(a[i], v); });
    return;
  }
  if (nb == n && na == 1) {
    const float v = a[0];
    par(n, [&](long s, long e) { for (long i = s; i < e; i++) out[i] = f(v, b[i]); });
    return;
  }
  // b repeating along the leading dimensions (bias add): [.., C] against [N, .., C].
  {
    Shape t = bs;
    while (!t.empty() && t[0] == 1) t.erase(t.begin());
    bool trailing = na == n && t.size() <= os.size();
    for (size_t i = 0; trailing && i < t.size(); i++) trailing = t[i] == os[os.size() - t.size() + i];
    if (trailing && nb > 0) {
      par(n / nb, [&](long s, long e) {
        for (long r = s; r < e; r++)
          for (long j = 0; j < nb; j++) out[r * nb + j] = f(a[r * nb + j], b[j]);
      });
      return;
    }
  }
  const long rank = static_cast<long>(os.size());
  std::vector<long> sa = broadcast_strides(as, os), sb = broadcast_strides(bs, os);
  const long inner = os[rank - 1];
  std::vector<long> idx(rank, 0);
  long ia = 0, ib = 0;
  for (long o = 0; o < n; o += inner) {
    long pa = ia, pb = ib;
    for (long j = 0; j < inner; j++, pa += sa[rank - 1], pb += sb[rank - 1]) out[o + j] = f(a[pa], b[pb]);
    for (long d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < os[d]) break;
      ia -= sa[d] * os[d];
      ib -= sb[d] * os[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

long size_of(const Shape& s) {
  long n = 1;
  for (long d : s) n *= d;
  return n;
}

void unary(Unary op, const float* x, float* y, long n) {
  par(n, [&](long s, long e) {
    switch (op) {
      case Unary::Neg: for (long i = s; i < e; i++) y[i] = -x[i]; break;
      case Unary::Exp: for (long i = s; i < e; i++) y[i] = std::exp(x[i]); break;
      case Unary::Log: for (long i = s; i < e; i++) y[i] = std::log(x[i]); break;
      case Unary::Sqrt: for (long i = s; i < e; i++) y[i] = std::sqrt(x[i]); break;
      case Unary::Sin: for (long i = s; i < e; i++) y[i] = std::sin(x[i]); break;
      case Unary::Cos: for (long i = s; i < e; i++) y[i] = std::cos(x[i]); break;
      case Unary::Tanh: for (long i = s; i < e; i++) y[i] = std::tanh(x[i]); break;
      case Unary::Sigmoid:
        for (long i = s; i < e; i++) {
          const float v = x[i];
          if (v >= 0) y[i] = 1.f / (1.f + std::exp(-v));
          else { const float t = std::exp(v); y[i] = t / (1.f + t); }
        }
        break;
      case Unary::Relu: for (long i = s; i < e; i++) y[i] = x[i] > 0.f ? x[i] : 0.f; break;
      case Unary::Abs: for (long i = s; i < e; i++) y[i] = std::fabs(x[i]); break;
      case Unary::Sign: for (long i = s; i < e; i++) y[i] = x[i] > 0.f ? 1.f : (x[i] < 0.f ? -1.f : 0.f); break;
      case Unary::Step: for (long i = s; i < e; i++) y[i] = x[i] > 0.f ? 1.f : 0.f; break;
      case Unary::Erf: for (long i = s; i < e; i++) y[i] = std::erf(x[i]); break;
    }
  });
}

void binary(Binary op, const float* a, const Shape& as, const float* b, const Shape& bs, float* out, const Shape& os) {
  switch (op) {
    case Binary::Add: return binary_loop([](float x, float y) { return x + y; }, a, as, b, bs, out, os);
    case Binary::Sub: return binary_loop([](float x, float y) { return x - y; }, a, as, b, bs, out, os);
    case Binary::Mul: return binary_loop([](float x, float y) { return x * y; }, a, as, b, bs, out, os);
    case Binary::Div: return binary_loop([](float x, float y) { return x / y; }, a, as, b, bs, out, os);
    case Binary::Pow: return binary_loop([](float x, float y) { return std::pow(x, y); }, a, as, b, bs, out, os);
    case Binary::Maximum: return binary_loop([](float x, float y) { return (x >= y || std::isnan(x)) ? x : y; }, a, as, b, bs, out, os);
    case Binary::Minimum: return binary_loop([](float x, float y) { return (x <= y || std::isnan(x)) ? x : y; }, a, as, b, bs, out, os);
    case Binary::Greater: return binary_loop([](float x, float y) { return x > y ? 1.f : 0.f; }, a, as, b, bs, out, os);
    case Binary::GreaterEqual: return binary_loop([](float x, float y) { return x >= y ? 1.f : 0.f; }, a, as, b, bs, out, os);
    case Binary::Equal: return binary_loop([](float x, float y) { return x == y ? 1.f : 0.f; }, a, as, b, bs, out, os);
  }
}

// y = act(x + bias) over a flat run [s, e) whose first element is channel s % c. The bias is tiled into a block
// of whole channel cycles so the inner loop is a flat, vectorizable loop for any channel count.
static void bias_act_run(const float* __restrict x, float* __restrict y, long s, long e, long c,
                         const float* __restrict tile, long tlen, float slope) {
  long i = s;
  long phase = s % tlen;
  while (i < e) {
    const long len = std::min(e - i, tlen - phase);
    const float* __restrict bt = tile + phase;
    const float* __restrict xi = x + i;
    float* __restrict yi = y + i;
    // max(v, 0) + slope·min(v, 0): ReLU (slope 0), leaky ReLU, or linear (slope 1), without a branch.
    for (long j = 0; j < len; j++) {
      const float v = xi[j] + bt[j];
      yi[j] = std::max(v, 0.f) + slope * std::min(v, 0.f);
    }
    i += len;
    phase = 0;
  }
}

void bias_activation(const float* x, long rows, long c, const float* bias, float slope, float* y) {
  const long reps = std::max(1L, 256 / std::max(1L, c));
  std::vector<float> tile(reps * c, 0.f);
  if (bias)
    for (long r = 0; r < reps; r++) std::memcpy(tile.data() + r * c, bias, sizeof(float) * c);
  par(rows * c, [&](long s, long e) { bias_act_run(x, y, s, e, c, tile.data(), reps * c, slope); });
}

// dy where y > 0, else dy·slope. Written as arithmetic on a 0/1 mask so the compiler emits vector compares: a
// select or branch is not if-converted here, and a ReLU's random sign pattern then mispredicts half the time
// (6 ns an element instead of well under 1).
static void relu_mask(const float* __restrict g, const float* __restrict y, float* __restrict d, long n, float slope) {
  const float lift = 1.f - slope;
  for (long j = 0; j < n; j++) {
    const float pos = static_cast<float>(y[j] > 0.f);
    d[j] = g[j] * (slope + lift * pos);
  }
}

namespace {
// out[j] += Σ over rows of x[r·c + j]. Whole blocks of 16 rows are 16·c floats, a whole number of vectors: summed
// block by block into one block-sized accumulator, that is c independent vector sums, where a row-by-row sum
// would wait on one add chain per vector.
void add_channel_sums(const float* x, long rows, long c, float* out) {
  const long block = 16 * c, blocks = rows / 16;
  thread_local std::vector<float> acc;
  acc.assign(block, 0.f);
  float* __restrict a = acc.data();
  for (long b = 0; b < blocks; b++) {
    const float* __restrict p = x + b * block;
    for (long j = 0; j < block; j++) a[j] += p[j];
  }
  for (long j = 0; j < block; j++) out[j % c] += a[j];
  for (long r = blocks * 16; r < rows; r++)
    for (long j = 0; j < c; j++) out[j] += x[r * c + j];
}
}  // namespace

void bias_activation_grad(const float* dy, const float* y, long rows, long c, float slope, float* dx, float* db) {
  // Fixed row ranges per task and a fixed summation order keep the bias gradient deterministic.
  const int tasks = std::max(1, std::min<int>(get_threads(), static_cast<int>(rows * c / GRAIN)));
  const long per = (rows + tasks - 1) / tasks;
  std::vector<std::vector<double>> partial(db ? tasks : 0);
  pool().run_tasks(tasks, [&](int t) {
    // Each task sums into its own local array, written out once: adjacent partial sums updated row by row from
    // two threads would share cache lines.
    std::vector<double> acc(db ? c : 0, 0.0);
    std::vector<float> block(db ? c : 0);
    const long r0 = t * per, r1 = std::min(rows, (t + 1) * per);
    if (r0 >= r1) return;
    // Blocks of ~16 KB: the mask is applied and the block summed while it is still in L1; each block's float sums
    // go into double accumulators.
    const long step = std::max(1L, 4096 / std::max(1L, c));
    for (long b0 = r0; b0 < r1; b0 += step) {
      const long b1 = std::min(r1, b0 + step);
      if (slope != 1.f) relu_mask(dy + b0 * c, y + b0 * c, dx + b0 * c, (b1 - b0) * c, slope);
      else std::memcpy(dx + b0 * c, dy + b0 * c, sizeof(float) * (b1 - b0) * c);
      if (!db) continue;
      std::fill(block.begin(), block.end(), 0.f);
      add_channel_sums(dx + b0 * c, b1 - b0, c, block.data());
      for (long j = 0; j < c; j++) acc[j] += block[j];
    }
    if (db) partial[t] = std::move(acc);
  });
  if (!db) return;
  for (long j = 0; j < c; j++) {
    double s = 0;
    for (int t = 0; t < tasks; t++) s += partial[t][j];
    db[j] = static_cast<float>(s);
  }
}

namespace {
// Per-channel sums over rows, split across threads by fixed row ranges and combined in a fixed order.
template <class F>
void channel_sums(long rows, long c, int lanes, F row_fn, std::vector<double>& out) {
  const int tasks = std::max(1, std::min<int>(get_threads(), static_cast<int>(rows * c / GRAIN)));
  const long per = (rows + tasks - 1) / tasks;
  std::vector<std::vector<double>> partial(tasks);
  pool().run_tasks(tasks, [&](int t) {
    std::vector<double> acc(lanes * c, 0.0);
    for (long r = t * per; r < std::min(rows, (t + 1) * per); r++) row_fn(r, acc.data());
    partial[t] = std::move(acc);
  });
  out.assign(lanes * c, 0.0);
  for (int t = 0; t < tasks; t++)
    for (long j = 0; j < lanes * c; j++) out[j] += partial[t][j];
}
}  // namespace

void batch_norm(const float* x, long rows, long c, const float* gamma, const float* beta, float eps, float* y,
                float* mean, float* variance) {
  std::vector<double> sums;
  channel_sums(rows, c, 1, [&](long r, double* acc) {
    const float* xr = x + r * c;
    for (long j = 0; j < c; j++) acc[j] += xr[j];
  }, sums);
  for (long j = 0; j < c; j++) mean[j] = static_cast<float>(sums[j] / rows);
  channel_sums(rows, c, 1, [&](long r, double* acc) {
    const float* xr = x + r * c;
    for (long j = 0; j < c; j++) { const double d = xr[j] - mean[j]; acc[j] += d * d; }
  }, sums);
  std::vector<float> scale(c), shift(c);
  for (long j = 0; j < c; j++) {
    variance[j] = static_cast<float>(sums[j] / rows);
    scale[j] = static_cast<float>((gamma ? gamma[j] : 1.0) / std::sqrt(static_cast<double>(variance[j]) + eps));
    shift[j] = beta ? beta[j] : 0.f;
  }
  pool().parallel_for(rows, std::max<long>(1, GRAIN / std::max<long>(1, c)), [&](long s, long e) {
    for (long r = s; r < e; r++) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      for (long j = 0; j < c; j++) yr[j] = (xr[j] - mean[j]) * scale[j] + shift[j];
    }
  });
}

void batch_norm_grad(const float* dy, const float* x, long rows, long c, const float* mean, const float* variance,
                     const float* gamma, float eps, float* dx, float* dgamma, float* dbeta) {
  std::vector<double> inv(c);
  for (long j = 0; j < c; j++) inv[j] = 1.0 / std::sqrt(static_cast<double>(variance[j]) + eps);
  // Lanes: Σdy in [0, c), Σdy·x̂ in [c, 2c).
  std::vector<double> sums;
  channel_sums(rows, c, 2, [&](long r, double* acc) {
    const float* g = dy + r * c;
    const float* xr = x + r * c;
    for (long j = 0; j < c; j++) {
      acc[j] += g[j];
      acc[c + j] += g[j] * (xr[j] - mean[j]) * inv[j];
    }
  }, sums);
  std::vector<float> k(c), sdy(c), sxh(c), invf(c);
  for (long j = 0; j < c; j++) {
    dbeta[j] = static_cast<float>(sums[j]);
    dgamma[j] = static_cast<float>(sums[c + j]);
    k[j] = static_cast<float>((gamma ? gamma[j] : 1.0) * inv[j] / rows);
    sdy[j] = static_cast<float>(sums[j]);
    sxh[j] = static_cast<float>(sums[c + j]);
    invf[j] = static_cast<float>(inv[j]);
  }
  // dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)).
  const float n = static_cast<float>(rows);
  pool().parallel_for(rows, std::max<long>(1, GRAIN / std::max<long>(1, c)), [&](long s, long e) {
    for (long r = s; r < e; r++) {
      const float* g = dy + r * c;
      const float* xr = x + r * c;
      float* d = dx + r * c;
      for (long j = 0; j < c; j++) d[j] = k[j] * (n * g[j] - sdy[j] - (xr[j] - mean[j]) * invf[j] * sxh[j]);
    }
  });
}

void reduce(bool max, const float* x, const Shape& shape, const std::vector<long>& axes, float* out) {
  if (axes.empty()) {
    std::memcpy(out, x, sizeof(float) * size_of(shape));
    return;
  }
  bool contiguous = true;
  for (size_t i = 1; i < axes.size(); i++) contiguous = contiguous && axes[i] == axes[i - 1] + 1;
  std::vector<float> moved;
  long outer, red, inner;
  if (!contiguous) {
    std::vector<long> perm;
    Shape keptShape, redShape;
    for (long d = 0; d < static_cast<long>(shape.size()); d++)
      if (std::find(axes.begin(), axes.end(), d) == axes.end()) { perm.push_back(d); keptShape.push_back(shape[d]); }
    for (long d : axes) { perm.push_back(d); redShape.push_back(shape[d]); }
    moved.resize(size_of(shape));
    permute(x, shape, perm, moved.data());
    x = moved.data();
    outer = size_of(keptShape);
    red = size_of(redShape);
    inner = 1;
  } else {
    outer = 1;
    red = 1;
    inner = 1;
    for (long d = 0; d < axes.front(); d++) outer *= shape[d];
    for (long d = axes.front(); d <= axes.back(); d++) red *= shape[d];
    for (long d = axes.back() + 1; d < static_cast<long>(shape.size()); d++) inner *= shape[d];
  }
  // Sums accumulate in double, like the TypeScript backend.
  if (inner == 1) {
    pool().parallel_for(outer, std::max<long>(1, GRAIN / std::max<long>(1, red)), [&](long s, long e) {
      for (long o = s; o < e; o++) {
        const float* xo = x + o * red;
        if (max) {
          float m = -INFINITY;
          for (long r = 0; r < red; r++) if (xo[r] > m || std::isnan(xo[r])) m = xo[r];
          out[o] = m;
        } else {
          double acc = 0;
          for (long r = 0; r < red; r++) acc += xo[r];
          out[o] = static_cast<float>(acc);
        }
      }
    });
    return;
  }
  pool().parallel_for(outer * inner, std::max<long>(1, GRAIN / std::max<long>(1, red)), [&](long s, long e) {
    std::vector<double> acc;
    for (long t = s; t < e;) {
      const long o = t / inner, i0 = t % inner, i1 = std::min(inner, i0 + (e - t));
      const float* xo = x + o * red * inner;
      float* oo = out + o * inner;
      if (max) {
        for (long i = i0; i < i1; i++) oo[i] = -INFINITY;
        for (long r = 0; r < red; r++)
          for (long i = i0; i < i1; i++) { const float v = xo[r * inner + i]; if (v > oo[i] || std::isnan(v)) oo[i] = v; }
      } else {
        acc.assign(i1 - i0, 0.0);
        for (long r = 0; r < red; r++)
          for (long i = i0; i < i1; i++) acc[i - i0] += xo[r * inner + i];
        for (long i = i0; i < i1; i++) oo[i] = static_cast<float>(acc[i - i0]);
      }
      t += i1 - i0;
    }
  });
}

void permute(const float* x, const Shape& shape, const std::vector<long>& perm, float* out) {
  std::vector<long> st = strides_of(shape), ps(perm.size());
  Shape os(perm.size());
  for (size_t i = 0; i < perm.size(); i++) { ps[i] = st[perm[i]]; os[i] = shape[perm[i]]; }
  gather(x, 0, ps, os, out);
}

void broadcast_to(const float* x, const Shape& shape, const Shape& out_shape, float* out) {
  gather(x, 0, broadcast_strides(shape, out_shape), out_shape, out);
}

void slice(const float* x, const Shape& shape, const std::vector<long>& begin, const Shape& size, float* out) {
  std::vector<long> st = strides_of(shape);
  long offset = 0;
  for (size_t d = 0; d < shape.size(); d++) offset += begin[d] * st[d];
  gather(x, offset, st, size, out);
}

void pad(const float* x, const Shape& shape, const std::vector<long>& pads, float* out) {
  const long rank = static_cast<long>(shape.size());
  Shape os(rank);
  for (long d = 0; d < rank; d++) os[d] = shape[d] + pads[2 * d] + pads[2 * d + 1];
  std::memset(out, 0, sizeof(float) * size_of(os));
  const long n = size_of(shape);
  if (n == 0) return;
  if (rank == 0) { out[0] = x[0]; return; }
  std::vector<long> ost = strides_of(os);
  const long inner = shape[rank - 1];
  std::vector<long> idx(rank, 0);
  long base = 0;
  for (long d = 0; d < rank; d++) base += pads[2 * d] * ost[d];
  for (long i = 0; i < n; i += inner) {
    std::memcpy(out + base, x + i, sizeof(float) * inner);
    for (long d = rank - 2; d >= 0; d--) {
      idx[d]++;
      base += ost[d];
      if (idx[d] < shape[d]) break;
      base -= ost[d] * shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace convlab

// Bindings (see binding.h): outputs first, then the contract's arguments.
using namespace convlab;

// unary(out | op, x)
KERNEL(JsUnary, "unary", 3, {
  size_t n;
  const float* x = a.f32_any(2, "x", &n);
  const Unary op = static_cast<Unary>(a.pick(1, "op", kUnaryNames));
  unary(op, x, a.f32(0, "out", static_cast<long>(n), "x"), static_cast<long>(n));
})
// binary(out | op, a, aShape, b, bShape, outShape)
KERNEL(JsBinary, "binary", 7, {
  const Binary op = static_cast<Binary>(a.pick(1, "op", kBinaryNames));
  const Shape as = a.shape(3, "aShape"), bs = a.shape(5, "bShape"), os = a.shape(6, "outShape");
  a.broadcastable(as, os, "aShape");
  a.broadcastable(bs, os, "bShape");
  binary(op, a.f32(2, "a", size_of(as)), as, a.f32(4, "b", size_of(bs)), bs, a.f32(0, "out", size_of(os)), os);
})
// biasActivation(out | x, shape, bias, act, alpha)
KERNEL(JsBiasActivation, "biasActivation", 5, {
  const Shape s = a.shape(2, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  bias_activation(a.f32(1, "x", n, "shape"), n / c, c, a.opt_f32(3, "bias", c), a.slope(4, 5), a.f32(0, "out", n, "shape"));
})
// biasActivationGrad(dx, db | dy, y, shape, act, alpha, withBias)
KERNEL(JsBiasActivationGrad, "biasActivationGrad", 8, {
  const Shape s = a.shape(4, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  bias_activation_grad(a.f32(2, "dy", n, "shape"), a.f32(3, "y", n, "shape"), n / c, c, a.slope(5, 6), a.f32(0, "dx", n, "shape"),
                       a.opt_f32(1, "db", c, "the last dimension"));
})
// batchNorm(y, mean, variance | x, shape, gamma, beta, eps)
KERNEL(JsBatchNorm, "batchNorm", 8, {
  const Shape s = a.shape(4, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  batch_norm(a.f32(3, "x", n, "shape"), n / c, c, a.opt_f32(5, "gamma", c), a.opt_f32(6, "beta", c), static_cast<float>(a.f64(7, "eps")),
             a.f32(0, "y", n, "shape"), a.f32(1, "mean", c), a.f32(2, "variance", c));
})
// batchNormGrad(dx, dgamma, dbeta | dy, x, shape, mean, variance, gamma, eps)
KERNEL(JsBatchNormGrad, "batchNormGrad", 10, {
  const Shape s = a.shape(5, "shape");
  const long n = size_of(s), c = a.last(s, "shape");
  batch_norm_grad(a.f32(3, "dy", n, "shape"), a.f32(4, "x", n, "shape"), n / c, c, a.f32(6, "mean", c), a.f32(7, "variance", c),
                  a.opt_f32(8, "gamma", c), static_cast<float>(a.f64(9, "eps")), a.f32(0, "dx", n, "shape"), a.f32(1, "dgamma", c),
                  a.f32(2, "dbeta", c));
})
// reduce(out | op, x, shape, axes)
KERNEL(JsReduce, "reduce", 5, {
  static const char* const ops[] = {"sum", "max"};
  const bool max = a.pick(1, "op", ops) == 1;
  const Shape s = a.shape(3, "shape");
  const std::vector<long> axes = a.ints(4, "axes");
  std::vector<bool> seen(s.size(), false);
  long kept = 1;
  for (long ax : axes) {
    if (ax < 0 || ax >= static_cast<long>(s.size()) || seen[ax])
      a.fail("axes", "expected distinct axes in 0.." + std::to_string(static_cast<long>(s.size()) - 1));
    seen[ax] = true;
  }
  for (size_t d = 0; d < s.size(); d++)
    if (!seen[d]) kept *= s[d];
  reduce(max, a.f32(2, "x", size_of(s)), s, axes, a.f32(0, "out", kept));
})
// permute(out | x, shape, perm)
KERNEL(JsPermute, "permute", 4, {
  const Shape s = a.shape(2, "shape");
  const std::vector<long> perm = a.ints(3, "perm");
  std::vector<bool> seen(s.size(), false);
  if (perm.size() != s.size()) a.fail("perm", "expected " + std::to_string(s.size()) + " axes");
  for (long p : perm) {
    if (p < 0 || p >= static_cast<long>(s.size()) || seen[p])
      a.fail("perm", "not a permutation of 0.." + std::to_string(static_cast<long>(s.size()) - 1));
    seen[p] = true;
  }
  permute(a.f32(1, "x", size_of(s)), s, perm, a.f32(0, "out", size_of(s)));
})
// broadcastTo(out | x, shape, outShape)
KERNEL(JsBroadcastTo, "broadcastTo", 4, {
  const Shape s = a.shape(2, "shape"), os = a.shape(3, "outShape");
  a.broadcastable(s, os, "shape");
  broadcast_to(a.f32(1, "x", size_of(s)), s, os, a.f32(0, "out", size_of(os)));
})
// slice(out | x, shape, begin, size)
KERNEL(JsSlice, "slice", 5, {
  const Shape s = a.shape(2, "shape");
  const std::vector<long> begin = a.ints(3, "begin");
  const Shape size = a.shape(4, "size", static_cast<long>(s.size()));
  if (begin.size() != s.size()) a.fail("begin", "expected " + std::to_string(s.size()) + " values");
  for (size_t d = 0; d < s.size(); d++)
    if (begin[d] < 0 || begin[d] + size[d] > s[d]) a.fail("begin", "the slice " + dims(begin) + " + " + dims(size) + " leaves " + dims(s));
  slice(a.f32(1, "x", size_of(s)), s, begin, size, a.f32(0, "out", size_of(size)));
})
// pad(out | x, shape, pads [[before, after], ...])
KERNEL(JsPad, "pad", 4, {
  const Shape s = a.shape(2, "shape");
  const std::vector<long> pads = a.pairs(3, "pads");
  if (pads.size() != 2 * s.size()) a.fail("pads", "expected one [before, after] pair per dimension");
  Shape os(s.size());
  for (size_t d = 0; d < s.size(); d++) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0) a.fail("pads", "must be ≥ 0");
    os[d] = s[d] + pads[2 * d] + pads[2 * d + 1];
  }
  pad(a.f32(1, "x", size_of(s)), s, pads, a.f32(0, "out", size_of(os)));
})
