"""Training speed and accuracy: fastdl against PyTorch (when installed) and plain NumPy.

Three models, each starting from the same initial weights (drawn once by
fastdl, loaded into every framework) and seeing the same batches in the same
order:

- MNIST MLP 784-256-128-10, Adam, batch 128 (samples/s, test accuracy);
- MNIST CNN conv32-pool-conv64-pool-fc128-fc10, SGD momentum, batch 64, 1 epoch
  (samples/s, test accuracy);
- a CIFAR-shaped ResNet-8 (3x32x32 input; a 3x3 stem, three stages of one
  BasicBlock each with BatchNorm, 16/32/64 channels, strided 3x3 convolutions
  with 1x1 strided shortcuts, global average pool, fc 10), SGD momentum,
  batch 128, on random data of CIFAR-10's shape (no download): samples/s.

Speed is training samples/s (forward, backward, optimizer step, batching),
measured in one process, one framework after the other, fastdl first; the
process waits until the other frameworks' worker threads stop spinning before
fastdl runs (after a NumPy BLAS call OpenBLAS's threads spin and would halve
fastdl's speed). The last table is issue 13's targets with the measured ratios.

MNIST comes from --data, else fastdl's own resolution ($FASTDL_DATA, then the
fastdl cache, downloading into it unless --offline); without it the bundled UCI
digits stand in (8x8 images scaled to 28x28: same shapes and speed, not MNIST's
accuracy). The header says which data was used.

    python benchmarks/training.py [--data DIR] [--offline] [--epochs-mlp 3]
                                  [--epochs-cnn 1] [--resnet-batches 40]
                                  [--only mlp|cnn|resnet8] [--quick] [--no-torch]

Used by benchmarks/test_training.py (pytest-benchmark) and for the closing
notes' tables.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_models as npm  # noqa: E402

import fastdl  # noqa: E402
from fastdl import nn  # noqa: E402
from fastdl.bench._quiet import fair_allocator, wait_quiet  # noqa: E402


def load_mnist(root, download=False):
    xtr, ytr = fastdl.datasets.mnist(root, "train", download=download)
    xte, yte = fastdl.datasets.mnist(root, "test", download=download)
    s = np.float32(1 / 255.0)
    return xtr.astype(np.float32) * s, ytr, xte.astype(np.float32) * s, yte


def load_digits_as_mnist(n_train=60000):
    """The bundled UCI digits shaped like MNIST: each 8x8 image blown up 3x to 24x24 and
    padded to 28x28; the first 1,500 images repeated to n_train for training, the other
    297 for testing. Same shapes (so the same speed) as MNIST, offline."""
    x, y = fastdl.datasets.load_digits()
    x = np.pad(np.kron(x, np.ones((3, 3), np.float32)), ((0, 0), (2, 2), (2, 2)))
    reps = -(-n_train // 1500)
    xtr = np.tile(x[:1500], (reps, 1, 1))[:n_train]
    ytr = np.tile(y[:1500], reps)[:n_train]
    return np.ascontiguousarray(xtr), ytr, x[1500:], y[1500:]


def load_data(root, offline):
    """(x, y, xte, yte, description): MNIST when fastdl finds it, else the bundled digits."""
    try:
        data = load_mnist(root, download=not offline)
        where = root or os.environ.get("FASTDL_DATA") or fastdl.datasets.cache_dir("mnist")
        return data + ("MNIST (60,000 train / 10,000 test images) from %s" % where,)
    except (OSError, ValueError) as e:
        if root is not None:
            raise
        return load_digits_as_mnist() + (
            "the bundled UCI digits scaled to 28x28 (MNIST not found: %s); speeds are "
            "comparable, accuracies are not MNIST's" % str(e).split(". ")[0],)


def fastdl_mlp():
    return build("mlp", nn)


def fastdl_cnn():
    return build("cnn", nn)


def make_resnet8(tnn):
    """The CIFAR-shaped ResNet-8 in either framework: tnn is fastdl.nn or torch.nn (the same
    module names and arguments, so the same state_dict keys)."""

    class BasicBlock(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU()
            self.shortcut = (tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False),
                                            tnn.BatchNorm2d(cout))
                             if stride != 1 or cin != cout else tnn.Identity())

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    return tnn.Sequential(tnn.Conv2d(3, 16, 3, 1, 1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU(),
                          BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
                          tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, 10))


def build(kind, tnn):
    if kind == "resnet8":
        return make_resnet8(tnn)
    if kind == "mlp":
        return tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                              tnn.Linear(128, 10))
    return tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10))


def initial_weights(kind, seed=0):
    fastdl.manual_seed(seed)
    m = build(kind, nn)
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def cifar_like(n, seed=0):
    """Random data of CIFAR-10's shape: float32 (n, 3, 32, 32) around 0, labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, n)


