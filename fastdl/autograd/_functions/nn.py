"""Backward rules of fastdl.nn.functional's ops: one Function per op.

fastdl/nn/functional.py checks the arguments and lays out the arrays (rows,
flattened targets, broadcast weights); the Functions here call the forward
kernel, save what backward needs and call the backward kernel. Kernels are
libfastdl's through fastdl._C.nn and fastdl._C.conv (conv2d).
"""
import math

import numpy as np

from fastdl._C import _core
from fastdl._C import gemm as _gemm_mod
from fastdl._C import nn as _nn
from fastdl.autograd.engine import writes_over_grad
from fastdl.autograd.function import KernelFunction



def _gemm():
    return _gemm_mod


def reduce_loss(loss, reduction, count):
    """(reduced array, scale for backward). count: divisor for 'mean'."""
    if reduction == "none":
        return loss, 1.0
    flat = loss.reshape(-1)
    # axis None: the same kernel call as axis 0 of the flat array, without the axis work
    total = _core.sum(flat, None, False) if flat.size else np.zeros((), loss.dtype)
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype), 1.0
    if count == 0:
        # PyTorch gives NaN for a mean over nothing (e.g. every target ignored)
        return np.asarray(np.nan, dtype=loss.dtype), float("nan")
    return np.asarray(total / count, dtype=loss.dtype), 1.0 / count


def _nan_where(loss, bad):
    """NaN wherever an input was NaN: some kernels' max(0, .) would turn it into 0."""
    if bad.any():
        loss = np.where(bad, np.asarray(np.nan, loss.dtype), loss)
    return loss


