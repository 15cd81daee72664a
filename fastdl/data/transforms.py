"""Seeded augmentation of image batches, torchvision's names over C kernels.

Each transform is a callable on a float32 batch (N, C, H, W) (a single
image (C, H, W) works too), given as a NumPy array or a fastdl Tensor, and
returns the same kind. Images as PIL and imageio give them, (H, W, C) uint8,
go through ``ToTensor()`` first (CHW float32 in [0, 1]); a channels-last
array handed to a transform directly is refused with an error saying so,
never silently read as C=H. One call takes one key from the fastdl RNG (or from
its own ``seed=``), and sample i's parameters depend only on (key, i): the
result is the same for any thread count. The parameters drawn by the last
call are kept in ``last_params`` for inspection.

Example:
    >>> aug = Compose([RandomCrop(28, padding=2), RandomRotation(10), GaussianNoise(0.05)])
    >>> xb = aug(xb)        # xb: (B, 1, 28, 28) float32
"""
import numbers

import numpy as np

from fastdl._C import data as _cdata
from fastdl.data import _rng
from fastdl.tensor import Tensor

__all__ = ["Compose", "ToTensor", "to_tensor", "RandomRotation", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomCrop", "GaussianNoise", "Normalize", "Lambda"]


_CHANNELS = (1, 3, 4)          # gray, RGB, RGBA: what an image's channel axis holds


def _to_batch(x, name):
    """(float32 NCHW array, was_tensor, was_single_image)."""
    is_tensor = isinstance(x, Tensor)
    arr = x._data if is_tensor else np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError("%s: expected float32 images, got dtype %s" % (name, arr.dtype))
    single = arr.ndim == 3
    if arr.ndim not in (3, 4):
        hint = (" A 2-D (H, W) image needs a channel axis: ToTensor() (or x[None]) gives "
                "(1, H, W)." if arr.ndim == 2 else "")
        raise ValueError("%s: expected images (N, C, H, W) or (C, H, W), got shape %s.%s"
                         % (name, arr.shape, hint))
    c, w = arr.shape[-3], arr.shape[-1]
    if w in _CHANNELS and c not in _CHANNELS:
        raise ValueError(
            "%s: got shape %s, which looks channels-last (%s, C=%d); transforms take "
            "channels-first (C, H, W) or (N, C, H, W) images. Convert with ToTensor() "
            "(H, W, C uint8 -> C, H, W float32 in [0, 1]) or x.transpose(%s)."
            % (name, arr.shape, "H, W" if single else "N, H, W", w,
               "2, 0, 1" if single else "0, 3, 1, 2"))
    if arr.dtype != np.float32:
        if arr.dtype == np.uint8:
            raise TypeError("%s: got uint8 images of shape %s; transforms work on float32 "
                            "images. Convert with ToTensor() (uint8 -> float32 in [0, 1]; it "
                            "also moves channels-last images to channels-first) or "
                            "x.astype(np.float32) / 255." % (name, arr.shape))
        arr = arr.astype(np.float32)
    if single:
        arr = arr[None]
    return arr, is_tensor, single


def to_tensor(pic):
    """An image as PIL/imageio/OpenCV give it -> a channels-first float32 Tensor.

    torchvision's ``to_tensor``: (H, W, C) with C in 1, 3 or 4 becomes (C, H, W);
    a 2-D (H, W) image becomes (1, H, W); a batch (N, H, W, C) becomes (N, C, H, W).
    uint8 values are scaled to [0, 1]; other numeric dtypes are converted to
    float32 unscaled (torchvision scales only uint8 too). A PIL image is read
    with ``np.asarray``.

    Shapes:
        (H, W, C) -> (C, H, W); (H, W) -> (1, H, W); (N, H, W, C) -> (N, C, H, W).

    Raises:
        ValueError: a layout that is not channels-last with 1, 3 or 4 channels,
            e.g. an image already (C, H, W): ToTensor would garble it, so it refuses.

    Example:
        >>> img = np.zeros((28, 32, 3), np.uint8)          # what PIL/imageio give
        >>> to_tensor(img).shape
        (3, 28, 32)
    """
    if isinstance(pic, Tensor):
        raise TypeError("ToTensor: got a fastdl Tensor, which is already channels-first; "
                        "use it as is (ToTensor converts NumPy/PIL images)")
    arr = np.asarray(pic)
    if arr.dtype.kind not in "fiub":
        raise TypeError("ToTensor: expected a numeric image (uint8, int, float or bool), got "
                        "dtype %s" % arr.dtype)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim not in (3, 4) or arr.shape[-1] not in _CHANNELS:
        extra = ""
        if arr.ndim in (3, 4) and arr.shape[-3] in _CHANNELS:
            extra = (" It looks channels-first already; use it as is (x.astype(np.float32) / "
                     "255 for uint8).")
        raise ValueError("ToTensor: expected an image (H, W), (H, W, C) or a batch (N, H, W, C) "
                         "with C in 1, 3 or 4 channels last, got shape %s.%s"
                         % (np.shape(pic), extra))
    axes = (2, 0, 1) if arr.ndim == 3 else (0, 3, 1, 2)
    out = np.ascontiguousarray(arr.transpose(axes))
    if out.dtype == np.uint8:
        out = out.astype(np.float32) * np.float32(1.0 / 255.0)
    else:
        out = out.astype(np.float32)
    return Tensor._wrap(out)


class ToTensor:
    """Convert an (H, W, C) uint8 image (PIL, imageio) to a (C, H, W) float32 Tensor in [0, 1].

    torchvision's ``ToTensor``; see :func:`to_tensor` for the layouts accepted.
    Put it first in a Compose, before the augmentations.

    Example:
        >>> aug = Compose([ToTensor(), RandomRotation(10)])
        >>> aug(np.zeros((28, 28, 3), np.uint8)).shape
        (3, 28, 28)
    """

    def __call__(self, pic):
        return to_tensor(pic)

    def __repr__(self):
        return "ToTensor()"


def _from_batch(out, is_tensor, single):
    if single:
        out = out[0]
    return Tensor._wrap(out) if is_tensor else out


class _Random:
    """Shared skeleton: key handling and input/output kinds; subclasses apply."""

    def __init__(self, seed=None):
        self.seed = seed
        self._keys = _rng.KeyStream(seed, "seed")
        self.last_params = None

    def __call__(self, x):
        arr, is_tensor, single = _to_batch(x, type(self).__name__)
        s, st = self._keys.next()
        out, self.last_params = self._apply(arr, s, st)
        return _from_batch(out, is_tensor, single)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.extra_repr())


