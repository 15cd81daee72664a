"""Data for the compat programs as plain NumPy arrays (loading data is not the API under test).

The digits are the UCI handwritten digits bundled with fastdl (8x8, 1,797 images).
"""
import numpy as np


def digits(seed=0, n_test=397):
    from fastdl.data.datasets import load_digits
    x, y = load_digits()
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1, 8, 8)      # already in [0, 1]
    y = np.asarray(y, dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    x, y = x[perm], y[perm]
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


TEXT = ("the quick brown fox jumps over the lazy dog. a stitch in time saves nine. "
        "all that glitters is not gold. the early bird catches the worm. "
        "actions speak louder than words. practice makes perfect. ") * 4
