"""The Trainer behaves as Keras users expect: argument order, names, return values,
weights, steps, per-batch schedules, multi-output names, summary, trainable, dtypes."""
import math
import warnings

import numpy as np
import pytest

import fastdl
from fastdl import nn
from fastdl.callbacks import Callback
from fastdl.train.losses import LOSS_NAMES


def blobs(n=400, d=6, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.standard_normal((classes, d)) * 3
    x = centers[y] + rng.standard_normal((n, d))
    return x.astype(dtype), y.astype(np.int64)


def mlp(d=6, out=3, seed=0):
    fastdl.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, out))


class BatchLog(Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test, self.lrs, self.epochs = [], [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append([])

    def on_train_batch_end(self, batch, logs=None):
        self.train.append(logs["size"])
        self.epochs[-1].append(batch)
        self.lrs.append(self.trainer.optimizer.param_groups[0]["lr"])

    def on_test_batch_end(self, batch, logs=None):
        self.test.append(logs["size"])


# ---- the done-when script, unchanged -------------------------------------------

def test_keras_style_script_runs_unchanged(capsys):
    x, y = blobs(n=1000, d=20, classes=10, seed=1)
    fastdl.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = fastdl.Trainer(model, "adam", "sparse_categorical_crossentropy",
                             metrics=["accuracy"])
    trainer.fit(x, y, 128, 3, validation_split=0.1)
    loss, acc = trainer.evaluate(x, y)
    assert isinstance(loss, float) and isinstance(acc, float)
    assert 0.0 < loss < math.log(10) and 0.5 < acc <= 1.0
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 3 and "val_accuracy" in out


def test_fit_positional_order_is_batch_size_then_epochs():
    x, y = blobs(n=100)
    log = BatchLog()
    fastdl.Trainer(mlp(), "sgd", "sparse_categorical_crossentropy").fit(
        x, y, 25, 3, 0, [log])
    assert len(log.epochs) == 3 and all(len(e) == 4 for e in log.epochs)
    assert log.train[:4] == [25, 25, 25, 25]


# ---- names for optimizer, loss and metrics ---------------------------------------------

@pytest.mark.parametrize("name, cls, lr", [("sgd", "SGD", 0.01), ("adam", "Adam", 1e-3),
                                           ("adamw", "AdamW", 1e-3), ("rmsprop", "RMSprop", 1e-3),
                                           ("adagrad", "Adagrad", 1e-3),
                                           ("adadelta", "Adadelta", 1e-3), ("Adam", "Adam", 1e-3)])
def test_optimizer_names_use_keras_defaults(name, cls, lr):
    tr = fastdl.Trainer(mlp(), name, "mse")
    assert type(tr.optimizer).__name__ == cls
    assert tr.optimizer.param_groups[0]["lr"] == pytest.approx(lr)
    n_params = sum(1 for _ in tr.model.parameters())
    assert len(tr.optimizer.param_groups[0]["params"]) == n_params


def test_bad_names_and_types_are_rejected_at_construction():
    m = mlp()
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'.*adadelta, adagrad, adam"):
        fastdl.Trainer(m, "adamm", "mse")
    with pytest.raises(TypeError, match="optimizer must be a name"):
        fastdl.Trainer(m, 0.01, "mse")
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'.*binary_crossentropy"):
        fastdl.Trainer(m, "adam", "cross_entropy")
    with pytest.raises(TypeError, match="a loss must be a name"):
        fastdl.Trainer(m, "adam", 3)
    with pytest.raises(ValueError, match=r"unknown metric 'acuracy'.*accuracy"):
        fastdl.Trainer(m, "adam", "mse", metrics=["acuracy"])
    with pytest.raises(TypeError, match="a metric must be a name"):
        fastdl.Trainer(m, "adam", "mse", metrics=[len])
    with pytest.raises(TypeError, match="metrics must be a list"):
        fastdl.Trainer(m, "adam", "mse", metrics="accuracy")
    with pytest.raises(TypeError, match="model must be a fastdl.nn.Module"):
        fastdl.Trainer(lambda x: x, "adam", "mse")


def _log_softmax(o):
    m = o.max(1, keepdims=True)
    return o - m - np.log(np.exp(o - m).sum(1, keepdims=True))


def _ref_losses(o, t_int, t_onehot, t_bin, t_reg, t_pos):
    eps = 1e-7
    ls = _log_softmax(o)
    d = o - t_reg
    hinge_t = 2 * t_bin - 1
    tk = np.clip(t_onehot * 0.8 + 0.2 / o.shape[1], eps, 1)
    return {
        "sparse_categorical_crossentropy": (t_int, -ls[np.arange(len(o)), t_int]),
        "categorical_crossentropy": (t_onehot, -(t_onehot * ls).sum(1)),
        "binary_crossentropy": (t_bin, (np.maximum(o, 0) - o * t_bin
                                        + np.log1p(np.exp(-np.abs(o)))).mean(1)),
        "kl_divergence": (tk, (tk * (np.log(tk) - ls)).sum(1)),
        "mse": (t_reg, (d ** 2).mean(1)),
        "mae": (t_reg, np.abs(d).mean(1)),
        "mape": (t_reg, (100 * np.abs(d) / np.maximum(np.abs(t_reg), eps)).mean(1)),
        "msle": (np.abs(t_reg), ((np.log(np.maximum(o, eps) + 1)
                                  - np.log(np.abs(t_reg) + 1)) ** 2).mean(1)),
        "huber": (t_reg, np.where(np.abs(d) <= 1, 0.5 * d ** 2, np.abs(d) - 0.5).mean(1)),
        "log_cosh": (t_reg, np.log(np.cosh(d)).mean(1)),
        "hinge": (t_bin, np.maximum(1 - hinge_t * o, 0).mean(1)),
        "squared_hinge": (t_bin, (np.maximum(1 - hinge_t * o, 0) ** 2).mean(1)),
        "poisson": (t_pos, (np.abs(o) + 0.1 - t_pos * np.log(np.abs(o) + 0.1 + eps)).mean(1)),
    }


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "binary_crossentropy", "kl_divergence", "mse", "mae", "mape",
                                  "msle", "huber", "log_cosh", "hinge", "squared_hinge",
                                  "poisson"])
