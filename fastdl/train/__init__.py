"""fastdl.train: the Trainer (Keras's compile/fit/evaluate/predict), its callbacks,
Keras's loss names and a Progbar."""
from fastdl.train.callbacks import *  # noqa: F401,F403
from fastdl.train.losses import get_loss
from fastdl.train.progbar import Progbar
from fastdl.train.trainer import Trainer
