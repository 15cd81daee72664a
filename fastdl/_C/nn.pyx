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
from libc.stdint cimport int64_t, uint64_t, uint8_t

cnp.import_array()

ctypedef float F
ctypedef double D


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


# ---- activations -----------------------------------------------------------

ACTIVATIONS = {"relu": 0, "leaky_relu": 1, "elu": 2, "gelu": 3, "gelu_tanh": 4, "sigmoid": 5,
               "tanh": 6, "softplus": 7, "silu": 8}
cdef list _ACT_NAMES = sorted(ACTIVATIONS, key=ACTIVATIONS.get)
# backward reads the forward output (True) or the input (False)
ACT_USES_OUTPUT = {"sigmoid": True, "tanh": True}


cdef void _act_fwd(int op, bint d, void *o, void *x, int64_t n, double p0, double p1) noexcept nogil:
    if op == 0:
        if d: fdl_relu_forward_f64(<D *>o, <D *>x, n)
        else: fdl_relu_forward_f32(<F *>o, <F *>x, n)
    elif op == 1:
        if d: fdl_leaky_relu_forward_f64(<D *>o, <D *>x, n, p0)
        else: fdl_leaky_relu_forward_f32(<F *>o, <F *>x, n, <F>p0)
    elif op == 2:
        if d: fdl_elu_forward_f64(<D *>o, <D *>x, n, p0)
        else: fdl_elu_forward_f32(<F *>o, <F *>x, n, <F>p0)
    elif op == 3 or op == 4:
        if d: fdl_gelu_forward_f64(<D *>o, <D *>x, n, op == 4)
        else: fdl_gelu_forward_f32(<F *>o, <F *>x, n, op == 4)
    elif op == 5:
        if d: fdl_sigmoid_forward_f64(<D *>o, <D *>x, n)
        else: fdl_sigmoid_forward_f32(<F *>o, <F *>x, n)
    elif op == 6:
        if d: fdl_tanh_forward_f64(<D *>o, <D *>x, n)
        else: fdl_tanh_forward_f32(<F *>o, <F *>x, n)
    elif op == 7:
        if d: fdl_softplus_forward_f64(<D *>o, <D *>x, n, p0, p1)
        else: fdl_softplus_forward_f32(<F *>o, <F *>x, n, <F>p0, <F>p1)
    elif op == 8:
        if d: fdl_silu_forward_f64(<D *>o, <D *>x, n)
        else: fdl_silu_forward_f32(<F *>o, <F *>x, n)


cdef void _act_bwd(int op, bint d, void *dx, void *s, void *g, int64_t n, double p0, double p1) noexcept nogil:
    if op == 0:
        if d: fdl_relu_backward_f64(<D *>dx, <D *>s, <D *>g, n)
        else: fdl_relu_backward_f32(<F *>dx, <F *>s, <F *>g, n)
    elif op == 1:
        if d: fdl_leaky_relu_backward_f64(<D *>dx, <D *>s, <D *>g, n, p0)
        else: fdl_leaky_relu_backward_f32(<F *>dx, <F *>s, <F *>g, n, <F>p0)
    elif op == 2:
        if d: fdl_elu_backward_f64(<D *>dx, <D *>s, <D *>g, n, p0)
        else: fdl_elu_backward_f32(<F *>dx, <F *>s, <F *>g, n, <F>p0)
    elif op == 3 or op == 4:
        if d: fdl_gelu_backward_f64(<D *>dx, <D *>s, <D *>g, n, op == 4)
        else: fdl_gelu_backward_f32(<F *>dx, <F *>s, <F *>g, n, op == 4)
    elif op == 5:
        if d: fdl_sigmoid_backward_f64(<D *>dx, <D *>s, <D *>g, n)
        else: fdl_sigmoid_backward_f32(<F *>dx, <F *>s, <F *>g, n)
    elif op == 6:
        if d: fdl_tanh_backward_f64(<D *>dx, <D *>s, <D *>g, n)
        else: fdl_tanh_backward_f32(<F *>dx, <F *>s, <F *>g, n)
    elif op == 7:
        if d: fdl_softplus_backward_f64(<D *>dx, <D *>s, <D *>g, n, p0, p1)
        else: fdl_softplus_backward_f32(<F *>dx, <F *>s, <F *>g, n, <F>p0, <F>p1)
    elif op == 8:
        if d: fdl_silu_backward_f64(<D *>dx, <D *>s, <D *>g, n)
        else: fdl_silu_backward_f32(<F *>dx, <F *>s, <F *>g, n)


def activation_forward(int op, cnp.ndarray x not None, double p0=0.0, double p1=0.0):
    """out = act(x) for op in ACTIVATIONS; p0, p1 are the op's parameters."""
    cdef str name = _ACT_NAMES[op]
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray out = np.empty_like(x)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    cdef int64_t n = x.size
    with nogil:
        _act_fwd(op, d, po, px, n, p0, p1)
    return out


