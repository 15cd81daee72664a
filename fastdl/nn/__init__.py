"""fastdl.nn: modules, layers, losses, initializers and the functional API."""
from fastdl.nn import functional, init, utils
from fastdl.nn.module import Module, Parameter
from fastdl.nn.containers import ModuleDict, ModuleList, Sequential
from fastdl.nn.layers import *  # noqa: F401,F403
from fastdl.nn.loss import *  # noqa: F401,F403
from fastdl.nn.rnn import GRU, LSTM, RNN, RNNBase, GRUCell, LastTimeStep, LSTMCell, RNNCell
from fastdl.nn.more_layers import *  # noqa: F401,F403
from fastdl.nn.transformer import *  # noqa: F401,F403
from fastdl.nn import modules  # noqa: E402  (torch.nn.modules.<file> import paths)
from fastdl.nn import parallel  # noqa: E402  (DistributedDataParallel; MPI loads only when used)
