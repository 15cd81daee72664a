"""Trainer and callbacks: epoch semantics, gradient accumulation, callbacks,
checkpoints, exact resume, multi-output models, non-finite losses."""
import csv
import os
import warnings

import numpy as np
import pytest

import fastdl
from fastdl import nn
from fastdl.callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler,
                              ModelCheckpoint, ReduceLROnPlateau)


def mse(o, t):
    return ((o - t) ** 2).mean()


def regression_data(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal((d, 1)).astype(np.float32)
    return x, (x @ w + 0.5).astype(np.float32)


def classification_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], np.float32)
    x = (centers[y] + rng.standard_normal((n, 2)).astype(np.float32) * 0.5).astype(np.float32)
    return x, y.astype(np.int64)


def make(seed=0, d=5, out=1, lr=0.05, opt="sgd"):
    fastdl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, out))
    if opt == "sgd":
        o = fastdl.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        o = fastdl.optim.Adam(model.parameters(), lr=lr)
    return model, o


class Counter(Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch", batch, logs["size"]))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch", epoch))


@pytest.mark.parametrize("drop_last, expected", [(False, 4), (True, 3)])
def test_one_epoch_is_one_pass(drop_last, expected):
    x, y = regression_data(n=50)
    model, opt = make()
    c = Counter()
    fastdl.Trainer(model, opt, mse).fit(x, y, epochs=2, batch_size=16, verbose=0,
                                        callbacks=[c], drop_last=drop_last)
    batches = [k for k in c.calls if k[0] == "batch"]
    assert len(batches) == 2 * expected
    sizes = [k[2] for k in batches[:expected]]
    assert sum(sizes) == (50 if not drop_last else 48)


def test_gradient_accumulation_equals_a_larger_batch():
    x, y = regression_data(n=64)
    m1, o1 = make(seed=3)
    m2, o2 = make(seed=3)
    fastdl.Trainer(m1, o1, mse).fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    fastdl.Trainer(m2, o2, mse).fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                                    grad_accum_steps=4)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_gradient_accumulation_with_a_short_last_group():
    x, y = regression_data(n=56)          # batches 16,16,16,8 with k=2: groups 32, 24
    m1, o1 = make(seed=4)
    m2, o2 = make(seed=4)
    t1 = fastdl.Trainer(m1, o1, mse)
    t2 = fastdl.Trainer(m2, o2, mse)
    t2.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0, grad_accum_steps=2)
    # reference: the same groups as single batches of 32 and 24
    t1.fit(x[:32], y[:32], epochs=1, batch_size=32, shuffle=False, verbose=0)
    t1.fit(x[32:], y[32:], epochs=1, batch_size=24, shuffle=False, verbose=0)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_history_keys_and_validation_split():
    x, y = classification_data()
    model, opt = make(d=2, out=3, opt="adam", lr=0.05)
    tr = fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"])
    h = tr.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"):
        assert k in h and len(h[k]) == 3
    assert h["val_accuracy"][-1] > 0.8
    assert h["loss"][-1] < h["loss"][0]
    ev = tr.evaluate(x, y, return_dict=True, verbose=0)
    assert set(ev) == {"loss", "accuracy"}
    pred = tr.predict(x, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (300, 3)
    table = h.table()
    assert "val_loss" in table and "seconds" in table


def test_early_stopping_restores_best_weights():
    x, y = regression_data()
    model, opt = make(lr=0.05)
    tr = fastdl.Trainer(model, opt, mse)
    seen = {}

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = ({k: v.numpy().copy() for k, v in self.model.state_dict().items()},
                           logs["val_loss"])
    # an increasing "val_loss" from a fake validation set far from the training data
    xv, yv = x + 10.0, y - 50.0
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = tr.fit(x, y, epochs=30, batch_size=20, validation_data=(xv, yv), verbose=0,
               callbacks=[es, Spy()])
    n = len(h["loss"])
    assert n < 30 and es.stopped_epoch == n - 1
    best = min(seen, key=lambda e: seen[e][1])
    for k, v in model.state_dict().items():
        assert np.array_equal(v.numpy(), seen[best][0][k])


def test_model_checkpoint_best_only_and_atomic(tmp_path):
    x, y = regression_data()
    model, opt = make()
    path = str(tmp_path / "best-{epoch:02d}.safetensors")
    ck = ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True)
    fastdl.Trainer(model, opt, mse).fit(x, y, epochs=3, batch_size=50, verbose=0, callbacks=[ck])
    files = sorted(os.listdir(tmp_path))
    assert files and all(f.endswith(".safetensors") and not f.startswith(".") for f in files)
    fresh, _ = make(seed=99)
    fresh.load_state_dict(fastdl.load(ck.last_saved))


def test_csv_logger(tmp_path):
    x, y = regression_data()
    model, opt = make()
    f = tmp_path / "log.csv"
    fastdl.Trainer(model, opt, mse).fit(x, y, epochs=3, batch_size=50, verbose=0,
                                        callbacks=[CSVLogger(f)])
    rows = list(csv.reader(open(f)))
    assert rows[0][0] == "epoch" and "loss" in rows[0] and len(rows) == 4


