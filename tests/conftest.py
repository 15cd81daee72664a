"""Shared fixtures: a seeded NumPy generator and a fixture running a test on
every kernel ISA this CPU supports.

The `isa` fixture is for tests of code that dispatches on the ISA
(csrc/runtime/dispatch.c: the elementwise and reduction rows, activation and
softmax rows, optimizer steps, RNN float32 rows, sgemm micro-kernels and the
FMA peak probe). Every test that takes it, as a fixture or as a parameter
named `isa`, gets the `isa` marker: CI's `FASTDL_ISA=generic pytest -m isa`
reruns exactly those tests, on the portable path only.
"""
import os

# The test process is an application: it picks the OpenMP wait policy the
# README recommends (fastdl itself never sets it), before libgomp loads.
# libgomp's default spin makes the threaded tests crawl on a shared machine.
if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
    os.environ["GOMP_SPINCOUNT"] = "1000"
# NumPy's float64 oracles are small products; OpenBLAS's own threads, spinning
# against fastdl's on a shared 2-core machine, made one 29x1100 @ 1100x45
# reference take 0.2 s instead of 70 us. Single-threaded before NumPy loads.
if not {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"} & set(os.environ):
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fastdl  # noqa: E402
from fastdl._C import _core  # noqa: E402

_ORDER = ("generic", "avx2", "avx512")


def available_isas():
    """Every ISA this CPU runs; only the forced one when FASTDL_ISA is set.

    CI's `FASTDL_ISA=generic` rerun is there for the portable path: running
    the ISA-parametrized tests on the other ISAs again would only repeat the
    first run.
    """
    if os.environ.get("FASTDL_ISA"):
        return (_core.get_isa(),)
    best = _core.detected_isa()
    return _ORDER[:_ORDER.index(best) + 1]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "isa: the test checks code that dispatches on the ISA; it runs once per "
        "ISA this CPU supports (only the forced one under FASTDL_ISA)")


def pytest_collection_modifyitems(config, items):
    """Mark the ISA-parametrized tests; under FASTDL_ISA drop the variants
    that name another ISA (a test parametrized over ISA names itself)."""
    forced = _core.get_isa() if os.environ.get("FASTDL_ISA") else None
    keep, dropped = [], []
    for item in items:
        if "isa" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.isa)
            param = getattr(getattr(item, "callspec", None), "params", {}).get("isa")
            if forced and param is not None and param != forced:
                dropped.append(item)
                continue
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def rng():
    """A NumPy Generator with a fixed seed, so failures reproduce."""
    return np.random.default_rng(12345)


@pytest.fixture
def step_both_paths(rng):
    """step(opt_cls, shapes, **kw) -> ((opt, params), (twin, twin_params)): two optimizers
    over equal float32 parameters of these shapes, given the same random gradients for 3
    steps; opt takes its own step() (a multi-tensor call where it has one), twin the base
    class's per-parameter loop (Optimizer._step_group)."""
    from fastdl import optim

    def step(opt_cls, shapes, **kw):
        a = [fastdl.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
             for s in shapes]
        b = [fastdl.tensor(p.detach().numpy().copy(), requires_grad=True) for p in a]
        oa, ob = opt_cls(a, **kw), opt_cls(b, **kw)
        for _ in range(3):
            for pa, pb in zip(a, b):
                g = rng.standard_normal(pa.shape).astype(np.float32)
                pa.grad, pb.grad = fastdl.tensor(g), fastdl.tensor(g.copy())
            oa.step()
            for group in ob.param_groups:
                optim.Optimizer._step_group(ob, group)
        return (oa, a), (ob, b)

    return step


@pytest.fixture(params=available_isas())
def isa(request):
    """Run the test with the kernel path forced to each ISA the CPU supports."""
    prev = _core.get_isa()
    _core.set_isa(request.param)
    try:
        yield request.param
    finally:
        _core.set_isa(prev)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Each test starts with grad mode on and leaves threads and ISA as found."""
    threads = fastdl.get_num_threads()
    isa_before = _core.get_isa()
    grad = fastdl.is_grad_enabled()
    yield
    fastdl.set_num_threads(threads)
    if _core.get_isa() != isa_before:
        _core.set_isa(isa_before)
    fastdl.set_grad_enabled(grad)


def to_np(t):
    """A float64 copy of a Tensor's values (for references)."""
    return np.asarray(t.detach().numpy(), dtype=np.float64)


@pytest.fixture
def run_isolated(tmp_path):
    """Run Python code in a child process, so a crash or hang fails one test
    instead of killing the suite. Returns the CompletedProcess; the child's
    exit code, stdout and stderr are in the failure message."""
    import os
    import subprocess
    import sys
    import textwrap

    def run(code, timeout=120, env=None, check=True):
        full_env = dict(os.environ)
        full_env.update(env or {})
        try:
            # cwd outside the checkout: the child imports the installed fastdl
            r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path,
                               capture_output=True, text=True, timeout=timeout, env=full_env)
        except subprocess.TimeoutExpired as e:
            pytest.fail("child process hung (no exit after %ss)\nstdout:\n%s\nstderr:\n%s"
                        % (timeout, e.stdout, e.stderr))
        if check and r.returncode != 0:
            pytest.fail("child process failed with exit code %d\nstdout:\n%s\nstderr:\n%s"
                        % (r.returncode, r.stdout, r.stderr[-4000:]))
        return r
    return run
