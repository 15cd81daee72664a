"""torch.nn.modules.rnn: RNN, LSTM, GRU, their cells and RNNBase (re-exported from fastdl.nn)."""
from fastdl.nn.rnn import (GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell,  # noqa: F401
                           RNNCellBase)
