"""fastdl.cuda: PyTorch's ``torch.cuda`` queries, answering that no GPU is used.

fastdl runs on the CPU only, so ``is_available()`` is False and
``device_count()`` is 0; code written as ``"cuda" if torch.cuda.is_available()
else "cpu"`` selects the CPU.

Example:
    >>> fastdl.cuda.is_available(), fastdl.cuda.device_count()
    (False, 0)
"""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize",
           "empty_cache", "is_bf16_supported"]


def is_available():
    """Whether a CUDA GPU can be used: always False in fastdl (CPU only).

    Example:
        >>> fastdl.cuda.is_available()
        False
    """
    return False


def device_count():
    """The number of CUDA GPUs fastdl can use: 0.

    Example:
        >>> fastdl.cuda.device_count()
        0
    """
    return 0


def is_bf16_supported(including_emulation=True):
    """Whether CUDA supports bfloat16 here: False (no CUDA in fastdl).

    Example:
        >>> fastdl.cuda.is_bf16_supported()
        False
    """
    return False


def manual_seed(seed):
    """Seed the CUDA generators: nothing to seed in fastdl (a no-op, as torch without a GPU).

    Example:
        >>> fastdl.cuda.manual_seed(0)
    """
    int(seed)


def manual_seed_all(seed):
    """Seed every CUDA generator: a no-op in fastdl (no GPU), as torch without one.

    Example:
        >>> fastdl.cuda.manual_seed_all(0)
    """
    int(seed)


def synchronize(device=None):
    """Wait for CUDA work to finish: a no-op (fastdl's ops finish before they return).

    Example:
        >>> fastdl.cuda.synchronize()
    """


def empty_cache():
    """Release cached CUDA memory: a no-op (fastdl's own cache: ``fastdl.empty_cache()``).

    Example:
        >>> fastdl.cuda.empty_cache()
    """
