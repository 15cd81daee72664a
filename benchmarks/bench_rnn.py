"""LSTM forward + backward: batch 32, sequence 50, input 256, hidden 256.

fastdl against PyTorch (when installed) at the same thread count: 1 thread
and fastdl's default count (both libraries set to it). Each round is one
forward of the whole sequence plus the backward through time of
output.sum(), with parameter gradients reset before it. The torch test runs
after the fastdl one with the same thread count and records the ratio
torch/fastdl of the medians in extra_info (> 1 means fastdl is faster); both
are also printed.

Run: PYTHONPATH=. python -m pytest benchmarks/bench_rnn.py --benchmark-only -s
"""
import numpy as np
import pytest

import fastdl
from fastdl._C import _core
from fastdl.nn.rnn import LSTM

B, T, I, H = 32, 50, 256, 256
GROUP = "LSTM fwd+bwd B=%d T=%d I=%d H=%d, %%d thread(s)" % (B, T, I, H)
_medians = {}
_DEFAULT_THREADS = _core.get_num_threads()
THREADS = sorted({1, _DEFAULT_THREADS})


@pytest.fixture(params=THREADS, ids=lambda n: "threads%d" % n)
def threads(request):
    old = _core.get_num_threads()
    _core.set_num_threads(request.param)
    yield request.param
    _core.set_num_threads(old)

# 2 GEMM flops per multiply-add: input projection, recurrent GEMMs; backward twice forward.
FLOPS = 3 * 2 * T * B * 4 * H * (I + H)


def _data():
    return np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)


def _report(name, nt, benchmark):
    if benchmark.stats is None:         # --benchmark-disable: ran once, nothing to report
        return
    med = benchmark.stats.stats.median
    _medians[name, nt] = med
    benchmark.extra_info["threads"] = nt
    benchmark.extra_info["gflops"] = FLOPS / med / 1e9
    line = "%s, %d thread(s): median %.2f ms, %.1f GFLOP/s" % (name, nt, med * 1e3,
                                                            FLOPS / med / 1e9)
    if name == "torch" and ("fastdl", nt) in _medians:
        ratio = med / _medians["fastdl", nt]
        benchmark.extra_info["torch_over_fastdl"] = ratio
        line += "; torch/fastdl = %.2f" % ratio
    print("\n" + line)


def test_fastdl_lstm_fwd_bwd(benchmark, threads):
    benchmark.group = GROUP % threads
    fastdl.manual_seed(0)
    m = LSTM(I, H)
    x = fastdl.Tensor(_data(), requires_grad=True)

    def step():
        m.zero_grad()
        x.grad = None
        y, _ = m(x)
        y.sum().backward()
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)
    _report("fastdl", threads, benchmark)


def test_torch_lstm_fwd_bwd(benchmark, threads):
    benchmark.group = GROUP % threads
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, H)
    x = torch.tensor(_data(), requires_grad=True)

    def step():
        m.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = m(x)
        y.sum().backward()
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)
    _report("torch", threads, benchmark)


@pytest.mark.benchmark(group="LSTM forward only (inference), same sizes")
def test_fastdl_lstm_forward_no_grad(benchmark):
    fastdl.manual_seed(0)
    m = LSTM(I, H)
    x = fastdl.Tensor(_data())

    def step():
        with fastdl.no_grad():
            m(x)
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)


@pytest.mark.benchmark(group="LSTM forward only (inference), same sizes")
def test_torch_lstm_forward_no_grad(benchmark):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(_DEFAULT_THREADS)
    m = torch.nn.LSTM(I, H)
    x = torch.tensor(_data())

    def step():
        with torch.no_grad():
            m(x)
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)


@pytest.mark.benchmark(group="LSTM fwd+bwd, fastdl and torch interleaved (paired ratio)")
def test_paired_fastdl_torch_ratio(benchmark, threads):
    """Alternate one fastdl round and one torch round, so both see the same
    machine load (the separate groups above run minutes apart, and a shared
    machine's load drifts). Records each library's median and the ratio."""
    import time
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    fastdl.manual_seed(0)
    torch.manual_seed(0)
    fm, tm = LSTM(I, H), torch.nn.LSTM(I, H)
    xf = fastdl.Tensor(_data(), requires_grad=True)
    xt = torch.tensor(_data(), requires_grad=True)
    times = {"fastdl": [], "torch": []}

    def f_step():
        fm.zero_grad()
        xf.grad = None
        y, _ = fm(xf)
        y.sum().backward()

    def t_step():
        tm.zero_grad(set_to_none=True)
        xt.grad = None
        y, _ = tm(xt)
        y.sum().backward()

    def pair():
        for name, fn in (("fastdl", f_step), ("torch", t_step)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    benchmark.pedantic(pair, rounds=20, warmup_rounds=2, iterations=1)
    if len(times["fastdl"]) < 3:        # --benchmark-disable: ran once, nothing to report
        return
    fmed, tmed = np.median(times["fastdl"][2:]), np.median(times["torch"][2:])
    benchmark.extra_info.update(threads=threads, fastdl_median_ms=fmed * 1e3,
                                torch_median_ms=tmed * 1e3, torch_over_fastdl=tmed / fmed)
    print("\npaired, %d thread(s): fastdl median %.2f ms, torch median %.2f ms, "
          "torch/fastdl = %.2f" % (threads, fmed * 1e3, tmed * 1e3, tmed / fmed))
