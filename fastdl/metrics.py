"""Evaluation metrics: streaming objects and scikit-learn-style functions.

Every metric keeps small sufficient statistics that C kernels update one
batch at a time (a confusion matrix, a top-k hit count, regression moments),
so `update()` over many batches followed by `compute()` gives the same value
as one call on all the data. Definitions follow scikit-learn's.

Objects: `Accuracy`, `Precision`, `Recall`, `F1Score`, `ConfusionMatrix`,
`MeanAbsoluteError`, `MeanSquaredError`, `RootMeanSquaredError`, `R2Score`.
Each has `update(preds, target)`, `compute()` (alias `result()`), `reset()`
and a Keras-style `name` used as the key in training logs.

Functions with scikit-learn's names take `(y_true, y_pred)` in that order:
`accuracy_score`, `precision_score`, `recall_score`, `f1_score`,
`confusion_matrix`, `mean_absolute_error`, `mean_squared_error`,
`root_mean_squared_error`, `r2_score`. `accuracy(preds, target, ...)` is the
one-shot form of `Accuracy` (preds first, like the objects).

What `preds` may be (objects):
    * scores [N, C] (logits or probabilities): the prediction is the argmax
      (the first maximum on ties, as numpy.argmax);
    * integer labels [N];
    * binary scores [N] or [N, 1] of floating dtype: class 1 when
      score > threshold (strict, as Keras); with `from_logits=True` the
      threshold applies to sigmoid(score).
`target` is integer labels [N] (floats holding whole numbers are accepted),
or one-hot [N, C] matching scores [N, C].

Example:
    >>> import numpy as np
    >>> from fastdl import metrics
    >>> acc = metrics.Accuracy()
    >>> acc.update(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    >>> acc.compute()
    0.5
"""
import math

import numpy as np

from fastdl._C import metrics as _C
from fastdl._intcheck import check_int64_range

__all__ = ["Metric", "Accuracy", "Precision", "Recall", "F1Score", "ConfusionMatrix",
           "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError", "R2Score",
           "accuracy", "accuracy_score", "precision_score", "recall_score", "f1_score",
           "confusion_matrix", "mean_absolute_error", "mean_squared_error",
           "root_mean_squared_error", "r2_score", "get_metric"]

_AVERAGES = ("binary", "macro", "micro", "weighted", None)


# ---- input conversion ------------------------------------------------------

def _np(x):
    """The numpy array behind a fastdl Tensor, or np.asarray(x)."""
    data = getattr(x, "_data", None)
    return data if isinstance(data, np.ndarray) else np.asarray(x)


def _flat_column(x):
    return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x


def _labels(y, op, what="target"):
    """Integer labels [N] as int64; floats must hold whole numbers."""
    y = _flat_column(_np(y))
    if y.ndim != 1:
        raise ValueError("%s: %s must be labels of shape [N], got shape %s" % (op, what, y.shape))
    if y.dtype.kind == "f":
        if y.size and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise ValueError("%s: %s must hold integer class labels, got non-integer values"
                             % (op, what))
        return y.astype(np.int64)
    if y.dtype.kind in "iub":
        check_int64_range(y, op, what + " label", ValueError)
        return y.astype(np.int64, copy=False)
    raise TypeError("%s: %s must hold integer class labels, got dtype %s" % (op, what, y.dtype))


def _scores(x):
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _check_zero_division(zero_division, op):
    if isinstance(zero_division, str):
        if zero_division != "warn":
            raise ValueError("%s: zero_division must be 'warn', 0, 1 or np.nan, got %r"
                             % (op, zero_division))
        return 0.0
    z = float(zero_division)
    if not (z == 0.0 or z == 1.0 or math.isnan(z)):
        raise ValueError("%s: zero_division must be 'warn', 0, 1 or np.nan, got %r"
                         % (op, zero_division))
    return z


# ---- base ----------------------------------------------------------------

class Metric:
    """Base of the streaming metrics: update(preds, target), compute(), reset()."""

    default_name = "metric"

    def __init__(self, name=None):
        self.name = name or self.default_name
        self.reset()

    def reset(self):
        raise NotImplementedError

    def update(self, preds, target):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def result(self):
        """Keras's name for compute()."""
        return self.compute()

    def extra_repr(self):
        return ""

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.extra_repr())


