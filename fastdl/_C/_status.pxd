# The two helpers every fastdl._C module shares (`from fastdl._C._status
# cimport check, by_dtype`):
#
# by_dtype(f64, fn_f64, fn_f32, args...) calls fn_f64(args...) when f64 is
# true, else fn_f32(args...): the one float32/float64 fork of the wrappers.
# The wrappers hold their arrays' data as void * and scalars as double; C
# converts them to each kernel's parameter types (float *, float), as a cast
# would. The arguments are written once, both kernels are named in full (grep
# finds the call), and it costs one predictable branch, like the if/else it
# replaces. Cython has no overloading and a fused `def` dispatches on dtype
# in about 0.3 us per call (measured), more than a small op's whole wrapper.
#
# check(status, op): a C function returned `status` (FDL_OK == 0, negative
# on error); raise naming the op.

cdef extern from *:
    """
    #define FDL_BY_DTYPE(f64, fn_f64, fn_f32, ...) ((f64) ? fn_f64(__VA_ARGS__) : fn_f32(__VA_ARGS__))
    """
    int by_dtype "FDL_BY_DTYPE"(bint f64, ...) noexcept nogil


cdef extern from "fastdl.h" nogil:
    const char *fdl_strerror(int status)
    enum:
        FDL_ERR_NOMEM


cdef inline int check(int status, str op) except -1:
    if status != 0:
        msg = "%s: %s (status %d)" % (op, fdl_strerror(status).decode(), status)
        if status == FDL_ERR_NOMEM:
            raise MemoryError(msg)
        raise RuntimeError(msg)
    return 0
