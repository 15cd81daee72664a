"""fastdl demo: train a small CNN on real data and show the whole workflow.

Data, first found wins: --data DIR, then $FASTDL_DATA, then the MNIST cache
($XDG_CACHE_HOME/fastdl/mnist, default ~/.cache/fastdl/mnist), then a
download of MNIST into that cache (checksummed; skipped with --offline or
when no mirror answers within a few seconds), then the UCI handwritten digits
bundled with fastdl (1,797 8x8 images, CC BY 4.0), so the demo always trains
on real data with nothing but `pip install .`. It says which data it used
and why, prints the epoch table and the test accuracy, and saves the model
and (with matplotlib) a training-curve PNG.
"""
import argparse
import os
import sys
import time

import numpy as np

import fastdl
from fastdl import nn
from fastdl.callbacks import EarlyStopping, ModelCheckpoint
from fastdl.data import datasets as D

_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DataError(Exception):
    """A --data path the demo cannot use (reported as one line, exit code 2)."""


def _mnist_dir(path):
    """path or path/mnist when it holds the four MNIST IDX files (.gz or raw), else None."""
    for c in (path, os.path.join(path, "mnist")):
        if all(D._find(c, s) for s in _STEMS):
            return os.path.abspath(c)
    return None


def _short(path):
    home = os.path.expanduser("~")
    path = os.path.abspath(path)
    return "~" + path[len(home):] if home not in ("", "/") and path.startswith(home + os.sep) \
        else path


def choose_data(data=None, download=True):
    """Where the demo's data comes from: (root of the MNIST files or None, reason).

    None means the bundled digits. Raises DataError for a --data path that does
    not hold the MNIST files.
    """
    if data is not None:
        if not os.path.exists(data):
            raise DataError("--data %s: no such directory" % data)
        if not os.path.isdir(data):
            raise DataError("--data %s: not a directory" % data)
        root = _mnist_dir(data)
        if root is None:
            raise DataError("--data %s: no MNIST IDX files there (expected %s[.gz] and the "
                            "other three)" % (data, _STEMS[0]))
        return root, "MNIST from --data %s" % root
    notes = ["no --data"]
    env = os.environ.get("FASTDL_DATA")
    if env:
        root = _mnist_dir(env)
        if root is not None:
            return root, "MNIST from FASTDL_DATA (%s)" % root
        notes.append("FASTDL_DATA=%s has no MNIST files" % env)
    else:
        notes.append("FASTDL_DATA not set")
    cache = D.cache_dir("mnist")
    root = _mnist_dir(cache) if os.path.isdir(cache) else None
    if root is not None:
        return root, "MNIST from the cache %s" % _short(root)
    notes.append("no MNIST in the cache %s" % _short(cache))
    if not download:
        notes.append("download skipped (--offline)")
        return None, "; ".join(notes)
    try:
        for stem in _STEMS:
            if D._find(cache, stem) is None:
                D._download("mnist", stem + ".gz", cache)
    except OSError as e:
        msg = str(e)
        reason = ("no mirror reachable (offline?)" if all(p.endswith("unreachable")
                                                          for p in msg.split("; "))
                  else msg[:160])
        notes.append("download failed: %s" % reason)
        return None, "; ".join(notes)
    return cache, "MNIST downloaded to the cache %s (checksums verified)" % _short(cache)


def mnist_cnn():
    """conv32-pool-conv64-pool-fc128-fc10, the benchmark CNN."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def digits_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


def load(data=None, download=True):
    """(name, reason, x_train, y_train, x_test, y_test, model, batch size, default epochs)."""
    root, why = choose_data(data, download)
    if root is not None:
        try:
            xtr, ytr = D.mnist(root, "train", download=False)
            xte, yte = D.mnist(root, "test", download=False)
        except (OSError, ValueError) as e:
            if data is not None:
                raise DataError("--data %s: %s" % (data, e)) from None
            why += "; unreadable (%s), so" % e
            root = None
    if root is not None:
        scale = np.float32(1 / 255.0)
        xtr = xtr.astype(np.float32)[:, None] * scale
        xte = xte.astype(np.float32)[:, None] * scale
        return "MNIST", why, xtr, ytr, xte, yte, mnist_cnn(), 64, 2
    x, y = D.load_digits()
    xtr, xte, ytr, yte = fastdl.data.train_test_split(x[:, None], y, test_size=0.2, stratify=y,
                                                      random_state=0)
    name = "the bundled UCI digits (1,797 8x8 images, CC BY 4.0)"
    return name, why, xtr, ytr, xte, yte, digits_cnn(), 32, 15


def main(argv=None, prog="fastdl demo"):
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("--data", help="directory with the MNIST IDX files")
    p.add_argument("--offline", action="store_true", help="never try to download MNIST")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (default 2 on MNIST, 15 on the bundled digits; early stopping "
                        "may end sooner)")
    p.add_argument("--out", default="fastdl-demo", help="output directory (model, plot)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    fastdl.manual_seed(a.seed)
    try:
        name, why, xtr, ytr, xte, yte, model, batch, epochs = load(a.data, not a.offline)
    except DataError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2
    epochs = a.epochs or epochs
    os.makedirs(a.out, exist_ok=True)
    print("fastdl %s demo: %s, %d train / %d test images, %s, %d thread(s)"
          % (fastdl.__version__, name, len(xtr), len(xte), fastdl.config()["isa_active"],
             fastdl.get_num_threads()))
    print("data: %s" % why)
    if "digits" in name:
        print("      (UCI optical handwritten digits: E. Alpaydin and C. Kaynak, UCI Machine "
              "Learning Repository, CC BY 4.0)")
    model.summary(tuple(xtr.shape[1:]))
    opt = fastdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    trainer = fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"])
    best = os.path.join(a.out, "model.safetensors")
    t0 = time.perf_counter()
    hist = trainer.fit(xtr, ytr, epochs=epochs, batch_size=batch, validation_split=0.1,
                       verbose="auto",
                       callbacks=[ModelCheckpoint(best, monitor="val_accuracy",
                                                  save_best_only=True, save_weights_only=True),
                                  EarlyStopping(monitor="val_loss", patience=3,
                                                restore_best_weights=True)])
    secs = time.perf_counter() - t0
    print()
    hist.print_table()
    n_seen = int(len(xtr) * 0.9) * len(hist.epoch)
    print("\ntraining: %.1f s, %.0f samples/s" % (secs, n_seen / secs))
    test = trainer.evaluate(xte, yte, batch_size=256, verbose=0, return_dict=True)
    print("test accuracy: %.4f   test loss: %.4f" % (test["accuracy"], test["loss"]))
    print("model saved to %s (load with model.load_state_dict(fastdl.load(path)))" % best)
    try:
        png = hist.plot(os.path.join(a.out, "training_curves.png"))
        print("training curves saved to %s" % png)
    except ImportError:
        print("training curves not drawn: matplotlib is not installed "
              "(pip install matplotlib)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m fastdl.demo"))
