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
    void fdl_unary_f32(int op, int nd, const int64_t *shape, float *out,
                       const float *x, const int64_t *xs, float p0, float p1)
    void fdl_unary_f64(int op, int nd, const int64_t *shape, double *out,
                       const double *x, const int64_t *xs, double p0, double p1)
    void fdl_binary_f32(int op, int nd, const int64_t *shape, float *out,
                        const float *a, const int64_t *as_, const float *b,
                        const int64_t *bs)
    void fdl_binary_f64(int op, int nd, const int64_t *shape, double *out,
                        const double *a, const int64_t *as_, const double *b,
                        const int64_t *bs)
    void fdl_compare_f32(int op, int nd, const int64_t *shape, uint8_t *out,
                         const float *a, const int64_t *as_, const float *b,
                         const int64_t *bs)
    void fdl_compare_f64(int op, int nd, const int64_t *shape, uint8_t *out,
                         const double *a, const int64_t *as_, const double *b,
                         const int64_t *bs)

cdef extern from "fastdl/reduce.h" nogil:
    void fdl_reduce_f32(int op, int64_t outer, int64_t r, int64_t inner,
                        float *out, const float *x)
    void fdl_reduce_f64(int op, int64_t outer, int64_t r, int64_t inner,
                        double *out, const double *x)
    void fdl_argreduce_f32(int is_min, int64_t outer, int64_t r, int64_t inner,
                           int64_t *out, const float *x)
    void fdl_argreduce_f64(int is_min, int64_t outer, int64_t r, int64_t inner,
                           int64_t *out, const double *x)

cdef extern from "fastdl/rng.h" nogil:
    void fdl_rng_uniform(float *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, float low, float high)
    void fdl_rng_normal(float *out, int64_t n, uint64_t seed, uint64_t stream,
                        uint64_t offset, float mean, float std)
    void fdl_rng_uniform_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                             uint64_t offset, double low, double high)
    void fdl_rng_normal_f64(double *out, int64_t n, uint64_t seed, uint64_t stream,
                            uint64_t offset, double mean, double std)
    void fdl_rng_randint(int64_t *out, int64_t n, uint64_t seed, uint64_t stream,
                         uint64_t offset, int64_t low, int64_t high)
    void fdl_rng_permutation(int64_t *out, int64_t n, uint64_t seed, uint64_t stream)
    void fdl_rng_bernoulli(uint8_t *mask, int64_t n, uint64_t seed, uint64_t stream,
                           uint64_t offset, float keep)