class _ConfusionBased(Metric):
    """Accumulates an int64 confusion matrix (rows = true, columns = predicted).

    The matrix grows when num_classes is None and a larger label appears.
    """

    def __init__(self, num_classes=None, threshold=0.5, from_logits=False, name=None):
        if num_classes is not None and int(num_classes) < 1:
            raise ValueError("%s: num_classes must be >= 1, got %r"
                             % (type(self).__name__, num_classes))
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError("%s: threshold must be in [0, 1], got %r"
                             % (type(self).__name__, threshold))
        self.num_classes = None if num_classes is None else int(num_classes)
        self.threshold = float(threshold)
        self.from_logits = bool(from_logits)
        super().__init__(name)

    def reset(self):
        n = self.num_classes or 0
        self.confmat = np.zeros((n, n), dtype=np.int64)

    def _grow(self, C, op):
        n = self.confmat.shape[0]
        if self.num_classes is not None and C > self.num_classes:
            raise ValueError("%s: got %d classes but num_classes=%d" % (op, C, self.num_classes))
        if C > n:
            cm = np.zeros((C, C), dtype=np.int64)
            cm[:n, :n] = self.confmat
            self.confmat = cm

    def _binary_threshold(self):
        t = self.threshold
        if not self.from_logits:
            return t
        if t <= 0.0:
            return -math.inf
        if t >= 1.0:
            return math.inf
        return math.log(t / (1.0 - t))

    def _update_confmat(self, preds, target, binary_scores=True):
        op = "%s.update" % type(self).__name__
        p = _np(preds)
        t = _np(target)
        if p.ndim == 2 and p.shape[1] > 1:
            if t.ndim == 2 and t.shape == p.shape:
                t = np.argmax(t, axis=1)
            y = _labels(t, op)
            self._grow(p.shape[1], op)
            if self.confmat.shape[0] != p.shape[1]:
                raise ValueError("%s: preds have %d classes but the metric has seen %d"
                                 % (op, p.shape[1], self.confmat.shape[0]))
            _C.confusion_update(self.confmat, _scores(p), y, op)
            return
        p = _flat_column(p)
        y = _labels(t, op)
        if p.ndim != 1:
            raise ValueError("%s: preds must be scores [N, C], labels [N] or binary scores [N], "
                             "got shape %s" % (op, p.shape))
        if p.dtype.kind == "f" and binary_scores:
            self._grow(2, op)
            if y.shape != p.shape:
                raise ValueError("%s: preds of shape %s and target of shape %s differ in length"
                                 % (op, p.shape, y.shape))
            cm2 = np.zeros((2, 2), dtype=np.int64)
            _C.confusion_update_binary(cm2, _scores(p), y, self._binary_threshold(), op)
            self.confmat[:2, :2] += cm2
            return
        p = _labels(p, op, "preds")
        if self.num_classes is not None:
            C = self.num_classes
        else:
            hi = max(int(p.max(initial=-1)), int(y.max(initial=-1)))
            C = max(hi + 1, self.confmat.shape[0], 1)
        self._grow(C, op)
        _C.confusion_update(self.confmat, p, y, op)


# ---- accuracy ------------------------------------------------------------

