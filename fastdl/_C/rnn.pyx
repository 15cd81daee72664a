# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Recurrent cells and layers over NumPy arrays (csrc/nn/rnn.c).

Cell wrappers allocate their outputs and run one fused step kernel. Layer
wrappers run one layer in one direction through all time steps in C (one
input-projection GEMM, then per step one W_hh GEMM and one cell kernel), and
backward through time with gradients accumulated into caller-given arrays.
Modes: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU. All arrays are C-contiguous,
of one float dtype (float32 or float64); the GIL is released around each C call.
"""
import threading

import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check
from libc.stdint cimport int64_t

from fastdl._C.rnn cimport *
from fastdl._C._core cimport fdl_strerror

cnp.import_array()

cdef enum:
    _TANH = 0
    _RELU = 1
    _LSTM = 2
    _GRU = 3

MODE_RNN_TANH, MODE_RNN_RELU, MODE_LSTM, MODE_GRU = _TANH, _RELU, _LSTM, _GRU
GATES = (1, 1, 4, 3)


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

def rnn_cell_forward(pre, bint relu=False):
    """h = tanh(pre) or relu(pre). pre (B, H) -> h (B, H)."""
    cdef int t = _typ(pre, "rnn_cell_forward")
    cdef int64_t B, H
    B, H = _bh(pre, 1, "pre", "rnn_cell_forward")
    _arg(pre, "pre", (B, H), t, "rnn_cell_forward")
    h = np.empty_like(pre)
    cdef void *ph = _p(h)
    cdef void *pp = _p(pre)
    cdef fdl_rnn_act a = FDL_RNN_RELU if relu else FDL_RNN_TANH
    cdef int st = 0
    with nogil:
        if t == cnp.NPY_FLOAT32:
            st = fdl_rnn_cell_forward_f32(<float *>ph, <float *>pp, B, H, a)
        else:
            st = fdl_rnn_cell_forward_f64(<double *>ph, <double *>pp, B, H, a)
    check(st, "rnn_cell_forward")
    return h


def rnn_cell_backward(h, dh, bint relu=False):
    """d pre-activation from the saved output h and dh, all (B, H)."""
    cdef int t = _typ(h, "rnn_cell_backward")
    cdef int64_t B, H
    B, H = _bh(h, 1, "h", "rnn_cell_backward")
    _arg(h, "h", (B, H), t, "rnn_cell_backward")
    _arg(dh, "dh", (B, H), t, "rnn_cell_backward")
    d = np.empty_like(h)
    cdef void *pd = _p(d)
    cdef void *ph = _p(h)
    cdef void *pg = _p(dh)
    cdef fdl_rnn_act a = FDL_RNN_RELU if relu else FDL_RNN_TANH
    cdef int st = 0
    with nogil:
        if t == cnp.NPY_FLOAT32:
            st = fdl_rnn_cell_backward_f32(<float *>pd, <float *>ph, <float *>pg, B, H, a)
        else:
            st = fdl_rnn_cell_backward_f64(<double *>pd, <double *>ph, <double *>pg, B, H, a)
    check(st, "rnn_cell_backward")
    return d


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
        if t == cnp.NPY_FLOAT32:
            st = fdl_lstm_cell_forward_f32(<float *>ph, <float *>pc, <float *>pa, <float *>pt,
                                      <float *>pg, <float *>pcp, B, H)
        else:
            st = fdl_lstm_cell_forward_f64(<double *>ph, <double *>pc, <double *>pa, <double *>pt,
                                      <double *>pg, <double *>pcp, B, H)
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
        if t == cnp.NPY_FLOAT32:
            st = fdl_lstm_cell_backward_f32(<float *>p0, <float *>p1, <float *>p2, <float *>p3,
                                       <float *>p4, <float *>p5, <float *>p6, B, H)
        else:
            st = fdl_lstm_cell_backward_f64(<double *>p0, <double *>p1, <double *>p2, <double *>p3,
                                       <double *>p4, <double *>p5, <double *>p6, B, H)
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
        if t == cnp.NPY_FLOAT32:
            st = fdl_gru_cell_forward_f32(<float *>p0, <float *>p1, <float *>p2, <float *>p3,
                                     <float *>p4, <float *>p5, B, H)
        else:
            st = fdl_gru_cell_forward_f64(<double *>p0, <double *>p1, <double *>p2, <double *>p3,
                                     <double *>p4, <double *>p5, B, H)
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
        if t == cnp.NPY_FLOAT32:
            st = fdl_gru_cell_backward_f32(<float *>p0, <float *>p1, <float *>p2, <float *>p3,
                                      <float *>p4, <float *>p5, <float *>p6, B, H)
        else:
            st = fdl_gru_cell_backward_f64(<double *>p0, <double *>p1, <double *>p2, <double *>p3,
                                      <double *>p4, <double *>p5, <double *>p6, B, H)
    check(st, "gru_cell_backward")
    return dgi, dgh, dhp


# ---- layers ----------------------------------------------------------------------------

def layer_forward(int mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, bint reverse=False):
    """One layer, one direction, all time steps.

    Shapes: x (T, B, I); h0, c0 (B, H) or None (zeros; c0 only for LSTM);
    w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H,) or None.
    Returns (hs, saved): hs (T+1, B, H) holds h0 and every h_t, laid out as in
    fastdl/rnn.h (outputs are hs[1:] forward, hs[:-1] reverse); saved is the
    tuple layer_backward needs.
    """
    cdef str op = "layer_forward"
    if mode < 0 or mode > 3:
        raise ValueError("%s: mode must be 0..3, got %d" % (op, mode))
    cdef int t = _typ(x, op)
    if x.ndim != 3:
        raise ValueError("%s: expected x of shape (T, B, I), got %s" % (op, tuple(x.shape)))
    cdef int64_t G = GATES[mode]
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
    if mode == _LSTM:
        _arg(c0, "c0", (B, H), t, op, True)
    dt = x.dtype
    hs = np.empty((Ts + 1, B, H), dt)
    cs = act = aux = None
    if mode == _LSTM:
        cs = np.empty((Ts + 1, B, H), dt)
        act = np.empty((Ts, B, 4 * H), dt)
        aux = np.empty((Ts, B, H), dt)
        work = _scratch(fdl_lstm_layer_forward_workspace(B, H), dt)
    elif mode == _GRU:
        act = np.empty((Ts, B, 3 * H), dt)
        aux = np.empty((Ts, B, H), dt)
        work = _scratch(fdl_gru_layer_forward_workspace(B, H), dt)
    else:
        work = _scratch(fdl_rnn_layer_forward_workspace(B, H), dt)
    cdef void *phs = _p(hs)
    cdef void *pcs = _p(cs)
    cdef void *pact = _p(act)
    cdef void *paux = _p(aux)
    cdef void *pw = _p(work)
    cdef void *px = _p(x)
    cdef void *ph0 = _p(h0)
    cdef void *pc0 = _p(c0) if mode == _LSTM else NULL
    cdef void *pwi = _p(w_ih)
    cdef void *pwh = _p(w_hh)
    cdef void *pbi = _p(b_ih)
    cdef void *pbh = _p(b_hh)
    cdef int rev = reverse, st = 0
    cdef fdl_rnn_act a = FDL_RNN_RELU if mode == _RELU else FDL_RNN_TANH
    with nogil:
        if t == cnp.NPY_FLOAT32:
            if mode == _LSTM:
                st = fdl_lstm_layer_forward_f32(<float *>phs, <float *>pcs, <float *>pact,
                                                <float *>paux, <float *>pw, <float *>px, <float *>ph0,
                                                <float *>pc0, <float *>pwi, <float *>pwh,
                                                <float *>pbi, <float *>pbh, Ts, B, I, H, rev)
            elif mode == _GRU:
                st = fdl_gru_layer_forward_f32(<float *>phs, <float *>pact, <float *>paux,
                                               <float *>pw, <float *>px, <float *>ph0,
                                               <float *>pwi, <float *>pwh, <float *>pbi,
                                               <float *>pbh, Ts, B, I, H, rev)
            else:
                st = fdl_rnn_layer_forward_f32(<float *>phs, <float *>pw, <float *>px, <float *>ph0,
                                               <float *>pwi, <float *>pwh, <float *>pbi,
                                               <float *>pbh, Ts, B, I, H, rev, a)
        else:
            if mode == _LSTM:
                st = fdl_lstm_layer_forward_f64(<double *>phs, <double *>pcs, <double *>pact,
                                                <double *>paux, <double *>pw, <double *>px, <double *>ph0,
                                                <double *>pc0, <double *>pwi, <double *>pwh,
                                                <double *>pbi, <double *>pbh, Ts, B, I, H, rev)
            elif mode == _GRU:
                st = fdl_gru_layer_forward_f64(<double *>phs, <double *>pact, <double *>paux,
                                               <double *>pw, <double *>px, <double *>ph0,
                                               <double *>pwi, <double *>pwh, <double *>pbi,
                                               <double *>pbh, Ts, B, I, H, rev)
            else:
                st = fdl_rnn_layer_forward_f64(<double *>phs, <double *>pw, <double *>px, <double *>ph0,
                                               <double *>pwi, <double *>pwh, <double *>pbi,
                                               <double *>pbh, Ts, B, I, H, rev, a)
    check(st, op)
    return hs, (hs, cs, act, aux)


def layer_backward(int mode, tuple saved, x, w_ih, w_hh, dy, int64_t dy_offset, dh_n, dc_n,
                   dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, bint reverse=False):
    """Backward through time of layer_forward; gradients are added into
    dx (T, B, I), dh0, dc0 (B, H), dw_ih, dw_hh, db_ih, db_hh (any may be None).

    dy (T, B, W) is the gradient of an output whose columns
    [dy_offset, dy_offset + H) are this layer-direction's h_t (None: zero);
    dh_n, dc_n (B, H) or None are the gradients of the final states.
    """
    cdef str op = "layer_backward"
    if mode < 0 or mode > 3:
        raise ValueError("%s: mode must be 0..3, got %d" % (op, mode))
    if len(saved) != 4:
        raise ValueError("%s: expected saved = (hs, cs, act, aux) from layer_forward, got %d "
                         "items" % (op, len(saved)))
    hs, cs, act, aux = saved
    cdef int t = _typ(x, op)
    cdef int64_t G = GATES[mode]
    cdef int64_t Ts = x.shape[0], B = x.shape[1], I = x.shape[2], H = w_hh.shape[1]
    _arg(x, "x", (Ts, B, I), t, op)
    _arg(w_ih, "w_ih", (G * H, I), t, op)
    _arg(w_hh, "w_hh", (G * H, H), t, op)
    _arg(hs, "hs", (Ts + 1, B, H), t, op)
    if mode == _LSTM:
        _arg(cs, "cs", (Ts + 1, B, H), t, op)
    if mode >= _LSTM:
        _arg(act, "act", (Ts, B, G * H), t, op)
        _arg(aux, "aux", (Ts, B, H), t, op)
    cdef int64_t ldy = H
    if dy is not None:
        if getattr(dy, "ndim", 0) != 3 or dy.shape[0] != Ts or dy.shape[1] != B \
                or dy_offset < 0 or dy.shape[2] < dy_offset + H:
            raise ValueError("%s: expected dy of shape (%d, %d, >= %d), got %s"
                             % (op, Ts, B, dy_offset + H, getattr(dy, "shape", None)))
        _arg(dy, "dy", tuple(dy.shape), t, op)
        ldy = dy.shape[2]
    _arg(dh_n, "dh_n", (B, H), t, op, True)
    _arg(dc_n, "dc_n", (B, H), t, op, True)
    _arg(dx, "dx", (Ts, B, I), t, op, True, True)
    _arg(dh0, "dh0", (B, H), t, op, True, True)
    _arg(dc0, "dc0", (B, H), t, op, True, True)
    _arg(dw_ih, "dw_ih", (G * H, I), t, op, True, True)
    _arg(dw_hh, "dw_hh", (G * H, H), t, op, True, True)
    _arg(db_ih, "db_ih", (G * H,), t, op, True, True)
    _arg(db_hh, "db_hh", (G * H,), t, op, True, True)
    cdef int64_t nwork
    if mode == _LSTM:
        nwork = fdl_lstm_layer_backward_workspace(Ts, B, H)
    elif mode == _GRU:
        nwork = fdl_gru_layer_backward_workspace(Ts, B, H)
    else:
        nwork = fdl_rnn_layer_backward_workspace(Ts, B, H)
    work = _scratch(nwork, x.dtype)
    cdef int64_t isz = x.dtype.itemsize
    cdef char *pdy = <char *>_p(dy)
    if pdy != NULL:
        pdy += dy_offset * isz
    cdef void *p_dx = _p(dx)
    cdef void *p_dh0 = _p(dh0)
    cdef void *p_dc0 = _p(dc0)
    cdef void *p_dwi = _p(dw_ih)
    cdef void *p_dwh = _p(dw_hh)
    cdef void *p_dbi = _p(db_ih)
    cdef void *p_dbh = _p(db_hh)
    cdef void *p_work = _p(work)
    cdef void *p_hs = _p(hs)
    cdef void *p_cs = _p(cs) if mode == _LSTM else NULL
    cdef void *p_act = _p(act) if mode >= _LSTM else NULL
    cdef void *p_aux = _p(aux) if mode >= _LSTM else NULL
    cdef void *p_x = _p(x)
    cdef void *p_wi = _p(w_ih)
    cdef void *p_wh = _p(w_hh)
    cdef void *p_dhn = _p(dh_n)
    cdef void *p_dcn = _p(dc_n)
    cdef int rev = reverse, st = 0
    cdef fdl_rnn_act a = FDL_RNN_RELU if mode == _RELU else FDL_RNN_TANH
    with nogil:
        if t == cnp.NPY_FLOAT32:
            if mode == _LSTM:
                st = fdl_lstm_layer_backward_f32(
                    <float *>p_dx, <float *>p_dh0, <float *>p_dc0, <float *>p_dwi,
                    <float *>p_dwh, <float *>p_dbi, <float *>p_dbh, <float *>p_work,
                    <float *>p_hs, <float *>p_cs, <float *>p_act, <float *>p_aux, <float *>p_x,
                    <float *>p_wi, <float *>p_wh, <float *>pdy, ldy, <float *>p_dhn,
                    <float *>p_dcn, Ts, B, I, H, rev)
            elif mode == _GRU:
                st = fdl_gru_layer_backward_f32(
                    <float *>p_dx, <float *>p_dh0, <float *>p_dwi, <float *>p_dwh,
                    <float *>p_dbi, <float *>p_dbh, <float *>p_work, <float *>p_hs,
                    <float *>p_act, <float *>p_aux, <float *>p_x, <float *>p_wi, <float *>p_wh,
                    <float *>pdy, ldy, <float *>p_dhn, Ts, B, I, H, rev)
            else:
                st = fdl_rnn_layer_backward_f32(
                    <float *>p_dx, <float *>p_dh0, <float *>p_dwi, <float *>p_dwh,
                    <float *>p_dbi, <float *>p_dbh, <float *>p_work, <float *>p_hs,
                    <float *>p_x, <float *>p_wi, <float *>p_wh, <float *>pdy, ldy,
                    <float *>p_dhn, Ts, B, I, H, rev, a)
        else:
            if mode == _LSTM:
                st = fdl_lstm_layer_backward_f64(
                    <double *>p_dx, <double *>p_dh0, <double *>p_dc0, <double *>p_dwi,
                    <double *>p_dwh, <double *>p_dbi, <double *>p_dbh, <double *>p_work,
                    <double *>p_hs, <double *>p_cs, <double *>p_act, <double *>p_aux,
                    <double *>p_x, <double *>p_wi, <double *>p_wh, <double *>pdy, ldy,
                    <double *>p_dhn, <double *>p_dcn, Ts, B, I, H, rev)
            elif mode == _GRU:
                st = fdl_gru_layer_backward_f64(
                    <double *>p_dx, <double *>p_dh0, <double *>p_dwi, <double *>p_dwh,
                    <double *>p_dbi, <double *>p_dbh, <double *>p_work, <double *>p_hs,
                    <double *>p_act, <double *>p_aux, <double *>p_x, <double *>p_wi,
                    <double *>p_wh, <double *>pdy, ldy, <double *>p_dhn, Ts, B, I, H, rev)
            else:
                st = fdl_rnn_layer_backward_f64(
                    <double *>p_dx, <double *>p_dh0, <double *>p_dwi, <double *>p_dwh,
                    <double *>p_dbi, <double *>p_dbh, <double *>p_work, <double *>p_hs,
                    <double *>p_x, <double *>p_wi, <double *>p_wh, <double *>pdy, ldy,
                    <double *>p_dhn, Ts, B, I, H, rev, a)
    check(st, op)
