# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Recurrent cells and layers over NumPy arrays (csrc/nn/rnn.c).

Cell wrappers allocate their outputs and run one fused step kernel. Layer
wrappers run one layer in one direction through all time steps in C (one
input-projection GEMM, then per step one W_hh GEMM and one cell kernel), and
backward through time with gradients accumulated into caller-given arrays.
Each cell kind (RNN tanh, RNN relu, LSTM, GRU) has its own named wrappers
over its own fdl_* functions. All arrays are C-contiguous,
of one float dtype (float32 or float64); the GIL is released around each C call.
"""
import threading

import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check, by_dtype
from libc.stdint cimport int64_t

from fastdl._C.rnn cimport *

cnp.import_array()

# Scratch for the layer kernels, kept per thread and dtype and grown on
# demand: a fresh multi-MB buffer per call costs thousands of page faults
# (about 4 ms per LSTM fwd+bwd at B=32, T=50, H=256), more than the cell math.
_tls = threading.local()


def _scratch(int64_t n, dt):
    """A float array of at least n elements, reused by later calls on this thread."""
    cache = getattr(_tls, "cache", None)
    if cache is None:
        cache = _tls.cache = {}
    key = np.dtype(dt).char
    a = cache.get(key)
    if a is None or a.shape[0] < n:
        a = cache[key] = np.empty(max(n, 1), dt)
    return a


def release_scratch():
    """Free this thread's cached scratch buffers."""
    _tls.cache = {}


cdef inline void *_p(object x):
    return NULL if x is None else cnp.PyArray_DATA(<cnp.ndarray>x)


cdef int _typ(object x, str op) except -1:
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: expected a numpy array, got %s" % (op, type(x).__name__))
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("%s: expected float32 or float64 arrays, got %s" % (op, x.dtype))
    return t


cdef int _arg(object x, str name, tuple shape, int typ, str op, bint optional=False,
              bint writable=False) except -1:
    """Check one array argument: dtype, exact shape, C-contiguity."""
    if x is None:
        if optional:
            return 0
        raise ValueError("%s: %s is required" % (op, name))
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: expected %s as a numpy array, got %s" % (op, name, type(x).__name__))
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_TYPE(a) != typ:
        raise TypeError("%s: expected %s of dtype %s, got %s"
                        % (op, name, np.dtype("float32" if typ == cnp.NPY_FLOAT32 else "float64"),
                           a.dtype))
    if tuple(x.shape) != shape:
        raise ValueError("%s: expected %s of shape %s, got %s" % (op, name, shape, tuple(x.shape)))
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("%s: %s must be C-contiguous" % (op, name))
    if writable and not a.flags.writeable:
        raise ValueError("%s: %s must be writeable" % (op, name))
    return 0


cdef tuple _bh(object x, int64_t g, str name, str op):
    """(B, H) of a (B, g*H) array."""
    if x.ndim != 2 or x.shape[1] % g:
        raise ValueError("%s: expected %s of shape (B, %s), got %s"
                         % (op, name, "H" if g == 1 else "%d*H" % g, tuple(x.shape)))
    return x.shape[0], x.shape[1] // g


# ---- cell kernels ---------------------------------------------------------------------

ctypedef int (*cellf32_t)(float *, const float *, int64_t, int64_t) noexcept nogil
ctypedef int (*cellf64_t)(double *, const double *, int64_t, int64_t) noexcept nogil
ctypedef int (*cellb32_t)(float *, const float *, const float *, int64_t, int64_t) noexcept nogil
ctypedef int (*cellb64_t)(double *, const double *, const double *, int64_t, int64_t) noexcept nogil


cdef object _rnn_cell_forward(pre, str op, cellf32_t f32, cellf64_t f64):
    """h = act(pre). pre (B, H) -> h (B, H)."""
    cdef int t = _typ(pre, op)
    cdef int64_t B, H
    B, H = _bh(pre, 1, "pre", op)
    _arg(pre, "pre", (B, H), t, op)
    h = np.empty_like(pre)
    cdef void *ph = _p(h)
    cdef void *pp = _p(pre)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, ph, pp, B, H)
    check(st, op)
    return h


