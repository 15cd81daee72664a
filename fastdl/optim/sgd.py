"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
import numpy as np

from fastdl._C import optim as _c
from fastdl.optim import _kernels as _k
from fastdl.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's ``torch.optim.SGD`` equations.

    Full-batch gradient descent, per-sample SGD and mini-batch SGD are this one
    optimizer fed gradients of different batch sizes.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum (default False).
        maximize: ascend the objective instead of descending (default False).
        foreach, fused: accepted for torch compatibility and ignored: fastdl always
            runs its fused kernel.

    State per parameter: ``momentum_buffer`` (when momentum != 0).

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.46, 0.92], requires_grad=True)
        >>> list(opt.state[w])
        ['momentum_buffer']
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    _lazy_state = ("momentum_buffer",)   # PyTorch creates it on the first step with momentum

    def _init_state(self, p, group, state):
        pass

    def _step_group(self, group):
        # The multi-tensor step: one call updates every float32 parameter of the group
        # once all have their momentum buffer (a first step, float64 or strided arrays
        # take the per-parameter path).
        mom = group["momentum"] != 0
        ps, gs, bs = [], [], []
        state = self.state
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if mom:
                s = state.get(p)
                buf = s.get("momentum_buffer") if s else None
                if buf is None:
                    return Optimizer._step_group(self, group)
                bs.append(buf)
            else:
                state.setdefault(p, {})     # an (empty) entry, as the per-parameter path leaves
            ps.append(p._data)
            gs.append(g._data)
        if not _c.sgd_step_many(ps, gs, bs, group["lr"], group["momentum"], group["dampening"],
                                group["weight_decay"], group["nesterov"], group["maximize"]):
            Optimizer._step_group(self, group)

    def _update(self, data, grad, state, group):
        buf = None
        first = False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = np.empty_like(data)
                state["momentum_buffer"] = buf
                first = True
        _k.sgd_step(data, grad, buf, group["lr"], group["momentum"], group["dampening"],
                    group["weight_decay"], group["nesterov"], group["maximize"], first)
