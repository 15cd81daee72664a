"""fastdl.data: gather kernel, DataLoader, augmentation, splits, scalers, datasets.

Kernels are checked against NumPy oracles (fancy indexing, np.rot90/np.flip,
a float64 bilinear rotation, a padded-slice crop); randomness against
reproducibility, thread-count independence and simple statistics.
"""
import gzip
import os
import shutil

import numpy as np
import pytest

import fastdl
import fastdl.datasets
from fastdl._C import data as cdata
from fastdl.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, KFold, MinMaxScaler,
                         RandomSampler, SequentialSampler, StandardScaler, Subset,
                         SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                         default_collate, one_hot,
                         random_split, train_test_split, train_val_test_split)
from fastdl.data import transforms as T
from fastdl.data import datasets as D

MNIST_DIR = os.environ.get("FASTDL_DATA") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "mnist")
if not os.path.isdir(MNIST_DIR):
    MNIST_DIR = "/work/shared/data/mnist"
HAVE_MNIST = os.path.isfile(os.path.join(MNIST_DIR, "train-images-idx3-ubyte.gz"))
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason="MNIST IDX files not found in %s"
                                 % MNIST_DIR)


@pytest.fixture(autouse=True)
def _restore():
    threads = fastdl.get_num_threads()
    state = fastdl.get_rng_state()
    yield
    fastdl.set_num_threads(threads)
    fastdl.set_rng_state(state)


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def with_threads(n, fn):
    prev = fastdl.get_num_threads()
    fastdl.set_num_threads(n)
    try:
        return fn()
    finally:
        fastdl.set_num_threads(prev)


# ---- gather ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64, np.float32,
                                   np.float64, np.bool_, np.complex128])
@pytest.mark.parametrize("shape", [(37,), (37, 1), (37, 3), (37, 5, 7), (37, 0)])
def test_gather_matches_fancy_indexing(dtype, shape, rng):
    x = (rng.standard_normal(shape) * 50).astype(dtype)
    idx = rng.integers(-37, 37, size=23)
    got = cdata.gather_rows(x, idx)
    np.testing.assert_array_equal(got, x[idx])
    assert got.dtype == x.dtype and got.shape == (23,) + shape[1:]


def test_gather_odd_item_sizes(rng):
    for nbytes in (3, 12, 17, 3136):
        x = rng.integers(0, 256, size=(40, nbytes), dtype=np.uint8).view(
            np.dtype((np.void, nbytes))).reshape(40)
        idx = rng.integers(0, 40, size=31)
        assert cdata.gather_rows(x, idx).tobytes() == x[idx].tobytes()


def test_gather_strided_sources(rng):
    x = rng.standard_normal((60, 10)).astype(np.float32)
    idx = rng.integers(0, 30, size=50)
    np.testing.assert_array_equal(cdata.gather_rows(x[::2], idx), x[::2][idx])
    np.testing.assert_array_equal(cdata.gather_rows(x[:, ::3], idx), x[:, ::3][idx])
    np.testing.assert_array_equal(cdata.gather_rows(x.T.copy().T, idx), x[idx])
    np.testing.assert_array_equal(cdata.gather_rows(x[::-1], idx), x[::-1][idx])


def test_gather_large_threaded_matches(rng):
    x = rng.standard_normal((6000, 784)).astype(np.float32)
    idx = rng.permutation(6000)[:2048]
    one = with_threads(1, lambda: cdata.gather_rows(x, idx))
    two = with_threads(2, lambda: cdata.gather_rows(x, idx))
    np.testing.assert_array_equal(one, x[idx])
    np.testing.assert_array_equal(two, x[idx])


def test_gather_empty_rows_still_checks_indices():
    x = np.zeros((4, 0), np.float32)
    assert cdata.gather_rows(x, [3, -4]).shape == (2, 0)
    with pytest.raises(IndexError, match="out of bounds"):
        cdata.gather_rows(x, [4])


def test_gather_empty_and_out(rng):
    x = rng.standard_normal((5, 3))
    assert cdata.gather_rows(x, np.array([], dtype=np.int64)).shape == (0, 3)
    out = np.empty((2, 3))
    assert cdata.gather_rows(x, [4, 0], out=out) is out
    np.testing.assert_array_equal(out, x[[4, 0]])
    with pytest.raises(ValueError, match="out must be"):
        cdata.gather_rows(x, [1], out=np.empty((2, 3)))


@pytest.mark.parametrize("bad", [10, -11, 1 << 40])
def test_gather_out_of_range_raises(bad):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    out = np.full((3, 3), -1.0, dtype=np.float32)
    with pytest.raises(IndexError, match="index %d is out of bounds for 10 rows" % bad):
        cdata.gather_rows(x, [0, bad, 1], out=out)
    assert (out == -1).all()          # nothing written before the check


