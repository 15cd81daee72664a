from libc.stdint cimport int64_t
from fastdl._C.conv cimport fdl_conv2d_params

cdef extern from "fastdl.h" nogil:
    int fdl_conv2d_set_algo(int algo)
    int fdl_conv2d_get_algo()
    const char *fdl_conv2d_algo_name(const fdl_conv2d_params *p)
