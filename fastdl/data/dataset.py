"""Datasets with PyTorch's interface: anything with __getitem__ and __len__.

TensorDataset (and a Subset of one) also exposes its arrays, so a DataLoader
can build a whole batch with one C gather per array instead of a Python loop
over samples.
"""
import bisect

import numpy as np

from fastdl.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


def _array(x):
    """The storage of a Tensor, or x as an ndarray (no copy when possible)."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


class Dataset:
    """An indexable collection of samples: subclasses define __getitem__ and __len__.

    Example:
        >>> class Squares(fastdl.data.Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return i * i
        >>> Squares()[3]
        9
    """

    def __getitem__(self, index):
        raise NotImplementedError("%s must define __getitem__" % type(self).__name__)

    def __add__(self, other):
        return ConcatDataset([self, other])

    def _batch_arrays(self):
        """(arrays, index_map) when samples are rows of in-memory arrays, else None.

        Sample i is tuple(a[index_map[i]] for a in arrays) (index_map None:
        the identity). The DataLoader uses this to gather batches in C.
        """
        return None


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors (or arrays).

    Args:
        *tensors: fastdl Tensors or NumPy arrays with the same first dim.

    Shapes:
        each tensor (N, ...); a sample is a tuple of rows (...).

    Example:
        >>> ds = fastdl.data.TensorDataset(fastdl.randn(100, 784), fastdl.randint(0, 10, (100,)))
        >>> x, y = ds[0]
        >>> len(ds), x.shape, y.shape
        (100, (784,), ())
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        sizes = [len(t) for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError("TensorDataset: size mismatch between tensors, first dims are %s"
                             % sizes)
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])

    def _batch_arrays(self):
        return tuple(_array(t) for t in self.tensors), None


class Subset(Dataset):
    """The samples of dataset at the given indices.

    Example:
        >>> ds = fastdl.data.TensorDataset(fastdl.arange(10.0).reshape(5, 2))
        >>> sub = fastdl.data.Subset(ds, [0, 2, 4])
        >>> len(sub), sub[1]
        (3, (tensor([4., 5.]),))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def _batch_arrays(self):
        inner = self.dataset._batch_arrays() if isinstance(self.dataset, Dataset) else None
        if inner is None:
            return None
        arrays, imap = inner
        own = np.asarray(self.indices, dtype=np.int64)
        return arrays, (own if imap is None else imap[own])


class ConcatDataset(Dataset):
    """The samples of several datasets one after another.

    Example:
        >>> a = fastdl.data.TensorDataset(fastdl.zeros(3, 2))
        >>> b = fastdl.data.TensorDataset(fastdl.ones(2, 2))
        >>> both = fastdl.data.ConcatDataset([a, b])
        >>> len(both), both[3]
        (5, (tensor([1., 1.]),))
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1]) if self.cumulative_sizes else 0

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("ConcatDataset: absolute value of index should not exceed "
                                 "dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else int(self.cumulative_sizes[d - 1])
        return self.datasets[d][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split dataset into non-overlapping Subsets of the given lengths (or fractions).

    generator: None (the global fastdl RNG) or an int seed.

    Example:
        >>> ds = fastdl.data.TensorDataset(fastdl.randn(10, 3))
        >>> train, val = fastdl.data.random_split(ds, [0.8, 0.2], generator=0)
        >>> len(train), len(val)
        (8, 2)
    """
    from fastdl.data._rng import permutation
    n = len(dataset)
    lengths = list(lengths)
    if all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-6 and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("random_split: sum of input lengths (%d) does not equal the length of "
                         "the input dataset (%d)" % (sum(lengths), n))
    perm = permutation(n, generator)
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out