def test_gather_rejects_bad_input():
    with pytest.raises(TypeError, match="integers"):
        cdata.gather_rows(np.zeros((3, 2)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="Python objects"):
        cdata.gather_rows(np.array([object()] * 3), [0])
    with pytest.raises(ValueError, match="1-D"):
        cdata.gather_rows(np.zeros((3, 2)), np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="0-d"):
        cdata.gather_rows(np.array(1.0, dtype=np.float32), [0])


# ---- DataLoader ------------------------------------------------------------------

def make_ds(n=103, d=5):
    x = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


@pytest.mark.parametrize("n,bs", [(103, 10), (100, 10), (5, 8), (1, 1), (128, 128)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_batch_count(n, bs, drop_last):
    dl = DataLoader(make_ds(n), batch_size=bs, drop_last=drop_last)
    want = n // bs if drop_last else -(-n // bs)
    batches = list(dl)
    assert len(dl) == want == len(batches)
    sizes = [len(b[0]) for b in batches]
    assert all(s == bs for s in sizes[:-1])
    if batches:
        assert sizes[-1] == (bs if drop_last or n % bs == 0 else n % bs)


def test_loader_sequential_order_and_types():
    ds = make_ds(23)
    batches = list(DataLoader(ds, batch_size=5))
    assert isinstance(batches[0], list) and len(batches[0]) == 2
    xb, yb = batches[0]
    assert isinstance(xb, fastdl.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    ys = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(ys, np.arange(23))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]),
                                  ds.tensors[0])


def epoch_labels(dl):
    return np.concatenate([b[1].numpy() for b in dl])


def test_loader_shuffle_each_sample_once_and_seeded():
    ds = make_ds(1000)
    fastdl.manual_seed(7)
    dl = DataLoader(ds, batch_size=64, shuffle=True)
    e1, e2 = epoch_labels(dl), epoch_labels(dl)
    for e in (e1, e2):
        np.testing.assert_array_equal(np.sort(e), np.arange(1000))
    assert not np.array_equal(e1, np.arange(1000))
    assert not np.array_equal(e1, e2)               # a new order every epoch
    fastdl.manual_seed(7)
    dl2 = DataLoader(ds, batch_size=64, shuffle=True)
    np.testing.assert_array_equal(epoch_labels(dl2), e1)
    np.testing.assert_array_equal(epoch_labels(dl2), e2)
    # the rows still belong together
    for xb, yb in DataLoader(ds, batch_size=64, shuffle=True):
        np.testing.assert_array_equal(xb.numpy(), ds.tensors[0][yb.numpy()])


def test_loader_int_generator_ignores_global_state():
    ds = make_ds(200)
    fastdl.manual_seed(1)
    a = epoch_labels(DataLoader(ds, batch_size=32, shuffle=True, generator=5))
    fastdl.manual_seed(2)
    b = epoch_labels(DataLoader(ds, batch_size=32, shuffle=True, generator=5))
    c = epoch_labels(DataLoader(ds, batch_size=32, shuffle=True, generator=6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_loader_state_dict_replays_epoch():
    ds = make_ds(100)
    dl = DataLoader(ds, batch_size=10, shuffle=True, generator=3)
    epoch_labels(dl)
    state = dl.state_dict()
    nxt = epoch_labels(dl)
    dl.load_state_dict(state)
    np.testing.assert_array_equal(epoch_labels(dl), nxt)


class _NoGetItem(TensorDataset):
    def __getitem__(self, i):
        raise AssertionError("the fast path must not index samples one by one")


def test_loader_fast_path_has_no_per_sample_loop():
    x = np.random.default_rng(0).standard_normal((300, 4)).astype(np.float32)
    y = np.arange(300)
    got = epoch_labels(DataLoader(_NoGetItem(x, y), batch_size=32, shuffle=True))
    np.testing.assert_array_equal(np.sort(got), y)


def test_loader_subset_of_tensor_dataset_uses_gather():
    ds = make_ds(50)
    sub = Subset(_NoGetItem(*ds.tensors), np.arange(10, 40, 3))
    got = epoch_labels(DataLoader(sub, batch_size=4))
    np.testing.assert_array_equal(got, np.arange(10, 40, 3))


def test_loader_tensor_inputs():
    x = fastdl.randn(40, 3)
    y = fastdl.arange(40)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=8)))
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:8])
    np.testing.assert_array_equal(yb.numpy(), np.arange(8))


class DictDataset(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full(3, i, dtype=np.float32), "y": i, "w": float(i) / 2, "name": "s%d" % i}


def test_loader_generic_dataset_default_collate():
    batches = list(DataLoader(DictDataset(), batch_size=3))
    assert len(batches) == 3
    b = batches[0]
    assert b["x"].shape == (3, 3) and b["x"].dtype == np.float32
    np.testing.assert_array_equal(b["y"].numpy(), [0, 1, 2])
    assert b["y"].dtype == np.int64 and b["w"].dtype == np.float64
    assert b["name"] == ["s0", "s1", "s2"]
    assert batches[-1]["x"].shape == (1, 3)


