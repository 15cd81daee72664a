"""RMSprop."""
import numpy as np

from fastdl.optim import _kernels as _k
from fastdl.optim.optimizer import Optimizer, _bump_step, _new_step


class RMSprop(Optimizer):
    """RMSprop, PyTorch's ``torch.optim.RMSprop`` equations.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator after the square root (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by the variance estimate instead (default False).
        maximize: ascend the objective (default False).
        foreach, fused: accepted for torch compatibility and ignored: fastdl always
            runs its fused kernel.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.RMSprop([w], lr=0.01)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.8329, 1.8309], requires_grad=True)
        >>> list(opt.state[w])
        ['step', 'square_avg']
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False, foreach=None, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    _lazy_state = ("momentum_buffer", "grad_avg")   # when momentum/centered are turned on later

    def _init_state(self, p, group, state):
        state["step"] = _new_step()
        state["square_avg"] = np.zeros_like(p._data)
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p._data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p._data)

    def _update(self, data, grad, state, group):
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(data)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(data)
        _bump_step(state)
        _k.rmsprop_step(data, grad, state["square_avg"],
                        state["grad_avg"] if group["centered"] else None,
                        state["momentum_buffer"] if group["momentum"] > 0 else None,
                        group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                        group["momentum"], group["centered"], group["maximize"])
