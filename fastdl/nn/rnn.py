"""Recurrent layers with PyTorch's names, arguments, parameter shapes, gate
order and return values: RNN, LSTM, GRU and their single-step cells.

A whole multi-layer, possibly bidirectional sequence is one autograd Node
with several outputs (output, h_n[, c_n]; fastdl/autograd/_functions/rnn.py):
forward runs each layer and direction through time in C (one GEMM for the
input projection of all steps, then per step one W_hh GEMM and one fused
cell kernel); backward runs backpropagation through time in C, with dW_ih,
dW_hh and dx each one GEMM over all steps.
"""
import math
import warnings

import numpy as np

from fastdl.autograd._functions import rnn as _fn
from fastdl.autograd._functions.rnn import _GATES, _GRU, _LSTM, _RELU, _TANH
from fastdl.nn import functional as F
from fastdl.nn import init
from fastdl._device import check_device
from fastdl.nn.module import Module, Parameter
from fastdl.tensor import Tensor, reshape

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "LastTimeStep",
           "rnn_cell", "lstm_cell", "gru_cell"]

def _shape(x):
    return tuple(x.shape)


# ---- cells as autograd functions --------------------------------------------------------

def rnn_cell(pre, nonlinearity="tanh"):
    """One Elman step h = tanh(pre) or relu(pre) through the fused cell kernel.

    Args:
        pre: the pre-activation x W_ih^T + b_ih + h W_hh^T + b_hh, (B, H).
        nonlinearity: 'tanh' (default) or 'relu'.

    Shapes:
        pre (B, H) -> h (B, H).

    Example:
        >>> from fastdl.nn.rnn import rnn_cell
        >>> rnn_cell(fastdl.tensor([[-1.0, 0.0, 2.0]]))
        tensor([[-0.7616,  0.    ,  0.964 ]])
        >>> rnn_cell(fastdl.tensor([[-1.0, 0.0, 2.0]]), "relu")
        tensor([[0., 0., 2.]])
    """
    return _fn.RNNCell.apply(pre, _nonlinearity(nonlinearity, "rnn_cell") == _RELU)


def lstm_cell(gates, c_prev):
    """One LSTM step from the gate pre-activations (i, f, g, o), PyTorch's gate order.

    c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g); h = sigmoid(o) * tanh(c).

    Args:
        gates: x W_ih^T + b_ih + h W_hh^T + b_hh, (B, 4H).
        c_prev: the previous cell state (B, H).

    Returns:
        (h, c), each (B, H), from one autograd node with two outputs.

    Shapes:
        gates (B, 4H), c_prev (B, H) -> h (B, H), c (B, H).

    Example:
        >>> from fastdl.nn.rnn import lstm_cell
        >>> h, c = lstm_cell(fastdl.zeros(1, 8), fastdl.ones(1, 2))   # every gate at 0.5
        >>> h, c
        (tensor([[0.2311, 0.2311]]), tensor([[0.5, 0.5]]))
    """
    return _fn.LSTMCell.apply(gates, c_prev)


def gru_cell(gi, gh, h_prev):
    """One GRU step: r, z = sigmoid(gi + gh), n = tanh(gi_n + r * gh_n), h = (1 - z) * n + z * h_prev.

    Args:
        gi: x W_ih^T + b_ih, (B, 3H) in blocks (r, z, n).
        gh: h_prev W_hh^T + b_hh, (B, 3H).
        h_prev: the previous hidden state (B, H).

    Shapes:
        gi (B, 3H), gh (B, 3H), h_prev (B, H) -> h (B, H).

    Example:
        >>> from fastdl.nn.rnn import gru_cell
        >>> gru_cell(fastdl.zeros(1, 6), fastdl.zeros(1, 6), fastdl.ones(1, 2))   # z = 0.5, n = 0
        tensor([[0.5, 0.5]])
    """
    return _fn.GRUCell.apply(gi, gh, h_prev)


def _nonlinearity(name, who):
    if name == "tanh":
        return _TANH
    if name == "relu":
        return _RELU
    raise ValueError("%s: unknown nonlinearity '%s', expected 'tanh' or 'relu'" % (who, name))


# ---- the whole sequence as one Node -------------------------------------------------------