class Accuracy(_ConfusionBased):
    """Fraction of correctly classified samples (scikit-learn's accuracy_score).

    Args:
        task: 'multiclass' (preds are scores [N, C] or labels [N]; a floating
            [N, 1] output is read as binary scores, like Keras's "accuracy" on a
            one-unit model) or 'binary' (preds are scores [N] or [N, 1], or
            0/1 labels).
        threshold: binary decision threshold on probabilities; class 1 when
            p > threshold.
        top_k: with scores [N, C], a sample is correct when its label is among
            the k highest scores. Ties at the k-th place count as hits (fewer
            than k classes score strictly higher), which equals torch.topk-based
            accuracy when scores are distinct.
        from_logits: binary scores are logits; the threshold applies to
            sigmoid(score).
        num_classes: optional; fixes the number of classes.

    Shapes: preds [N, C], [N] or [N, 1]; target [N] (or one-hot [N, C]).

    Example:
        >>> m = Accuracy(top_k=2)
        >>> m.update(np.array([[0.5, 0.3, 0.2]]), np.array([1])); m.compute()
        1.0
    """

    default_name = "accuracy"

    def __init__(self, task="multiclass", threshold=0.5, top_k=1, from_logits=False,
                 num_classes=None, name=None):
        if task not in ("multiclass", "binary"):
            raise ValueError("Accuracy: task must be 'multiclass' or 'binary', got %r" % (task,))
        if int(top_k) < 1:
            raise ValueError("Accuracy: top_k must be >= 1, got %r" % (top_k,))
        if task == "binary" and int(top_k) != 1:
            raise ValueError("Accuracy: top_k applies to task='multiclass' only")
        self.task = task
        self.top_k = int(top_k)
        if name is None and self.top_k > 1:
            name = "top_k_accuracy"
        super().__init__(num_classes, threshold, from_logits, name)

    def reset(self):
        super().reset()
        self.correct = 0
        self.total = 0

    def update(self, preds, target):
        op = "Accuracy.update"
        if self.top_k > 1:
            p = _np(preds)
            t = _np(target)
            if p.ndim != 2:
                raise ValueError("%s: top_k=%d needs scores [N, C], got shape %s"
                                 % (op, self.top_k, p.shape))
            if t.ndim == 2 and t.shape == p.shape:
                t = np.argmax(t, axis=1)
            y = _labels(t, op)
            self.correct += _C.topk_correct(_scores(p), y, self.top_k, op)
            self.total += y.shape[0]
            return
        if self.task == "binary":
            p = _flat_column(_np(preds))
            if p.ndim != 1:
                raise ValueError("%s: task='binary' needs preds [N] or [N, 1], got shape %s"
                                 % (op, _np(preds).shape))
            self.num_classes = self.num_classes or 2
            self._grow(2, op)
            self._update_confmat(p, target)
            return
        p = _np(preds)
        if p.ndim == 2 and p.shape[1] == 1 and p.dtype.kind == "f":
            # One output unit is a binary model, as in Keras's "accuracy".
            self._update_confmat(p, target)
            return
        if p.ndim == 1 and p.dtype.kind == "f":
            if p.size and not np.all(p == np.round(p)):
                raise ValueError("%s: task='multiclass' got non-integer preds of shape %s; "
                                 "pass scores [N, C], labels [N], or use task='binary'"
                                 % (op, p.shape))
            p = _labels(p, op, "preds")  # multiclass labels given as floats
        self._update_confmat(p, target, binary_scores=False)

    def compute(self):
        if self.top_k > 1:
            correct, total = self.correct, self.total
        else:
            correct, total = int(np.trace(self.confmat)), int(self.confmat.sum())
        return correct / total if total else float("nan")

    def extra_repr(self):
        return "task=%r, threshold=%r, top_k=%d" % (self.task, self.threshold, self.top_k)


# ---- precision / recall / F1 --------------------------------------------

def _divide(num, den, zero):
    out = np.full(num.shape, zero, dtype=np.float64)
    ok = den != 0
    out[ok] = num[ok] / den[ok]
    return out


def _nanaverage(a, weights=None):
    if a.shape[0] == 0:
        return float("nan")
    keep = ~np.isnan(a)
    if not keep.any():
        return float("nan")
    if weights is None:
        return float(np.mean(a[keep]))
    w = np.asarray(weights, dtype=np.float64)[keep]
    if w.sum() == 0:
        return float(np.mean(a[keep]))
    return float(np.average(a[keep], weights=w))


def _prf(cm, average, pos_label, zero_division, labels, op):
    """(precision, recall, f1) from a confusion matrix, as scikit-learn computes them."""
    if average not in _AVERAGES:
        raise ValueError("%s: average must be one of %s, got %r" % (op, _AVERAGES, average))
    zero = _check_zero_division(zero_division, op)
    C = cm.shape[0]
    tp = np.diag(cm).astype(np.float64)
    pred_sum = cm.sum(axis=0).astype(np.float64)
    true_sum = cm.sum(axis=1).astype(np.float64)
    present = np.flatnonzero(pred_sum + true_sum > 0)
    if average == "binary":
        if present.size > 2:
            raise ValueError("%s: target is multiclass (%d classes present) but "
                             "average='binary'; choose average='macro', 'micro' or 'weighted'"
                             % (op, present.size))
        pos_label = int(pos_label)
        if present.size == 2 and pos_label not in present:
            raise ValueError("%s: pos_label=%d is not a valid label; present labels are %s"
                             % (op, pos_label, present.tolist()))
        sel = np.array([pos_label])
    elif labels is not None:
        sel = np.asarray(labels, dtype=np.int64).reshape(-1)
    else:
        sel = present
    if sel.size and (sel.min() < 0):
        raise ValueError("%s: labels must be >= 0, got %s" % (op, sel.tolist()))
    # Classes beyond the matrix never occurred: their counts are zero.
    pad = int(sel.max(initial=-1)) + 1 - C
    if pad > 0:
        tp, pred_sum, true_sum = (np.concatenate([v, np.zeros(pad)])
                                  for v in (tp, pred_sum, true_sum))
    tp, pred_sum, true_sum = tp[sel], pred_sum[sel], true_sum[sel]
    if average == "micro":
        tp, pred_sum, true_sum = (np.array([v.sum()]) for v in (tp, pred_sum, true_sum))
    precision = _divide(tp, pred_sum, zero)
    recall = _divide(tp, true_sum, zero)
    f1 = _divide(2.0 * tp, true_sum + pred_sum, zero)
    if average is None:
        return precision, recall, f1
    weights = true_sum if average == "weighted" else None
    return tuple(_nanaverage(v, weights) for v in (precision, recall, f1))