def test_loss_names_match_a_float64_reference(name):
    from fastdl.train.losses import get_loss
    rng = np.random.default_rng(3)
    n, c = 7, 4
    o = rng.standard_normal((n, c)) * 2
    t_int = rng.integers(0, c, n)
    t_onehot = np.eye(c)[t_int]
    t_bin = rng.integers(0, 2, (n, c)).astype(np.float64)
    t_reg = rng.standard_normal((n, c))
    t_pos = rng.poisson(2.0, (n, c)).astype(np.float64)
    target, ref = _ref_losses(o, t_int, t_onehot, t_bin, t_reg, t_pos)[name]
    inp = np.abs(o) + 0.1 if name == "poisson" else o
    out = fastdl.tensor(inp.astype(np.float32), requires_grad=True)
    loss = get_loss(name)
    per = loss.per_sample(out, target)
    np.testing.assert_allclose(per.detach().numpy(), ref, rtol=2e-5, atol=2e-6)
    total = loss(out, target)
    np.testing.assert_allclose(total.item(), ref.mean(), rtol=2e-5, atol=2e-6)
    total.backward()
    assert out.grad is not None and np.all(np.isfinite(out.grad.numpy()))


def test_loss_aliases_and_keras_class_names():
    from fastdl.train.losses import get_loss
    for a, b in [("mse", "mean_squared_error"), ("MeanSquaredError", "mean_squared_error"),
                 ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"),
                 ("kld", "kl_divergence"), ("mae", "mean_absolute_error")]:
        assert get_loss(a).canonical == b
    assert "sparse_categorical_crossentropy" in LOSS_NAMES and "mse" in LOSS_NAMES


