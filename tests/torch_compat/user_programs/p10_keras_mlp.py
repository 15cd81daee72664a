import fastdl
import fastdl.nn as nn
import fastdl.datasets

fastdl.manual_seed(0)
x, y = fastdl.datasets.load_digits(flatten=True)
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
trainer = fastdl.Trainer(model, optimizer="adam", loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])
history = trainer.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
h = history.history
print(sorted(h.keys()))
print("val_accuracy", [round(v, 3) for v in h["val_accuracy"]])
res = trainer.evaluate(x[-300:], y[-300:], verbose=0)
print("evaluate:", res)
probs = trainer.predict(x[:5])
print("predict shape", probs.shape)
RESULT = {"first_loss": h["loss"][0], "last_loss": h["loss"][-1], "val_accuracy": h["val_accuracy"][-1]}
