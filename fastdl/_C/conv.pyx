# cython: language_level=3, boundscheck=False, cdivision=True
"""2-D convolution wrappers: validate, allocate outputs and workspace, call
libfastdl once with the GIL released."""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check
from fastdl._C cimport _alloc
from libc.stdint cimport int64_t

from fastdl._C._core cimport fdl_get_num_threads, fdl_strerror

cnp.import_array()


cdef int _params(fdl_conv2d_params *p, tuple xs, tuple ws_, stride, padding, dilation,
                 int64_t groups, str op) except -1:
    if len(xs) != 4:
        raise ValueError("%s: expected 4-D input (N, C, H, W), got shape %s" % (op, xs))
    if len(ws_) != 4:
        raise ValueError("%s: expected 4-D weight (out_channels, in_channels/groups, kH, kW), "
                         "got shape %s" % (op, ws_))
    if groups < 1:
        raise ValueError("%s: groups must be positive, got %d" % (op, groups))
    N, C, H, W = xs
    K, Cg, R, S = ws_
    if C % groups or K % groups:
        raise ValueError("%s: in_channels (%d) and out_channels (%d) must be divisible by "
                         "groups (%d)" % (op, C, K, groups))
    if Cg * groups != C:
        raise ValueError("%s: input has %d channels but weight %s expects %d (= %d x groups %d)"
                         % (op, C, ws_, Cg * groups, Cg, groups))
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if sh < 1 or sw < 1 or dh < 1 or dw < 1 or ph < 0 or pw < 0:
        raise ValueError("%s: stride and dilation must be >= 1 and padding >= 0, got stride=%s "
                         "padding=%s dilation=%s" % (op, stride, padding, dilation))
    if H + 2 * ph < dh * (R - 1) + 1 or W + 2 * pw < dw * (S - 1) + 1:
        raise ValueError("%s: kernel size (%d, %d) with dilation %s is larger than the padded "
                         "input (%d, %d) (input %s, padding %s)"
                         % (op, R, S, dilation, H + 2 * ph, W + 2 * pw, xs, padding))
    p.N, p.C, p.H, p.W = N, C, H, W
    p.K, p.R, p.S = K, R, S
    p.stride_h, p.stride_w = sh, sw
    p.pad_h, p.pad_w = ph, pw
    p.dil_h, p.dil_w = dh, dw
    p.groups = groups
    return 0




def _float(a, str op, str what):
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError("%s: %s must be a float32 or float64 array, got %s"
                        % (op, what, getattr(a, "dtype", type(a).__name__)))
    return np.ascontiguousarray(a)


def output_size(tuple xshape, tuple wshape, stride, padding, dilation, int64_t groups):
    cdef fdl_conv2d_params p
    cdef int64_t P, Q
    _params(&p, xshape, wshape, stride, padding, dilation, groups, "conv2d")
    check(fdl_conv2d_output_size(&p, &P, &Q), "conv2d")
    return P, Q


cdef object _workspace(fdl_conv2d_params *p):
    cdef int64_t nbytes = fdl_conv2d_workspace_size(p, fdl_get_num_threads())
    return _alloc.empty(max(nbytes, 8), np.uint8)