def batches(n, bs, epoch, seed=0, limit=None):
    """The same shuffled order for every framework."""
    order = np.random.default_rng(seed + epoch).permutation(n)
    nb = (n + bs - 1) // bs
    if limit:
        nb = min(nb, limit)
    for i in range(nb):
        yield order[i * bs:(i + 1) * bs]


LR = {"cnn": 0.05, "resnet8": 0.05}


def _inputs(kind, x):
    """The model's input layout: flat rows for the MLP, one channel for the CNN."""
    if kind == "mlp":
        return x.reshape(len(x), -1)
    return x[:, None] if x.ndim == 3 else x


# ---- the three implementations ----------------------------------------------------------

def run_fastdl(kind, w0, x, y, xte, yte, epochs, bs, limit=None):
    model = build(kind, nn)
    model.load_state_dict(w0)
    opt = (fastdl.optim.Adam(model.parameters(), lr=1e-3) if kind == "mlp"
           else fastdl.optim.SGD(model.parameters(), lr=LR[kind], momentum=0.9))
    lossf = nn.CrossEntropyLoss()
    xs = _inputs(kind, x)
    seen, t = 0, 0.0
    for e in range(epochs):
        wait_quiet()
        t0 = time.perf_counter()
        for idx in batches(len(xs), bs, e, limit=limit):
            xb, yb = fastdl.from_numpy(xs[idx]), fastdl.from_numpy(y[idx])
            loss = lossf(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(idx)
        t += time.perf_counter() - t0
    acc = None
    if xte is not None:
        model.eval()
        with fastdl.no_grad():
            xt = _inputs(kind, xte)
            pred = np.concatenate([model(fastdl.from_numpy(xt[i:i + 1000])).numpy().argmax(1)
                                   for i in range(0, len(xt), 1000)])
        acc = float((pred == yte).mean())
    return seen / t, acc


def run_numpy(kind, w0, x, y, xte, yte, epochs, bs, limit=None):
    if kind == "resnet8":
        raise ValueError("no NumPy ResNet-8")
    model = npm.MLP(w0) if kind == "mlp" else npm.CNN(w0)
    opt = npm.Adam(model.p, lr=1e-3) if kind == "mlp" else npm.SGD(model.p, lr=0.05,
                                                                    momentum=0.9)
    xs = x.reshape(len(x), -1) if kind == "mlp" else x[:, None]
    seen, t = 0, 0.0
    for e in range(epochs):
        t0 = time.perf_counter()
        for idx in batches(len(xs), bs, e, limit=limit):
            out = model.forward(xs[idx])
            _, g = npm.softmax_xent(out, y[idx])
            opt.step(model.backward(g))
            seen += len(idx)
        t += time.perf_counter() - t0
    acc = None
    if xte is not None:
        xt = xte.reshape(len(xte), -1) if kind == "mlp" else xte[:, None]
        pred = np.concatenate([model.forward(xt[i:i + 1000]).argmax(1)
                               for i in range(0, len(xt), 1000)])
        acc = float((pred == yte).mean())
    return seen / t, acc


def run_torch(kind, w0, x, y, xte, yte, epochs, bs, limit=None):
    import torch
    torch.set_num_threads(fastdl.get_num_threads())
    model = build(kind, torch.nn)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w0.items()})
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if kind == "mlp"
           else torch.optim.SGD(model.parameters(), lr=LR[kind], momentum=0.9))
    lossf = torch.nn.CrossEntropyLoss()
    xs = torch.from_numpy(_inputs(kind, x))
    yt = torch.from_numpy(y)
    seen, t = 0, 0.0
    for e in range(epochs):
        t0 = time.perf_counter()
        for idx in batches(len(xs), bs, e, limit=limit):
            ti = torch.from_numpy(idx)
            loss = lossf(model(xs[ti]), yt[ti])
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(idx)
        t += time.perf_counter() - t0
    acc = None
    if xte is not None:
        model.eval()
        with torch.no_grad():
            xt = torch.from_numpy(_inputs(kind, xte))
            pred = torch.cat([model(xt[i:i + 1000]).argmax(1) for i in range(0, len(xt), 1000)])
        acc = float((pred.numpy() == yte).mean())
    return seen / t, acc


RUNNERS = {"fastdl": run_fastdl, "numpy": run_numpy, "torch": run_torch}