cdef object _rnn_cell_backward(h, dh, str op, cellb32_t f32, cellb64_t f64):
    """d pre-activation from the saved output h and dh, all (B, H)."""
    cdef int t = _typ(h, op)
    cdef int64_t B, H
    B, H = _bh(h, 1, "h", op)
    _arg(h, "h", (B, H), t, op)
    _arg(dh, "dh", (B, H), t, op)
    d = np.empty_like(h)
    cdef void *pd = _p(d)
    cdef void *ph = _p(h)
    cdef void *pg = _p(dh)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, pd, ph, pg, B, H)
    check(st, op)
    return d


def rnn_tanh_cell_forward(pre):
    """h = tanh(pre). pre (B, H) -> h (B, H) (fdl_rnn_tanh_cell_forward_f32/_f64)."""
    return _rnn_cell_forward(pre, "rnn_tanh_cell_forward", fdl_rnn_tanh_cell_forward_f32,
                             fdl_rnn_tanh_cell_forward_f64)


def rnn_relu_cell_forward(pre):
    """h = relu(pre). pre (B, H) -> h (B, H) (fdl_rnn_relu_cell_forward_f32/_f64)."""
    return _rnn_cell_forward(pre, "rnn_relu_cell_forward", fdl_rnn_relu_cell_forward_f32,
                             fdl_rnn_relu_cell_forward_f64)


def rnn_tanh_cell_backward(h, dh):
    """d pre-activation of tanh from its output h (fdl_rnn_tanh_cell_backward_f32/_f64)."""
    return _rnn_cell_backward(h, dh, "rnn_tanh_cell_backward", fdl_rnn_tanh_cell_backward_f32,
                              fdl_rnn_tanh_cell_backward_f64)


def rnn_relu_cell_backward(h, dh):
    """d pre-activation of relu from its output h (fdl_rnn_relu_cell_backward_f32/_f64)."""
    return _rnn_cell_backward(h, dh, "rnn_relu_cell_backward", fdl_rnn_relu_cell_backward_f32,
                              fdl_rnn_relu_cell_backward_f64)


def lstm_cell_forward(gates, c_prev):
    """gates (B, 4H) pre-activations (i, f, g, o), c_prev (B, H) ->
    (h, c, act, tanh_c): h, c, tanh_c (B, H), act (B, 4H) activated gates."""
    cdef str op = "lstm_cell_forward"
    cdef int t = _typ(gates, op)
    cdef int64_t B, H
    B, H = _bh(gates, 4, "gates", op)
    _arg(gates, "gates", (B, 4 * H), t, op)
    _arg(c_prev, "c_prev", (B, H), t, op)
    h = np.empty_like(c_prev)
    c = np.empty_like(c_prev)
    tc = np.empty_like(c_prev)
    act = np.empty_like(gates)
    cdef void *ph = _p(h)
    cdef void *pc = _p(c)
    cdef void *pa = _p(act)
    cdef void *pt = _p(tc)
    cdef void *pg = _p(gates)
    cdef void *pcp = _p(c_prev)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_lstm_cell_forward_f64, fdl_lstm_cell_forward_f32,
                      ph, pc, pa, pt, pg, pcp, B, H)
    check(st, "lstm_cell_forward")
    return h, c, act, tc


def lstm_cell_backward(act, tanh_c, c_prev, dh, dc=None):
    """-> (dgates (B, 4H), dc_prev (B, H)); dc None means zero."""
    cdef str op = "lstm_cell_backward"
    cdef int t = _typ(act, op)
    cdef int64_t B, H
    B, H = _bh(act, 4, "act", op)
    _arg(act, "act", (B, 4 * H), t, op)
    for name, x in (("tanh_c", tanh_c), ("c_prev", c_prev), ("dh", dh)):
        _arg(x, name, (B, H), t, op)
    _arg(dc, "dc", (B, H), t, op, True)
    dg = np.empty_like(act)
    dcp = np.empty_like(c_prev)
    cdef void *p0 = _p(dg)
    cdef void *p1 = _p(dcp)
    cdef void *p2 = _p(act)
    cdef void *p3 = _p(tanh_c)
    cdef void *p4 = _p(c_prev)
    cdef void *p5 = _p(dh)
    cdef void *p6 = _p(dc)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_lstm_cell_backward_f64, fdl_lstm_cell_backward_f32,
                      p0, p1, p2, p3, p4, p5, p6, B, H)
    check(st, "lstm_cell_backward")
    return dg, dcp


