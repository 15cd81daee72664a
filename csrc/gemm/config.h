/*
 * gemm/config.h — micro-kernel tiles, buffer bounds and the fallback block
 * sizes, one place per ISA and type.
 *
 * Legend (BLIS names): MR x NR is the register tile of C a micro-kernel
 * holds; KC is the depth of one packed panel pass; MC x KC is the packed
 * block of A (meant to stay in L2); KC x NC is the packed panel of B (meant
 * to stay in L3); a KC x NR micro-panel of B is reused by every MR-row tile
 * of the A block.
 *
 * MC, KC and NC are chosen at run time from the CPU's cache sizes
 * (gemm/blocking.c states the rule); the *_MC/_KC/_NC values below are used
 * only when the CPU reports none. They are the rule's result on the machine
 * the kernels were measured on (Zen 5: L1d 48 KiB, L2 1 MiB per core).
 */
#ifndef FDL_GEMM_CONFIG_H
#define FDL_GEMM_CONFIG_H

/* AVX-512 sgemm: 24 zmm accumulators + 2 for B; 12 broadcasts per 2 B loads.
 * Blocking measured on Zen 5 (1 thread, 1024^3 and 2048^3, CPU time):
 * KC=256/MC=192 (B micro-panel in L1) gave 235/205 GFLOP/s; a deep KC=1024
 * with MC=48 gives 240/237. L2 feeds the 128 KiB B micro-panel fast enough
 * (128 B per 12 cycles), and the deeper K pass reads and writes C 4x less
 * often, which is what held 2048^3 back. The run-time rule gives MC=60,
 * measured equal to 48. */
#define FDL_SGEMM_AVX512_MR 12
#define FDL_SGEMM_AVX512_NR 32
#define FDL_SGEMM_AVX512_MC 60
#define FDL_SGEMM_AVX512_KC 1024
#define FDL_SGEMM_AVX512_NC 1024

/* AVX2+FMA sgemm: 12 ymm accumulators + 2 for B + 1 broadcast. The rule's
 * KC 1024 / MC 60 measured within 2% of the earlier 512 / 72. */
#define FDL_SGEMM_AVX2_MR 6
#define FDL_SGEMM_AVX2_NR 16
#define FDL_SGEMM_AVX2_MC 60
#define FDL_SGEMM_AVX2_KC 1024
#define FDL_SGEMM_AVX2_NC 1024

/* Portable C sgemm: 6 x 8 floats = 12 four-lane accumulators, which fit the
 * 16 SSE registers of baseline x86-64 with the B vectors and an A vector. A
 * is packed 4x replicated (MC x KC x 4 floats in the A buffer). The rule's
 * KC 1024 / MC 12 measured 3-7% slower than the earlier 256 / 48 (1 thread,
 * 512^3-1024^3): the portable path, kept on the common rule. */
#define FDL_SGEMM_GENERIC_MR 6
#define FDL_SGEMM_GENERIC_NR 8
#define FDL_SGEMM_GENERIC_MC 12
#define FDL_SGEMM_GENERIC_KC 1024
#define FDL_SGEMM_GENERIC_NC 1024

/* dgemm: the sgemm register plans with half as many lanes per vector. */
#define FDL_DGEMM_AVX512_MR 12
#define FDL_DGEMM_AVX512_NR 16
#define FDL_DGEMM_AVX512_MC 24
#define FDL_DGEMM_AVX512_KC 1024
#define FDL_DGEMM_AVX512_NC 512

#define FDL_DGEMM_AVX2_MR 6
#define FDL_DGEMM_AVX2_NR 8
#define FDL_DGEMM_AVX2_MC 30
#define FDL_DGEMM_AVX2_KC 1024
#define FDL_DGEMM_AVX2_NC 512

/* A packed 2x replicated (one SSE2 vector per element). */
#define FDL_DGEMM_GENERIC_MR 6
#define FDL_DGEMM_GENERIC_NR 4
#define FDL_DGEMM_GENERIC_MC 12
#define FDL_DGEMM_GENERIC_KC 1024
#define FDL_DGEMM_GENERIC_NC 512

/* Packing buffers in bytes, for any type and ISA: they bound the run-time
 * blocking (packed A block MC x KC x rep per thread; packed B panel KC x NC
 * per team). */
#define FDL_GEMM_ABUF_BYTES (256 << 10)
#define FDL_GEMM_BBUF_BYTES (4 << 20)

#define FDL_GEMM_FITS_(T, isa, rep, esz)                                                   \
    (FDL_##T##_##isa##_MC * FDL_##T##_##isa##_KC * (rep) * (esz) <= FDL_GEMM_ABUF_BYTES &&   \
     FDL_##T##_##isa##_KC * FDL_##T##_##isa##_NC * (esz) <= FDL_GEMM_BBUF_BYTES)
#if !(FDL_GEMM_FITS_(SGEMM, AVX512, 1, 4) && FDL_GEMM_FITS_(SGEMM, AVX2, 1, 4) &&              \
      FDL_GEMM_FITS_(SGEMM, GENERIC, 4, 4) && FDL_GEMM_FITS_(DGEMM, AVX512, 1, 8) &&          \
      FDL_GEMM_FITS_(DGEMM, AVX2, 1, 8) && FDL_GEMM_FITS_(DGEMM, GENERIC, 2, 8))
#error "a fallback blocking does not fit the packing buffers"
#endif

/* Below this many flops (2*M*N*K) one thread is faster than waking a team. */
#define FDL_GEMM_PAR_MIN_FLOPS (1 << 21)

/* Products with at most this many rows (M) take the small-M path: B is
 * streamed, never packed. Dot products against rows of W when op(B) = W^T
 * (W's 4 rows in use stay in L1 for all M rows: faster than packing up to
 * M = 8), row axpys otherwise (B is re-read per pair of rows: faster up to
 * M = 4). Measured against the packed path on Zen 5 (1 thread, K x N =
 * 784x256, 128x10, 1024x1024, 4096x1024; benchmarks/bench_gemm.py). */
#define FDL_GEMM_SMALLM_DOT_MAX 8
#define FDL_GEMM_SMALLM_AXPY_MAX 4

#endif
