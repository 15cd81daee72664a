import numpy as np
import fastdl
import fastdl.nn as nn
import fastdl.datasets

fastdl.manual_seed(0)
x, y = fastdl.datasets.load_digits()
x = x[:, None, :, :].astype("float32")
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
trainer = fastdl.Trainer(model, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
hist = trainer.fit(x[:1400], y[:1400], batch_size=32, epochs=5, validation_data=(x[1400:], y[1400:]), verbose=0)
logits = trainer.predict(x[1400:])
acc = float((np.asarray(logits).argmax(1) == y[1400:]).mean())
print(hist.history["val_accuracy"], acc)
RESULT = {"first_loss": hist.history["loss"][0], "last_loss": hist.history["loss"][-1], "accuracy": acc}