class _PRF(_ConfusionBased):
    _which = 0

    def __init__(self, average="binary", num_classes=None, pos_label=1, zero_division=0,
                 threshold=0.5, from_logits=False, name=None):
        if average not in _AVERAGES:
            raise ValueError("%s: average must be one of %s, got %r"
                             % (type(self).__name__, _AVERAGES, average))
        _check_zero_division(zero_division, type(self).__name__)
        self.average = average
        self.pos_label = int(pos_label)
        self.zero_division = zero_division
        super().__init__(num_classes, threshold, from_logits, name)

    def update(self, preds, target):
        self._update_confmat(preds, target)

    def compute(self):
        # Averages run over the classes present in target or preds, as
        # scikit-learn's do with labels=None, even when num_classes is larger.
        op = "%s.compute" % type(self).__name__
        return _prf(self.confmat, self.average, self.pos_label, self.zero_division,
                    None, op)[self._which]

    def extra_repr(self):
        return "average=%r, num_classes=%r, pos_label=%d, zero_division=%r" % (
            self.average, self.num_classes, self.pos_label, self.zero_division)


class Precision(_PRF):
    """Precision tp / (tp + fp) (scikit-learn's precision_score).

    Args:
        average: 'binary' (class pos_label only), 'macro' (unweighted mean over
            classes present in target or preds), 'micro' (global counts),
            'weighted' (mean weighted by support), or None (per class array).
        num_classes: optional; fixes the confusion matrix size.
        pos_label: the positive class for average='binary'.
        zero_division: value (0, 1 or nan) when a denominator is zero.
        threshold, from_logits: for binary scores [N], as in Accuracy.

    Example:
        >>> m = Precision(); m.update(np.array([1, 1, 0]), np.array([1, 0, 0])); m.compute()
        0.5
    """
    default_name = "precision"
    _which = 0


class Recall(_PRF):
    """Recall tp / (tp + fn) (scikit-learn's recall_score); arguments as Precision."""
    default_name = "recall"
    _which = 1


class F1Score(_PRF):
    """F1 = 2 tp / (2 tp + fp + fn) (scikit-learn's f1_score); arguments as Precision."""
    default_name = "f1_score"
    _which = 2


class ConfusionMatrix(_ConfusionBased):
    """Streaming confusion matrix: entry [i, j] counts samples of true class i
    predicted as class j. compute() returns an int64 [C, C] array.

    Example:
        >>> m = ConfusionMatrix(2); m.update(np.array([1, 0]), np.array([1, 1])); m.compute()
        array([[0, 0],
               [1, 1]])
    """
    default_name = "confusion_matrix"

    def __init__(self, num_classes=None, threshold=0.5, from_logits=False, name=None):
        super().__init__(num_classes, threshold, from_logits, name)

    def update(self, preds, target):
        self._update_confmat(preds, target)

    def compute(self):
        return self.confmat.copy()

    def extra_repr(self):
        return "num_classes=%r" % (self.num_classes,)


# ---- regression ------------------------------------------------------------

def _regression_pair(preds, target, op, names=("preds", "target")):
    p = _np(preds)
    t = _np(target)
    if p.ndim == 2 and p.shape[1] == 1 and t.ndim == 1:
        p = p[:, 0]
    elif t.ndim == 2 and t.shape[1] == 1 and p.ndim == 1:
        t = t[:, 0]
    if p.shape != t.shape or p.ndim not in (1, 2):
        raise ValueError("%s: %s of shape %s and %s of shape %s must have the same shape, "
                         "[N] or [N, D]" % (op, names[0], p.shape, names[1], t.shape))
    dt = np.float32 if (p.dtype == np.float32 and t.dtype == np.float32) else np.float64
    return p.astype(dt, copy=False), t.astype(dt, copy=False)