def gru_cell_forward(gi, gh, h_prev):
    """gi, gh (B, 3H) (r, z, n blocks, biases included), h_prev (B, H) ->
    (h (B, H), act (B, 3H) = (r, z, n), ghn (B, H))."""
    cdef str op = "gru_cell_forward"
    cdef int t = _typ(gi, op)
    cdef int64_t B, H
    B, H = _bh(gi, 3, "gi", op)
    _arg(gi, "gi", (B, 3 * H), t, op)
    _arg(gh, "gh", (B, 3 * H), t, op)
    _arg(h_prev, "h_prev", (B, H), t, op)
    h = np.empty_like(h_prev)
    act = np.empty_like(gi)
    ghn = np.empty_like(h_prev)
    cdef void *p0 = _p(h)
    cdef void *p1 = _p(act)
    cdef void *p2 = _p(ghn)
    cdef void *p3 = _p(gi)
    cdef void *p4 = _p(gh)
    cdef void *p5 = _p(h_prev)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_gru_cell_forward_f64, fdl_gru_cell_forward_f32, p0,
                      p1, p2, p3, p4, p5, B, H)
    check(st, "gru_cell_forward")
    return h, act, ghn


def gru_cell_backward(act, ghn, h_prev, dh):
    """-> (dgi (B, 3H), dgh (B, 3H), dh_prev_direct (B, H) = dh * z)."""
    cdef str op = "gru_cell_backward"
    cdef int t = _typ(act, op)
    cdef int64_t B, H
    B, H = _bh(act, 3, "act", op)
    _arg(act, "act", (B, 3 * H), t, op)
    for name, x in (("ghn", ghn), ("h_prev", h_prev), ("dh", dh)):
        _arg(x, name, (B, H), t, op)
    dgi = np.empty_like(act)
    dgh = np.empty_like(act)
    dhp = np.zeros_like(h_prev)
    cdef void *p0 = _p(dgi)
    cdef void *p1 = _p(dgh)
    cdef void *p2 = _p(dhp)
    cdef void *p3 = _p(act)
    cdef void *p4 = _p(ghn)
    cdef void *p5 = _p(h_prev)
    cdef void *p6 = _p(dh)
    cdef int st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_gru_cell_backward_f64, fdl_gru_cell_backward_f32,
                      p0, p1, p2, p3, p4, p5, p6, B, H)
    check(st, "gru_cell_backward")
    return dgi, dgh, dhp


# ---- layers ----------------------------------------------------------------------------
# One wrapper per cell kind and direction of the pass. The shared checks sit in
# _layer_dims / _layer_grads; the two Elman RNN kinds share one signature and
# hand their kernel pair to one helper, as the activations do in nn.pyx.

cdef tuple _layer_dims(str op, int64_t G, x, h0, w_ih, w_hh, b_ih, b_hh):
    """(dtype number, Ts, B, I, H) after checking x (T, B, I), h0 (B, H) or None,
    w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H,) or None."""
    cdef int t = _typ(x, op)
    if x.ndim != 3:
        raise ValueError("%s: expected x of shape (T, B, I), got %s" % (op, tuple(x.shape)))
    cdef int64_t Ts = x.shape[0], B = x.shape[1], I = x.shape[2]
    cdef int64_t H = w_hh.shape[1] if getattr(w_hh, "ndim", 0) == 2 else -1
    if H < 0:
        raise ValueError("%s: expected w_hh of shape (G*H, H), got %s"
                         % (op, getattr(w_hh, "shape", None)))
    _arg(x, "x", (Ts, B, I), t, op)
    _arg(w_ih, "w_ih", (G * H, I), t, op)
    _arg(w_hh, "w_hh", (G * H, H), t, op)
    _arg(b_ih, "b_ih", (G * H,), t, op, True)
    _arg(b_hh, "b_hh", (G * H,), t, op, True)
    _arg(h0, "h0", (B, H), t, op, True)
    return t, Ts, B, I, H


