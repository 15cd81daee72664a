"""Trainer: Keras's compile/fit/evaluate/predict over a fastdl model.

``Trainer(model, optimizer, loss, metrics=...)`` is Keras's ``compile``;
``fit(x, y, batch_size, epochs, ...)``, ``evaluate`` and ``predict`` take
Keras's arguments in Keras's order and return what Keras returns.

One epoch is one full pass over the training data: ceil(n / batch_size)
iterations (floor with drop_last), or ``steps_per_epoch`` batches. With
grad_accum_steps=k the optimizer steps every k mini-batches and each
mini-batch loss is weighted by its share of the samples in its group, so k
accumulated batches give exactly the gradient of one k-times larger batch.

Output names (multi-output models): a model that returns a dict names its
outputs by the dict's keys; a tuple or list of outputs is named "output_1",
"output_2", ... (Keras's names for unnamed outputs). Per-output logs are
"<name>_loss" and "<name>_<metric>"; a single output's logs carry no prefix.

Inputs: float NumPy arrays (and Tensors) of another dtype, e.g. float64, are
cast to the model's dtype (float32) once, as Keras casts to floatx; integer
arrays (labels) are kept.
"""
import copy
import numbers
import time
import warnings

import numpy as np

from fastdl import random as _random
from fastdl.autograd import no_grad
from fastdl.tensor import Tensor
from fastdl.train import distributed as _distributed
from fastdl.train.callbacks import (CallbackList, History, LearningRateScheduler, ProgressBar,
                                    TerminateOnNaN, check_verbose)
from fastdl.train.losses import KerasLoss, LOSS_NAMES, get_loss
from fastdl.train.progbar import Progbar

__all__ = ["Trainer", "OPTIMIZER_NAMES"]

# Keras's optimizer strings with Keras's default hyperparameters, over fastdl's
# optimizers (PyTorch's update equations).
_OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.01}),
    "adam": ("Adam", {"lr": 1e-3, "eps": 1e-7}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 0.004, "eps": 1e-7}),
    "rmsprop": ("RMSprop", {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7}),
    "adagrad": ("Adagrad", {"lr": 1e-3, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": ("Adadelta", {"lr": 1e-3, "rho": 0.95, "eps": 1e-7}),
}
OPTIMIZER_NAMES = sorted(_OPTIMIZERS)

# metric names the Trainer resolves against the loss, on top of fastdl.metrics' names
_ACCURACY_NAMES = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy",
                   "sparse_categorical_accuracy")
_PRF_NAMES = ("precision", "recall", "f1", "f1_score")


def _metric_names():
    from fastdl.metrics import _NAMES
    return sorted(set(_NAMES) | set(_ACCURACY_NAMES))


def _item(x):
    return float(x.item()) if isinstance(x, Tensor) else float(x)


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _model_dtype(model):
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return np.dtype(np.float32)


def _cast(a, dtype):
    """An array/Tensor as a Tensor; floats of another dtype cast to the model's."""
    from fastdl.creation import as_tensor
    if isinstance(a, Tensor):
        if a.dtype.kind == "f" and a.dtype != dtype:
            return as_tensor(a._data.astype(dtype))
        return a
    arr = np.asarray(a)
    if arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return as_tensor(arr)


def _n_samples(a):
    return a.shape[0] if hasattr(a, "shape") else len(a)


def _is_list_of_lists(spec):
    return isinstance(spec, (list, tuple)) and len(spec) > 0 and all(
        s is None or isinstance(s, (list, tuple)) for s in spec)


class _Layout:
    """How a batch from a loader the Trainer built splits into x, y and weights."""

    def __init__(self, n_inputs, target_keys, n_targets, has_weights):
        self.n_inputs, self.target_keys = n_inputs, target_keys
        self.n_targets, self.has_weights = n_targets, has_weights


