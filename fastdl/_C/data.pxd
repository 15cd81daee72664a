# Declarations of csrc/include/fastdl/data.h, 1:1.
from libc.stdint cimport int64_t, uint64_t, uint8_t

cdef extern from "fastdl.h" nogil:
    int fdl_gather_rows(void *out, const void *src, const int64_t *idx, int64_t n,
                        int64_t src_rows, int64_t src_stride, int64_t row_bytes)

    int fdl_rotate_f32(float *out, const float *x, const float *angles_deg,
                        int64_t N, int64_t C, int64_t H, int64_t W, float fill)
    int fdl_flip_f32(float *out, const float *x, const uint8_t *flags,
                     int64_t N, int64_t C, int64_t H, int64_t W, int dim)
    int fdl_crop_f32(float *out, const float *x, const int64_t *offsets,
                      int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                      int64_t pad_top, int64_t pad_left, float fill)

    int fdl_random_rotation_f32(float *out, float *angles_out, const float *x,
                                 int64_t N, int64_t C, int64_t H, int64_t W,
                                 float min_deg, float max_deg, float fill,
                                 uint64_t seed, uint64_t stream)
    int fdl_random_flip_f32(float *out, uint8_t *flags_out, const float *x,
                            int64_t N, int64_t C, int64_t H, int64_t W, int dim, float p,
                            uint64_t seed, uint64_t stream)
    int fdl_random_crop_f32(float *out, int64_t *offsets_out, const float *x,
                            int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                            int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
                            int64_t pad_right, float fill, uint64_t seed, uint64_t stream)
    int fdl_gaussian_noise_f32(float *out, const float *x, int64_t n, float std,
                                uint64_t seed, uint64_t stream)
