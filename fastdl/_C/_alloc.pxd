# Storage for the outputs and gradients the wrappers allocate: large arrays
# come from libfastdl's block cache (fdl_cache_alloc), small ones from NumPy.
cimport numpy as cnp
from libc.stdint cimport int64_t

cdef extern from "fastdl.h" nogil:
    void *fdl_cache_alloc(size_t bytes)
    void fdl_cache_free(void *p)
    int fdl_copy_f32(int nd, const int64_t *shape, float *out, const float *x,
                     const int64_t *xs)

cdef cnp.ndarray empty_dims(int nd, cnp.npy_intp *dims, int typenum)
cpdef cnp.ndarray empty(object shape, object dtype)
cpdef cnp.ndarray zeros(object shape, object dtype)
cpdef cnp.ndarray empty_like(cnp.ndarray a)
cpdef cnp.ndarray zeros_like(cnp.ndarray a)
cpdef bint sole_owner(cnp.ndarray a)