ctypedef int (*rnnfwd32_t)(float *, float *, const float *, const float *, const float *,
                           const float *, const float *, const float *, int64_t, int64_t,
                           int64_t, int64_t, int) noexcept nogil
ctypedef int (*rnnfwd64_t)(double *, double *, const double *, const double *, const double *,
                           const double *, const double *, const double *, int64_t, int64_t,
                           int64_t, int64_t, int) noexcept nogil


cdef object _rnn_layer_forward(str op, x, h0, w_ih, w_hh, b_ih, b_hh, bint reverse,
                               rnnfwd32_t f32, rnnfwd64_t f64):
    cdef int t
    cdef int64_t Ts, B, I, H
    t, Ts, B, I, H = _layer_dims(op, 1, x, h0, w_ih, w_hh, b_ih, b_hh)
    hs = np.empty((Ts + 1, B, H), x.dtype)
    work = _scratch(fdl_rnn_layer_forward_workspace(B, H), x.dtype)
    cdef void *phs = _p(hs)
    cdef void *pw = _p(work)
    cdef void *px = _p(x)
    cdef void *ph0 = _p(h0)
    cdef void *pwi = _p(w_ih)
    cdef void *pwh = _p(w_hh)
    cdef void *pbi = _p(b_ih)
    cdef void *pbh = _p(b_hh)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, phs, pw, px, ph0, pwi, pwh, pbi, pbh, Ts, B,
                      I, H, rev)
    check(st, op)
    return hs, (hs, None, None, None)


_LAYER_DOC = """One layer, one direction, all time steps.

    Shapes: x (T, B, I); h0 (B, H) or None (zeros); w_ih (G*H, I), w_hh (G*H, H),
    b_ih, b_hh (G*H,) or None, G = 1 (RNN), 4 (LSTM), 3 (GRU); LSTM also takes
    c0 (B, H) or None. Returns (hs, saved): hs (T+1, B, H) holds h0 and every h_t,
    laid out as in fastdl/rnn.h (outputs are hs[1:] forward, hs[:-1] reverse);
    saved = (hs, cs, act, aux) is what the matching *_layer_backward needs.
    """


def rnn_tanh_layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh, bint reverse=False):
    """Elman RNN layer with tanh (fdl_rnn_tanh_layer_forward_f32/_f64); see _LAYER_DOC."""
    return _rnn_layer_forward("rnn_tanh_layer_forward", x, h0, w_ih, w_hh, b_ih, b_hh, reverse,
                              fdl_rnn_tanh_layer_forward_f32, fdl_rnn_tanh_layer_forward_f64)


def rnn_relu_layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh, bint reverse=False):
    """Elman RNN layer with relu (fdl_rnn_relu_layer_forward_f32/_f64); see _LAYER_DOC."""
    return _rnn_layer_forward("rnn_relu_layer_forward", x, h0, w_ih, w_hh, b_ih, b_hh, reverse,
                              fdl_rnn_relu_layer_forward_f32, fdl_rnn_relu_layer_forward_f64)


def lstm_layer_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, bint reverse=False):
    """LSTM layer (fdl_lstm_layer_forward_f32/_f64); see _LAYER_DOC."""
    cdef str op = "lstm_layer_forward"
    cdef int t
    cdef int64_t Ts, B, I, H
    t, Ts, B, I, H = _layer_dims(op, 4, x, h0, w_ih, w_hh, b_ih, b_hh)
    _arg(c0, "c0", (B, H), t, op, True)
    dt = x.dtype
    hs = np.empty((Ts + 1, B, H), dt)
    cs = np.empty((Ts + 1, B, H), dt)
    act = np.empty((Ts, B, 4 * H), dt)
    tc = np.empty((Ts, B, H), dt)
    work = _scratch(fdl_lstm_layer_forward_workspace(B, H), dt)
    cdef void *phs = _p(hs)
    cdef void *pcs = _p(cs)
    cdef void *pact = _p(act)
    cdef void *ptc = _p(tc)
    cdef void *pw = _p(work)
    cdef void *px = _p(x)
    cdef void *ph0 = _p(h0)
    cdef void *pc0 = _p(c0)
    cdef void *pwi = _p(w_ih)
    cdef void *pwh = _p(w_hh)
    cdef void *pbi = _p(b_ih)
    cdef void *pbh = _p(b_hh)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_lstm_layer_forward_f64, fdl_lstm_layer_forward_f32,
                      phs, pcs, pact, ptc, pw, px, ph0, pc0, pwi, pwh, pbi, pbh, Ts, B, I, H, rev)
    check(st, op)
    return hs, (hs, cs, act, tc)


