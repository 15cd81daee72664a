# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batch statistics for fastdl.metrics: confusion-matrix updates (argmax,
labels, binary threshold), top-k hit counts and regression moments.

Each wrapper checks dtypes, shapes and label ranges and raises an error that
names the metric (`op`) and the shapes; it then updates the caller's state
array in place with one C call, GIL released.
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check, by_dtype
from libc.stdint cimport int64_t

from fastdl._C.metrics cimport *
from fastdl._C._core cimport fdl_strerror

cnp.import_array()

REG_STATE = FDL_REG_STATE
REG_BLOCK = FDL_REG_BLOCK




cdef cnp.ndarray _labels(object labels, str what, str op):
    if not isinstance(labels, np.ndarray):
        raise TypeError("%s: %s must be a numpy array, got %s" % (op, what, type(labels).__name__))
    if labels.dtype.kind not in "iub":
        raise TypeError("%s: %s must hold integer class labels, got dtype %s"
                        % (op, what, labels.dtype))
    if labels.ndim != 1:
        raise ValueError("%s: %s must be 1-D [N], got shape %s" % (op, what, labels.shape))
    return np.ascontiguousarray(labels, dtype=np.int64)


cdef cnp.ndarray _floats(object x, str what, str op):
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: %s must be a numpy array, got %s" % (op, what, type(x).__name__))
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError("%s: %s must be float32 or float64, got dtype %s" % (op, what, x.dtype))
    return np.ascontiguousarray(x)


cdef int _check_range(cnp.ndarray lab, int64_t C, str what, str op) except -1:
    cdef int64_t N = lab.shape[0]
    cdef const int64_t *p = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef int64_t bad
    with nogil:
        bad = fdl_labels_first_invalid(p, N, C)
    if bad >= 0:
        raise ValueError("%s: %s[%d] = %d is out of range [0, %d) for %d classes"
                         % (op, what, bad, lab[bad], C, C))
    return 0


cdef cnp.ndarray _state(object state, int64_t rows, int64_t cols, object dtype, str op):
    if (not isinstance(state, np.ndarray) or state.dtype != dtype
            or state.shape != (rows, cols) or not state.flags.c_contiguous
            or not state.flags.writeable):
        raise ValueError("%s: state must be a writeable C-contiguous %s array of shape (%d, %d)"
                         % (op, np.dtype(dtype).name, rows, cols))
    return <cnp.ndarray>state


def confusion_update(cm, preds, labels, str op="confusion_matrix"):
    """cm[t, p] += counts, in place.

    preds is either scores [N, C] (float32/float64; the argmax is the
    prediction, first maximum wins) or predicted labels [N] (integer).
    cm is int64 [C, C], rows = true labels. Returns cm.
    """
    cdef cnp.ndarray lab = _labels(labels, "target", op)
    if not isinstance(cm, np.ndarray) or cm.ndim != 2:
        raise ValueError("%s: confusion matrix must be a 2-D int64 array" % op)
    cdef int64_t C = cm.shape[0]
    cdef cnp.ndarray M = _state(cm, C, C, np.int64, op)
    if C < 1:
        raise ValueError("%s: need at least one class, got a %s confusion matrix" % (op, cm.shape))
    cdef int64_t N = lab.shape[0]
    cdef cnp.ndarray s, p
    cdef bint scores
    if not isinstance(preds, np.ndarray):
        raise TypeError("%s: preds must be a numpy array, got %s" % (op, type(preds).__name__))
    if preds.ndim == 2:
        s = _floats(preds, "preds", op)
        if s.shape[0] != N or s.shape[1] != C:
            raise ValueError("%s: preds of shape %s do not match target of shape %s with "
                             "%d classes (expected (%d, %d))"
                             % (op, preds.shape, labels.shape, C, N, C))
        scores = True
    elif preds.ndim == 1:
        p = _labels(preds, "preds", op)
        if p.shape[0] != N:
            raise ValueError("%s: preds of shape %s and target of shape %s differ in length"
                             % (op, preds.shape, labels.shape))
        _check_range(p, C, "preds", op)
        scores = False
    else:
        raise ValueError("%s: preds must be [N, C] scores or [N] labels, got shape %s"
                         % (op, preds.shape))
    _check_range(lab, C, "target", op)
    cdef int64_t ws = fdl_confusion_workspace_size(N, C)
    cdef cnp.ndarray work = np.empty(max(ws, 1), dtype=np.int64)
    cdef int64_t *cmp = <int64_t *>cnp.PyArray_DATA(M)
    cdef int64_t *wp = <int64_t *>cnp.PyArray_DATA(work)
    cdef const int64_t *lp = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef int st
    cdef void *pd
    cdef bint f64
    if scores:
        pd, f64 = cnp.PyArray_DATA(s), cnp.PyArray_TYPE(s) == cnp.NPY_FLOAT64
        with nogil:
            st = by_dtype(f64, fdl_confusion_update_scores_f64, fdl_confusion_update_scores_f32,
                          cmp, wp, ws, pd, lp, N, C)
    else:
        with nogil:
            st = fdl_confusion_update_labels(cmp, wp, ws, <const int64_t *>cnp.PyArray_DATA(p),
                                             lp, N, C)
    check(st, op)
    return cm


