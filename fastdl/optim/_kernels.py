"""The optimizer updates by dtype: float32 runs libfastdl's fused kernels
(fastdl._C.optim); float64 runs the same formulas (PyTorch's) in NumPy, in
float64 throughout, so double-precision models train with the same optimizers.
Arguments are the kernels' own (see fastdl/_C/optim.pyx)."""
import math

import numpy as np

from fastdl._C import optim as _c

_F32 = np.dtype(np.float32)


def _g(p, g, maximize, weight_decay):
    g = -g if maximize else g
    return g + weight_decay * p if weight_decay else g


def sgd_step(p, g, momentum_buffer, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
             nesterov=False, maximize=False, first_step=False):
    if p.dtype == _F32:
        return _c.sgd_step(p, g, momentum_buffer, lr, momentum, dampening, weight_decay,
                           nesterov, maximize, first_step)
    d = _g(p, g, maximize, weight_decay)
    if momentum != 0:
        if first_step:
            momentum_buffer[...] = d
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * d
        d = d + momentum * momentum_buffer if nesterov else momentum_buffer
    p -= lr * d


def adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
              weight_decay=0.0, decoupled=False, amsgrad=False, maximize=False):
    if p.dtype == _F32:
        return _c.adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                            eps, weight_decay, decoupled, amsgrad, maximize)
    g = -g if maximize else g
    if weight_decay:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bc1 = 1 - beta1 ** step
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq) / bc2_sqrt + eps
    else:
        denom = np.sqrt(exp_avg_sq) / bc2_sqrt + eps
    p -= (lr / bc1) * exp_avg / denom


def rmsprop_step(p, g, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    if p.dtype == _F32:
        return _c.rmsprop_step(p, g, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                               weight_decay, momentum, centered, maximize)
    g = _g(p, g, maximize, weight_decay)
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg += (1 - alpha) * (g - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        p -= lr * momentum_buffer
    else:
        p -= lr * g / avg


def adagrad_step(p, g, state_sum, step, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0,
                 maximize=False):
    if p.dtype == _F32:
        return _c.adagrad_step(p, g, state_sum, step, lr, lr_decay, eps, weight_decay, maximize)
    if not step >= 1:
        raise ValueError("adagrad_step: step counts this update and must be >= 1, got %r"
                         % (step,))
    g = _g(p, g, maximize, weight_decay)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    p -= clr * g / (np.sqrt(state_sum) + eps)


def adadelta_step(p, g, square_avg, acc_delta, lr, rho, eps, weight_decay=0.0, maximize=False):
    if p.dtype == _F32:
        return _c.adadelta_step(p, g, square_avg, acc_delta, lr, rho, eps, weight_decay,
                                maximize)
    g = _g(p, g, maximize, weight_decay)
    square_avg *= rho
    square_avg += (1 - rho) * g * g
    delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta += (1 - rho) * delta * delta
    p -= lr * delta