def _mae(s):
    return s[:, 1] / s[:, 0]


def _mse(s):
    return s[:, 2] / s[:, 0]


def _rmse(s):
    return np.sqrt(s[:, 2] / s[:, 0])


def _r2(s):
    n, ss_res, ss_tot = s[:, 0], s[:, 2], s[:, 4]
    if n[0] < 2:
        return np.full(s.shape[0], np.nan)
    out = np.where(ss_res == 0, 1.0, 0.0)  # scikit-learn's force_finite for constant y
    ok = ss_tot != 0
    out[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
    return out


class _Regression(Metric):
    _stat = None

    def reset(self):
        self.state = None

    def update(self, preds, target):
        op = "%s.update" % type(self).__name__
        p, t = _regression_pair(preds, target, op)
        D = 1 if p.ndim == 1 else p.shape[1]
        if self.state is None:
            self.state = np.zeros((D, _C.REG_STATE), dtype=np.float64)
        elif self.state.shape[0] != D:
            raise ValueError("%s: got %d outputs but earlier batches had %d"
                             % (op, D, self.state.shape[0]))
        _C.regression_update(self.state, p, t, op)

    def compute(self):
        if self.state is None or self.state[0, 0] == 0:
            return float("nan")
        return float(np.mean(type(self)._stat(self.state)))


class MeanAbsoluteError(_Regression):
    """Mean of |pred - target| (averaged over outputs for [N, D])."""
    default_name = "mean_absolute_error"
    _stat = staticmethod(_mae)


class MeanSquaredError(_Regression):
    """Mean of (pred - target)^2 (averaged over outputs for [N, D])."""
    default_name = "mean_squared_error"
    _stat = staticmethod(_mse)


class RootMeanSquaredError(_Regression):
    """sqrt(MSE) per output, averaged over outputs (scikit-learn's definition)."""
    default_name = "root_mean_squared_error"
    _stat = staticmethod(_rmse)


class R2Score(_Regression):
    """Coefficient of determination 1 - SS_res / SS_tot per output, averaged.

    SS_tot is streamed as a centred sum (Chan's merge), not sum y^2 - (sum y)^2/n.
    Constant targets give 1.0 when predictions are exact, else 0.0; fewer
    than two samples give nan (as scikit-learn).
    """
    default_name = "r2_score"
    _stat = staticmethod(_r2)


# ---- functional forms ------------------------------------------------------

def accuracy(preds, target, task="multiclass", threshold=0.5, top_k=1, from_logits=False,
             num_classes=None):
    """One-shot Accuracy (preds first); see Accuracy for arguments."""
    m = Accuracy(task, threshold, top_k, from_logits, num_classes)
    m.update(preds, target)
    return m.compute()


def _confmat(y_true, y_pred, op):
    yt = _labels(y_true, op, "y_true")
    p = _np(y_pred)
    if p.ndim == 2 and p.shape[1] > 1:
        m = _ConfusionBased(num_classes=p.shape[1])
    else:
        p = _labels(p, op, "y_pred")
        if yt.shape != p.shape:
            raise ValueError("%s: y_true of shape %s and y_pred of shape %s differ"
                             % (op, yt.shape, p.shape))
        m = _ConfusionBased(num_classes=max(int(yt.max(initial=-1)), int(p.max(initial=-1)),
                                            0) + 1)
    m._update_confmat(p, yt, binary_scores=False)
    return m.confmat


def accuracy_score(y_true, y_pred, *, normalize=True):
    """scikit-learn's accuracy_score: fraction (or count) of exact matches."""
    cm = _confmat(y_true, y_pred, "accuracy_score")
    correct, total = int(np.trace(cm)), int(cm.sum())
    if not normalize:
        return correct
    return correct / total if total else float("nan")


def _prf_fn(which, op):
    def fn(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
           zero_division="warn"):
        cm = _confmat(y_true, y_pred, op)
        return _prf(cm, average, pos_label, zero_division, labels, op)[which]
    fn.__name__ = op
    return fn


precision_score = _prf_fn(0, "precision_score")
precision_score.__doc__ = """scikit-learn's precision_score over integer labels [N]."""
recall_score = _prf_fn(1, "recall_score")
recall_score.__doc__ = """scikit-learn's recall_score over integer labels [N]."""
f1_score = _prf_fn(2, "f1_score")
f1_score.__doc__ = """scikit-learn's f1_score over integer labels [N]."""


def confusion_matrix(y_true, y_pred, *, labels=None, normalize=None):
    """scikit-learn's confusion_matrix: rows true, columns predicted, over the
    sorted labels present in y_true or y_pred (or over `labels`)."""
    op = "confusion_matrix"
    cm = _confmat(y_true, y_pred, op)
    if labels is None:
        sel = np.flatnonzero(cm.sum(axis=0) + cm.sum(axis=1) > 0)
    else:
        sel = np.asarray(labels, dtype=np.int64).reshape(-1)
        if sel.size == 0:
            raise ValueError("%s: 'labels' should contain at least one label" % op)
        pad = int(sel.max()) + 1 - cm.shape[0]
        if pad > 0:
            cm = np.pad(cm, ((0, pad), (0, pad)))
    cm = cm[np.ix_(sel, sel)]
    if normalize is None:
        return cm
    with np.errstate(all="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            out = cm / cm.sum()
        else:
            raise ValueError("%s: normalize must be one of {'true', 'pred', 'all', None}, "
                             "got %r" % (op, normalize))
    return np.nan_to_num(out)


def _reg_fn(stat, op):
    def fn(y_true, y_pred, *, multioutput="uniform_average"):
        p, t = _regression_pair(y_pred, y_true, op, ("y_pred", "y_true"))
        D = 1 if p.ndim == 1 else p.shape[1]
        state = np.zeros((D, _C.REG_STATE), dtype=np.float64)
        _C.regression_update(state, p, t, op)
        if state[0, 0] == 0:
            raise ValueError("%s: y_true and y_pred are empty" % op)
        values = stat(state)
        if isinstance(multioutput, str):
            if multioutput == "raw_values":
                return values
            if multioutput != "uniform_average":
                raise ValueError("%s: multioutput must be 'raw_values', 'uniform_average' or "
                                 "weights, got %r" % (op, multioutput))
            return float(np.mean(values))
        return float(np.average(values, weights=np.asarray(multioutput, dtype=np.float64)))
    fn.__name__ = op
    return fn


mean_absolute_error = _reg_fn(_mae, "mean_absolute_error")
mean_absolute_error.__doc__ = "scikit-learn's mean_absolute_error(y_true, y_pred)."
mean_squared_error = _reg_fn(_mse, "mean_squared_error")
mean_squared_error.__doc__ = "scikit-learn's mean_squared_error(y_true, y_pred)."
root_mean_squared_error = _reg_fn(_rmse, "root_mean_squared_error")
root_mean_squared_error.__doc__ = "scikit-learn's root_mean_squared_error(y_true, y_pred)."
r2_score = _reg_fn(_r2, "r2_score")
r2_score.__doc__ = "scikit-learn's r2_score(y_true, y_pred) (force_finite=True)."


# ---- names -----------------------------------------------------------------

# Precision/recall/F1 by name average over classes ('macro'), which is defined
# for binary and multiclass models alike; pass an object for 'binary'.
_NAMES = {
    "accuracy": lambda: Accuracy(),
    "acc": lambda: Accuracy(),
    "top_k_accuracy": lambda: Accuracy(top_k=5),
    "precision": lambda: Precision(average="macro"),
    "recall": lambda: Recall(average="macro"),
    "f1": lambda: F1Score(average="macro"),
    "f1_score": lambda: F1Score(average="macro"),
    "mae": lambda: MeanAbsoluteError(),
    "mean_absolute_error": lambda: MeanAbsoluteError(),
    "mse": lambda: MeanSquaredError(),
    "mean_squared_error": lambda: MeanSquaredError(),
    "rmse": lambda: RootMeanSquaredError(),
    "root_mean_squared_error": lambda: RootMeanSquaredError(),
    "r2": lambda: R2Score(),
    "r2_score": lambda: R2Score(),
}


def get_metric(name_or_obj):
    """A Metric from a name ("accuracy", "acc", "top_k_accuracy", "precision",
    "recall", "f1", "mae", "mse", "rmse", "r2") or a Metric object (returned
    as is). A metric made from a name logs under that name, as in Keras."""
    if isinstance(name_or_obj, Metric):
        return name_or_obj
    if isinstance(name_or_obj, str):
        key = name_or_obj.lower()
        if key not in _NAMES:
            raise ValueError("get_metric: unknown metric %r; known names are %s"
                             % (name_or_obj, sorted(_NAMES)))
        m = _NAMES[key]()
        m.name = name_or_obj
        return m
    raise TypeError("get_metric: expected a metric name or a fastdl.metrics.Metric, got %s"
                    % type(name_or_obj).__name__)
