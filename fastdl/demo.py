"""python -m fastdl demo: train a small CNN and show the whole workflow.

On MNIST when the IDX files are found (--data, $FASTDL_DATA, or
../shared/data/mnist next to the working directory); otherwise on
scikit-learn's bundled 8x8 digits (offline, under a minute on 2 cores).
Prints the epoch table and the test accuracy, saves the model and a
training-curve PNG, and says where.
"""
import argparse
import os
import sys
import time

import numpy as np

import fastdl
from fastdl import nn
from fastdl.callbacks import EarlyStopping, ModelCheckpoint

_CANDIDATES = ("../shared/data/mnist", "../../shared/data/mnist", "data/mnist")


def find_mnist(path=None):
    """Directory with the MNIST IDX files, or None."""
    cands = [path] if path else []
    if os.environ.get("FASTDL_DATA"):
        cands += [os.environ["FASTDL_DATA"], os.path.join(os.environ["FASTDL_DATA"], "mnist")]
    if not path:
        cands += list(_CANDIDATES)
    for c in cands:
        if c and any(os.path.exists(os.path.join(c, "train-images-idx3-ubyte" + ext))
                     for ext in ("", ".gz")):
            return os.path.abspath(c)
    if path:
        raise FileNotFoundError("demo: no MNIST IDX files (train-images-idx3-ubyte[.gz], ...) "
                                "in %s" % path)
    return None


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


def load(data):
    root = find_mnist(data)
    if root is not None:
        xtr, ytr = fastdl.datasets.mnist(root, "train", download=False)
        xte, yte = fastdl.datasets.mnist(root, "test", download=False)
        scale = np.float32(1 / 255.0)
        xtr = xtr.astype(np.float32)[:, None] * scale
        xte = xte.astype(np.float32)[:, None] * scale
        return "MNIST (%s)" % root, xtr, ytr, xte, yte, mnist_cnn(), 64
    try:
        x, y = fastdl.datasets.load_digits()
    except ImportError as e:
        raise SystemExit("demo: no MNIST files found (pass --data DIR or set FASTDL_DATA) and "
                         "the offline digits need scikit-learn: %s" % e)
    x = x[:, None]
    xtr, xte, ytr, yte = fastdl.data.train_test_split(x, y, test_size=0.2, stratify=y,
                                                      random_state=0)
    return "scikit-learn digits (offline)", xtr, ytr, xte, yte, digits_cnn(), 32


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastdl demo", description=__doc__.split("\n")[0])
    p.add_argument("--data", help="directory with the MNIST IDX files")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (default 1 on MNIST, 15 on the digits)")
    p.add_argument("--out", default="fastdl-demo", help="output directory (model, plot)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    fastdl.manual_seed(a.seed)
    name, xtr, ytr, xte, yte, model, batch = load(a.data)
    epochs = a.epochs or (1 if "MNIST" in name else 15)
    os.makedirs(a.out, exist_ok=True)
    print("fastdl %s demo: %s, %d train / %d test images, %s, %d thread(s)"
          % (fastdl.__version__, name, len(xtr), len(xte), fastdl.config()["isa_active"],
             fastdl.get_num_threads()))
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
    sys.exit(main())