def _pair(v, name):
    if isinstance(v, numbers.Number):
        return (int(v), int(v))
    v = tuple(int(t) for t in v)
    if len(v) != 2:
        raise ValueError("%s: size must be an int or (h, w), got %r" % (name, v))
    return v


class RandomRotation(_Random):
    """Rotate each image by an angle uniform in degrees (counter-clockwise), bilinear.

    Args:
        degrees: d (the range (-d, d)) or (min, max).
        fill: value of pixels whose source is outside the image.
        seed: None (the global fastdl RNG) or an int seed for this transform.

    last_params: the angles (N,) in degrees.
    """

    def __init__(self, degrees, fill=0, seed=None):
        super().__init__(seed)
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-float(degrees), float(degrees))
        else:
            degrees = tuple(float(d) for d in degrees)
            if len(degrees) != 2 or degrees[0] > degrees[1]:
                raise ValueError("If degrees is a sequence, it must be (min, max) with min <= max,"
                                 " got %r" % (degrees,))
        self.degrees = degrees
        self.fill = float(fill)

    def _apply(self, x, s, st):
        return _cdata.random_rotation(x, self.degrees[0], self.degrees[1], self.fill, s, st)

    def extra_repr(self):
        return "degrees=%r, fill=%r" % (self.degrees, self.fill)


class _RandomFlip(_Random):
    _dim = 3

    def __init__(self, p=0.5, seed=None):
        super().__init__(seed)
        if not 0.0 <= p <= 1.0:
            raise ValueError("%s: p must be in [0, 1], got %r" % (type(self).__name__, p))
        self.p = float(p)

    def _apply(self, x, s, st):
        return _cdata.random_flip(x, self._dim, self.p, s, st)

    def extra_repr(self):
        return "p=%r" % self.p


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each image left-right (along W) with probability p.

    last_params: bool flags (N,), True where the image was flipped.
    """
    _dim = 3


class RandomVerticalFlip(_RandomFlip):
    """Mirror each image top-bottom (along H) with probability p.

    last_params: bool flags (N,), True where the image was flipped.
    """
    _dim = 2


class RandomCrop(_Random):
    """Crop each image at a random position after padding it with fill.

    Args:
        size: output size, int or (h, w).
        padding: None, an int (all sides), (left/right, top/bottom) or
            (left, top, right, bottom), as torchvision.
        fill: value of the padding.
        seed: None (the global fastdl RNG) or an int seed for this transform.

    Shapes:
        (N, C, H, W) -> (N, C, h, w).

    last_params: (N, 2) int64 (top, left) of each window in padded coordinates.
    """

    def __init__(self, size, padding=None, fill=0, seed=None):
        super().__init__(seed)
        self.size = _pair(size, "RandomCrop")
        self.padding = padding
        self.fill = float(fill)

    def _apply(self, x, s, st):
        return _cdata.random_crop(x, self.size, self.padding, self.fill, s, st)

    def extra_repr(self):
        return "size=%r, padding=%r" % (self.size, self.padding)


class GaussianNoise(_Random):
    """Add N(mean, std^2) noise to every pixel.

    last_params: None (the noise of element i is keyed by (key, i)).
    """

    def __init__(self, std=0.1, mean=0.0, seed=None):
        super().__init__(seed)
        if std < 0:
            raise ValueError("GaussianNoise: std must be non-negative, got %r" % std)
        self.std = float(std)
        self.mean = float(mean)

    def _apply(self, x, s, st):
        out = _cdata.gaussian_noise(x, self.std, s, st)
        if self.mean:
            out += np.float32(self.mean)
        return out, None

    def extra_repr(self):
        return "std=%r, mean=%r" % (self.std, self.mean)


class Normalize:
    """(x - mean[c]) / std[c] per channel, as torchvision.transforms.Normalize."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std evaluated to zero, leading to division by zero.")

    def __call__(self, x):
        arr, is_tensor, single = _to_batch(x, "Normalize")
        return _from_batch((arr - self.mean) / self.std, is_tensor, single)

    def __repr__(self):
        return "Normalize(mean=%s, std=%s)" % (self.mean.ravel().tolist(),
                                               self.std.ravel().tolist())


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError("Lambda: argument should be callable, got %s" % type(fn).__name__)
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


class Compose:
    """Apply transforms one after another.

    Example:
        >>> aug = Compose([RandomHorizontalFlip(), GaussianNoise(0.1)])
        >>> aug(np.zeros((2, 1, 4, 4), np.float32)).shape
        (2, 1, 4, 4)
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(\n" + "".join("    %r\n" % t for t in self.transforms) + ")"
