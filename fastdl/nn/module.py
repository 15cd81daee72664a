"""Module and Parameter, following PyTorch's public conventions.

Assigning a Parameter or a Module as an attribute registers it; state_dict()
uses dotted keys; load_state_dict(strict=True) names every missing or
unexpected key and every shape mismatch.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from fastdl.autograd import no_grad
from fastdl.tensor import Tensor

__all__ = ["Module", "Parameter", "Buffer"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter when assigned as an attribute.

    Args:
        data: a Tensor or NumPy array holding the initial values (default: an
            empty float32 array). The storage is shared, not copied.
        requires_grad: default True.

    Example:
        >>> w = nn.Parameter(fastdl.zeros(3))
        >>> w.requires_grad
        True
        >>> class Scale(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.alpha = nn.Parameter(fastdl.ones(1))
        >>> [name for name, _ in Scale().named_parameters()]
        ['alpha']
    """
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data._data if isinstance(data, Tensor) else data
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer:
    """Marker for non-learnable state such as running statistics.

    Buffers are registered with ``Module.register_buffer``; they appear in
    ``state_dict()`` (unless non-persistent) but not in ``parameters()``.

    Example:
        >>> bn = nn.BatchNorm1d(2)
        >>> [name for name, _ in bn.named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
    """


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RemovableHandle:
    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