def activation_backward(int op, cnp.ndarray saved not None, dout, double p0=0.0, double p1=0.0):
    """dx for op; saved is the forward input, or its output for sigmoid and tanh."""
    cdef str name = _ACT_NAMES[op]
    cdef bint d = _f64(saved, name)
    saved = np.ascontiguousarray(saved)
    cdef cnp.ndarray g = _c(dout, saved.dtype, name, "grad_output")
    _size(g, saved.size, name, "grad_output")
    cdef cnp.ndarray dx = np.zeros_like(saved)
    cdef void *pd = _p(dx)
    cdef void *ps = _p(saved)
    cdef void *pg = _p(g)
    cdef int64_t n = saved.size
    with nogil:
        _act_bwd(op, d, pd, ps, pg, n, p0, p1)
    return dx


def softmax_forward(cnp.ndarray x not None, int64_t outer, int64_t dim, int64_t inner, bint log):
    """softmax (or log_softmax) over the middle axis of x viewed as [outer, dim, inner]."""
    cdef str name = "log_softmax" if log else "softmax"
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    _size(x, outer * dim * inner, name, "input")
    cdef cnp.ndarray out = np.empty_like(x)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    with nogil:
        if d:
            if log: fdl_log_softmax_forward_f64(<D *>po, <D *>px, outer, dim, inner)
            else: fdl_softmax_forward_f64(<D *>po, <D *>px, outer, dim, inner)
        else:
            if log: fdl_log_softmax_forward_f32(<F *>po, <F *>px, outer, dim, inner)
            else: fdl_softmax_forward_f32(<F *>po, <F *>px, outer, dim, inner)
    return out


def softmax_backward(cnp.ndarray out not None, dout, int64_t outer, int64_t dim, int64_t inner,
                     bint log):
    cdef str name = "log_softmax" if log else "softmax"
    cdef bint d = _f64(out, name)
    out = np.ascontiguousarray(out)
    cdef cnp.ndarray g = _c(dout, out.dtype, name, "grad_output")
    _size(out, outer * dim * inner, name, "output")
    _size(g, outer * dim * inner, name, "grad_output")
    cdef cnp.ndarray dx = np.zeros_like(out)
    cdef void *pd = _p(dx)
    cdef void *po = _p(out)
    cdef void *pg = _p(g)
    with nogil:
        if d:
            if log: fdl_log_softmax_backward_f64(<D *>pd, <D *>po, <D *>pg, outer, dim, inner)
            else: fdl_softmax_backward_f64(<D *>pd, <D *>po, <D *>pg, outer, dim, inner)
        else:
            if log: fdl_log_softmax_backward_f32(<F *>pd, <F *>po, <F *>pg, outer, dim, inner)
            else: fdl_softmax_backward_f32(<F *>pd, <F *>po, <F *>pg, outer, dim, inner)
    return dx


# ---- pointwise losses ---------------------------------------------------------

POINTWISE_LOSSES = {"mse_loss": 0, "l1_loss": 1, "huber_loss": 2, "smooth_l1_loss": 3,
                    "binary_cross_entropy": 4, "binary_cross_entropy_with_logits": 5,
                    "hinge_loss": 6, "hinge_embedding_loss": 7, "kl_div": 8}
cdef list _PL_NAMES = sorted(POINTWISE_LOSSES, key=POINTWISE_LOSSES.get)


cdef void _pl_fwd(int op, bint d, void *l, void *x, void *y, void *w, void *pw, int64_t n,
                  double p0, int ip) noexcept nogil:
    if d:
        if op == 0: fdl_mse_loss_forward_f64(<D *>l, <D *>x, <D *>y, n)
        elif op == 1: fdl_l1_loss_forward_f64(<D *>l, <D *>x, <D *>y, n)
        elif op == 2: fdl_huber_loss_forward_f64(<D *>l, <D *>x, <D *>y, n, p0)
        elif op == 3: fdl_smooth_l1_loss_forward_f64(<D *>l, <D *>x, <D *>y, n, p0)
        elif op == 4: fdl_binary_cross_entropy_forward_f64(<D *>l, <D *>x, <D *>y, <D *>w, n)
        elif op == 5: fdl_binary_cross_entropy_with_logits_forward_f64(<D *>l, <D *>x, <D *>y, <D *>w, <D *>pw, n)
        elif op == 6: fdl_hinge_loss_forward_f64(<D *>l, <D *>x, <D *>y, n)
        elif op == 7: fdl_hinge_embedding_loss_forward_f64(<D *>l, <D *>x, <D *>y, n, p0)
        elif op == 8: fdl_kl_div_forward_f64(<D *>l, <D *>x, <D *>y, n, ip)
    else:
        if op == 0: fdl_mse_loss_forward_f32(<F *>l, <F *>x, <F *>y, n)
        elif op == 1: fdl_l1_loss_forward_f32(<F *>l, <F *>x, <F *>y, n)
        elif op == 2: fdl_huber_loss_forward_f32(<F *>l, <F *>x, <F *>y, n, <F>p0)
        elif op == 3: fdl_smooth_l1_loss_forward_f32(<F *>l, <F *>x, <F *>y, n, <F>p0)
        elif op == 4: fdl_binary_cross_entropy_forward_f32(<F *>l, <F *>x, <F *>y, <F *>w, n)
        elif op == 5: fdl_binary_cross_entropy_with_logits_forward_f32(<F *>l, <F *>x, <F *>y, <F *>w, <F *>pw, n)
        elif op == 6: fdl_hinge_loss_forward_f32(<F *>l, <F *>x, <F *>y, n)
        elif op == 7: fdl_hinge_embedding_loss_forward_f32(<F *>l, <F *>x, <F *>y, n, <F>p0)
        elif op == 8: fdl_kl_div_forward_f32(<F *>l, <F *>x, <F *>y, n, ip)