class _EpochStats:
    """Sample-weighted running losses and streaming metrics over one pass."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.metrics = None
        self.sum_loss, self.sum_parts, self.seen = 0.0, {}, 0

    def update(self, loss, parts, outs, targets):
        """Adds one batch; returns (loss value, batch size)."""
        if self.metrics is None:
            self.metrics = self.trainer._new_metrics()
        names = self.trainer._output_names
        bsz = len(next(iter(outs.values())))
        lv = _item(loss)
        self.sum_loss += lv * bsz
        self.seen += bsz
        with no_grad():
            for n in names:
                if len(names) > 1:
                    self.sum_parts[n] = self.sum_parts.get(n, 0.0) + _item(parts[n]) * bsz
                for m in self.metrics[n]:
                    m.update(outs[n].detach(), targets[n])
        return lv, bsz

    def running_loss(self):
        return self.sum_loss / max(self.seen, 1)

    def logs(self):
        """Keras's order: loss, each output's loss, then the metrics."""
        seen = max(self.seen, 1)
        logs = {"loss": self.sum_loss / seen}
        names = self.trainer._output_names or []
        if len(names) > 1:
            for n in names:
                logs[Trainer._key(n, "loss")] = self.sum_parts.get(n, float("nan")) / seen
        for n in names:
            for m in (self.metrics or {}).get(n, []):
                logs[Trainer._key(n, m.name)] = float(m.compute())
        return logs


class Trainer:
    """Train a model Keras-style: Keras's ``compile`` arguments, then fit/evaluate/predict.

    Args:
        model: a fastdl.nn.Module. It may return one Tensor, a tuple/list of
            Tensors (outputs "output_1", "output_2", ...) or a dict (outputs named
            by its keys).
        optimizer: a fastdl.optim optimizer, or a Keras name: "sgd", "adam",
            "adamw", "rmsprop", "adagrad", "adadelta". A name builds fastdl's
            optimizer over ``model.parameters()`` with Keras's default
            hyperparameters (sgd lr=0.01; adam/adamw/rmsprop/adagrad/adadelta
            lr=0.001; eps=1e-7; rmsprop rho=0.9; adagrad
            initial_accumulator_value=0.1; adadelta rho=0.95; adamw
            weight_decay=0.004). Frozen parameters (``module.trainable = False``)
            get no gradient and are not updated.
        loss: a Keras loss name (see fastdl.train.losses: "sparse_categorical_crossentropy",
            "categorical_crossentropy", "binary_crossentropy", "mse", "mae", "huber",
            "kl_divergence", "hinge", ...), a fastdl.nn loss module, or a function
            (output, target) -> scalar Tensor. The cross-entropy names take
            **logits** (fastdl models end in Linear; Keras's ``from_logits=True``).
            Several outputs: a list (one per output, in order) or a dict keyed by
            output name; a single loss applies to every output.
        metrics: names ("accuracy", "acc", "precision", "recall", "f1", "mae",
            "mse", "rmse", "r2", ...) or fastdl.metrics objects. Several outputs:
            a dict output name -> list, a list of lists (one per output), or a
            flat list applied to every output.
        loss_weights: per-output weights of the total loss (list or dict).
        scheduler: an optional fastdl.optim.lr_scheduler. It is stepped once per
            epoch, or after every optimizer step when it is a per-batch schedule
            (``scheduler.step_per_batch`` is True: OneCycleLR and CyclicLR, or any
            scheduler on which you set it). ReduceLROnPlateau is stepped with
            val_loss (or loss without validation data).
        distributed: True (or a fastdl.train.distributed.DataParallel) to train
            data-parallel over MPI ranks (``mpiexec -n N python train.py``):
            batch_size is the global batch, split over the ranks; logs are global
            on every rank; rank 0 alone prints and writes files.

    Wrong types, unknown names and dict keys that name no output raise when the
    Trainer is built (or, when the outputs are only known from the model, at its
    first batch), naming the valid choices.

    Example:
        >>> import numpy as np, fastdl
        >>> from fastdl import nn
        >>> x = np.random.default_rng(0).standard_normal((256, 8))
        >>> y = (x[:, 0] > 0).astype("int64")
        >>> model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
        >>> trainer = fastdl.Trainer(model, "adam", "sparse_categorical_crossentropy",
        ...                          metrics=["accuracy"])
        >>> history = trainer.fit(x, y, 128, 3, validation_split=0.1, verbose=0)
        >>> loss, acc = trainer.evaluate(x, y, verbose=0)
        >>> trainer.predict(x, verbose=0).shape
        (256, 2)
    """

    def __init__(self, model, optimizer, loss, metrics=None, loss_weights=None, scheduler=None,
                 distributed=False):
        from fastdl.nn import Module
        if not isinstance(model, Module):
            raise TypeError("Trainer: model must be a fastdl.nn.Module, got %s"
                            % type(model).__name__)
        self.model = model
        self._dist = _distributed.resolve(distributed)
        if self._dist is not None:
            self._dist.setup(model)
        self.optimizer = self._build_optimizer(optimizer)
        if loss is None:
            raise ValueError("Trainer: a loss is required (a name such as %s, a fastdl.nn "
                             "loss or a function)" % ", ".join(repr(n) for n in LOSS_NAMES[:4]))
        self.loss = loss
        self.metrics_spec = metrics if metrics is not None else []
        self.loss_weights = loss_weights
        if scheduler is not None and not hasattr(scheduler, "step"):
            raise TypeError("Trainer: scheduler must be a fastdl.optim.lr_scheduler object "
                            "(with step()), got %s" % type(scheduler).__name__)
        self.scheduler = scheduler
        self.stop_training = False
        self.history = History()
        self.epoch = 0
        self._nonfinite = None
        self._output_names = None
        self._running_metrics = False
        self._dtype = _model_dtype(model)
        self._check_compile_args()

    # ---- compile-time checks ---------------------------------------------------------
    def _build_optimizer(self, optimizer):
        from fastdl.optim import Optimizer
        if isinstance(optimizer, Optimizer):
            return optimizer
        if isinstance(optimizer, str):
            key = optimizer.lower()
            if key not in _OPTIMIZERS:
                raise ValueError("Trainer: unknown optimizer %r; valid names are %s"
                                 % (optimizer, ", ".join(OPTIMIZER_NAMES)))
            import fastdl.optim as optim
            cls, kwargs = _OPTIMIZERS[key]
            return getattr(optim, cls)(self.model.parameters(), **kwargs)
        raise TypeError("Trainer: optimizer must be a name (%s) or a fastdl.optim optimizer, "
                        "got %s" % (", ".join(OPTIMIZER_NAMES), type(optimizer).__name__))

    def _declared_outputs(self):
        """Output names the loss spec implies, or None when the model decides."""
        if isinstance(self.loss, dict):
            return list(self.loss)
        if isinstance(self.loss, (list, tuple)):
            return ["output_%d" % (i + 1) for i in range(len(self.loss))]
        return None

    def _check_compile_args(self):
        loss = self.loss
        items = list(loss.values()) if isinstance(loss, dict) else (
            list(loss) if isinstance(loss, (list, tuple)) else [loss])
        if not items:
            raise ValueError("Trainer: loss is an empty %s" % type(loss).__name__)
        built = [get_loss(i) for i in items]
        if any(isinstance(b, KerasLoss) and b.from_logits for b in built):
            self._check_no_final_activation()
        declared = self._declared_outputs()
        w = self.loss_weights
        if w is not None:
            if isinstance(w, dict):
                self._check_keys(w, declared, "loss_weights")
                vals = list(w.values())
            elif isinstance(w, (list, tuple)):
                if declared is not None and len(w) != len(declared):
                    raise ValueError("Trainer: %d loss_weights for %d outputs %s"
                                     % (len(w), len(declared), declared))
                vals = list(w)
            else:
                raise TypeError("Trainer: loss_weights must be a list or a dict, got %s"
                                % type(w).__name__)
            for v in vals:
                if not isinstance(v, numbers.Real) or isinstance(v, bool):
                    raise TypeError("Trainer: loss_weights must be numbers, got %r" % (v,))
        m = self.metrics_spec
        if isinstance(m, dict):
            self._check_keys(m, declared, "metrics")
            groups = list(m.values())
        elif _is_list_of_lists(m):
            if declared is not None and len(m) != len(declared):
                raise ValueError("Trainer: metrics has %d lists for %d outputs %s"
                                 % (len(m), len(declared), declared))
            groups = list(m)
        elif isinstance(m, (list, tuple)):
            groups = [m]
        else:
            raise TypeError("Trainer: metrics must be a list (or a dict / list of lists per "
                            "output), got %s" % type(m).__name__)
        for g in groups:
            for item in (g if isinstance(g, (list, tuple)) else [g] if g is not None else []):
                self._check_metric_item(item)

    @staticmethod
    def _check_keys(spec, valid, what):
        if valid is None:
            return
        unknown = [k for k in spec if k not in valid]
        if unknown:
            raise ValueError("Trainer: %s names unknown output(s) %s; the model's outputs are %s"
                             % (what, unknown, valid))

    @staticmethod
    def _check_metric_item(item):
        from fastdl.metrics import Metric
        if isinstance(item, Metric):
            return
        if isinstance(item, str):
            if item.lower() not in _metric_names():
                raise ValueError("Trainer: unknown metric %r; valid names are %s"
                                 % (item, ", ".join(_metric_names())))
            return
        raise TypeError("Trainer: a metric must be a name (%s) or a fastdl.metrics.Metric, "
                        "got %s" % (", ".join(_metric_names()), type(item).__name__))

    def _check_no_final_activation(self):
        from fastdl import nn
        last = self.model
        while isinstance(last, nn.Sequential) and len(last) > 0:
            last = last[len(last) - 1]
        # (a final LogSoftmax is harmless: log_softmax of log-probabilities is itself)
        if isinstance(last, (nn.Softmax, nn.Sigmoid)):
            raise ValueError(
                "Trainer: the model ends in %s, but fastdl's cross-entropy loss names take "
                "logits (the softmax/sigmoid is fused into the loss, Keras's "
                "from_logits=True). Remove the final %s; apply it at prediction time if you "
                "need probabilities." % (type(last).__name__, type(last).__name__))

    # ---- outputs, losses, metrics ---------------------------------------------------------
    @staticmethod
    def _named_outputs(out):
        if isinstance(out, dict):
            return out
        if isinstance(out, (tuple, list)):
            return {"output_%d" % (i + 1): o for i, o in enumerate(out)}
        return {"": out}

    @staticmethod
    def _key(name, key):
        return key if not name else "%s_%s" % (name, key)

    def _setup_outputs(self, outs):
        """First batch: match the loss/metrics/weights specs to the model's outputs."""
        names = list(outs)
        single = names == [""]
        declared = self._declared_outputs()
        loss = self.loss
        if single and isinstance(loss, (dict, list, tuple)) and len(loss) == 1:
            loss = list(loss.values())[0] if isinstance(loss, dict) else loss[0]
            declared = None
        if declared is not None:
            if single:
                raise ValueError("Trainer: the loss is given for outputs %s, but the model "
                                 "returns one Tensor" % declared)
            if set(declared) != set(names):
                raise ValueError("Trainer: the model's outputs are %s, but the loss is given "
                                 "for %s" % (names, declared))
        if isinstance(loss, dict):
            losses = {n: get_loss(loss[n]) for n in names}
        elif isinstance(loss, (list, tuple)):
            losses = dict(zip(names, (get_loss(v) for v in loss)))
        else:
            losses = {n: get_loss(loss) for n in names}
        w = self.loss_weights
        if w is None or single:
            weights = {n: 1.0 for n in names}
        elif isinstance(w, dict):
            self._check_keys(w, names, "loss_weights")
            weights = {n: float(w.get(n, 1.0)) for n in names}
        else:
            if len(w) != len(names):
                raise ValueError("Trainer: %d loss_weights for %d outputs %s"
                                 % (len(w), len(names), names))
            weights = dict(zip(names, (float(v) for v in w)))
        m = self.metrics_spec
        if isinstance(m, dict):
            if single and len(m) == 1:
                metric_spec = {"": list(m.values())[0]}
            else:
                self._check_keys(m, names, "metrics")
                metric_spec = {n: m.get(n) or [] for n in names}
        elif _is_list_of_lists(m) and not single:
            if len(m) != len(names):
                raise ValueError("Trainer: metrics has %d lists for %d outputs %s"
                                 % (len(m), len(names), names))
            metric_spec = {n: list(v or []) for n, v in zip(names, m)}
        elif _is_list_of_lists(m) and single and len(m) == 1:
            metric_spec = {"": list(m[0] or [])}
        else:
            metric_spec = {n: list(m) if isinstance(m, (list, tuple)) else [m] for n in names}
        self._output_names = names
        self._losses, self._weights, self._metric_spec = losses, weights, metric_spec

    def _make_metric(self, item, loss):
        from fastdl import metrics as M
        from fastdl import nn
        if isinstance(item, M.Metric):
            m = copy.deepcopy(item)
            m.reset()
            return m
        key = item.lower()
        binary_logits = (isinstance(loss, KerasLoss) and loss.kind == "binary") or \
            isinstance(loss, nn.BCEWithLogitsLoss)
        if key in _ACCURACY_NAMES:
            if binary_logits:
                m = M.Accuracy(task="binary", from_logits=True)
            elif key == "binary_accuracy":
                m = M.Accuracy(task="binary")
            else:
                m = M.Accuracy()
        elif key in _PRF_NAMES and binary_logits:
            cls = {"precision": M.Precision, "recall": M.Recall}.get(key, M.F1Score)
            m = cls(average="binary", from_logits=True)
        else:
            m = M.get_metric(item)
        m.name = item
        return m

    def _new_metrics(self):
        return {n: [self._make_metric(i, self._losses[n]) for i in self._metric_spec[n]]
                for n in self._output_names}

    @property
    def metrics_names(self):
        """The names of evaluate's values, in order: "loss", each output's loss
        (several outputs), then the metrics (Keras's ``model.metrics_names``)."""
        names = self._output_names
        if names is None:
            declared = self._declared_outputs()
            if declared is None or len(declared) == 1:
                m = self.metrics_spec
                if isinstance(m, dict):
                    m = list(m.values())[0] if len(m) == 1 else []
                if _is_list_of_lists(m):
                    m = m[0] or []
                items = m if isinstance(m, (list, tuple)) else [m]
                return ["loss"] + [i if isinstance(i, str) else i.name for i in items]
            names = declared
            spec = None
        else:
            spec = self._metric_spec
        out = ["loss"]
        if len(names) > 1:
            out += [self._key(n, "loss") for n in names]
        if spec is not None:
            for n in names:
                out += [self._key(n, i if isinstance(i, str) else i.name) for i in spec[n]]
        return out

    def _check_probabilities(self, outs):
        """Cross-entropy names take logits: refuse outputs whose rows are probabilities."""
        for n, o in outs.items():
            loss = self._losses[n]
            if not (isinstance(loss, KerasLoss) and loss.from_logits
                    and loss.kind in ("sparse", "categorical")):
                continue
            a = o._data if isinstance(o, Tensor) else np.asarray(o)
            if a.ndim >= 2 and a.shape[1] > 1 and a.size and np.all(a >= 0) and \
                    np.allclose(a.sum(axis=1), 1.0, atol=1e-4):
                raise ValueError(
                    "Trainer: loss %r takes logits, but the model's output%s rows are "
                    "probabilities (they sum to 1): the model ends in a softmax. Remove it "
                    "(fastdl fuses it into the loss, Keras's from_logits=True)"
                    % (loss.name, " %r" % n if n else ""))

    def _per_sample_loss(self, fn, out, target):
        if isinstance(fn, KerasLoss):
            return fn.per_sample(out, target)
        red = getattr(fn, "reduction", None)
        if red is None:
            raise TypeError("Trainer: sample_weight/class_weight need a loss that gives one "
                            "value per sample: a loss name (%s...) or a fastdl.nn loss with a "
                            "reduction argument; got %r" % (", ".join(LOSS_NAMES[:3]), fn))
        fn.reduction = "none"
        try:
            per = fn(out, target)
        finally:
            fn.reduction = red
        return per.reshape(per.shape[0], -1).mean(1) if per.ndim > 1 else per

    def _compute_loss(self, out, yb, sw=None):
        outs = self._named_outputs(out)
        if self._output_names is None:
            self._setup_outputs(outs)
            self._check_probabilities(outs)
        elif list(outs) != self._output_names:
            raise ValueError("Trainer: the model returned outputs %s, before %s"
                             % (list(outs), self._output_names))
        names = self._output_names
        if isinstance(yb, dict):
            targets = yb
        elif len(names) > 1:
            if not isinstance(yb, (tuple, list)) or len(yb) != len(names):
                raise ValueError("Trainer: the model has %d outputs %s; give y as a list of %d "
                                 "arrays (in that order) or a dict keyed by output name"
                                 % (len(names), names, len(names)))
            targets = dict(zip(names, yb))
        else:
            targets = {names[0]: yb}
        total, parts = None, {}
        for n in names:
            if n not in targets:
                raise ValueError("Trainer: no target for output %r; y has %s"
                                 % (n, sorted(targets)))
            if sw is None:
                lv = self._losses[n](outs[n], targets[n])
            else:
                per = self._per_sample_loss(self._losses[n], outs[n], targets[n])
                lv = (per * sw).mean()      # Keras: weighted sum / batch size
            parts[n] = lv
            term = lv * self._weights[n] if len(names) > 1 else lv
            total = term if total is None else total + term
        return total, parts, outs, targets

    # ---- data ----------------------------------------------------------------------------
    def _make_loader(self, x, y, sample_weight, batch_size, shuffle, drop_last=False,
                     op="fit", class_weight=None):
        from fastdl.data import DataLoader, Dataset, TensorDataset
        if isinstance(x, (DataLoader, Dataset)):
            if y is not None:
                raise ValueError("%s: y must be None when x is a %s (it yields the targets)"
                                 % (op, type(x).__name__))
            if sample_weight is not None or class_weight is not None:
                raise ValueError("%s: sample_weight/class_weight cannot be given with a %s; "
                                 "yield dict batches {'x', 'y', 'sample_weight'} instead"
                                 % (op, type(x).__name__))
            if isinstance(x, Dataset):
                x = self._data_loader(x, batch_size, shuffle, drop_last, op)
            elif self._dist is not None:
                self._dist.check_loader(x, op)
            return x
        if x is None:
            raise ValueError("%s: x is required" % op)
        if y is None:
            raise ValueError("%s: y is required when x is an array or Tensor" % op)
        xs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
        keys = list(y.keys()) if isinstance(y, dict) else None
        ys = tuple(y.values()) if isinstance(y, dict) else (
            tuple(y) if isinstance(y, (tuple, list)) else (y,))
        n = _n_samples(xs[0])
        for a in xs + ys:
            if _n_samples(a) != n:
                raise ValueError("%s: x and y must have the same number of samples, got %s"
                                 % (op, [_n_samples(a) for a in xs + ys]))
        sw = self._sample_weights(sample_weight, class_weight, ys, n, op)
        tensors = [_cast(a, self._dtype) for a in xs + ys]
        if sw is not None:
            tensors.append(_cast(sw, self._dtype))
        loader = self._data_loader(TensorDataset(*tensors), batch_size, shuffle, drop_last, op)
        loader._fdl_layout = _Layout(len(xs), keys, len(ys), sw is not None)
        return loader

    def _data_loader(self, ds, batch_size, shuffle, drop_last, op):
        """A DataLoader over ds; distributed: this rank's share (training: of every
        global batch, through a DistributedSampler; validation/evaluate: an unpadded
        split, so the reduced metrics equal one process's)."""
        from fastdl.data import DataLoader
        if self._dist is None:
            return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
        if op == "fit" and shuffle is not None:
            return self._dist.train_loader(ds, batch_size, shuffle, drop_last)
        return self._dist.eval_loader(ds, batch_size)

    def _sample_weights(self, sample_weight, class_weight, ys, n, op):
        """Keras: per-sample weights from sample_weight times class_weight[label]."""
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight._data if isinstance(sample_weight, Tensor)
                            else sample_weight, dtype=np.float64)
            if sw.ndim == 2 and sw.shape[1] == 1:
                sw = sw[:, 0]
            if sw.shape != (n,):
                raise ValueError("%s: sample_weight must have shape (%d,) (one weight per "
                                 "sample), got %s" % (op, n, sw.shape))
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise TypeError("%s: class_weight must be a dict {class index: weight}, got %s"
                                % (op, type(class_weight).__name__))
            if len(ys) != 1:
                raise ValueError("%s: class_weight is only supported for models with a single "
                                 "output (Keras); use sample_weight" % op)
            t = ys[0]._data if isinstance(ys[0], Tensor) else np.asarray(ys[0])
            if t.ndim == 2 and t.shape[1] > 1:
                labels = np.argmax(t, axis=1)           # one-hot targets
            else:
                labels = t.reshape(len(t))
                if labels.dtype.kind == "f":
                    if not np.all(labels == np.round(labels)):
                        raise ValueError("%s: class_weight needs class labels (or one-hot) "
                                         "targets, got non-integer values" % op)
                labels = labels.astype(np.int64)
            for k in class_weight:
                if not _is_int(k):
                    raise TypeError("%s: class_weight keys must be class indices (int), got %r"
                                    % (op, k))
            # classes missing from the dict weigh 1.0, as in Keras
            cw = np.array([float(class_weight.get(int(c), 1.0)) for c in labels])
            sw = cw if sw is None else sw * cw
        return None if sw is None else sw.astype(self._dtype)

    def _split_batch(self, batch, layout):
        """(x, y, sample_weight or None) from one batch."""
        if isinstance(batch, dict):
            xb, yb, sw = batch["x"], batch["y"], batch.get("sample_weight")
        else:
            batch = tuple(batch)
            if layout is None:      # a user's Dataset/DataLoader: (x, y...) batches
                xb, yb, sw = batch[0], batch[1:], None
                yb = yb[0] if len(yb) == 1 else yb
            else:
                k, m = layout.n_inputs, layout.n_targets
                xb = batch[0] if k == 1 else batch[:k]
                yb = batch[k:k + m]
                if layout.target_keys:
                    yb = dict(zip(layout.target_keys, yb))
                elif m == 1:
                    yb = yb[0]
                sw = batch[k + m] if layout.has_weights else None
        if layout is None:
            xb = self._cast_batch(xb)
            yb = self._cast_batch(yb)
        if sw is not None:
            sw = sw._data if isinstance(sw, Tensor) else np.asarray(sw, dtype=self._dtype)
            sw = sw.reshape(len(sw))
        return xb, yb, sw

    def _cast_batch(self, b):
        if isinstance(b, (tuple, list)):
            return type(b)(self._cast_batch(v) for v in b)
        if isinstance(b, dict):
            return {k: self._cast_batch(v) for k, v in b.items()}
        return _cast(b, self._dtype)

    @staticmethod
    def _split_validation(x, y, sample_weight, validation_split):
        """Keras semantics: the last fraction of the samples, before shuffling."""
        if not 0.0 < validation_split < 1.0:
            raise ValueError("fit: validation_split must be in (0, 1), got %r" % validation_split)
        from fastdl.data import DataLoader, Dataset
        if isinstance(x, (DataLoader, Dataset)):
            raise ValueError("fit: validation_split needs arrays; with a %s pass "
                             "validation_data" % type(x).__name__)
        xs = x if isinstance(x, (tuple, list)) else (x,)
        n = _n_samples(xs[0])
        cut = int(n * (1.0 - validation_split))
        if cut <= 0 or cut >= n:
            raise ValueError("fit: validation_split=%s leaves an empty split of %d samples"
                             % (validation_split, n))

        def split(a, s):
            if a is None:
                return None
            if isinstance(a, dict):
                return {k: v[s] for k, v in a.items()}
            if isinstance(a, (tuple, list)):
                return type(a)(v[s] for v in a)
            return a[s]
        head, tail = slice(0, cut), slice(cut, None)
        return (split(x, head), split(y, head), split(sample_weight, head),
                (split(x, tail), split(y, tail), split(sample_weight, tail)))

    # ---- training -----------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, *, grad_accum_steps=1,
            resume_from=None, drop_last=False):
        """Train for `epochs` epochs; returns the History (a dict of per-epoch lists).

        Keras's ``Model.fit`` arguments, in Keras's order; fastdl's own
        (grad_accum_steps, resume_from, drop_last) are keyword-only.

        Args:
            x, y: arrays/Tensors (or lists/dicts of them), or x a Dataset/DataLoader
                that yields (x, y) batches (or dicts {"x", "y", "sample_weight"}).
                Float arrays are cast to the model's dtype (float32).
            batch_size: samples per step (default 32).
            epochs: the epoch to stop at (with initial_epoch, as in Keras).
            verbose: "auto" (default, = 1), 0, 1 or 2, as in Keras, written to stdout:
                1: in a terminal (or a notebook), "Epoch i/n" then a progress
                bar redrawn in place that fits the terminal's width; its final
                line shows every metric, val_ ones included (wrapped onto more
                lines rather than cut). When stdout is not a terminal (a log
                file, a pipe, nohup, CI) the bar cannot be redrawn, so each
                epoch prints one plain line, with no carriage return.
                2: one plain line per epoch: "Epoch i/n - steps - time - time/step
                - loss: ... - val_loss: ...".
                0: silent; fit prints nothing at all.
                Anything else raises ValueError.
            callbacks: extra callbacks; History and TerminateOnNaN are always attached
                (OverfittingMonitor is opt-in).
            validation_split: fraction of (x, y) held out for validation (the last
                samples, before shuffling).
            validation_data: (x_val, y_val), (x_val, y_val, val_sample_weight), a
                Dataset or a DataLoader. Overrides validation_split.
            shuffle: reshuffle the training samples every epoch.
            class_weight: dict class index -> weight: each sample's loss is scaled by
                the weight of its class (classes missing from the dict weigh 1.0);
                single-output models, labels or one-hot targets.
            sample_weight: array (n,): each sample's loss is scaled by its weight;
                the batch loss is the weighted sum divided by the batch size
                (Keras). Multiplies with class_weight. Metrics are not weighted.
            initial_epoch: epoch to start from (for resuming a run).
            steps_per_epoch: batches per epoch. As in Keras, the batches continue
                across epochs (the next epoch starts where the last stopped). When a
                pass over the data ends inside an epoch, a new reshuffled pass starts,
                so every epoch has exactly steps_per_epoch batches (Keras 3 ends such
                an epoch early with a warning instead). Default: one full pass.
            validation_steps: batches per validation; every validation starts from
                the beginning of the validation data, so it always sees the same
                samples. Default: all of it.
            validation_batch_size: batch size of the validation (default batch_size).
            validation_freq: validate every `validation_freq` epochs (an int), or
                after the epochs listed (a list/tuple/set of 1-based epoch numbers).
                Epochs without validation have None under the val_ keys of the History.
            grad_accum_steps: optimizer step every k mini-batches.
            resume_from: a checkpoint written by save_checkpoint/ModelCheckpoint;
                training continues exactly where it stopped.
            drop_last: drop the last incomplete batch of each pass.

        Per-batch LR schedules (``scheduler.step_per_batch``, e.g. OneCycleLR,
        CyclicLR) step after every optimizer step, the others once per epoch.
        """
        verbose = check_verbose(verbose, "fit")
        if not _is_int(epochs) or epochs < 0:
            raise ValueError("fit: epochs must be an int >= 0, got %r" % (epochs,))
        batch_size = self._check_batch_size(batch_size, "fit", "batch_size")
        val_bs = self._check_batch_size(validation_batch_size or batch_size, "fit",
                                        "validation_batch_size")
        for name, v in (("steps_per_epoch", steps_per_epoch),
                        ("validation_steps", validation_steps)):
            if v is not None and (not _is_int(v) or v < 1):
                raise ValueError("fit: %s must be None or an int >= 1, got %r" % (name, v))
        if _is_int(validation_freq):
            if validation_freq < 1:
                raise ValueError("fit: validation_freq must be >= 1, got %r" % validation_freq)
        elif not isinstance(validation_freq, (list, tuple, set, frozenset, range)):
            raise TypeError("fit: validation_freq must be an int or a list of epochs, got %r"
                            % (validation_freq,))
        if not _is_int(grad_accum_steps) or grad_accum_steps < 1:
            raise ValueError("fit: grad_accum_steps must be >= 1, got %r" % grad_accum_steps)
        if resume_from is not None:
            initial_epoch = self.load_checkpoint(resume_from)
        if validation_split and validation_data is None:
            x, y, sample_weight, validation_data = self._split_validation(
                x, y, sample_weight, validation_split)
        elif validation_split:
            self._split_validation(x, y, None, validation_split)   # argument checks only
        loader = self._make_loader(x, y, sample_weight, batch_size, shuffle, drop_last, "fit",
                                   class_weight)
        val_loader = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                if len(validation_data) not in (2, 3):
                    raise ValueError("fit: validation_data must be (x_val, y_val) or (x_val, "
                                     "y_val, val_sample_weight), got %d items"
                                     % len(validation_data))
                vx, vy = validation_data[0], validation_data[1]
                vsw = validation_data[2] if len(validation_data) == 3 else None
                val_loader = self._make_loader(vx, vy, vsw, val_bs, None, op="fit")
            else:
                val_loader = self._make_loader(validation_data, None, None, val_bs, None,
                                               op="fit")
        cbs = list(callbacks or [])
        if not any(isinstance(c, TerminateOnNaN) for c in cbs):
            cbs.insert(0, TerminateOnNaN())
        if verbose and not any(isinstance(c, ProgressBar) for c in cbs):
            cbs.append(ProgressBar(verbose))
        cbs.insert(0, self.history)     # first, so checkpoints see this epoch's logs
        if self._dist is not None:
            cbs = self._dist.rank_callbacks(cbs)
        self._callbacks = cbs
        pending = getattr(self, "_pending_callback_sched", None)
        if pending:
            for c in cbs:
                if isinstance(c, LearningRateScheduler):
                    c.load_state_dict(_to_numpy_tree(pending))
            self._pending_callback_sched = None
        self._batch_schedulers = [s for s in [self.scheduler] + [
            c.schedule for c in cbs if isinstance(c, LearningRateScheduler)]
            if s is not None and getattr(s, "step_per_batch", False)]
        steps = steps_per_epoch or (len(loader) if hasattr(loader, "__len__") else None)
        cbl = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        self._nonfinite = None
        self._train_iter = None
        cbl.on_train_begin({})
        self._running_metrics = any(getattr(c, "shows_running_metrics", False) for c in cbs)
        for epoch in range(initial_epoch, epochs):
            self.epoch = epoch
            if self._dist is not None:
                self._dist.set_epoch(loader, epoch)
            cbl.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            logs = self._train_epoch(loader, cbl, grad_accum_steps, steps_per_epoch)
            if self._nonfinite:
                break
            if val_loader is not None and self._should_validate(epoch, validation_freq):
                val = self._run_eval(val_loader, cbl, validation_steps)
                logs.update({"val_" + k: v for k, v in val.items()})
            logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
            logs["epoch_time"] = time.perf_counter() - t0
            self._step_scheduler(logs, val_loader is not None)
            cbl.on_epoch_end(epoch, logs)
            self.epoch = epoch + 1
            stop = self.stop_training or getattr(self.model, "stop_training", False)
            if self._dist is not None:
                stop = self._dist.any(stop)     # every rank stops at the same epoch
            if stop:
                break
        cbl.on_train_end({})
        self._train_iter = None
        if self._nonfinite:
            raise FloatingPointError("fit: " + self._nonfinite + ". Lower the learning rate, "
                                     "check the inputs for NaN/Inf, or clip gradients; "
                                     "trainer.history holds the epochs before it.")
        return self.history

    @staticmethod
    def _check_batch_size(batch_size, op, name):
        if batch_size is None:
            return 32
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError("%s: %s must be None or an int >= 1, got %r"
                             % (op, name, batch_size))
        return int(batch_size)

    @staticmethod
    def _should_validate(epoch, freq):
        if _is_int(freq):
            return (epoch + 1) % freq == 0
        return (epoch + 1) in freq

    @staticmethod
    def _group_sizes(loader):
        """Samples per mini-batch in epoch order (None if unknown)."""
        ds = getattr(loader, "dataset", None)
        bs = getattr(loader, "batch_size", None)
        if ds is None or not bs or not hasattr(ds, "__len__") or not hasattr(loader, "__len__"):
            return None
        sampler = getattr(loader, "sampler", None)     # a DistributedSampler: this rank's share
        n = len(sampler) if hasattr(sampler, "__len__") else len(ds)
        return [min(bs, n - i * bs) for i in range(len(loader))]

    def _forward(self, batch, layout):
        xb, yb, sw = self._split_batch(batch, layout)
        model = self.model if self._dist is None else self._dist.model
        out = model(*xb) if isinstance(xb, (tuple, list)) else model(xb)
        return self._compute_loss(out, yb, sw)

    def _epoch_batches(self, loader, steps):
        """(index, batch) for one epoch: a full pass, or `steps` batches that continue
        across epochs and start a new pass when one ends."""
        if steps is None:
            yield from enumerate(loader)
            return
        for i in range(steps):
            try:
                if self._train_iter is None:
                    raise StopIteration
                batch = next(self._train_iter)
            except StopIteration:
                self._train_iter = iter(loader)
                try:
                    batch = next(self._train_iter)
                except StopIteration:
                    warnings.warn("fit: the training data yields no batch; stopping",
                                  RuntimeWarning, stacklevel=4)
                    self.stop_training = True
                    return
            yield i, batch

    def _train_epoch(self, loader, cbl, k, steps_per_epoch=None):
        self.model.train()
        stats = _EpochStats(self)
        layout = getattr(loader, "_fdl_layout", None)
        sizes = self._group_sizes(loader) if k > 1 and steps_per_epoch is None else None
        nb = len(sizes) if sizes is not None else None
        self.optimizer.zero_grad()
        pending = 0
        for i, batch in self._epoch_batches(loader, steps_per_epoch):
            cbl.on_train_batch_begin(i, {})
            if self._dist is None:
                loss, parts, outs, targets = self._forward(batch, layout)
            else:       # all-reduce only the last backward of each accumulation group
                last = k == 1 or pending + 1 == k or nb is None or i == nb - 1
                with self._dist.sync(last):
                    loss, parts, outs, targets = self._forward(batch, layout)
            if k > 1:
                bsz = len(next(iter(outs.values())))
                if sizes is not None:        # weight by the batch's share of its group
                    g0 = (i // k) * k
                    scale = bsz / sum(sizes[g0:min(g0 + k, nb)])
                else:
                    scale = 1.0 / k
                (loss * scale).backward()
            else:
                loss.backward()
            pending += 1
            if pending == k or (nb is not None and i == nb - 1):
                self._optimizer_step()
                pending = 0
            lv, bsz = stats.update(loss, parts, outs, targets)
            # Keras's batch logs: running means over the epoch so far (metrics only
            # when a callback shows them, since computing them costs per batch)
            blogs = stats.logs() if self._running_metrics else {"loss": stats.running_loss()}
            if self._dist is not None:      # the same running loss (and NaN stop) everywhere
                blogs["loss"] = self._dist.running_loss(stats.sum_loss, stats.seen)
            blogs["size"] = bsz
            cbl.on_train_batch_end(i, blogs)
            if self.stop_training:
                if self._nonfinite:
                    return {}
                break
        if pending:      # an iterable of unknown length ended inside a group
            self._optimizer_step()
        if self._dist is not None:
            self._dist.reduce_stats(stats)
        return stats.logs()

    def _optimizer_step(self):
        self.optimizer.step()
        self.optimizer.zero_grad()
        for s in self._batch_schedulers:
            s.step()

    def _step_scheduler(self, logs, has_validation):
        s = self.scheduler
        if s is None or getattr(s, "step_per_batch", False):
            return
        if type(s).__name__ == "ReduceLROnPlateau":
            key = "val_loss" if has_validation else "loss"
            if logs.get(key) is not None:       # not on epochs without validation
                s.step(logs[key])
        else:
            s.step()

    # ---- evaluation and prediction ---------------------------------------------------------------
    def _run_eval(self, loader, cbl, steps=None, bar=None):
        """Loss and metrics over a loader in eval mode (a logs dict)."""
        layout = getattr(loader, "_fdl_layout", None)
        was_training = self.model.training
        self.model.eval()
        stats = _EpochStats(self)
        cbl.on_test_begin({})
        try:
            with no_grad():
                for i, batch in enumerate(loader):
                    if steps is not None and i >= steps:
                        break
                    cbl.on_test_batch_begin(i, {})
                    lv, bsz = stats.update(*self._forward(batch, layout))
                    cbl.on_test_batch_end(i, {"loss": lv, "size": bsz})
                    if bar is not None:
                        bar.update(i + 1, {"loss": stats.running_loss()}, finalize=False)
        finally:
            self.model.train(was_training)
        if self._dist is not None:
            self._dist.reduce_stats(stats)
        if stats.seen == 0:
            raise ValueError("evaluate: no samples to evaluate")
        logs = stats.logs()
        cbl.on_test_end(logs)
        if bar is not None:
            bar.update(getattr(bar, "_current", 0), logs, finalize=True)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over (x, y) in eval mode, as Keras's ``Model.evaluate``.

        Returns:
            the loss (a float) when there are no metrics and one output; otherwise a
            list in the order of ``trainer.metrics_names`` (["loss", "accuracy"]);
            with ``return_dict=True`` a dict name -> value.

        Args:
            verbose: "auto" (= 1), 0, 1 or 2, as for fit: one progress line on stdout.
            sample_weight: per-sample weights of the loss, as in fit.
            steps: evaluate only the first `steps` batches.
        """
        v = check_verbose(verbose, "evaluate")
        if self._dist is not None and not self._dist.is_main:
            v = 0                       # rank 0 alone prints
        batch_size = self._check_batch_size(batch_size, "evaluate", "batch_size")
        if steps is not None and (not _is_int(steps) or steps < 1):
            raise ValueError("evaluate: steps must be None or an int >= 1, got %r" % (steps,))
        loader = self._make_loader(x, y, sample_weight, batch_size, False, op="evaluate")
        target = len(loader) if hasattr(loader, "__len__") else None
        if steps is not None:
            target = steps if target is None else min(steps, target)
        cbl = CallbackList(callbacks or [], self, {"steps": target, "verbose": v})
        bar = Progbar(target, verbose=v) if v else None
        logs = self._run_eval(loader, cbl, steps, bar)
        if return_dict:
            return logs
        if len(logs) == 1:
            return logs["loss"]
        return [logs[k] for k in self.metrics_names]

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs over x in eval mode as NumPy arrays (Keras's ``Model.predict``).

        Returns one array for a one-output model; a tuple/list/dict of arrays
        (the model's own structure) for several outputs. Float inputs are cast to
        the model's dtype. x may be an array, a list of arrays (several inputs),
        a Dataset or a DataLoader (of x, or of (x, y) batches whose y is ignored).
        """
        from fastdl.data import DataLoader, Dataset, TensorDataset
        v = check_verbose(verbose, "predict")
        if self._dist is not None and not self._dist.is_main:
            v = 0                       # rank 0 alone prints
        batch_size = self._check_batch_size(batch_size, "predict", "batch_size")
        user = isinstance(x, (DataLoader, Dataset))
        if isinstance(x, DataLoader):
            loader = x
        elif isinstance(x, Dataset):
            loader = DataLoader(x, batch_size=batch_size)
        else:
            if x is None:
                raise ValueError("predict: x is required")
            xs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
            loader = DataLoader(TensorDataset(*[_cast(a, self._dtype) for a in xs]),
                                batch_size=batch_size)
        target = len(loader) if hasattr(loader, "__len__") else None
        if steps is not None:
            target = steps if target is None else min(steps, target)
        cbl = CallbackList(callbacks or [], self, {"steps": target, "verbose": v})
        bar = Progbar(target, verbose=v) if v else None
        was_training = self.model.training
        self.model.eval()
        chunks = []
        cbl.on_predict_begin({})
        try:
            with no_grad():
                for i, batch in enumerate(loader):
                    if steps is not None and i >= steps:
                        break
                    cbl.on_predict_batch_begin(i, {})
                    if isinstance(batch, dict):
                        batch = (batch["x"],)
                    batch = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
                    if user:
                        b0 = batch[0]
                        batch = tuple(b0) if isinstance(b0, (tuple, list)) else (b0,)
                        batch = self._cast_batch(batch)
                    out = self.model(*batch)
                    chunks.append(out)
                    cbl.on_predict_batch_end(i, {"outputs": out})
                    if bar is not None:
                        bar.update(i + 1, None, finalize=False)
        finally:
            self.model.train(was_training)
        if not chunks:
            raise ValueError("predict: no input samples")
        if bar is not None:
            bar.update(len(chunks), None, finalize=True)
        first = chunks[0]

        def cat(parts):
            return np.concatenate([p._data if isinstance(p, Tensor) else np.asarray(p)
                                   for p in parts])
        if isinstance(first, dict):
            result = {k: cat([c[k] for c in chunks]) for k in first}
        elif isinstance(first, (tuple, list)):
            result = type(first)(cat([c[i] for c in chunks]) for i in range(len(first)))
        else:
            result = cat(chunks)
        cbl.on_predict_end({})
        return result

    # ---- checkpoints ---------------------------------------------------------------------------
    def state_dict(self, epoch=None):
        """Everything needed to continue training exactly."""
        sched = {}
        for c in getattr(self, "_callbacks", []):
            if isinstance(c, LearningRateScheduler):
                sched["callback"] = c.state_dict()
        if self.scheduler is not None:
            sched["scheduler"] = self.scheduler.state_dict()
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedulers": sched,
            "epoch": self.epoch if epoch is None else epoch,
            "rng": _random.get_rng_state(),
            "history": {"history": self.history.history, "epoch": self.history.epoch},
        }

    def save_checkpoint(self, path, epoch=None):
        """Write model, optimizer, scheduler, epoch, RNG state and history (atomically)."""
        from fastdl.io import save
        if self._dist is not None and not self._dist.is_main:
            return                      # the replicas are equal: rank 0 writes the one file
        save(self.state_dict(epoch), path)

    def load_checkpoint(self, path):
        """Restore a checkpoint; returns the epoch to continue from."""
        from fastdl.io import check_trainer_checkpoint, load
        ck = load(path)
        check_trainer_checkpoint(ck, path, self.model, self.optimizer)
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(_to_numpy_tree(ck["optimizer"]))
        sched = ck.get("schedulers") or {}
        if self.scheduler is not None and "scheduler" in sched:
            self.scheduler.load_state_dict(_to_numpy_tree(sched["scheduler"]))
        self._pending_callback_sched = sched.get("callback")
        _random.set_rng_state(ck["rng"])
        h = ck.get("history") or {}
        self.history.history = {k: list(v) for k, v in (h.get("history") or {}).items()}
        self.history.epoch = list(h.get("epoch") or [])
        self.epoch = int(ck["epoch"])
        return self.epoch


def _to_numpy_tree(obj):
    """Loaded checkpoints hold Tensors; optimizer/scheduler states take NumPy arrays."""
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, dict):
        return {k: _to_numpy_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy_tree(v) for v in obj)
    return obj