# issue 13's targets: (model, needed fastdl / PyTorch samples/s ratio, wording, accuracy needed)
TARGETS = [
    ("cnn", 1.5, "MNIST CNN training samples/s >= 1.5x PyTorch, >= 98% test acc. (1 epoch)", 0.98),
    ("resnet8", 1.3, "CIFAR-shaped ResNet-8, batch 128, samples/s >= 1.3x PyTorch", None),
    ("mlp", 2.0, "MNIST MLP 784-256-128-10, Adam, samples/s >= 2x PyTorch", None),
]
NAMES = {"mlp": "MNIST MLP", "cnn": "MNIST CNN", "resnet8": "ResNet-8 (CIFAR shape)"}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None,
                   help="MNIST IDX folder (default: $FASTDL_DATA, then the fastdl cache)")
    p.add_argument("--offline", action="store_true",
                   help="never download MNIST (the bundled digits stand in when it is absent)")
    p.add_argument("--epochs-mlp", type=int, default=3)
    p.add_argument("--epochs-cnn", type=int, default=1)
    p.add_argument("--resnet-batches", type=int, default=40,
                   help="timed ResNet-8 batches per framework (after 3 warm-up batches)")
    p.add_argument("--quick", action="store_true", help="300 batches each, no accuracy")
    p.add_argument("--numpy-cnn-batches", type=int, default=60,
                   help="NumPy's CNN is slow: time it on this many batches")
    p.add_argument("--only", choices=["mlp", "cnn", "resnet8"])
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    p.add_argument("--no-numpy", action="store_true", help="skip the NumPy implementations")
    a = p.parse_args(argv)
    kinds = [k for k in ("mlp", "cnn", "resnet8") if a.only in (None, k)]
    frameworks = ["fastdl"]
    torch = None
    if not a.no_torch:
        try:
            import torch
            frameworks.append("torch")
        except ImportError:
            pass
    if not a.no_numpy:
        frameworks.append("numpy")
    print(fair_allocator())
    print("fastdl %s, threads=%d, isa=%s; PyTorch: %s" % (
        fastdl.__version__, fastdl.get_num_threads(), fastdl.config()["isa_active"],
        "%s (%d threads)" % (torch.__version__, fastdl.get_num_threads()) if torch is not None
        else "not installed (its rows are left out)"))
    if any(k in kinds for k in ("mlp", "cnn")):
        x, y, xte, yte, what = load_data(a.data, a.offline)
        print("data: " + what)
    if "resnet8" in kinds:
        rb = 10 if a.quick else a.resnet_batches
        xr, yr = cifar_like(128 * (rb + 3))
        print("ResNet-8 data: random, CIFAR-10's shape (3x32x32, 10 classes), %d timed batches "
              "of 128" % rb)
    print()
    print("| model | framework | samples/s | test accuracy | fastdl speed-up |")
    print("| --- | --- | --- | --- | --- |")
    results = {}
    for kind in kinds:
        w0 = initial_weights(kind)
        res = {}
        for fw in frameworks:
            if kind == "resnet8":
                if fw == "numpy":
                    continue
                # 3 warm-up batches (first-touch of buffers, thread start) outside the timing
                RUNNERS[fw](kind, w0, xr, yr, None, None, 1, 128, 3)
                res[fw] = RUNNERS[fw](kind, w0, xr[128 * 3:], yr[128 * 3:], None, None, 1,
                                      128, None)
                continue
            bs, epochs = (128, a.epochs_mlp) if kind == "mlp" else (64, a.epochs_cnn)
            limit = 300 if a.quick else None
            if fw == "numpy" and kind == "cnn":
                limit = a.numpy_cnn_batches
            ep = 1 if limit else epochs
            test = (xte, yte) if not limit else (None, None)
            res[fw] = RUNNERS[fw](kind, w0, x, y, *test, ep, bs, limit)
        results[kind] = res
        for fw, (sps, acc) in res.items():
            ratio = res["fastdl"][0] / sps
            print("| %s | %s | %.0f | %s | %s |" % (
                NAMES[kind], fw, sps, "-" if acc is None else "%.4f" % acc,
                "-" if fw == "fastdl" else "%.2fx" % ratio))
        sys.stdout.flush()
    if torch is not None:
        print()
        print("issue 13 targets (fastdl / PyTorch samples/s in this run)")
        print("| target | needed | measured | met |")
        print("| --- | --- | --- | --- |")
        for kind, need, text, acc_need in TARGETS:
            r = results.get(kind)
            if not r or "torch" not in r:
                continue
            ratio = r["fastdl"][0] / r["torch"][0]
            acc = r["fastdl"][1]
            ok = ratio >= need and (acc_need is None or (acc is not None and acc >= acc_need))
            got = "%.2fx" % ratio + ("" if acc_need is None else ", acc. %s" % (
                "not measured" if acc is None else "%.4f" % acc))
            print("| %s | %.1fx | %s | %s |" % (text, need, got, "yes" if ok else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
