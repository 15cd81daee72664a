"""Transforms refuse what they would garble (issue 10 section 6): channels-last uint8 images,
as PIL and imageio give them, go through ToTensor; handed directly to a transform they are
refused with an error that says what to do, never read as C=H."""
import numpy as np
import pytest

import fastdl
from fastdl.data import transforms as T

RNG = np.random.default_rng(0)


def _hwc(h=12, w=10, c=3):
    return RNG.integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_hwc_uint8():
    img = _hwc()
    out = T.ToTensor()(img)
    assert isinstance(out, fastdl.Tensor) and out.dtype == np.float32 and out.shape == (3, 12, 10)
    ref = img.astype(np.float64).transpose(2, 0, 1) / 255.0
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=0)
    assert out.numpy().min() >= 0.0 and out.numpy().max() <= 1.0
    assert out.numpy().flags.c_contiguous


def test_to_tensor_other_layouts():
    gray = RNG.integers(0, 256, (7, 5), dtype=np.uint8)
    np.testing.assert_allclose(T.to_tensor(gray).numpy(), gray[None] / 255.0, rtol=1e-6)
    batch = RNG.integers(0, 256, (4, 6, 5, 1), dtype=np.uint8)
    out = T.to_tensor(batch)
    assert out.shape == (4, 1, 6, 5)
    np.testing.assert_allclose(out.numpy(), batch.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    rgba = _hwc(c=4)
    assert T.to_tensor(rgba).shape == (4, 12, 10)
    # non-uint8: converted to float32, not scaled (torchvision scales only uint8)
    f = RNG.standard_normal((5, 6, 3))
    np.testing.assert_array_equal(T.to_tensor(f).numpy(), f.transpose(2, 0, 1).astype(np.float32))
    b = RNG.random((3, 4, 1)) > 0.5
    np.testing.assert_array_equal(T.to_tensor(b).numpy(), b.transpose(2, 0, 1).astype(np.float32))


@pytest.mark.parametrize("shape", [(3, 28, 28), (28, 28, 5), (4, 4, 4, 7), (10,), (2, 3, 4, 5, 3)])
def test_to_tensor_rejects_ambiguous_layouts(shape):
    with pytest.raises(ValueError, match="ToTensor: expected an image"):
        T.to_tensor(np.zeros(shape, np.uint8))


def test_to_tensor_says_when_already_channels_first():
    with pytest.raises(ValueError, match="channels-first already"):
        T.to_tensor(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(TypeError, match="already channels-first"):
        T.to_tensor(fastdl.zeros(3, 8, 8))
    with pytest.raises(TypeError, match="numeric image"):
        T.to_tensor(np.array([["a"]]))


def test_to_tensor_reads_pil_images():
    Image = pytest.importorskip("PIL.Image")
    img = _hwc()
    out = T.ToTensor()(Image.fromarray(img))
    np.testing.assert_allclose(out.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)


ALL = [lambda: T.RandomRotation(20, seed=1), lambda: T.RandomHorizontalFlip(seed=1),
       lambda: T.RandomVerticalFlip(seed=1), lambda: T.RandomCrop(8, padding=1, seed=1),
       lambda: T.GaussianNoise(0.1, seed=1), lambda: T.Normalize([0.5] * 3, [0.2] * 3)]


@pytest.mark.parametrize("make", ALL)
def test_transforms_refuse_channels_last(make):
    t = make()
    name = type(t).__name__
    for x in (_hwc(), _hwc().astype(np.float32) / 255, _hwc()[None].repeat(2, 0)):
        with pytest.raises(ValueError, match="%s: got shape .* looks channels-last" % name) as e:
            t(x)
        assert "ToTensor()" in str(e.value) and "transpose" in str(e.value)


@pytest.mark.parametrize("make", ALL)
def test_transforms_refuse_uint8(make):
    t = make()
    with pytest.raises(TypeError, match="uint8 images .* ToTensor"):
        t(np.zeros((3, 12, 10), np.uint8))


def test_two_dim_image_gets_a_hint():
    with pytest.raises(ValueError, match=r"\(H, W\) image needs a channel axis"):
        T.RandomRotation(10)(np.zeros((8, 8), np.float32))


def test_to_tensor_then_rotation_is_not_zeros():
    """The reported bug: an HWC uint8 image through RandomRotation came back all zeros."""
    img = np.zeros((16, 16, 3), np.uint8)
    img[4:12, 6:10] = (255, 128, 64)
    aug = T.Compose([T.ToTensor(), T.RandomRotation((90, 90), seed=3)])
    out = aug(img)
    assert out.shape == (3, 16, 16)
    ref = T.RandomRotation((90, 90), seed=3)(img.transpose(2, 0, 1).astype(np.float32) / 255)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-7)
    # a 90-degree turn of the 8x4 bar is a 4x8 bar, with each channel's own value
    for c, v in enumerate((1.0, 128 / 255, 64 / 255)):
        assert np.isclose(out.numpy()[c].max(), v, atol=1e-6)
        assert (out.numpy()[c] > v / 2).sum() == 32
        assert np.array_equal((out.numpy()[c] > v / 2).any(0).nonzero()[0],
                              np.arange(4, 12))


def test_channels_first_float_still_accepted():
    x = RNG.random((2, 3, 12, 10)).astype(np.float32)
    assert T.RandomRotation(10, seed=0)(x).shape == x.shape
    single = RNG.random((1, 8, 8)).astype(np.float32)
    assert T.RandomCrop(6, seed=0)(single).shape == (1, 6, 6)
