"""Keras's loss names for the Trainer ("sparse_categorical_crossentropy", "mse", ...).

Each name gives a loss that returns one value per sample (the mean over the
sample's other axes, as Keras does), so the Trainer can weight samples
(``sample_weight``, ``class_weight``) and then divide by the batch size
(Keras's "sum_over_batch_size" reduction).

Logits, not probabilities. In Keras the cross-entropy names mean
``from_logits=False``: the model ends in softmax/sigmoid. fastdl models, like
PyTorch's, end in a Linear layer, so in fastdl "sparse_categorical_crossentropy",
"categorical_crossentropy", "binary_crossentropy" and "kl_divergence" take
**logits** (Keras's ``from_logits=True``); the softmax/sigmoid is fused into the
loss, which is also the numerically stable form. A model that ends in
Softmax/Sigmoid is refused when the Trainer is built, and outputs
whose rows are probabilities are refused at the first batch, with the fix
(drop the final activation).

Names are looked up case-insensitively and without underscores, so Keras's
class names work too ("SparseCategoricalCrossentropy", "MeanSquaredError").
"""
import math

import numpy as np

from fastdl.nn import functional as F
from fastdl.tensor import Tensor

__all__ = ["get_loss", "LOSS_NAMES", "KerasLoss"]

_EPS = 1e-7     # Keras's backend.epsilon()


