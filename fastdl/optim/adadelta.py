"""Adadelta."""
import numpy as np

from fastdl.optim import _kernels as _k
from fastdl.optim.optimizer import Optimizer, _bump_step, _new_step


class Adadelta(Optimizer):
    """Adadelta, PyTorch's ``torch.optim.Adadelta`` equations.

    Args:
        params: parameters or parameter groups.
        lr: coefficient that scales delta before it is applied (default 1.0).
        rho: smoothing constant of the running averages (default 0.9).
        eps: added inside both square roots (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective (default False).
        foreach, fused: accepted for torch compatibility and ignored: fastdl always
            runs its fused kernel.

    State per parameter: ``step``, ``square_avg``, ``acc_delta``.

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.Adadelta([w], lr=1.0)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.9936, 1.9936], requires_grad=True)
        >>> list(opt.state[w])
        ['step', 'square_avg', 'acc_delta']
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False,
                 foreach=None, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _new_step()
        state["square_avg"] = np.zeros_like(p._data)
        state["acc_delta"] = np.zeros_like(p._data)

    def _update(self, data, grad, state, group):
        _bump_step(state)
        _k.adadelta_step(data, grad, state["square_avg"], state["acc_delta"], group["lr"],
                         group["rho"], group["eps"], group["weight_decay"], group["maximize"])
