"""Backward rules of the recurrent ops (fastdl/nn/rnn.py): the fused cells and the
whole multi-layer sequence, each one Function with several outputs.

Kernels are libfastdl's through fastdl._C.rnn: forward runs each layer and
direction through time in C; backward runs backpropagation through time in C.
An output that received no gradient (say c_n of an LSTM whose loss only uses
the output) reaches backward as None and is skipped by the kernels.
"""
import numpy as np

from fastdl.autograd.function import KernelFunction

# the cell kinds, named as PyTorch's RNNBase.mode
_TANH, _RELU, _LSTM, _GRU = "RNN_TANH", "RNN_RELU", "LSTM", "GRU"
_GATES = {_TANH: 1, _RELU: 1, _LSTM: 4, _GRU: 3}


def _C():
    from fastdl._C import rnn
    return rnn


def _c(a, dtype=None):
    return None if a is None else np.ascontiguousarray(a, dtype)


class RNNCell(KernelFunction):
    """Shapes: pre (B, H) -> h (B, H)."""

    n_inputs = 1

    @staticmethod
    def forward(ctx, pre, relu):
        C = _C()
        h = (C.rnn_relu_cell_forward if relu else C.rnn_tanh_cell_forward)(
            np.ascontiguousarray(pre))
        ctx.save_for_backward(h)
        ctx.relu = relu
        return h

    @staticmethod
    def backward(ctx, g):
        h, = ctx.saved_tensors
        C = _C()
        return (C.rnn_relu_cell_backward if ctx.relu else C.rnn_tanh_cell_backward)(
            h, _c(g, h.dtype))


class LSTMCell(KernelFunction):
    """Shapes: gates (B, 4H), c_prev (B, H) -> (h, c), each (B, H)."""

    n_inputs = 2

    @staticmethod
    def forward(ctx, gates, c_prev):
        c_ = np.ascontiguousarray(c_prev)
        h, c, act, tanh_c = _C().lstm_cell_forward(np.ascontiguousarray(gates), c_)
        ctx.save_for_backward(act, tanh_c, c_)
        return h, c

    @staticmethod
    def backward(ctx, dh, dc):
        act, tanh_c, c_ = ctx.saved_tensors
        dh = np.zeros_like(c_) if dh is None else _c(dh, c_.dtype)
        return _C().lstm_cell_backward(act, tanh_c, c_, dh, _c(dc))


class GRUCell(KernelFunction):
    """Shapes: gi, gh (B, 3H), h_prev (B, H) -> h (B, H)."""

    n_inputs = 3

    @staticmethod
    def forward(ctx, gi, gh, h_prev):
        hp = np.ascontiguousarray(h_prev)
        h, act, ghn = _C().gru_cell_forward(np.ascontiguousarray(gi), np.ascontiguousarray(gh),
                                            hp)
        ctx.save_for_backward(act, ghn, hp)
        return h

    @staticmethod
    def backward(ctx, g):
        act, ghn, hp = ctx.saved_tensors
        return _C().gru_cell_backward(act, ghn, hp, _c(g, hp.dtype))


def _C_core():
    from fastdl._C import _core
    return _core


def _layer_forward(C, mode):
    """The forward layer wrapper of an RNN_TANH, RNN_RELU or GRU layer."""
    return {_TANH: C.rnn_tanh_layer_forward, _RELU: C.rnn_relu_layer_forward,
            _GRU: C.gru_layer_forward}[mode]


def _layer_backward(C, mode):
    return {_TANH: C.rnn_tanh_layer_backward, _RELU: C.rnn_relu_layer_backward,
            _GRU: C.gru_layer_backward}[mode]


