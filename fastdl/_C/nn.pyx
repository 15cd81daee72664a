# cython: language_level=3, boundscheck=False, cdivision=True
"""Wrappers over libfastdl's nn kernels (csrc/include/fastdl/nn.h).

Each wrapper checks dtypes, contiguity and sizes, allocates outputs (and the
zeroed gradients the backward kernels add into), then calls the kernel once
with the GIL released. Shape semantics (output sizes, reductions, argument
ranges) are checked one level up, in fastdl.nn.functional, which names the
op in every error.
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check, by_dtype
from fastdl._C cimport _alloc

cdef extern from "fastdl.h":
    enum:
        FDL_ERR_ARG
from libc.stdint cimport int64_t, uint64_t, uint8_t

cnp.import_array()


cdef inline bint _f64(cnp.ndarray x, str op) except -1:
    cdef int t = cnp.PyArray_TYPE(x)
    if t == cnp.NPY_FLOAT64:
        return True
    if t == cnp.NPY_FLOAT32:
        return False
    raise TypeError("%s: expected float32 or float64 data, got %s" % (op, x.dtype))


cdef inline cnp.ndarray _c(object a, object dtype, str op, str what):
    """a as a C-contiguous array of dtype; TypeError when a float array has another float dtype."""
    if a is None:
        return None
    cdef cnp.ndarray x
    if type(a) is np.ndarray:
        # already right: a itself, as np.ascontiguousarray(a) below would give (not for
        # 0-d arrays, which it makes 1-d); dtype is a dtype object (an operand's) or int64
        x = <cnp.ndarray>a
        if cnp.PyArray_NDIM(x) >= 1 and cnp.PyArray_IS_C_CONTIGUOUS(x) and (
                x.dtype is dtype or (dtype is np.int64 and cnp.PyArray_TYPE(x) == cnp.NPY_INT64
                                     and cnp.PyArray_ISNOTSWAPPED(x))):
            return x
    arr = np.asarray(a)
    if arr.dtype != dtype:
        # a gradient is converted (autograd may hand over another float dtype);
        # other float operands must match the input
        if arr.dtype.kind == "f" and np.dtype(dtype).kind == "f" and what != "grad_output":
            raise TypeError("%s: %s must have dtype %s like the input, got %s"
                            % (op, what, np.dtype(dtype), arr.dtype))
        arr = arr.astype(dtype)
    return np.ascontiguousarray(arr)


cdef inline void *_p(cnp.ndarray a):
    return NULL if a is None else cnp.PyArray_DATA(a)


cdef inline int _size(cnp.ndarray a, int64_t n, str op, str what) except -1:
    if a is not None and a.size != n:
        raise ValueError("%s: %s must have %d elements, got shape %s" % (op, what, n, (<object>a).shape))
    return 0


cdef inline int _rank(cnp.ndarray x, int want, str op, str what, str layout) except -1:
    """x must have `want` dims (want < 0: at least -want)."""
    cdef int nd = cnp.PyArray_NDIM(x)
    if (want >= 0 and nd != want) or (want < 0 and nd < -want):
        raise ValueError("%s: expected %s of shape %s, got shape %s"
                         % (op, what, layout, (<object>x).shape))
    return 0


cdef int _indices(cnp.ndarray ix, int64_t hi, str op, str what, str of, bint has_ignore=False,
                  int64_t ignore=0) except -1:
    """Every int64 element of ix lies in [0, hi) (or equals ignore when has_ignore)."""
    cdef const int64_t *p = <const int64_t *>cnp.PyArray_DATA(ix)
    cdef int64_t i, v, n = cnp.PyArray_SIZE(ix)
    for i in range(n):
        v = p[i]
        if (v < 0 or v >= hi) and not (has_ignore and v == ignore):
            raise IndexError("%s: %s %d is out of bounds for %d %s" % (op, what, v, hi, of))
    return 0


cdef int _pool_out(int64_t H, int64_t OH, int64_t k, int64_t s, int64_t pad, int64_t dil,
                   str op, str dim) except -1:
    """k, s, dil >= 1, pad >= 0, and 0 <= OH <= the ceil_mode output size."""
    if k < 1 or s < 1 or dil < 1 or pad < 0:
        raise ValueError("%s: kernel, stride and dilation must be >= 1 and padding >= 0, got "
                         "kernel %d, stride %d, padding %d, dilation %d along %s"
                         % (op, k, s, pad, dil, dim))
    cdef int64_t span = H + 2 * pad - dil * (k - 1) - 1
    cdef int64_t most = (span + s - 1) // s + 1 if span >= 0 else 0
    if OH < 0 or OH > most:
        raise ValueError("%s: output %s %d does not fit an input %s of %d (at most %d)"
                         % (op, dim, OH, dim, H, most))
    return 0


cdef int _pool_grad(cnp.ndarray g, tuple in_shape, str op) except -1:
    """dout (..., OH, OW) and in_shape (..., H, W) share their leading dims."""
    if len(in_shape) < 2 or cnp.PyArray_NDIM(g) < 2 or \
            tuple((<object>g).shape[:-2]) != tuple(in_shape[:-2]):
        raise ValueError("%s: expected grad_output (..., OH, OW) and input shape (..., H, W) "
                         "with the same leading dims, got %s and %s"
                         % (op, (<object>g).shape, in_shape))
    return 0


# ---- activations -----------------------------------------------------------
# One helper per direction checks and allocates; the op's adapter below hands
# its own parameters (travelling as p0, p1) to its fdl_* pair through
# by_dtype (fastdl/_C/_status.pxd), the one float32/float64 fork.

# backward reads the forward output (not the input) for these
ACT_USES_OUTPUT = frozenset(("sigmoid", "tanh"))

ctypedef int (*act_fwd_t)(bint, void *, const void *, int64_t, double, double) noexcept nogil
ctypedef int (*act_bwd_t)(bint, void *, const void *, const void *, int64_t, double,
                          double) noexcept nogil


cdef bint _writable_over(cnp.ndarray g, cnp.ndarray saved):
    """g may take a backward's result in place: writable, C-contiguous, saved's shape,
    and apart from saved."""
    return (cnp.PyArray_ISWRITEABLE(g) and cnp.PyArray_IS_C_CONTIGUOUS(g)
            and cnp.PyArray_SAMESHAPE(g, saved) and not np.may_share_memory(g, saved))


cdef object _act_forward(cnp.ndarray x, str name, act_fwd_t f, double p0, double p1):
    """out = act(x)."""
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    cdef int64_t n = x.size
    cdef int st
    with nogil:
        st = f(d, po, px, n, p0, p1)
    check(st, name)
    return out


cdef object _act_backward(cnp.ndarray saved, object dout, str name, act_bwd_t f,
                          double p0, double p1, bint inplace=False):
    """dx; saved is the forward input, or its output for sigmoid and tanh.

    inplace: dx is written over dout when dout is a writable C-contiguous
    array of saved's dtype and shape that does not share memory with saved
    (and returned); otherwise into a new array."""
    cdef bint d = _f64(saved, name)
    saved = np.ascontiguousarray(saved)
    cdef cnp.ndarray g = _c(dout, saved.dtype, name, "grad_output")
    _size(g, saved.size, name, "grad_output")
    cdef cnp.ndarray dx
    if inplace and g is dout and _writable_over(g, saved):
        dx = g
    else:
        dx = _alloc.empty_like(saved)     # the kernels write every element
    cdef void *pd = _p(dx)
    cdef void *ps = _p(saved)
    cdef void *pg = _p(g)
    cdef int64_t n = saved.size
    cdef int st
    with nogil:
        st = f(d, pd, ps, pg, n, p0, p1)
    check(st, name)
    return dx


cdef int _relu_fwd(bint d, void *o, const void *x, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_relu_forward_f64, fdl_relu_forward_f32, o, x, n)

cdef int _relu_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                   double p1) noexcept nogil:
    return by_dtype(d, fdl_relu_backward_f64, fdl_relu_backward_f32, dx, s, g, n)


cdef int _leaky_relu_fwd(bint d, void *o, const void *x, int64_t n, double p0,
                         double p1) noexcept nogil:
    return by_dtype(d, fdl_leaky_relu_forward_f64, fdl_leaky_relu_forward_f32, o, x, n, p0)

cdef int _leaky_relu_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                         double p1) noexcept nogil:
    return by_dtype(d, fdl_leaky_relu_backward_f64, fdl_leaky_relu_backward_f32, dx, s, g, n, p0)


cdef int _elu_fwd(bint d, void *o, const void *x, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_elu_forward_f64, fdl_elu_forward_f32, o, x, n, p0)

cdef int _elu_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                  double p1) noexcept nogil:
    return by_dtype(d, fdl_elu_backward_f64, fdl_elu_backward_f32, dx, s, g, n, p0)


cdef int _gelu_fwd(bint d, void *o, const void *x, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_gelu_forward_f64, fdl_gelu_forward_f32, o, x, n, <int>p0)

cdef int _gelu_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                   double p1) noexcept nogil:
    return by_dtype(d, fdl_gelu_backward_f64, fdl_gelu_backward_f32, dx, s, g, n, <int>p0)


cdef int _sigmoid_fwd(bint d, void *o, const void *x, int64_t n, double p0,
                      double p1) noexcept nogil:
    return by_dtype(d, fdl_sigmoid_forward_f64, fdl_sigmoid_forward_f32, o, x, n)

cdef int _sigmoid_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                      double p1) noexcept nogil:
    return by_dtype(d, fdl_sigmoid_backward_f64, fdl_sigmoid_backward_f32, dx, s, g, n)


cdef int _tanh_fwd(bint d, void *o, const void *x, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_tanh_forward_f64, fdl_tanh_forward_f32, o, x, n)

cdef int _tanh_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                   double p1) noexcept nogil:
    return by_dtype(d, fdl_tanh_backward_f64, fdl_tanh_backward_f32, dx, s, g, n)


cdef int _softplus_fwd(bint d, void *o, const void *x, int64_t n, double p0,
                       double p1) noexcept nogil:
    return by_dtype(d, fdl_softplus_forward_f64, fdl_softplus_forward_f32, o, x, n, p0, p1)

cdef int _softplus_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                       double p1) noexcept nogil:
    return by_dtype(d, fdl_softplus_backward_f64, fdl_softplus_backward_f32, dx, s, g, n, p0, p1)


cdef int _silu_fwd(bint d, void *o, const void *x, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_silu_forward_f64, fdl_silu_forward_f32, o, x, n)

cdef int _silu_bwd(bint d, void *dx, const void *s, const void *g, int64_t n, double p0,
                   double p1) noexcept nogil:
    return by_dtype(d, fdl_silu_backward_f64, fdl_silu_backward_f32, dx, s, g, n)


def relu_forward(cnp.ndarray x not None):
    """fdl_relu_forward_f32/_f64."""
    return _act_forward(x, "relu", _relu_fwd, 0.0, 0.0)


def relu_backward(cnp.ndarray saved not None, dout, bint inplace=False):
    """dx of relu; saved is the forward input (fdl_relu_backward_f32/_f64)."""
    return _act_backward(saved, dout, "relu", _relu_bwd, 0.0, 0.0, inplace)


def leaky_relu_forward(cnp.ndarray x not None, double negative_slope):
    """fdl_leaky_relu_forward_f32/_f64."""
    return _act_forward(x, "leaky_relu", _leaky_relu_fwd, negative_slope, 0.0)


def leaky_relu_backward(cnp.ndarray saved not None, dout, double negative_slope, bint inplace=False):
    """dx of leaky_relu; saved is the forward input (fdl_leaky_relu_backward_f32/_f64)."""
    return _act_backward(saved, dout, "leaky_relu", _leaky_relu_bwd, negative_slope, 0.0, inplace)


def elu_forward(cnp.ndarray x not None, double alpha):
    """fdl_elu_forward_f32/_f64."""
    return _act_forward(x, "elu", _elu_fwd, alpha, 0.0)


def elu_backward(cnp.ndarray saved not None, dout, double alpha, bint inplace=False):
    """dx of elu; saved is the forward input (fdl_elu_backward_f32/_f64)."""
    return _act_backward(saved, dout, "elu", _elu_bwd, alpha, 0.0, inplace)


def gelu_forward(cnp.ndarray x not None, bint approximate_tanh):
    """fdl_gelu_forward_f32/_f64."""
    return _act_forward(x, "gelu", _gelu_fwd, approximate_tanh, 0.0)


def gelu_backward(cnp.ndarray saved not None, dout, bint approximate_tanh, bint inplace=False):
    """dx of gelu; saved is the forward input (fdl_gelu_backward_f32/_f64)."""
    return _act_backward(saved, dout, "gelu", _gelu_bwd, approximate_tanh, 0.0, inplace)


def sigmoid_forward(cnp.ndarray x not None):
    """fdl_sigmoid_forward_f32/_f64."""
    return _act_forward(x, "sigmoid", _sigmoid_fwd, 0.0, 0.0)


def sigmoid_backward(cnp.ndarray saved not None, dout, bint inplace=False):
    """dx of sigmoid; saved is the forward output (fdl_sigmoid_backward_f32/_f64)."""
    return _act_backward(saved, dout, "sigmoid", _sigmoid_bwd, 0.0, 0.0, inplace)


def tanh_forward(cnp.ndarray x not None):
    """fdl_tanh_forward_f32/_f64."""
    return _act_forward(x, "tanh", _tanh_fwd, 0.0, 0.0)


def tanh_backward(cnp.ndarray saved not None, dout, bint inplace=False):
    """dx of tanh; saved is the forward output (fdl_tanh_backward_f32/_f64)."""
    return _act_backward(saved, dout, "tanh", _tanh_bwd, 0.0, 0.0, inplace)


def softplus_forward(cnp.ndarray x not None, double beta, double threshold):
    """fdl_softplus_forward_f32/_f64."""
    return _act_forward(x, "softplus", _softplus_fwd, beta, threshold)


def softplus_backward(cnp.ndarray saved not None, dout, double beta, double threshold, bint inplace=False):
    """dx of softplus; saved is the forward input (fdl_softplus_backward_f32/_f64)."""
    return _act_backward(saved, dout, "softplus", _softplus_bwd, beta, threshold, inplace)


def silu_forward(cnp.ndarray x not None):
    """fdl_silu_forward_f32/_f64."""
    return _act_forward(x, "silu", _silu_fwd, 0.0, 0.0)


def silu_backward(cnp.ndarray saved not None, dout, bint inplace=False):
    """dx of silu; saved is the forward input (fdl_silu_backward_f32/_f64)."""
    return _act_backward(saved, dout, "silu", _silu_bwd, 0.0, 0.0, inplace)


def softmax_forward(cnp.ndarray x not None, int64_t outer, int64_t dim, int64_t inner, bint log):
    """softmax (or log_softmax) over the middle axis of x viewed as [outer, dim, inner]."""
    cdef str name = "log_softmax" if log else "softmax"
    if outer < 0 or dim < 0 or inner < 0:
        raise ValueError("%s: sizes must be >= 0, got outer %d, dim %d, inner %d"
                         % (name, outer, dim, inner))
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    _size(x, outer * dim * inner, name, "input")
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    cdef int st = 0
    with nogil:
        if log:
            st = by_dtype(d, fdl_log_softmax_forward_f64, fdl_log_softmax_forward_f32, po, px,
                          outer, dim, inner)
        else:
            st = by_dtype(d, fdl_softmax_forward_f64, fdl_softmax_forward_f32, po, px,
                          outer, dim, inner)
    check(st, name)
    return out


def softmax_backward(cnp.ndarray out not None, dout, int64_t outer, int64_t dim, int64_t inner,
                     bint log, bint inplace=False):
    """dx of softmax (log_softmax); inplace: written over dout when it can take it (see
    _act_backward)."""
    cdef str name = "log_softmax" if log else "softmax"
    if outer < 0 or dim < 0 or inner < 0:
        raise ValueError("%s: sizes must be >= 0, got outer %d, dim %d, inner %d"
                         % (name, outer, dim, inner))
    cdef bint d = _f64(out, name)
    out = np.ascontiguousarray(out)
    cdef cnp.ndarray g = _c(dout, out.dtype, name, "grad_output")
    _size(out, outer * dim * inner, name, "output")
    _size(g, outer * dim * inner, name, "grad_output")
    cdef cnp.ndarray dx
    if inplace and g is dout and _writable_over(g, out):
        dx = g
    else:
        dx = _alloc.empty_like(out)       # the kernel writes every element
    cdef void *pd = _p(dx)
    cdef void *po = _p(out)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        if log:
            st = by_dtype(d, fdl_log_softmax_backward_f64, fdl_log_softmax_backward_f32, pd, po, pg,
                          outer, dim, inner)
        else:
            st = by_dtype(d, fdl_softmax_backward_f64, fdl_softmax_backward_f32, pd, po, pg,
                          outer, dim, inner)
    check(st, name)
    return dx


# ---- pointwise losses ---------------------------------------------------------
# As the activations: one helper per direction over a uniform adapter
# signature (weight, pos_weight may be NULL; p0, p1 the loss's parameters).

ctypedef int (*pl_fwd_t)(bint, void *, const void *, const void *, const void *, const void *,
                         int64_t, double, double) noexcept nogil
ctypedef int (*pl_bwd_t)(bint, void *, const void *, const void *, const void *, const void *,
                         const void *, int64_t, int64_t, double, double, double) noexcept nogil


cdef object _pl_forward(cnp.ndarray x, object target, object weight, object pos_weight,
                        str name, pl_fwd_t f, double p0, double p1):
    """Unreduced loss, shaped like x. target, weight, pos_weight: same size as x."""
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray y = _c(target, x.dtype, name, "target")
    if y is None:
        raise TypeError("%s: target is required" % name)
    cdef cnp.ndarray w = _c(weight, x.dtype, name, "weight")
    cdef cnp.ndarray pw = _c(pos_weight, x.dtype, name, "pos_weight")
    _size(y, x.size, name, "target"); _size(w, x.size, name, "weight")
    _size(pw, x.size, name, "pos_weight")
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef void *pl = _p(out)
    cdef void *px = _p(x)
    cdef void *py = _p(y)
    cdef void *pww = _p(w)
    cdef void *ppw = _p(pw)
    cdef int64_t n = x.size
    cdef int st
    with nogil:
        st = f(d, pl, px, py, pww, ppw, n, p0, p1)
    check(st, name)
    return out


cdef object _pl_backward(cnp.ndarray x, object target, object weight, object pos_weight,
                         object dout, double scale, str name, pl_bwd_t f, double p0,
                         double p1):
    """dx; dout is a scalar (reduced loss) or shaped like x."""
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray y = _c(target, x.dtype, name, "target")
    if y is None:
        raise TypeError("%s: target is required" % name)
    cdef cnp.ndarray w = _c(weight, x.dtype, name, "weight")
    cdef cnp.ndarray pw = _c(pos_weight, x.dtype, name, "pos_weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, name, "grad_output")
    if g is None:
        raise TypeError("%s: grad_output is required" % name)
    _size(y, x.size, name, "target"); _size(w, x.size, name, "weight")
    _size(pw, x.size, name, "pos_weight")
    cdef int64_t ds = 0 if g.size == 1 else 1
    if ds:
        _size(g, x.size, name, "grad_output")
    cdef cnp.ndarray dx = _alloc.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *px = _p(x)
    cdef void *py = _p(y)
    cdef void *pww = _p(w)
    cdef void *ppw = _p(pw)
    cdef void *pg = _p(g)
    cdef int64_t n = x.size
    cdef int st
    with nogil:
        st = f(d, pd, px, py, pww, ppw, pg, n, ds, scale, p0, p1)
    check(st, name)
    return dx


cdef int _mse_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                       const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_mse_loss_forward_f64, fdl_mse_loss_forward_f32, l, x, y, n)

cdef int _mse_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                       const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_mse_loss_backward_f64, fdl_mse_loss_backward_f32, dx, x, y, g, n, ds,
                    sc)


cdef int _l1_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                      const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_l1_loss_forward_f64, fdl_l1_loss_forward_f32, l, x, y, n)

cdef int _l1_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                      const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_l1_loss_backward_f64, fdl_l1_loss_backward_f32, dx, x, y, g, n, ds, sc)


cdef int _huber_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                         const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_huber_loss_forward_f64, fdl_huber_loss_forward_f32, l, x, y, n, p0)

cdef int _huber_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                         const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_huber_loss_backward_f64, fdl_huber_loss_backward_f32, dx, x, y, g, n,
                    ds, sc, p0)


cdef int _smooth_l1_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                             const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_smooth_l1_loss_forward_f64, fdl_smooth_l1_loss_forward_f32, l, x, y, n,
                    p0)

cdef int _smooth_l1_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                             const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_smooth_l1_loss_backward_f64, fdl_smooth_l1_loss_backward_f32, dx, x, y,
                    g, n, ds, sc, p0)


cdef int _binary_cross_entropy_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                                   const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_binary_cross_entropy_forward_f64, fdl_binary_cross_entropy_forward_f32,
                    l, x, y, w, n)

cdef int _binary_cross_entropy_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                                   const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_binary_cross_entropy_backward_f64,
                    fdl_binary_cross_entropy_backward_f32, dx, x, y, w, g, n, ds, sc)


cdef int _binary_cross_entropy_with_logits_fwd(bint d, void *l, const void *x, const void *y,
                                               const void *w, const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_binary_cross_entropy_with_logits_forward_f64,
                    fdl_binary_cross_entropy_with_logits_forward_f32, l, x, y, w, pw, n)

cdef int _binary_cross_entropy_with_logits_bwd(bint d, void *dx, const void *x, const void *y,
                                               const void *w, const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_binary_cross_entropy_with_logits_backward_f64,
                    fdl_binary_cross_entropy_with_logits_backward_f32, dx, x, y, w, pw, g, n, ds, sc)


cdef int _hinge_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                         const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_hinge_loss_forward_f64, fdl_hinge_loss_forward_f32, l, x, y, n)

cdef int _hinge_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                         const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_hinge_loss_backward_f64, fdl_hinge_loss_backward_f32, dx, x, y, g, n,
                    ds, sc)


cdef int _hinge_embedding_loss_fwd(bint d, void *l, const void *x, const void *y, const void *w,
                                   const void *pw, int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_hinge_embedding_loss_forward_f64, fdl_hinge_embedding_loss_forward_f32,
                    l, x, y, n, p0)

cdef int _hinge_embedding_loss_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                                   const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_hinge_embedding_loss_backward_f64,
                    fdl_hinge_embedding_loss_backward_f32, dx, x, y, g, n, ds, sc, p0)


cdef int _kl_div_fwd(bint d, void *l, const void *x, const void *y, const void *w, const void *pw,
                     int64_t n, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_kl_div_forward_f64, fdl_kl_div_forward_f32, l, x, y, n, <int>p0)

cdef int _kl_div_bwd(bint d, void *dx, const void *x, const void *y, const void *w,
                     const void *pw, const void *g, int64_t n, int64_t ds, double sc, double p0, double p1) noexcept nogil:
    return by_dtype(d, fdl_kl_div_backward_f64, fdl_kl_div_backward_f32, dx, x, y, g, n, ds, sc,
                    <int>p0)


def mse_loss_forward(cnp.ndarray x not None, target):
    """Unreduced loss shaped like x (fdl_mse_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "mse_loss", _mse_loss_fwd, 0.0, 0.0)