def _np(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _per_sample(loss):
    """Mean over every axis but the first: one value per sample."""
    if loss.ndim <= 1:
        return loss
    return loss.reshape(loss.shape[0], -1).mean(1)


def _float_target(name, output, target):
    """The target as a float array shaped like the output (Keras squeezes (N,) vs (N, 1))."""
    t = _np(target)
    if t.dtype.kind not in "fiub":
        raise TypeError("loss %r: target must be numeric, got dtype %s" % (name, t.dtype))
    t = t.astype(output.dtype, copy=False)
    if t.shape != tuple(output.shape):
        if t.size != output.numel():
            raise ValueError("loss %r: target shape %s does not match output shape %s"
                             % (name, t.shape, tuple(output.shape)))
        t = t.reshape(output.shape)
    return t


def _sparse_ce(name, o, t):
    y = _np(t)
    if y.ndim == o.ndim and y.ndim >= 2 and y.shape[1] == 1:
        y = y.reshape((y.shape[0],) + y.shape[2:])
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("loss %r: target must hold integer class labels; for one-hot or "
                             "probability targets use 'categorical_crossentropy'" % name)
        y = y.astype(np.int64)
    if y.ndim == o.ndim and y.shape == tuple(o.shape) and o.ndim >= 2 and o.shape[1] > 1:
        raise ValueError("loss %r: target has the output's shape %s (one-hot?); "
                         "'sparse_categorical_crossentropy' takes integer labels of shape "
                         "(N,), use 'categorical_crossentropy' for one-hot targets"
                         % (name, y.shape))
    return _per_sample(F.cross_entropy(o, y, reduction="none"))


def _categorical_ce(name, o, t):
    y = _np(t)
    if y.shape != tuple(o.shape):
        raise ValueError("loss %r: target must be one-hot/probabilities shaped like the output "
                         "%s, got %s; integer labels take 'sparse_categorical_crossentropy'"
                         % (name, tuple(o.shape), y.shape))
    return _per_sample(F.cross_entropy(o, y.astype(o.dtype, copy=False), reduction="none"))


def _binary_ce(name, o, t):
    return _per_sample(F.binary_cross_entropy_with_logits(o, _float_target(name, o, t),
                                                          reduction="none"))


def _kld(name, o, t):
    y = np.clip(_float_target(name, o, t), _EPS, 1.0)
    per = F.kl_div(F.log_softmax(o, dim=1 if o.ndim > 1 else 0), y, reduction="none")
    return _per_sample(per.sum(1)) if per.ndim > 1 else per.sum().reshape(1)


def _mse(name, o, t):
    return _per_sample((o - _float_target(name, o, t)) ** 2)


def _mae(name, o, t):
    return _per_sample((o - _float_target(name, o, t)).abs())


def _mape(name, o, t):
    y = _float_target(name, o, t)
    return _per_sample((o - y).abs() * (100.0 / np.maximum(np.abs(y), _EPS)))


def _msle(name, o, t):
    y = np.log(np.maximum(_float_target(name, o, t), _EPS) + 1.0)
    return _per_sample(((o.clip(min=_EPS) + 1.0).log() - y) ** 2)


def _huber(name, o, t):
    return _per_sample(F.huber_loss(o, _float_target(name, o, t), reduction="none", delta=1.0))


def _log_cosh(name, o, t):
    d = o - _float_target(name, o, t)
    return _per_sample(d + F.softplus(d * -2.0) - math.log(2.0))


def _hinge_target(name, o, t):
    y = _float_target(name, o, t)
    if np.all((y == 0) | (y == 1)):
        y = 2.0 * y - 1.0           # Keras converts 0/1 labels to -1/1
    return y.astype(o.dtype, copy=False)


def _hinge(name, o, t):
    return _per_sample(F.relu(1.0 - o * _hinge_target(name, o, t)))


def _squared_hinge(name, o, t):
    return _per_sample(F.relu(1.0 - o * _hinge_target(name, o, t)) ** 2)


def _poisson(name, o, t):
    y = _float_target(name, o, t)
    return _per_sample(o - (o + _EPS).log() * y)


# canonical name -> (per-sample function, takes logits, target kind for "accuracy")
_LOSSES = {
    "sparse_categorical_crossentropy": (_sparse_ce, True, "sparse"),
    "categorical_crossentropy": (_categorical_ce, True, "categorical"),
    "binary_crossentropy": (_binary_ce, True, "binary"),
    "kl_divergence": (_kld, True, "categorical"),
    "mean_squared_error": (_mse, False, None),
    "mean_absolute_error": (_mae, False, None),
    "mean_absolute_percentage_error": (_mape, False, None),
    "mean_squared_logarithmic_error": (_msle, False, None),
    "huber": (_huber, False, None),
    "log_cosh": (_log_cosh, False, None),
    "hinge": (_hinge, False, None),
    "squared_hinge": (_squared_hinge, False, None),
    "poisson": (_poisson, False, None),
}
_ALIASES = {
    "mse": "mean_squared_error", "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh", "huber_loss": "huber",
}
LOSS_NAMES = sorted(set(_LOSSES) | set(_ALIASES))


def _key(name):
    return name.lower().replace("_", "")


_LOOKUP = {_key(n): n for n in _LOSSES}
_LOOKUP.update({_key(a): n for a, n in _ALIASES.items()})


class KerasLoss:
    """A loss given by a Keras name; ``loss(output, target)`` is the batch mean,
    ``loss.per_sample(output, target)`` one value per sample."""

    def __init__(self, name):
        canonical = _LOOKUP.get(_key(name))
        if canonical is None:
            raise ValueError("Trainer: unknown loss %r; valid names are %s"
                             % (name, ", ".join(LOSS_NAMES)))
        self.name = name
        self.canonical = canonical
        self._fn, self.from_logits, self.kind = _LOSSES[canonical]

    def per_sample(self, output, target):
        return self._fn(self.name, output, target)

    def __call__(self, output, target):
        return self.per_sample(output, target).mean()

    def __repr__(self):
        return "KerasLoss(%r)" % self.name


def get_loss(spec):
    """A KerasLoss from a name; callables (fastdl.nn losses, functions) pass through."""
    if isinstance(spec, str):
        return KerasLoss(spec)
    if callable(spec):
        return spec
    raise TypeError("Trainer: a loss must be a name (%s), a fastdl.nn loss or a function "
                    "(output, target) -> Tensor; got %s" % (", ".join(LOSS_NAMES),
                                                            type(spec).__name__))