class Module:
    """Base class of every layer and model (torch.nn.Module).

    Subclasses set parameters and sub-modules as attributes in ``__init__``
    and define ``forward``. Calling the module runs ``forward`` (and forward
    hooks). Assigning a Parameter or Module attribute registers it, so
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and
    ``zero_grad()`` reach the whole tree.

    Example:
        >>> class MLP(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = nn.Linear(4, 8)
        ...         self.fc2 = nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.fc2(F.relu(self.fc1(x)))
        >>> model = MLP()
        >>> model(fastdl.randn(3, 4)).shape
        (3, 2)
        >>> list(model.state_dict())
        ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
        >>> model.num_parameters()
        58
    """
    _version = 1

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_hook_id"] = 0

    # ---- registration ----------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign %r before Module.__init__() call" % name)
        params, mods, bufs = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            mods.pop(name, None)
            bufs.pop(name, None)
            d.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            bufs.pop(name, None)
            d.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError("cannot assign %s as parameter %r (fastdl.nn.Parameter or None "
                                "expected)" % (type(value).__name__, name))
            params[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError("cannot assign %s as buffer %r (Tensor or None expected)"
                                % (type(value).__name__, name))
            bufs[name] = value
        elif name in mods:
            if value is not None:
                raise TypeError("cannot assign %s as child module %r (Module or None expected)"
                                % (type(value).__name__, name))
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register a Parameter (or None) under ``name``, as attribute assignment does."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError("register_parameter: expected a Parameter or None for %r, got %s"
                            % (name, type(param).__name__))
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable Tensor (or None) under ``name``.

        Args:
            name: attribute name.
            tensor: a Tensor or None.
            persistent: include it in ``state_dict()`` (default True).
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError("register_buffer: expected a Tensor or None for %r, got %s"
                            % (name, type(tensor).__name__))
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register a sub-module (or None) under ``name``, as attribute assignment does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError("add_module: %s is not a Module" % type(module).__name__)
        self._modules[str(name)] = module

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at a dotted path such as "encoder.0"; "" is the module itself."""
        mod = self
        for part in target.split(".") if target else []:
            mod = getattr(mod, part)
        return mod

    # ---- calling ------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """The computation of the module; subclasses override it. Call the module, not forward."""
        raise NotImplementedError("%s: forward() is not implemented" % type(self).__name__)

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                r = hook(self, args, out)
                if r is not None:
                    out = r
        # the last output's shape, for summary() (one dict store per call)
        if isinstance(out, Tensor):
            self.__dict__["_last_output_shape"] = out._data.shape
        elif isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor):
            self.__dict__["_last_output_shape"] = out[0]._data.shape
        return out

    def register_forward_hook(self, hook):
        """hook(module, inputs, output) runs after forward; returns a handle with remove()."""
        self.__dict__["_hook_id"] += 1
        key = self._hook_id
        self._forward_hooks[key] = hook
        return _RemovableHandle(self._forward_hooks, key)

    # ---- iteration --------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self):
        """Yield this module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield (name, module) for the direct sub-modules."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """Yield the direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mprefix + ("." if mprefix else "") + name, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, Parameter) for every parameter, each once (recurse=False: own only)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter of the module tree, each once: what an optimizer takes.

        Args:
            recurse: include sub-modules' parameters (default True).

        Example:
            >>> [tuple(p.shape) for p in nn.Linear(3, 2).parameters()]
            [(2, 3), (2,)]
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, Tensor) for every buffer, each once."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every buffer of the module tree, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _cast(self, dtype):
        """Convert every floating parameter and buffer to dtype in place (their
        .grad too); the Parameter objects stay the same, so an optimizer built
        before still holds them."""
        for t in list(self.parameters()) + list(self.buffers()):
            if t._data.dtype.kind == "f" and t._data.dtype != dtype:
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._wrap(t.grad._data.astype(dtype))
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast the parameters and buffers in place; returns self (torch.nn.Module.to).

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)`` and the keywords ``device``, ``dtype``,
        ``non_blocking``. The device must be the CPU; dtype a floating dtype
        (float32 or float64; float16/bfloat16 are refused). Integer buffers
        keep their dtype.

        Example:
            >>> m = nn.Linear(2, 3).to("cpu", fastdl.float64)
            >>> m.weight.dtype
            dtype('float64')
        """
        from fastdl import _device
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError("Module.to: unexpected keyword arguments %s" % sorted(kwargs))
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif _device.is_device(a):
                dev = a
            elif a is not None and not isinstance(a, bool):
                dtype = a
        _device.check_device(dev, "Module.to")
        if dtype is None:
            return self
        if isinstance(dtype, str) and dtype in ("float16", "half", "bfloat16"):
            raise TypeError("Module.to: %s is not supported by fastdl (float32 and float64 only)"
                            % dtype)
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError("Module.to: nn.Module.to only accepts floating point dtypes "
                            "float32 or float64, got %s" % dtype)
        return self._cast(dtype)

    def cpu(self):
        """Move the module to the CPU: returns self (it already is there).

        Example:
            >>> nn.Linear(2, 3).cpu().weight.device
            device(type='cpu')
        """
        return self

    def cuda(self, device=None):
        """Refused: fastdl runs on the CPU only (raises RuntimeError).

        Example:
            >>> nn.Linear(2, 3).cuda()
            Traceback (most recent call last):
            ...
            RuntimeError: Module.cuda: fastdl runs on the CPU only; there is no CUDA device
        """
        raise RuntimeError("Module.cuda: fastdl runs on the CPU only; there is no CUDA device")

    def double(self):
        """Cast floating parameters and buffers to float64 in place; returns self.

        Example:
            >>> nn.Linear(2, 3).double().weight.dtype
            dtype('float64')
        """
        return self._cast(np.dtype(np.float64))

    def float(self):
        """Cast floating parameters and buffers to float32 in place; returns self.

        Example:
            >>> nn.Linear(2, 3).double().float().weight.dtype
            dtype('float32')
        """
        return self._cast(np.dtype(np.float32))

    def half(self):
        """Refused: float16 is not supported by fastdl (raises TypeError).

        Example:
            >>> nn.Linear(2, 3).half()
            Traceback (most recent call last):
            ...
            TypeError: Module.half: float16 is not supported by fastdl (float32 and float64 only)
        """
        raise TypeError("Module.half: float16 is not supported by fastdl (float32 and float64 "
                        "only)")

    def bfloat16(self):
        """Refused: bfloat16 is not supported by fastdl (raises TypeError).

        Example:
            >>> nn.Linear(2, 3).bfloat16()
            Traceback (most recent call last):
            ...
            TypeError: Module.bfloat16: bfloat16 is not supported by fastdl (float32 and float64 only)
        """
        raise TypeError("Module.bfloat16: bfloat16 is not supported by fastdl (float32 and "
                        "float64 only)")

    def apply(self, fn):
        """Call ``fn(m)`` on every sub-module (children first) and on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes ----------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) on the whole tree; returns self.

        Dropout and BatchNorm behave differently in the two modes.
        """
        if not isinstance(mode, bool):
            raise ValueError("train: training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode on the whole tree (``train(False)``); returns self."""
        return self.train(False)

    @property
    def trainable(self):
        """Keras's switch: ``module.trainable = False`` freezes every parameter of the
        module and its sub-modules (requires_grad=False, gradients cleared), so no
        optimizer updates them; ``True`` unfreezes them. Reading it gives the last
        value set (True by default). PyTorch's spelling is requires_grad_().
        BatchNorm running statistics still update in train mode (call eval() on
        the layer to freeze them too).

        Example:
            >>> import fastdl
            >>> layer = fastdl.nn.Linear(4, 3)
            >>> layer.trainable = False
            >>> layer.weight.requires_grad
            False
        """
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError("%s.trainable must be True or False, got %r"
                            % (type(self).__name__, value))
        value = bool(value)
        for m in self.modules():
            m.__dict__["_trainable"] = value
        for p in self.parameters():
            p.requires_grad_(value)
            if not value:
                p.grad = None

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze this module's parameters, e.g. for fine-tuning."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros (set_to_none=False)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def reset_parameters(self):
        """Re-initialize this module's own parameters (layers override it)."""

    # ---- state ------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers under dotted names ("0.weight"), as detached Tensors.

        Args:
            destination: an OrderedDict to fill (default: a new one).
            prefix: prepended to every key.
            keep_vars: return the live Tensors instead of detached views.

        Example:
            >>> list(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).state_dict())
            ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers (in place).

        Values may be fastdl Tensors or NumPy arrays. Shape mismatches always
        raise; with strict=True missing and unexpected keys raise too, and the
        error names every one of them.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, v in state_dict.items():
            if k not in own:
                continue
            arr = v._data if isinstance(v, Tensor) else np.asarray(v)
            if arr.shape != own[k].shape:
                errors.append("size mismatch for %s: copying a param with shape %s from "
                              "checkpoint, the shape in current model is %s"
                              % (k, tuple(arr.shape), tuple(own[k].shape)))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: %s"
                              % ", ".join('"%s"' % k for k in unexpected))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: %s"
                              % ", ".join('"%s"' % k for k in missing))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for %s:\n\t%s"
                               % (type(self).__name__, "\n\t".join(errors)))
        with no_grad():
            for k, v in state_dict.items():
                if k in own:
                    arr = v._data if isinstance(v, Tensor) else np.asarray(v)
                    own[k]._data[...] = arr.astype(own[k].dtype, copy=False)
        return _IncompatibleKeys(missing, unexpected)

    # ---- description ------------------------------------------------------------------
    def extra_repr(self):
        """The layer's own settings, shown inside its repr; layers override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append("(%s): %s" % (name, body))
        main = type(self).__name__ + "("
        if not lines:
            return main + extra + ")"
        if extra:
            lines = extra.split("\n") + lines
        return main + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        keys = set(object.__dir__(self))
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(keys)

    def num_parameters(self, trainable_only=False):
        """The number of parameter elements (trainable_only=True: those with requires_grad)."""
        return int(sum(p.numel() for p in self.parameters()
                       if p.requires_grad or not trainable_only))

    def summary(self, input_shape=None, dtype=np.float32, print_fn=print):
        """Print a Keras-style table: layer, output shape, parameter count.

        Works without an input shape: parameter counts always, output shapes
        once the model has run (from its last call), "?" before. With
        input_shape the model runs once on zeros to find the shapes.

        Args:
            input_shape: optional; one sample's shape, without the batch dim
                (e.g. (1, 28, 28)), or a list of such shapes for several inputs.
            dtype: dtype of the zeros used with input_shape.
            print_fn: called with the table (None: only return it).
        Returns:
            the table as a string.

        Example:
            >>> import fastdl
            >>> m = fastdl.nn.Sequential(fastdl.nn.Linear(4, 3))
            >>> "Total params: 15" in m.summary(print_fn=None)
            True
        """
        names = {}
        for name, m in self.named_modules():
            if m is self and self._modules:
                continue
            names[id(m)] = name or type(m).__name__.lower()

        def fmt(shape):
            if shape is None:
                return "?"
            return "(" + ", ".join(["None"] + [str(s) for s in tuple(shape)[1:]]) + ")"

        def own(mod):
            return sum(p.numel() for p in mod.parameters(recurse=False))
        if input_shape is not None:
            rows = self._summary_rows_by_running(input_shape, dtype, names, fmt, own)
        else:
            rows = [(names[id(m)], type(m).__name__,
                     fmt(m.__dict__.get("_last_output_shape")), own(m))
                    for _, m in self.named_modules() if id(m) in names]
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        w1 = max([len("Layer (type)")] + [len("%s (%s)" % (r[0], r[1])) for r in rows]) + 2
        w2 = max([len("Output Shape")] + [len(r[2]) for r in rows]) + 2
        sep = "=" * (w1 + w2 + 12)
        out = [sep, "%-*s%-*s%10s" % (w1, "Layer (type)", w2, "Output Shape", "Param #"), sep]
        for r in rows:
            out.append("%-*s%-*s%10s" % (w1, "%s (%s)" % (r[0], r[1]), w2, r[2],
                                         "{:,}".format(r[3])))
        out += [sep, "Total params: {:,}".format(trainable + frozen),
                "Trainable params: {:,}".format(trainable),
                "Non-trainable params: {:,}".format(frozen), sep]
        if any(r[2] == "?" for r in rows):
            out.append("Output shapes are known once the model has run "
                       "(or pass input_shape).")
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    def _summary_rows_by_running(self, input_shape, dtype, names, fmt, own):
        from fastdl import creation
        shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) \
            else [input_shape]
        rows, handles = [], []

        def hook(mod, inputs, out):
            o = out[0] if isinstance(out, (tuple, list)) else out
            shape = fmt(o.shape) if isinstance(o, Tensor) else "?"
            rows.append((names[id(mod)], type(mod).__name__, shape, own(mod)))

        for _, m in self.named_modules():
            if id(m) in names:
                handles.append(m.register_forward_hook(hook))
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                self(*[creation.zeros((2,) + tuple(s), dtype=dtype) for s in shapes])
        finally:
            for h in handles:
                h.remove()
            self.train(was_training)
        return rows