def mse_loss_backward(cnp.ndarray x not None, target, dout, double scale):
    """dx += scale * dout * dloss/dx (fdl_mse_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "mse_loss", _mse_loss_bwd, 0.0, 0.0)


def l1_loss_forward(cnp.ndarray x not None, target):
    """Unreduced loss shaped like x (fdl_l1_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "l1_loss", _l1_loss_fwd, 0.0, 0.0)


def l1_loss_backward(cnp.ndarray x not None, target, dout, double scale):
    """dx += scale * dout * dloss/dx (fdl_l1_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "l1_loss", _l1_loss_bwd, 0.0, 0.0)


def huber_loss_forward(cnp.ndarray x not None, target, double delta):
    """Unreduced loss shaped like x (fdl_huber_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "huber_loss", _huber_loss_fwd, delta, 0.0)


def huber_loss_backward(cnp.ndarray x not None, target, dout, double scale, double delta):
    """dx += scale * dout * dloss/dx (fdl_huber_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "huber_loss", _huber_loss_bwd, delta, 0.0)


def smooth_l1_loss_forward(cnp.ndarray x not None, target, double beta):
    """Unreduced loss shaped like x (fdl_smooth_l1_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "smooth_l1_loss", _smooth_l1_loss_fwd, beta, 0.0)


