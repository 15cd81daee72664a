/*
 * fastdl/data.h — data-pipeline kernels: row gathers for batching and seeded
 * augmentation of float32 image batches (csrc/data/).
 *
 * Legend: N samples, C channels, H x W image, OH x OW crop. Batches are
 * NCHW, C-contiguous.
 *
 * Randomness: the fdl_random_* kernels draw each sample's parameters from
 * Philox keyed by (seed, stream) at counter = sample index (see rng.h), write
 * them to a caller buffer (so the draw can be inspected and replayed with the
 * deterministic kernel of the same family), then apply them. Results are
 * therefore identical for any thread count and any split of the batch.
 */
#ifndef FASTDL_DATA_H
#define FASTDL_DATA_H

#include <stdint.h>

#include "fastdl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- gather --------------------------------------------------------- */

/* out[i, :] = src[idx[i], :] for i < n; rows of row_bytes bytes.
 * src has src_rows rows, row r starting at (char *)src + r * src_stride.
 * A negative index counts from the end, as in NumPy. Every index is
 * checked before anything is written: FDL_ERR_ARG if one is outside
 * [-src_rows, src_rows), FDL_ERR_NULL for a missing pointer.
 * Shapes: out (n, row_bytes) bytes, idx (n,). */
FDL_API int fdl_gather_rows(void *out, const void *src, const int64_t *idx, int64_t n,
                    int64_t src_rows, int64_t src_stride, int64_t row_bytes);

/* ---- deterministic image kernels (the oracles of the random ones) ---- */

/* Rotate sample s counter-clockwise by angles_deg[s] about the image
 * centre ((W-1)/2, (H-1)/2); bilinear; source points outside the image read
 * `fill`. out must not alias x.
 * Shapes: out, x (N, C, H, W); angles_deg (N,). */
FDL_API int fdl_rotate_f32(float *out, const float *x, const float *angles_deg,
                    int64_t N, int64_t C, int64_t H, int64_t W, float fill);

/* Flip sample s along W (dim 3, horizontal) or H (dim 2, vertical) when
 * flags[s] != 0 (flags NULL: flip every sample); other samples are copied.
 * out must not alias x. FDL_ERR_ARG if dim is not 2 or 3.
 * Shapes: out, x (N, C, H, W); flags (N,). */
FDL_API int fdl_flip_f32(float *out, const float *x, const uint8_t *flags,
                 int64_t N, int64_t C, int64_t H, int64_t W, int dim);

/* Crop an OH x OW window from each sample padded with `fill` (pad_top rows
 * above, pad_left columns to the left, and enough below/right for the
 * window); offsets[2s], offsets[2s+1] = (top, left) of sample s's window in
 * padded coordinates: out[s, c, i, j] = x[s, c, top + i - pad_top,
 * left + j - pad_left], or fill outside x.
 * Shapes: out (N, C, OH, OW), x (N, C, H, W), offsets (N, 2). */
FDL_API int fdl_crop_f32(float *out, const float *x, const int64_t *offsets,
                  int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                  int64_t pad_top, int64_t pad_left, float fill);

/* ---- seeded augmentation ---------------------------------------------- */

/* angles_out[s] ~ U[min_deg, max_deg), then fdl_rotate_f32. */
FDL_API int fdl_random_rotation_f32(float *out, float *angles_out, const float *x,
                             int64_t N, int64_t C, int64_t H, int64_t W,
                             float min_deg, float max_deg, float fill,
                             uint64_t seed, uint64_t stream);

/* flags_out[s] = 1 with probability p, then fdl_flip_f32 along dim. */
FDL_API int fdl_random_flip_f32(float *out, uint8_t *flags_out, const float *x,
                        int64_t N, int64_t C, int64_t H, int64_t W, int dim, float p,
                        uint64_t seed, uint64_t stream);

/* (top, left) of sample s uniform over the valid windows of the image padded
 * by pad_top/pad_bottom/pad_left/pad_right, written to offsets_out[2s..2s+1],
 * then fdl_crop_f32. FDL_ERR_SHAPE if the window is larger than the padded
 * image.
 * Shapes: out (N, C, OH, OW), offsets_out (N, 2), x (N, C, H, W). */
FDL_API int fdl_random_crop_f32(float *out, int64_t *offsets_out, const float *x,
                        int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
                        int64_t pad_right, float fill, uint64_t seed, uint64_t stream);

/* out[i] = x[i] + std * z_i, z_i standard normal from Philox at counter i
 * (so per sample s the noise is keyed by s * per_sample + j). out may alias x.
 * Shapes: out, x (n,). */
FDL_API int fdl_gaussian_noise_f32(float *out, const float *x, int64_t n, float std,
                            uint64_t seed, uint64_t stream);

#ifdef __cplusplus
}
#endif

#endif