def test_default_collate_tuples_and_tensors():
    out = default_collate([(fastdl.ones(2), 1), (fastdl.zeros(2), 0)])
    assert isinstance(out, list) and out[0].shape == (2, 2)
    np.testing.assert_array_equal(out[1].numpy(), [1, 0])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])


def test_loader_custom_collate_and_samplers():
    ds = make_ds(20)
    dl = DataLoader(ds, batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(dl) == [4] * 5
    sub = SubsetRandomSampler([1, 3, 5, 7], generator=0)
    got = epoch_labels(DataLoader(ds, batch_size=3, sampler=sub))
    assert sorted(got.tolist()) == [1, 3, 5, 7]
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    dl = DataLoader(ds, batch_sampler=[[0, 19], [5]])
    assert [b[1].numpy().tolist() for b in dl] == [[0, 19], [5]]
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 20 and single[3][1].item() == 3
    rs = RandomSampler(range(10), replacement=True, num_samples=25, generator=1)
    draws = list(rs)
    assert len(draws) == 25 and min(draws) >= 0 and max(draws) < 10
    assert sorted(RandomSampler(range(10), num_samples=15, generator=1))[:10] != list(range(10))


def test_weighted_random_sampler():
    w = np.array([1.0, 0.0, 3.0, 6.0])
    draws = np.array(list(WeightedRandomSampler(w, 20000, generator=0)))
    freq = np.bincount(draws, minlength=4) / 20000
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.015)
    no_rep = list(WeightedRandomSampler(w, 3, replacement=False, generator=1))
    assert sorted(no_rep) == [0, 2, 3]
    firsts = [next(iter(WeightedRandomSampler(w, 1, replacement=False, generator=s)))
              for s in range(600)]
    assert abs(np.mean(np.array(firsts) == 3) - 0.6) < 0.07
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(w, 4, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    ds = make_ds(4)
    got = epoch_labels(DataLoader(ds, batch_size=8, sampler=WeightedRandomSampler(w, 16,
                                                                               generator=2)))
    assert len(got) == 16 and 1 not in got


def test_loader_argument_errors():
    ds = make_ds(10)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_concat_and_random_split():
    a, b = make_ds(5), make_ds(7)
    cat = ConcatDataset([a, b])
    assert len(cat) == 12 and cat[5][1] == 0 and cat[-1][1] == 6
    parts = random_split(make_ds(10), [7, 3], generator=0)
    idx = np.concatenate([np.asarray(p.indices) for p in parts])
    assert [len(p) for p in parts] == [7, 3] and sorted(idx.tolist()) == list(range(10))
    assert [len(p) for p in random_split(make_ds(10), [0.5, 0.5], generator=0)] == [5, 5]


# ---- augmentation ------------------------------------------------------------------

def images(rng, n=6, c=2, h=9, w=9):
    return rng.standard_normal((n, c, h, w)).astype(np.float32)


def rotate_ref(img, deg, fill=0.0):
    """float64 bilinear rotation of one (C, H, W) image, counter-clockwise about the centre."""
    c, h, w = img.shape
    th = np.deg2rad(deg)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xs - cx, ys - cy
    sx = cx + dx * np.cos(th) - dy * np.sin(th)
    sy = cy + dx * np.sin(th) + dy * np.cos(th)
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    ax, ay = sx - x0, sy - y0
    padded = np.pad(img.astype(np.float64), ((0, 0), (2, 2), (2, 2)), constant_values=fill)

    def tap(yy, xx):
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        v = padded[:, np.clip(yy, -2, h + 1) + 2, np.clip(xx, -2, w + 1) + 2]
        return np.where(inside, v, fill)

    out = (tap(y0, x0) * (1 - ax) * (1 - ay) + tap(y0, x0 + 1) * ax * (1 - ay)
           + tap(y0 + 1, x0) * (1 - ax) * ay + tap(y0 + 1, x0 + 1) * ax * ay)
    far = (x0 < -1) | (x0 >= w) | (y0 < -1) | (y0 >= h)
    return np.where(far, fill, out)


@pytest.mark.parametrize("size", [8, 9])
def test_rotate_quarter_turns_match_rot90(size, rng):
    x = images(rng, n=4, h=size, w=size)
    out = cdata.rotate(x, np.array([0, 90, 180, 270], np.float32))
    for k in range(4):
        np.testing.assert_allclose(out[k], np.rot90(x[k], k, axes=(1, 2)), atol=1e-6)
    np.testing.assert_array_equal(out[0], x[0])      # 0 degrees is an exact copy


def test_rotate_matches_bilinear_reference(rng):
    x = images(rng, n=5, c=3, h=11, w=14)
    angles = np.array([13.0, -37.5, 45.0, 121.0, -170.0], np.float32)
    out = cdata.rotate(x, angles, fill=0.5)
    for i in range(5):
        np.testing.assert_allclose(out[i], rotate_ref(x[i], float(angles[i]), 0.5), atol=2e-5)


def test_random_rotation_zero_range_identity_and_angle_range(rng):
    x = images(rng)
    np.testing.assert_array_equal(T.RandomRotation((0, 0))(x), x)
    rot = T.RandomRotation(30, seed=1)
    rot(images(rng, n=500, c=1, h=4, w=4))
    a = rot.last_params
    assert a.shape == (500,) and a.min() >= -30 and a.max() < 30 and a.std() > 10


def test_random_rotation_fill_in_corners():
    x = np.ones((1, 1, 21, 21), np.float32)
    out = T.RandomRotation((45, 45), fill=-3.0)(x)
    assert out[0, 0, 0, 0] == -3.0 and out[0, 0, 10, 10] == 1.0


@pytest.mark.parametrize("cls,axis", [(T.RandomHorizontalFlip, 3), (T.RandomVerticalFlip, 2)])
def test_flips(cls, axis, rng):
    x = images(rng, n=40, h=5, w=7)
    once = cls(p=1.0)(x)
    np.testing.assert_array_equal(once, np.flip(x, axis))
    np.testing.assert_array_equal(cls(p=1.0)(once), x)
    np.testing.assert_array_equal(cls(p=0.0)(x), x)
    t = cls(p=0.5, seed=3)
    out = t(x)
    flags = t.last_params
    assert 0 < flags.sum() < 40
    for i in range(40):
        np.testing.assert_array_equal(out[i], np.flip(x[i], axis - 1) if flags[i] else x[i])


def test_flip_probability_is_p(rng):
    t = T.RandomHorizontalFlip(p=0.3, seed=11)
    t(np.zeros((20000, 1, 1, 2), np.float32))
    assert abs(t.last_params.mean() - 0.3) < 0.02      # ~6 standard errors


def crop_ref(x, offsets, size, pads, fill=0.0):
    pt, pb, pl, pr = pads
    p = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    return np.stack([p[i, :, t:t + size[0], l:l + size[1]] for i, (t, l) in enumerate(offsets)])


@pytest.mark.parametrize("size,padding,pads", [
    (9, 2, (2, 2, 2, 2)), ((5, 7), None, (0, 0, 0, 0)), ((9, 9), (1, 3), (3, 3, 1, 1)),
    ((11, 10), (1, 2, 3, 4), (2, 4, 1, 3)), (13, 2, (2, 2, 2, 2))])
def test_random_crop_matches_padded_slice(size, padding, pads, rng):
    x = images(rng, n=30, c=3, h=9, w=9)
    t = T.RandomCrop(size, padding=padding, fill=0.25, seed=4)
    out = t(x)
    sz = (size, size) if isinstance(size, int) else size
    off = t.last_params
    assert off.shape == (30, 2)
    assert off[:, 0].max() <= 9 + pads[0] + pads[1] - sz[0] and off.min() >= 0
    np.testing.assert_array_equal(out, crop_ref(x, off, sz, pads, 0.25))
    np.testing.assert_array_equal(cdata.crop(x, off, sz, padding, 0.25), out)


def test_random_crop_offsets_cover_all_windows():
    t = T.RandomCrop(4, padding=1, seed=0)
    t(np.zeros((4000, 1, 4, 4), np.float32))
    counts = np.zeros((3, 3))
    np.add.at(counts, (t.last_params[:, 0], t.last_params[:, 1]), 1)
    assert counts.min() > 4000 / 9 * 0.8 and counts.max() < 4000 / 9 * 1.2


def test_crop_errors(rng):
    with pytest.raises(ValueError, match="does not fit"):
        T.RandomCrop(12, padding=1)(images(rng))
    with pytest.raises(ValueError, match="inside the padded"):
        cdata.crop(images(rng, n=1), [[5, 0]], (9, 9), 2)


def test_gaussian_noise_moments_and_keying():
    x = np.zeros((100, 1, 100, 100), np.float32)
    t = T.GaussianNoise(0.5, seed=9)
    noise = t(x)
    assert abs(noise.mean()) < 0.002 and abs(noise.std() - 0.5) < 0.002
    assert abs(((noise / 0.5) ** 4).mean() - 3.0) < 0.03
    # sample i's noise depends only on (key, i): a smaller batch sees the same prefix
    small = T.GaussianNoise(0.5, seed=9)(x[:7])
    np.testing.assert_array_equal(small, noise[:7])
    np.testing.assert_array_equal(T.GaussianNoise(0.0)(x + 1), x + 1)


ALL_RANDOM = [lambda: T.RandomRotation(25, seed=1), lambda: T.RandomHorizontalFlip(seed=1),
              lambda: T.RandomVerticalFlip(seed=1), lambda: T.RandomCrop(28, padding=3, seed=1),
              lambda: T.GaussianNoise(0.2, seed=1)]


@pytest.mark.parametrize("make", ALL_RANDOM)
def test_augmentation_thread_count_independent(make, rng):
    # large enough to thread: > 4 MiB, the copy kernels' serial threshold
    x = rng.standard_normal((1500, 1, 28, 28)).astype(np.float32)
    one = with_threads(1, lambda: make()(x))
    two = with_threads(2, lambda: make()(x))
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("make", ALL_RANDOM)
def test_augmentation_seeded(make, rng):
    x = rng.standard_normal((16, 2, 28, 28)).astype(np.float32)
    t = make()
    a, b = t(x), t(x)
    assert not np.array_equal(a, b)             # each call takes a new key
    np.testing.assert_array_equal(make()(x), a)  # same seed, same output


def test_augmentation_global_seed_and_kinds(rng):
    x = rng.standard_normal((8, 1, 10, 10)).astype(np.float32)
    aug = T.Compose([T.RandomCrop(10, padding=2), T.RandomRotation(15), T.GaussianNoise(0.1)])
    fastdl.manual_seed(3)
    a = aug(x)
    fastdl.manual_seed(3)
    b = aug(fastdl.from_numpy(x))
    assert isinstance(b, fastdl.Tensor) and isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, b.numpy())
    single = T.RandomHorizontalFlip(p=1.0)(x[0])
    np.testing.assert_array_equal(single, x[0][:, :, ::-1])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.RandomHorizontalFlip()(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="p must be"):
        T.RandomVerticalFlip(p=1.5)
    norm = T.Normalize([1.0], [2.0])(np.full((2, 1, 2, 2), 5.0, np.float32))
    np.testing.assert_array_equal(norm, np.full((2, 1, 2, 2), 2.0, np.float32))