def smooth_l1_loss_backward(cnp.ndarray x not None, target, dout, double scale, double beta):
    """dx += scale * dout * dloss/dx (fdl_smooth_l1_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "smooth_l1_loss", _smooth_l1_loss_bwd, beta, 0.0)


def binary_cross_entropy_forward(cnp.ndarray x not None, target, weight=None):
    """Unreduced loss shaped like x (fdl_binary_cross_entropy_forward_f32/_f64)."""
    return _pl_forward(x, target, weight, None, "binary_cross_entropy", _binary_cross_entropy_fwd, 0.0, 0.0)


def binary_cross_entropy_backward(cnp.ndarray x not None, target, dout, double scale, weight=None):
    """dx += scale * dout * dloss/dx (fdl_binary_cross_entropy_backward_f32/_f64)."""
    return _pl_backward(x, target, weight, None, dout, scale, "binary_cross_entropy", _binary_cross_entropy_bwd, 0.0, 0.0)


def binary_cross_entropy_with_logits_forward(cnp.ndarray x not None, target, weight=None, pos_weight=None):
    """Unreduced loss shaped like x (fdl_binary_cross_entropy_with_logits_forward_f32/_f64)."""
    return _pl_forward(x, target, weight, pos_weight, "binary_cross_entropy_with_logits", _binary_cross_entropy_with_logits_fwd, 0.0, 0.0)


def binary_cross_entropy_with_logits_backward(cnp.ndarray x not None, target, dout, double scale, weight=None, pos_weight=None):
    """dx += scale * dout * dloss/dx (fdl_binary_cross_entropy_with_logits_backward_f32/_f64)."""
    return _pl_backward(x, target, weight, pos_weight, dout, scale, "binary_cross_entropy_with_logits", _binary_cross_entropy_with_logits_bwd, 0.0, 0.0)


def hinge_loss_forward(cnp.ndarray x not None, target):
    """Unreduced loss shaped like x (fdl_hinge_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "hinge_loss", _hinge_loss_fwd, 0.0, 0.0)