def gru_layer_forward(x, h0, w_ih, w_hh, b_ih, b_hh, bint reverse=False):
    """GRU layer (fdl_gru_layer_forward_f32/_f64); see _LAYER_DOC."""
    cdef str op = "gru_layer_forward"
    cdef int t
    cdef int64_t Ts, B, I, H
    t, Ts, B, I, H = _layer_dims(op, 3, x, h0, w_ih, w_hh, b_ih, b_hh)
    dt = x.dtype
    hs = np.empty((Ts + 1, B, H), dt)
    act = np.empty((Ts, B, 3 * H), dt)
    ghn = np.empty((Ts, B, H), dt)
    work = _scratch(fdl_gru_layer_forward_workspace(B, H), dt)
    cdef void *phs = _p(hs)
    cdef void *pact = _p(act)
    cdef void *pgh = _p(ghn)
    cdef void *pw = _p(work)
    cdef void *px = _p(x)
    cdef void *ph0 = _p(h0)
    cdef void *pwi = _p(w_ih)
    cdef void *pwh = _p(w_hh)
    cdef void *pbi = _p(b_ih)
    cdef void *pbh = _p(b_hh)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_gru_layer_forward_f64, fdl_gru_layer_forward_f32,
                      phs, pact, pgh, pw, px, ph0, pwi, pwh, pbi, pbh, Ts, B, I, H, rev)
    check(st, op)
    return hs, (hs, None, act, ghn)


cdef tuple _layer_grads(str op, int64_t G, tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset,
                        dh_n, dx, dh0, dw_ih, dw_hh, db_ih, db_hh):
    """Check the arguments every *_layer_backward shares; (t, Ts, B, I, H, ldy, hs, cs, act, aux)."""
    if len(saved) != 4:
        raise ValueError("%s: expected saved = (hs, cs, act, aux) from the layer's forward, got %d "
                         "items" % (op, len(saved)))
    hs, cs, act, aux = saved
    cdef int t = _typ(x, op)
    if x.ndim != 3 or getattr(w_hh, "ndim", 0) != 2:
        raise ValueError("%s: expected x (T, B, I) and w_hh (G*H, H), got %s and %s"
                         % (op, tuple(x.shape), getattr(w_hh, "shape", None)))
    cdef int64_t Ts = x.shape[0], B = x.shape[1], I = x.shape[2], H = w_hh.shape[1]
    _arg(x, "x", (Ts, B, I), t, op)
    _arg(w_ih, "w_ih", (G * H, I), t, op)
    _arg(w_hh, "w_hh", (G * H, H), t, op)
    _arg(hs, "hs", (Ts + 1, B, H), t, op)
    cdef int64_t ldy = H
    if dy is not None:
        if getattr(dy, "ndim", 0) != 3 or dy.shape[0] != Ts or dy.shape[1] != B \
                or dy_offset < 0 or dy.shape[2] < dy_offset + H:
            raise ValueError("%s: expected dy of shape (%d, %d, >= %d), got %s"
                             % (op, Ts, B, dy_offset + H, getattr(dy, "shape", None)))
        _arg(dy, "dy", tuple(dy.shape), t, op)
        ldy = dy.shape[2]
    _arg(dh_n, "dh_n", (B, H), t, op, True)
    _arg(dx, "dx", (Ts, B, I), t, op, True, True)
    _arg(dh0, "dh0", (B, H), t, op, True, True)
    _arg(dw_ih, "dw_ih", (G * H, I), t, op, True, True)
    _arg(dw_hh, "dw_hh", (G * H, H), t, op, True, True)
    _arg(db_ih, "db_ih", (G * H,), t, op, True, True)
    _arg(db_hh, "db_hh", (G * H,), t, op, True, True)
    return t, Ts, B, I, H, ldy, hs, cs, act, aux