def test_crossentropy_names_take_logits():
    # the string equals nn.CrossEntropyLoss (PyTorch's logits convention)
    x, y = blobs(n=64)
    m = mlp()
    ev1 = fastdl.Trainer(m, "sgd", "sparse_categorical_crossentropy").evaluate(x, y, verbose=0)
    ev2 = fastdl.Trainer(m, "sgd", nn.CrossEntropyLoss()).evaluate(x, y, verbose=0)
    assert ev1 == pytest.approx(ev2, rel=1e-6)
    # a model that ends in softmax is refused when the Trainer is built ...
    sm = nn.Sequential(nn.Linear(6, 3), nn.Softmax(dim=1))
    with pytest.raises(ValueError, match="ends in Softmax.*logits"):
        fastdl.Trainer(sm, "adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="ends in Sigmoid"):
        fastdl.Trainer(nn.Sequential(nn.Linear(6, 1), nn.Sigmoid()), "adam",
                       "binary_crossentropy")

    # ... and probabilities from a custom forward at the first batch
    class Probs(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            return nn.functional.softmax(self.fc(x), dim=1)
    with pytest.raises(ValueError, match="probabilities"):
        fastdl.Trainer(Probs(), "adam", "sparse_categorical_crossentropy").fit(x, y, verbose=0)


def test_binary_crossentropy_accuracy_thresholds_logits_at_zero():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    fastdl.manual_seed(1)
    model = nn.Linear(4, 1)
    tr = fastdl.Trainer(model, "adam", "binary_crossentropy", metrics=["accuracy", "precision"])
    loss, acc, prec = tr.evaluate(x, y, verbose=0)
    logits = model(fastdl.tensor(x)).detach().numpy()[:, 0]
    pred = logits > 0
    assert acc == pytest.approx(np.mean(pred == (y > 0.5)))
    assert prec == pytest.approx(np.sum(pred & (y > 0.5)) / max(np.sum(pred), 1))
    ref = np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
    assert loss == pytest.approx(ref, rel=1e-5)


def test_categorical_crossentropy_with_one_hot_targets_and_accuracy():
    x, y = blobs(n=120)
    tr = fastdl.Trainer(mlp(), "adam", "categorical_crossentropy", metrics=["accuracy"])
    tr.fit(x, np.eye(3, dtype=np.float32)[y], 32, 5, verbose=0)
    _, acc = tr.evaluate(x, np.eye(3, dtype=np.float32)[y], verbose=0)
    pred = tr.predict(x, verbose=0).argmax(1)
    assert acc == pytest.approx(np.mean(pred == y))


# ---- evaluate / predict return values ---------------------------------------------------

def test_evaluate_and_predict_return_what_keras_returns():
    x, y = blobs(n=90)
    tr = fastdl.Trainer(mlp(), "adam", "sparse_categorical_crossentropy")
    loss = tr.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    assert tr.metrics_names == ["loss"]
    tr = fastdl.Trainer(mlp(), "adam", "sparse_categorical_crossentropy",
                        metrics=["accuracy", "f1"])
    assert tr.metrics_names == ["loss", "accuracy", "f1"]
    res = tr.evaluate(x, y, verbose=0)
    d = tr.evaluate(x, y, verbose=0, return_dict=True)
    assert isinstance(res, list) and list(d) == tr.metrics_names
    assert res == [d[k] for k in tr.metrics_names]
    p = tr.predict(x, verbose=0)
    assert isinstance(p, np.ndarray) and p.shape == (90, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p, tr.model(fastdl.tensor(x)).detach().numpy(), rtol=1e-6)
    # steps: only the first batches
    log = BatchLog()
    tr.evaluate(x, y, batch_size=10, steps=2, verbose=0, callbacks=[log])
    assert log.test == [10, 10]


def test_evaluate_prints_a_keras_line_unless_verbose_0(capsys):
    x, y = blobs(n=50)
    tr = fastdl.Trainer(mlp(), "adam", "sparse_categorical_crossentropy", metrics=["acc"])
    tr.evaluate(x, y)
    out = capsys.readouterr().out
    assert out.startswith("2/2 - ") and "acc: " in out and "\r" not in out
    tr.evaluate(x, y, verbose=0)
    tr.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


# ---- class_weight, sample_weight --------------------------------------------------------

def test_sample_weight_scales_each_sample_as_keras():
    x, y = blobs(n=40)
    model = mlp()
    w = np.linspace(0.0, 2.0, 40)
    tr = fastdl.Trainer(model, "sgd", "sparse_categorical_crossentropy")
    loss = tr.evaluate(x, y, batch_size=40, sample_weight=w, verbose=0)
    per = -_log_softmax(model(fastdl.tensor(x)).detach().numpy().astype(np.float64))[np.arange(40), y]
    assert loss == pytest.approx(np.sum(w * per) / 40, rel=1e-5)     # sum / batch size


def test_class_weight_equals_the_matching_sample_weight():
    x, y = blobs(n=120)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    m1, m2 = mlp(seed=4), mlp(seed=4)
    fastdl.manual_seed(7)
    fastdl.Trainer(m1, "sgd", "sparse_categorical_crossentropy").fit(
        x, y, 16, 2, verbose=0, class_weight=cw)
    fastdl.manual_seed(7)
    fastdl.Trainer(m2, "sgd", "sparse_categorical_crossentropy").fit(
        x, y, 16, 2, verbose=0, sample_weight=np.array([cw[c] for c in y]))
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m3 = mlp(seed=4)
    fastdl.manual_seed(7)
    fastdl.Trainer(m3, "sgd", "sparse_categorical_crossentropy").fit(x, y, 16, 2, verbose=0)
    assert not np.array_equal(m3[0].weight.detach().numpy(), m1[0].weight.detach().numpy())


def test_weights_with_an_nn_loss_module_and_bad_weights():
    x, y = blobs(n=30)
    model = mlp()
    tr = fastdl.Trainer(model, "sgd", nn.CrossEntropyLoss())
    w = np.arange(30, dtype=np.float64) % 3
    a = tr.evaluate(x, y, sample_weight=w, batch_size=30, verbose=0)
    b = fastdl.Trainer(model, "sgd", "sparse_categorical_crossentropy").evaluate(
        x, y, sample_weight=w, batch_size=30, verbose=0)
    assert a == pytest.approx(b, rel=1e-6)
    assert tr.loss.reduction == "mean"           # restored
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(30,\)"):
        tr.fit(x, y, sample_weight=np.ones(29), verbose=0)
    with pytest.raises(TypeError, match="class_weight must be a dict"):
        tr.fit(x, y, class_weight=[1, 2, 3], verbose=0)
    fn = fastdl.Trainer(model, "sgd", lambda o, t: ((o - t) ** 2).mean())
    with pytest.raises(TypeError, match="one value per sample"):
        fn.fit(x, np.zeros((30, 3), np.float32), sample_weight=np.ones(30), verbose=0)


# ---- steps_per_epoch, validation_steps, validation_freq --------------------------------

def test_steps_per_epoch_continues_across_epochs():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.zeros((10, 1), np.float32)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def forward(self, x):
            seen.append(x.numpy()[:, 0].tolist())
            return self.fc(x)
    log = BatchLog()
    tr = fastdl.Trainer(Spy(), "sgd", "mse")
    tr.fit(x, y, 4, 3, shuffle=False, steps_per_epoch=2, verbose=0, callbacks=[log])
    assert [len(e) for e in log.epochs] == [2, 2, 2]
    # passes of 3 batches (4, 4, 2) run on across epoch boundaries
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_validation_steps_and_freq():
    x, y = blobs(n=100)
    log = BatchLog()
    h = fastdl.Trainer(mlp(), "sgd", "sparse_categorical_crossentropy").fit(
        x, y, 10, 4, validation_data=(x[:50], y[:50]), validation_steps=2, validation_freq=2,
        verbose=0, callbacks=[log])
    assert log.test == [10, 10, 10, 10]            # 2 validations x 2 steps
    assert h["val_loss"][0] is None and h["val_loss"][2] is None
    assert h["val_loss"][1] is not None and h["val_loss"][3] is not None
    h = fastdl.Trainer(mlp(), "sgd", "sparse_categorical_crossentropy").fit(
        x, y, 50, 3, validation_data=(x, y, np.ones(100)), validation_freq=[1, 3], verbose=0)
    assert [v is None for v in h["val_loss"]] == [False, True, False]
    with pytest.raises(ValueError, match="validation_freq"):
        fastdl.Trainer(mlp(), "sgd", "mse").fit(x, y, validation_freq=0, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        fastdl.Trainer(mlp(), "sgd", "mse").fit(x, y, steps_per_epoch=0, verbose=0)


# ---- per-batch schedulers ---------------------------------------------------------------

def test_one_cycle_lr_is_stepped_per_batch_and_reaches_max_lr():
    x, y = blobs(n=200)
    model = mlp()
    opt = fastdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    epochs, steps = 3, 10                       # 200 / 20 -> 10 batches; peak at step 8
    sched = fastdl.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=epochs,
                                                 steps_per_epoch=steps)
    log = BatchLog()
    fastdl.Trainer(model, opt, "sparse_categorical_crossentropy", scheduler=sched).fit(
        x, y, 20, epochs, verbose=0, callbacks=[log])
    assert len(log.lrs) == epochs * steps
    assert max(log.lrs) == pytest.approx(0.5, rel=1e-9)
    assert min(log.lrs) == pytest.approx(0.5 / 25 / 1e4)   # anneals to min_lr
    assert len(set(log.lrs)) > epochs                      # changed within epochs
    assert sched.last_epoch == epochs * steps


def test_user_marked_scheduler_and_callback_scheduler_step_per_batch():
    from fastdl.callbacks import LearningRateScheduler
    x, y = blobs(n=40)
    model = mlp()
    opt = fastdl.optim.SGD(model.parameters(), lr=1.0)
    sched = fastdl.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.step_per_batch = True
    log = BatchLog()
    fastdl.Trainer(model, opt, "sparse_categorical_crossentropy").fit(
        x, y, 10, 2, verbose=0, callbacks=[LearningRateScheduler(sched), log])
    assert log.lrs == pytest.approx([0.5 ** (i + 1) for i in range(8)])


def test_cyclic_lr_triangular_schedule():
    model = mlp()
    opt = fastdl.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    s = fastdl.optim.lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=4)
    assert s.step_per_batch
    lrs = [opt.param_groups[0]["lr"]]
    moms = [opt.param_groups[0]["momentum"]]
    for _ in range(12):
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    # up 4 steps, down 4 steps, 0.1 apart
    expect = [0.1, 0.2, 0.3, 0.4, 0.5, 0.4, 0.3, 0.2, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert lrs == pytest.approx(expect)
    assert moms[0] == pytest.approx(0.9) and moms[4] == pytest.approx(0.8)
    s2 = fastdl.optim.lr_scheduler.CyclicLR(
        fastdl.optim.SGD(model.parameters(), lr=0.5), 0.1, 0.5, step_size_up=2,
        mode="triangular2", cycle_momentum=False)
    got = []
    for _ in range(8):
        got.append(s2.get_last_lr()[0])
        s2.step()
    assert got == pytest.approx([0.1, 0.3, 0.5, 0.3, 0.1, 0.2, 0.3, 0.2])
    state = s2.state_dict()
    assert all(not callable(v) for v in state.values())


def test_cyclic_lr_matches_torch():
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.zeros(2))
    topt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    ts = torch.optim.lr_scheduler.CyclicLR(topt, 0.01, 0.2, step_size_up=3, step_size_down=5,
                                           mode="exp_range", gamma=0.97)
    p = nn.Parameter(fastdl.zeros(2))
    fopt = fastdl.optim.SGD([p], lr=0.1, momentum=0.9)
    fs = fastdl.optim.lr_scheduler.CyclicLR(fopt, 0.01, 0.2, step_size_up=3, step_size_down=5,
                                            mode="exp_range", gamma=0.97)
    for _ in range(20):
        assert fopt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])
        assert fopt.param_groups[0]["momentum"] == pytest.approx(
            topt.param_groups[0]["momentum"])
        topt.step()
        ts.step()
        fs.step()


