"""DataLoader and samplers with PyTorch's names, arguments and defaults.

Shuffling uses fastdl's counter-based RNG: one key per epoch, so
``fastdl.manual_seed`` (or an int ``generator``) fixes every epoch's order,
and restoring the RNG state replays it. When the dataset's samples are rows
of in-memory arrays (TensorDataset, a Subset of one) and no collate_fn is
given, a batch is one C gather per array (fastdl._C.data.gather_rows):
there is no Python loop over samples.
"""
import collections.abc
import numbers
import warnings

import numpy as np

from fastdl._C import _core

from fastdl._C import data as _cdata
from fastdl.data import _rng
from fastdl.data.dataset import Dataset
from fastdl.tensor import Tensor

__all__ = ["DataLoader", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate",
           "default_convert"]


# ---- samplers --------------------------------------------------------------

class Sampler:
    """Base class of the samplers: iterates over dataset indices (torch.utils.data.Sampler).

    Subclasses define ``__iter__`` (and usually ``__len__``). A sampler may also
    define ``_indices()`` returning the whole epoch as an int64 array;
    BatchSampler then slices it instead of iterating in Python.

    Args:
        data_source: accepted for PyTorch compatibility; unused by the base.

    Example:
        >>> class EvenFirst(fastdl.data.Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))
        ...     def __len__(self): return self.n
        >>> list(EvenFirst(5))
        [0, 2, 4, 1, 3]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def _indices(self):
        return None


class SequentialSampler(Sampler):
    """The indices 0, 1, ..., len(data_source) - 1 in order: the DataLoader's default.

    Args:
        data_source: the dataset (only its length is used).

    Example:
        >>> list(fastdl.data.SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def _indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order of the dataset every epoch (or draws with replacement).

    Args:
        data_source: the dataset.
        replacement: draw num_samples indices with replacement.
        num_samples: samples per epoch (default len(data_source)).
        generator: None (the global fastdl RNG, one key per epoch) or an int seed.

    Example:
        >>> sampler = fastdl.data.RandomSampler(range(5), generator=0)
        >>> sorted(sampler) == list(range(5)), len(sampler)
        (True, 5)
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        self._keys = _rng.keys(generator)
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement=%r"
                            % (replacement,))
        if not isinstance(self.num_samples, numbers.Integral) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             "num_samples=%r" % (self.num_samples,))

    @property
    def num_samples(self):
        """Indices drawn per epoch: num_samples if given, else len(data_source)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        n, m = len(self.data_source), self.num_samples
        if self.replacement:
            return _rng.randint(self._keys, (m,), 0, n)
        # PyTorch's rule for num_samples > n: whole permutations, then a partial one
        parts = [_rng.permutation(n, self._keys) for _ in range(max(1, -(-m // n)))]
        idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return idx[:m]

    def __iter__(self):
        if self.replacement and self.num_samples > _CHUNK:
            return self._iter_chunks()
        return iter(self._indices().tolist())

    def _iter_chunks(self):
        """Draws with replacement, _CHUNK at a time from one key: the same indices as
        one draw (element i depends on the key and i only), without holding
        num_samples of them (num_samples may be huge, as in PyTorch)."""
        n, m = len(self.data_source), self.num_samples
        s, st = self._keys.next()
        for start in range(0, m, _CHUNK):
            k = min(_CHUNK, m - start)
            yield from _core.rng_randint((k,), s, st, start, 0, n).tolist()

    def __len__(self):
        return self.num_samples


_CHUNK = 1 << 16


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order every epoch, without replacement.

    Args:
        indices: the dataset indices to draw from (e.g. a validation fold).
        generator: None (the global fastdl RNG) or an int seed.

    Example:
        >>> sampler = fastdl.data.SubsetRandomSampler([5, 6, 7, 8], generator=0)
        >>> sorted(sampler), len(sampler)
        ([5, 6, 7, 8], 4)
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._keys = _rng.keys(generator)

    def _indices(self):
        ind = np.asarray(self.indices, dtype=np.int64)
        return ind[_rng.permutation(len(ind), self._keys)]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probabilities proportional to weights.

    Args:
        weights: non-negative sample weights (need not sum to 1).
        num_samples: indices per epoch.
        replacement: draw with replacement; without it, sequential draws
            without replacement (num_samples <= number of non-zero weights).
        generator: None (the global fastdl RNG) or an int seed.

    Example:
        >>> y = np.array([0] * 90 + [1] * 10)              # imbalanced labels
        >>> w = 1.0 / np.bincount(y)[y]                    # balance the classes
        >>> idx = list(fastdl.data.WeightedRandomSampler(w, 1000, generator=0))
        >>> bool(0.4 < y[idx].mean() < 0.6)
        True
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if (not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool)
                or num_samples <= 0):
            raise ValueError("num_samples should be a positive integer value, but got "
                             "num_samples=%r" % (num_samples,))
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got replacement=%r"
                             % (replacement,))
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError("weights should be a non-empty 1-D sequence, got shape %s"
                             % (w.shape,))
        if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights should be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError("cannot draw %d samples without replacement from %d non-zero "
                             "weights" % (num_samples, np.count_nonzero(w)))
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator
        self._keys = _rng.keys(generator)

    def _indices(self):
        u = _rng.uniform(self._keys, (self.num_samples if self.replacement else len(self.weights),))
        if self.replacement:
            cdf = np.cumsum(self.weights)
            idx = np.searchsorted(cdf, u * cdf[-1], side="right")
            return np.minimum(idx, len(cdf) - 1).astype(np.int64)
        # keys u^(1/w): the order of the largest keys is distributed as draws
        # without replacement (Efraimidis and Spirakis); zero weights never win
        with np.errstate(divide="ignore"):
            keys = np.where(self.weights > 0, np.log(np.maximum(u, 1e-300)) / self.weights,
                            -np.inf)
        return np.argsort(-keys, kind="stable")[:self.num_samples].astype(np.int64)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of batch_size.

    Example:
        >>> from fastdl.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError("batch_size should be a positive integer value, but got "
                             "batch_size=%r" % (batch_size,))
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got drop_last=%r"
                             % (drop_last,))
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def _index_batches(self):
        """Batches as int64 arrays; slices of one epoch array when the sampler has one."""
        idx = self.sampler._indices() if isinstance(self.sampler, Sampler) else None
        bs = self.batch_size
        if idx is not None:
            n = len(idx) - (len(idx) % bs if self.drop_last else 0)
            for start in range(0, n, bs):
                yield idx[start:start + bs]
            return
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == bs:
                yield np.asarray(batch, dtype=np.int64)
                batch = []
        if batch and not self.drop_last:
            yield np.asarray(batch, dtype=np.int64)

    def __iter__(self):
        for b in self._index_batches():
            yield b.tolist()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _CustomBatches:
    """Adapts a user's batch_sampler (any iterable of index lists)."""

    def __init__(self, batch_sampler):
        self.batch_sampler = batch_sampler

    def _index_batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            yield from self.batch_sampler._index_batches()
            return
        for b in self.batch_sampler:
            yield np.asarray(b, dtype=np.int64)


