"""Random keys for the data pipeline.

Every random step (an epoch's shuffle, a split, a generated data set) needs
(seed, stream) keys for libfastdl's counter-based generator. With seed None
they come from the global fastdl RNG (fastdl.manual_seed), so one seed fixes
the whole program; with an int seed (random_state=, generator=) they come from
a private sequence (seed, 2**63 + k), k = 0, 1, ..., which never collides
with the global streams and ignores the global state.
"""
import numbers

import numpy as np

from fastdl import random as _random
from fastdl._C import _core

_MASK = (1 << 64) - 1
_PRIVATE = 1 << 63


class KeyStream:
    """Successive (seed, stream) keys; from the global RNG when seed is None."""

    def __init__(self, seed=None, what="random_state"):
        if isinstance(seed, KeyStream):
            self.seed, self.count = seed.seed, seed.count
            return
        if type(seed).__name__ == "Generator" and hasattr(seed, "_next_key"):
            seed = seed._next_key()[0] ^ seed._next_key()[1]    # a fastdl.Generator: its stream
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise TypeError("%s must be None or an int seed, got %r" % (what, seed))
        self.seed = None if seed is None else int(seed) & _MASK
        self.count = 0

    def next(self):
        if self.seed is None:
            return _random.next_key()
        key = (self.seed, _PRIVATE | self.count)
        self.count += 1
        return key

    def state(self):
        return {"seed": self.seed, "count": self.count}

    def load_state(self, state):
        self.seed, self.count = state["seed"], int(state["count"])


def keys(seed):
    """A KeyStream from None, an int, or an existing KeyStream (shared, not copied)."""
    return seed if isinstance(seed, KeyStream) else KeyStream(seed)


def permutation(n, seed=None):
    """A permutation of range(n) (int64) from one key."""
    s, st = keys(seed).next()
    return _core.rng_permutation(int(n), s, st)


def uniform(ks, shape, low=0.0, high=1.0, dtype=np.float64):
    s, st = ks.next()
    return _core.rng_uniform(shape, s, st, 0, low, high, dtype)


def normal(ks, shape, mean=0.0, std=1.0, dtype=np.float64):
    s, st = ks.next()
    return _core.rng_normal(shape, s, st, 0, mean, std, dtype)


def randint(ks, shape, low, high):
    s, st = ks.next()
    return _core.rng_randint(shape, s, st, 0, low, high)
