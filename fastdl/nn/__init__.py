"""fastdl.nn: modules, layers, losses, initializers and the functional API."""
from fastdl.nn import functional, init, utils
from fastdl.nn.module import Module, Parameter
from fastdl.nn.containers import ModuleDict, ModuleList, Sequential
from fastdl.nn.layers import *  # noqa: F401,F403
from fastdl.nn.loss import *  # noqa: F401,F403
from fastdl.nn.rnn import GRU, LSTM, RNN, GRUCell, LastTimeStep, LSTMCell, RNNCell
from fastdl.nn import parallel  # noqa: E402  (DistributedDataParallel; MPI loads only when used)
