"""Tutorial: Keras-style training with fastdl.Trainer.

If you know Keras's ``model.compile(...)`` / ``model.fit(...)``, the Trainer
is the same workflow over a fastdl (PyTorch-style) model: optimizer, loss and
metrics by name, ``fit(x, y, batch_size, epochs, validation_split=...)``
returning a History, callbacks with Keras's names and arguments, and
``evaluate`` / ``predict`` with Keras's return values.

The task: tell apart three kinds of small 8x8 images (a horizontal bar, a
vertical bar, a diagonal), drawn at random places with noise. The images are
generated here, so the script needs no download and no data directory.

    python examples/tutorial_keras_fit.py            # a few seconds on 2 cores
    python examples/tutorial_keras_fit.py --quick    # a smaller run

Steps:
 1. make the images as NumPy arrays (N, 1, 8, 8) float32 and labels (N,) int64;
 2. build a small convolutional model with nn.Sequential and print its summary;
 3. Trainer(model, "adam", "sparse_categorical_crossentropy", metrics=["accuracy"]);
 4. fit with a validation split and EarlyStopping / ModelCheckpoint callbacks;
 5. evaluate on held-out data and predict class probabilities.
"""
import argparse
import os
import tempfile

import numpy as np

import fastdl
from fastdl import nn
from fastdl.callbacks import EarlyStopping, ModelCheckpoint

CLASSES = ("horizontal bar", "vertical bar", "diagonal")


# ---- 1. data --------------------------------------------------------------------------

def bars(n, size=8, noise=0.3, seed=0):
    """n noisy size x size images of one of three strokes: x (n, 1, size, size), y (n,)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(0.0, noise, (n, 1, size, size)).astype(np.float32)
    pos = rng.integers(1, size - 1, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], 1:-1] += 1.0
        elif y[i] == 1:
            x[i, 0, 1:-1, pos[i]] += 1.0
        else:
            k = pos[i] - size // 2
            idx = np.arange(size)
            keep = (idx + k >= 0) & (idx + k < size)
            x[i, 0, idx[keep], idx[keep] + k] += 1.0
    return x, y.astype(np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="a small run (also FASTDL_TUTORIAL_QUICK=1)")
    args = ap.parse_args()
    quick = args.quick or os.environ.get("FASTDL_TUTORIAL_QUICK") == "1"
    n_train, n_test, epochs = (1200, 300, 8) if quick else (4000, 1000, 20)

    fastdl.manual_seed(0)
    x_train, y_train = bars(n_train, seed=0)
    x_test, y_test = bars(n_test, seed=1)
    print("data: %d training and %d test images of shape %s, classes %s"
          % (len(x_train), len(x_test), x_train.shape[1:], ", ".join(CLASSES)))

    # ---- 2. the model: PyTorch layers, Keras workflow
    model = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 8x8 -> 4x4
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 32), nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(32, len(CLASSES)),                       # logits
    )
    model.summary(input_shape=(1, 8, 8))

    # ---- 3. compile: names as in Keras (objects work too: fastdl.optim.Adam(...), ...)
    trainer = fastdl.Trainer(model, "adam", "sparse_categorical_crossentropy",
                             metrics=["accuracy"])

    # ---- 4. fit: Keras's positional order (x, y, batch_size, epochs)
    with tempfile.TemporaryDirectory() as tmp:
        best = os.path.join(tmp, "best.safetensors")
        callbacks = [
            EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
            ModelCheckpoint(best, monitor="val_accuracy", save_best_only=True),
        ]
        history = trainer.fit(x_train, y_train, 64, epochs, validation_split=0.1,
                              callbacks=callbacks, verbose=2)
        saved = os.path.exists(best)
    print("epochs run: %d; history keys: %s" % (len(history.history["loss"]),
                                               ", ".join(sorted(history.history))))
    print("best checkpoint written:", saved)

    # ---- 5. evaluate and predict, as in Keras
    loss, acc = trainer.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print("test loss %.4f  test accuracy %.4f" % (loss, acc))
    logits = trainer.predict(x_test[:5], verbose=0)       # a NumPy array
    probs = fastdl.nn.functional.softmax(fastdl.tensor(logits), dim=1).numpy()
    for p, t in zip(probs, y_test[:5]):
        print("  predicted %-15s (p=%.2f)  true %s" % (CLASSES[int(p.argmax())], p.max(),
                                                       CLASSES[t]))


if __name__ == "__main__":
    main()
