"""Sequential, ModuleList, ModuleDict (PyTorch semantics)."""
from collections import OrderedDict

from fastdl.nn.layers import (BatchNorm1d, BatchNorm2d, Conv2d, Linear, ReLU, _bn_relu_call,
                              _bn_relu_pair, _conv_relu_call, _conv_relu_pair,
                              _conv_relu_pool_call, _linear_relu_call, _linear_relu_pair,
                              _relu_pool_call, _relu_pool_pair)
from fastdl.nn.module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class Sequential(Module):
    """Modules applied in order: the output of each is the input of the next.

    Indexing gives a module, slicing a Sequential; ``append`` adds one at the
    end. Submodules are named '0', '1', ... or by the keys of an OrderedDict.

    Args:
        *args: modules, or one OrderedDict of name -> module.

    Shapes:
        input: what the first module takes -> output: what the last one gives.

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> net(fastdl.randn(3, 4)).shape
        (3, 2)
        >>> list(net.state_dict())[:2]
        ['0.weight', '0.bias']
        >>> net[0]
        Linear(in_features=4, out_features=8, bias=True)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        n = len(items)
        if not -n <= idx < n:
            raise IndexError("Sequential: index %d is out of range (%d modules)" % (idx, n))
        return items[idx % n][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for k in (keys[idx] if isinstance(idx, slice) else [keys[idx]]):
            del self._modules[k]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end; returns the Sequential."""
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input):
        """Run the input through every module in order.

        Without forward hooks on the modules involved, a Linear, Conv2d (or
        BatchNorm1d/2d) directly followed by a ReLU runs as one fused GEMM or
        convolution + bias + ReLU (batch_norm + ReLU) node, and a ReLU directly followed by a MaxPool2d (without
        return_indices) as one max-pool + ReLU node on the pooled output (relu and max
        commute): Conv2d, ReLU, MaxPool2d becomes the plain convolution and that node.
        Same values and gradients, fewer passes."""
        mods = tuple(self._modules.values())
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            tm = type(m)
            if tm is Linear and i + 1 < n and _linear_relu_pair(m, mods[i + 1]):
                input = _linear_relu_call(m, mods[i + 1], input)
                i += 2
            elif tm is Conv2d and i + 1 < n and _conv_relu_pair(m, mods[i + 1]):
                if i + 2 < n and _relu_pool_pair(mods[i + 1], mods[i + 2]):
                    out = _conv_relu_pool_call(m, mods[i + 1], mods[i + 2], input)
                    if out is not None:
                        input = out
                        i += 3
                        continue
                input = _conv_relu_call(m, mods[i + 1], input)
                i += 2
            elif (tm is BatchNorm2d or tm is BatchNorm1d) and i + 1 < n \
                    and _bn_relu_pair(m, mods[i + 1]):
                input = _bn_relu_call(m, mods[i + 1], input)
                i += 2
            elif tm is ReLU and i + 1 < n and _relu_pool_pair(m, mods[i + 1]):
                out = _relu_pool_call(m, mods[i + 1], input)
                input = m(input) if out is None else out
                i += 1 if out is None else 2
            else:
                input = m(input)
                i += 1
        return input


class ModuleList(Module):
    """A list of modules, registered so that their parameters belong to the owner.

    Use it when a model holds a variable number of layers; a plain Python list
    would hide their parameters from ``parameters()`` and ``state_dict()``.

    Args:
        modules: an iterable of modules (default empty).

    Example:
        >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        >>> len(layers), len(list(layers.parameters()))
        (3, 6)
        >>> layers.append(nn.ReLU())[3]
        ReLU()
    """
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        n = len(self)
        if not -n <= idx < n:
            raise IndexError("ModuleList: index %d is out of range (%d modules)" % (idx, n))
        return self._modules[str(idx % n)]

    def __setitem__(self, idx, module):
        self.add_module(str(idx % len(self)), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end; returns the ModuleList."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of an iterable; returns the ModuleList."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert a module before position ``index``."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for m in mods:
            self.append(m)


class ModuleDict(Module):
    """An ordered dict of named modules, registered so that their parameters belong to the owner.

    Args:
        modules: a mapping or an iterable of (name, module) pairs (default empty).

    Example:
        >>> heads = nn.ModuleDict({'enc': nn.Linear(4, 2), 'act': nn.ReLU()})
        >>> list(heads.keys())
        ['enc', 'act']
        >>> heads['enc'](fastdl.randn(1, 4)).shape
        (1, 2)
    """
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        """The module names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules):
        """Add or replace modules from a mapping or (name, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def pop(self, key):
        """Remove the module named ``key`` and return it."""
        return self._modules.pop(key)
