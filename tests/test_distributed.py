"""fastdl.distributed, DistributedDataParallel, DistributedSampler and the distributed Trainer.

The sampler's partitioning is pure Python and runs everywhere. The rest launches
``mpiexec -n 2`` and ``-n 3`` on loopback, running the worker scripts in
tests/distributed/; those tests skip, saying why, when mpi4py or mpiexec is missing
(``pip install "fastdl[mpi]"`` installs both).
"""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastdl
from fastdl.utils.data import DataLoader, TensorDataset
from fastdl.utils.data.distributed import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS = os.path.join(HERE, "distributed")
TIMEOUT = 180          # seconds per mpiexec run; generous: CI machines are shared


# ---- DistributedSampler: no MPI needed (num_replicas and rank given) -----------------------

def torch_rule(n, replicas, rank, drop_last, perm):
    """PyTorch's DistributedSampler.__iter__, written out on a given permutation."""
    idx = list(perm)
    if drop_last and n % replicas:
        num = -(-(n - replicas) // replicas)
    else:
        num = -(-n // replicas)
    total = num * replicas
    if not drop_last:
        pad = total - len(idx)
        if pad <= len(idx):
            idx += idx[:pad]
        else:
            idx += (idx * -(-pad // len(idx)))[:pad]
    else:
        idx = idx[:total]
    return idx[rank:total:replicas]


@pytest.mark.parametrize("n", [1, 2, 7, 10, 12, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_partition_matches_pytorch_rule(n, replicas, drop_last):
    # drop_last with n < replicas: nothing left for anyone (PyTorch: length 0)
    parts = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                               drop_last=drop_last)
        got = list(s)
        assert got == torch_rule(n, replicas, rank, drop_last, range(n))
        assert len(got) == len(s)
        parts.append(got)
    assert len({len(p) for p in parts}) == 1             # every rank: the same number
    flat = [i for p in parts for i in p]
    if drop_last:
        assert len(set(flat)) == len(flat) == (n // replicas) * replicas
    else:
        assert set(flat) == set(range(n))                 # everything, padded by repeats


def test_sampler_small_examples():
    # hand-computed: 10 samples over 3 ranks pad with the first 2 indices
    assert [list(DistributedSampler(range(10), 3, r, shuffle=False)) for r in range(3)] == \
        [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert [list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True))
            for r in range(3)] == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    # 2 samples over 5 ranks: padding repeats the data more than once
    assert [list(DistributedSampler(range(2), 5, r, shuffle=False)) for r in range(5)] == \
        [[0], [1], [0], [1], [0]]


def test_sampler_shuffle_seed_and_epoch():
    def parts(seed, epoch):
        out = []
        for r in range(3):
            s = DistributedSampler(range(20), num_replicas=3, rank=r, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    a = parts(0, 0)
    assert a == parts(0, 0)                                   # every rank draws the same perm
    flat = [i for p in a for i in p]
    assert set(flat) == set(range(20)) and len(flat) == 21
    assert a != parts(0, 1)                                   # set_epoch reshuffles
    assert a != parts(1, 0)                                   # so does the seed
    assert parts(1, 0) == parts(0, 1)                         # PyTorch keys on seed + epoch
    ordered = [list(DistributedSampler(range(20), 3, r, shuffle=False)) for r in range(3)]
    assert a != ordered
    # the global fastdl RNG plays no part: every rank gets the same order whatever it did
    fastdl.manual_seed(5)
    s = DistributedSampler(range(20), num_replicas=3, rank=0)
    first = list(s)
    fastdl.randn(10)
    assert list(s) == first


def test_sampler_with_dataloader_and_torch_path():
    ds = TensorDataset(fastdl.arange(10, dtype=fastdl.float32))
    s = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    got = [b[0].numpy().tolist() for b in DataLoader(ds, batch_size=2, sampler=s)]
    assert got == [[1.0, 3.0], [5.0, 7.0], [9.0]]
    from fastdl.utils import data
    assert data.DistributedSampler is DistributedSampler
    assert data.DataLoader is fastdl.data.DataLoader and data.Dataset is fastdl.data.Dataset


def test_sampler_bad_arguments():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="num_replicas must be >= 1"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="rank must be an int"):
        DistributedSampler(range(5), num_replicas=2, rank=0.5)
    import fastdl.distributed as dist
    if not dist.is_initialized():
        with pytest.raises(RuntimeError, match="init_process_group"):
            DistributedSampler(range(5))


def test_sampler_against_torch_when_installed():
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, replicas, drop_last in ((10, 3, False), (10, 3, True), (2, 5, False), (12, 4, False)):
        for r in range(replicas):
            ours = list(DistributedSampler(range(n), replicas, r, shuffle=False,
                                           drop_last=drop_last))
            theirs = list(TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
            assert ours == theirs, (n, replicas, r, drop_last)
            assert len(DistributedSampler(range(n), replicas, r, drop_last=drop_last)) == \
                len(TorchSampler(range(n), replicas, r, drop_last=drop_last))


# ---- without mpi4py ------------------------------------------------------------------------

def test_missing_mpi4py_names_the_extra(monkeypatch):
    import fastdl.distributed as dist
    monkeypatch.setitem(sys.modules, "mpi4py", None)         # import mpi4py -> ImportError
    with pytest.raises(ImportError, match=r'pip install "fastdl\[mpi\]"'):
        dist.init_process_group(backend="mpi")
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend='mpi' only"):
        dist.init_process_group(backend="gloo")


def test_ddp_needs_a_process_group():
    import fastdl.distributed as dist
    from fastdl.nn.parallel import DistributedDataParallel
    if dist.is_initialized():
        pytest.skip("a process group is already initialized in this process")
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedDataParallel(fastdl.nn.Linear(2, 2))


# ---- under mpiexec --------------------------------------------------------------------------

def _mpiexec():
    """(argv prefix, None) or (None, the reason the MPI tests cannot run)."""
    if importlib.util.find_spec("mpi4py") is None:
        return None, 'mpi4py is not installed (pip install "fastdl[mpi]")'
    exe = shutil.which("mpiexec") or shutil.which("mpiexec",
                                                  path=os.path.dirname(sys.executable))
    if exe is None:
        return None, 'mpiexec not found on PATH or beside python (pip install "fastdl[mpi]")'
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "mpiexec --version failed: %s" % e
    argv = [exe]
    if "Open MPI" in version or "OpenRTE" in version:
        argv += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv += ["--allow-run-as-root"]
    return argv, None


MPIEXEC, WHY = _mpiexec()
if MPIEXEC is None and os.environ.get("FASTDL_REQUIRE_MPI") == "1":
    # CI installs the mpi extra and sets this: the MPI tests must run there, not skip
    raise RuntimeError("FASTDL_REQUIRE_MPI=1 but the MPI tests cannot run: %s" % WHY)
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason=str(WHY))


def run_mpi(n, script, *args, timeout=TIMEOUT, env=None):
    """Run tests/distributed/<script> on n ranks; returns (returncode, output, seconds)."""
    e = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    e.update(env or {})
    cmd = MPIEXEC + ["-n", str(n), sys.executable, os.path.join(WORKERS, script)] + list(args)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=e, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail("mpiexec -n %d %s did not finish in %d s (a hang):\n%s"
                    % (n, script, timeout, out[-4000:]))
    return p.returncode, out, time.monotonic() - t0


DDP_CHECKS = ["collectives", "sampler", "ddp_broadcast_init", "ddp_grads_match_single_process",
              "ddp_overlap", "ddp_gradient_as_bucket_view", "ddp_training_matches_single_process", "ddp_no_sync", "ddp_unused_parameters",
              "ddp_buffers"]


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_sampler_and_ddp_under_mpiexec(n):
    rc, out, _ = run_mpi(n, "ddp_worker.py")
    assert rc == 0, out[-4000:]
    expect = DDP_CHECKS + (["ddp_grads_exact_two_ranks"] if n == 2 else [])
    for check in expect:
        assert "PASS %s\n" % check in out, "check %r did not pass on %d ranks:\n%s" \
            % (check, n, out[-4000:])


@needs_mpi
@pytest.mark.parametrize("mode", ["collective", "backward"])
def test_a_rank_that_raises_stops_every_rank(tmp_path, mode):
    rc, out, seconds = run_mpi(2, "fail_worker.py", str(tmp_path), mode, timeout=120,
                               env={"OMP_NUM_THREADS": "2"})
    # 2 ranks x 2 threads: init_process_group warns when that exceeds the cores
    assert ("ranks will preempt each other" in out) == (2 * 2 > (os.cpu_count() or 1)), out
    assert rc != 0, out
    expect = "bad input on rank 1" if mode == "collective" else "Linear"
    assert "rank 1 of 2 raised" in out and expect in out, out[-4000:]
    assert "finished normally" not in out
    pids = [int((tmp_path / ("rank%d.pid" % r)).read_text()) for r in range(2)]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids), "a rank is still running after the job failed"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:                                # a zombie has stopped running
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# ---- Trainer(distributed=True) ------------------------------------------------------------

def _result(d):
    import json
    with open(os.path.join(d, "result.json")) as f:
        return json.load(f)


@needs_mpi
def test_trainer_distributed_matches_one_rank_and_resumes_on_another_world_size(tmp_path):
    one, two, three = (tmp_path / "np1", tmp_path / "np2", tmp_path / "np3")
    for d in (one, two, three):
        d.mkdir()
    for n, d, extra in ((1, one, ()), (2, two, ()),
                        (3, three, (str(two / "ckpt-1.safetensors"),))):
        rc, out, _ = run_mpi(n, "trainer_worker.py", "train", str(d), *extra)
        assert rc == 0, out[-4000:]
        # rank 0 alone prints: one line per epoch (verbose=2), not one per rank
        for e in range(2 if extra else 1, 4):
            lines = [ln for ln in out.splitlines() if ln.startswith("Epoch %d/3 " % e)]
            assert len(lines) == 1 and "loss" in lines[0], out[-4000:]
    # files written once, by rank 0: checkpoints of every epoch and one CSV row per epoch
    assert sorted(p.name for p in two.iterdir()) == ["ckpt-1.safetensors", "ckpt-2.safetensors",
                                                     "ckpt-3.safetensors", "log.csv",
                                                     "result.json"]
    assert len((two / "log.csv").read_text().strip().splitlines()) == 1 + 3
    r1, r2, r3 = _result(one), _result(two), _result(three)
    assert (r1["world"], r2["world"], r3["world"]) == (1, 2, 3)
    # 2 ranks x 6 samples == 1 rank x 12, and 3 ranks resumed from the 2-rank checkpoint
    # of epoch 1 finish where the uninterrupted run did: only float sums differ
    for other in (r2, r3):
        for k, v in r1["state"].items():
            np.testing.assert_allclose(other["state"][k], v, rtol=1e-5, atol=1e-6, err_msg=k)
        np.testing.assert_allclose(other["history"]["loss"], r1["history"]["loss"], rtol=1e-5)
        np.testing.assert_allclose(other["history"]["val_loss"], r1["history"]["val_loss"],
                                   rtol=1e-5)
        assert other["history"]["val_accuracy"] == r1["history"]["val_accuracy"]
        assert other["history"]["accuracy"] == r1["history"]["accuracy"]
        assert abs(other["evaluate_loss"] - r1["evaluate_loss"]) < 1e-5


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_trainer_distributed_stops_on_every_rank_together(n, tmp_path):
    rc, out, _ = run_mpi(n, "trainer_worker.py", "stops", str(tmp_path))
    assert rc == 0, out[-4000:]
    assert "PASS stops" in out
    # the NaN sits in rank 1's data; every rank raises, at the same batch
    for r in range(n):
        assert ("rank %d stopped: FloatingPointError: fit: non-finite loss" % r) in out, out
    assert len({line.split("loss", 1)[1] for line in out.splitlines()
                if "stopped: FloatingPointError" in line}) == 1


def test_trainer_distributed_argument_is_checked():
    from fastdl.train.distributed import DataParallel, resolve
    assert resolve(False) is None and resolve(None) is None
    assert isinstance(resolve(True), DataParallel)
    with pytest.raises(TypeError, match="distributed must be True, False or a"):
        resolve("mpi")


def test_regression_moments_merge_like_one_stream():
    # the Trainer merges ranks' regression metric states with Chan's formula
    from fastdl.metrics import R2Score
    from fastdl.train.distributed import _merge_moments
    rng = np.random.default_rng(1)
    y = rng.standard_normal((50, 2)) * 3 + 100          # |mean| >> std: naive sums would fail
    p = y + rng.standard_normal((50, 2))
    whole, a, b = R2Score(), R2Score(), R2Score()
    whole.update(p, y)
    a.update(p[:17], y[:17])
    b.update(p[17:], y[17:])
    merged = a.state.copy()
    _merge_moments(merged, b.state)
    np.testing.assert_allclose(merged, whole.state, rtol=1e-12)
    a.state = merged
    assert abs(a.compute() - whole.compute()) < 1e-12
