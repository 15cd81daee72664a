"""Backward rules of the Tensor ops (fastdl/tensor.py): one Function per op.

Forward gets the storage arrays (float32/float64) after tensor.py has checked
and promoted the arguments; it saves what backward needs. Backward gets the
output gradient(s) and returns one gradient per argument, shaped like it.
Kernels are libfastdl's through fastdl._C._core.
"""
import builtins

import numpy as np

from fastdl._C import _core
from fastdl.autograd.function import KernelFunction

# Each op is its own _core function (no op codes).
_ADD, _SUB, _MUL, _DIV, _POW, _MAXIMUM, _MINIMUM = (
    _core.add, _core.sub, _core.mul, _core.div, _core.pow, _core.maximum, _core.minimum)

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _mul(a, b):
    return _MUL(a, b)


def _contig(a):
    """a as a C-contiguous array; unlike np.ascontiguousarray, 0-d stays 0-d."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _unbroadcast(g, shape):
    """Sum g over the dims that broadcasting added or stretched to reach shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = (_core.sum(g, axes, True) if g.dtype in _FLOATS
             else g.sum(axes, keepdims=True))
    return g.reshape(shape)


def _expand_grad(g, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if not keepdim:
        g = g.reshape(tuple(1 if d in axes else s for d, s in enumerate(in_shape)))
    return g


def _shapes(ctx):
    a, b = ctx.inputs
    return a._data.shape, b._data.shape


# ---- elementwise binary ------------------------------------------------------------

class Add(KernelFunction):
    n_inputs = 2
    op = _ADD

    @staticmethod
    def forward(ctx, a, b):
        return _ADD(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = _shapes(ctx)
        ra, rb = ctx.needs_input_grad
        return (_unbroadcast(g, sa) if ra else None, _unbroadcast(g, sb) if rb else None)


class Sub(KernelFunction):
    n_inputs = 2
    op = _SUB

    @staticmethod
    def forward(ctx, a, b):
        return _SUB(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = _shapes(ctx)
        ra, rb = ctx.needs_input_grad
        return (_unbroadcast(g, sa) if ra else None,
                _unbroadcast(_core.neg(g), sb) if rb else None)


class Mul(KernelFunction):
    n_inputs = 2
    op = _MUL

    @staticmethod
    def forward(ctx, a, b):
        ra, rb = ctx.needs_input_grad
        # save only what backward reads (an in-place write to the other is then fine)
        ctx.save_for_backward(a if rb else None, b if ra else None)
        return _MUL(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ra, rb = ctx.needs_input_grad
        sa, sb = _shapes(ctx)
        return (_unbroadcast(_mul(g, b), sa) if ra else None,
                _unbroadcast(_mul(g, a), sb) if rb else None)


class Div(KernelFunction):
    n_inputs = 2
    op = _DIV

    @staticmethod
    def forward(ctx, a, b):
        out = _DIV(a, b)
        rb = ctx.needs_input_grad[1]
        ctx.save_for_backward(None, b, out if rb else None)
        return out

    @staticmethod
    def backward(ctx, g):
        _, b, o = ctx.saved_tensors
        ra, rb = ctx.needs_input_grad
        ga = _unbroadcast(_DIV(g, b), _shapes(ctx)[0]) if ra else None
        # d(a/b)/db = -a/b^2 = -out/b
        gb = (_unbroadcast(_core.neg(_DIV(_mul(g, o), b)), b.shape)
              if rb else None)
        return ga, gb


class Pow(KernelFunction):
    n_inputs = 2
    op = _POW

    @staticmethod
    def forward(ctx, a, b):
        out = _POW(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, o = ctx.saved_tensors
        ra, rb = ctx.needs_input_grad
        ga = gb = None
        if ra:
            # b * a^(b-1), written without a^(b-1) so a == 0 with b >= 1 stays finite
            bm1 = _SUB(b, np.ones((), b.dtype))
            ga = _unbroadcast(_mul(g, _mul(b, _POW(a, bm1))), a.shape)
        if rb:
            # a^b * log(a); define the a == 0 case as 0 (the limit where it exists)
            la = _core.log(a)
            d = np.asarray(np.where(a == 0, 0, _mul(o, la)), dtype=o.dtype)
            gb = _unbroadcast(_mul(g, d), b.shape)
        return ga, gb


class PowScalar(KernelFunction):
    """x ** p for a Python number p (the unary kernel)."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return _core.pow_scalar(x, p)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        p = ctx.p
        if p == 2.0:
            d = _core.affine(x, 2.0, 0.0)
        elif p == 1.0:
            return g
        elif p == 0.0:
            return np.zeros_like(g)      # 0 * x**-1 would be NaN at x == 0
        else:
            d = _core.affine(_core.pow_scalar(x, p - 1.0), p, 0.0)
        return _mul(g, d)


class _Extremum(KernelFunction):
    """maximum / minimum: ties send half the gradient each way, like PyTorch."""

    n_inputs = 2
    op = cmp = None

    @classmethod
    def _backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        ra, rb = ctx.needs_input_grad
        win_a = getattr(_core, cls.cmp)(a, b)
        tie = _core.eq(a, b)
        wa = np.asarray(win_a.astype(g.dtype) + g.dtype.type(0.5) * tie.astype(g.dtype))
        ga = _unbroadcast(_mul(g, wa), a.shape) if ra else None
        gb = _unbroadcast(_mul(g, _SUB(np.ones((), g.dtype), wa)), b.shape) if rb \
            else None
        return ga, gb


class Maximum(_Extremum):
    op, cmp = _MAXIMUM, "gt"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _MAXIMUM(a, b)

    @staticmethod
    def backward(ctx, g):
        return Maximum._backward(ctx, g)


class Minimum(_Extremum):
    op, cmp = _MINIMUM, "lt"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _MINIMUM(a, b)

    @staticmethod
    def backward(ctx, g):
        return Minimum._backward(ctx, g)


class Where(KernelFunction):
    """apply(a, b, cond): a where cond else b."""

    n_inputs = 2

    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ra, rb = ctx.needs_input_grad
        c = ctx.cond
        z = np.zeros((), g.dtype)
        return (_unbroadcast(np.where(c, g, z), a._data.shape) if ra else None,
                _unbroadcast(np.where(c, z, g), b._data.shape) if rb else None)


# ---- elementwise unary --------------------------------------------------------------

class Unary(KernelFunction):
    """out = f(x) through the unary kernel ``name`` (params p0, p1)."""

    n_inputs = 1
    rules = {}

    @staticmethod
    def forward(ctx, x, name, p0=0.0, p1=0.0):
        fn = getattr(_core, name)
        out = fn(x, p0, p1) if name == "clip" else fn(x)
        if name != "copy":          # a copy's gradient needs no value
            ctx.save_for_backward(x, out)
        ctx.rule = name
        ctx.params = (p0, p1)
        ctx.name = name.capitalize() + "Backward"
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.rule == "copy":
            return g
        x, out = ctx.saved_tensors
        return Unary.rules[ctx.rule](g, x, out, *ctx.params)


def _clip_rule(g, x, o, lo, hi):
    inside = np.asarray((x >= lo) & (x <= hi))
    return _mul(g, inside.astype(g.dtype))


Unary.rules.update(
    copy=lambda g, x, o, p0, p1: g,
    neg=lambda g, x, o, p0, p1: _core.neg(g),
    exp=lambda g, x, o, p0, p1: _mul(g, o),
    log=lambda g, x, o, p0, p1: _DIV(g, x),
    # d sqrt(x) = 1 / (2 sqrt(x))
    sqrt=lambda g, x, o, p0, p1: _DIV(g, _core.affine(o, 2.0, 0.0)),
    abs=lambda g, x, o, p0, p1: _mul(g, _core.sign(x)),
    clip=_clip_rule,
)


class To(KernelFunction):
    """A dtype conversion between float dtypes; the gradient converts back."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.inputs[0]._data.dtype)


# ---- reductions -------------------------------------------------------------------------

class Sum(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        return _core.sum(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]._data
        shape = x.shape
        return np.broadcast_to(_expand_grad(g, shape, ctx.axes, ctx.keepdim), shape).astype(x.dtype)


class Mean(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        return _core.mean(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        shape = ctx.inputs[0]._data.shape
        axes = ctx.axes
        n = int(np.prod([shape[d] for d in axes])) if axes else 1
        g = _core.affine(g, 1.0 / builtins.max(n, 1), 0.0)
        return np.broadcast_to(_expand_grad(g, shape, axes, ctx.keepdim), shape).copy()


class Std(KernelFunction):
    """sqrt(var) in one node, so that backward is 0 where the std is 0 (as in PyTorch),
    instead of 0 * inf."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        n = int(np.prod([x.shape[d] for d in axes])) if axes else 1
        m = _core.mean(x, axes, True)
        d = _SUB(x, m)
        v = _core.sum(_mul(d, d), axes, keepdim)
        den = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _core.sqrt(_DIV(v, np.asarray(den, v.dtype)))
        ctx.save_for_backward(d, out)
        ctx.axes, ctx.keepdim, ctx.den = axes, keepdim, den
        return out

    @staticmethod
    def backward(ctx, g):
        d, out = ctx.saved_tensors
        shape = d.shape
        o = _expand_grad(out, shape, ctx.axes, ctx.keepdim)
        ge = _expand_grad(g, shape, ctx.axes, ctx.keepdim)
        # d std / dx = (x - mean) / (std * (N - correction)); 0 where std == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.asarray(ge / (o * d.dtype.type(ctx.den)))
        scale = np.where(o == 0, d.dtype.type(0), scale)
        return _mul(np.broadcast_to(scale, shape).copy(), d)


class Extreme(KernelFunction):
    """amax / amin over dims: the gradient is split evenly among ties, like PyTorch."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, is_min, axes, keepdim, name):
        out = (_core.amin if is_min else _core.amax)(x, axes, keepdim)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim, ctx.name = axes, keepdim, name
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, axes, keepdim = x.shape, ctx.axes, ctx.keepdim
        ok = _expand_grad(out, shape, axes, keepdim)
        mask = _core.eq(x, ok).astype(x.dtype)
        cnt = _core.sum(mask, axes, True)
        ge = _expand_grad(g, shape, axes, keepdim)
        return _mul(mask, _DIV(ge, cnt))


class MaxMinDim(KernelFunction):
    """max / min along one dim: (values, indices), indices not differentiable.
    The indexed element receives the whole gradient, as in PyTorch."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, is_min, axis, keepdim, name):
        values = (_core.amin if is_min else _core.amax)(x, (axis,), keepdim)
        indices = (_core.argmin if is_min else _core.argmax)(x, axis, keepdim)
        ctx.mark_non_differentiable(indices)
        ctx.idx, ctx.axis, ctx.keepdim = indices, axis, keepdim
        ctx.name = name.capitalize() + "Backward"
        return values, indices

    @staticmethod
    def backward(ctx, g, g_indices):
        x = ctx.inputs[0]._data
        axis = ctx.axis
        gx = np.zeros_like(x)
        gi = g if ctx.keepdim else np.expand_dims(g, axis)
        ii = ctx.idx if ctx.keepdim else np.expand_dims(ctx.idx, axis)
        np.put_along_axis(gx, ii, gi, axis=axis)
        return gx


# ---- matmul ---------------------------------------------------------------------------

def _gemm():
    from fastdl._C import gemm
    return gemm


class Matmul(KernelFunction):
    """NumPy's matmul rules; backward uses the transposed GEMM variants (no copies)."""

    n_inputs = 2

    @staticmethod
    def forward(ctx, ad, bd):
        a2 = ad[None, :] if ad.ndim == 1 else ad
        b2 = bd[:, None] if bd.ndim == 1 else bd
        out2 = _gemm().matmul(a2, b2)
        out = out2
        if ad.ndim == 1:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if bd.ndim == 1:
            out = out.reshape(out.shape[:-1])
        ctx.save_for_backward(a2, b2)
        ctx.out2 = out2.shape
        return out

    @staticmethod
    def backward(ctx, g):
        a2, b2 = ctx.saved_tensors
        a, b = ctx.inputs
        ra, rb = ctx.needs_input_grad
        gemm = _gemm()
        g2 = g.reshape(ctx.out2)
        ga = gb = None
        if ra:
            ga = _unbroadcast(gemm.matmul(g2, b2, transb=True), a2.shape).reshape(a._data.shape)
        if rb:
            gb = _unbroadcast(gemm.matmul(a2, g2, transa=True), b2.shape).reshape(b._data.shape)
        return ga, gb


# ---- shape ops, indexing, joins -----------------------------------------------------------

class View(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.inputs[0]._data.shape)


class Permute(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inv = tuple(np.argsort([d % x.ndim for d in dims]))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, ctx.inv)


class Expand(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return _unbroadcast(_contig(g), ctx.inputs[0]._data.shape)


class Index(KernelFunction):
    """x[idx] for basic and advanced indices (repeated indices accumulate)."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, idx, basic):
        ctx.idx, ctx.basic = idx, basic
        out = x[idx]
        return out if type(out) is np.ndarray else np.asarray(out)     # x[i] of a 1-D: 0-d

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]._data
        gx = np.zeros(x.shape, dtype=x.dtype)
        if ctx.basic:
            gx[ctx.idx] = g
        else:
            np.add.at(gx, ctx.idx, g)
        return gx


class Cat(KernelFunction):
    """Concatenate along dim; apply(*tensors, dim)."""

    @staticmethod
    def forward(ctx, *args):
        arrays, dim = args[:-1], args[-1]
        dt = np.result_type(*[a.dtype for a in arrays])
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [a.shape[dim] for a in arrays])
        return np.concatenate(arrays, axis=dim).astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        sl = [slice(None)] * g.ndim
        res = []
        b = ctx.bounds
        for i, t in enumerate(ctx.inputs):
            sl[ctx.dim] = slice(b[i], b[i + 1])
            res.append(_contig(g[tuple(sl)]).astype(t._data.dtype, copy=False))
        return tuple(res)


class Split(KernelFunction):
    """Split along dim into pieces of the given sizes: one node, one output per piece.

    Backward writes each piece's gradient into its slice of one input-shaped
    array; pieces that got no gradient stay zero.
    """

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, sizes, dim, squeeze):
        ctx.sizes, ctx.dim, ctx.squeeze = sizes, dim, squeeze
        outs, start = [], 0
        lead = (slice(None),) * dim
        for s in sizes:
            piece = x[lead + (slice(start, start + s),)]
            outs.append(piece.reshape(piece.shape[:dim] + piece.shape[dim + 1:])
                        if squeeze else piece)
            start += s
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        x = ctx.inputs[0]._data
        gx = np.zeros(x.shape, x.dtype)
        lead = (slice(None),) * ctx.dim
        start = 0
        for s, g in zip(ctx.sizes, grads):
            if g is not None:
                if ctx.squeeze:
                    g = np.expand_dims(g, ctx.dim)
                gx[lead + (slice(start, start + s),)] = g
            start += s
        return gx
