// Single-precision matrix product, row-major: C = op(A)·op(B) (+ C when accumulate).
#pragma once

namespace convlab {

// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB).
void sgemm(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb,
           float* C, long ldc, bool accumulate);

// Same, run on the calling thread only (for callers that parallelize around it).
void sgemm_serial(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B,
                  long ldb, float* C, long ldc, bool accumulate);

// Products with at most 16 columns (a classifier's 10) on AVX-512, by the direct convolution's micro-kernel; false
// where it does not apply.
bool gemm_narrow(bool transA, bool transB, long m, long n, long k, const float* A, long lda, const float* B, long ldb, float* C,
                 long ldc, bool accumulate);

// "avx512", "avx2" or "portable": the micro-kernel chosen for this CPU.
const char* gemm_isa();

}  // namespace convlab