# ---- splits --------------------------------------------------------------------------

@pytest.mark.parametrize("n,test_size,train_size,want", [
    (10, None, None, (7, 3)), (10, 0.25, None, (7, 3)), (10, 0.3, None, (7, 3)),
    (10, None, 0.55, (5, 5)), (10, 4, None, (6, 4)), (10, None, 6, (6, 4)),
    (10, 0.2, 0.5, (5, 2)), (7, 0.5, None, (3, 4))])
def test_train_test_split_sizes(n, test_size, train_size, want):
    X = np.arange(n)
    tr, te = train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    assert (len(tr), len(te)) == want
    assert not set(tr) & set(te)


def test_train_test_split_matches_sklearn_sizes():
    ms = pytest.importorskip("sklearn.model_selection")
    for n in (10, 33, 101):
        for ts, trs in [(None, None), (0.1, None), (0.33, None), (None, 0.6), (5, None),
                        (0.2, 0.3), (None, 7)]:
            X = np.arange(n)
            ours = train_test_split(X, test_size=ts, train_size=trs, random_state=0)
            theirs = ms.train_test_split(X, test_size=ts, train_size=trs, random_state=0)
            assert [len(a) for a in ours] == [len(a) for a in theirs], (n, ts, trs)


def test_train_test_split_kinds_order_and_seed():
    X = np.arange(40).reshape(20, 2)
    y = fastdl.arange(20)
    names = ["s%d" % i for i in range(20)]
    Xtr, Xte, ytr, yte, ntr, nte = train_test_split(X, y, names, test_size=0.25, random_state=1)
    assert isinstance(Xtr, np.ndarray) and isinstance(ytr, fastdl.Tensor) and isinstance(ntr, list)
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr.numpy())
    assert ntr == ["s%d" % i for i in ytr.numpy()]
    assert sorted(ytr.numpy().tolist() + yte.numpy().tolist()) == list(range(20))
    again = train_test_split(X, test_size=0.25, random_state=1)
    np.testing.assert_array_equal(again[0], Xtr)
    other = train_test_split(X, test_size=0.25, random_state=2)
    assert not np.array_equal(other[0], Xtr)
    tr, te = train_test_split(np.arange(10), shuffle=False, test_size=3)
    np.testing.assert_array_equal(tr, np.arange(7))
    np.testing.assert_array_equal(te, [7, 8, 9])