# ---- multi-output models ----------------------------------------------------------------

class TwoHeads(nn.Module):
    def __init__(self, as_dict=False):
        super().__init__()
        self.as_dict = as_dict
        self.body = nn.Linear(6, 8)
        self.cls = nn.Linear(8, 3)
        self.reg = nn.Linear(8, 1)

    def forward(self, x):
        h = self.body(x).clip(min=0)
        if self.as_dict:
            return {"label": self.cls(h), "size": self.reg(h)}
        return self.cls(h), self.reg(h)


def test_dict_outputs_are_named_by_their_keys():
    x, y = blobs(n=80)
    yr = x[:, :1].copy()
    fastdl.manual_seed(0)
    tr = fastdl.Trainer(TwoHeads(as_dict=True), "adam",
                        {"label": "sparse_categorical_crossentropy", "size": "mse"},
                        metrics={"label": ["accuracy"], "size": ["mae"]},
                        loss_weights={"label": 1.0, "size": 0.5})
    h = tr.fit(x, {"label": y, "size": yr}, 16, 2, validation_split=0.25, verbose=0)
    for k in ("label_loss", "size_loss", "label_accuracy", "size_mae", "val_label_accuracy"):
        assert k in h, k
    assert tr.metrics_names == ["loss", "label_loss", "size_loss", "label_accuracy", "size_mae"]
    res = tr.evaluate(x, {"label": y, "size": yr}, verbose=0)
    assert len(res) == 5 and res[0] == pytest.approx(res[1] + 0.5 * res[2], rel=1e-5)
    p = tr.predict(x, verbose=0)
    assert set(p) == {"label", "size"} and isinstance(p["size"], np.ndarray)


