"""DistributedSampler: each rank's share of a dataset, torch.utils.data.distributed's."""
import math
import numbers

import numpy as np

from fastdl.data import _rng
from fastdl.data.dataloader import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Restricts data loading to this rank's share of the dataset (PyTorch's semantics).

    Every rank draws the same permutation (seeded with ``seed + epoch``), pads it
    by repeating indices from its start up to a multiple of ``num_replicas`` (or,
    with ``drop_last``, cuts the tail instead), and takes every
    ``num_replicas``-th index starting at ``rank``. So all ranks see the same
    number of samples, and together exactly the dataset (plus the padding).

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: number of ranks (default: ``fastdl.distributed.get_world_size()``).
        rank: this rank (default: ``fastdl.distributed.get_rank()``).
        shuffle: a new permutation each epoch (call ``set_epoch`` before each one).
        seed: the shuffle seed; must be the same on every rank.
        drop_last: drop the tail so the data divides evenly instead of padding.

    Shapes:
        ``len(sampler)`` = ceil(N / num_replicas), or with drop_last and N not divisible
        ceil((N - num_replicas) / num_replicas).

    Example:
        >>> s = DistributedSampler(range(10), num_replicas=3, rank=0, shuffle=False)
        >>> list(s)
        [0, 3, 6, 9]
        >>> list(DistributedSampler(range(10), num_replicas=3, rank=2, shuffle=False))
        [2, 5, 8, 1]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from fastdl import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank default to the "
                                   "process group's, but fastdl.distributed.init_process_group()"
                                   " has not been called; call it or pass both")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        for name, v in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool):
                raise TypeError("DistributedSampler: %s must be an int, got %r" % (name, v))
        if num_replicas < 1:
            raise ValueError("DistributedSampler: num_replicas must be >= 1, got %d" % num_replicas)
        if rank >= num_replicas or rank < 0:
            raise ValueError("Invalid rank {}, rank should be in the interval [0, {}]"
                             .format(rank, num_replicas - 1))
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = int(seed)

    def _indices(self):
        n = len(self.dataset)
        if self.shuffle:
            # one key from (seed + epoch) alone: the same permutation on every rank
            idx = _rng.permutation(n, self.seed + self.epoch)
        else:
            idx = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                idx = np.concatenate([idx] + [idx] * (pad // n) + [idx[:pad % n]]) \
                    if n else idx
        else:
            idx = idx[:self.total_size]
        if len(idx) != self.total_size:
            raise RuntimeError("DistributedSampler: %d indices for a total size of %d"
                               % (len(idx), self.total_size))
        own = idx[self.rank:self.total_size:self.num_replicas]
        return np.ascontiguousarray(own, dtype=np.int64)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which seeds this epoch's shuffle; call it on every rank before each epoch."""
        self.epoch = epoch