cdef void _pl_bwd(int op, bint d, void *dx, void *x, void *y, void *w, void *pw, void *g,
                  int64_t n, int64_t ds, double sc, double p0, int ip) noexcept nogil:
    if d:
        if op == 0: fdl_mse_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc)
        elif op == 1: fdl_l1_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc)
        elif op == 2: fdl_huber_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc, p0)
        elif op == 3: fdl_smooth_l1_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc, p0)
        elif op == 4: fdl_binary_cross_entropy_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>w, <D *>g, n, ds, sc)
        elif op == 5: fdl_binary_cross_entropy_with_logits_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>w, <D *>pw, <D *>g, n, ds, sc)
        elif op == 6: fdl_hinge_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc)
        elif op == 7: fdl_hinge_embedding_loss_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc, p0)
        elif op == 8: fdl_kl_div_backward_f64(<D *>dx, <D *>x, <D *>y, <D *>g, n, ds, sc, ip)
    else:
        if op == 0: fdl_mse_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc)
        elif op == 1: fdl_l1_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc)
        elif op == 2: fdl_huber_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc, <F>p0)
        elif op == 3: fdl_smooth_l1_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc, <F>p0)
        elif op == 4: fdl_binary_cross_entropy_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>w, <F *>g, n, ds, <F>sc)
        elif op == 5: fdl_binary_cross_entropy_with_logits_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>w, <F *>pw, <F *>g, n, ds, <F>sc)
        elif op == 6: fdl_hinge_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc)
        elif op == 7: fdl_hinge_embedding_loss_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc, <F>p0)
        elif op == 8: fdl_kl_div_backward_f32(<F *>dx, <F *>x, <F *>y, <F *>g, n, ds, <F>sc, ip)


