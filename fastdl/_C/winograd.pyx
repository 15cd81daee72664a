# cython: language_level=3
"""Which algorithm the float32 convolutions use (fastdl/winograd.h):
Winograd F(4x4, 3x3) or im2col + GEMM."""
from libc.stdint cimport int64_t
from fastdl._C._status cimport check
from fastdl._C.conv cimport fdl_conv2d_params

_NAMES = ("auto", "im2col", "winograd")


def set_algo(str name):
    """Force 'im2col' or 'winograd' (where it applies), or 'auto' (the measured rule)."""
    if name not in _NAMES:
        raise ValueError("conv2d algorithm: expected one of %s, got %r" % (_NAMES, name))
    check(fdl_conv2d_set_algo(_NAMES.index(name)), "conv2d algorithm")


def get_algo():
    """The setting in force: 'auto', 'im2col' or 'winograd'."""
    return _NAMES[fdl_conv2d_get_algo()]


def algo_name(tuple xshape, tuple wshape, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
              int64_t groups=1):
    """The algorithm a float32 conv2d of these shapes runs ('winograd_f4x4_3x3' or 'im2col')."""
    cdef fdl_conv2d_params p
    if len(xshape) != 4 or len(wshape) != 4:
        raise ValueError("conv2d algo_name: expected 4-D input and weight shapes, got %s and %s"
                         % (xshape, wshape))
    p.N, p.C, p.H, p.W = xshape
    p.K, _, p.R, p.S = wshape
    p.stride_h, p.stride_w = stride
    p.pad_h, p.pad_w = padding
    p.dil_h, p.dil_w = dilation
    p.groups = groups
    return fdl_conv2d_algo_name(&p).decode()