class Linear(KernelFunction):
    """y = x @ w.T + b: one GEMM with a fused bias; backward uses the transposed variants."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b):
        # -1 is ambiguous at size 0
        x2 = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        ctx.save_for_backward(x2, w)
        y = _gemm_mod.matmul(x2, w, transb=True, bias=b)
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x2, w = ctx.saved_tensors
        return _linear_grads(ctx, g if g.ndim == 2 else g.reshape(x2.shape[0], w.shape[0]),
                             x2, w)


def _linear_grads(ctx, g2, x2, w):
    """(dx, dw, db) of y = x @ w.T + b from the row gradient g2 [M, out]."""
    rx, rw, rb = ctx.needs_input_grad
    gemm = _gemm_mod
    gx = None
    if rx:
        gx = gemm.matmul(g2, w)
        xs = ctx.inputs[0]._data.shape
        if len(xs) != 2:
            gx = gx.reshape(xs)
    gw = gemm.matmul(g2, x2, transa=True) if rw else None
    gb = _core.sum(g2, (0,), False) if rb else None
    return gx, gw, gb


class LinearReLU(KernelFunction):
    """relu(x @ w.T + b) (nn.Sequential's Linear + ReLU): the GEMM's epilogue adds the
    bias and clamps in the same pass; backward masks the incoming gradient by the saved
    output (y > 0, as ReLU's backward does), over the gradient itself when nothing else
    holds it, then runs Linear's GEMMs."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b):
        x2 = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        y = _gemm_mod.matmul(x2, w, transb=True, bias=b, relu=True)
        ctx.save_for_backward(x2, w, y)
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    @writes_over_grad
    def backward(ctx, g):
        x2, w, y = ctx.saved_tensors
        g2 = _nn.relu_backward(y, g if g.ndim == 2 else g.reshape(y.shape),
                               inplace=ctx._grad_free)
        return _linear_grads(ctx, g2, x2, w)


def _act_entry(name, kernel, params):
    """(forward wrapper, backward wrapper, node name, backward reads the output,
    the kernel's parameters from (p0, p1))."""
    return (getattr(_nn, kernel + "_forward"), getattr(_nn, kernel + "_backward"),
            name.title().replace("_", "") + "Backward",     # e.g. LeakyReluBackward
            kernel in _nn.ACT_USES_OUTPUT, params)


_ACT = {name: _act_entry(name, kernel, params) for name, kernel, params in (
    ("relu", "relu", lambda p0, p1: ()),
    ("leaky_relu", "leaky_relu", lambda p0, p1: (p0,)),
    ("elu", "elu", lambda p0, p1: (p0,)),
    ("gelu", "gelu", lambda p0, p1: (False,)),
    ("gelu_tanh", "gelu", lambda p0, p1: (True,)),
    ("sigmoid", "sigmoid", lambda p0, p1: ()),
    ("tanh", "tanh", lambda p0, p1: ()),
    ("softplus", "softplus", lambda p0, p1: (p0, p1)),
    ("silu", "silu", lambda p0, p1: ()),
)}


class Activation(KernelFunction):
    """relu, gelu, sigmoid, ... through the fused activation kernels."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, name, p0, p1):
        fwd, bwd, ctx.name, uses_out, params = _ACT[name]
        if name == "relu":
            ctx._relu = True        # the engine may fold this backward into the producer's
        ps = params(p0, p1)
        out = fwd(x, *ps)
        if out.ndim != x.ndim:
            out = out.reshape(x.shape)      # the kernel returns 0-d input as (1,)
        ctx.save_for_backward(out if uses_out else x, bwd, ps)
        return out

    @staticmethod
    @writes_over_grad
    def backward(ctx, g):
        saved, bwd, ps = ctx.saved_tensors
        d = bwd(saved, g, *ps, inplace=ctx._grad_free)
        return d if d.ndim == saved.ndim else d.reshape(saved.shape)


class Softmax(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, outer, n, inner, log):
        out = _nn.softmax_forward(x, outer, n, inner, log).reshape(x.shape)
        ctx.save_for_backward(out)
        ctx.dims = (outer, n, inner, log)
        return out

    @staticmethod
    @writes_over_grad
    def backward(ctx, g):
        out, = ctx.saved_tensors
        d = _nn.softmax_backward(out, g, *ctx.dims, inplace=ctx._grad_free)
        return d if d.shape == out.shape else d.reshape(out.shape)


_PL = {n: (getattr(_nn, n + "_forward"), getattr(_nn, n + "_backward"))
       for n in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "hinge_loss", "hinge_embedding_loss",
                 "kl_div")}
_PL_SCALAR = ("huber_loss", "smooth_l1_loss", "hinge_embedding_loss")   # one float parameter


class PointwiseLoss(KernelFunction):
    """Elementwise losses (mse, l1, huber, bce, kl_div, hinge...) with their reduction.

    apply(x, target_tensor_or_None, y, w, pw, name, p0, ip, reduction, count):
    the target Tensor is an argument only when the loss is differentiable in it
    (d/dy = -d/dx); y is its array in the input's dtype.
    """

    n_inputs = 2

    @staticmethod
    def forward(ctx, x, t, y, w, pw, name, p0, ip, reduction, count, nan_check):
        fwd, bwd = _PL[name]
        params = (p0,) if name in _PL_SCALAR else (bool(ip),) if name == "kl_div" else ()
        kw = {k: v for k, v in (("weight", w), ("pos_weight", pw)) if v is not None}
        ctx.name = name.title().replace("_", "") + "Backward"     # e.g. MseLossBackward
        loss = fwd(x, y, *params, **kw).reshape(x.shape)
        if nan_check:
            loss = _nan_where(loss, np.isnan(x) | np.isnan(y))
        out, scale = reduce_loss(loss, reduction, x.size if count is None else count)
        ctx.save_for_backward(x, y)
        ctx.args = (bwd, scale, params, kw)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        bwd, scale, params, kw = ctx.args
        dx = bwd(x, y, g, scale, *params, **kw).reshape(x.shape)
        return dx, (np.negative(dx) if ctx.needs_input_grad[1] else None)


class _RowsLoss(KernelFunction):
    """Class losses over rows [M, C]: apply(x, rows, ..., back) where back maps the row
    gradient back to x's layout (moving the class dim back)."""

    n_inputs = 1

    @staticmethod
    def finish(ctx, loss, reduction, count, out_shape, back):
        out, scale = reduce_loss(loss, reduction, count)
        if reduction == "none":
            out = out.reshape(out_shape)
        ctx.scale, ctx.back = scale, back
        return out


class CrossEntropy(_RowsLoss):
    @staticmethod
    def forward(ctx, x, rows, tr, w, ignore_index, label_smoothing, reduction, count,
                out_shape, back):
        loss, lse = _nn.cross_entropy_forward(rows, tr, w, ignore_index, label_smoothing)
        ctx.save_for_backward(rows, lse, tr, w)
        ctx.opts = (ignore_index, label_smoothing)
        return _RowsLoss.finish(ctx, loss, reduction, count, out_shape, back)

    @staticmethod
    def backward(ctx, g):
        rows, lse, tr, w = ctx.saved_tensors
        return ctx.back(_nn.cross_entropy_backward(rows, lse, tr, w, np.reshape(g, -1),
                                                   ctx.scale, *ctx.opts))


class NllLoss(_RowsLoss):
    @staticmethod
    def forward(ctx, x, rows, tr, w, ignore_index, reduction, count, out_shape, back):
        loss = _nn.nll_loss_forward(rows, tr, w, ignore_index)
        ctx.save_for_backward(rows, tr, w)
        ctx.ignore_index = ignore_index
        return _RowsLoss.finish(ctx, loss, reduction, count, out_shape, back)

    @staticmethod
    def backward(ctx, g):
        rows, tr, w = ctx.saved_tensors
        return ctx.back(_nn.nll_loss_backward(rows, tr, w, np.reshape(g, -1), ctx.scale,
                                              ctx.ignore_index))


class MultiMarginLoss(_RowsLoss):
    @staticmethod
    def forward(ctx, x, rows, tr, w, p, margin, reduction, out_shape, back):
        loss = _nn.multi_margin_loss_forward(rows, tr, w, p, margin)
        ctx.save_for_backward(rows, tr, w)
        ctx.opts = (p, margin)
        return _RowsLoss.finish(ctx, loss, reduction, rows.shape[0], out_shape, back)

    @staticmethod
    def backward(ctx, g):
        rows, tr, w = ctx.saved_tensors
        return ctx.back(_nn.multi_margin_loss_backward(rows, tr, w, np.reshape(g, -1),
                                                       ctx.scale, *ctx.opts))


def _row_nan(*rows):
    bad = np.zeros(rows[0].shape[0], bool)
    for r in rows:
        bad |= np.isnan(r).any(axis=1) if r.ndim == 2 else np.isnan(r)
    return bad


class TripletMarginLoss(KernelFunction):
    n_inputs = 3

    @staticmethod
    def forward(ctx, a0, p0, n0, a, po, ne, margin, p, eps, swap, reduction):
        loss, dist = _nn.triplet_margin_loss_forward(a, po, ne, margin, p, eps, swap)
        loss = _nan_where(loss, _row_nan(a, po, ne))
        out, scale = reduce_loss(loss, reduction, a.shape[0])
        if reduction == "none" and a0.ndim == 1:
            out = out.reshape(())
        ctx.save_for_backward(dist, a, po, ne)
        ctx.opts = (scale, margin, p, eps, swap)
        return out

    @staticmethod
    def backward(ctx, g):
        dist, a, po, ne = ctx.saved_tensors
        scale, margin, p, eps, swap = ctx.opts
        grads = _nn.triplet_margin_loss_backward(dist, a, po, ne, np.reshape(g, -1), scale,
                                                 margin, p, eps, swap)
        shape = ctx.inputs[0]._data.shape
        return tuple(d.reshape(shape) for d in grads)


class CosineEmbeddingLoss(KernelFunction):
    n_inputs = 2

    @staticmethod
    def forward(ctx, x1, x2, a, b, y, margin, reduction):
        loss, saved = _nn.cosine_embedding_loss_forward(a, b, y, margin)
        loss = _nan_where(loss, _row_nan(a, b, y))
        out, scale = reduce_loss(loss, reduction, a.shape[0])
        if reduction == "none" and x1.ndim == 1:
            out = out.reshape(())
        ctx.save_for_backward(saved, a, b, y)
        ctx.opts = (scale, margin)
        return out

    @staticmethod
    def backward(ctx, g):
        saved, a, b, y = ctx.saved_tensors
        scale, margin = ctx.opts
        d1, d2 = _nn.cosine_embedding_loss_backward(saved, a, b, y, np.reshape(g, -1), scale,
                                                    margin)
        shape = ctx.inputs[0]._data.shape
        return d1.reshape(shape), d2.reshape(shape)


# ---- pooling -----------------------------------------------------------------------------

class MaxPool2d(KernelFunction):
    """Outputs (values, argmax); the flat h * W + w argmax is not differentiable."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw):
        out, am = _nn.max_pool2d_forward(x, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw)
        ctx.mark_non_differentiable(am)
        ctx.save_for_backward(am)
        return out, am

    @staticmethod
    def backward(ctx, g, g_indices):
        am, = ctx.saved_tensors
        return _nn.max_pool2d_backward(am, g, ctx.inputs[0]._data.shape)


class MaxPool2dWin(KernelFunction):
    """max_pool2d without indices, or relu(max_pool2d(x)) (== max_pool2d(relu(x)), which
    nn.Sequential runs this way on the 4x smaller output). The argmax is kept as one byte
    per output (its position in the window, 255 where the ReLU cut or nothing routes), and
    only when a gradient is recorded: inference computes no argmax at all."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, x, OH, OW, geom, relu):
        need = ctx.needs_input_grad[0]
        out, win = _nn.max_pool2d_forward_win(x, OH, OW, *geom, relu, need)
        if need:
            ctx.save_for_backward(win)
            ctx.geom = geom
            ctx.name = "MaxPool2dReluBackward" if relu else "MaxPool2dBackward"
        return out

    @staticmethod
    def backward(ctx, g):
        win, = ctx.saved_tensors
        return _nn.max_pool2d_backward_win(win, g, ctx.inputs[0]._data.shape, *ctx.geom)


class AvgPool2d(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, OH, OW, kh, kw, sh, sw, ph, pw, cip):
        ctx.opts = (kh, kw, sh, sw, ph, pw, cip)
        return _nn.avg_pool2d_forward(x, OH, OW, kh, kw, sh, sw, ph, pw, cip)

    @staticmethod
    def backward(ctx, g):
        return _nn.avg_pool2d_backward(g, ctx.inputs[0]._data.shape, *ctx.opts)


class AdaptiveAvgPool2d(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, oh, ow):
        return _nn.adaptive_avg_pool2d_forward(x, oh, ow)

    @staticmethod
    def backward(ctx, g):
        return _nn.adaptive_avg_pool2d_backward(g, ctx.inputs[0]._data.shape)


# ---- normalization ---------------------------------------------------------------------

class BatchNorm(KernelFunction):
    """Outputs (y, batch mean, batch rstd); the saved statistics are outputs that carry
    no gradient (PyTorch's native_batch_norm returns them the same way).

    relu=True: y = relu(batch_norm(x)) in the same pass (nn.Sequential's BatchNorm +
    ReLU), and backward masks the gradient by y > 0 inside the batch_norm passes (the
    mask recomputed from x). A plain node also takes a following ReLU's backward at
    autograd level (``backward_relu``, called by the engine; see
    fastdl/autograd/engine.py)."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, training, momentum, eps, relu=False):
        xd = np.ascontiguousarray(x)
        out, mean, rstd = _nn.batch_norm_forward(xd, running_mean, running_var, w, b,
                                                 training, momentum, eps, relu)
        ctx.mark_non_differentiable(mean, rstd)
        ctx.save_for_backward(mean, rstd, xd, w, b)
        if relu:
            ctx.name = "BatchNormReluBackward"
            ctx.relu = True
        else:
            ctx._fold_relu = BatchNorm.backward_relu
        ctx.training = training
        return out, mean, rstd

    @staticmethod
    def backward(ctx, g, g_mean, g_rstd):
        return BatchNorm._grads(ctx, g, ctx.__dict__.get("relu", False))

    @staticmethod
    def backward_relu(ctx, relu, g, g_mean=None, g_rstd=None):
        """The backward of relu(y) for this node's output y in one pass: g is the
        gradient at the ReLU's output, masked by y > 0 inside the kernel. The ReLU's
        saved input (y) is read through its saved_tensors only for the version check:
        changed in place, it fails as the ReLU's own backward would."""
        relu.saved_tensors
        return BatchNorm._grads(ctx, g, True)

    @staticmethod
    def _grads(ctx, g, relu):
        mean, rstd, xd, wd, bd = ctx.saved_tensors
        x, w, b = ctx.inputs[:3]
        rx, rw, rb = ctx.needs_input_grad[:3]
        dx, dw, db = _nn.batch_norm_backward(mean, rstd, xd, wd, g, ctx.training, rx, rw, rb,
                                             relu, bd)
        return (dx, None if dw is None else dw.reshape(w._data.shape),
                None if db is None else db.reshape(b._data.shape))


class LayerNorm(KernelFunction):
    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b, D, eps):
        xd = np.ascontiguousarray(x)
        out, mean, rstd = _nn.layer_norm_forward(xd, D, w, b, eps)
        ctx.save_for_backward(mean, rstd, xd, w)
        ctx.D = D
        return out

    @staticmethod
    def backward(ctx, g):
        mean, rstd, xd, wd = ctx.saved_tensors
        x, w, b = ctx.inputs[:3]
        rx, rw, rb = ctx.needs_input_grad[:3]
        dx, dw, db = _nn.layer_norm_backward(mean, rstd, xd, wd, g, ctx.D, rx, rw, rb)
        return (dx, None if dw is None else dw.reshape(w._data.shape),
                None if db is None else db.reshape(b._data.shape))


# ---- dropout, embedding, convolution ----------------------------------------------------

class Dropout(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, x, p, seed, stream):
        out, mask = _nn.dropout_forward(x, p, seed, stream)
        ctx.save_for_backward(mask)
        ctx.p = p
        return out.reshape(x.shape)             # 0-d stays 0-d

    @staticmethod
    def backward(ctx, g):
        mask, = ctx.saved_tensors
        return _nn.dropout_backward(mask, g.reshape(mask.shape), ctx.p).reshape(g.shape)


class Embedding(KernelFunction):
    n_inputs = 1

    @staticmethod
    def forward(ctx, w, ix, pad):
        flat = ix.reshape(-1)
        ctx.save_for_backward(flat)
        ctx.pad = pad
        return _nn.embedding_forward(flat, w).reshape(ix.shape + (w.shape[1],))

    @staticmethod
    def backward(ctx, g):
        flat, = ctx.saved_tensors
        w = ctx.inputs[0]._data
        return _nn.embedding_backward(flat, g.reshape(-1, w.shape[1]), w.shape, ctx.pad)


class Conv2d(KernelFunction):
    """GEMM-based convolution (fastdl._C.conv)."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        from fastdl._C import conv
        ctx.save_for_backward(x, w)
        ctx.opts = (stride, padding, dilation, groups)
        return conv.forward(x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        from fastdl._C import conv
        x, w = ctx.saved_tensors
        rx, rw, rb = ctx.needs_input_grad[:3]
        dx, dw, db = conv.backward(g, x, w, rx, rw, rb, *ctx.opts)
        return dx, dw, db


class Conv2dReLU(KernelFunction):
    """relu(conv2d(x, w) + b) in one forward pass; the backward masks dout by the saved
    output (y > 0) inside the convolution's own dout pass."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        from fastdl._C import conv
        out = conv.forward(x, w, b, stride, padding, dilation, groups, True)
        ctx.save_for_backward(x, w, out)
        ctx.opts = (stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        from fastdl._C import conv
        x, w, y = ctx.saved_tensors
        rx, rw, rb = ctx.needs_input_grad[:3]
        return conv.backward(g, x, w, rx, rw, rb, *ctx.opts, y=y)
