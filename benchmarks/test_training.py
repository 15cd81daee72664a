"""pytest-benchmark groups for MNIST training throughput (see training.py).

Each benchmark round trains on 50 batches from the same initial weights; the
group compares fastdl with PyTorch (when installed) and plain NumPy. The full
table with test accuracy comes from `python benchmarks/training.py`.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import training  # noqa: E402

DATA = os.environ.get("FASTDL_DATA")
if not DATA or not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
    pytest.skip("MNIST files not found (set FASTDL_DATA to the folder of the IDX files)",
                allow_module_level=True)

_cache = {}


def data():
    if "d" not in _cache:
        _cache["d"] = training.load_mnist(DATA)
    return _cache["d"]


CASES = [("mlp", 128, 50), ("cnn", 64, 20)]


@pytest.mark.parametrize("fw", ["fastdl", "torch", "numpy"])
@pytest.mark.parametrize("kind, bs, nb", CASES)
def test_training_throughput(benchmark, kind, bs, nb, fw):
    if fw == "torch":
        pytest.importorskip("torch")
    if fw == "numpy" and kind == "cnn":
        nb = 5
    benchmark.group = "MNIST %s training, batch %d" % (kind.upper(), bs)
    x, y, _, _ = data()
    w0 = training.initial_weights(kind)
    run = training.RUNNERS[fw]
    sps = benchmark.pedantic(lambda: run(kind, w0, x, y, None, None, 1, bs, nb)[0],
                             rounds=3, iterations=1)
    benchmark.extra_info["samples_per_s"] = sps
