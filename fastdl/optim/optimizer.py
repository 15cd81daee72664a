"""Optimizer: the base class of fastdl's optimizers, with PyTorch's API.

``param_groups`` holds per-group options, ``state`` holds per-parameter
buffers created lazily on the first step under PyTorch's key names, and
``state_dict()`` / ``load_state_dict()`` use PyTorch's layout with NumPy
arrays for the buffers.

The loop over parameters lives here once: a subclass supplies only its
defaults and validation, ``_init_state`` (the buffers of one parameter) and
``_update`` (one call of its fused C kernel).

Parameters are float32 (the fused C kernels) or float64 (the same formulas in
NumPy, fastdl/optim/_kernels.py); any other dtype raises ``TypeError``.
"""
import copy
import warnings
from collections import defaultdict

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

from fastdl.autograd import enable_grad
from fastdl.tensor import Tensor


class _RequiredParameter:
    """Singleton marking a hyperparameter without a default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _new_step():
    # PyTorch keeps the step count as a float32 scalar tensor; a 0-d float32
    # array is its NumPy twin (and saves like any other buffer).
    return np.zeros((), dtype=np.float32)


def _bump_step(state):
    """Increment state['step'] in place and return the new count as a float."""
    step = state["step"]
    step += 1
    return float(step)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts defining parameter groups
            (each with a ``"params"`` entry and any per-group options).
        defaults: the options used by groups that do not set them.

    Example:
        >>> w = fastdl.ones(3, requires_grad=True)
        >>> b = fastdl.zeros(1, requires_grad=True)
        >>> opt = fastdl.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        >>> (w * w).sum().backward()
        >>> opt.step(); opt.zero_grad()
        >>> w, w.grad
        (tensor([0.8, 0.8, 0.8], requires_grad=True), None)
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + type(params).__name__)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append("Parameter Group %d" % i)
            for key in sorted(group):
                if key != "params":
                    lines.append("    %s: %s" % (key, group[key]))
        lines.append(")")
        return "\n".join(lines)

    # ---- parameter groups ----------------------------------------------------------------

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (missing ones use defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError("param_group must be a dict, but got " + type(param_group).__name__)
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 "optimization parameter " + name)
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- the shared update loop ------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure()'s loss if given.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        """Update the parameters of one group that have a gradient, one fused call each."""
        name = type(self).__name__
        for p in group["params"]:
            if p.grad is None:
                continue
            data = p._data
            if data.dtype not in _FLOAT_DTYPES:
                raise TypeError("%s: parameter of shape %s is %s; fastdl.optim updates "
                                "float32 or float64 parameters" % (name, data.shape,
                                                                   data.dtype))
            grad = p.grad._data
            if grad.dtype != data.dtype:
                raise TypeError("%s: gradient of shape %s is %s, expected %s like its "
                                "parameter" % (name, grad.shape, grad.dtype, data.dtype))
            if grad.shape != data.shape:
                raise ValueError("%s: gradient has shape %s, parameter has shape %s"
                                 % (name, grad.shape, data.shape))
            # The kernels need contiguous arrays; a strided gradient is read
            # from a contiguous copy, a strided parameter is updated in a
            # copy that is written back (both rare: leaves are contiguous).
            grad = np.ascontiguousarray(grad)
            state = self.state[p]
            if len(state) == 0:
                self._init_state(p, group, state)
            if data.flags.c_contiguous and data.flags.writeable:
                self._update(data, grad, state, group)
            else:
                work = np.ascontiguousarray(data).copy()
                self._update(work, grad, state, group)
                data[...] = work

    # buffers that _update creates on a later step (PyTorch's SGD makes
    # momentum_buffer on the first step with momentum); a checkpoint may hold them
    _lazy_state = ()

    def _init_state(self, p, group, state):
        """Create the per-parameter buffers of this optimizer in `state`."""
        raise NotImplementedError

    def _update(self, data, grad, state, group):
        """Apply one fused update to the float32 arrays `data` (in place) and `state`."""
        raise NotImplementedError

    # ---- state dict ----------------------------------------------------------------------

    def state_dict(self):
        """Return the optimizer state in PyTorch's layout.

        ``{'state': {index: {key: array or number}}, 'param_groups': [{..., 'params':
        [indices]}]}``; parameters are numbered in group order. Buffers are copies, so
        later steps do not change a saved state dict.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            key = index.get(id(p), p)
            state[key] = {k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                          for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state from ``state_dict()`` (of fastdl, or PyTorch's converted to arrays)."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = {}
        for g, s in zip(groups, saved_groups):
            for p, i in zip(g["params"], s["params"]):
                id_map[i] = p
        new_state = defaultdict(dict)
        for key, saved in state_dict["state"].items():
            p = id_map.get(key)
            if p is None:
                new_state[key] = copy.deepcopy(saved)
                continue
            new_state[p] = {k: self._load_value(p, key, k, v) for k, v in saved.items()}
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            new_groups.append(s)
        self.state = new_state
        self.param_groups = new_groups

    @staticmethod
    def _load_value(p, index, key, value):
        if value is None:
            return None
        if key == "step":
            return np.array(value, dtype=np.float32).reshape(())
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            return copy.deepcopy(value)
        if arr.shape != p._data.shape:
            raise ValueError("loaded state dict: state[%d][%r] has shape %s, but the parameter "
                             "has shape %s" % (index, key, arr.shape, p._data.shape))
        # a fresh contiguous buffer in the parameter's dtype, as PyTorch casts it
        return np.array(arr, dtype=p._data.dtype, order="C", copy=True)
