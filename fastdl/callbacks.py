"""fastdl.callbacks: the Trainer's callbacks (Keras's names); see fastdl.train.callbacks."""
from fastdl.train.callbacks import *  # noqa: F401,F403
from fastdl.train.callbacks import __all__  # noqa: F401
