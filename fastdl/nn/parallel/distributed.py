"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

How a step runs (PyTorch's DDP design, over fastdl's autograd):

- At construction rank 0's parameters and buffers are broadcast, so every
  replica starts equal, and the parameters are grouped into buckets in
  reverse registration order (the order backward produces their gradients):
  the first bucket holds about 1 MiB, the others ``bucket_cap_mb`` (25).
- During backward, each parameter's post-accumulate-grad hook copies its
  gradient into its bucket's flat buffer. When a bucket is full it is
  all-reduced with a non-blocking ``Iallreduce`` while backward goes on
  through the earlier layers; the hook of the last parameter reduces the last
  bucket with a blocking ``Allreduce`` (no compute is left to overlap, and it
  is the faster algorithm), waits for the others, divides by the world size
  and writes the averages back into ``.grad``. So when ``loss.backward()`` returns, every ``.grad`` holds the
  gradient averaged over all ranks and the optimizer can step.
- With the same inputs everywhere the averaged gradients are equal on every
  rank (bitwise: every rank receives the one reduced buffer), so replicas
  stay identical step after step.
"""
import contextlib
import time
import zlib

import numpy as np

from fastdl import distributed as dist
from fastdl.autograd import is_grad_enabled
from fastdl.nn.module import Module
from fastdl.tensor import Tensor

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1 << 20


class _Bucket:
    __slots__ = ("params", "offsets", "flat", "pending", "request", "index")

    def __init__(self, params, dtype, index):
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p._data.size
        self.flat = np.zeros(n, dtype=dtype)
        self.pending = len(params)
        self.request = None
        self.index = index


class DistributedDataParallel(Module):
    """Data parallelism over MPI ranks, ``torch.nn.parallel.DistributedDataParallel``.

    Args:
        module: the model; every rank builds the same architecture.
        device_ids, output_device, dim: accepted for PyTorch compatibility (CPU only).
        broadcast_buffers: broadcast rank 0's buffers (BatchNorm running statistics)
            before each training forward (default True, as in PyTorch).
        process_group: None (the default group); fastdl has no other groups.
        bucket_cap_mb: bucket size in MiB (25, as in PyTorch; the first bucket is 1 MiB,
            or bucket_cap_mb if that is smaller).
        find_unused_parameters: walk the autograd graph after each forward and count
            the parameters that did not contribute as ready, so models whose forward
            skips some parameters still synchronize. Off by default; without it such a
            model raises at the next forward, naming the parameters (PyTorch's behaviour).
        gradient_as_bucket_view: after the reduction ``.grad`` views the bucket
            instead of holding a copy (saves one copy per step).
        static_graph: accepted; fastdl re-derives readiness every step.

    Call ``init_process_group`` first. ``ddp.module`` is the wrapped model and
    ``ddp.state_dict()`` keys start with ``"module."`` (PyTorch's layout); save
    ``ddp.module.state_dict()`` for a file that loads without DDP.

    Example:
        >>> dist.init_process_group("mpi")
        >>> model = DistributedDataParallel(nn.Linear(10, 2))
        >>> opt = fastdl.optim.SGD(model.parameters(), lr=0.1)
        >>> loss = model(x).square().mean(); loss.backward(); opt.step()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError("DistributedDataParallel: expected a fastdl.nn.Module, got %s"
                            % type(module).__name__)
        if kwargs:
            raise TypeError("DistributedDataParallel: unexpected keyword argument(s) %s"
                            % ", ".join(sorted(kwargs)))
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if not bucket_cap_mb > 0:
            raise ValueError("DistributedDataParallel: bucket_cap_mb must be > 0, got %r"
                             % (bucket_cap_mb,))
        self.module = module
        d = self.__dict__
        d["_comm"] = dist._comm(process_group, "DistributedDataParallel")
        d["_MPI"] = dist._state.MPI
        d["world_size"] = self._comm.Get_size()
        d["broadcast_buffers"] = bool(broadcast_buffers)
        d["find_unused_parameters"] = bool(find_unused_parameters)
        d["gradient_as_bucket_view"] = bool(gradient_as_bucket_view)
        d["static_graph"] = bool(static_graph)
        d["bucket_bytes_cap"] = int(bucket_cap_mb * (1 << 20))
        d["require_backward_grad_sync"] = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        d["_param_names"] = {id(p): n for n, p in named}
        self._verify_shapes(named)
        self._sync_module_states()
        d["_buckets"] = self._make_buckets([p for _, p in named])
        d["_where"] = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}
        d["_ready"] = set()           # ids of parameters whose gradient is in its bucket
        d["_expect_hooks"] = False
        d["_started"] = False         # a hook fired in this iteration
        d["_unused"] = []
        d["_reduce_seconds"] = 0.0
        d["_handles"] = [p.register_post_accumulate_grad_hook(self._on_grad) for _, p in named]

    # ---- construction ---------------------------------------------------------------------
    def _verify_shapes(self, named):
        """Every rank must wrap the same parameters (else the reductions would mix them)."""
        sig = np.array([len(named), sum(p._data.size for _, p in named),
                        zlib.crc32(repr([(n, p.shape, str(p.dtype)) for n, p in named]).encode())],
                       dtype=np.int64)
        every = np.empty((self.world_size, 3), dtype=np.int64)
        self._comm.Allgather(sig, every)
        bad = [r for r in range(self.world_size) if not np.array_equal(every[r], sig)]
        if bad:
            raise RuntimeError("DistributedDataParallel: rank %d's parameters (%d tensors, %d "
                               "values) differ from rank(s) %s's (%s); every rank must build "
                               "the same model" % (self._comm.Get_rank(), sig[0], sig[1], bad,
                                                   ["%d tensors, %d values" % tuple(every[r, :2])
                                                    for r in bad]))

    def _broadcast_arrays(self, arrays):
        """Broadcast from rank 0 in place, one message per dtype (packed, then unpacked)."""
        by_dtype = {}
        for a in arrays:
            by_dtype.setdefault(a.dtype, []).append(a)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([a.reshape(-1) for a in group]) if len(group) > 1 \
                else np.ascontiguousarray(group[0]).reshape(-1)
            self._comm.Bcast(flat, root=0)
            n = 0
            for a in group:
                a[...] = flat[n:n + a.size].reshape(a.shape)
                n += a.size

    def _sync_module_states(self):
        arrays = [p._data for p in self.module.parameters()]
        arrays += [b._data for b in self.module.buffers()]
        if self.world_size > 1 and arrays:
            self._broadcast_arrays(arrays)

    def _make_buckets(self, params):
        buckets, cur, size = [], [], 0
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for p in reversed(params):       # backward produces the last layer's gradients first
            if cur and (p.dtype != cur[0].dtype or size >= cap):
                buckets.append(_Bucket(cur, cur[0].dtype, len(buckets)))
                cur, size, cap = [], 0, self.bucket_bytes_cap
            cur.append(p)
            size += p._data.nbytes
        buckets.append(_Bucket(cur, cur[0].dtype, len(buckets)))
        return buckets

    # ---- forward ------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._started:
            left = [self._param_names[id(p)] for b in self._buckets for p in b.params
                    if id(p) not in self._ready]
            self._reset()
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`DistributedDataParallel`. Parameters that did not receive a gradient on rank "
                "%d: %s" % (self._comm.Get_rank(), ", ".join(left)))
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if self.broadcast_buffers and self.module.training and is_grad_enabled() \
                and self.world_size > 1:
            bufs = [b._data for b in self.module.buffers()]
            if bufs:
                self._broadcast_arrays(bufs)
        out = self.module(*inputs, **kwargs)
        self.__dict__["_expect_hooks"] = sync
        if sync and self.find_unused_parameters:
            self._mark_unused(out)
        return out

    def _mark_unused(self, out):
        """Parameters the graph of ``out`` does not reach get a zero gradient slot now."""
        reached, stack, seen = set(), list(_tensors(out)), set()
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            node = t._node
            if node is None:
                reached.add(id(t))
                continue
            stack.extend(i for i in node.inputs if i is not None and i.requires_grad)
        unused = [p for b in self._buckets for p in b.params if id(p) not in reached]
        self.__dict__["_unused"] = unused
        for p in unused:
            b, i = self._where[id(p)]
            b.flat[b.offsets[i]:b.offsets[i] + p._data.size] = 0
            self._mark_ready(p, b)

    # ---- backward: hooks, buckets, reduction --------------------------------------------------
    def _on_grad(self, p):
        if not self._expect_hooks:
            return                    # no_sync(), or a forward outside this wrapper
        if id(p) in self._ready:
            raise RuntimeError(
                "Expected to mark a variable ready only once. Parameter %s received a second "
                "gradient in this iteration (a second backward through the model before the "
                "optimizer step?); use no_sync() for all but the last backward of an "
                "accumulation" % self._param_names[id(p)])
        b, i = self._where[id(p)]
        g = p.grad._data.reshape(-1)
        dst = b.flat[b.offsets[i]:b.offsets[i] + g.size]
        if not np.shares_memory(g, dst):
            dst[...] = g
        self.__dict__["_started"] = True
        self._mark_ready(p, b)

    def _mark_ready(self, p, b):
        self._ready.add(id(p))
        b.pending -= 1
        if b.pending:
            return
        last = len(self._ready) == len(self._where)
        if self.world_size > 1:
            t0 = time.perf_counter()
            if last:
                # nothing left to overlap with: the blocking all-reduce is Open MPI's faster
                # algorithm (0.94 MB on shared memory: 82 us against 168 us for Iallreduce)
                self._comm.Allreduce(self._MPI.IN_PLACE, b.flat, op=self._MPI.SUM)
            else:
                b.request = self._comm.Iallreduce(self._MPI.IN_PLACE, b.flat, op=self._MPI.SUM)
                # Open MPI progresses non-blocking collectives inside MPI calls: poke the
                # earlier buckets so they move while backward computes
                for other in self._buckets[:b.index]:
                    if other.request is not None:
                        other.request.Test()
            self.__dict__["_reduce_seconds"] += time.perf_counter() - t0
        if last:
            self._finish()

    def _finish(self):
        reqs = [b.request for b in self._buckets if b.request is not None]
        if reqs:
            t0 = time.perf_counter()
            self._MPI.Request.Waitall(reqs)
            self.__dict__["_reduce_seconds"] += time.perf_counter() - t0
        used_nowhere = set()
        if self._unused and self.world_size > 1:
            unused = {id(u) for u in self._unused}
            used = np.array([0 if id(p) in unused else 1
                             for b in self._buckets for p in b.params], dtype=np.int32)
            self._comm.Allreduce(self._MPI.IN_PLACE, used, op=self._MPI.SUM)
            k = 0
            for b in self._buckets:
                for p in b.params:
                    if used[k] == 0:
                        used_nowhere.add(id(p))
                    k += 1
        elif self._unused:
            used_nowhere = {id(p) for p in self._unused}
        inv = 1.0 / self.world_size
        for b in self._buckets:
            flat = b.flat
            if self.world_size > 1:
                np.multiply(flat, flat.dtype.type(inv), out=flat)
            for p, off in zip(b.params, b.offsets):
                if id(p) in used_nowhere:
                    continue          # PyTorch leaves the grad of a globally unused parameter alone
                view = flat[off:off + p._data.size].reshape(p.shape)
                if self.gradient_as_bucket_view:
                    p.grad = Tensor._wrap(view)
                elif p.grad is None:
                    p.grad = Tensor._wrap(view.copy())
                else:
                    p.grad._data[...] = view
        self._reset()

    def _reset(self):
        for b in self._buckets:
            b.pending = len(b.params)
            b.request = None
        self._ready.clear()
        d = self.__dict__
        d["_started"] = False
        d["_expect_hooks"] = False
        d["_unused"] = []

    @contextlib.contextmanager
    def no_sync(self):
        """Skip the all-reduce for backward passes of forwards run inside this block.

        Gradients accumulate locally in ``.grad``; the first backward of a forward
        run outside the block all-reduces the accumulated sum.

        Example:
            >>> with ddp.no_sync():
            ...     ddp(x1).sum().backward()      # local only
            >>> ddp(x2).sum().backward()          # averages the gradients of x1 and x2
        """
        prev = self.require_backward_grad_sync
        self.__dict__["require_backward_grad_sync"] = False
        try:
            yield
        finally:
            self.__dict__["require_backward_grad_sync"] = prev

    def extra_repr(self):
        return "world_size=%d, buckets=%d" % (self.world_size, len(self._buckets))


def _tensors(obj):
    if isinstance(obj, Tensor):
        if obj.requires_grad:
            yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
