# Declarations of csrc/include/fastdl.h (runtime) and the core families
# (elementwise.h, reduce.h, rng.h), one to one. `cimport fastdl._C._core`
# gives another Cython project the same kernels, callable without the GIL.
from libc.stdint cimport int64_t, uint64_t, uint8_t

cdef extern from "fastdl.h" nogil:
    enum:
        FDL_OK
        FDL_ERR_ARG
        FDL_ERR_NULL
        FDL_ERR_SHAPE
        FDL_ERR_ISA
        FDL_ERR_WORKSPACE
        FDL_ERR_IO
        FDL_ERR_FORMAT
        FDL_ERR_NOMEM
    const char *fdl_strerror(int status)

    ctypedef enum fdl_isa:
        FDL_ISA_GENERIC
        FDL_ISA_AVX2
        FDL_ISA_AVX512
    fdl_isa fdl_detected_isa()
    fdl_isa fdl_active_isa()
    int fdl_isa_env_status()
    int fdl_set_isa(fdl_isa isa)
    const char *fdl_isa_name(fdl_isa isa)
    int fdl_isa_from_name(const char *name)
    void fdl_set_num_threads(int n)
    int fdl_get_num_threads()
    int fdl_has_openmp()
    const char *fdl_compiler()
    const char *fdl_version()
    const char *fdl_omp_wait_policy()
    void fdl_empty_cache()
    int64_t fdl_cached_bytes()

cdef extern from "fastdl/elementwise.h" nogil:
    enum:
        FDL_MAX_DIMS
    int fdl_neg_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_neg_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_exp_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_exp_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_log_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_log_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_sqrt_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_sqrt_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_abs_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_abs_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_square_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_square_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_reciprocal_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_reciprocal_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_sign_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_sign_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_copy_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs)
    int fdl_copy_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs)
    int fdl_pow_scalar_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float p)
    int fdl_pow_scalar_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double p)
    int fdl_clip_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float lo, float hi)
    int fdl_clip_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double lo, double hi)
    int fdl_affine_f32(int nd, const int64_t *shape, float *out, const float *x,
        const int64_t *xs, float scale, float shift)
    int fdl_affine_f64(int nd, const int64_t *shape, double *out, const double *x,
        const int64_t *xs, double scale, double shift)
    int fdl_add_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_add_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_sub_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_sub_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_mul_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_mul_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_div_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_div_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_pow_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_pow_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_maximum_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_maximum_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_minimum_f32(int nd, const int64_t *shape, float *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_minimum_f64(int nd, const int64_t *shape, double *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_eq_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_eq_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_ne_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_ne_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_lt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_lt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_le_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_le_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_gt_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_gt_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)
    int fdl_ge_f32(int nd, const int64_t *shape, uint8_t *out, const float *a,
        const int64_t *as_, const float *b, const int64_t *bs)
    int fdl_ge_f64(int nd, const int64_t *shape, uint8_t *out, const double *a,
        const int64_t *as_, const double *b, const int64_t *bs)

cdef extern from "fastdl/reduce.h" nogil:
    int fdl_sum_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x)
    int fdl_sum_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x)
    int fdl_mean_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x)
    int fdl_mean_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x)
    int fdl_amax_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x)
    int fdl_amax_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x)
    int fdl_amin_f32(int64_t outer, int64_t r, int64_t inner, float *out, const float *x)
    int fdl_amin_f64(int64_t outer, int64_t r, int64_t inner, double *out, const double *x)
    int fdl_argmax_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out,
        const float *x)
    int fdl_argmax_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out,
        const double *x)
    int fdl_argmin_f32(int64_t outer, int64_t r, int64_t inner, int64_t *out,
        const float *x)
    int fdl_argmin_f64(int64_t outer, int64_t r, int64_t inner, int64_t *out,
        const double *x)

cdef extern from "fastdl/rng.h" nogil:
    int fdl_rng_uniform_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, float low, float high)
    int fdl_rng_normal_f32(float *out, int64_t n, uint64_t seed, uint64_t stream,
                        uint64_t offset, float mean, float std)
    int fdl_rng_uniform_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                             uint64_t offset, double low, double high)
    int fdl_rng_normal_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                            uint64_t offset, double mean, double std)
    int fdl_rng_randint(int64_t *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, int64_t low, int64_t high)
    int fdl_rng_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream)
    int fdl_rng_bernoulli(uint8_t *mask, int64_t n, uint64_t seed, uint64_t stream,
                           uint64_t offset, float keep)