def test_train_test_split_stratify_keeps_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.arange(100)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(yte).tolist() == [12, 6, 2]
    assert np.bincount(ytr).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(y[Xte], yte)
    assert not set(Xtr) & set(Xte)


def test_stratify_matches_sklearn_counts():
    ms = pytest.importorskip("sklearn.model_selection")
    y = np.repeat([0, 1, 2, 3], [37, 21, 9, 5])
    for ts in (0.15, 0.3, 0.5, 11):
        ours = train_test_split(y, test_size=ts, stratify=y, random_state=0)
        theirs = ms.train_test_split(y, test_size=ts, stratify=y, random_state=0)
        for a, b in zip(ours, theirs):
            assert len(a) == len(b)
            assert np.abs(np.bincount(a, minlength=4) - np.bincount(b, minlength=4)).max() <= 1


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_test_split(np.arange(5), np.arange(6))
    with pytest.raises(ValueError, match="test_size=1.5"):
        train_test_split(np.arange(5), test_size=1.5)
    with pytest.raises(ValueError, match="only 1 member"):
        train_test_split(np.arange(6), stratify=[0, 0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="shuffle=False"):
        train_test_split(np.arange(6), stratify=[0, 0, 0, 1, 1, 1], shuffle=False)
    with pytest.raises(ValueError, match="At least one array"):
        train_test_split()


def test_train_val_test_split():
    y = np.repeat([0, 1], [80, 20])
    X = np.arange(100)
    Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val_size=0.2, test_size=0.1,
                                                        stratify=y, random_state=0)
    assert (len(Xtr), len(Xva), len(Xte)) == (70, 20, 10)
    assert sorted(np.concatenate([Xtr, Xva, Xte]).tolist()) == list(range(100))
    assert np.bincount(yva).tolist() == [16, 4] and np.bincount(yte).tolist() == [8, 2]
    np.testing.assert_array_equal(y[Xva], yva)
    with pytest.raises(ValueError, match="no training samples"):
        train_val_test_split(X, val_size=0.5, test_size=0.5)