def hinge_loss_backward(cnp.ndarray x not None, target, dout, double scale):
    """dx += scale * dout * dloss/dx (fdl_hinge_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "hinge_loss", _hinge_loss_bwd, 0.0, 0.0)


def hinge_embedding_loss_forward(cnp.ndarray x not None, target, double margin):
    """Unreduced loss shaped like x (fdl_hinge_embedding_loss_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "hinge_embedding_loss", _hinge_embedding_loss_fwd, margin, 0.0)


def hinge_embedding_loss_backward(cnp.ndarray x not None, target, dout, double scale, double margin):
    """dx += scale * dout * dloss/dx (fdl_hinge_embedding_loss_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "hinge_embedding_loss", _hinge_embedding_loss_bwd, margin, 0.0)


def kl_div_forward(cnp.ndarray x not None, target, bint log_target):
    """Unreduced loss shaped like x (fdl_kl_div_forward_f32/_f64)."""
    return _pl_forward(x, target, None, None, "kl_div", _kl_div_fwd, log_target, 0.0)


def kl_div_backward(cnp.ndarray x not None, target, dout, double scale, bint log_target):
    """dx += scale * dout * dloss/dx (fdl_kl_div_backward_f32/_f64)."""
    return _pl_backward(x, target, None, None, dout, scale, "kl_div", _kl_div_bwd, log_target, 0.0)


# ---- class losses over rows [N, C] ------------------------------------------------

cdef inline int64_t _gstride(cnp.ndarray g, int64_t n, str op) except -1:
    if g.size == 1:
        return 0
    _size(g, n, op, "grad_output")
    return 1


def cross_entropy_forward(cnp.ndarray x not None, target, weight, int64_t ignore_index,
                          double label_smoothing):
    """(loss[N], lse[N]) of logits x[N, C]; target int64[N] or probabilities [N, C]."""
    cdef bint d = _f64(x, "cross_entropy")
    _rank(x, 2, "cross_entropy", "input", "(N, C)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef bint prob = np.asarray(target).dtype.kind == "f"
    cdef cnp.ndarray t = _c(target, x.dtype if prob else np.int64, "cross_entropy", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "cross_entropy", "weight")
    _size(t, N * C if prob else N, "cross_entropy", "target")
    _size(w, C, "cross_entropy", "weight")
    cdef cnp.ndarray loss = _alloc.empty(N, x.dtype)
    cdef cnp.ndarray lse = _alloc.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *ps = _p(lse)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef int st = 0
    with nogil:
        if prob:
            st = by_dtype(d, fdl_cross_entropy_prob_forward_f64, fdl_cross_entropy_prob_forward_f32,
                          pl, ps, px, pt, pw, N, C, label_smoothing)
        else:
            st = by_dtype(d, fdl_cross_entropy_forward_f64, fdl_cross_entropy_forward_f32, pl, ps,
                          px, <int64_t *>pt, pw, N, C, ignore_index, label_smoothing)
    if st == FDL_ERR_ARG and not prob:
        _indices(t, C, "cross_entropy", "target", "classes", True, ignore_index)
    check(st, "cross_entropy")
    return loss, lse


def cross_entropy_backward(cnp.ndarray x not None, cnp.ndarray lse not None, target, weight, dout,
                           double scale, int64_t ignore_index, double label_smoothing):
    cdef bint d = _f64(x, "cross_entropy")
    _rank(x, 2, "cross_entropy", "input", "(N, C)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef bint prob = np.asarray(target).dtype.kind == "f"
    cdef cnp.ndarray t = _c(target, x.dtype if prob else np.int64, "cross_entropy", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "cross_entropy", "weight")
    cdef cnp.ndarray s = _c(lse, x.dtype, "cross_entropy", "lse")
    cdef cnp.ndarray g = _c(dout, x.dtype, "cross_entropy", "grad_output")
    _size(t, N * C if prob else N, "cross_entropy", "target")
    _size(w, C, "cross_entropy", "weight")
    _size(s, N, "cross_entropy", "lse")
    cdef int64_t ds = _gstride(g, N, "cross_entropy")
    cdef cnp.ndarray dx = _alloc.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *ps = _p(s)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        if prob:
            st = by_dtype(d, fdl_cross_entropy_prob_backward_f64, fdl_cross_entropy_prob_backward_f32,
                          pd, ps, px, pt, pw, pg, N, C, ds, scale, label_smoothing)
        else:
            st = by_dtype(d, fdl_cross_entropy_backward_f64, fdl_cross_entropy_backward_f32, pd,
                          ps, px, <int64_t *>pt, pw, pg, N, C, ds, scale, ignore_index,
                          label_smoothing)
    if st == FDL_ERR_ARG and not prob:
        _indices(t, C, "cross_entropy", "target", "classes", True, ignore_index)
    check(st, "cross_entropy")
    return dx


def nll_loss_forward(cnp.ndarray x not None, target, weight, int64_t ignore_index):
    cdef bint d = _f64(x, "nll_loss")
    _rank(x, 2, "nll_loss", "input", "(N, C)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "nll_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "nll_loss", "weight")
    _size(t, N, "nll_loss", "target"); _size(w, C, "nll_loss", "weight")
    cdef cnp.ndarray loss = _alloc.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_nll_loss_forward_f64, fdl_nll_loss_forward_f32, pl, px, <int64_t *>pt,
                      pw, N, C, ignore_index)
    if st == FDL_ERR_ARG:
        _indices(t, C, "nll_loss", "target", "classes", True, ignore_index)
    check(st, "nll_loss")
    return loss


def nll_loss_backward(cnp.ndarray x not None, target, weight, dout, double scale,
                      int64_t ignore_index):
    cdef bint d = _f64(x, "nll_loss")
    _rank(x, 2, "nll_loss", "input", "(N, C)")
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "nll_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "nll_loss", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "nll_loss", "grad_output")
    _size(t, N, "nll_loss", "target"); _size(w, C, "nll_loss", "weight")
    cdef int64_t ds = _gstride(g, N, "nll_loss")
    cdef cnp.ndarray dx = _alloc.zeros((N, C), x.dtype)
    cdef void *pd = _p(dx)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_nll_loss_backward_f64, fdl_nll_loss_backward_f32, pd, <int64_t *>pt,
                      pw, pg, N, C, ds, scale, ignore_index)
    if st == FDL_ERR_ARG:
        _indices(t, C, "nll_loss", "target", "classes", True, ignore_index)
    check(st, "nll_loss")
    return dx


def multi_margin_loss_forward(cnp.ndarray x not None, target, weight, int p, double margin):
    cdef bint d = _f64(x, "multi_margin_loss")
    _rank(x, 2, "multi_margin_loss", "input", "(N, C)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "multi_margin_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "multi_margin_loss", "weight")
    _size(t, N, "multi_margin_loss", "target"); _size(w, C, "multi_margin_loss", "weight")
    cdef cnp.ndarray loss = _alloc.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_multi_margin_loss_forward_f64, fdl_multi_margin_loss_forward_f32, pl,
                      px, <int64_t *>pt, pw, N, C, p, margin)
    if st == FDL_ERR_ARG:
        _indices(t, C, "multi_margin_loss", "target", "classes", False)
    check(st, "multi_margin_loss")
    return loss


def multi_margin_loss_backward(cnp.ndarray x not None, target, weight, dout, double scale, int p,
                               double margin):
    cdef bint d = _f64(x, "multi_margin_loss")
    _rank(x, 2, "multi_margin_loss", "input", "(N, C)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "multi_margin_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "multi_margin_loss", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "multi_margin_loss", "grad_output")
    _size(t, N, "multi_margin_loss", "target"); _size(w, C, "multi_margin_loss", "weight")
    cdef int64_t ds = _gstride(g, N, "multi_margin_loss")
    cdef cnp.ndarray dx = _alloc.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_multi_margin_loss_backward_f64, fdl_multi_margin_loss_backward_f32,
                      pd, px, <int64_t *>pt, pw, pg, N, C, ds, scale, p, margin)
    if st == FDL_ERR_ARG:
        _indices(t, C, "multi_margin_loss", "target", "classes", False)
    check(st, "multi_margin_loss")
    return dx


def triplet_margin_loss_forward(cnp.ndarray a not None, positive, negative, double margin,
                                double p, double eps, bint swap):
    """(loss[N], dist[N, 3]) for a, positive, negative [N, D]."""
    cdef bint d = _f64(a, "triplet_margin_loss")
    _rank(a, 2, "triplet_margin_loss", "input", "(N, D)")
    a = np.ascontiguousarray(a)
    cdef cnp.ndarray po = _c(positive, a.dtype, "triplet_margin_loss", "positive")
    cdef cnp.ndarray ne = _c(negative, a.dtype, "triplet_margin_loss", "negative")
    cdef int64_t N = a.shape[0], D_ = a.shape[1]
    _size(po, N * D_, "triplet_margin_loss", "positive")
    _size(ne, N * D_, "triplet_margin_loss", "negative")
    cdef cnp.ndarray loss = _alloc.empty(N, a.dtype)
    cdef cnp.ndarray dist = _alloc.empty((N, 3), a.dtype)
    cdef void *pl = _p(loss)
    cdef void *pdist = _p(dist)
    cdef void *pa = _p(a)
    cdef void *pp = _p(po)
    cdef void *pn = _p(ne)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_triplet_margin_loss_forward_f64, fdl_triplet_margin_loss_forward_f32,
                      pl, pdist, pa, pp, pn, N, D_, margin, p, eps, swap)
    check(st, "triplet_margin_loss")
    return loss, dist


def triplet_margin_loss_backward(cnp.ndarray dist not None, cnp.ndarray a not None, positive,
                                 negative, dout, double scale, double margin, double p,
                                 double eps, bint swap):
    """(d_anchor, d_positive, d_negative)."""
    cdef bint d = _f64(a, "triplet_margin_loss")
    _rank(a, 2, "triplet_margin_loss", "input", "(N, D)")
    a = np.ascontiguousarray(a)
    cdef cnp.ndarray po = _c(positive, a.dtype, "triplet_margin_loss", "positive")
    cdef cnp.ndarray ne = _c(negative, a.dtype, "triplet_margin_loss", "negative")
    cdef cnp.ndarray ds_ = _c(dist, a.dtype, "triplet_margin_loss", "dist")
    cdef cnp.ndarray g = _c(dout, a.dtype, "triplet_margin_loss", "grad_output")
    cdef int64_t N = a.shape[0], D_ = a.shape[1]
    _size(po, N * D_, "triplet_margin_loss", "positive")
    _size(ne, N * D_, "triplet_margin_loss", "negative")
    _size(ds_, N * 3, "triplet_margin_loss", "dist")
    cdef int64_t gs = _gstride(g, N, "triplet_margin_loss")
    cdef cnp.ndarray da = _alloc.zeros_like(a)
    cdef cnp.ndarray dp = _alloc.zeros_like(a)
    cdef cnp.ndarray dn = _alloc.zeros_like(a)
    cdef void *pda = _p(da)
    cdef void *pdp = _p(dp)
    cdef void *pdn = _p(dn)
    cdef void *pdist = _p(ds_)
    cdef void *pa = _p(a)
    cdef void *pp = _p(po)
    cdef void *pn = _p(ne)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_triplet_margin_loss_backward_f64, fdl_triplet_margin_loss_backward_f32,
                      pda, pdp, pdn, pdist, pa, pp, pn, pg, N, D_, gs, scale, margin, p, eps, swap)
    check(st, "triplet_margin_loss")
    return da, dp, dn


def cosine_embedding_loss_forward(cnp.ndarray x1 not None, x2, y, double margin):
    """(loss[N], saved[N, 3]) for x1, x2 [N, D] and y[N] in {-1, 1}."""
    cdef bint d = _f64(x1, "cosine_embedding_loss")
    _rank(x1, 2, "cosine_embedding_loss", "input", "(N, D)")
    x1 = np.ascontiguousarray(x1)
    cdef cnp.ndarray b = _c(x2, x1.dtype, "cosine_embedding_loss", "input2")
    cdef cnp.ndarray yy = _c(y, x1.dtype, "cosine_embedding_loss", "target")
    cdef int64_t N = x1.shape[0], D_ = x1.shape[1]
    _size(b, N * D_, "cosine_embedding_loss", "input2")
    _size(yy, N, "cosine_embedding_loss", "target")
    cdef cnp.ndarray loss = _alloc.empty(N, x1.dtype)
    cdef cnp.ndarray saved = _alloc.empty((N, 3), x1.dtype)
    cdef void *pl = _p(loss)
    cdef void *ps = _p(saved)
    cdef void *pa = _p(x1)
    cdef void *pb = _p(b)
    cdef void *py = _p(yy)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_cosine_embedding_loss_forward_f64, fdl_cosine_embedding_loss_forward_f32,
                      pl, ps, pa, pb, py, N, D_, margin)
    check(st, "cosine_embedding_loss")
    return loss, saved


def cosine_embedding_loss_backward(cnp.ndarray saved not None, cnp.ndarray x1 not None, x2, y,
                                   dout, double scale, double margin):
    cdef bint d = _f64(x1, "cosine_embedding_loss")
    _rank(x1, 2, "cosine_embedding_loss", "input", "(N, D)")
    x1 = np.ascontiguousarray(x1)
    cdef cnp.ndarray b = _c(x2, x1.dtype, "cosine_embedding_loss", "input2")
    cdef cnp.ndarray yy = _c(y, x1.dtype, "cosine_embedding_loss", "target")
    cdef cnp.ndarray sv = _c(saved, x1.dtype, "cosine_embedding_loss", "saved")
    cdef cnp.ndarray g = _c(dout, x1.dtype, "cosine_embedding_loss", "grad_output")
    cdef int64_t N = x1.shape[0], D_ = x1.shape[1]
    _size(b, N * D_, "cosine_embedding_loss", "input2")
    _size(yy, N, "cosine_embedding_loss", "target")
    _size(sv, N * 3, "cosine_embedding_loss", "saved")
    cdef int64_t gs = _gstride(g, N, "cosine_embedding_loss")
    cdef cnp.ndarray d1 = _alloc.zeros_like(x1)
    cdef cnp.ndarray d2 = _alloc.zeros_like(x1)
    cdef void *p1 = _p(d1)
    cdef void *p2 = _p(d2)
    cdef void *ps = _p(sv)
    cdef void *pa = _p(x1)
    cdef void *pb = _p(b)
    cdef void *py = _p(yy)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_cosine_embedding_loss_backward_f64, fdl_cosine_embedding_loss_backward_f32,
                      p1, p2, ps, pa, pb, py, pg, N, D_, gs, scale, margin)
    check(st, "cosine_embedding_loss")
    return d1, d2


# ---- pooling: x[P, H, W] ----------------------------------------------------------------

def max_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw):
    """(out[..., OH, OW], argmax int64) of x[..., H, W]."""
    cdef bint d = _f64(x, "max_pool2d")
    _rank(x, -2, "max_pool2d", "input", "(..., H, W)")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    _pool_out(H, OH, kh, sh, ph, dh, "max_pool2d", "height")
    _pool_out(W, OW, kw, sw, pw, dw, "max_pool2d", "width")
    shape = (<object>x).shape[:-2] + (OH, OW)
    cdef cnp.ndarray out = _alloc.empty(shape, x.dtype)
    cdef cnp.ndarray am = _alloc.empty(shape, np.int64)
    cdef void *po = _p(out)
    cdef void *pa = _p(am)
    cdef void *px = _p(x)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_max_pool2d_forward_f64, fdl_max_pool2d_forward_f32, po, <int64_t *>pa,
                      px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)
    check(st, "max_pool2d")
    return out, am


def max_pool2d_backward(cnp.ndarray argmax not None, dout, tuple in_shape):
    g = np.ascontiguousarray(dout)
    cdef cnp.ndarray gg = g
    cdef bint d = _f64(gg, "max_pool2d")
    _pool_grad(gg, in_shape, "max_pool2d")
    cdef cnp.ndarray am = _c(argmax, np.int64, "max_pool2d", "indices")
    _size(am, gg.size, "max_pool2d", "indices")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = gg.shape[gg.ndim - 2], OW = gg.shape[gg.ndim - 1]
    cdef int64_t P = gg.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = _alloc.zeros(in_shape, gg.dtype)
    _size(dx, P * H * W, "max_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pa = _p(am)
    cdef void *pg = _p(gg)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_max_pool2d_backward_f64, fdl_max_pool2d_backward_f32, pd,
                      <int64_t *>pa, pg, P, H, W, OH, OW)
    if st == FDL_ERR_ARG:
        # -1 marks a window entirely in the padding (nothing to route)
        _indices(am, H * W, "max_pool2d", "index", "elements of an input plane", True, -1)
    check(st, "max_pool2d")
    return dx


# compact argmax (one byte per output, the position inside the window; 255 routes
# nothing): a quarter of the int64 index traffic of the 2x2 case, and backward writes dx
WIN_MAX_KERNEL = 255


def max_pool2d_forward_win(cnp.ndarray x not None, int64_t OH, int64_t OW, int64_t kh,
                           int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                           int64_t dh, int64_t dw, bint relu, bint need_win):
    """(out[..., OH, OW], win uint8 or None) of x[..., H, W]; relu(max) when relu."""
    cdef bint d = _f64(x, "max_pool2d")
    _rank(x, -2, "max_pool2d", "input", "(..., H, W)")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    _pool_out(H, OH, kh, sh, ph, dh, "max_pool2d", "height")
    _pool_out(W, OW, kw, sw, pw, dw, "max_pool2d", "width")
    if kh * kw > WIN_MAX_KERNEL:
        raise ValueError("max_pool2d: the compact argmax needs a window of at most %d "
                         "elements, got %d x %d" % (WIN_MAX_KERNEL, kh, kw))
    shape = (<object>x).shape[:-2] + (OH, OW)
    cdef cnp.ndarray out = _alloc.empty(shape, x.dtype)
    cdef cnp.ndarray win = _alloc.empty(shape, np.uint8) if need_win else None
    cdef void *po = _p(out)
    cdef void *pw_ = _p(win) if need_win else NULL
    cdef void *px = _p(x)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_max_pool2d_forward_win_f64, fdl_max_pool2d_forward_win_f32, po,
                      <uint8_t *>pw_, px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, relu)
    check(st, "max_pool2d")
    return out, win


def max_pool2d_backward_win(cnp.ndarray win not None, dout, tuple in_shape, int64_t kh,
                            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                            int64_t dh, int64_t dw):
    """dx[in_shape] of dout[..., OH, OW] routed through max_pool2d_forward_win's win."""
    g = np.ascontiguousarray(dout)
    cdef cnp.ndarray gg = g
    cdef bint d = _f64(gg, "max_pool2d")
    _pool_grad(gg, in_shape, "max_pool2d")
    cdef cnp.ndarray wn = _c(win, np.uint8, "max_pool2d", "window positions")
    _size(wn, gg.size, "max_pool2d", "window positions")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = gg.shape[gg.ndim - 2], OW = gg.shape[gg.ndim - 1]
    _pool_out(H, OH, kh, sh, ph, dh, "max_pool2d", "height")
    _pool_out(W, OW, kw, sw, pw, dw, "max_pool2d", "width")
    if kh * kw > WIN_MAX_KERNEL:
        raise ValueError("max_pool2d: the compact argmax needs a window of at most %d "
                         "elements, got %d x %d" % (WIN_MAX_KERNEL, kh, kw))
    cdef cnp.ndarray dx = _alloc.empty(in_shape, gg.dtype)
    # planes from the input: every element of dx is written, even with no output
    cdef int64_t P = dx.size // (H * W) if H * W else 0
    cdef void *pd = _p(dx)
    cdef void *pa = _p(wn)
    cdef void *pg = _p(gg)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_max_pool2d_backward_win_f64, fdl_max_pool2d_backward_win_f32, pd,
                      <uint8_t *>pa, pg, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)
    if st == FDL_ERR_ARG:
        raise IndexError("max_pool2d: a window position is outside its %d x %d window"
                         % (kh, kw))
    check(st, "max_pool2d")
    return dx