cdef inline void *_dy(object dy, int64_t dy_offset):
    """dy's data advanced to column dy_offset (NULL for None)."""
    cdef char *p = <char *>_p(dy)
    if p != NULL:
        p += dy_offset * (<cnp.ndarray>dy).itemsize
    return p


ctypedef int (*rnnbwd32_t)(float *, float *, float *, float *, float *, float *, float *,
                           const float *, const float *, const float *, const float *,
                           const float *, int64_t, const float *, int64_t, int64_t, int64_t,
                           int64_t, int) noexcept nogil
ctypedef int (*rnnbwd64_t)(double *, double *, double *, double *, double *, double *, double *,
                           const double *, const double *, const double *, const double *,
                           const double *, int64_t, const double *, int64_t, int64_t, int64_t,
                           int64_t, int) noexcept nogil


cdef object _rnn_layer_backward(str op, tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n,
                                dx, dh0, dw_ih, dw_hh, db_ih, db_hh, bint reverse,
                                rnnbwd32_t f32, rnnbwd64_t f64):
    cdef int t
    cdef int64_t Ts, B, I, H, ldy
    t, Ts, B, I, H, ldy, hs, _, _, _ = _layer_grads(op, 1, saved, x, w_ih, w_hh, dy, dy_offset,
                                                    dh_n, dx, dh0, dw_ih, dw_hh, db_ih, db_hh)
    work = _scratch(fdl_rnn_layer_backward_workspace(Ts, B, H), x.dtype)
    cdef void *pdy = _dy(dy, dy_offset)
    cdef void *p_dx = _p(dx)
    cdef void *p_dh0 = _p(dh0)
    cdef void *p_dwi = _p(dw_ih)
    cdef void *p_dwh = _p(dw_hh)
    cdef void *p_dbi = _p(db_ih)
    cdef void *p_dbh = _p(db_hh)
    cdef void *p_work = _p(work)
    cdef void *p_hs = _p(hs)
    cdef void *p_x = _p(x)
    cdef void *p_wi = _p(w_ih)
    cdef void *p_wh = _p(w_hh)
    cdef void *p_dhn = _p(dh_n)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, p_dx, p_dh0, p_dwi, p_dwh, p_dbi, p_dbh,
                      p_work, p_hs, p_x, p_wi, p_wh, pdy, ldy, p_dhn, Ts, B, I, H, rev)
    check(st, op)


_LAYER_BACKWARD_DOC = """Backward through time of the matching *_layer_forward.

    Gradients are added into dx (T, B, I), dh0 (and, LSTM, dc0) (B, H), dw_ih,
    dw_hh, db_ih, db_hh (any may be None). dy (T, B, W) is the gradient of an
    output whose columns [dy_offset, dy_offset + H) are this layer-direction's
    h_t (None: zero); dh_n (and, LSTM, dc_n) (B, H) or None are the gradients of
    the final states.
    """


def rnn_tanh_layer_backward(tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n, dx, dh0,
                            dw_ih, dw_hh, db_ih, db_hh, bint reverse=False):
    """fdl_rnn_tanh_layer_backward_f32/_f64; see _LAYER_BACKWARD_DOC."""
    _rnn_layer_backward("rnn_tanh_layer_backward", saved, x, w_ih, w_hh, dy, dy_offset, dh_n,
                        dx, dh0, dw_ih, dw_hh, db_ih, db_hh, reverse,
                        fdl_rnn_tanh_layer_backward_f32, fdl_rnn_tanh_layer_backward_f64)


def rnn_relu_layer_backward(tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n, dx, dh0,
                            dw_ih, dw_hh, db_ih, db_hh, bint reverse=False):
    """fdl_rnn_relu_layer_backward_f32/_f64; see _LAYER_BACKWARD_DOC."""
    _rnn_layer_backward("rnn_relu_layer_backward", saved, x, w_ih, w_hh, dy, dy_offset, dh_n,
                        dx, dh0, dw_ih, dw_hh, db_ih, db_hh, reverse,
                        fdl_rnn_relu_layer_backward_f32, fdl_rnn_relu_layer_backward_f64)