class RNNSequence(KernelFunction):
    """All layers and directions of RNN/LSTM/GRU over a whole sequence.

    apply(x, h0, c0, *weights, cfg): cfg = (mode, num_layers, num_directions,
    hidden_size, dropout, training, batch_first); weights [w_ih, w_hh, b_ih|None,
    b_hh|None] per layer and direction, flattened, in PyTorch's order.
    Outputs (y, h_n) or, for LSTM, (y, h_n, c_n).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, *rest):
        from fastdl import random as _random
        wflat, cfg = rest[:-1], rest[-1]
        mode, L, D, H, dropout, training, batch_first = cfg
        C = _C()
        xd = x.swapaxes(0, 1) if batch_first else x
        xl = np.ascontiguousarray(xd)
        T, B = xl.shape[0], xl.shape[1]
        dt = xl.dtype
        h0d = None if h0 is None else np.ascontiguousarray(h0)
        c0d = None if c0 is None else np.ascontiguousarray(c0)
        wd = [[None if w is None else np.ascontiguousarray(w) for w in wflat[4 * k:4 * k + 4]]
              for k in range(L * D)]
        hn = np.empty((L * D, B, H), dt)
        cn = np.empty((L * D, B, H), dt) if mode == _LSTM else None
        saved, masks = [], []
        for layer in range(L):
            out = np.empty((T, B, D * H), dt) if D == 2 else None
            for d in range(D):
                k = layer * D + d
                w_ih, w_hh, b_ih, b_hh = wd[k]
                h0k = None if h0d is None else h0d[k]
                if mode == _LSTM:
                    hs, sv = C.lstm_layer_forward(xl, h0k, None if c0d is None else c0d[k],
                                                  w_ih, w_hh, b_ih, b_hh, d == 1)
                else:
                    hs, sv = _layer_forward(C, mode)(xl, h0k, w_ih, w_hh, b_ih, b_hh, d == 1)
                if out is None:
                    out = hs[1:]            # one direction: the outputs are a contiguous view
                else:
                    out[:, :, d * H:(d + 1) * H] = hs[1:] if d == 0 else hs[:-1]
                hn[k] = hs[T] if d == 0 else hs[0]
                if cn is not None:
                    cn[k] = sv[1][T] if d == 0 else sv[1][0]
                saved.append((sv, xl))
            if layer < L - 1 and dropout > 0 and training:
                seed, stream = _random.next_key()
                keep = _C_core().rng_bernoulli(out.shape, seed, stream, 0,
                                               1.0 - dropout)
                scale = 1.0 / (1.0 - dropout) if dropout < 1 else 0.0
                mask = keep.astype(dt) * dt.type(scale)
                out = out * mask            # not in place: out may be a view of saved hs
                masks.append(mask)
            else:
                masks.append(None)
            xl = out
        y = np.ascontiguousarray(xl.swapaxes(0, 1)) if batch_first else xl
        ctx.name = {_TANH: "RNNBackward", _RELU: "RNNBackward", _LSTM: "LSTMBackward",
                    _GRU: "GRUBackward"}[mode]
        ctx.cfg, ctx.wd, ctx.saved, ctx.masks, ctx.TB = cfg, wd, saved, masks, (T, B)
        return (y, hn) if cn is None else (y, hn, cn)

    @staticmethod
    def backward(ctx, gy, ghn, gcn=None):
        mode, L, D, H, dropout, training, batch_first = ctx.cfg
        C = _C()
        wd, saved, masks = ctx.wd, ctx.saved, ctx.masks
        T, B = ctx.TB
        want = ctx.needs_input_grad             # x, h0, c0, weights...
        dt = saved[0][1].dtype
        if gy is not None:
            gy = np.ascontiguousarray(gy.swapaxes(0, 1) if batch_first else gy, dt)
        ghn, gcn = _c(ghn), _c(gcn)
        dh0 = np.zeros((L * D, B, H), dt) if want[1] else None
        dc0 = np.zeros((L * D, B, H), dt) if want[2] else None
        dws = [[np.zeros_like(w) if (w is not None and want[3 + 4 * k + j]) else None
                for j, w in enumerate(wd[k])] for k in range(L * D)]
        dy = gy
        for layer in range(L - 1, -1, -1):
            if dy is not None and masks[layer] is not None:
                dy = dy * masks[layer]
            xin = saved[layer * D][1]
            dx = np.zeros(xin.shape, dt) if (layer > 0 or want[0]) else None
            for d in range(D):
                k = layer * D + d
                sv = saved[k][0]
                w_ih, w_hh = wd[k][0], wd[k][1]
                ghk = None if ghn is None else ghn[k]
                dh0k = None if dh0 is None else dh0[k]
                if mode == _LSTM:
                    C.lstm_layer_backward(sv, xin, w_ih, w_hh, dy, d * H, ghk,
                                          None if gcn is None else gcn[k], dx, dh0k,
                                          None if dc0 is None else dc0[k], *dws[k], d == 1)
                else:
                    _layer_backward(C, mode)(sv, xin, w_ih, w_hh, dy, d * H, ghk, dx, dh0k,
                                             *dws[k], d == 1)
            dy = dx
        dx = dy
        if dx is not None and batch_first:
            dx = np.ascontiguousarray(dx.swapaxes(0, 1))
        return (dx, dh0, dc0) + tuple(g for gs in dws for g in gs)