def avg_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, bint count_include_pad):
    cdef bint d = _f64(x, "avg_pool2d")
    _rank(x, -2, "avg_pool2d", "input", "(..., H, W)")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    _pool_out(H, OH, kh, sh, ph, 1, "avg_pool2d", "height")
    _pool_out(W, OW, kw, sw, pw, 1, "avg_pool2d", "width")
    cdef cnp.ndarray out = _alloc.empty((<object>x).shape[:-2] + (OH, OW), x.dtype)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_avg_pool2d_forward_f64, fdl_avg_pool2d_forward_f32, po, px, P, H, W,
                      OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
    check(st, "avg_pool2d")
    return out


def avg_pool2d_backward(dout, tuple in_shape, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t ph, int64_t pw, bint count_include_pad):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "avg_pool2d")
    _pool_grad(g, in_shape, "avg_pool2d")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = g.shape[g.ndim - 2], OW = g.shape[g.ndim - 1]
    cdef int64_t P = g.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = _alloc.zeros(in_shape, g.dtype)
    _size(dx, P * H * W, "avg_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_avg_pool2d_backward_f64, fdl_avg_pool2d_backward_f32, pd, pg, P, H, W,
                      OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
    check(st, "avg_pool2d")
    return dx


def adaptive_avg_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW):
    cdef bint d = _f64(x, "adaptive_avg_pool2d")
    _rank(x, -2, "adaptive_avg_pool2d", "input", "(..., H, W)")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    if OH < 1 or OW < 1:
        raise ValueError("adaptive_avg_pool2d: output size must be >= 1, got (%d, %d)" % (OH, OW))
    cdef cnp.ndarray out = _alloc.empty((<object>x).shape[:-2] + (OH, OW), x.dtype)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_adaptive_avg_pool2d_forward_f64, fdl_adaptive_avg_pool2d_forward_f32,
                      po, px, P, H, W, OH, OW)
    check(st, "adaptive_avg_pool2d")
    return out