def _sequence(mode, x, h0, c0, weights, num_layers, num_directions, hidden_size, dropout,
              training, batch_first):
    """Run all layers and directions. weights: [w_ih, w_hh, b_ih|None, b_hh|None] per
    layer and direction, in PyTorch's order. Returns Tensors (y, h_n[, c_n]) from one
    autograd node."""
    return _fn.RNNSequence.apply(
        x, h0, c0, *[w for ws in weights for w in ws],
        (mode, num_layers, num_directions, hidden_size, dropout, training, batch_first))


# ---- modules -----------------------------------------------------------------------------

class RNNBase(Module):
    """Shared skeleton of RNN, LSTM and GRU (PyTorch's RNNBase): parameters, checks and forward.

    Parameters per layer k (and direction, suffix ``_reverse``): weight_ih_l{k}
    (G * hidden_size, input_size), weight_hh_l{k} (G * hidden_size, hidden_size),
    bias_ih_l{k}, bias_hh_l{k} (G * hidden_size), with G = 1 (RNN), 4 (LSTM)
    or 3 (GRU); all U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Args:
        mode: the cell kind, as PyTorch's RNNBase: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'
            (set by the subclass).
        input_size: features of x_t.
        hidden_size: features of h_t.
        num_layers: stacked layers (default 1).
        bias: use b_ih and b_hh (default True).
        batch_first: input and output are (N, L, *) instead of (L, N, *).
        dropout: dropout probability on the outputs of every layer but the last.
        bidirectional: run a reverse direction too and concatenate.
        dtype: parameter dtype (default float32).

    Example:
        >>> gru = nn.GRU(4, 3)
        >>> isinstance(gru, fastdl.nn.rnn.RNNBase)
        True
        >>> [name for name, _ in gru.named_parameters()]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
        >>> gru.weight_ih_l0.shape
        (9, 4)
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: %r (expected 'RNN_TANH', 'RNN_RELU', 'LSTM' "
                             "or 'GRU')" % (mode,))
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("%s: hidden_size must be a positive integer, got %r"
                             % (name, hidden_size))
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("%s: num_layers must be a positive integer, got %r"
                             % (name, num_layers))
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed, got %r" % (dropout,))
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          "dropout=%g and num_layers=%d" % (dropout, num_layers))
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), hidden_size
        self.num_layers, self.bias = num_layers, bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        dt = dtype or np.float32
        self._flat_weights_names = []
        for layer in range(num_layers):
            in_size = self.input_size if layer == 0 else hidden_size * D
            for d in range(D):
                sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
                shapes = [("weight_ih", (G, in_size)), ("weight_hh", (G, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(np.empty(shape, dtype=dt)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    @property
    def _num_directions(self):
        return 2 if self.bidirectional else 1

    def _layer_weights(self):
        """[w_ih, w_hh, b_ih, b_hh] per layer and direction (biases None without bias)."""
        out = []
        for layer in range(self.num_layers):
            for d in range(self._num_directions):
                sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
                out.append([getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx),
                            getattr(self, "bias_ih" + sfx) if self.bias else None,
                            getattr(self, "bias_hh" + sfx) if self.bias else None])
        return out

    @property
    def all_weights(self):
        """The parameters per layer and direction: [[weight_ih, weight_hh, bias_ih, bias_hh], ...]."""
        return [[w for w in ws if w is not None] for ws in self._layer_weights()]

    def _check_input(self, input, hx):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError("%s: expected input as a fastdl Tensor, got %s"
                            % (name, type(input).__name__))
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError("%s: expected input of shape %s (or %s unbatched) with "
                             "input_size=%d, got %s"
                             % (name, "(N, L, %d)" % self.input_size if self.batch_first
                                else "(L, N, %d)" % self.input_size,
                                "(L, %d)" % self.input_size, self.input_size,
                                _shape(input)))
        dt = self.weight_ih_l0.dtype
        if input.dtype != dt:
            raise TypeError("%s: input dtype %s does not match the parameters' dtype %s"
                            % (name, input.dtype, dt))
        batched = input.ndim == 3
        B = (input.shape[0] if self.batch_first else input.shape[1]) if batched else 1
        want = (self.num_layers * self._num_directions, B, self.hidden_size)
        states = () if hx is None else (hx if isinstance(hx, tuple) else (hx,))
        if self.mode == _LSTM and hx is not None and len(states) != 2:
            raise ValueError("LSTM: expected hx as a tuple (h_0, c_0), got %r" % (type(hx),))
        if self.mode != _LSTM and hx is not None and len(states) != 1:
            raise ValueError("%s: expected hx as one Tensor h_0, got a tuple" % name)
        for sname, s in zip(("h_0", "c_0"), states):
            if not isinstance(s, Tensor):
                raise TypeError("%s: expected %s as a fastdl Tensor, got %s"
                                % (name, sname, type(s).__name__))
            exp = want if batched else (want[0], want[2])
            if _shape(s) != exp:
                raise ValueError("%s: expected %s of shape %s for input of shape %s, got %s"
                                 % (name, sname, exp, _shape(input), _shape(s)))
            if s.dtype != dt:
                raise TypeError("%s: %s dtype %s does not match the parameters' dtype %s"
                                % (name, sname, s.dtype, dt))
        return batched, states

    def forward(self, input, hx=None):
        """Run the whole sequence.

        Args:
            input: (L, N, input_size), or (N, L, input_size) with batch_first,
                or (L, input_size) unbatched.
            hx: initial hidden state h_0 (num_layers * num_directions, N,
                hidden_size), for LSTM a tuple (h_0, c_0); None means zeros.
        Returns:
            (output, h_n), for LSTM (output, (h_n, c_n)); output is
            (L, N, D * hidden_size) (batch_first: (N, L, D * hidden_size)).
        """
        batched, states = self._check_input(input, hx)
        x = input
        if not batched:
            x = reshape(x, (x.shape[0], 1, x.shape[1]))
            states = tuple(reshape(s, (s.shape[0], 1, s.shape[1])) for s in states)
        h0 = states[0] if states else None
        c0 = states[1] if len(states) > 1 else None
        outs = _sequence(self.mode, x, h0, c0, self._layer_weights(), self.num_layers,
                         self._num_directions, self.hidden_size, self.dropout, self.training,
                         self.batch_first if batched else False)
        if not batched:
            outs = (reshape(outs[0], (outs[0].shape[0], outs[0].shape[2])),) + tuple(
                reshape(o, (o.shape[0], o.shape[2])) for o in outs[1:])
        if self.mode == _LSTM:
            return outs[0], (outs[1], outs[2])
        return outs[0], outs[1]

    def extra_repr(self):
        s = "%d, %d" % (self.input_size, self.hidden_size)
        if self.num_layers != 1:
            s += ", num_layers=%d" % self.num_layers
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += ", dropout=%g" % self.dropout
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def flatten_parameters(self):
        """A no-op kept for PyTorch code (cuDNN's weight compaction has no CPU meaning)."""
        return None


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Args:
        input_size, hidden_size: features of x_t and h_t.
        num_layers: stacked layers (default 1).
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: use b_ih and b_hh (default True).
        batch_first: input and output are (N, L, *) instead of (L, N, *).
        dropout: dropout probability on the outputs of every layer but the last.
        bidirectional: run a reverse direction too and concatenate.
    Shapes: see RNNBase.forward; returns (output, h_n).

    Example:
        >>> rnn = fastdl.nn.RNN(10, 20, 2)
        >>> out, h_n = rnn(fastdl.randn(5, 3, 10))
        >>> out.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(_nonlinearity(nonlinearity, "RNN"), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates (i, f, g, o):
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).

    Args as RNN (without nonlinearity). Returns (output, (h_n, c_n)).

    Example:
        >>> lstm = fastdl.nn.LSTM(10, 20, batch_first=True)
        >>> out, (h_n, c_n) = lstm(fastdl.randn(3, 5, 10))
        >>> out.shape, c_n.shape
        ((3, 5, 20), (1, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        check_device(device, type(self).__name__)
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not supported")
        super().__init__(_LSTM, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates (r, z, n):
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.

    Args as RNN (without nonlinearity). Returns (output, h_n).

    Example:
        >>> gru = fastdl.nn.GRU(10, 20, bidirectional=True)
        >>> out, h_n = gru(fastdl.randn(5, 3, 10))
        >>> out.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(_GRU, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)


# ---- single-step cells --------------------------------------------------------------------

class RNNCellBase(Module):
    """Shared skeleton of RNNCell, LSTMCell and GRUCell: parameters and input checks.

    Parameters: weight_ih (G * hidden_size, input_size), weight_hh
    (G * hidden_size, hidden_size), bias_ih and bias_hh (G * hidden_size), with
    G = 1, 4 or 3; all U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Args:
        input_size: features of x.
        hidden_size: features of h.
        bias: use b_ih and b_hh.
        num_chunks: G, the number of gate blocks (set by the subclass).
        dtype: parameter dtype (default float32).

    Example:
        >>> cell = nn.LSTMCell(4, 3)
        >>> isinstance(cell, fastdl.nn.rnn.RNNCellBase)
        True
        >>> [tuple(p.shape) for p in cell.parameters()]
        [(12, 4), (12, 3), (12,), (12,)]
    """
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dt = dtype or np.float32
        G = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((G, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty(G, dtype=dt))
            self.bias_hh = Parameter(np.empty(G, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _prepare(self, input, hx, n_states):
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError("%s: expected input of shape (N, %d) or (%d,), got %s"
                             % (name, self.input_size, self.input_size, _shape(input)))
        batched = input.ndim == 2
        x = input if batched else reshape(input, (1, self.input_size))
        B = x.shape[0]
        if hx is None:
            from fastdl import creation
            states = tuple(creation.zeros((B, self.hidden_size), dtype=x.dtype)
                           for _ in range(n_states))
        else:
            states = hx if isinstance(hx, tuple) else (hx,)
            if len(states) != n_states:
                raise ValueError("%s: expected %d state tensor(s), got %d"
                                 % (name, n_states, len(states)))
            exp = (B, self.hidden_size) if batched else (self.hidden_size,)
            for s in states:
                if _shape(s) != exp:
                    raise ValueError("%s: expected a state of shape %s for input of shape %s, "
                                     "got %s" % (name, exp, _shape(input), _shape(s)))
            if not batched:
                states = tuple(reshape(s, (1, self.hidden_size)) for s in states)
        return batched, x, states

    @staticmethod
    def _unbatch(t, batched):
        return t if batched else reshape(t, (t.shape[1],))

    def extra_repr(self):
        s = "%d, %d" % (self.input_size, self.hidden_size)
        return s + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), one step.

    Example:
        >>> cell = fastdl.nn.RNNCell(10, 20)
        >>> cell(fastdl.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        check_device(device, type(self).__name__)
        _nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        batched, x, (h,) = self._prepare(input, hx, 1)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        return self._unbatch(rnn_cell(pre, self.nonlinearity), batched)


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(input, (h, c)) returns (h', c').

    Example:
        >>> cell = fastdl.nn.LSTMCell(10, 20)
        >>> h, c = cell(fastdl.randn(3, 10))
        >>> c.shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(input_size, hidden_size, bias, 4, dtype=dtype)

    def forward(self, input, hx=None):
        batched, x, (h, c) = self._prepare(input, hx, 2)
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh,
                                                                     self.bias_hh)
        h2, c2 = lstm_cell(gates, c)
        return self._unbatch(h2, batched), self._unbatch(c2, batched)


class GRUCell(RNNCellBase):
    """One GRU step; forward(input, h) returns h'.

    Example:
        >>> cell = fastdl.nn.GRUCell(10, 20)
        >>> cell(fastdl.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        check_device(device, type(self).__name__)
        super().__init__(input_size, hidden_size, bias, 3, dtype=dtype)

    def forward(self, input, hx=None):
        batched, x, (h,) = self._prepare(input, hx, 1)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        return self._unbatch(gru_cell(gi, gh, h), batched)


class LastTimeStep(Module):
    """The last time step of a sequence: (N, L, H) -> (N, H), for an RNN inside nn.Sequential.

    An LSTM, GRU or RNN returns (output, state); this layer takes the output
    sequence from such a tuple (or a plain tensor) and keeps step L - 1, so
    ``nn.Sequential(nn.LSTM(..., batch_first=True), nn.LastTimeStep(), nn.Linear(...))``
    is a sequence classifier. The C model runtime (fastdl/model.h) has the
    same layer, so such models export with :func:`fastdl.export`.

    Args:
        batch_first: the input is (N, L, H) (default True); False: (L, N, H).

    Shapes:
        input (N, L, H) or a tuple whose first item is -> output (N, H).

    Example:
        >>> model = nn.Sequential(nn.LSTM(3, 4, batch_first=True), nn.LastTimeStep())
        >>> model(fastdl.randn(2, 5, 3)).shape
        (2, 4)
    """

    def __init__(self, batch_first=True):
        super().__init__()
        self.batch_first = bool(batch_first)

    def forward(self, input):
        x = input[0] if isinstance(input, tuple) else input
        if len(x.shape) != 3:
            raise ValueError("LastTimeStep: expected a 3-D sequence (N, L, H), got shape %s"
                             % (tuple(x.shape),))
        return x[:, -1] if self.batch_first else x[-1]

    def extra_repr(self):
        return "" if self.batch_first else "batch_first=False"
