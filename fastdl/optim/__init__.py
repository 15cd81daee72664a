"""fastdl.optim: optimizers with fused C updates, and LR schedules.

Each optimizer follows ``torch.optim``'s constructor arguments, state keys and
update equations; one C kernel per optimizer updates a parameter and its state
in a single pass. Parameters are float32 (fused C kernels) or float64 (the same formulas in NumPy).
"""
from fastdl.optim.optimizer import Optimizer
from fastdl.optim.sgd import SGD
from fastdl.optim.adam import Adam, AdamW
from fastdl.optim.rmsprop import RMSprop
from fastdl.optim.adagrad import Adagrad
from fastdl.optim.adadelta import Adadelta
from fastdl.optim.lbfgs import LBFGS
from fastdl.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS",
           "lr_scheduler"]