def adaptive_avg_pool2d_backward(dout, tuple in_shape):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "adaptive_avg_pool2d")
    _pool_grad(g, in_shape, "adaptive_avg_pool2d")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = g.shape[g.ndim - 2], OW = g.shape[g.ndim - 1]
    cdef int64_t P = g.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = _alloc.zeros(in_shape, g.dtype)
    _size(dx, P * H * W, "adaptive_avg_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_adaptive_avg_pool2d_backward_f64, fdl_adaptive_avg_pool2d_backward_f32,
                      pd, pg, P, H, W, OH, OW)
    check(st, "adaptive_avg_pool2d")
    return dx


# ---- normalization ------------------------------------------------------------------

cdef inline cnp.ndarray _inout(object a, object dtype, int64_t n, str op, str what):
    """a float array updated in place: must already be contiguous with the right dtype."""
    if a is None:
        return None
    if not isinstance(a, np.ndarray) or a.dtype != dtype or not a.flags.c_contiguous \
            or not a.flags.writeable:
        raise TypeError("%s: %s must be a writable C-contiguous %s array (it is updated in "
                        "place)" % (op, what, np.dtype(dtype)))
    _size(a, n, op, what)
    return a


def batch_norm_forward(cnp.ndarray x not None, running_mean, running_var, weight, bias,
                       bint training, double momentum, double eps, bint relu=False):
    """(out, mean[C], rstd[C]) for x[N, C, S...]; running stats updated in place when training.
    relu: out = relu(batch_norm(x)) in the same pass."""
    cdef bint d = _f64(x, "batch_norm")
    _rank(x, -2, "batch_norm", "input", "(N, C, ...)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef int64_t S = x.size // (N * C) if N * C else 0
    cdef cnp.ndarray rm = _inout(running_mean, x.dtype, C, "batch_norm", "running_mean")
    cdef cnp.ndarray rv = _inout(running_var, x.dtype, C, "batch_norm", "running_var")
    cdef cnp.ndarray w = _c(weight, x.dtype, "batch_norm", "weight")
    cdef cnp.ndarray b = _c(bias, x.dtype, "batch_norm", "bias")
    _size(w, C, "batch_norm", "weight"); _size(b, C, "batch_norm", "bias")
    if not training and (rm is None or rv is None):
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef cnp.ndarray mean = _alloc.empty(C, x.dtype)
    cdef cnp.ndarray rstd = _alloc.empty(C, x.dtype)
    cdef void *po = _p(out)
    cdef void *pm = _p(mean)
    cdef void *ps = _p(rstd)
    cdef void *prm = _p(rm)
    cdef void *prv = _p(rv)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pb = _p(b)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_batch_norm_forward_ex_f64, fdl_batch_norm_forward_ex_f32, po, pm, ps,
                      prm, prv, px, pw, pb, N, C, S, training, momentum, eps,
                      FDL_ACT_RELU if relu else FDL_ACT_NONE)
    check(st, "batch_norm")
    return out, mean, rstd


