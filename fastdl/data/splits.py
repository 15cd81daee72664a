"""Train/test splits and K-fold cross-validation with scikit-learn's semantics.

Sizes, rounding, argument checks and return order follow sklearn's
train_test_split and KFold; the random numbers come from fastdl's
counter-based RNG (random_state=int: a private seeded sequence; None: the
global fastdl RNG), so the exact permutations differ from sklearn's.
"""
import math
import numbers

import numpy as np

from fastdl.data import _rng
from fastdl.tensor import Tensor

__all__ = ["train_test_split", "train_val_test_split", "KFold"]


def _num_samples(x):
    if isinstance(x, (Tensor, np.ndarray)):
        if x.ndim == 0:
            raise TypeError("Singleton array %r cannot be considered a valid collection." % (x,))
        return x.shape[0]
    if not hasattr(x, "__len__"):
        raise TypeError("Expected sequence or array-like, got %s" % type(x).__name__)
    return len(x)


def _check_consistent_length(arrays):
    lengths = [_num_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError("Found input variables with inconsistent numbers of samples: %r"
                         % [int(n) for n in lengths])
    return lengths[0] if lengths else 0


def _take(x, idx):
    """Rows idx of x, keeping its kind: ndarray, Tensor, or list."""
    if x is None:
        return None
    if isinstance(x, Tensor):
        return Tensor._wrap(x._data[idx])
    if isinstance(x, np.ndarray):
        return x[idx]
    if hasattr(x, "iloc"):               # pandas, without importing it
        return x.iloc[idx]
    return [x[int(i)] for i in idx]


def _validate_sizes(n, test_size, train_size, default_test_size):
    """(n_train, n_test) by sklearn's rules: ceil for the test part, floor for train."""
    if test_size is None and train_size is None:
        test_size = default_test_size

    def kind(v, name):
        if v is None:
            return None
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            if v <= 0 or v >= n:
                raise ValueError("%s=%d should be either positive and smaller than the number "
                                 "of samples %d or a float in the (0, 1) range" % (name, v, n))
            return "i"
        if isinstance(v, numbers.Real):
            if not 0 < v < 1:
                raise ValueError("%s=%r should be either positive and smaller than the number "
                                 "of samples %d or a float in the (0, 1) range" % (name, v, n))
            return "f"
        raise ValueError("Invalid value for %s: %r" % (name, v))

    kt, kr = kind(test_size, "test_size"), kind(train_size, "train_size")
    if kt == "f" and kr == "f" and test_size + train_size > 1:
        raise ValueError("The sum of test_size and train_size = %r, should be in the (0, 1) "
                         "range. Reduce test_size and/or train_size." % (test_size + train_size))
    n_test = math.ceil(test_size * n) if kt == "f" else (test_size if kt == "i" else None)
    n_train = math.floor(train_size * n) if kr == "f" else (train_size if kr == "i" else None)
    if n_train is None:
        n_train = n - n_test
    elif n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError("The sum of train_size and test_size = %d, should be smaller than the "
                         "number of samples %d. Reduce test_size and/or train_size."
                         % (n_train + n_test, n))
    n_train, n_test = int(n_train), int(n_test)
    if n_train == 0:
        raise ValueError("With n_samples=%d, test_size=%r and train_size=%r, the resulting train "
                         "set will be empty. Adjust any of the aforementioned parameters."
                         % (n, test_size, train_size))
    return n_train, n_test


def _allocate(counts, n_draws):
    """Per-class draws summing to n_draws, proportional to counts, capped by counts.

    Floors of the exact shares, then the remaining draws go to the classes with
    the largest fractional parts (ties: the larger class, then the lower class).
    """
    counts = np.asarray(counts, dtype=np.int64)
    exact = counts * n_draws / counts.sum()
    take = np.minimum(np.floor(exact).astype(np.int64), counts)
    frac = exact - take
    order = np.lexsort((np.arange(len(counts)), -counts, -frac))
    left = n_draws - take.sum()
    for k in order:
        if left <= 0:
            break
        if take[k] < counts[k]:
            take[k] += 1
            left -= 1
    return take


def _split_indices(n, n_train, n_test, shuffle, stratify, keys):
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    if stratify is None:
        perm = _rng.permutation(n, keys)
        return perm[n_test:n_test + n_train], perm[:n_test]
    y = np.asarray(stratify._data if isinstance(stratify, Tensor) else stratify)
    if y.ndim == 2:                      # multilabel / one-hot rows: stratify on each row
        y = np.array([" ".join(map(str, row)) for row in y])
    classes, y_idx = np.unique(y, return_inverse=True)
    counts = np.bincount(y_idx)
    if counts.min() < 2:
        raise ValueError("The least populated class in y has only 1 member, which is too few. "
                         "The minimum number of groups for any class cannot be less than 2.")
    if n_train < len(classes):
        raise ValueError("The train_size = %d should be greater or equal to the number of "
                         "classes = %d" % (n_train, len(classes)))
    if n_test < len(classes):
        raise ValueError("The test_size = %d should be greater or equal to the number of "
                         "classes = %d" % (n_test, len(classes)))
    t_test = _allocate(counts, n_test)
    t_train = _allocate(counts - t_test, n_train)
    by_class = np.split(np.argsort(y_idx, kind="stable"), np.cumsum(counts)[:-1])
    train, test = [], []
    for k, members in enumerate(by_class):
        members = members[_rng.permutation(len(members), keys)]
        test.append(members[:t_test[k]])
        train.append(members[t_test[k]:t_test[k] + t_train[k]])
    train, test = np.concatenate(train), np.concatenate(test)
    return train[_rng.permutation(len(train), keys)], test[_rng.permutation(len(test), keys)]


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays into random train and test subsets, as sklearn's train_test_split.

    Args:
        *arrays: NumPy arrays, fastdl Tensors or lists with the same first dim.
        test_size: float in (0, 1) (share, rounded up) or int (count); default 0.25
            when train_size is also None, else the complement of train_size.
        train_size: float (share, rounded down) or int; default the complement.
        random_state: int seed, or None for the global fastdl RNG.
        shuffle: shuffle before splitting (required for stratify).
        stratify: class labels; each class keeps its share in both parts.

    Returns:
        [a_train, a_test, b_train, b_test, ...], each the kind of its input.

    Example:
        >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> X_tr, X_te, y_tr, y_te = fastdl.data.train_test_split(X, y, test_size=0.2,
        ...                                                       random_state=0)
        >>> X_tr.shape, X_te.shape, y_te.shape
        ((8, 2), (2, 2), (2,))
        >>> bool((X_te[:, 0] // 2 == y_te).all())      # rows stay paired
        True
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    n = _check_consistent_length(arrays)
    if stratify is not None:
        _check_consistent_length([arrays[0], stratify])
    n_train, n_test = _validate_sizes(n, test_size, train_size, 0.25)
    train, test = _split_indices(n, n_train, n_test, shuffle, stratify,
                                 _rng.KeyStream(random_state))
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def train_val_test_split(*arrays, val_size=0.1, test_size=0.1, random_state=None, shuffle=True,
                         stratify=None):
    """Split arrays into train, validation and test subsets.

    Sizes are floats (shares of all samples, rounded up) or ints (counts);
    train gets the rest. With stratify, every part keeps the class shares.

    Returns:
        [a_train, a_val, a_test, b_train, b_val, b_test, ...]

    Example:
        >>> X, y = np.arange(40).reshape(20, 2), np.arange(20)
        >>> parts = fastdl.data.train_val_test_split(X, y, val_size=0.1, test_size=0.2,
        ...                                          random_state=0)
        >>> X_tr, X_va, X_te, y_tr, y_va, y_te = parts
        >>> len(y_tr), len(y_va), len(y_te)
        (14, 2, 4)
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    n = _check_consistent_length(arrays)

    def count(v, name):
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            if not 0 < v < n:
                raise ValueError("%s=%d should be in (0, %d)" % (name, v, n))
            return int(v)
        if isinstance(v, numbers.Real) and 0 < v < 1:
            return math.ceil(v * n)
        raise ValueError("%s=%r should be an int in (0, n_samples) or a float in (0, 1)"
                         % (name, v))

    n_val, n_test = count(val_size, "val_size"), count(test_size, "test_size")
    if n_val + n_test >= n:
        raise ValueError("val_size + test_size (%d + %d samples) leave no training samples of %d"
                         % (n_val, n_test, n))
    keys = _rng.KeyStream(random_state)
    rest, test = _split_indices(n, n - n_test, n_test, shuffle, stratify, keys)
    strat_rest = None if stratify is None else _take(np.asarray(
        stratify._data if isinstance(stratify, Tensor) else stratify), rest)
    tr, va = _split_indices(len(rest), len(rest) - n_val, n_val, shuffle, strat_rest, keys)
    train, val = rest[tr], rest[va]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, val), _take(a, test)]
    return out


class KFold:
    """K-fold cross-validation indices, as sklearn's KFold.

    The first n_samples % n_splits folds have n_samples // n_splits + 1
    samples, the others n_samples // n_splits; each index is in exactly one
    test fold.

    Example:
        >>> [t.tolist() for _, t in fastdl.data.KFold(3).split(np.zeros(5))]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool):
            raise ValueError("The number of folds must be of Integral type. %r of type %s was "
                             "passed." % (n_splits, type(n_splits).__name__))
        if n_splits <= 1:
            raise ValueError("k-fold cross-validation requires at least one train/test split by "
                             "setting n_splits=2 or more, got n_splits=%d." % n_splits)
        if not isinstance(shuffle, bool):
            raise TypeError("shuffle must be True or False; got %r" % (shuffle,))
        if not shuffle and random_state is not None:
            raise ValueError("Setting a random_state has no effect since shuffle is False. You "
                             "should leave random_state to its default (None), or set "
                             "shuffle=True.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """The number of folds, n_splits."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yields (train_index, test_index) int64 arrays, n_splits times."""
        n = _check_consistent_length([X, y])
        if self.n_splits > n:
            raise ValueError("Cannot have number of splits n_splits=%d greater than the number "
                             "of samples: n_samples=%d." % (self.n_splits, n))
        idx = np.arange(n, dtype=np.int64)
        if self.shuffle:
            # an int random_state gives the same folds on every split() call, as sklearn
            idx = idx[_rng.permutation(n, _rng.KeyStream(self.random_state))]
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[:n % self.n_splits] += 1
        start = 0
        for size in sizes:
            mask = np.zeros(n, dtype=bool)
            mask[idx[start:start + size]] = True
            yield np.flatnonzero(~mask), np.flatnonzero(mask)
            start += size

    def __repr__(self):
        return "KFold(n_splits=%d, random_state=%r, shuffle=%r)" % (
            self.n_splits, self.random_state, self.shuffle)