def lstm_layer_backward(tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n, dc_n, dx, dh0,
                        dc0, dw_ih, dw_hh, db_ih, db_hh, bint reverse=False):
    """fdl_lstm_layer_backward_f32/_f64; see _LAYER_BACKWARD_DOC."""
    cdef str op = "lstm_layer_backward"
    cdef int t
    cdef int64_t Ts, B, I, H, ldy
    t, Ts, B, I, H, ldy, hs, cs, act, tc = _layer_grads(op, 4, saved, x, w_ih, w_hh, dy,
                                                        dy_offset, dh_n, dx, dh0, dw_ih, dw_hh,
                                                        db_ih, db_hh)
    _arg(cs, "cs", (Ts + 1, B, H), t, op)
    _arg(act, "act", (Ts, B, 4 * H), t, op)
    _arg(tc, "aux", (Ts, B, H), t, op)
    _arg(dc_n, "dc_n", (B, H), t, op, True)
    _arg(dc0, "dc0", (B, H), t, op, True, True)
    work = _scratch(fdl_lstm_layer_backward_workspace(Ts, B, H), x.dtype)
    cdef void *pdy = _dy(dy, dy_offset)
    cdef void *p_dx = _p(dx)
    cdef void *p_dh0 = _p(dh0)
    cdef void *p_dc0 = _p(dc0)
    cdef void *p_dwi = _p(dw_ih)
    cdef void *p_dwh = _p(dw_hh)
    cdef void *p_dbi = _p(db_ih)
    cdef void *p_dbh = _p(db_hh)
    cdef void *p_work = _p(work)
    cdef void *p_hs = _p(hs)
    cdef void *p_cs = _p(cs)
    cdef void *p_act = _p(act)
    cdef void *p_tc = _p(tc)
    cdef void *p_x = _p(x)
    cdef void *p_wi = _p(w_ih)
    cdef void *p_wh = _p(w_hh)
    cdef void *p_dhn = _p(dh_n)
    cdef void *p_dcn = _p(dc_n)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_lstm_layer_backward_f64, fdl_lstm_layer_backward_f32,
                      p_dx, p_dh0, p_dc0, p_dwi, p_dwh, p_dbi, p_dbh, p_work, p_hs, p_cs, p_act,
                      p_tc, p_x, p_wi, p_wh, pdy, ldy, p_dhn, p_dcn, Ts, B, I, H, rev)
    check(st, op)


def gru_layer_backward(tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n, dx, dh0,
                       dw_ih, dw_hh, db_ih, db_hh, bint reverse=False):
    """fdl_gru_layer_backward_f32/_f64; see _LAYER_BACKWARD_DOC."""
    cdef str op = "gru_layer_backward"
    cdef int t
    cdef int64_t Ts, B, I, H, ldy
    t, Ts, B, I, H, ldy, hs, _, act, ghn = _layer_grads(op, 3, saved, x, w_ih, w_hh, dy,
                                                        dy_offset, dh_n, dx, dh0, dw_ih, dw_hh,
                                                        db_ih, db_hh)
    _arg(act, "act", (Ts, B, 3 * H), t, op)
    _arg(ghn, "aux", (Ts, B, H), t, op)
    work = _scratch(fdl_gru_layer_backward_workspace(Ts, B, H), x.dtype)
    cdef void *pdy = _dy(dy, dy_offset)
    cdef void *p_dx = _p(dx)
    cdef void *p_dh0 = _p(dh0)
    cdef void *p_dwi = _p(dw_ih)
    cdef void *p_dwh = _p(dw_hh)
    cdef void *p_dbi = _p(db_ih)
    cdef void *p_dbh = _p(db_hh)
    cdef void *p_work = _p(work)
    cdef void *p_hs = _p(hs)
    cdef void *p_act = _p(act)
    cdef void *p_ghn = _p(ghn)
    cdef void *p_x = _p(x)
    cdef void *p_wi = _p(w_ih)
    cdef void *p_wh = _p(w_hh)
    cdef void *p_dhn = _p(dh_n)
    cdef int rev = reverse, st = 0
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, fdl_gru_layer_backward_f64, fdl_gru_layer_backward_f32,
                      p_dx, p_dh0, p_dwi, p_dwh, p_dbi, p_dbh, p_work, p_hs, p_act, p_ghn, p_x,
                      p_wi, p_wh, pdy, ldy, p_dhn, Ts, B, I, H, rev)
    check(st, op)
