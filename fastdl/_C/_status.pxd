# The one status check of the fastdl._C modules: a C function returned
# `status` (FDL_OK == 0, negative on error); raise naming the op.
# `from fastdl._C._status cimport check` in every .pyx.

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
