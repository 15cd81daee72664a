"""MNIST training speed and accuracy: fastdl against plain NumPy and PyTorch.

The same models start from the same initial weights (drawn once, loaded into
each framework) and see the same batches in the same order. Speed is
training samples/s over whole epochs (forward, backward, optimizer step, data
batching), measured in one process, one framework after the other.

    python benchmarks/training.py [--data DIR] [--epochs-mlp 3] [--epochs-cnn 1]
                                  [--quick]     # a few hundred batches, no accuracy

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


def load_mnist(root):
    xtr, ytr = fastdl.datasets.mnist(root, "train", download=False)
    xte, yte = fastdl.datasets.mnist(root, "test", download=False)
    s = np.float32(1 / 255.0)
    return xtr.astype(np.float32) * s, ytr, xte.astype(np.float32) * s, yte


def fastdl_mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def fastdl_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def initial_weights(kind, seed=0):
    fastdl.manual_seed(seed)
    m = fastdl_mlp() if kind == "mlp" else fastdl_cnn()
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def batches(n, bs, epoch, seed=0, limit=None):
    """The same shuffled order for every framework."""
    order = np.random.default_rng(seed + epoch).permutation(n)
    nb = (n + bs - 1) // bs
    if limit:
        nb = min(nb, limit)
    for i in range(nb):
        yield order[i * bs:(i + 1) * bs]


# ---- the three implementations ----------------------------------------------------------

def run_fastdl(kind, w0, x, y, xte, yte, epochs, bs, limit=None):
    model = fastdl_mlp() if kind == "mlp" else fastdl_cnn()
    model.load_state_dict(w0)
    opt = (fastdl.optim.Adam(model.parameters(), lr=1e-3) if kind == "mlp"
           else fastdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    lossf = nn.CrossEntropyLoss()
    xs = x.reshape(len(x), -1) if kind == "mlp" else x[:, None]
    seen, t = 0, 0.0
    for e in range(epochs):
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
            xt = xte.reshape(len(xte), -1) if kind == "mlp" else xte[:, None]
            pred = np.concatenate([model(fastdl.from_numpy(xt[i:i + 1000])).numpy().argmax(1)
                                   for i in range(0, len(xt), 1000)])
        acc = float((pred == yte).mean())
    return seen / t, acc


def run_numpy(kind, w0, x, y, xte, yte, epochs, bs, limit=None):
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
    tnn = torch.nn
    if kind == "mlp":
        model = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                               tnn.Linear(128, 10))
    else:
        model = tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                               tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                               tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(),
                               tnn.Linear(128, 10))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in w0.items()})
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if kind == "mlp"
           else torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    lossf = tnn.CrossEntropyLoss()
    xs = torch.from_numpy(x.reshape(len(x), -1) if kind == "mlp" else x[:, None])
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
            xt = torch.from_numpy(xte.reshape(len(xte), -1) if kind == "mlp" else xte[:, None])
            pred = torch.cat([model(xt[i:i + 1000]).argmax(1) for i in range(0, len(xt), 1000)])
        acc = float((pred.numpy() == yte).mean())
    return seen / t, acc


RUNNERS = {"fastdl": run_fastdl, "numpy": run_numpy, "torch": run_torch}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None,
                   help="MNIST IDX folder (default: $FASTDL_DATA, then the fastdl cache)")
    p.add_argument("--epochs-mlp", type=int, default=3)
    p.add_argument("--epochs-cnn", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="300 batches each, no accuracy")
    p.add_argument("--numpy-cnn-batches", type=int, default=60,
                   help="NumPy's CNN is slow: time it on this many batches")
    p.add_argument("--only", choices=["mlp", "cnn"])
    a = p.parse_args(argv)
    x, y, xte, yte = load_mnist(a.data)
    try:
        import torch  # noqa: F401
        frameworks = ["fastdl", "torch", "numpy"]
    except ImportError:
        frameworks = ["fastdl", "numpy"]
    print("threads=%d, isa=%s" % (fastdl.get_num_threads(), fastdl.config()["isa_active"]))
    print("| model | framework | samples/s | test accuracy | fastdl speed-up |")
    print("| --- | --- | --- | --- | --- |")
    for kind, bs, epochs in (("mlp", 128, a.epochs_mlp), ("cnn", 64, a.epochs_cnn)):
        if a.only and kind != a.only:
            continue
        w0 = initial_weights(kind)
        res = {}
        for fw in frameworks:
            limit = 300 if a.quick else None
            if fw == "numpy" and kind == "cnn":
                limit = a.numpy_cnn_batches
            ep = 1 if limit else epochs
            test = (xte, yte) if not limit else (None, None)
            res[fw] = RUNNERS[fw](kind, w0, x, y, *test, ep, bs, limit)
        for fw, (sps, acc) in res.items():
            ratio = res["fastdl"][0] / sps
            print("| %s | %s | %.0f | %s | %s |" % (
                kind.upper(), fw, sps, "-" if acc is None else "%.4f" % acc,
                "-" if fw == "fastdl" else "%.2fx" % ratio))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