# ---- collation -------------------------------------------------------------

def default_convert(data):
    """NumPy arrays and numbers to Tensors, recursively; other objects unchanged.

    What the DataLoader applies to samples when batch_size is None.

    Args:
        data: an array, number, Tensor, or a dict/list/tuple/namedtuple of them.

    Example:
        >>> fastdl.data.default_convert({"x": np.zeros(2, dtype=np.float32), "name": "a"})
        {'x': tensor([0., 0.]), 'name': 'a'}
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        return Tensor._wrap(data)
    if isinstance(data, np.generic) and data.dtype.kind in "fiub":
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()}) \
            if not isinstance(data, dict) else {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's default_collate.

    Tensors and arrays are stacked along a new first dim; Python floats give
    float64, ints int64, bools bool; strings stay a list; dicts, tuples and
    lists are collated field by field (tuples and lists become lists).

    Example:
        >>> fastdl.data.default_collate([(np.zeros(2), 0), (np.ones(2), 1)])[1]
        tensor([0, 1])
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(np.stack([b._data for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "fiub":
            raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, "
                            "dicts or lists; found an array of dtype %s" % elem.dtype)
        return Tensor._wrap(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    "or lists; found %s" % type(elem).__name__)


# ---- DataLoader ------------------------------------------------------------

class DataLoader:
    """Iterates over a dataset in batches, PyTorch's DataLoader.

    Args:
        dataset: a Dataset (or anything with __getitem__ and __len__).
        batch_size: samples per batch (None: yield single samples, converted).
        shuffle: a new random order every epoch (a RandomSampler).
        sampler: a Sampler or iterable of indices; excludes shuffle.
        batch_sampler: yields lists of indices; excludes batch_size, shuffle,
            sampler and drop_last.
        num_workers: accepted for compatibility; batches are always built in
            this process (a batch is one C gather, so workers would not help).
        collate_fn: merges a list of samples into a batch (default_collate).
        drop_last: drop the last incomplete batch.
        generator: None (shuffle with the global fastdl RNG, seeded by
            fastdl.manual_seed) or an int seed private to this loader.

    Shapes:
        For TensorDataset(x (N, ...), y (N, ...)) each batch is a list
        [x (B, ...), y (B, ...)] of Tensors, B = batch_size except maybe the
        last; len(loader) = ceil(N / B), or floor(N / B) with drop_last.

    Example:
        >>> from fastdl.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(fastdl.randn(1000, 784), fastdl.randint(0, 10, (1000,)))
        >>> loader = DataLoader(ds, batch_size=128, shuffle=True)
        >>> len(loader)
        8
        >>> for xb, yb in loader:
        ...     pass
        >>> xb.shape, yb.shape
        ((104, 784), (104,))
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if num_workers > 0:
            warnings.warn("DataLoader: num_workers=%d is ignored; fastdl builds each batch in "
                          "this process (one C gather per array for in-memory datasets)"
                          % num_workers, stacklevel=2)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.drop_last = drop_last
        self._keys = _rng.keys(generator)
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=self._keys) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None
        self._user_collate = collate_fn is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _fast_arrays(self):
        if self._user_collate or not self._auto_collation or not isinstance(self.dataset, Dataset):
            return None
        got = self.dataset._batch_arrays()
        if got is None:
            return None
        arrays, imap = got
        # gather needs each row contiguous; copy a strided array once per epoch, not per batch
        arrays = tuple(a if a.ndim < 2 or a[:1].flags.c_contiguous else np.ascontiguousarray(a)
                       for a in arrays)
        return arrays, imap

    def __iter__(self):
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        batches = _CustomBatches(self.batch_sampler)._index_batches()
        fast = self._fast_arrays()
        if fast is None:
            ds, collate = self.dataset, self.collate_fn
            return (collate([ds[int(i)] for i in b]) for b in batches)
        return self._gather_batches(batches, *fast)

    @staticmethod
    def _gather_batches(batches, arrays, imap):
        gather, wrap = _cdata.gather_rows, Tensor._wrap
        for idx in batches:
            if imap is not None:
                idx = gather(imap, idx)
            yield [wrap(gather(a, idx)) for a in arrays]

    def state_dict(self):
        """The shuffle key sequence when generator is an int seed (for exact resume)."""
        return {"keys": self._keys.state()}

    def load_state_dict(self, state):
        """Restore the shuffle key sequence saved by ``state_dict()``."""
        self._keys.load_state(state["keys"])
