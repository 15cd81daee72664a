import os
import tempfile
import numpy as np
import fastdl
import fastdl.nn as nn
import fastdl.datasets
from fastdl.callbacks import EarlyStopping, ModelCheckpoint

fastdl.manual_seed(0)
x, y = fastdl.datasets.load_digits(flatten=True)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
trainer = fastdl.Trainer(model, optimizer="adam", loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "best.safetensors")
    cbs = [EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
           ModelCheckpoint(path, monitor="val_loss", save_best_only=True)]
    history = trainer.fit(x, y, batch_size=64, epochs=40, validation_split=0.2, callbacks=cbs, verbose=0)
    saved = os.path.exists(path)
epochs_run = len(history.history["loss"])
print("epochs run", epochs_run, "best val_loss", min(history.history["val_loss"]))
RESULT = {"first_loss": history.history["loss"][0], "last_loss": history.history["loss"][-1],
          "val_accuracy": max(history.history["val_accuracy"]), "saved": saved, "epochs": epochs_run}
