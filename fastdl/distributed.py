"""fastdl.distributed: processes that train together over MPI, with torch.distributed's names.

Start the processes with MPI's launcher; each one calls ``init_process_group`` and
learns its rank and the world size from the MPI environment::

    mpiexec -n 4 python train.py

    import fastdl.distributed as dist
    dist.init_process_group(backend="mpi")
    print(dist.get_rank(), dist.get_world_size())

The collectives (``all_reduce``, ``broadcast``, ``all_gather``,
``all_gather_into_tensor``, ``barrier``) are thin wrappers over mpi4py's
buffer interface (the upper-case ``Allreduce``, ``Bcast``, ...): they hand
MPI the Tensor's memory, so nothing is copied or pickled. Tensors must be
contiguous. MPI is loaded only by ``init_process_group``; without mpi4py the
module imports and ``is_available()`` is False.

Failure: after ``init_process_group`` an exception that no one catches in any
rank prints its traceback and then aborts the whole MPI job (``MPI_Abort``),
so the other ranks stop instead of waiting forever in their next collective.
``destroy_process_group`` removes that hook.
"""
import os
import sys
import warnings

import numpy as np

from fastdl.tensor import Tensor

__all__ = ["is_available", "is_mpi_available", "init_process_group", "is_initialized",
           "destroy_process_group", "get_rank", "get_world_size", "get_backend", "barrier",
           "ReduceOp", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "Work", "abort"]

_MISSING = ('fastdl.distributed needs mpi4py and an MPI library; install them with '
            'pip install "fastdl[mpi]" (mpi4py and Open MPI from pip)')


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("%s (%s)" % (_MISSING, e)) from e
    return MPI


