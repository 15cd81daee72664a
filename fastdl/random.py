"""Global random state: one seed and a call counter driving libfastdl's
counter-based generator (Philox4x32-10).

Each random call takes the next stream id, and element i of its output is a
pure function of (seed, stream, i). So the same seed gives the same numbers
for any thread count, and a saved state replays exactly.
"""
import threading

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state"]

_DEFAULT_SEED = 67280421310721      # fixed, so an unseeded program is repeatable


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.seed = _DEFAULT_SEED
        self.stream = 0


_state = _State()


def manual_seed(seed):
    """Seed every fastdl random function (creation, init, dropout, shuffling). Returns None.

    The generator is counter-based, so a seed gives the same numbers for any
    thread count and kernel path.

    Args:
        seed: an int (negative values wrap to 64 bits).

    Example:
        >>> fastdl.manual_seed(0); a = fastdl.rand(3)
        >>> fastdl.manual_seed(0); b = fastdl.rand(3)
        >>> np.array_equal(a.numpy(), b.numpy())
        True
    """
    seed = int(seed)
    if seed < 0:
        seed &= (1 << 64) - 1
    with _state.lock:
        _state.seed = seed & ((1 << 64) - 1)
        _state.stream = 0


def seed():
    """Seed fastdl's generator from the OS's entropy; returns the seed used.

    Example:
        >>> s = fastdl.seed()
        >>> fastdl.initial_seed() == s
        True
    """
    import os
    s = int.from_bytes(os.urandom(8), "little")
    manual_seed(s)
    return s


def initial_seed():
    """The seed in use: the one given to manual_seed() (or seed()), else the fixed default.

    Example:
        >>> fastdl.manual_seed(7)
        >>> fastdl.initial_seed()
        7
    """
    return _state.seed


def next_key():
    """(seed, stream) for one random call; advances the state."""
    with _state.lock:
        s = _state.stream
        _state.stream += 1
        return _state.seed, s


def get_rng_state():
    """The generator's state, a small dict that set_rng_state() restores exactly.

    Example:
        >>> state = fastdl.get_rng_state()
        >>> a = fastdl.rand(2)
        >>> fastdl.set_rng_state(state)
        >>> bool((fastdl.rand(2) == a).numpy().all())
        True
    """
    return {"seed": _state.seed, "stream": _state.stream}


def set_rng_state(state):
    """Restore a state from get_rng_state(): the following random calls repeat exactly.

    Args:
        state: a dict from get_rng_state() ({"seed": int, "stream": int}).

    Example:
        >>> state = fastdl.get_rng_state()
        >>> a = fastdl.randn(3)
        >>> fastdl.set_rng_state(state)
        >>> np.array_equal(fastdl.randn(3).numpy(), a.numpy())
        True
    """
    with _state.lock:
        _state.seed = int(state["seed"])
        _state.stream = int(state["stream"])


def run_with_generator(gen, fn, args, kwargs):
    """fn(*args, **kwargs) drawing its random keys from the Generator gen (its own
    seed and counter), leaving the global state as it was."""
    from fastdl.ops import Generator
    if not isinstance(gen, Generator):
        raise TypeError("generator: expected a fastdl.Generator, got %r" % (gen,))
    with _state.lock:
        saved = (_state.seed, _state.stream)
        _state.seed, _state.stream = gen._seed, (1 << 62) | gen._stream
    try:
        return fn(*args, **kwargs)
    finally:
        with _state.lock:
            gen._stream = _state.stream - (1 << 62)
            _state.seed, _state.stream = saved
