"""fastdl: deep learning on CPUs, with C kernels under a PyTorch-style API.

The top-level namespace holds the Tensor and its functions (creation, math,
reductions, shape ops), autograd switches (``no_grad``), the random seed
(``manual_seed``), ``save``/``load``, the run-time configuration
(``show_config``, ``set_num_threads``) and the Keras-style ``Trainer``.
Subpackages: ``nn``, ``optim``, ``data``, ``datasets``, ``metrics``,
``callbacks``, ``testing``.

Dtypes (NumPy dtype objects): ``float32`` (alias ``float``, the default),
``float64`` (alias ``double``), ``int32`` (alias ``int``), ``int64`` (alias
``long``, class labels), ``uint8`` and ``bool_``.

Example:
    >>> import fastdl
    >>> x = fastdl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x @ x).sum().backward()
    >>> x.grad
    tensor([[ 7., 11.],
            [ 9., 13.]])
    >>> fastdl.ones(2, dtype=fastdl.long).dtype == fastdl.int64
    True
"""
# Importing fastdl changes nothing process-wide: no environment variable is
# set, malloc keeps its settings, no OpenMP team is started. How idle OpenMP
# threads wait is the user's choice (OMP_WAIT_POLICY / GOMP_SPINCOUNT, see the
# README); show_config() reports the setting libgomp saw.
from fastdl._C import _core
from fastdl.config import (config, get_include, get_lib, get_num_threads, set_num_threads,
                           show_config, empty_cache, tune_malloc, _check_isa_env)
from fastdl import autograd
from fastdl.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from fastdl.autograd.inference_mode import inference_mode, is_inference_mode_enabled
from fastdl.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from fastdl.tensor import Tensor, Size
from fastdl.tensor import (abs, add, amax, amin, argmax, argmin, cat, chunk, clamp, clip, div,
                           exp, expand, flatten, log, matmul, max, maximum, mean, min, minimum, mul,
                           neg, permute, pow, reshape, split, sqrt, square, squeeze, stack, std,
                           sub, sum, transpose, unbind, unsqueeze, var, where)
from fastdl.creation import *  # noqa: F401,F403  (tensor, zeros, ..., dtypes)
from fastdl.ops import *  # noqa: F401,F403  (sin, gather, sort, einsum, ...)
from fastdl.creation import __all__ as _creation_all
from fastdl import data, datasets, metrics, testing
from fastdl import nn, optim
from fastdl.io import CheckpointError, load, save
from fastdl._model_file import export, load_model
from fastdl.dlpack import from_dlpack
from fastdl import onnx
from fastdl._device import device
from fastdl import accelerator, cuda
from fastdl import train
from fastdl.train import Trainer
from fastdl import callbacks
from fastdl import distributed, utils    # torch's paths; MPI loads only in init_process_group

__version__ = _core.version()

_check_isa_env()
del _creation_all