def forward(x, w, bias, stride, padding, dilation, int64_t groups, bint relu=False):
    """out[N, K, P, Q] = conv2d(x, w) + bias, then max(., 0) in the same pass when relu."""
    x = _float(x, "conv2d", "input")
    w = _float(w, "conv2d", "weight")
    if w.dtype != x.dtype:
        raise TypeError("conv2d: input is %s but weight is %s" % (x.dtype, w.dtype))
    cdef fdl_conv2d_params p
    _params(&p, x.shape, w.shape, stride, padding, dilation, groups, "conv2d")
    if bias is not None:
        bias = _float(bias, "conv2d", "bias").astype(x.dtype, copy=False)
        if bias.shape != (p.K,):
            raise ValueError("conv2d: bias must have shape (%d,), got %s" % (p.K, bias.shape))
    cdef int64_t P, Q
    check(fdl_conv2d_output_size(&p, &P, &Q), "conv2d")
    out = _alloc.empty((p.N, p.K, P, Q), x.dtype)
    ws = _workspace(&p)
    cdef void *po = cnp.PyArray_DATA(out)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pb = NULL if bias is None else cnp.PyArray_DATA(bias)
    cdef void *pws = cnp.PyArray_DATA(ws)
    cdef int64_t nws = ws.nbytes
    cdef int st
    cdef bint f32 = x.dtype == np.float32
    cdef fdl_act act = FDL_ACT_RELU if relu else FDL_ACT_NONE
    with nogil:
        if f32:
            st = fdl_conv2d_forward_ex_f32(<float *>po, <float *>px, <float *>pw, <float *>pb,
                                           act, &p, pws, nws)
        else:
            st = fdl_conv2d_forward_ex_f64(<double *>po, <double *>px, <double *>pw,
                                           <double *>pb, act, &p, pws, nws)
    check(st, "conv2d")
    return out


def backward(dout, x, w, bint need_dx, bint need_dw, bint need_db, stride, padding, dilation,
             int64_t groups, y=None):
    """(dx, dw, db) of conv2d given dout; entries not needed are None. With y (the
    output of forward(..., relu=True)), dout counts only where y > 0."""
    x = _float(x, "conv2d_backward", "input")
    w = _float(w, "conv2d_backward", "weight")
    dout = _float(dout, "conv2d_backward", "grad_output").astype(x.dtype, copy=False)
    cdef fdl_conv2d_params p
    _params(&p, x.shape, w.shape, stride, padding, dilation, groups, "conv2d_backward")
    cdef int64_t P, Q
    check(fdl_conv2d_output_size(&p, &P, &Q), "conv2d_backward")
    if dout.shape != (p.N, p.K, P, Q):
        raise ValueError("conv2d_backward: grad_output must have shape %s, got %s"
                         % ((p.N, p.K, P, Q), dout.shape))
    if y is not None:
        y = _float(y, "conv2d_backward", "output").astype(x.dtype, copy=False)
        if y.shape != dout.shape:
            raise ValueError("conv2d_backward: output must have shape %s, got %s"
                             % (dout.shape, y.shape))
    # written whole by the kernels (the _write variants): no zero fill
    dx = _alloc.empty(x.shape, x.dtype) if need_dx else None
    dw = _alloc.empty(w.shape, x.dtype) if need_dw else None
    db = _alloc.empty(p.K, x.dtype) if need_db else None
    ws = _workspace(&p)
    cdef void *pdx = NULL if dx is None else cnp.PyArray_DATA(dx)
    cdef void *pdw = NULL if dw is None else cnp.PyArray_DATA(dw)
    cdef void *pdb = NULL if db is None else cnp.PyArray_DATA(db)
    cdef void *pdo = cnp.PyArray_DATA(dout)
    cdef void *py = NULL if y is None else cnp.PyArray_DATA(y)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *pw = cnp.PyArray_DATA(w)
    cdef void *pws = cnp.PyArray_DATA(ws)
    cdef int64_t nws = ws.nbytes
    cdef int st
    cdef bint f32 = x.dtype == np.float32
    with nogil:
        if f32:
            st = fdl_conv2d_backward_write_f32(<float *>pdx, <float *>pdw, <float *>pdb,
                                               <float *>pdo, <float *>py, <float *>px,
                                               <float *>pw, &p, pws, nws)
        else:
            st = fdl_conv2d_backward_write_f64(<double *>pdx, <double *>pdw, <double *>pdb,
                                               <double *>pdo, <double *>py, <double *>px,
                                               <double *>pw, &p, pws, nws)
    check(st, "conv2d_backward")
    return dx, dw, db