def batch_norm_backward(cnp.ndarray mean not None, cnp.ndarray rstd not None,
                        cnp.ndarray x not None, weight, dout, bint training, bint need_dx,
                        bint need_dw, bint need_db, bint relu=False, bias=None):
    """(dx, dweight, dbias), None for those not needed. relu: the forward was
    relu(batch_norm(x)) with this bias (or a batch_norm followed by a ReLU); dout counts
    only where its output is > 0 (recomputed from x, mean, rstd, weight and bias)."""
    cdef bint d = _f64(x, "batch_norm")
    _rank(x, -2, "batch_norm", "input", "(N, C, ...)")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef int64_t S = x.size // (N * C) if N * C else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "batch_norm", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "batch_norm", "grad_output")
    cdef cnp.ndarray m = _c(mean, x.dtype, "batch_norm", "mean")
    cdef cnp.ndarray r = _c(rstd, x.dtype, "batch_norm", "rstd")
    _size(w, C, "batch_norm", "weight"); _size(g, x.size, "batch_norm", "grad_output")
    _size(m, C, "batch_norm", "mean"); _size(r, C, "batch_norm", "rstd")
    cdef cnp.ndarray bb = _c(bias, x.dtype, "batch_norm", "bias")
    _size(bb, C, "batch_norm", "bias")
    cdef cnp.ndarray dx = _alloc.empty_like(x) if need_dx else None     # written, not added
    cdef cnp.ndarray dw = _alloc.zeros(C, x.dtype) if need_dw else None
    cdef cnp.ndarray db = _alloc.zeros(C, x.dtype) if need_db else None
    cdef void *pdx = _p(dx)
    cdef void *pdw = _p(dw)
    cdef void *pdb = _p(db)
    cdef void *pm = _p(m)
    cdef void *pr = _p(r)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    cdef void *pb = _p(bb)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_batch_norm_backward_ex_f64, fdl_batch_norm_backward_ex_f32, pdx, pdw,
                      pdb, pm, pr, px, pw, pb, pg, N, C, S, training,
                      FDL_ACT_RELU if relu else FDL_ACT_NONE)
    check(st, "batch_norm")
    return dx, dw, db