def pointwise_loss_forward(int op, cnp.ndarray x not None, target, weight=None, pos_weight=None,
                           double p0=0.0, int ip=0):
    """Unreduced loss, shaped like x. target, weight, pos_weight: same size as x."""
    cdef str name = _PL_NAMES[op]
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray y = _c(target, x.dtype, name, "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, name, "weight")
    cdef cnp.ndarray pw = _c(pos_weight, x.dtype, name, "pos_weight")
    _size(y, x.size, name, "target"); _size(w, x.size, name, "weight")
    _size(pw, x.size, name, "pos_weight")
    cdef cnp.ndarray out = np.empty_like(x)
    cdef void *pl = _p(out)
    cdef void *px = _p(x)
    cdef void *py = _p(y)
    cdef void *pww = _p(w)
    cdef void *ppw = _p(pw)
    cdef int64_t n = x.size
    with nogil:
        _pl_fwd(op, d, pl, px, py, pww, ppw, n, p0, ip)
    return out


def pointwise_loss_backward(int op, cnp.ndarray x not None, target, weight, pos_weight, dout,
                            double scale, double p0=0.0, int ip=0):
    """dx; dout is a scalar (reduced loss) or shaped like x."""
    cdef str name = _PL_NAMES[op]
    cdef bint d = _f64(x, name)
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray y = _c(target, x.dtype, name, "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, name, "weight")
    cdef cnp.ndarray pw = _c(pos_weight, x.dtype, name, "pos_weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, name, "grad_output")
    _size(y, x.size, name, "target"); _size(w, x.size, name, "weight")
    _size(pw, x.size, name, "pos_weight")
    cdef int64_t ds = 0 if g.size == 1 else 1
    if ds:
        _size(g, x.size, name, "grad_output")
    cdef cnp.ndarray dx = np.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *px = _p(x)
    cdef void *py = _p(y)
    cdef void *pww = _p(w)
    cdef void *ppw = _p(pw)
    cdef void *pg = _p(g)
    cdef int64_t n = x.size
    with nogil:
        _pl_bwd(op, d, pd, px, py, pww, ppw, pg, n, ds, scale, p0, ip)
    return dx


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
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef bint prob = np.asarray(target).dtype.kind == "f"
    cdef cnp.ndarray t = _c(target, x.dtype if prob else np.int64, "cross_entropy", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "cross_entropy", "weight")
    _size(t, N * C if prob else N, "cross_entropy", "target")
    _size(w, C, "cross_entropy", "weight")
    cdef cnp.ndarray loss = np.empty(N, x.dtype)
    cdef cnp.ndarray lse = np.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *ps = _p(lse)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    with nogil:
        if prob:
            if d: fdl_cross_entropy_prob_forward_f64(<D *>pl, <D *>ps, <D *>px, <D *>pt, <D *>pw, N, C, label_smoothing)
            else: fdl_cross_entropy_prob_forward_f32(<F *>pl, <F *>ps, <F *>px, <F *>pt, <F *>pw, N, C, <F>label_smoothing)
        else:
            if d: fdl_cross_entropy_forward_f64(<D *>pl, <D *>ps, <D *>px, <int64_t *>pt, <D *>pw, N, C, ignore_index, label_smoothing)
            else: fdl_cross_entropy_forward_f32(<F *>pl, <F *>ps, <F *>px, <int64_t *>pt, <F *>pw, N, C, ignore_index, <F>label_smoothing)
    return loss, lse


def cross_entropy_backward(cnp.ndarray x not None, cnp.ndarray lse not None, target, weight, dout,
                           double scale, int64_t ignore_index, double label_smoothing):
    cdef bint d = _f64(x, "cross_entropy")
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
    cdef cnp.ndarray dx = np.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *ps = _p(s)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    with nogil:
        if prob:
            if d: fdl_cross_entropy_prob_backward_f64(<D *>pd, <D *>ps, <D *>px, <D *>pt, <D *>pw, <D *>pg, N, C, ds, scale, label_smoothing)
            else: fdl_cross_entropy_prob_backward_f32(<F *>pd, <F *>ps, <F *>px, <F *>pt, <F *>pw, <F *>pg, N, C, ds, <F>scale, <F>label_smoothing)
        else:
            if d: fdl_cross_entropy_backward_f64(<D *>pd, <D *>ps, <D *>px, <int64_t *>pt, <D *>pw, <D *>pg, N, C, ds, scale, ignore_index, label_smoothing)
            else: fdl_cross_entropy_backward_f32(<F *>pd, <F *>ps, <F *>px, <int64_t *>pt, <F *>pw, <F *>pg, N, C, ds, <F>scale, ignore_index, <F>label_smoothing)
    return dx


def nll_loss_forward(cnp.ndarray x not None, target, weight, int64_t ignore_index):
    cdef bint d = _f64(x, "nll_loss")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "nll_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "nll_loss", "weight")
    _size(t, N, "nll_loss", "target"); _size(w, C, "nll_loss", "weight")
    cdef cnp.ndarray loss = np.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    with nogil:
        if d: fdl_nll_loss_forward_f64(<D *>pl, <D *>px, <int64_t *>pt, <D *>pw, N, C, ignore_index)
        else: fdl_nll_loss_forward_f32(<F *>pl, <F *>px, <int64_t *>pt, <F *>pw, N, C, ignore_index)
    return loss


def nll_loss_backward(cnp.ndarray x not None, target, weight, dout, double scale,
                      int64_t ignore_index):
    cdef bint d = _f64(x, "nll_loss")
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "nll_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "nll_loss", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "nll_loss", "grad_output")
    _size(t, N, "nll_loss", "target"); _size(w, C, "nll_loss", "weight")
    cdef int64_t ds = _gstride(g, N, "nll_loss")
    cdef cnp.ndarray dx = np.zeros((N, C), x.dtype)
    cdef void *pd = _p(dx)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_nll_loss_backward_f64(<D *>pd, <int64_t *>pt, <D *>pw, <D *>pg, N, C, ds, scale, ignore_index)
        else: fdl_nll_loss_backward_f32(<F *>pd, <int64_t *>pt, <F *>pw, <F *>pg, N, C, ds, <F>scale, ignore_index)
    return dx


def multi_margin_loss_forward(cnp.ndarray x not None, target, weight, int p, double margin):
    cdef bint d = _f64(x, "multi_margin_loss")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "multi_margin_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "multi_margin_loss", "weight")
    _size(t, N, "multi_margin_loss", "target"); _size(w, C, "multi_margin_loss", "weight")
    cdef cnp.ndarray loss = np.empty(N, x.dtype)
    cdef void *pl = _p(loss)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    with nogil:
        if d: fdl_multi_margin_loss_forward_f64(<D *>pl, <D *>px, <int64_t *>pt, <D *>pw, N, C, p, margin)
        else: fdl_multi_margin_loss_forward_f32(<F *>pl, <F *>px, <int64_t *>pt, <F *>pw, N, C, p, <F>margin)
    return loss


def multi_margin_loss_backward(cnp.ndarray x not None, target, weight, dout, double scale, int p,
                               double margin):
    cdef bint d = _f64(x, "multi_margin_loss")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef cnp.ndarray t = _c(target, np.int64, "multi_margin_loss", "target")
    cdef cnp.ndarray w = _c(weight, x.dtype, "multi_margin_loss", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "multi_margin_loss", "grad_output")
    _size(t, N, "multi_margin_loss", "target"); _size(w, C, "multi_margin_loss", "weight")
    cdef int64_t ds = _gstride(g, N, "multi_margin_loss")
    cdef cnp.ndarray dx = np.zeros_like(x)
    cdef void *pd = _p(dx)
    cdef void *px = _p(x)
    cdef void *pt = _p(t)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_multi_margin_loss_backward_f64(<D *>pd, <D *>px, <int64_t *>pt, <D *>pw, <D *>pg, N, C, ds, scale, p, margin)
        else: fdl_multi_margin_loss_backward_f32(<F *>pd, <F *>px, <int64_t *>pt, <F *>pw, <F *>pg, N, C, ds, <F>scale, p, <F>margin)
    return dx


def triplet_margin_loss_forward(cnp.ndarray a not None, positive, negative, double margin,
                                double p, double eps, bint swap):
    """(loss[N], dist[N, 3]) for a, positive, negative [N, D]."""
    cdef bint d = _f64(a, "triplet_margin_loss")
    a = np.ascontiguousarray(a)
    cdef cnp.ndarray po = _c(positive, a.dtype, "triplet_margin_loss", "positive")
    cdef cnp.ndarray ne = _c(negative, a.dtype, "triplet_margin_loss", "negative")
    cdef int64_t N = a.shape[0], D_ = a.shape[1]
    _size(po, N * D_, "triplet_margin_loss", "positive")
    _size(ne, N * D_, "triplet_margin_loss", "negative")
    cdef cnp.ndarray loss = np.empty(N, a.dtype)
    cdef cnp.ndarray dist = np.empty((N, 3), a.dtype)
    cdef void *pl = _p(loss)
    cdef void *pdist = _p(dist)
    cdef void *pa = _p(a)
    cdef void *pp = _p(po)
    cdef void *pn = _p(ne)
    with nogil:
        if d: fdl_triplet_margin_loss_forward_f64(<D *>pl, <D *>pdist, <D *>pa, <D *>pp, <D *>pn, N, D_, margin, p, eps, swap)
        else: fdl_triplet_margin_loss_forward_f32(<F *>pl, <F *>pdist, <F *>pa, <F *>pp, <F *>pn, N, D_, <F>margin, <F>p, <F>eps, swap)
    return loss, dist


def triplet_margin_loss_backward(cnp.ndarray dist not None, cnp.ndarray a not None, positive,
                                 negative, dout, double scale, double margin, double p,
                                 double eps, bint swap):
    """(d_anchor, d_positive, d_negative)."""
    cdef bint d = _f64(a, "triplet_margin_loss")
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
    cdef cnp.ndarray da = np.zeros_like(a)
    cdef cnp.ndarray dp = np.zeros_like(a)
    cdef cnp.ndarray dn = np.zeros_like(a)
    cdef void *pda = _p(da)
    cdef void *pdp = _p(dp)
    cdef void *pdn = _p(dn)
    cdef void *pdist = _p(ds_)
    cdef void *pa = _p(a)
    cdef void *pp = _p(po)
    cdef void *pn = _p(ne)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_triplet_margin_loss_backward_f64(<D *>pda, <D *>pdp, <D *>pdn, <D *>pdist, <D *>pa, <D *>pp, <D *>pn, <D *>pg, N, D_, gs, scale, margin, p, eps, swap)
        else: fdl_triplet_margin_loss_backward_f32(<F *>pda, <F *>pdp, <F *>pdn, <F *>pdist, <F *>pa, <F *>pp, <F *>pn, <F *>pg, N, D_, gs, <F>scale, <F>margin, <F>p, <F>eps, swap)
    return da, dp, dn


def cosine_embedding_loss_forward(cnp.ndarray x1 not None, x2, y, double margin):
    """(loss[N], saved[N, 3]) for x1, x2 [N, D] and y[N] in {-1, 1}."""
    cdef bint d = _f64(x1, "cosine_embedding_loss")
    x1 = np.ascontiguousarray(x1)
    cdef cnp.ndarray b = _c(x2, x1.dtype, "cosine_embedding_loss", "input2")
    cdef cnp.ndarray yy = _c(y, x1.dtype, "cosine_embedding_loss", "target")
    cdef int64_t N = x1.shape[0], D_ = x1.shape[1]
    _size(b, N * D_, "cosine_embedding_loss", "input2")
    _size(yy, N, "cosine_embedding_loss", "target")
    cdef cnp.ndarray loss = np.empty(N, x1.dtype)
    cdef cnp.ndarray saved = np.empty((N, 3), x1.dtype)
    cdef void *pl = _p(loss)
    cdef void *ps = _p(saved)
    cdef void *pa = _p(x1)
    cdef void *pb = _p(b)
    cdef void *py = _p(yy)
    with nogil:
        if d: fdl_cosine_embedding_loss_forward_f64(<D *>pl, <D *>ps, <D *>pa, <D *>pb, <D *>py, N, D_, margin)
        else: fdl_cosine_embedding_loss_forward_f32(<F *>pl, <F *>ps, <F *>pa, <F *>pb, <F *>py, N, D_, <F>margin)
    return loss, saved


def cosine_embedding_loss_backward(cnp.ndarray saved not None, cnp.ndarray x1 not None, x2, y,
                                   dout, double scale, double margin):
    cdef bint d = _f64(x1, "cosine_embedding_loss")
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
    cdef cnp.ndarray d1 = np.zeros_like(x1)
    cdef cnp.ndarray d2 = np.zeros_like(x1)
    cdef void *p1 = _p(d1)
    cdef void *p2 = _p(d2)
    cdef void *ps = _p(sv)
    cdef void *pa = _p(x1)
    cdef void *pb = _p(b)
    cdef void *py = _p(yy)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_cosine_embedding_loss_backward_f64(<D *>p1, <D *>p2, <D *>ps, <D *>pa, <D *>pb, <D *>py, <D *>pg, N, D_, gs, scale, margin)
        else: fdl_cosine_embedding_loss_backward_f32(<F *>p1, <F *>p2, <F *>ps, <F *>pa, <F *>pb, <F *>py, <F *>pg, N, D_, gs, <F>scale, <F>margin)
    return d1, d2


# ---- pooling: x[P, H, W] ----------------------------------------------------------------

def max_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw):
    """(out[..., OH, OW], argmax int64) of x[..., H, W]."""
    cdef bint d = _f64(x, "max_pool2d")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    shape = (<object>x).shape[:-2] + (OH, OW)
    cdef cnp.ndarray out = np.empty(shape, x.dtype)
    cdef cnp.ndarray am = np.empty(shape, np.int64)
    cdef void *po = _p(out)
    cdef void *pa = _p(am)
    cdef void *px = _p(x)
    with nogil:
        if d: fdl_max_pool2d_forward_f64(<D *>po, <int64_t *>pa, <D *>px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)
        else: fdl_max_pool2d_forward_f32(<F *>po, <int64_t *>pa, <F *>px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)
    return out, am


def max_pool2d_backward(cnp.ndarray argmax not None, dout, tuple in_shape):
    g = np.ascontiguousarray(dout)
    cdef cnp.ndarray gg = g
    cdef bint d = _f64(gg, "max_pool2d")
    cdef cnp.ndarray am = _c(argmax, np.int64, "max_pool2d", "indices")
    _size(am, gg.size, "max_pool2d", "indices")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = gg.shape[gg.ndim - 2], OW = gg.shape[gg.ndim - 1]
    cdef int64_t P = gg.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = np.zeros(in_shape, gg.dtype)
    _size(dx, P * H * W, "max_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pa = _p(am)
    cdef void *pg = _p(gg)
    with nogil:
        if d: fdl_max_pool2d_backward_f64(<D *>pd, <int64_t *>pa, <D *>pg, P, H, W, OH, OW)
        else: fdl_max_pool2d_backward_f32(<F *>pd, <int64_t *>pa, <F *>pg, P, H, W, OH, OW)
    return dx


def avg_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, bint count_include_pad):
    cdef bint d = _f64(x, "avg_pool2d")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    cdef cnp.ndarray out = np.empty((<object>x).shape[:-2] + (OH, OW), x.dtype)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    with nogil:
        if d: fdl_avg_pool2d_forward_f64(<D *>po, <D *>px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
        else: fdl_avg_pool2d_forward_f32(<F *>po, <F *>px, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
    return out


def avg_pool2d_backward(dout, tuple in_shape, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                        int64_t ph, int64_t pw, bint count_include_pad):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "avg_pool2d")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = g.shape[g.ndim - 2], OW = g.shape[g.ndim - 1]
    cdef int64_t P = g.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = np.zeros(in_shape, g.dtype)
    _size(dx, P * H * W, "avg_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_avg_pool2d_backward_f64(<D *>pd, <D *>pg, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
        else: fdl_avg_pool2d_backward_f32(<F *>pd, <F *>pg, P, H, W, OH, OW, kh, kw, sh, sw, ph, pw, count_include_pad)
    return dx


def adaptive_avg_pool2d_forward(cnp.ndarray x not None, int64_t OH, int64_t OW):
    cdef bint d = _f64(x, "adaptive_avg_pool2d")
    x = np.ascontiguousarray(x)
    cdef int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1]
    cdef int64_t P = x.size // (H * W) if H * W else 0
    cdef cnp.ndarray out = np.empty((<object>x).shape[:-2] + (OH, OW), x.dtype)
    cdef void *po = _p(out)
    cdef void *px = _p(x)
    with nogil:
        if d: fdl_adaptive_avg_pool2d_forward_f64(<D *>po, <D *>px, P, H, W, OH, OW)
        else: fdl_adaptive_avg_pool2d_forward_f32(<F *>po, <F *>px, P, H, W, OH, OW)
    return out


def adaptive_avg_pool2d_backward(dout, tuple in_shape):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "adaptive_avg_pool2d")
    cdef int64_t H = in_shape[-2], W = in_shape[-1]
    cdef int64_t OH = g.shape[g.ndim - 2], OW = g.shape[g.ndim - 1]
    cdef int64_t P = g.size // (OH * OW) if OH * OW else 0
    cdef cnp.ndarray dx = np.zeros(in_shape, g.dtype)
    _size(dx, P * H * W, "adaptive_avg_pool2d", "input")
    cdef void *pd = _p(dx)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_adaptive_avg_pool2d_backward_f64(<D *>pd, <D *>pg, P, H, W, OH, OW)
        else: fdl_adaptive_avg_pool2d_backward_f32(<F *>pd, <F *>pg, P, H, W, OH, OW)
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
                       bint training, double momentum, double eps):
    """(out, mean[C], rstd[C]) for x[N, C, S...]; running stats updated in place when training."""
    cdef bint d = _f64(x, "batch_norm")
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
    cdef cnp.ndarray out = np.empty_like(x)
    cdef cnp.ndarray mean = np.empty(C, x.dtype)
    cdef cnp.ndarray rstd = np.empty(C, x.dtype)
    cdef void *po = _p(out)
    cdef void *pm = _p(mean)
    cdef void *ps = _p(rstd)
    cdef void *prm = _p(rm)
    cdef void *prv = _p(rv)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pb = _p(b)
    with nogil:
        if d: fdl_batch_norm_forward_f64(<D *>po, <D *>pm, <D *>ps, <D *>prm, <D *>prv, <D *>px, <D *>pw, <D *>pb, N, C, S, training, momentum, eps)
        else: fdl_batch_norm_forward_f32(<F *>po, <F *>pm, <F *>ps, <F *>prm, <F *>prv, <F *>px, <F *>pw, <F *>pb, N, C, S, training, <F>momentum, <F>eps)
    return out, mean, rstd


def batch_norm_backward(cnp.ndarray mean not None, cnp.ndarray rstd not None,
                        cnp.ndarray x not None, weight, dout, bint training, bint need_dx,
                        bint need_dw, bint need_db):
    """(dx, dweight, dbias), None for those not needed."""
    cdef bint d = _f64(x, "batch_norm")
    x = np.ascontiguousarray(x)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    cdef int64_t S = x.size // (N * C) if N * C else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "batch_norm", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "batch_norm", "grad_output")
    cdef cnp.ndarray m = _c(mean, x.dtype, "batch_norm", "mean")
    cdef cnp.ndarray r = _c(rstd, x.dtype, "batch_norm", "rstd")
    _size(w, C, "batch_norm", "weight"); _size(g, x.size, "batch_norm", "grad_output")
    _size(m, C, "batch_norm", "mean"); _size(r, C, "batch_norm", "rstd")
    cdef cnp.ndarray dx = np.zeros_like(x) if need_dx else None
    cdef cnp.ndarray dw = np.zeros(C, x.dtype) if need_dw else None
    cdef cnp.ndarray db = np.zeros(C, x.dtype) if need_db else None
    cdef void *pdx = _p(dx)
    cdef void *pdw = _p(dw)
    cdef void *pdb = _p(db)
    cdef void *pm = _p(m)
    cdef void *pr = _p(r)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_batch_norm_backward_f64(<D *>pdx, <D *>pdw, <D *>pdb, <D *>pm, <D *>pr, <D *>px, <D *>pw, <D *>pg, N, C, S, training)
        else: fdl_batch_norm_backward_f32(<F *>pdx, <F *>pdw, <F *>pdb, <F *>pm, <F *>pr, <F *>px, <F *>pw, <F *>pg, N, C, S, training)
    return dx, dw, db


def layer_norm_forward(cnp.ndarray x not None, int64_t D_, weight, bias, double eps):
    """(out, mean[R], rstd[R]) normalizing x over its last D_ elements per row."""
    cdef bint d = _f64(x, "layer_norm")
    x = np.ascontiguousarray(x)
    cdef int64_t R = x.size // D_ if D_ else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "layer_norm", "weight")
    cdef cnp.ndarray b = _c(bias, x.dtype, "layer_norm", "bias")
    _size(w, D_, "layer_norm", "weight"); _size(b, D_, "layer_norm", "bias")
    cdef cnp.ndarray out = np.empty_like(x)
    cdef cnp.ndarray mean = np.empty(R, x.dtype)
    cdef cnp.ndarray rstd = np.empty(R, x.dtype)
    cdef void *po = _p(out)
    cdef void *pm = _p(mean)
    cdef void *ps = _p(rstd)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pb = _p(b)
    with nogil:
        if d: fdl_layer_norm_forward_f64(<D *>po, <D *>pm, <D *>ps, <D *>px, <D *>pw, <D *>pb, R, D_, eps)
        else: fdl_layer_norm_forward_f32(<F *>po, <F *>pm, <F *>ps, <F *>px, <F *>pw, <F *>pb, R, D_, <F>eps)
    return out, mean, rstd


def layer_norm_backward(cnp.ndarray mean not None, cnp.ndarray rstd not None,
                        cnp.ndarray x not None, weight, dout, int64_t D_, bint need_dx,
                        bint need_dw, bint need_db):
    cdef bint d = _f64(x, "layer_norm")
    x = np.ascontiguousarray(x)
    cdef int64_t R = x.size // D_ if D_ else 0
    cdef cnp.ndarray w = _c(weight, x.dtype, "layer_norm", "weight")
    cdef cnp.ndarray g = _c(dout, x.dtype, "layer_norm", "grad_output")
    cdef cnp.ndarray m = _c(mean, x.dtype, "layer_norm", "mean")
    cdef cnp.ndarray r = _c(rstd, x.dtype, "layer_norm", "rstd")
    _size(w, D_, "layer_norm", "weight"); _size(g, x.size, "layer_norm", "grad_output")
    _size(m, R, "layer_norm", "mean"); _size(r, R, "layer_norm", "rstd")
    cdef cnp.ndarray dx = np.zeros_like(x) if need_dx else None
    cdef cnp.ndarray dw = np.zeros(D_, x.dtype) if need_dw else None
    cdef cnp.ndarray db = np.zeros(D_, x.dtype) if need_db else None
    cdef void *pdx = _p(dx)
    cdef void *pdw = _p(dw)
    cdef void *pdb = _p(db)
    cdef void *pm = _p(m)
    cdef void *pr = _p(r)
    cdef void *px = _p(x)
    cdef void *pw = _p(w)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_layer_norm_backward_f64(<D *>pdx, <D *>pdw, <D *>pdb, <D *>pm, <D *>pr, <D *>px, <D *>pw, <D *>pg, R, D_)
        else: fdl_layer_norm_backward_f32(<F *>pdx, <F *>pdw, <F *>pdb, <F *>pm, <F *>pr, <F *>px, <F *>pw, <F *>pg, R, D_)
    return dx, dw, db


# ---- dropout, embedding ----------------------------------------------------------------

def dropout_forward(cnp.ndarray x not None, double p, uint64_t seed, uint64_t stream):
    """(out, mask uint8) with inverted scaling 1 / (1 - p)."""
    cdef bint d = _f64(x, "dropout")
    x = np.ascontiguousarray(x)
    cdef cnp.ndarray out = np.empty_like(x)
    cdef cnp.ndarray mask = np.empty((<object>x).shape, np.uint8)
    cdef void *po = _p(out)
    cdef void *pm = _p(mask)
    cdef void *px = _p(x)
    cdef int64_t n = x.size
    with nogil:
        if d: fdl_dropout_forward_f64(<D *>po, <uint8_t *>pm, <D *>px, n, p, seed, stream)
        else: fdl_dropout_forward_f32(<F *>po, <uint8_t *>pm, <F *>px, n, <F>p, seed, stream)
    return out, mask


def dropout_backward(cnp.ndarray mask not None, dout, double p):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "dropout")
    cdef cnp.ndarray m = _c(mask, np.uint8, "dropout", "mask")
    _size(m, g.size, "dropout", "mask")
    cdef cnp.ndarray dx = np.zeros_like(g)
    cdef void *pd = _p(dx)
    cdef void *pm = _p(m)
    cdef void *pg = _p(g)
    cdef int64_t n = g.size
    with nogil:
        if d: fdl_dropout_backward_f64(<D *>pd, <uint8_t *>pm, <D *>pg, n, p)
        else: fdl_dropout_backward_f32(<F *>pd, <uint8_t *>pm, <F *>pg, n, <F>p)
    return dx


