"""One optimizer step over 10M float32 parameters: fastdl's fused kernels against a
NumPy implementation and, when installed, torch.optim (fused=True where it runs on
the CPU, else foreach=True).

Each test records in extra_info the bytes one step moves per parameter (counted as
STREAM counts: each array read once and written once; Adam reads p, g, m, v and
writes p, m, v = 28 bytes) and the resulting GB/s at the median time. The memory
bound of this machine is measured in the same run by `test_fastdl_sgd_plain`: SGD
without momentum is p += -lr * g, a STREAM-triad-shaped loop (12 bytes/param).

Run: pytest benchmarks/bench_optim.py --benchmark-columns=median,min,max
"""
import numpy as np
import pytest

import fastdl
from fastdl import optim

N = 10_000_000
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def _data(seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(N, dtype=np.float32)
    g = rng.standard_normal(N, dtype=np.float32)
    return p, g


def _record(benchmark, bytes_per_param, impl):
    med = benchmark.stats.stats.median
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["bytes_per_param"] = bytes_per_param
    benchmark.extra_info["median_ms"] = round(med * 1e3, 3)
    benchmark.extra_info["GB/s"] = round(bytes_per_param * N / med / 1e9, 2)


def _fastdl_opt(cls, **kw):
    p, g = _data()
    w = fastdl.tensor(p, requires_grad=True)
    w.grad = fastdl.tensor(g)
    opt = cls([w], **kw)
    opt.step()  # create the state outside the timing
    return opt


def _torch_opt(torch, cls, **kw):
    p, g = _data()
    w = torch.nn.Parameter(torch.from_numpy(p))
    w.grad = torch.from_numpy(g)
    for flag in ("fused", "foreach"):
        try:
            opt = cls([w], **kw, **{flag: True})
            opt.step()
            return opt, flag
        except (RuntimeError, ValueError, TypeError):
            continue
    opt = cls([w], **kw)
    opt.step()
    return opt, "single-tensor"


# ---- Adam -------------------------------------------------------------------------

ADAM = "optim step: Adam, 10M float32 params (28 B/param)"


@pytest.mark.benchmark(group=ADAM)
def test_fastdl_adam(benchmark):
    opt = _fastdl_opt(optim.Adam, lr=LR)
    benchmark(opt.step)
    _record(benchmark, 28, "fastdl fused C")


def _numpy_adam_state():
    p, g = _data()
    return dict(p=p, g=g, m=np.zeros_like(p), v=np.zeros_like(p), tmp=np.empty_like(p), t=[0])


def _numpy_adam_step(s, weight_decay=0.0, decoupled=False):
    # A careful NumPy Adam: in place, one scratch array, no per-step allocation.
    p, g, m, v, tmp = s["p"], s["g"], s["m"], s["v"], s["tmp"]
    s["t"][0] += 1
    t = s["t"][0]
    if decoupled:
        p *= np.float32(1 - LR * weight_decay)
    np.multiply(g, np.float32(1 - B1), out=tmp)
    m *= np.float32(B1)
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= np.float32(1 - B2)
    v *= np.float32(B2)
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= np.float32(np.sqrt(1 - B2 ** t))
    tmp += np.float32(EPS)
    np.divide(m, tmp, out=tmp)
    tmp *= np.float32(-LR / (1 - B1 ** t))
    p += tmp


@pytest.mark.benchmark(group=ADAM)
def test_numpy_adam(benchmark):
    s = _numpy_adam_state()
    benchmark(_numpy_adam_step, s)
    _record(benchmark, 28, "numpy, in place")


@pytest.mark.benchmark(group=ADAM)
def test_torch_adam(benchmark):
    torch = pytest.importorskip("torch")
    opt, how = _torch_opt(torch, torch.optim.Adam, lr=LR)
    benchmark(opt.step)
    _record(benchmark, 28, "torch.optim.Adam " + how)


# ---- AdamW ------------------------------------------------------------------------

ADAMW = "optim step: AdamW, 10M float32 params (28 B/param)"


@pytest.mark.benchmark(group=ADAMW)
def test_fastdl_adamw(benchmark):
    opt = _fastdl_opt(optim.AdamW, lr=LR, weight_decay=1e-2)
    benchmark(opt.step)
    _record(benchmark, 28, "fastdl fused C")


@pytest.mark.benchmark(group=ADAMW)
def test_numpy_adamw(benchmark):
    s = _numpy_adam_state()
    benchmark(_numpy_adam_step, s, 1e-2, True)
    _record(benchmark, 28, "numpy, in place")


@pytest.mark.benchmark(group=ADAMW)
def test_torch_adamw(benchmark):
    torch = pytest.importorskip("torch")
    opt, how = _torch_opt(torch, torch.optim.AdamW, lr=LR, weight_decay=1e-2)
    benchmark(opt.step)
    _record(benchmark, 28, "torch.optim.AdamW " + how)


# ---- SGD with momentum --------------------------------------------------------------

SGDM = "optim step: SGD momentum=0.9, 10M float32 params (20 B/param)"


@pytest.mark.benchmark(group=SGDM)
def test_fastdl_sgd_momentum(benchmark):
    opt = _fastdl_opt(optim.SGD, lr=0.01, momentum=0.9)
    benchmark(opt.step)
    _record(benchmark, 20, "fastdl fused C")


@pytest.mark.benchmark(group=SGDM)
def test_numpy_sgd_momentum(benchmark):
    p, g = _data()
    buf = g.copy()
    tmp = np.empty_like(p)

    def step():
        np.multiply(buf, np.float32(0.9), out=buf)
        np.add(buf, g, out=buf)
        np.multiply(buf, np.float32(-0.01), out=tmp)
        np.add(p, tmp, out=p)
    benchmark(step)
    _record(benchmark, 20, "numpy, in place")


@pytest.mark.benchmark(group=SGDM)
def test_torch_sgd_momentum(benchmark):
    torch = pytest.importorskip("torch")
    opt, how = _torch_opt(torch, torch.optim.SGD, lr=0.01, momentum=0.9)
    benchmark(opt.step)
    _record(benchmark, 20, "torch.optim.SGD " + how)


# ---- the memory bound, measured ------------------------------------------------------

BOUND = "memory bound: p += -lr * g (triad-shaped, 12 B/param)"


@pytest.mark.benchmark(group=BOUND)
def test_fastdl_sgd_plain(benchmark):
    opt = _fastdl_opt(optim.SGD, lr=1e-9)
    benchmark(opt.step)
    _record(benchmark, 12, "fastdl SGD, no momentum")