def test_lr_schedulers_as_callbacks():
    x, y = regression_data()
    model, opt = make(lr=0.1)
    sched = fastdl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fastdl.Trainer(model, opt, mse).fit(x, y, epochs=3, batch_size=50, verbose=0,
                                            callbacks=[LearningRateScheduler(sched)])
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])
    model, opt = make(lr=0.1)
    h = fastdl.Trainer(model, opt, mse).fit(
        x, y, epochs=3, batch_size=50, verbose=0,
        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_reduce_lr_on_plateau():
    x, y = regression_data()
    model, opt = make(lr=0.1)
    cb = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=1e9)
    h = fastdl.Trainer(model, opt, mse).fit(x, y, epochs=4, batch_size=50, verbose=0,
                                            validation_data=(x, y), callbacks=[cb])
    # min_delta so large that nothing counts as an improvement after the first epoch
    assert h["lr"][0] == 0.1 and h["lr"][-1] < 0.1


def test_non_finite_loss_stops_with_a_message():
    x, y = regression_data()
    y[37] = np.nan
    model, opt = make()
    tr = fastdl.Trainer(model, opt, mse)
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 3"):
        tr.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0)


def test_exact_resume_is_bit_identical(tmp_path):
    x, y = classification_data(n=200)

    def run(epochs, resume=None, ckpt=None):
        model, opt = make(seed=5, d=2, out=3, opt="adam", lr=0.01)
        sched = fastdl.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        tr = fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched)
        cbs = [ModelCheckpoint(ckpt, monitor="loss")] if ckpt else []
        tr.fit(x, y, epochs=epochs, batch_size=16, shuffle=True, verbose=0, callbacks=cbs,
               resume_from=resume)
        return model, tr

    fastdl.manual_seed(123)
    straight, _ = run(4)
    fastdl.manual_seed(123)
    ck = str(tmp_path / "ck.safetensors")
    run(2, ckpt=ck)
    fastdl.manual_seed(999)               # the checkpoint restores the RNG, not this
    resumed, tr = run(4, resume=ck)
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k
    assert len(tr.history["loss"]) == 4


def test_multi_output_model():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 8)
            self.cls = nn.Linear(8, 3)
            self.reg = nn.Linear(8, 1)

        def forward(self, x):
            h = self.body(x).clip(min=0)
            return self.cls(h), self.reg(h)

    x, y = classification_data(n=120)
    yr = (x[:, :1] * 2).astype(np.float32)
    fastdl.manual_seed(0)
    model = TwoHeads()
    opt = fastdl.optim.Adam(model.parameters(), lr=0.02)
    tr = fastdl.Trainer(model, opt, [nn.CrossEntropyLoss(), nn.MSELoss()],
                        metrics={"output_1": ["accuracy"], "output_2": ["mae"]},
                        loss_weights=[1.0, 0.5])
    h = tr.fit(x, (y, yr), epochs=2, batch_size=20, validation_split=0.25, verbose=0)
    for k in ("loss", "output_1_loss", "output_2_loss", "output_1_accuracy", "output_2_mae",
              "val_output_1_accuracy", "val_output_2_mae"):
        assert k in h, k
    total = h["output_1_loss"][-1] + 0.5 * h["output_2_loss"][-1]
    assert h["loss"][-1] == pytest.approx(total, rel=1e-5)
    out = tr.predict(x, verbose=0)
    assert isinstance(out, tuple) and out[0].shape == (120, 3) and out[1].shape == (120, 1)


def test_overfitting_warning_fires_once():
    # the heuristic is an opt-in callback now (fit never runs it by itself)
    from fastdl.callbacks import OverfittingMonitor
    mon = OverfittingMonitor(patience=3)
    mon.on_train_begin()
    losses = [(1.0, 1.0), (0.8, 1.1), (0.6, 1.2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for e, (t, v) in enumerate(losses):
            mon.on_epoch_end(e, {"loss": t, "val_loss": v})
    with pytest.warns(RuntimeWarning, match="overfitting"):
        mon.on_epoch_end(3, {"loss": 0.4, "val_loss": 1.3})
    assert mon.fired_epoch == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mon.on_epoch_end(4, {"loss": 0.3, "val_loss": 1.4})


def test_history_plot(tmp_path):
    pytest.importorskip("matplotlib")
    x, y = regression_data()
    model, opt = make()
    h = fastdl.Trainer(model, opt, mse, metrics=["mae"]).fit(x, y, epochs=2, batch_size=50,
                                                             validation_split=0.2, verbose=0)
    p = h.plot(tmp_path / "curves.png")
    assert os.path.getsize(p) > 1000


def test_quiet_when_verbose_0(capsys):
    x, y = regression_data()
    model, opt = make()
    fastdl.Trainer(model, opt, mse).fit(x, y, epochs=1, batch_size=50, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_bad_arguments():
    x, y = regression_data()
    model, opt = make()
    tr = fastdl.Trainer(model, opt, mse)
    with pytest.raises(ValueError, match="grad_accum_steps"):
        tr.fit(x, y, grad_accum_steps=0, verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        tr.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        tr.fit(x, y, validation_split=1.5, verbose=0)


def test_batch_logs_are_running_epoch_means():
    x, y = classification_data(n=100)
    model, opt = make(d=2, out=3, opt="adam", lr=0.05)
    seen = []

    class Spy(Callback):
        shows_running_metrics = True

        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))
    h = fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"]).fit(
        x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, callbacks=[Spy()])
    assert [s["size"] for s in seen] == [32, 32, 32, 4]
    # the last batch's running values are the epoch's values
    assert seen[-1]["loss"] == pytest.approx(h["loss"][0], rel=1e-12)
    assert seen[-1]["accuracy"] == pytest.approx(h["accuracy"][0], rel=1e-12)