@pytest.mark.parametrize("n,k", [(10, 3), (12, 4), (7, 7), (100, 5)])
def test_kfold_covers_each_index_once(n, k):
    folds = list(KFold(k).split(np.zeros((n, 2))))
    assert len(folds) == k
    tests = np.concatenate([te for _, te in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))
    for tr, te in folds:
        assert len(tr) + len(te) == n and not set(tr) & set(te)
    assert [len(te) for _, te in folds] == [n // k + (i < n % k) for i in range(k)]
    shuffled = list(KFold(k, shuffle=True, random_state=0).split(np.zeros(n)))
    np.testing.assert_array_equal(np.sort(np.concatenate([te for _, te in shuffled])),
                                  np.arange(n))
    again = list(KFold(k, shuffle=True, random_state=0).split(np.zeros(n)))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(shuffled, again))


def test_kfold_matches_sklearn_unshuffled():
    ms = pytest.importorskip("sklearn.model_selection")
    X = np.zeros(23)
    for (a, b), (c, d) in zip(KFold(4).split(X), ms.KFold(4).split(X)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_kfold_errors():
    with pytest.raises(ValueError, match="at least one train/test split"):
        KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(np.zeros(3)))


# ---- preprocessing ----------------------------------------------------------------

def test_minmax_scaler_formulas_and_round_trip(rng):
    X = rng.standard_normal((50, 4)) * [1, 10, 100, 0] + [0, 5, -3, 7]
    s = MinMaxScaler(feature_range=(-1, 2)).fit(X)
    lo, hi = X.min(0), X.max(0)
    rng_ = np.where(hi - lo == 0, 1, hi - lo)
    np.testing.assert_allclose(s.data_min_, lo)
    np.testing.assert_allclose(s.data_max_, hi)
    np.testing.assert_allclose(s.scale_, 3 / rng_)
    Xt = s.transform(X)
    np.testing.assert_allclose(Xt, (X - lo) / rng_ * 3 - 1)
    np.testing.assert_allclose(Xt[:, :3].min(0), -1)
    np.testing.assert_allclose(Xt[:, :3].max(0), 2)
    np.testing.assert_allclose(s.inverse_transform(Xt), X)
    X32 = X.astype(np.float32)
    out = MinMaxScaler().fit_transform(fastdl.from_numpy(X32))
    assert isinstance(out, fastdl.Tensor) and out.dtype == np.float32


def test_standard_scaler_formulas_and_round_trip(rng):
    X = rng.standard_normal((80, 3)) * [2, 0.5, 0] + [1, -4, 3]
    s = StandardScaler().fit(X)
    np.testing.assert_allclose(s.mean_, X.mean(0))
    np.testing.assert_allclose(s.var_, X.var(0))
    np.testing.assert_allclose(s.scale_, np.where(X.std(0) == 0, 1, X.std(0)))
    Xt = s.transform(X)
    np.testing.assert_allclose(Xt.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Xt[:, :2].std(0), 1)
    np.testing.assert_allclose(s.inverse_transform(Xt), X)
    s2 = StandardScaler(with_mean=False).fit(X)
    np.testing.assert_allclose(s2.transform(X), X / s2.scale_)
    s3 = StandardScaler(with_std=False).fit(X)
    assert s3.var_ is None and s3.scale_ is None
    np.testing.assert_allclose(s3.transform(X), X - X.mean(0))


def test_scalers_fit_on_train_only(rng):
    Xtr = rng.standard_normal((30, 2))
    Xte = rng.standard_normal((10, 2)) + 5
    s = StandardScaler().fit(Xtr)
    np.testing.assert_allclose(s.transform(Xte), (Xte - Xtr.mean(0)) / Xtr.std(0))


