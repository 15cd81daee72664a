/*
 * gemm/config.h — block sizes and micro-kernel tiles, one place per ISA.
 *
 * Legend (BLIS names): MR x NR is the register tile of C a micro-kernel
 * holds; KC is the depth of one packed panel pass; MC x KC is the packed
 * block of A (meant to stay in L2); KC x NC is the packed panel of B (meant
 * to stay in L3); a KC x NR micro-panel of B is reused from L1 by every
 * MR-row tile of the A block.
 *
 * Machine these were measured on: Zen 5, L1d 48 KiB, L2 1 MiB per core,
 * L3 32 MiB; see the commit log and benchmarks/bench_gemm.py.
 */
#ifndef FDL_GEMM_CONFIG_H
#define FDL_GEMM_CONFIG_H

/* AVX-512: 24 zmm accumulators + 2 for B; 12 broadcasts per 2 B loads.
 * Blocking measured on Zen 5 (1 thread, 1024^3 and 2048^3, CPU time):
 * KC=256/MC=192 (B micro-panel in L1) gave 235/205 GFLOP/s; a deep KC=1024
 * with MC=48 gives 240/237. L2 feeds the 128 KiB B micro-panel fast enough
 * (128 B per 12 cycles), and the deeper K pass reads and writes C 4x less
 * often, which is what held 2048^3 back. */
#define FDL_SGEMM_AVX512_MR 12
#define FDL_SGEMM_AVX512_NR 32
#define FDL_SGEMM_AVX512_MC 48
#define FDL_SGEMM_AVX512_KC 1024
#define FDL_SGEMM_AVX512_NC 1024

/* AVX2+FMA: 12 ymm accumulators + 2 for B + 1 broadcast. Deep KC as for
 * AVX-512 (122-128 GFLOP/s per core at 1024^3, near its 140 peak); not
 * tuned further: AVX2 is the fallback path on this machine. */
#define FDL_SGEMM_AVX2_MR 6
#define FDL_SGEMM_AVX2_NR 16
#define FDL_SGEMM_AVX2_MC 72
#define FDL_SGEMM_AVX2_KC 512
#define FDL_SGEMM_AVX2_NC 1024

/* Portable C: 6 x 8 floats = 12 four-lane accumulators, which fit the 16
 * SSE registers of baseline x86-64 with the B vectors and an A vector. A is
 * packed 4x replicated (MC x KC x 4 floats in the A buffer). */
#define FDL_SGEMM_GENERIC_MR 6
#define FDL_SGEMM_GENERIC_NR 8
#define FDL_SGEMM_GENERIC_MC 48
#define FDL_SGEMM_GENERIC_KC 256
#define FDL_SGEMM_GENERIC_NC 1024

/* Upper bounds over the ISAs above; they size the thread-local buffers
 * (packed A block: MC x KC; packed B panel: KC x NC). */
#define FDL_SGEMM_ABUF_FLOATS (48 * 1024)
#define FDL_SGEMM_BBUF_FLOATS (1024 * 1024)

/* float64 path (portable, cache-blocked). */
#define FDL_DGEMM_MC 96
#define FDL_DGEMM_KC 256
#define FDL_DGEMM_NC 512

/* Below this many flops (2*M*N*K) one thread is faster than waking a team. */
#define FDL_GEMM_PAR_MIN_FLOPS (1 << 21)

#if FDL_SGEMM_AVX512_MC * FDL_SGEMM_AVX512_KC > FDL_SGEMM_ABUF_FLOATS || \
    FDL_SGEMM_AVX2_MC * FDL_SGEMM_AVX2_KC > FDL_SGEMM_ABUF_FLOATS || \
    4 * FDL_SGEMM_GENERIC_MC * FDL_SGEMM_GENERIC_KC > FDL_SGEMM_ABUF_FLOATS
#error "FDL_SGEMM_ABUF_FLOATS is smaller than an MC x KC block"
#endif
#if FDL_SGEMM_AVX512_KC * FDL_SGEMM_AVX512_NC > FDL_SGEMM_BBUF_FLOATS || \
    FDL_SGEMM_AVX2_KC * FDL_SGEMM_AVX2_NC > FDL_SGEMM_BBUF_FLOATS || \
    FDL_SGEMM_GENERIC_KC * FDL_SGEMM_GENERIC_NC > FDL_SGEMM_BBUF_FLOATS
#error "FDL_SGEMM_BBUF_FLOATS is smaller than a KC x NC panel"
#endif

#endif