def test_unknown_output_keys_are_rejected_at_construction():
    loss = {"label": "sparse_categorical_crossentropy", "size": "mse"}
    with pytest.raises(ValueError, match=r"metrics names unknown output\(s\) \['lable'\]; "
                                         r"the model's outputs are \['label', 'size'\]"):
        fastdl.Trainer(TwoHeads(True), "adam", loss, metrics={"lable": ["accuracy"]})
    with pytest.raises(ValueError, match=r"loss_weights names unknown output\(s\) \['sise'\]"):
        fastdl.Trainer(TwoHeads(True), "adam", loss, loss_weights={"sise": 2.0})
    with pytest.raises(ValueError, match=r"unknown output\(s\) \['out1'\].*output_1"):
        fastdl.Trainer(TwoHeads(), "adam", ["sparse_categorical_crossentropy", "mse"],
                       metrics={"out1": ["accuracy"]})
    with pytest.raises(ValueError, match="3 loss_weights for 2 outputs"):
        fastdl.Trainer(TwoHeads(), "adam", ["sparse_categorical_crossentropy", "mse"],
                       loss_weights=[1, 2, 3])
    # a single loss for every output: the names come from the model, at its first batch
    x, y = blobs(n=20)
    tr = fastdl.Trainer(TwoHeads(), "adam", "mse", metrics={"head": ["mae"]})
    with pytest.raises(ValueError, match=r"\['head'\].*\['output_1', 'output_2'\]"):
        tr.fit(x, (np.zeros((20, 3), np.float32), np.zeros((20, 1), np.float32)), verbose=0)
    # a loss dict that does not match the model's outputs
    tr = fastdl.Trainer(TwoHeads(True), "adam", {"label": "mse", "other": "mse"})
    with pytest.raises(ValueError, match=r"outputs are \['label', 'size'\]"):
        tr.fit(x, {"label": y, "other": y}, verbose=0)