def embedding_forward(idx, cnp.ndarray weight not None):
    """weight[idx] for int64 idx (validated in range by the caller)."""
    cdef bint d = _f64(weight, "embedding")
    weight = np.ascontiguousarray(weight)
    cdef cnp.ndarray ix = _c(idx, np.int64, "embedding", "input")
    cdef int64_t N = ix.size, D_ = weight.shape[1]
    cdef cnp.ndarray out = np.empty((<object>ix).shape + (D_,), weight.dtype)
    cdef void *po = _p(out)
    cdef void *pi = _p(ix)
    cdef void *pw = _p(weight)
    with nogil:
        if d: fdl_embedding_forward_f64(<D *>po, <int64_t *>pi, <D *>pw, N, D_)
        else: fdl_embedding_forward_f32(<F *>po, <int64_t *>pi, <F *>pw, N, D_)
    return out


def embedding_backward(idx, dout, tuple weight_shape, int64_t padding_idx):
    cdef cnp.ndarray g = np.ascontiguousarray(dout)
    cdef bint d = _f64(g, "embedding")
    cdef cnp.ndarray ix = _c(idx, np.int64, "embedding", "input")
    cdef int64_t N = ix.size, D_ = weight_shape[1]
    _size(g, N * D_, "embedding", "grad_output")
    cdef cnp.ndarray dw = np.zeros(weight_shape, g.dtype)
    cdef void *pd = _p(dw)
    cdef void *pi = _p(ix)
    cdef void *pg = _p(g)
    with nogil:
        if d: fdl_embedding_backward_f64(<D *>pd, <int64_t *>pi, <D *>pg, N, D_, padding_idx)
        else: fdl_embedding_backward_f32(<F *>pd, <int64_t *>pi, <F *>pg, N, D_, padding_idx)
    return dw
