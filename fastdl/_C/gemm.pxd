# Declarations of csrc/include/fastdl/gemm.h, 1:1.
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    ctypedef enum fdl_act:
        FDL_ACT_NONE
        FDL_ACT_RELU

    int fdl_sgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
                  float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb,
                  float beta, float *C, int64_t ldc)
    int fdl_sgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *A, int64_t lda,
                     const float *B, int64_t ldb,
                     float beta, float *C, int64_t ldc,
                     const float *bias, fdl_act act)
    int fdl_sgemm_strided_batched(int transa, int transb,
                                  int64_t M, int64_t N, int64_t K, float alpha,
                                  const float *A, int64_t lda, int64_t strideA,
                                  const float *B, int64_t ldb, int64_t strideB,
                                  float beta, float *C, int64_t ldc, int64_t strideC,
                                  int64_t batch)
    int fdl_sgemm_strided_batched_ex(int transa, int transb,
                                     int64_t M, int64_t N, int64_t K, float alpha,
                                     const float *A, int64_t lda, int64_t strideA,
                                     const float *B, int64_t ldb, int64_t strideB,
                                     float beta, float *C, int64_t ldc, int64_t strideC,
                                     int64_t batch, const float *bias, fdl_act act)
    int fdl_sgemm_ref(int transa, int transb, int64_t M, int64_t N, int64_t K,
                      float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb,
                      float beta, float *C, int64_t ldc,
                      const float *bias, fdl_act act)
    int fdl_dgemm(int transa, int transb, int64_t M, int64_t N, int64_t K,
                  double alpha, const double *A, int64_t lda,
                  const double *B, int64_t ldb,
                  double beta, double *C, int64_t ldc)
    int fdl_dgemm_ex(int transa, int transb, int64_t M, int64_t N, int64_t K,
                     double alpha, const double *A, int64_t lda,
                     const double *B, int64_t ldb,
                     double beta, double *C, int64_t ldc,
                     const double *bias, fdl_act act)
    const char *fdl_sgemm_kernel_name()
    const char *fdl_dgemm_kernel_name()
    int fdl_gemm_blocking_info(int f64, int64_t *out)
    int64_t fdl_fma_loop(int64_t iters, int nthreads)
