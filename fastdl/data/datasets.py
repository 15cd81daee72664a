"""Real data sets (MNIST, Fashion-MNIST, the bundled UCI digits) and synthetic generators.

MNIST and Fashion-MNIST are read from the standard IDX files (gzip or not)
with their magic numbers and sizes checked. ``mnist()`` returns the raw
uint8 images (N, 28, 28) and int64 labels (N,) — 4x smaller than float32 and
exactly the published data; ``mnist_dataset()`` / ``to_dataset()`` give a
TensorDataset of float32 images scaled to [0, 1], ready for a DataLoader.

When the files are missing they are downloaded (md5- and sha256-checked,
written atomically) if ``download=True`` and a mirror is reachable (a short
connection timeout, so an offline machine fails fast); otherwise a
FileNotFoundError says which files to put where. The files are looked for in
root and root/<name>; root=None means $FASTDL_DATA/<name>, $FASTDL_DATA, then
the cache, ``$XDG_CACHE_HOME/fastdl/<name>`` (default ``~/.cache/fastdl/<name>``;
<name> is "mnist" or "fashion_mnist").

``load_digits()`` needs neither files nor network: the UCI optical
handwritten digits (1,797 8x8 images; E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository, CC BY 4.0) ship inside the package.

Generators take random_state (an int seed) or use the global fastdl RNG, and
return float32 features and int64 labels (float32 targets for regression).
"""
import gzip
import hashlib
import math
import os
import socket
import threading
import urllib.parse
import urllib.request

import numpy as np

from fastdl.data import _rng
from fastdl.data.dataset import TensorDataset

__all__ = ["mnist", "fashion_mnist", "mnist_dataset", "fashion_mnist_dataset", "to_dataset",
           "read_idx", "load_digits", "cache_dir", "DIGITS_CREDIT", "make_classification",
           "make_regression", "make_moons", "make_spirals"]

# ---- IDX files ------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

# md5 of the .gz files as published with each data set; sha256 computed from files
# whose published md5 matched (a download must match every digest listed)
_SOURCES = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/",
                    "http://yann.lecun.com/exdb/mnist/"],
        "md5": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    },
    "fashion_mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                    "data/fashion/"],
        "md5": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    },
}


def read_idx(path, expect_ndim=None):
    """Read an IDX file (.gz or raw) into a NumPy array, checking its header and size.

    The header is two zero bytes, a type byte (0x08 = uint8, ...), a byte with
    the number of dims, then each dim as a big-endian uint32.

    Example:
        >>> read_idx("train-labels-idx1-ubyte.gz").shape    # doctest: +SKIP
        (60000,)
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError("%s: not a readable %sIDX file (%s)"
                         % (path, "gzip-compressed " if opener is gzip.open else "", e)) from None
    if len(raw) < 4:
        raise ValueError("%s: file too short (%d bytes) for an IDX header" % (path, len(raw)))
    magic = int.from_bytes(raw[:4], "big")
    zero, code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or code not in _IDX_TYPES or ndim == 0:
        raise ValueError("%s: bad IDX magic number 0x%08X (%d); expected 0x0000TTDD with a known "
                         "type TT and DD dims, e.g. 2051 for images or 2049 for labels"
                         % (path, magic, magic))
    if expect_ndim is not None and ndim != expect_ndim:
        raise ValueError("%s: magic number %d says %d dims; expected %d (magic %d)"
                         % (path, magic, ndim, expect_ndim, 0x800 + expect_ndim))
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError("%s: truncated IDX header" % path)
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dt = np.dtype(_IDX_TYPES[code])
    want = head + int(np.prod(shape)) * dt.itemsize
    if len(raw) != want:
        raise ValueError("%s: size mismatch: header says shape %s (%d bytes with the header), "
                         "file has %d bytes" % (path, shape, want, len(raw)))
    arr = np.frombuffer(raw, dtype=dt, offset=head).reshape(shape)
    return arr.astype(dt.newbyteorder("=")) if dt.byteorder == ">" else arr.copy()


def cache_dir(name="mnist"):
    """Where downloads of data set `name` are kept: $XDG_CACHE_HOME/fastdl/<name>.

    XDG_CACHE_HOME defaults to ~/.cache, so MNIST lands in ~/.cache/fastdl/mnist.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastdl", name)


def _candidate_roots(name, root):
    """Directories searched for the files, in order; the first is where downloads go.

    An explicit root is searched as given and then root/<name>; root=None means
    $FASTDL_DATA, $FASTDL_DATA/<name>, then the cache (cache_dir(name)).
    """
    if root is not None:
        root = os.fspath(root)
        return [root, os.path.join(root, name)]
    out = []
    base = os.environ.get("FASTDL_DATA")
    if base:
        out += [os.path.join(base, name), base]
    out.append(cache_dir(name))
    return out


