"""Adam and AdamW."""
import numpy as np

from fastdl._C import optim as _c
from fastdl.optim import _kernels as _k
from fastdl.optim.optimizer import Optimizer, _bump_step, _new_step


class Adam(Optimizer):
    """Adam, PyTorch's ``torch.optim.Adam`` equations (bias correction, amsgrad).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square
            (default (0.9, 0.999)).
        eps: added to the denominator after the square root (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0), or with
            ``decoupled_weight_decay=True`` applied to the weights as AdamW does.
        amsgrad: use the maximum of past second moments (default False).
        maximize: ascend the objective (default False).
        foreach, fused: accepted for torch compatibility and ignored: fastdl always
            runs its fused kernel.
        decoupled_weight_decay: AdamW's decay (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq``
    (with amsgrad).

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.Adam([w], lr=0.1)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.8004, 1.8002], requires_grad=True)
        >>> list(opt.state[w])
        ['step', 'exp_avg', 'exp_avg_sq']
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False,
                 foreach=None, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _new_step()
        state["exp_avg"] = np.zeros_like(p._data)
        state["exp_avg_sq"] = np.zeros_like(p._data)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p._data)

    def _step_group(self, group):
        # The multi-tensor step: one call updates every float32 parameter of the group,
        # when all of them have their state and fit the fused kernel; anything else
        # (float64, a first step, strided arrays) takes the per-parameter path.
        amsgrad = group["amsgrad"]
        ps, gs, ms, vs, xs, steps = [], [], [], [], [], []
        state = self.state
        get = state.get
        pa, ga, ma, va, sa = ps.append, gs.append, ms.append, vs.append, steps.append
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            s = get(p)
            if not s or (amsgrad and "max_exp_avg_sq" not in s):
                return Optimizer._step_group(self, group)
            pa(p._data)
            ga(g._data)
            ma(s["exp_avg"])
            va(s["exp_avg_sq"])
            sa(s["step"])
            if amsgrad:
                xs.append(s["max_exp_avg_sq"])
        beta1, beta2 = group["betas"]
        if not _c.adam_step_many(ps, gs, ms, vs, xs, steps, group["lr"], beta1, beta2,
                                 group["eps"], group["weight_decay"],
                                 group["decoupled_weight_decay"], amsgrad, group["maximize"]):
            Optimizer._step_group(self, group)

    def _update(self, data, grad, state, group):
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        step = _bump_step(state)
        beta1, beta2 = group["betas"]
        _k.adam_step(data, grad, state["exp_avg"], state["exp_avg_sq"],
                     state.get("max_exp_avg_sq") if group["amsgrad"] else None,
                     step, group["lr"], beta1, beta2, group["eps"], group["weight_decay"],
                     group["decoupled_weight_decay"], group["amsgrad"], group["maximize"])


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, ``p *= 1 - lr * weight_decay`` each step.

    Same arguments as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.

    Example:
        >>> w = fastdl.tensor([1.0, 2.0], requires_grad=True)   # minimize sum(w^2)
        >>> opt = fastdl.optim.AdamW([w], lr=0.1, weight_decay=0.01)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([0.7985, 1.7963], requires_grad=True)
        >>> list(opt.state[w])
        ['step', 'exp_avg', 'exp_avg_sq']
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
