"""fastdl.train: the Trainer and its callbacks."""
from fastdl.train.callbacks import *  # noqa: F401,F403
from fastdl.train.trainer import Trainer
