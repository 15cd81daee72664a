"""Feature scaling with scikit-learn's names, attributes and formulas, and one_hot.

Fit on the training data only, then transform every split with the fitted
statistics. Statistics are computed in float64 (NaNs ignored, as sklearn);
transform keeps a float input's dtype and container: NumPy arrays give
arrays, fastdl Tensors give Tensors.
"""
import numpy as np

from fastdl.tensor import Tensor

__all__ = ["MinMaxScaler", "StandardScaler", "one_hot"]


def _handle_zeros_in_scale(scale):
    """Constant features get scale 1, so they map to a constant instead of NaN."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


class _Scaler:
    """Shared input checks and fit_transform of MinMaxScaler and StandardScaler."""
    def _input(self, X, op):
        is_tensor = isinstance(X, Tensor)
        arr = X._data if is_tensor else np.asarray(X)
        if arr.ndim != 2:
            raise ValueError("%s.%s: expected a 2-D array (n_samples, n_features), got shape %s; "
                             "reshape your data with X.reshape(-1, 1) for a single feature"
                             % (type(self).__name__, op, arr.shape))
        if arr.dtype.kind not in "fiub":
            raise TypeError("%s.%s: expected numeric data, got dtype %s"
                            % (type(self).__name__, op, arr.dtype))
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float32 if is_tensor else np.float64)
        return arr, is_tensor

    def _check_fitted(self, arr, op):
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError("This %s instance is not fitted yet. Call 'fit' with appropriate "
                               "arguments before using '%s'." % (type(self).__name__, op))
        if arr.shape[1] != self.n_features_in_:
            raise ValueError("X has %d features, but %s is expecting %d features as input."
                             % (arr.shape[1], type(self).__name__, self.n_features_in_))

    @staticmethod
    def _output(out, dtype, is_tensor):
        out = out.astype(dtype, copy=False)
        return Tensor._wrap(out) if is_tensor else out

    def fit_transform(self, X, y=None):
        """fit(X) then transform(X): the scaled training data."""
        return self.fit(X, y).transform(X)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, v) for k, v in self.get_params().items()))


class MinMaxScaler(_Scaler):
    """Scale each feature to feature_range: X * scale_ + min_.

    Attributes (after fit): data_min_, data_max_, data_range_, scale_, min_,
    n_features_in_, n_samples_seen_ (sklearn's names and formulas).

    Shapes:
        X (n_samples, n_features).

    Example:
        >>> fastdl.data.MinMaxScaler().fit_transform(np.array([[1.0], [3.0]])).ravel().tolist()
        [0.0, 1.0]
    """

    def __init__(self, feature_range=(0, 1), *, copy=True, clip=False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def get_params(self):
        """The constructor arguments, as scikit-learn's get_params."""
        return {"feature_range": self.feature_range, "copy": self.copy, "clip": self.clip}

    def fit(self, X, y=None):
        """Learn each feature's min and max from X (n_samples, n_features); returns self."""
        lo, hi = self.feature_range
        if lo >= hi:
            raise ValueError("Minimum of desired feature range must be smaller than maximum. "
                             "Got %r." % (self.feature_range,))
        arr, _ = self._input(X, "fit")
        if arr.shape[0] == 0:
            raise ValueError("MinMaxScaler.fit: found array with 0 sample(s)")
        a = arr.astype(np.float64)
        self.data_min_ = np.nanmin(a, axis=0)
        self.data_max_ = np.nanmax(a, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / _handle_zeros_in_scale(self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = arr.shape[0]
        return self

    def transform(self, X):
        """Scale X with the fitted statistics; a Tensor in gives a Tensor out."""
        arr, is_tensor = self._input(X, "transform")
        self._check_fitted(arr, "transform")
        out = arr * self.scale_.astype(arr.dtype) + self.min_.astype(arr.dtype)
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return self._output(out, arr.dtype, is_tensor)

    def inverse_transform(self, X):
        """Undo transform: back to the original units."""
        arr, is_tensor = self._input(X, "inverse_transform")
        self._check_fitted(arr, "inverse_transform")
        out = (arr - self.min_.astype(arr.dtype)) / self.scale_.astype(arr.dtype)
        return self._output(out, arr.dtype, is_tensor)


class StandardScaler(_Scaler):
    """Standardize features: (X - mean_) / scale_, scale_ = sqrt(var_) (population variance).

    Attributes (after fit): mean_ (None when with_mean and with_std are both
    False), var_ and scale_ (None when with_std=False), n_features_in_,
    n_samples_seen_ (sklearn's names and formulas).

    Shapes:
        X (n_samples, n_features).

    Example:
        >>> fastdl.data.StandardScaler().fit_transform(np.array([[1.0], [3.0]])).ravel().tolist()
        [-1.0, 1.0]
    """

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def get_params(self):
        """The constructor arguments, as scikit-learn's get_params."""
        return {"copy": self.copy, "with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X, y=None):
        """Learn each feature's mean and standard deviation from X (n_samples, n_features); returns self."""
        arr, _ = self._input(X, "fit")
        if arr.shape[0] == 0:
            raise ValueError("StandardScaler.fit: found array with 0 sample(s)")
        a = arr.astype(np.float64)
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = arr.shape[0]
        if not self.with_mean and not self.with_std:
            self.mean_ = self.var_ = self.scale_ = None
            return self
        self.mean_ = np.nanmean(a, axis=0)
        if self.with_std:
            self.var_ = np.nanvar(a, axis=0)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_))
        else:
            self.var_ = self.scale_ = None
        return self

    def transform(self, X):
        """Standardize X with the fitted statistics; a Tensor in gives a Tensor out."""
        arr, is_tensor = self._input(X, "transform")
        self._check_fitted(arr, "transform")
        out = arr.copy() if self.copy or is_tensor else arr
        if self.with_mean:
            out -= self.mean_.astype(arr.dtype)
        if self.with_std:
            out /= self.scale_.astype(arr.dtype)
        return self._output(out, arr.dtype, is_tensor)

    def inverse_transform(self, X):
        """Undo transform: back to the original units."""
        arr, is_tensor = self._input(X, "inverse_transform")
        self._check_fitted(arr, "inverse_transform")
        out = arr.copy() if self.copy or is_tensor else arr
        if self.with_std:
            out *= self.scale_.astype(arr.dtype)
        if self.with_mean:
            out += self.mean_.astype(arr.dtype)
        return self._output(out, arr.dtype, is_tensor)


def one_hot(labels, num_classes=-1, dtype=None):
    """One-hot rows for integer class labels, as torch.nn.functional.one_hot.

    Args:
        labels: int array or Tensor of any shape, values in [0, num_classes).
        num_classes: number of classes; -1 infers max(labels) + 1.
        dtype: output dtype (default int64, as PyTorch; pass np.float32 for
            targets of a float loss).

    Shapes:
        labels (*) -> (*, num_classes); a Tensor gives a Tensor, an array an array.

    Example:
        >>> fastdl.data.one_hot(np.array([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    is_tensor = isinstance(labels, Tensor)
    y = labels._data if is_tensor else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError("one_hot: labels must be integers, got dtype %s" % y.dtype)
    if y.size and y.min() < 0:
        raise ValueError("one_hot: class values must be non-negative, got %d" % y.min())
    if num_classes == -1:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from empty labels; "
                             "pass num_classes")
        num_classes = int(y.max()) + 1
    elif num_classes < 1:
        raise ValueError("one_hot: num_classes must be positive or -1, got %d" % num_classes)
    elif y.size and y.max() >= num_classes:
        raise ValueError("one_hot: class values must be smaller than num_classes=%d, got %d"
                         % (num_classes, y.max()))
    out = np.zeros(y.shape + (num_classes,), dtype=np.dtype(dtype) if dtype else np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._wrap(out) if is_tensor else out
