"""What the Trainer does differently when it runs on several MPI ranks.

``Trainer(..., distributed=True)`` (or ``distributed=DataParallel()``) makes every
rank train one replica of the model on its own share of each batch:

- batches: ``batch_size`` stays the *global* batch (as in Keras's distribution
  strategies) and must divide evenly over the ranks; each rank's loader takes
  ``batch_size / world_size`` samples per step through a DistributedSampler
  (shuffled by ``seed + epoch``, the same permutation on every rank), so a
  step sees the same samples whatever the number of ranks;
- gradients: the forward pass runs through DistributedDataParallel, which
  averages the gradients during backward;
- logs: each batch's running loss, and each epoch's loss and metrics (training
  and validation) are reduced over the ranks, so every rank logs the global
  value and takes the same decisions (EarlyStopping, ReduceLROnPlateau,
  ModelCheckpoint's "best", TerminateOnNaN). Validation and ``evaluate`` split
  the data without padding, so their metrics equal one process's;
- output: progress bars, CSVLogger and ModelCheckpoint run on rank 0 only,
  and ``save_checkpoint`` writes on rank 0 only. A checkpoint holds the plain
  model's state (no ``module.`` prefix) and resumes on any number of ranks.
"""
import contextlib
import copy
import math

import numpy as np

from fastdl import distributed as dist

__all__ = ["DataParallel"]