def test_scalers_match_sklearn(rng):
    pp = pytest.importorskip("sklearn.preprocessing")
    X = rng.standard_normal((40, 5)) * [1, 2, 3, 0, 5]
    Xte = rng.standard_normal((7, 5))
    for ours, theirs, attrs in [
            (MinMaxScaler((0, 1)), pp.MinMaxScaler((0, 1)),
             ["data_min_", "data_max_", "data_range_", "scale_", "min_"]),
            (StandardScaler(), pp.StandardScaler(), ["mean_", "var_", "scale_"]),
            (StandardScaler(with_mean=False), pp.StandardScaler(with_mean=False),
             ["var_", "scale_"])]:
        ours.fit(X)
        theirs.fit(X)
        for a in attrs:
            np.testing.assert_allclose(getattr(ours, a), getattr(theirs, a), rtol=1e-12)
        np.testing.assert_allclose(ours.transform(Xte), theirs.transform(Xte), rtol=1e-12)
        assert ours.n_features_in_ == theirs.n_features_in_ == 5


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expecting 2 features"):
        MinMaxScaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        StandardScaler().fit(np.zeros(5))
    with pytest.raises(ValueError, match="feature range"):
        MinMaxScaler((1, 0)).fit(np.zeros((2, 1)))


def test_one_hot():
    out = one_hot(np.array([[0, 2], [1, 1]]), 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.int64
    np.testing.assert_array_equal(out.argmax(-1), [[0, 2], [1, 1]])
    assert out.sum() == 4
    t = one_hot(fastdl.tensor([3, 0]), dtype=np.float32)
    assert isinstance(t, fastdl.Tensor) and t.shape == (2, 4) and t.dtype == np.float32
    with pytest.raises(ValueError, match="smaller than num_classes"):
        one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        one_hot(np.array([-1]), 3)
    with pytest.raises(TypeError, match="integers"):
        one_hot(np.array([0.5]), 3)


# ---- datasets --------------------------------------------------------------------

@needs_mnist
def test_mnist_real_files():
    x, y = fastdl.datasets.mnist(MNIST_DIR, "train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.int64
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert sorted(np.unique(y).tolist()) == list(range(10))
    assert abs(x.mean() / 255 - 0.1307) < 1e-3
    xt, yt = fastdl.datasets.mnist(MNIST_DIR, "test")
    assert xt.shape == (10000, 28, 28) and yt[:5].tolist() == [7, 2, 1, 0, 4]
    assert yt.min() == 0 and yt.max() == 9
    ds = D.mnist_dataset(MNIST_DIR, "test", flatten=True)
    xb, yb = next(iter(DataLoader(ds, batch_size=100)))
    assert xb.shape == (100, 784) and xb.dtype == np.float32
    assert float(xb.numpy().max()) <= 1.0 and float(xb.numpy().min()) >= 0.0
    np.testing.assert_allclose(xb.numpy()[0], xt[0].ravel() / 255.0, rtol=1e-6)


def _copy_split(tmp_path, name, data):
    with gzip.open(tmp_path / name, "wb", compresslevel=1) as f:
        f.write(data)


@needs_mnist
def test_mnist_corrupted_magic_raises(tmp_path):
    for fn in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(MNIST_DIR, fn), tmp_path / fn)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "rb") as f:
        raw = bytearray(f.read())
    raw[2] = 0x42                                   # unknown type byte
    _copy_split(tmp_path, "t10k-images-idx3-ubyte.gz", bytes(raw))
    with pytest.raises(ValueError, match="bad IDX magic number"):
        fastdl.datasets.mnist(tmp_path, "test", download=False)
    raw[2] = 0x08
    raw[3] = 0x01                                   # a labels magic on the images file
    _copy_split(tmp_path, "t10k-images-idx3-ubyte.gz", bytes(raw))
    with pytest.raises(ValueError, match="expected 3"):
        fastdl.datasets.mnist(tmp_path, "test", download=False)
    raw[3] = 0x03
    _copy_split(tmp_path, "t10k-images-idx3-ubyte.gz", bytes(raw[:-100]))
    with pytest.raises(ValueError, match="size mismatch"):
        fastdl.datasets.mnist(tmp_path, "test", download=False)
    _copy_split(tmp_path, "t10k-images-idx3-ubyte.gz", bytes(raw))
    assert fastdl.datasets.mnist(tmp_path, "test", download=False)[0].shape == (10000, 28, 28)


def test_mnist_missing_files_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        fastdl.datasets.mnist(tmp_path, "train", download=False)
    monkeypatch.setattr(D, "_reachable", lambda url, timeout=3.0: False)
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        fastdl.datasets.fashion_mnist(tmp_path, "test")
    with pytest.raises(ValueError, match="split"):
        fastdl.datasets.mnist(tmp_path, "valid")


def test_read_idx_roundtrip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + \
        arr.tobytes()
    (tmp_path / "x-idx3-ubyte").write_bytes(raw)
    np.testing.assert_array_equal(D.read_idx(tmp_path / "x-idx3-ubyte"), arr)


def test_load_digits():
    """The bundled UCI digits: no scikit-learn, no network."""
    x, y = D.load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and sorted(set(y.tolist())) == list(range(10))
    assert D.load_digits(flatten=True)[0].shape == (1797, 64)


