"""fastdl: deep learning on CPUs, with C kernels under a PyTorch-style API."""
import os as _os

# How idle OpenMP threads wait, unless the user chose (OMP_WAIT_POLICY or
# GOMP_SPINCOUNT): spin ~1000 rounds, then sleep. Measured on the MNIST MLP
# step (2 cores): libgomp's default spin (300000) gives 0.49 ms alone but
# 77 ms with a second training job on the machine; always sleeping gives
# 0.86 ms in both cases but 0.95 ms alone (each kernel wakes a sleeping
# thread); 1000 rounds gives 0.50 ms alone and 1.34 ms with the second job.
# libgomp reads the variable once, when libfastdl loads it, so it is set only
# for that moment.
_SPIN_DEFAULT = "1000"
_WAIT_POLICY_DEFAULT = not ({"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(_os.environ))
if _WAIT_POLICY_DEFAULT:
    _os.environ["GOMP_SPINCOUNT"] = _SPIN_DEFAULT
try:
    from fastdl._C import _core
finally:
    if _WAIT_POLICY_DEFAULT:
        del _os.environ["GOMP_SPINCOUNT"]
from fastdl.config import (config, get_include, get_lib, get_num_threads, set_num_threads,
                           show_config, tune_malloc, _check_isa_env)
from fastdl import autograd
from fastdl.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from fastdl.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from fastdl.tensor import Tensor
from fastdl.tensor import (abs, add, amax, amin, argmax, argmin, cat, chunk, clamp, clip, div,
                           exp, expand, flatten, log, matmul, max, maximum, mean, min, minimum, mul,
                           neg, permute, pow, reshape, split, sqrt, square, squeeze, stack, std,
                           sub, sum, transpose, unbind, unsqueeze, var, where)
from fastdl.creation import *  # noqa: F401,F403  (tensor, zeros, ..., dtypes)
from fastdl.creation import __all__ as _creation_all
from fastdl import data, datasets, metrics, testing
from fastdl import nn, optim
from fastdl.io import CheckpointError, load, save
from fastdl import train
from fastdl.train import Trainer
from fastdl import callbacks
from fastdl import distributed, utils    # torch's paths; MPI loads only in init_process_group

__version__ = _core.version()

_check_isa_env()
tune_malloc()
del _creation_all
