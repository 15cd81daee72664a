"""Data pipeline throughput: is the loader ever the bottleneck?

The MNIST MLP trains at about 100k samples/s, so one epoch of batches
(60000 x 784 float32, batch 128, shuffled) must be produced far faster than
that. fastdl's DataLoader (one C gather per array per batch) is compared with
a NumPy loader using fancy indexing, and with PyTorch's DataLoader when
installed. Augmentation kernels are timed on a (128, 1, 28, 28) batch.
Each test reports batches/s and samples/s (from the median round) in
extra_info, and share_of_mlp_step: the time to produce a batch over the time
the MLP spends training on it at 100k samples/s.

On a machine shared with other jobs, OpenMP's default spin-waiting can turn
every 2-thread fork/join into a scheduler time slice; compare with
OMP_WAIT_POLICY=passive before reading the threaded kernels' numbers.

    pytest benchmarks/bench_data.py --benchmark-columns=min,median,rounds
"""
import numpy as np
import pytest

import fastdl
from fastdl.data import DataLoader, TensorDataset
from fastdl.data import transforms as T

N, D, B = 60000, 784, 128
MLP_SAMPLES_PER_S = 100_000     # MNIST MLP training speed (DESIGN.md); the loader must beat it
N_BATCHES = -(-N // B)


@pytest.fixture(scope="module")
def mnist_sized():
    rng = np.random.default_rng(0)
    x = rng.random((N, D), dtype=np.float32)
    y = rng.integers(0, 10, N).astype(np.int64)
    return x, y


def _report(benchmark, samples, batches):
    """Rates from the median round (the machine may be shared; the min is kept too)."""
    st = benchmark.stats.stats
    benchmark.extra_info["samples_per_s"] = round(samples / st.median)
    benchmark.extra_info["batches_per_s"] = round(batches / st.median)
    benchmark.extra_info["samples_per_s_best"] = round(samples / st.min)
    # share of an MLP training step that producing its batch would cost
    benchmark.extra_info["share_of_mlp_step"] = round(MLP_SAMPLES_PER_S * st.median / samples, 4)


def _epoch(loader):
    n = 0
    for _ in loader:
        n += 1
    return n


@pytest.mark.benchmark(group="loader: one shuffled epoch, 60000x784 f32, batch 128")
def test_fastdl_dataloader_epoch(benchmark, mnist_sized):
    loader = DataLoader(TensorDataset(*mnist_sized), batch_size=B, shuffle=True)
    assert benchmark(_epoch, loader) == N_BATCHES
    _report(benchmark, N, N_BATCHES)
    benchmark.extra_info["GB_per_s_gathered"] = round(
        N * (D * 4 + 8) / benchmark.stats.stats.median / 1e9, 2)


@pytest.mark.benchmark(group="loader: one shuffled epoch, 60000x784 f32, batch 128")
def test_fastdl_dataloader_epoch_1_thread(benchmark, mnist_sized):
    loader = DataLoader(TensorDataset(*mnist_sized), batch_size=B, shuffle=True)
    prev = fastdl.get_num_threads()
    fastdl.set_num_threads(1)
    try:
        assert benchmark(_epoch, loader) == N_BATCHES
    finally:
        fastdl.set_num_threads(prev)
    _report(benchmark, N, N_BATCHES)
    benchmark.extra_info["GB_per_s_gathered"] = round(
        N * (D * 4 + 8) / benchmark.stats.stats.median / 1e9, 2)


@pytest.mark.benchmark(group="loader: one shuffled epoch, 60000x784 f32, batch 128")
def test_numpy_fancy_index_loader_epoch(benchmark, mnist_sized):
    x, y = mnist_sized
    rng = np.random.default_rng(0)

    def epoch():
        perm = rng.permutation(N)
        n = 0
        for start in range(0, N, B):
            idx = perm[start:start + B]
            x[idx], y[idx]
            n += 1
        return n
    assert benchmark(epoch) == N_BATCHES
    _report(benchmark, N, N_BATCHES)
    benchmark.extra_info["GB_per_s_gathered"] = round(
        N * (D * 4 + 8) / benchmark.stats.stats.median / 1e9, 2)


@pytest.mark.benchmark(group="loader: one shuffled epoch, 60000x784 f32, batch 128")
def test_torch_dataloader_epoch(benchmark, mnist_sized):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TDL, TensorDataset as TDS
    ds = TDS(torch.from_numpy(mnist_sized[0]), torch.from_numpy(mnist_sized[1]))
    loader = TDL(ds, batch_size=B, shuffle=True)
    assert benchmark(_epoch, loader) == N_BATCHES
    _report(benchmark, N, N_BATCHES)
    benchmark.extra_info["GB_per_s_gathered"] = round(
        N * (D * 4 + 8) / benchmark.stats.stats.median / 1e9, 2)


# ---- augmentation of one batch ----------------------------------------------------

@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(1).random((B, 1, 28, 28), dtype=np.float32)


AUGMENTS = {
    "rotation": lambda: T.RandomRotation(15, seed=0),
    "crop_pad2": lambda: T.RandomCrop(28, padding=2, seed=0),
    "hflip": lambda: T.RandomHorizontalFlip(seed=0),
    "noise": lambda: T.GaussianNoise(0.1, seed=0),
}


@pytest.mark.benchmark(group="augment: one (128, 1, 28, 28) batch")
@pytest.mark.parametrize("name", list(AUGMENTS))
def test_fastdl_augment(benchmark, batch, name):
    t = AUGMENTS[name]()
    benchmark(t, batch)
    _report(benchmark, B, 1)


@pytest.mark.benchmark(group="augment: one (128, 1, 28, 28) batch")
def test_numpy_crop_pad2(benchmark, batch):
    rng = np.random.default_rng(0)

    def crop(x):
        p = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
        off = rng.integers(0, 5, size=(len(x), 2))
        return np.stack([p[i, :, t:t + 28, l:l + 28] for i, (t, l) in enumerate(off)])
    benchmark(crop, batch)
    _report(benchmark, B, 1)


@pytest.mark.benchmark(group="augment: one (128, 1, 28, 28) batch")
def test_numpy_noise(benchmark, batch):
    rng = np.random.default_rng(0)
    benchmark(lambda x: x + rng.standard_normal(x.shape, dtype=np.float32) * 0.1, batch)
    _report(benchmark, B, 1)
