"""Backward rules of the PyTorch-compatibility ops of fastdl/ops.py.

These ops are index moves (gather, scatter, cumsum) or elementwise math that
is not hot in training (sin, erf, log1p...): forward runs NumPy's vectorized
loops over the storage arrays, in float32 or float64 as the input, and
backward is written out here next to it, as for the kernel ops.
"""
import math

import numpy as np

from fastdl.autograd.function import KernelFunction


def _erf(x):
    """erf elementwise in x's dtype (NumPy has no erf; math.erf per element is exact)."""
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


# ---- elementwise unary ------------------------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# name -> (forward(x), backward(g, x, out)); backward None: zero gradient (step functions)
UNARY = {
    "sin": (np.sin, lambda g, x, o: g * np.cos(x)),
    "cos": (np.cos, lambda g, x, o: -g * np.sin(x)),
    "tan": (np.tan, lambda g, x, o: g * (1 + o * o)),
    "asin": (np.arcsin, lambda g, x, o: g / np.sqrt(1 - x * x)),
    "acos": (np.arccos, lambda g, x, o: -g / np.sqrt(1 - x * x)),
    "atan": (np.arctan, lambda g, x, o: g / (1 + x * x)),
    "sinh": (np.sinh, lambda g, x, o: g * np.cosh(x)),
    "cosh": (np.cosh, lambda g, x, o: g * np.sinh(x)),
    "log1p": (np.log1p, lambda g, x, o: g / (1 + x)),
    "expm1": (np.expm1, lambda g, x, o: g * (o + 1)),
    "log2": (np.log2, lambda g, x, o: g / (x * x.dtype.type(math.log(2)))),
    "log10": (np.log10, lambda g, x, o: g / (x * x.dtype.type(math.log(10)))),
    "exp2": (np.exp2, lambda g, x, o: g * o * o.dtype.type(math.log(2))),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda g, x, o: g * (-0.5) * o * o * o),
    "reciprocal": (lambda x: 1 / x, lambda g, x, o: -g * o * o),
    "erf": (_erf, lambda g, x, o: g * x.dtype.type(_TWO_OVER_SQRT_PI) * np.exp(-x * x)),
    "floor": (np.floor, None),
    "ceil": (np.ceil, None),
    "trunc": (np.trunc, None),
    "round": (np.round, None),
    "sign": (np.sign, None),
    "frac": (lambda x: x - np.trunc(x), lambda g, x, o: g),
}


class NpUnary(KernelFunction):
    """out = f(x) for the functions of UNARY; step functions have zero gradient."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, name):
        fwd, _ = UNARY[name]
        with np.errstate(all="ignore"):
            out = np.asarray(fwd(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.op = name
        ctx.name = name.capitalize() + "Backward"
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        rule = UNARY[ctx.op][1]
        if rule is None:
            return np.zeros_like(x)
        with np.errstate(all="ignore"):
            return np.asarray(rule(g, x, out)).astype(x.dtype, copy=False)


# ---- index ops -------------------------------------------------------------------------

class Gather(KernelFunction):
    """out[i][j][k] = x[i][index[i][j][k]][k] (dim=1); the gradient scatter-adds back."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index = dim, index
        return _take(x, index, dim)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]._data
        gx = np.zeros(x.shape, x.dtype)
        _add_at(gx, ctx.index, g, ctx.dim)
        return gx


def _full_index(index, dim):
    """The tuple of index arrays that addresses x[..., index, ...] element by element."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _take(x, index, dim):
    return x[_full_index(index, dim)]


def _add_at(out, index, src, dim):
    np.add.at(out, _full_index(index, dim), src)


class Scatter(KernelFunction):
    """out = x with out[index positions along dim] = src (or += src when add)."""

    n_inputs = 2

    @staticmethod
    def forward(ctx, x, src, dim, index, add):
        ctx.dim, ctx.index, ctx.add = dim, index, add
        out = np.array(x, copy=True)
        src = src[tuple(slice(0, n) for n in index.shape)]
        if add:
            _add_at(out, index, src, dim)
        else:
            out[_full_index(index, dim)] = src
        return out

    @staticmethod
    def backward(ctx, g):
        rx, rs = ctx.needs_input_grad
        x, src = ctx.inputs
        gx = gs = None
        if rx:
            gx = np.array(g, copy=True)
            if not ctx.add:
                gx[_full_index(ctx.index, ctx.dim)] = 0
        if rs:
            gs = np.zeros(src._data.shape, g.dtype)
            gs[tuple(slice(0, n) for n in ctx.index.shape)] = _take(g, ctx.index, ctx.dim)
        return gx, gs


class ScatterValue(KernelFunction):
    """out = x with a scalar written at the index positions; their gradient is zero."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.dim, ctx.index = dim, index
        out = np.array(x, copy=True)
        out[_full_index(index, dim)] = value
        return out

    @staticmethod
    def backward(ctx, g):
        gx = np.array(g, copy=True)
        gx[_full_index(ctx.index, ctx.dim)] = 0
        return gx


# ---- scans and products ----------------------------------------------------------------