def confusion_update_binary(cm, scores, labels, double threshold, str op="binary"):
    """cm (int64 [2, 2]) += counts of (label, score > threshold), in place."""
    cdef cnp.ndarray lab = _labels(labels, "target", op)
    cdef cnp.ndarray M = _state(cm, 2, 2, np.int64, op)
    cdef cnp.ndarray s = _floats(scores, "preds", op)
    cdef int64_t N = lab.shape[0]
    if s.ndim != 1 or s.shape[0] != N:
        raise ValueError("%s: binary preds must be [N] matching target of shape %s, got shape %s"
                         % (op, labels.shape, scores.shape))
    cdef cnp.ndarray bad = lab[(lab != 0) & (lab != 1)]
    if bad.size:
        raise ValueError("%s: binary target must hold 0 or 1, got %d" % (op, bad[0]))
    cdef int64_t *cmp = <int64_t *>cnp.PyArray_DATA(M)
    cdef const int64_t *lp = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef int st
    cdef void *ps = cnp.PyArray_DATA(s)
    cdef bint f64 = cnp.PyArray_TYPE(s) == cnp.NPY_FLOAT64
    with nogil:
        st = by_dtype(f64, fdl_confusion_update_binary_f64, fdl_confusion_update_binary_f32, cmp,
                      ps, lp, N, threshold)
    check(st, op)
    return cm


def topk_correct(scores, labels, int64_t k, str op="top_k_accuracy"):
    """Number of rows of scores [N, C] whose label is in the top k (ties count
    as hits: fewer than k classes score strictly higher)."""
    cdef cnp.ndarray lab = _labels(labels, "target", op)
    cdef cnp.ndarray s = _floats(scores, "preds", op)
    cdef int64_t N = lab.shape[0]
    if s.ndim != 2 or s.shape[0] != N:
        raise ValueError("%s: preds must be scores [N, C] with N = %d (target shape %s), "
                         "got shape %s" % (op, N, labels.shape, scores.shape))
    cdef int64_t C = s.shape[1]
    if k < 1:
        raise ValueError("%s: k must be >= 1, got %d" % (op, k))
    if C < 1:
        raise ValueError("%s: preds have no classes (shape %s)" % (op, scores.shape))
    _check_range(lab, C, "target", op)
    cdef int64_t correct = 0
    cdef const int64_t *lp = <const int64_t *>cnp.PyArray_DATA(lab)
    cdef int st
    cdef void *ps = cnp.PyArray_DATA(s)
    cdef bint f64 = cnp.PyArray_TYPE(s) == cnp.NPY_FLOAT64
    with nogil:
        st = by_dtype(f64, fdl_topk_correct_f64, fdl_topk_correct_f32, &correct, ps, lp, N, C, k)
    check(st, op)
    return correct


def regression_update(state, pred, target, str op="regression"):
    """Merge the moments of one batch into state (float64 [D, 5]) in place:
    n, sum|e|, sum e^2, mean(y), sum (y - mean)^2 per output column.

    pred and target are [N] or [N, D] with the same shape and dtype.
    """
    cdef cnp.ndarray p = _floats(pred, "preds", op)
    cdef cnp.ndarray t = _floats(target, "target", op)
    if (<object>p).shape != (<object>t).shape or p.ndim not in (1, 2):
        raise ValueError("%s: preds and target must have the same shape [N] or [N, D], "
                         "got %s and %s" % (op, pred.shape, target.shape))
    if p.dtype != t.dtype:
        raise TypeError("%s: preds (%s) and target (%s) must have the same dtype"
                        % (op, pred.dtype, target.dtype))
    cdef int64_t N = p.shape[0]
    cdef int64_t D = p.shape[1] if p.ndim == 2 else 1
    if D < 1:
        raise ValueError("%s: need at least one output column, got shape %s" % (op, pred.shape))
    cdef cnp.ndarray S = _state(state, D, FDL_REG_STATE, np.float64, op)
    cdef double *sp = <double *>cnp.PyArray_DATA(S)
    cdef int st
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pt = cnp.PyArray_DATA(t)
    cdef bint f64 = cnp.PyArray_TYPE(p) == cnp.NPY_FLOAT64
    with nogil:
        st = by_dtype(f64, fdl_regression_update_f64, fdl_regression_update_f32, sp, pp, pt, N, D)
    check(st, op)
    return state