def _find(root, stem):
    for fn in (stem + ".gz", stem):
        p = os.path.join(root, fn)
        if os.path.isfile(p):
            return p
    return None


def _digests(path):
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def _reachable(url, timeout=3.0):
    """True when a TCP connection to the mirror opens within `timeout` seconds.

    The name lookup runs in a helper thread, so a machine without DNS or network
    answers within the timeout too (getaddrinfo itself has no timeout).
    """
    u = urllib.parse.urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    result = []

    def probe():
        try:
            with socket.create_connection((u.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            pass
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(result)


class _Mismatch(Exception):
    pass


def _download(name, fname, root, timeout=10.0, probe_timeout=3.0):
    """Fetch fname from the first mirror that serves it with the right digests; return its path.

    The file is written under a temporary name and renamed only after its md5
    (and sha256, where known) matched, so an interrupted download never leaves a
    file that looks valid.
    """
    from fastdl.io import atomic_open
    src = _SOURCES[name]
    want = {algo: src[algo][fname] for algo in ("md5", "sha256") if fname in src.get(algo, {})}
    errors = []
    for mirror in src["mirrors"]:
        if not _reachable(mirror, probe_timeout):
            errors.append("%s unreachable" % mirror)
            continue
        os.makedirs(root, exist_ok=True)
        dst = os.path.join(root, fname)
        try:
            hashes = {algo: hashlib.new(algo) for algo in want}
            with atomic_open(dst) as f, urllib.request.urlopen(mirror + fname,
                                                               timeout=timeout) as r:
                for block in iter(lambda: r.read(1 << 20), b""):
                    for h in hashes.values():
                        h.update(block)
                    f.write(block)
                got = {algo: h.hexdigest() for algo, h in hashes.items()}
                if got != want:
                    raise _Mismatch("%s%s has %s, expected %s" % (mirror, fname, got, want))
            return dst
        except _Mismatch as e:
            errors.append(str(e))
        except OSError as e:
            errors.append("%s%s: %s" % (mirror, fname, e))
    raise OSError("; ".join(errors))


def _load(name, root, split, download):
    if split not in _FILES:
        raise ValueError("%s: split must be 'train' or 'test', got %r" % (name, split))
    roots = _candidate_roots(name, root)
    img_stem, lab_stem, n = _FILES[split]
    # both files from one directory: the first that holds the images
    root = next((r for r in roots if _find(r, img_stem)), roots[0])
    paths = []
    for stem in (img_stem, lab_stem):
        p = _find(root, stem)
        why = "download=False"
        if p is None and download:
            try:
                p = _download(name, stem + ".gz", root)
            except OSError as e:
                why = "download failed: %s" % e
        if p is None:
            files = ", ".join(s + ".gz" for s in _FILES[split][:2])
            raise FileNotFoundError(
                "%s (%s split): %s not found in %s (%s). Put the files %s there (from %s), "
                "pass root= the directory holding them, or set FASTDL_DATA."
                % (name, split, stem + ".gz", os.path.abspath(root), why, files,
                   _SOURCES[name]["mirrors"][0]))
        paths.append(p)
    images = read_idx(paths[0], expect_ndim=3)
    labels = read_idx(paths[1], expect_ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError("%s: expected uint8 IDX data, got images %s and labels %s"
                         % (name, images.dtype, labels.dtype))
    if images.shape != (n, 28, 28) or labels.shape != (n,):
        raise ValueError("%s (%s split): expected images (%d, 28, 28) and labels (%d,), got %s and "
                         "%s" % (name, split, n, n, images.shape, labels.shape))
    if labels.max() > 9:
        raise ValueError("%s: labels must be in 0..9, found %d" % (name, labels.max()))
    return images, labels.astype(np.int64)


def mnist(root=None, split="train", download=True):
    """MNIST handwritten digits: (images uint8 (N, 28, 28), labels int64 (N,)).

    N is 60000 for split='train' and 10000 for split='test'. Pixel values are
    the raw 0..255; use to_dataset() or mnist_dataset() for float32 in [0, 1].

    Example:
        >>> x, y = fastdl.datasets.mnist("data/mnist", "test")   # doctest: +SKIP
        >>> x.shape, y[:3]
        ((10000, 28, 28), array([7, 2, 1]))
    """
    return _load("mnist", root, split, download)


def fashion_mnist(root=None, split="train", download=True):
    """Fashion-MNIST (Zalando): same format and return values as mnist()."""
    return _load("fashion_mnist", root, split, download)


def to_dataset(images, labels, flatten=False):
    """TensorDataset of float32 images scaled to [0, 1] and int64 labels.

    Shapes:
        images (N, H, W) uint8 -> (N, 1, H, W), or (N, H*W) with flatten=True.
    """
    x = np.asarray(images)
    x = x.astype(np.float32) * np.float32(1.0 / 255.0) if x.dtype == np.uint8 \
        else x.astype(np.float32)
    x = x.reshape(len(x), -1) if flatten else x.reshape((len(x), 1) + x.shape[1:])
    return TensorDataset(x, np.asarray(labels, dtype=np.int64))


def mnist_dataset(root=None, split="train", flatten=False, download=True):
    """mnist() as a TensorDataset of float32 images in [0, 1] (N, 1, 28, 28) or (N, 784)."""
    return to_dataset(*mnist(root, split, download), flatten=flatten)


def fashion_mnist_dataset(root=None, split="train", flatten=False, download=True):
    """fashion_mnist() as a TensorDataset, like mnist_dataset()."""
    return to_dataset(*fashion_mnist(root, split, download), flatten=flatten)


DIGITS_CREDIT = (
    "UCI optical recognition of handwritten digits (test set, 1,797 8x8 images): "
    "E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository, "
    "https://doi.org/10.24432/C50P49, licensed CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/)")

_DIGITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "uci_digits.u8.gz")
_DIGITS_N = 1797
# sha256 of the decompressed payload: 1797*64 pixel bytes (0..16), then 1797 label bytes
_DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"


def load_digits(flatten=False):
    """The UCI handwritten digits bundled with fastdl: 1,797 8x8 images, offline.

    The images are the 8x8 block counts (0..16) of the UCI optical recognition
    of handwritten digits test set, scaled to [0, 1]; the same data as
    scikit-learn's ``load_digits``, without needing scikit-learn or a network.
    Credit: E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository,
    https://doi.org/10.24432/C50P49, CC BY 4.0 (see ``DIGITS_CREDIT``).

    Returns:
        images float32 in [0, 1], (1797, 8, 8) or (1797, 64) with flatten=True,
        and labels int64 (1797,) in 0..9.

    Example:
        >>> x, y = fastdl.datasets.load_digits()
        >>> x.shape, y[:5]
        ((1797, 8, 8), array([0, 1, 2, 3, 4]))
    """
    try:
        with gzip.open(_DIGITS_FILE, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise OSError("load_digits: the bundled data file %s is missing or unreadable (%s); "
                      "reinstall fastdl" % (_DIGITS_FILE, e)) from None
    if hashlib.sha256(raw).hexdigest() != _DIGITS_SHA256:
        raise OSError("load_digits: the bundled data file %s is corrupt (checksum mismatch); "
                      "reinstall fastdl" % _DIGITS_FILE)
    n = _DIGITS_N
    pix = np.frombuffer(raw, np.uint8, n * 64).reshape(n, 8, 8)
    labels = np.frombuffer(raw, np.uint8, n, offset=n * 64).astype(np.int64)
    x = pix.astype(np.float32) * np.float32(1.0 / 16.0)
    return (x.reshape(n, 64) if flatten else x), labels


# ---- generators -----------------------------------------------------------

def _check_n(n, name="n_samples"):
    if int(n) != n or n < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, n))
    return int(n)


def make_classification(n_samples=100, n_features=20, *, n_informative=2, n_redundant=2,
                        n_classes=2, n_clusters_per_class=2, class_sep=1.0, flip_y=0.01,
                        shuffle=True, random_state=None):
    """Gaussian clusters on hypercube vertices, sklearn's make_classification recipe.

    Each class gets n_clusters_per_class clusters centred on distinct vertices
    of a hypercube of side 2 * class_sep in the n_informative dims, with a
    random covariance; redundant features are random linear combinations of
    the informative ones; the rest is N(0, 1) noise; a share flip_y of
    labels is reassigned at random.

    Returns:
        X float32 (n_samples, n_features), y int64 (n_samples,).
    """
    n = _check_n(n_samples)
    if n_informative + n_redundant > n_features:
        raise ValueError("Number of informative and redundant features must sum to at most "
                         "n_features=%d" % n_features)
    if n_classes * n_clusters_per_class > 2 ** n_informative:
        raise ValueError("n_classes(%d) * n_clusters_per_class(%d) must be smaller or equal "
                         "2**n_informative(%d)=%d" % (n_classes, n_clusters_per_class,
                                                      n_informative, 2 ** n_informative))
    ks = _rng.KeyStream(random_state)
    n_clusters = n_classes * n_clusters_per_class
    # samples per cluster as even as possible, the remainder to the first clusters
    sizes = np.full(n_clusters, n // n_clusters)
    sizes[:n % n_clusters] += 1
    # distinct hypercube vertices: a random subset of the 2**k corner codes
    n_vertices = 2 ** n_informative
    if n_vertices <= 1 << 20:
        codes = _rng.permutation(n_vertices, ks)[:n_clusters]
    else:
        codes = np.unique(_rng.randint(ks, (4 * n_clusters,), 0, n_vertices))[:n_clusters]
    bits = (codes[:, None] >> np.arange(n_informative)) & 1
    centroids = (2.0 * bits - 1.0) * class_sep
    X = np.zeros((n, n_features))
    y = np.zeros(n, dtype=np.int64)
    z = _rng.normal(ks, (n, n_informative))
    A = _rng.uniform(ks, (n_clusters, n_informative, n_informative), -1.0, 1.0)
    start = 0
    for k in range(n_clusters):
        stop = start + sizes[k]
        X[start:stop, :n_informative] = z[start:stop] @ A[k] + centroids[k]
        y[start:stop] = k % n_classes
        start = stop
    if n_redundant:
        B = _rng.uniform(ks, (n_informative, n_redundant), -1.0, 1.0)
        X[:, n_informative:n_informative + n_redundant] = X[:, :n_informative] @ B
    n_noise = n_features - n_informative - n_redundant
    if n_noise:
        X[:, n_features - n_noise:] = _rng.normal(ks, (n, n_noise))
    if flip_y > 0:
        flip = _rng.uniform(ks, (n,)) < flip_y
        if flip.any():
            y[flip] = _rng.randint(ks, (int(flip.sum()),), 0, n_classes)
    if shuffle:
        perm = _rng.permutation(n, ks)
        X, y = X[perm], y[perm]
    return X.astype(np.float32), y


def make_regression(n_samples=100, n_features=100, *, n_informative=10, n_targets=1, bias=0.0,
                    noise=0.0, coef=False, random_state=None):
    """A random linear regression problem: y = X @ w + bias + noise * N(0, 1).

    X is standard normal; w is 100 * U[0, 1) on n_informative randomly chosen
    features and 0 elsewhere (sklearn's recipe).

    Returns:
        X float32 (n_samples, n_features), y float32 (n_samples,) or
        (n_samples, n_targets), and w (n_features[, n_targets]) when coef=True.
    """
    n = _check_n(n_samples)
    n_features = _check_n(n_features, "n_features")
    n_informative = min(n_features, n_informative)
    ks = _rng.KeyStream(random_state)
    X = _rng.normal(ks, (n, n_features))
    w = np.zeros((n_features, n_targets))
    which = _rng.permutation(n_features, ks)[:n_informative]
    w[which] = 100.0 * _rng.uniform(ks, (n_informative, n_targets))
    y = X @ w + bias
    if noise > 0:
        y += noise * _rng.normal(ks, y.shape)
    if n_targets == 1:
        y, w = y[:, 0], w[:, 0]
    out = (X.astype(np.float32), y.astype(np.float32))
    return out + (w,) if coef else out


def make_moons(n_samples=100, *, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles, sklearn's make_moons.

    n_samples an int (split n // 2 outer, the rest inner) or (n_outer, n_inner).

    Returns:
        X float32 (n_samples, 2), y int64 (n_samples,): 0 outer moon, 1 inner.
    """
    if isinstance(n_samples, (tuple, list)):
        n_out, n_in = (int(v) for v in n_samples)
    else:
        n_out = _check_n(n_samples) // 2
        n_in = int(n_samples) - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5])])
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    ks = _rng.KeyStream(random_state)
    if shuffle:
        perm = _rng.permutation(len(y), ks)
        X, y = X[perm], y[perm]
    if noise is not None and noise > 0:
        X = X + noise * _rng.normal(ks, X.shape)
    return X.astype(np.float32), y


def make_spirals(n_samples=100, n_classes=2, *, noise=0.2, turns=1.0, shuffle=True,
                 random_state=None):
    """Interleaved spiral arms, one per class (the classic 2-D non-linear toy problem).

    Arm k has radius r in [0, 1] and angle 2 * pi * turns * r + 2 * pi * k / n_classes,
    with N(0, noise^2) added to the angle (in radians).

    Returns:
        X float32 (n_samples, 2), y int64 (n_samples,) in 0..n_classes-1.
    """
    n = _check_n(n_samples)
    n_classes = _check_n(n_classes, "n_classes")
    ks = _rng.KeyStream(random_state)
    sizes = np.full(n_classes, n // n_classes)
    sizes[:n % n_classes] += 1
    r = np.concatenate([np.linspace(0.0, 1.0, m) for m in sizes])
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)
    t = 2 * math.pi * turns * r + 2 * math.pi * y / n_classes
    if noise:
        t = t + noise * _rng.normal(ks, (n,))
    X = np.column_stack([r * np.cos(t), r * np.sin(t)])
    if shuffle:
        perm = _rng.permutation(n, ks)
        X, y = X[perm], y[perm]
    return X.astype(np.float32), y
