// GEMM after BLIS: B is packed into NR-wide column strips and A into MR-tall row strips, so the micro-kernel
// streams both from contiguous memory and keeps an MR×NR block of C in registers. The micro-kernel is picked at
// run time (AVX-512, AVX2+FMA, or portable C++), so one build runs on any x86-64 and the portable path on arm64.
#include "binding.h"
#include "gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CONVLAB_X86 1
#endif

namespace convlab {

namespace {

// Blocking, after BLIS with the operands' roles swapped: our micro-kernel broadcasts A and loads B as vectors.
// One MR-tall strip of packed A (at most 12 × 512 floats, 24 KiB) stays in L1 while the kernel walks the NR-wide
// strips of an L2-sized group of packed B; C is walked along its rows, which the hardware prefetches well.
constexpr long KC = 512;                // most depth of one packed panel; the depth is split into equal panels
constexpr long A_CHUNK = 2 << 20;       // bytes of packed A per thread at once (rows × depth)
constexpr long B_GROUP = 768 << 10;     // bytes of packed B walked per A strip: about a third of L2

using Kernel = void (*)(long kc, const float* a, const float* b, float* c, long ldc, bool accumulate);

struct Isa {
  const char* name;
  long mr, nr;
  Kernel kernel;
};

void kernel_portable(long kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  constexpr int MR = 4, NR = 16;
  float acc[MR][NR] = {};
  for (long p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++) {
      const float av = a[p * MR + r];
      for (int j = 0; j < NR; j++) acc[r][j] += av * b[p * NR + j];
    }
  }
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

#ifdef CONVLAB_X86
__attribute__((target("avx2,fma"))) void kernel_avx2(long kc, const float* a, const float* b, float* c, long ldc,
                                                     bool accumulate) {
  constexpr int MR = 6;
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 8), _MM_HINT_T0);
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b + p * 16), b1 = _mm256_loadu_ps(b + p * 16 + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const __m256 av = _mm256_broadcast_ss(a + p * MR + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
      acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
    }
    _mm256_storeu_ps(cr, acc[r][0]);
    _mm256_storeu_ps(cr + 8, acc[r][1]);
  }
}

__attribute__((target("avx512f"))) void kernel_avx512(long kc, const float* a, const float* b, float* c, long ldc,
                                                      bool accumulate) {
  constexpr int MR = 12;
  __m512 acc[MR][2];
  // C's tile is read at the end; asking for it now hides the miss behind the whole depth loop.
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b + p * 32), b1 = _mm512_loadu_ps(b + p * 32 + 16);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
      const __m512 av = _mm512_set1_ps(a[p * MR + r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(cr));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(cr + 16));
    }
    _mm512_storeu_ps(cr, acc[r][0]);
    _mm512_storeu_ps(cr + 16, acc[r][1]);
  }
}

// For narrow products (n ≤ 16, e.g. convolutions with few filters): one vector per row, 16 rows.
__attribute__((target("avx512f"))) void kernel_avx512_narrow(long kc, const float* a, const float* b, float* c, long ldc,
                                                             bool accumulate) {
  constexpr int MR = 16;
  __m512 acc[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) acc[r] = _mm512_setzero_ps();
  for (long p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(b + p * 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[p * MR + r]), b0, acc[r]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate) acc[r] = _mm512_add_ps(acc[r], _mm512_loadu_ps(cr));
    _mm512_storeu_ps(cr, acc[r]);
  }
}

// For narrow products on AVX2: 8 rows of two vectors would waste half; one vector per row, 12 rows.
__attribute__((target("avx2,fma"))) void kernel_avx2_narrow(long kc, const float* a, const float* b, float* c, long ldc,
                                                            bool accumulate) {
  constexpr int MR = 12;
  __m256 acc[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b + p * 8);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p * MR + r), b0, acc[r]);
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate) acc[r] = _mm256_add_ps(acc[r], _mm256_loadu_ps(cr));
    _mm256_storeu_ps(cr, acc[r]);
  }
}
#endif