def test_load_digits_without_sklearn(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    x, y = D.load_digits()
    assert x.shape == (1797, 8, 8) and np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182,
                                                                    181, 179, 174, 180]


GENERATORS = [
    (lambda rs: D.make_classification(200, 6, n_informative=3, n_redundant=1, n_classes=3,
                                      random_state=rs), (200, 6)),
    (lambda rs: D.make_regression(150, 8, n_informative=3, noise=0.1, random_state=rs), (150, 8)),
    (lambda rs: D.make_moons(101, noise=0.1, random_state=rs), (101, 2)),
    (lambda rs: D.make_spirals(99, 3, random_state=rs), (99, 2)),
]


@pytest.mark.parametrize("gen,shape", GENERATORS)
def test_generators_shapes_and_determinism(gen, shape):
    X, y = gen(0)
    assert X.shape == shape and X.dtype == np.float32 and len(y) == shape[0]
    X2, y2 = gen(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = gen(1)
    assert not np.array_equal(X, X3)
    fastdl.manual_seed(5)
    a = gen(None)[0]
    fastdl.manual_seed(5)
    np.testing.assert_array_equal(gen(None)[0], a)


def test_generator_contents():
    X, y = D.make_moons(200, noise=None, random_state=0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1, atol=1e-6)
    X, y, w = D.make_regression(60, 5, n_informative=2, bias=3.0, coef=True, random_state=0)
    np.testing.assert_allclose(y, X.astype(np.float64) @ w + 3.0, rtol=1e-4, atol=1e-3)
    assert (w != 0).sum() == 2
    X, y = D.make_classification(3000, 4, n_informative=2, n_redundant=0, n_classes=2,
                                 n_clusters_per_class=1, class_sep=3.0, flip_y=0,
                                 random_state=0)
    assert np.bincount(y).tolist() == [1500, 1500]
    gap = np.abs(X[y == 0, :2].mean(0) - X[y == 1, :2].mean(0))
    assert gap.max() > 3.0                       # the classes sit on different vertices
    X, y = D.make_spirals(300, 3, noise=0.0, random_state=0)
    assert np.bincount(y).tolist() == [100] * 3
    assert np.hypot(*X.T).max() <= 1.0 + 1e-6


def test_fastdl_datasets_module_exports():
    for name in D.__all__:
        assert getattr(fastdl.datasets, name) is getattr(D, name)


@needs_mnist
def test_mnist_download_verifies_md5(tmp_path, monkeypatch):
    """Download from a local HTTP mirror: a good copy is kept, a bad md5 is refused."""
    import functools
    import http.server
    import threading
    serve = tmp_path / "mirror"
    serve.mkdir()
    for fn in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(MNIST_DIR, fn), serve / fn)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(serve))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/" % httpd.server_address[1]
        src = dict(D._SOURCES["mnist"], mirrors=[url])
        monkeypatch.setitem(D._SOURCES, "mnist", src)
        x, y = fastdl.datasets.mnist(tmp_path / "dl", "test")
        assert x.shape == (10000, 28, 28) and y[:3].tolist() == [7, 2, 1]
        assert sorted(os.listdir(tmp_path / "dl")) == ["t10k-images-idx3-ubyte.gz",
                                                       "t10k-labels-idx1-ubyte.gz"]
        bad = dict(src, md5=dict(src["md5"], **{"t10k-labels-idx1-ubyte.gz": "0" * 32}))
        monkeypatch.setitem(D._SOURCES, "mnist", bad)
        with pytest.raises(FileNotFoundError, match="md5"):
            fastdl.datasets.mnist(tmp_path / "dl2", "test")
        assert not os.path.exists(tmp_path / "dl2" / "t10k-labels-idx1-ubyte.gz")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_c_api_program(tmp_path):
    """tests/c/test_data.c compiled against the installed header and libfastdl."""
    import subprocess
    import sysconfig
    cc = shutil.which(os.environ.get("CC") or sysconfig.get_config_var("CC").split()[0] or "gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "test_data.c")
    exe = str(tmp_path / "test_data")
    lib = fastdl.get_lib()
    subprocess.run([cc, "-std=c11", "-Wall", "-I", fastdl.get_include(), src, "-o", exe,
                    "-L", lib, "-lfastdl", "-Wl,-rpath," + lib], check=True)
    r = subprocess.run([exe], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@needs_mnist
def test_mnist_root_resolution(tmp_path, monkeypatch):
    parent = tmp_path / "data"
    (parent / "mnist").mkdir(parents=True)
    for fn in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(MNIST_DIR, fn), parent / "mnist" / fn)
    assert fastdl.datasets.mnist(parent, "test", download=False)[1].shape == (10000,)
    monkeypatch.setenv("FASTDL_DATA", str(parent))
    assert fastdl.datasets.mnist(None, "test", download=False)[1].shape == (10000,)
    monkeypatch.setenv("FASTDL_DATA", str(parent / "mnist"))
    assert fastdl.datasets.mnist(None, "test", download=False)[1].shape == (10000,)
