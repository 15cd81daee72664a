"""The fastdl.data pipeline end to end, and how fast it feeds a model.

Loads MNIST (or scikit-learn's digits when the MNIST files are not found),
splits off a validation set with class stratification, standardizes the
pixels with statistics of the training part only, and iterates one shuffled
epoch with on-the-fly augmentation, printing samples/s for each stage.

    python examples/data_pipeline.py [--data DIR]
"""
import argparse
import os
import time

import numpy as np

import fastdl
from fastdl import datasets
from fastdl.data import DataLoader, StandardScaler, TensorDataset, train_test_split
from fastdl.data import transforms as T


def load(data_dir):
    for root in (data_dir, os.environ.get("FASTDL_DATA"),
                 os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")):
        if root:
            try:
                x, y = datasets.mnist(root, "train", download=False)
                return x.astype(np.float32) / 255.0, y, "MNIST from %s" % root
            except FileNotFoundError:
                pass
    x, y = datasets.load_digits()
    return x, y, "scikit-learn digits (MNIST files not found)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="directory holding the MNIST .gz files")
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()

    fastdl.manual_seed(0)
    x, y, what = load(args.data)
    n, h, w = x.shape
    print("data: %s, %d images of %dx%d" % (what, n, h, w))

    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.1, stratify=y, random_state=0)
    scaler = StandardScaler().fit(x_tr.reshape(len(x_tr), -1))
    x_tr = scaler.transform(x_tr.reshape(len(x_tr), -1)).reshape(-1, 1, h, w)
    x_va = scaler.transform(x_va.reshape(len(x_va), -1)).reshape(-1, 1, h, w)
    print("split: %d train / %d validation, class shares kept: %s"
          % (len(y_tr), len(y_va), np.round(np.bincount(y_va) / len(y_va), 3).tolist()))

    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=args.batch_size, shuffle=True)
    augment = T.Compose([T.RandomCrop((h, w), padding=2), T.RandomRotation(10),
                         T.GaussianNoise(0.05)])

    t = time.perf_counter()
    for xb, yb in loader:
        pass
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    for xb, yb in loader:
        xb = augment(xb)
    total_s = time.perf_counter() - t
    print("one epoch, %d batches of %d: loading %.0f samples/s, loading + augmentation "
          "%.0f samples/s (%d threads)" % (len(loader), args.batch_size, len(y_tr) / load_s,
                                          len(y_tr) / total_s, fastdl.get_num_threads()))


if __name__ == "__main__":
    main()
