"""LSTM forward + backward: batch 32, sequence 50, input 256, hidden 256.

fastdl against PyTorch (when installed) at the same thread count. Each round
is one forward of the whole sequence plus the backward through time of
output.sum(), with parameter gradients reset before it. The torch test runs
after the fastdl one and records the ratio torch/fastdl of the medians in
extra_info (> 1 means fastdl is faster); both are also printed.

Run: PYTHONPATH=. python -m pytest benchmarks/bench_rnn.py --benchmark-only -s
"""
import numpy as np
import pytest

import fastdl
from fastdl._C import _core
from fastdl.nn.rnn import LSTM

B, T, I, H = 32, 50, 256, 256
GROUP = "LSTM fwd+bwd B=%d T=%d I=%d H=%d" % (B, T, I, H)
_medians = {}

# 2 GEMM flops per multiply-add: input projection, recurrent GEMMs; backward twice forward.
FLOPS = 3 * 2 * T * B * 4 * H * (I + H)


def _data():
    return np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)


def _report(name, benchmark):
    med = benchmark.stats.stats.median
    _medians[name] = med
    benchmark.extra_info["gflops"] = FLOPS / med / 1e9
    line = "%s: median %.2f ms, %.1f GFLOP/s" % (name, med * 1e3, FLOPS / med / 1e9)
    if name == "torch" and "fastdl" in _medians:
        ratio = med / _medians["fastdl"]
        benchmark.extra_info["torch_over_fastdl"] = ratio
        line += "; torch/fastdl = %.2f" % ratio
    print("\n" + line)


@pytest.mark.benchmark(group=GROUP)
def test_fastdl_lstm_fwd_bwd(benchmark):
    fastdl.manual_seed(0)
    m = LSTM(I, H)
    x = fastdl.Tensor(_data(), requires_grad=True)

    def step():
        m.zero_grad()
        x.grad = None
        y, _ = m(x)
        y.sum().backward()
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)
    _report("fastdl", benchmark)


@pytest.mark.benchmark(group=GROUP)
def test_torch_lstm_fwd_bwd(benchmark):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(_core.get_num_threads())
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, H)
    x = torch.tensor(_data(), requires_grad=True)

    def step():
        m.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = m(x)
        y.sum().backward()
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)
    benchmark.extra_info["threads"] = torch.get_num_threads()
    _report("torch", benchmark)


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
    torch.set_num_threads(_core.get_num_threads())
    m = torch.nn.LSTM(I, H)
    x = torch.tensor(_data())

    def step():
        with torch.no_grad():
            m(x)
    benchmark.pedantic(step, rounds=20, warmup_rounds=2, iterations=1)
