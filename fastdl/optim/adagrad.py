"""Adagrad."""
import numpy as np

from fastdl.optim import _kernels as _k
from fastdl.optim.optimizer import Optimizer, _bump_step


class Adagrad(Optimizer):
    """Adagrad, PyTorch's ``torch.optim.Adagrad`` equations.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: the step size is lr / (1 + (step - 1) * lr_decay) (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: start value of the sum of squares (default 0).
        eps: added to the denominator after the square root (default 1e-10).
        maximize: ascend the objective (default False).
        foreach, fused: accepted for torch compatibility and ignored: fastdl always
            runs its fused kernel.

    State per parameter: ``step``, ``sum``. As in PyTorch it is created in the
    constructor, so a fresh optimizer's state_dict already holds it.

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.Adagrad([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.8331, 1.8311], requires_grad=True)
        >>> list(opt.state[w])
        ['step', 'sum']
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False, foreach=None,
                 fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state[p])

    def _init_state(self, p, group, state):
        state["step"] = np.zeros((), dtype=np.float32)
        state["sum"] = np.full_like(p._data, group["initial_accumulator_value"])

    def _update(self, data, grad, state, group):
        step = _bump_step(state)
        _k.adagrad_step(data, grad, state["sum"], step, group["lr"], group["lr_decay"],
                        group["eps"], group["weight_decay"], group["maximize"])