def test_keras_list_per_output_form():
    x, y = blobs(n=80)
    yr = x[:, :1].copy()
    fastdl.manual_seed(0)
    tr = fastdl.Trainer(TwoHeads(), "adam", ["sparse_categorical_crossentropy", "mse"],
                        metrics=[["accuracy"], ["mae", "mse"]], loss_weights=[1.0, 0.25])
    h = tr.fit(x, [y, yr], 16, 2, verbose=0)
    assert tr.metrics_names == ["loss", "output_1_loss", "output_2_loss", "output_1_accuracy",
                                "output_2_mae", "output_2_mse"]
    assert h["loss"][-1] == pytest.approx(h["output_1_loss"][-1]
                                          + 0.25 * h["output_2_loss"][-1], rel=1e-5)
    p = tr.predict(x, verbose=0)
    assert isinstance(p, tuple) and p[0].shape == (80, 3) and p[1].shape == (80, 1)


# ---- summary, trainable, dtypes ---------------------------------------------------------

def test_summary_without_an_input_shape():
    model = mlp()
    text = model.summary(print_fn=None)
    assert "Total params: 163" in text and "?" in text          # 6*16+16 + 16*3+3
    model(fastdl.randn(5, 6))
    text = model.summary(print_fn=None)
    assert "(None, 16)" in text and "(None, 3)" in text and "?" not in text
    assert "(None, 3)" in model.summary((6,), print_fn=None)
    model[0].trainable = False
    text = model.summary(print_fn=None)
    assert "Trainable params: 51" in text and "Non-trainable params: 112" in text