def layer_norm_forward(cnp.ndarray x not None, int64_t D_, weight, bias, double eps):
    """(out, mean[R], rstd[R]) normalizing x over its last D_ elements per row."""
    cdef bint d = _f64(x, "layer_norm")
    if D_ < 1 or x.size % D_:
        raise ValueError("layer_norm: normalized size %d must be >= 1 and divide the input's %d "
                         "elements" % (D_, x.size))
    x = np.ascontiguousarray(x)
    cdef int64_t R = x.size // D_ if D_ else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "layer_norm", "weight")
    cdef cnp.ndarray b = _c(bias, x.dtype, "layer_norm", "bias")
    _size(w, D_, "layer_norm", "weight"); _size(b, D_, "layer_norm", "bias")
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef cnp.ndarray mean = _alloc.empty(R, x.dtype)
    cdef cnp.ndarray rstd = _alloc.empty(R, x.dtype)
    cdef void *po = _p(out)
    cdef void *pm = _p(mean)
    cdef void *ps = _p(rstd)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pb = _p(b)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_layer_norm_forward_f64, fdl_layer_norm_forward_f32, po, pm, ps, px,
                      pw, pb, R, D_, eps)
    check(st, "layer_norm")
    return out, mean, rstd


def layer_norm_backward(cnp.ndarray mean not None, cnp.ndarray rstd not None,
                        cnp.ndarray x not None, weight, dout, int64_t D_, bint need_dx,
                        bint need_dw, bint need_db):
    cdef bint d = _f64(x, "layer_norm")
    if D_ < 1 or x.size % D_:
        raise ValueError("layer_norm: normalized size %d must be >= 1 and divide the input's %d "
                         "elements" % (D_, x.size))
    x = np.ascontiguousarray(x)
    cdef int64_t R = x.size // D_ if D_ else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "layer_norm", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "layer_norm", "grad_output")
    cdef cnp.ndarray m = _c(mean, x.dtype, "layer_norm", "mean")
    cdef cnp.ndarray r = _c(rstd, x.dtype, "layer_norm", "rstd")
    _size(w, D_, "layer_norm", "weight"); _size(g, x.size, "layer_norm", "grad_output")
    _size(m, R, "layer_norm", "mean"); _size(r, R, "layer_norm", "rstd")
    cdef cnp.ndarray dx = _alloc.zeros_like(x) if need_dx else None
    cdef cnp.ndarray dw = _alloc.zeros(D_, x.dtype) if need_dw else None
    cdef cnp.ndarray db = _alloc.zeros(D_, x.dtype) if need_db else None
    cdef void *pdx = _p(dx)
    cdef void *pdw = _p(dw)
    cdef void *pdb = _p(db)
    cdef void *pm = _p(m)
    cdef void *pr = _p(r)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_layer_norm_backward_f64, fdl_layer_norm_backward_f32, pdx, pdw, pdb,
                      pm, pr, px, pw, pg, R, D_)
    check(st, "layer_norm")
    return dx, dw, db


# ---- dropout, embedding ----------------------------------------------------------------

def dropout_forward(cnp.ndarray x not None, double p, uint64_t seed, uint64_t stream):
    """(out, mask uint8) with inverted scaling 1 / (1 - p)."""
    cdef bint d = _f64(x, "dropout")
    if not 0.0 <= p <= 1.0:
        raise ValueError("dropout: probability must be in [0, 1], got %r" % p)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray out = _alloc.empty_like(x)
    cdef cnp.ndarray mask = _alloc.empty((<object>x).shape, np.uint8)
    cdef void *po = _p(out)
    cdef void *pm = _p(mask)
    cdef void *px = _p(x)
    cdef int64_t n = x.size
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_dropout_forward_f64, fdl_dropout_forward_f32, po, <uint8_t *>pm, px,
                      n, p, seed, stream)
    check(st, "dropout")
    return out, mask


def dropout_backward(cnp.ndarray mask not None, dout, double p):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "dropout")
    if not 0.0 <= p <= 1.0:
        raise ValueError("dropout: probability must be in [0, 1], got %r" % p)
    cdef cnp.ndarray m = _c(mask, np.uint8, "dropout", "mask")
    _size(m, g.size, "dropout", "mask")
    cdef cnp.ndarray dx = _alloc.zeros_like(g)
    cdef void *pd = _p(dx)
    cdef void *pm = _p(m)
    cdef void *pg = _p(g)
    cdef int64_t n = g.size
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_dropout_backward_f64, fdl_dropout_backward_f32, pd, <uint8_t *>pm, pg,
                      n, p)
    check(st, "dropout")
    return dx


def embedding_forward(idx, cnp.ndarray weight not None):
    """weight[idx] for int64 idx in [0, V), weight (V, D)."""
    cdef bint d = _f64(weight, "embedding")
    _rank(weight, 2, "embedding", "weight", "(V, D)")
    weight = np.ascontiguousarray(weight)
    cdef cnp.ndarray ix = _c(idx, np.int64, "embedding", "input")
    cdef int64_t N = ix.size, D_ = weight.shape[1]
    _indices(ix, weight.shape[0], "embedding", "index", "rows of weight")
    cdef cnp.ndarray out = _alloc.empty((<object>ix).shape + (D_,), weight.dtype)
    cdef void *po = _p(out)
    cdef void *pi = _p(ix)
    cdef void *pw = _p(weight)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_embedding_forward_f64, fdl_embedding_forward_f32, po, <int64_t *>pi,
                      pw, N, D_)
    check(st, "embedding")
    return out


def embedding_backward(idx, dout, tuple weight_shape, int64_t padding_idx):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "embedding")
    cdef cnp.ndarray ix = _c(idx, np.int64, "embedding", "input")
    if len(weight_shape) != 2 or weight_shape[0] < 0 or weight_shape[1] < 0:
        raise ValueError("embedding: expected weight shape (V, D), got %s" % (weight_shape,))
    cdef int64_t N = ix.size, D_ = weight_shape[1]
    _indices(ix, weight_shape[0], "embedding", "index", "rows of weight")
    _size(g, N * D_, "embedding", "grad_output")
    cdef cnp.ndarray dw = _alloc.zeros(weight_shape, g.dtype)
    cdef void *pd = _p(dw)
    cdef void *pi = _p(ix)
    cdef void *pg = _p(g)
    cdef int st = 0
    with nogil:
        st = by_dtype(d, fdl_embedding_backward_f64, fdl_embedding_backward_f32, pd, <int64_t *>pi,
                      pg, N, D_, padding_idx)
    check(st, "embedding")
    return dw