class Cumsum(KernelFunction):
    """Running sum along dim; the gradient is the reversed running sum of g."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        return np.flip(np.cumsum(np.flip(g, d), axis=d), d).astype(g.dtype, copy=False)


def _exclusive_cumprod(x, dim, reverse=False):
    """Products of the elements strictly before (after, when reverse) each position."""
    if reverse:
        x = np.flip(x, dim)
    c = np.cumprod(x, axis=dim, dtype=x.dtype)
    ones = np.ones_like(np.take(x, [0], axis=dim))
    c = np.concatenate([ones, np.take(c, np.arange(x.shape[dim] - 1), axis=dim)], axis=dim)
    return np.flip(c, dim) if reverse else c


class Cumprod(KernelFunction):
    """Running product along dim.

    d out_j / d x_i = prod_{k<i} x_k * prod_{i<k<=j} x_k for j >= i; the
    gradient sums g_j times it, computed with exclusive products so zeros in
    x are exact (no division).
    """

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = np.cumprod(x, axis=dim, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.dim
        n = x.shape[d]
        xm = np.moveaxis(x, d, -1)
        gm = np.moveaxis(g, d, -1)
        before = np.moveaxis(_exclusive_cumprod(x, d), d, -1)
        gx = np.zeros_like(xm)
        for i in range(n):
            # out_j / (prefix up to i) for j >= i, as a running product from i+1
            run = np.ones(xm.shape[:-1], x.dtype)
            acc = gm[..., i].copy()
            for j in range(i + 1, n):
                run = run * xm[..., j]
                acc = acc + gm[..., j] * run
            gx[..., i] = before[..., i] * acc
        return np.moveaxis(gx, -1, d)


class Prod(KernelFunction):
    """Product over one dim or all; the gradient of x_i is g times the product of the others."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim = dim, keepdim
        if dim is None:
            return np.asarray(np.prod(x, dtype=x.dtype))
        return np.prod(x, axis=dim, keepdims=keepdim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]._data
        d = ctx.dim
        if d is None:
            flat = x.reshape(-1)
            others = _exclusive_cumprod(flat, 0) * _exclusive_cumprod(flat, 0, reverse=True)
            return (others * g).reshape(x.shape).astype(x.dtype, copy=False)
        others = _exclusive_cumprod(x, d) * _exclusive_cumprod(x, d, reverse=True)
        ge = g if ctx.keepdim else np.expand_dims(g, d)
        return (others * ge).astype(x.dtype, copy=False)


class Norm(KernelFunction):
    """The p-norm over dims (p > 0, inf, -inf); the gradient at a zero norm is zero."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        ax = tuple(axes)
        a = np.abs(x)
        if p == np.inf:
            out = np.max(a, axis=ax, keepdims=True)
        elif p == -np.inf:
            out = np.min(a, axis=ax, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(x * x, axis=ax, keepdims=True))
        elif p == 1:
            out = np.sum(a, axis=ax, keepdims=True)
        else:
            out = np.sum(a ** p, axis=ax, keepdims=True) ** (1.0 / p)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.p, ctx.axes, ctx.keepdim = p, ax, keepdim
        return out if keepdim else np.squeeze(out, axis=ax)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.p
        ge = g if ctx.keepdim else np.expand_dims(g, ctx.axes)
        with np.errstate(all="ignore"):
            if p in (np.inf, -np.inf):
                hit = (np.abs(x) == out)
                cnt = np.sum(hit, axis=ctx.axes, keepdims=True)
                gx = np.sign(x) * hit * ge / cnt
            elif p == 1:
                gx = np.sign(x) * ge
            elif p == 2:
                gx = np.where(out == 0, 0, x * ge / out)
            else:
                gx = np.where(out == 0, 0,
                              np.sign(x) * np.abs(x) ** (p - 1) * ge / out ** (p - 1))
        return gx.astype(x.dtype, copy=False)


class Einsum(KernelFunction):
    """np.einsum over explicit subscripts (no '...', no repeated letter in one operand).

    The gradient of operand i is the einsum of g with the other operands onto
    operand i's subscripts; a letter only operand i has (summed out alone) is
    broadcast back.
    """

    @staticmethod
    def forward(ctx, *args):
        arrays, subs, out_sub = args[:-2], args[-2], args[-1]
        ctx.subs, ctx.out_sub = subs, out_sub
        ctx.save_for_backward(*arrays)
        eq = ",".join(subs) + "->" + out_sub
        return np.asarray(np.einsum(eq, *arrays, optimize=len(arrays) > 2)).astype(
            np.result_type(*arrays), copy=False)

    @staticmethod
    def backward(ctx, g):
        arrays = ctx.saved_tensors
        subs, out_sub = ctx.subs, ctx.out_sub
        grads = []
        for i, (a, s) in enumerate(zip(arrays, subs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(b, t) for j, (b, t) in enumerate(zip(arrays, subs)) if j != i]
            avail = set(out_sub) | set("".join(t for _, t in others))
            keep = "".join(c for c in s if c in avail)
            eq = ",".join([out_sub] + [t for _, t in others]) + "->" + keep
            gk = np.einsum(eq, g, *[b for b, _ in others], optimize=len(others) > 1)
            # put back the letters only this operand had, as broadcast dims
            shape = [a.shape[k] if c in avail else 1 for k, c in enumerate(s)]
            gk = np.broadcast_to(np.asarray(gk).reshape(shape), a.shape)
            grads.append(np.ascontiguousarray(gk).astype(a.dtype, copy=False))
        return tuple(grads)


class SetItem(KernelFunction):
    """out = x with out[idx] = value (x[idx] = value recorded in the graph).

    The gradient of x is g with the written positions zeroed; value gets
    g[idx], summed over the dims it was broadcast along.
    """

    n_inputs = 2

    @staticmethod
    def forward(ctx, x, value, idx):
        ctx.idx = idx
        out = np.array(x, copy=True)
        out[idx] = value
        return out

    @staticmethod
    def backward(ctx, g):
        from fastdl.autograd._functions.tensor import _unbroadcast
        rx, rv = ctx.needs_input_grad
        gx = gv = None
        if rx:
            gx = np.array(g, copy=True)
            gx[ctx.idx] = 0
        if rv:
            vs = ctx.inputs[1]._data.shape
            gv = _unbroadcast(np.ascontiguousarray(g[ctx.idx]), vs)
        return gx, gv