void kernel_portable_narrow(long kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  constexpr int MR = 8, NR = 8;
  float acc[MR][NR] = {};
  for (long p = 0; p < kc; p++)
    for (int r = 0; r < MR; r++) {
      const float av = a[p * MR + r];
      for (int j = 0; j < NR; j++) acc[r][j] += av * b[p * NR + j];
    }
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

struct IsaPair {
  Isa wide, narrow;
};

IsaPair detect() {
#ifdef CONVLAB_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {{"avx512", 12, 32, kernel_avx512}, {"avx512", 16, 16, kernel_avx512_narrow}};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {{"avx2", 6, 16, kernel_avx2}, {"avx2", 12, 8, kernel_avx2_narrow}};
#endif
  return {{"portable", 4, 16, kernel_portable}, {"portable", 8, 8, kernel_portable_narrow}};
}

const IsaPair& isas() {
  static const IsaPair chosen = detect();
  return chosen;
}

// The narrow kernel when the product has at most its width in columns, where the wide one would mostly pad.
const Isa& isa_for(long n) {
  const IsaPair& p = isas();
  return n <= p.narrow.nr ? p.narrow : p.wide;
}

inline float at(const float* X, long ld, bool trans, long r, long c) { return trans ? X[c * ld + r] : X[r * ld + c]; }

// Packs rows [i0, i0+mc) × depth [p0, p0+kc) of op(A) into MR-tall strips, zero-padding the last strip.
void pack_a(const float* A, long lda, bool transA, long i0, long mc, long p0, long kc, long mr, float* out) {
  for (long s = 0; s < mc; s += mr) {
    const long rows = std::min(mr, mc - s);
    for (long p = 0; p < kc; p++) {
      float* dst = out + s * kc + p * mr;
      long r = 0;
      if (!transA) {
        for (; r < rows; r++) dst[r] = A[(i0 + s + r) * lda + p0 + p];
      } else {
        const float* src = A + (p0 + p) * lda + i0 + s;
        for (; r < rows; r++) dst[r] = src[r];
      }
      for (; r < mr; r++) dst[r] = 0.f;
    }
  }
}

// Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into NR-wide strips, zero-padding the last strip.
void pack_b(const float* B, long ldb, bool transB, long p0, long kc, long j0, long nc, long nr, float* out, long s0,
            long s1) {
  for (long s = s0; s < s1; s += nr) {
    const long cols = std::min(nr, nc - s);
    float* base = out + s * kc;
    for (long p = 0; p < kc; p++) {
      float* dst = base + p * nr;
      long j = 0;
      if (!transB) {
        const float* src = B + (p0 + p) * ldb + j0 + s;
        for (; j < cols; j++) dst[j] = src[j];
      } else {
        for (; j < cols; j++) dst[j] = B[(j0 + s + j) * ldb + p0 + p];
      }
      for (; j < nr; j++) dst[j] = 0.f;
    }
  }
}

// Runs the micro-kernel over one packed A strip and one packed B strip, handling partial tiles via a scratch tile.
inline void tile(const Isa& k, long kc, const float* ap, const float* bp, float* C, long ldc, long rows, long cols,
                 bool accumulate) {
  if (rows == k.mr && cols == k.nr) {
    k.kernel(kc, ap, bp, C, ldc, accumulate);
    return;
  }
  alignas(64) float scratch[16 * 32];
  k.kernel(kc, ap, bp, scratch, k.nr, false);
  for (long r = 0; r < rows; r++)
    for (long j = 0; j < cols; j++) C[r * ldc + j] = accumulate ? C[r * ldc + j] + scratch[r * k.nr + j] : scratch[r * k.nr + j];
}

// Small products are cheaper without packing.
void gemm_small(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb,
                float* C, long ldc, bool accumulate) {
  for (long i = 0; i < m; i++) {
    float* ci = C + i * ldc;
    if (!accumulate) std::fill(ci, ci + n, 0.f);
    for (long p = 0; p < k; p++) {
      const float av = at(A, lda, transA, i, p);
      if (!transB) {
        const float* bp = B + p * ldb;
        for (long j = 0; j < n; j++) ci[j] += av * bp[j];
      } else {
        for (long j = 0; j < n; j++) ci[j] += av * B[j * ldb + p];
      }
    }
  }
}

void gemm_impl(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb,
               float* C, long ldc, bool accumulate, bool parallel) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (long i = 0; i < m; i++) std::fill(C + i * ldc, C + i * ldc + n, 0.f);
    return;
  }
  if (m * n * k <= 16 * 16 * 16) {
    gemm_small(transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  const Isa& K = isa_for(n);
  const int threads = parallel ? get_threads() : 1;
  const long strips = (n + K.nr - 1) / K.nr, rowStrips = (m + K.mr - 1) / K.mr;
  // Each thread owns one block of C: a share of the rows where there are enough, else a share of the columns.
  const int rowParts = rowStrips >= 4L * threads ? threads : 1, colParts = threads / rowParts;
  // Equal panels: a depth of 576 is two panels of 288, not 512 and a short 64.
  const long panels = (k + KC - 1) / KC, kcMax = (k + panels - 1) / panels;
  // The calling thread's buffer. Lambdas name thread_local variables without capturing them, so the workers get
  // the data pointer, not the name.
  thread_local std::vector<float> packedBuffer;
  packedBuffer.resize(strips * K.nr * kcMax);
  float* const packedB = packedBuffer.data();
  const long groupStrips = std::max<long>(1, B_GROUP / (kcMax * K.nr * long(sizeof(float))));
  const long chunkRows = std::max<long>(1, A_CHUNK / (kcMax * long(sizeof(float))) / K.mr) * K.mr;
  for (long p0 = 0; p0 < k; p0 += kcMax) {
    const long kc = std::min(kcMax, k - p0);
    const bool acc = accumulate || p0 > 0;
    auto packB = [&](long s0, long s1) { pack_b(B, ldb, transB, p0, kc, 0, n, K.nr, packedB, s0 * K.nr, std::min(s1 * K.nr, n)); };
    if (threads > 1 && strips > 1) pool().parallel_for(strips, 1, packB);
    else packB(0, strips);
    auto work = [&](int t) {
      const long rs0 = rowStrips * (t / colParts) / rowParts, rs1 = rowStrips * (t / colParts + 1) / rowParts;
      const long s0 = strips * (t % colParts) / colParts, s1 = strips * (t % colParts + 1) / colParts;
      const long rowEnd = std::min(m, rs1 * K.mr);
      thread_local std::vector<float> packedA;
      packedA.resize(chunkRows * kc);
      for (long i0 = rs0 * K.mr; i0 < rowEnd; i0 += chunkRows) {
        const long mc = std::min(chunkRows, rowEnd - i0);
        pack_a(A, lda, transA, i0, mc, p0, kc, K.mr, packedA.data());
        for (long g0 = s0; g0 < s1; g0 += groupStrips) {
          const long g1 = std::min(s1, g0 + groupStrips);
          for (long r = 0; r < mc; r += K.mr) {
            const float* ap = packedA.data() + r * kc;
            const long rows = std::min(K.mr, mc - r);
            for (long s = g0; s < g1; s++)
              tile(K, kc, ap, packedB + s * K.nr * kc, C + (i0 + r) * ldc + s * K.nr, ldc, rows,
                   std::min(K.nr, n - s * K.nr), acc);
          }
        }
      }
    };
    if (threads > 1) pool().run_tasks(threads, work);
    else work(0);
  }
}

// Thin products (small m·n, long k, like a dense layer's) give each K-panel too little work to share between
// threads; instead each thread multiplies its own share of K, and the partial products are summed in a fixed order.
bool split_k(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb,
             float* C, long ldc, bool accumulate) {
  const int threads = get_threads();
  if (threads < 2 || m * n > 64 * 1024 || k < 1024L * threads) return false;
  const long per = (k + threads - 1) / threads;
  std::vector<std::vector<float>> partial(threads);
  pool().run_tasks(threads, [&](int t) {
    const long p0 = t * per, p1 = std::min(k, p0 + per);
    partial[t].assign(m * n, 0.f);
    if (p0 >= p1) return;
    const float* a = transA ? A + p0 * lda : A + p0;
    const float* b = transB ? B + p0 : B + p0 * ldb;
    gemm_impl(transA, transB, m, n, p1 - p0, a, lda, b, ldb, partial[t].data(), n, false, false);
  });
  for (long i = 0; i < m; i++) {
    float* ci = C + i * ldc;
    for (long j = 0; j < n; j++) {
      float s = accumulate ? ci[j] : 0.f;
      for (int t = 0; t < threads; t++) s += partial[t][i * n + j];
      ci[j] = s;
    }
  }
  return true;
}

}  // namespace

void sgemm(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate) {
  if (gemm_narrow(transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate)) return;
  if (split_k(transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate)) return;
  gemm_impl(transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate, true);
}

void sgemm_serial(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B,
                  long ldb, float* C, long ldc, bool accumulate) {
  gemm_impl(transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate, false);
}

const char* gemm_isa() { return isas().wide.name; }

}  // namespace convlab

// Binding (see binding.h): matmul(out | a, b, m, k, n, transA, transB).
using namespace convlab;

KERNEL(JsMatmul, "matmul", 8, {
  const long m = a.i64(3, "m"), k = a.i64(4, "k"), n = a.i64(5, "n");
  if (m < 0 || k < 0 || n < 0) a.fail("m, k, n", "must be ≥ 0");
  const bool ta = a.flag(6, "transA"), tb = a.flag(7, "transB");
  sgemm(ta, tb, m, n, k, a.f32(1, "a", m * k), ta ? m : k, a.f32(2, "b", k * n), tb ? k : n, a.f32(0, "out", m * n), n, false);
})