class DataParallel:
    """The Trainer's data-parallel strategy over the default process group.

    Args:
        seed: the DistributedSampler seed (the shuffle of epoch e uses seed + e).
        bucket_cap_mb, find_unused_parameters: passed to DistributedDataParallel.

    Calls ``init_process_group("mpi")`` if nothing has yet; a plain ``python``
    run is a world of one.
    """

    def __init__(self, seed=0, bucket_cap_mb=None, find_unused_parameters=False):
        self.seed = int(seed)
        self.ddp_kwargs = dict(bucket_cap_mb=bucket_cap_mb,
                               find_unused_parameters=find_unused_parameters)
        self.ddp = None

    # ---- set-up ----------------------------------------------------------------------------
    def setup(self, model):
        """Join the process group and wrap the model (rank 0's weights go everywhere)."""
        from fastdl.nn.parallel import DistributedDataParallel
        if not dist.is_initialized():
            dist.init_process_group(backend="mpi")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        self.ddp = DistributedDataParallel(model, **self.ddp_kwargs)
        return self

    @property
    def model(self):
        """What the Trainer calls for forward passes in training."""
        return self.ddp

    def sync(self, flag):
        """Context for a forward whose backward should all-reduce (True) or only
        accumulate locally (False: DistributedDataParallel.no_sync)."""
        return contextlib.nullcontext() if flag else self.ddp.no_sync()

    # ---- data ------------------------------------------------------------------------------
    def per_rank(self, batch_size, op="fit"):
        if batch_size % self.world_size:
            raise ValueError("%s: batch_size=%d is the global batch and must divide evenly "
                             "over the %d ranks" % (op, batch_size, self.world_size))
        return batch_size // self.world_size

    def train_loader(self, dataset, batch_size, shuffle, drop_last=False):
        """This rank's loader: batch_size / world_size samples of every global batch."""
        from fastdl.data import DataLoader
        from fastdl.utils.data.distributed import DistributedSampler
        sampler = DistributedSampler(dataset, self.world_size, self.rank, shuffle=shuffle,
                                     seed=self.seed)
        return DataLoader(dataset, batch_size=self.per_rank(batch_size), sampler=sampler,
                          drop_last=drop_last)

    def eval_loader(self, dataset, batch_size):
        """Rank r evaluates samples r, r + world_size, ...: no padding, so sums are exact."""
        from fastdl.data import DataLoader, Subset
        part = Subset(dataset, list(range(self.rank, len(dataset), self.world_size)))
        return DataLoader(part, batch_size=max(1, math.ceil(batch_size / self.world_size)))

    def check_loader(self, loader, op="fit"):
        """A DataLoader given by the user: warn when every rank would read all of it."""
        from fastdl.utils.data.distributed import DistributedSampler
        if self.world_size > 1 and not isinstance(getattr(loader, "sampler", None),
                                                  DistributedSampler):
            import warnings
            warnings.warn("%s: the DataLoader has no DistributedSampler, so each of the %d "
                          "ranks reads all of it; pass the Dataset (the Trainer splits it) "
                          "or give the loader sampler=DistributedSampler(dataset)"
                          % (op, self.world_size), RuntimeWarning, stacklevel=4)
        return loader

    @staticmethod
    def set_epoch(loader, epoch):
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)

    # ---- reductions ------------------------------------------------------------------------
    def _sum(self, values):
        a = np.ascontiguousarray(values, dtype=np.float64)
        dist._state.comm.Allreduce(dist._state.MPI.IN_PLACE, a, op=dist._state.MPI.SUM)
        return a

    def running_loss(self, sum_loss, seen):
        """The epoch's running loss over all ranks (one 2-number all-reduce per batch)."""
        s, n = self._sum([sum_loss, seen])
        return s / max(n, 1.0)

    def any(self, flag):
        """True on every rank if it is True on any."""
        return bool(self._sum([1.0 if flag else 0.0])[0] > 0)

    def reduce_stats(self, stats):
        """Replace a pass's sums and metric states by their totals over all ranks."""
        names = sorted(stats.sum_parts)
        tot = self._sum([stats.sum_loss, stats.seen] + [stats.sum_parts[n] for n in names])
        stats.sum_loss, stats.seen = float(tot[0]), int(tot[1])
        for n, v in zip(names, tot[2:]):
            stats.sum_parts[n] = float(v)
        for ms in (stats.metrics or {}).values():
            for m in ms:
                self.reduce_metric(m)

    def reduce_metric(self, m):
        """Merge a streaming metric's state over all ranks, in place."""
        from fastdl import metrics as M
        comm, MPI = dist._state.comm, dist._state.MPI
        if isinstance(m, M._ConfusionBased):
            size = np.array([m.confmat.shape[0]], dtype=np.int64)
            comm.Allreduce(MPI.IN_PLACE, size, op=MPI.MAX)
            if size[0] > m.confmat.shape[0]:
                m._grow(int(size[0]), "reduce_metric")
            cm = np.ascontiguousarray(m.confmat, dtype=np.int64)
            comm.Allreduce(MPI.IN_PLACE, cm, op=MPI.SUM)
            m.confmat = cm
            if hasattr(m, "correct"):
                ct = np.array([m.correct, m.total], dtype=np.int64)
                comm.Allreduce(MPI.IN_PLACE, ct, op=MPI.SUM)
                m.correct, m.total = int(ct[0]), int(ct[1])
        elif isinstance(m, M._Regression):
            from fastdl._C.metrics import REG_STATE
            d = np.array([-1 if m.state is None else m.state.shape[0]], dtype=np.int64)
            comm.Allreduce(MPI.IN_PLACE, d, op=MPI.MAX)
            if d[0] < 0:
                return
            mine = m.state if m.state is not None else np.zeros((int(d[0]), REG_STATE))
            every = np.empty((self.world_size,) + mine.shape, dtype=np.float64)
            comm.Allgather(np.ascontiguousarray(mine, dtype=np.float64), every)
            merged = every[0].copy()
            for other in every[1:]:             # rank order: the same result on every rank
                _merge_moments(merged, other)
            m.state = merged
        else:
            raise TypeError("Trainer(distributed=True): cannot merge metric %s across ranks "
                            "(fastdl.metrics' confusion-based and regression metrics can); "
                            "compute it after training with evaluate()" % type(m).__name__)

    # ---- callbacks and files ------------------------------------------------------------------
    def rank_callbacks(self, callbacks):
        """The callbacks this rank runs: output and file writers on rank 0 only."""
        if self.is_main:
            return callbacks
        from fastdl.train import callbacks as C
        writers = tuple(getattr(C, n) for n in ("ProgressBar", "CSVLogger", "ModelCheckpoint")
                        if hasattr(C, n))
        return [c for c in callbacks if not isinstance(c, writers)
                and not getattr(c, "rank_zero_only", False)]

    def barrier(self):
        dist.barrier()


def _merge_moments(a, b):
    """Chan et al.'s merge of regression moments b into a, per output row:
    [n, sum |e|, sum e^2, mean y, sum (y - mean)^2]."""
    for i in range(a.shape[0]):
        na, nb = a[i, 0], b[i, 0]
        n = na + nb
        if nb == 0:
            continue
        if na == 0:
            a[i] = b[i]
            continue
        delta = b[i, 3] - a[i, 3]
        a[i, 4] = a[i, 4] + b[i, 4] + delta * delta * na * nb / n
        a[i, 3] = a[i, 3] + delta * nb / n
        a[i, 1] += b[i, 1]
        a[i, 2] += b[i, 2]
        a[i, 0] = n


def resolve(spec):
    """Trainer's ``distributed`` argument: False/None, True, or a DataParallel."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return DataParallel()
    if isinstance(spec, DataParallel):
        return copy.copy(spec)
    raise TypeError("Trainer: distributed must be True, False or a "
                    "fastdl.train.distributed.DataParallel, got %r" % (spec,))