@pytest.mark.parametrize("opt", ["adamw", "sgd-momentum"])
def test_trainable_false_freezes_a_layer_under_fit(opt):
    x, y = blobs(n=64)
    model = mlp()
    if opt == "sgd-momentum":
        opt = fastdl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    tr = fastdl.Trainer(model, opt, "sparse_categorical_crossentropy")
    tr.fit(x, y, 16, 1, verbose=0)          # every layer moves, optimizer state exists
    model[0].trainable = False
    assert model[0].trainable is False and model.trainable is True
    assert not model[0].weight.requires_grad and model[0].weight.grad is None
    before0 = model[0].weight.detach().numpy().copy()
    before2 = model[2].weight.detach().numpy().copy()
    tr.fit(x, y, 16, 2, verbose=0)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), before0)
    assert not np.array_equal(model[2].weight.detach().numpy(), before2)
    model[0].trainable = True
    assert model[0].weight.requires_grad
    with pytest.raises(TypeError, match="trainable must be True or False"):
        model.trainable = "no"


def test_float64_inputs_are_cast_to_the_model_dtype():
    dtypes = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 1)

        def forward(self, x):
            dtypes.append(x.dtype)
            return self.fc(x)
    x, _ = blobs(n=40, dtype=np.float64)
    y = x[:, :1].astype(np.float64)
    tr = fastdl.Trainer(Spy(), "sgd", "mse")
    tr.fit(x, y, 8, 1, validation_data=(x, y), verbose=0)
    tr.evaluate(x, y, verbose=0)
    p = tr.predict(x, verbose=0)
    assert set(dtypes) == {np.dtype(np.float32)} and p.dtype == np.float32
    from fastdl.data import DataLoader, TensorDataset
    dl = DataLoader(TensorDataset(x, y), batch_size=8)
    tr.fit(dl, epochs=1, verbose=0)
    assert set(dtypes) == {np.dtype(np.float32)}
    assert x.dtype == np.float64                   # the caller's array is not modified


def test_fit_prints_no_overfitting_alarm_by_default():
    # validation loss rises every epoch while the training loss falls
    x, y = blobs(n=100)
    far_x, far_y = x + 20.0, (y + 1) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastdl.Trainer(mlp(), "adam", "sparse_categorical_crossentropy").fit(
            x, y, 20, 8, validation_data=(far_x, far_y), verbose=0)
