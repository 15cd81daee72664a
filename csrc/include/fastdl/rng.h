/*
 * fastdl/rng.h — counter-based random numbers (Philox4x32-10).
 *
 * Element i of a fill keyed by (seed, stream) is a pure function of
 * (seed, stream, offset + i), so the numbers do not depend on the thread
 * count or on how the work is split.
 *
 * Status: FDL_ERR_ARG for n < 0 (or high <= low in fdl_rng_randint),
 * FDL_ERR_NULL for a NULL output with n > 0.
 */
#ifndef FASTDL_RNG_H
#define FASTDL_RNG_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[n]: uniform in [low, high). */
FDL_API int fdl_rng_uniform_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset, float low, float high);
/* out[n]: normal(mean, std), Box-Muller. */
FDL_API int fdl_rng_normal_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                    uint64_t offset, float mean, float std);
/* out[n]: uniform in [low, high), float64. */
FDL_API int fdl_rng_uniform_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, double low, double high);
/* out[n]: normal(mean, std), float64. */
FDL_API int fdl_rng_normal_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                        uint64_t offset, double mean, double std);
/* out[n]: integers uniform in [low, high); high > low. */
FDL_API int fdl_rng_randint(int64_t *out, int64_t n, uint64_t seed, uint64_t stream,
                     uint64_t offset, int64_t low, int64_t high);
/* out[n]: a permutation of 0..n-1 (Fisher-Yates, serial by nature). */
FDL_API int fdl_rng_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream);
/* mask[n] in {0, 1}: 1 with probability keep. Used by dropout. */
FDL_API int fdl_rng_bernoulli(uint8_t *mask, int64_t n, uint64_t seed, uint64_t stream,
                       uint64_t offset, float keep);

#ifdef __cplusplus
}
#endif

#endif