def is_available():
    """True when mpi4py can be imported (MPI itself is loaded by init_process_group)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


class _State:
    comm = None          # a duplicate of COMM_WORLD: our messages never meet the user's
    MPI = None
    prev_excepthook = None


_state = _State()


def _comm(group, what):
    if group is not None:
        raise ValueError("%s: only the default process group (group=None) is supported, got %r"
                         % (what, group))
    if _state.comm is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return _state.comm


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the MPI job this process was started in (``mpiexec -n N python ...``).

    Args:
        backend: "mpi" (or None, which means "mpi"); the only backend fastdl has.
        world_size, rank: -1 (taken from MPI) or the values MPI gives, else ValueError.
        init_method, timeout, store, group_name, pg_options, device_id: accepted for
            PyTorch compatibility; MPI's launcher does the rendezvous.

    A plain ``python train.py`` (no mpiexec) is a world of one process.

    Example:
        >>> import fastdl.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.get_world_size()
        1
    """
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError("init_process_group: fastdl supports backend='mpi' only, got %r"
                         % (backend,))
    if _state.comm is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD.Dup()
    for name, given, actual in (("world_size", world_size, comm.Get_size()),
                                ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and int(given) != actual:
            comm.Free()
            raise ValueError("init_process_group: %s=%r but the MPI job says %d (with "
                             "backend='mpi' rank and world size come from mpiexec)"
                             % (name, given, actual))
    _state.MPI, _state.comm = MPI, comm
    _state.prev_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught
    _check_threads(MPI, comm)


def _check_threads(MPI, comm):
    """Warn (once per machine) when the ranks' OpenMP threads outnumber its cores."""
    from fastdl.config import get_num_threads
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    local, local_rank = node.Get_size(), node.Get_rank()
    node.Free()
    threads, cores = get_num_threads(), os.cpu_count() or 1
    if local > 1 and local * threads > cores and local_rank == 0:
        warnings.warn("init_process_group: %d ranks on this machine x %d OpenMP threads each "
                      "> %d cores; the ranks will preempt each other. Set OMP_NUM_THREADS=%d "
                      "(or fastdl.set_num_threads) so that ranks x threads <= cores"
                      % (local, threads, cores, max(1, cores // local)), RuntimeWarning,
                      stacklevel=3)


def _abort_on_uncaught(exc_type, exc, tb):
    """Print the error, then abort the job so no other rank waits for this one forever."""
    prev = _state.prev_excepthook or sys.__excepthook__
    comm = _state.comm
    if comm is None or comm.Get_size() == 1 or issubclass(exc_type, KeyboardInterrupt):
        prev(exc_type, exc, tb)
        return
    sys.stderr.write("fastdl.distributed: rank %d of %d raised %s: %s; aborting all ranks\n"
                     % (comm.Get_rank(), comm.Get_size(), exc_type.__name__, exc))
    prev(exc_type, exc, tb)
    sys.stderr.flush()
    sys.stdout.flush()
    comm.Abort(1)


def abort(errorcode=1):
    """Stop every process of the job now (MPI_Abort); for errors found outside Python's hook."""
    _comm(None, "abort").Abort(errorcode)


def is_initialized():
    return _state.comm is not None


def destroy_process_group(group=None):
    """Leave the process group (MPI itself is finalized when Python exits)."""
    comm = _comm(group, "destroy_process_group")
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _state.prev_excepthook
    _state.comm = None
    comm.Free()


def get_rank(group=None):
    return _comm(group, "get_rank").Get_rank()


def get_world_size(group=None):
    return _comm(group, "get_world_size").Get_size()


def get_backend(group=None):
    _comm(group, "get_backend")
    return "mpi"


class ReduceOp:
    """Reduction operations, torch.distributed.ReduceOp's names.

    AVG is SUM followed by a division by the world size (floating tensors only).
    """
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"


_MPI_OPS = {"sum": "SUM", "product": "PROD", "min": "MIN", "max": "MAX", "band": "BAND",
            "bor": "BOR", "bxor": "BXOR", "avg": "SUM"}


def _mpi_op(op, what):
    name = _MPI_OPS.get(op)
    if name is None:
        raise ValueError("%s: unknown op %r; use a fastdl.distributed.ReduceOp member" % (what, op))
    return getattr(_state.MPI, name)


def _buffer(tensor, what, name="tensor"):
    """The tensor's own memory, checked: MPI reads and writes it in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError("%s: expected a fastdl Tensor for %s, got %s"
                        % (what, name, type(tensor).__name__))
    a = tensor._data
    if not a.flags.c_contiguous:
        raise ValueError("%s: Tensors must be contiguous (got strides %s for shape %s); "
                         "call .contiguous() first" % (what, a.strides, a.shape))
    if not a.flags.writeable:
        raise ValueError("%s: the tensor's memory is read-only" % what)
    if a.dtype.kind not in "fiub":
        raise TypeError("%s: unsupported dtype %s" % (what, a.dtype))
    return a


class Work:
    """Handle of an async collective (async_op=True): wait() finishes it."""

    def __init__(self, request, after=None):
        self._request, self._after, self._done = request, after, False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._finish()
        return self._done

    def wait(self, timeout=None):
        if not self._done:
            self._request.Wait()
            self._finish()
        return True

    def _finish(self):
        self._done = True
        if self._after is not None:
            self._after()


def _run(blocking, nonblocking, async_op, after=None):
    if async_op:
        return Work(nonblocking(), after)
    blocking()
    if after is not None:
        after()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks, in place: every rank gets the result.

    Args:
        tensor: a contiguous Tensor, the same shape and dtype on every rank.
        op: a ReduceOp (SUM by default; AVG divides the sum by the world size).
        async_op: return a Work handle instead of waiting.

    Example:
        >>> t = fastdl.tensor([float(dist.get_rank())])
        >>> dist.all_reduce(t)          # t = 0 + 1 + ... + (world_size - 1) on every rank
    """
    comm = _comm(group, "all_reduce")
    a = _buffer(tensor, "all_reduce")
    mop = _mpi_op(op, "all_reduce")
    after = None
    if op == ReduceOp.AVG:
        if a.dtype.kind != "f":
            raise TypeError("all_reduce: ReduceOp.AVG needs a floating tensor, got %s" % a.dtype)
        n = comm.Get_size()
        after = lambda: np.multiply(a, a.dtype.type(1.0 / n), out=a)
    IN_PLACE = _state.MPI.IN_PLACE
    return _run(lambda: comm.Allreduce(IN_PLACE, a, op=mop),
                lambda: comm.Iallreduce(IN_PLACE, a, op=mop), async_op, after)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` into the same tensor on every rank (in place)."""
    comm = _comm(group, "broadcast")
    a = _buffer(tensor, "broadcast")
    if not 0 <= src < comm.Get_size():
        raise ValueError("broadcast: src must be a rank in [0, %d), got %r"
                         % (comm.Get_size(), src))
    return _run(lambda: comm.Bcast(a, root=src), lambda: comm.Ibcast(a, root=src),
                async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` along dim 0 into ``output_tensor``.

    Shapes:
        input (N, ...) on every rank, output (world_size * N, ...); zero-copy both ways.
    """
    comm = _comm(group, "all_gather_into_tensor")
    a = _buffer(input_tensor, "all_gather_into_tensor", "input_tensor")
    out = _buffer(output_tensor, "all_gather_into_tensor", "output_tensor")
    n = comm.Get_size()
    if out.dtype != a.dtype or out.size != a.size * n:
        raise ValueError("all_gather_into_tensor: output must have world_size (%d) times the "
                         "input's %d elements and its dtype %s, got %d elements of %s"
                         % (n, a.size, a.dtype, out.size, out.dtype))
    return _run(lambda: comm.Allgather(a, out), lambda: comm.Iallgather(a, out), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor`` (PyTorch's all_gather).

    ``tensor`` is sent from its own memory; the results arrive in one
    contiguous block and are copied out to the list's tensors once
    (``all_gather_into_tensor`` avoids even that copy).
    """
    comm = _comm(group, "all_gather")
    a = _buffer(tensor, "all_gather")
    n = comm.Get_size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        raise ValueError("all_gather: tensor_list must be a list of world_size (%d) tensors, "
                         "got %r" % (n, type(tensor_list).__name__ if not isinstance(
                             tensor_list, (list, tuple)) else len(tensor_list)))
    outs = [_buffer(t, "all_gather", "tensor_list[%d]" % i) for i, t in enumerate(tensor_list)]
    for i, o in enumerate(outs):
        if o.shape != a.shape or o.dtype != a.dtype:
            raise ValueError("all_gather: tensor_list[%d] has shape %s %s, expected %s %s like "
                             "the input" % (i, o.shape, o.dtype, a.shape, a.dtype))
    block = np.empty((n,) + a.shape, dtype=a.dtype)

    def scatter():
        for i, o in enumerate(outs):
            o[...] = block[i]

    return _run(lambda: comm.Allgather(a, block), lambda: comm.Iallgather(a, block),
                async_op, scatter)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    comm = _comm(group, "barrier")
    return _run(comm.Barrier, comm.Ibarrier, async_op)
