"""Full-batch gradient descent, per-sample SGD and mini-batch SGD are one optimizer.

They differ only in how many samples each gradient averages over. This script fits
the same linear regression three ways with fastdl.optim.SGD and prints the final
loss and the learned weights, which all approach the true ones.

Run: python examples/optim_batch_sizes.py
"""
import numpy as np

import fastdl
from fastdl import optim


def make_problem(n=512, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w_true = np.array([[2.0], [-1.0], [0.5]], dtype=np.float32)
    y = X @ w_true + 0.01 * rng.standard_normal((n, 1)).astype(np.float32)
    return X, y, w_true


def fit(X, y, batch_size, epochs, lr, seed=0):
    """Train w by SGD over shuffled batches of `batch_size` samples."""
    rng = np.random.default_rng(seed)
    w = fastdl.zeros((1, X.shape[1]), requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=0.9 if batch_size > 1 else 0.0)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            xb, yb = fastdl.tensor(X[idx]), fastdl.tensor(y[idx])
            loss = (((xb * w).sum(1, keepdim=True) - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    pred = (fastdl.tensor(X) * w).sum(1, keepdim=True)
    full = float(((pred - fastdl.tensor(y)) ** 2).mean().item())
    return w._data.ravel(), full


def main():
    X, y, w_true = make_problem()
    runs = [("full-batch GD", len(X), 200, 0.1),
            ("per-sample SGD", 1, 3, 0.01),
            ("mini-batch SGD (32)", 32, 20, 0.05)]
    print("true weights:", w_true.ravel())
    for name, bs, epochs, lr in runs:
        w, loss = fit(X, y, bs, epochs, lr)
        print(f"{name:22s} batch={bs:4d} epochs={epochs:3d}  loss={loss:.2e}  w={np.round(w, 3)}")


if __name__ == "__main__":
    main()
