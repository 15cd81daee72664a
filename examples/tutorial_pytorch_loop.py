"""Tutorial: a PyTorch-style training loop with fastdl.

If you have written a training loop in PyTorch, you already know this one:
fastdl keeps PyTorch's names, arguments and defaults (``nn.Module``,
``optim.Adam``, ``DataLoader``, ``loss.backward()``, ``state_dict()``), and
runs every op on its own C kernels for the CPU.

The task is a classic toy problem that a linear model cannot solve: three
interleaved spirals in the plane, one class per spiral. The data is generated
here, so the script needs no download and no data directory.

    python examples/tutorial_pytorch_loop.py            # about 1 s on 2 cores
    python examples/tutorial_pytorch_loop.py --quick    # a smaller run

Steps:
 1. make the data and split it (fastdl.data.train_test_split), standardize it
    with statistics of the training part only (StandardScaler);
 2. wrap the arrays in a TensorDataset and iterate it with a DataLoader;
 3. define the model as an nn.Module subclass;
 4. loop: zero_grad, forward, loss, backward, step; schedule the learning rate;
 5. evaluate under fastdl.no_grad() with model.eval() and a streaming metric;
 6. save the weights with fastdl.save and load them into a fresh model.
"""
import argparse
import os
import tempfile
import time

import numpy as np

import fastdl
from fastdl import nn
from fastdl.data import DataLoader, StandardScaler, TensorDataset, train_test_split
from fastdl.metrics import Accuracy


# ---- 1. data ------------------------------------------------------------------------

def spirals(n_per_class, classes=3, noise=0.2, seed=0):
    """Points on `classes` interleaved spiral arms: x (N, 2) float32, y (N,) int64."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = np.linspace(c * 2 * np.pi / classes, c * 2 * np.pi / classes + 4.0, n_per_class)
        theta = theta + rng.normal(0.0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


# ---- 3. the model -----------------------------------------------------------------------

class MLP(nn.Module):
    """Two hidden layers with ReLU; outputs one logit per class."""

    def __init__(self, in_features, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        x = nn.functional.relu(self.fc1(x))
        x = nn.functional.relu(self.fc2(x))
        return self.out(x)           # raw logits: CrossEntropyLoss applies log_softmax


def evaluate(model, loader):
    """Mean loss and accuracy over a loader, without recording a graph."""
    model.eval()                     # Dropout/BatchNorm switch to inference behaviour
    criterion = nn.CrossEntropyLoss(reduction="sum")
    acc, total_loss, n = Accuracy(), 0.0, 0
    with fastdl.no_grad():
        for xb, yb in loader:
            logits = model(xb)
            total_loss += criterion(logits, yb).item()
            acc.update(logits, yb)
            n += len(yb)
    return total_loss / n, acc.compute()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="a small run (also FASTDL_TUTORIAL_QUICK=1)")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    quick = args.quick or os.environ.get("FASTDL_TUTORIAL_QUICK") == "1"
    n_per_class = 300 if quick else 1000
    epochs = args.epochs or (40 if quick else 60)

    fastdl.manual_seed(0)            # weights, shuffling: the same run every time

    x, y = spirals(n_per_class)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y,
                                                        random_state=0)
    scaler = StandardScaler().fit(x_train)          # statistics of the training part only
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    print("data: %d training and %d test points, %d classes"
          % (len(x_train), len(x_test), int(y.max()) + 1))

    # ---- 2. datasets and loaders (a batch is one C gather per array)
    train_loader = DataLoader(TensorDataset(fastdl.from_numpy(x_train),
                                            fastdl.from_numpy(y_train)),
                              batch_size=64, shuffle=True)
    test_loader = DataLoader(TensorDataset(fastdl.from_numpy(x_test), fastdl.from_numpy(y_test)),
                             batch_size=256)

    model = MLP(2, 64, 3)
    print(model)
    print("parameters:", model.num_parameters())

    # ---- 4. optimizer, schedule, loss and the loop
    optimizer = fastdl.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = fastdl.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    criterion = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(yb)
            seen += len(yb)
        scheduler.step()             # once per epoch, after the optimizer steps
        if epoch == 1 or epoch % 10 == 0 or epoch == epochs:
            test_loss, test_acc = evaluate(model, test_loader)
            print("epoch %3d  lr %.5f  train loss %.4f  test loss %.4f  test accuracy %.4f"
                  % (epoch, scheduler.get_last_lr()[0], running / seen, test_loss, test_acc))
    print("trained in %.1f s" % (time.perf_counter() - start))

    # ---- 6. save, load into a fresh model, check it predicts the same
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "spirals.safetensors")
        fastdl.save(model.state_dict(), path)
        restored = MLP(2, 64, 3)
        restored.load_state_dict(fastdl.load(path))
    model.eval()
    restored.eval()
    xt = fastdl.from_numpy(x_test)
    with fastdl.no_grad():
        same = np.array_equal(model(xt).numpy(), restored(xt).numpy())
    print("reloaded model gives identical outputs:", same)
    _, final_acc = evaluate(restored, test_loader)
    print("final test accuracy %.4f" % final_acc)


if __name__ == "__main__":
    main()
