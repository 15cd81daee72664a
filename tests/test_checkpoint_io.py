"""fastdl.save / fastdl.load: every nn module round-trips, Trainer checkpoints resume exactly,
files written get the umask's permissions, and load refuses anything it cannot trust with one
error type (CheckpointError) naming the file and the problem (issue 10 section 3, issue 14
finding 9)."""
import builtins
import inspect
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastdl
from fastdl import nn
from fastdl.io import CheckpointError

# ---- the property test: every module type exported by fastdl.nn ----------------------------

R = np.random.default_rng(0)


def _t(*shape, lo=-1.0, hi=1.0):
    return fastdl.tensor(R.uniform(lo, hi, shape).astype(np.float32))


def _labels(n, k):
    return fastdl.tensor(np.arange(n) % k)


X2 = _t(4, 6)
X3 = _t(2, 3, 10)
X4 = _t(2, 3, 8, 8)
P = fastdl.tensor(R.uniform(0.1, 0.9, (4, 5)).astype(np.float32))
Q = fastdl.tensor(R.uniform(0.1, 0.9, (4, 5)).astype(np.float32))
SEQ = _t(5, 2, 6)                              # (T, N, C), batch_first=False
PM1 = fastdl.tensor(np.array([1, -1, 1, -1], np.float32))

# name -> (make the module, run it: module -> outputs). Every nn.Module subclass that fastdl.nn
# exports needs an entry; test_table_covers_every_module fails otherwise.
MODULES = {
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda m: m(X4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), lambda m: m(X4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, 1), lambda m: m(X4)),
    "BCELoss": (lambda: nn.BCELoss(weight=fastdl.tensor(np.linspace(0.5, 2, 5, dtype=np.float32))),
                lambda m: m(P, Q)),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(
        pos_weight=fastdl.tensor(np.linspace(0.5, 2, 5, dtype=np.float32))),
        lambda m: m(_fixed(X2[:, :5]), Q)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(6), lambda m: m(X2)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), lambda m: m(X4)),
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), lambda m: m(X3)),
    "Conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), lambda m: m(X4)),
    "CosineEmbeddingLoss": (lambda: nn.CosineEmbeddingLoss(0.1),
                            lambda m: m(X2, _fixed(X2.numpy()[::-1]), PM1)),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(
        weight=fastdl.tensor(np.linspace(0.5, 2, 6, dtype=np.float32)), label_smoothing=0.1),
        lambda m: m(X2, _labels(4, 6))),
    "Dropout": (lambda: nn.Dropout(0.3), lambda m: m(X2)),
    "ELU": (lambda: nn.ELU(), lambda m: m(X2)),
    "Embedding": (lambda: nn.Embedding(7, 3, padding_idx=0),
                  lambda m: m(fastdl.tensor(np.array([[0, 3, 6], [1, 2, 5]])))),
    "Flatten": (lambda: nn.Flatten(), lambda m: m(X4)),
    "GELU": (lambda: nn.GELU(), lambda m: m(X2)),
    "GRU": (lambda: nn.GRU(6, 4, num_layers=2, bidirectional=True), lambda m: m(SEQ)),
    "GRUCell": (lambda: nn.GRUCell(6, 4), lambda m: m(X2)),
    "HingeEmbeddingLoss": (lambda: nn.HingeEmbeddingLoss(0.5), lambda m: m(X2[:, 0], PM1)),
    "HingeLoss": (lambda: nn.HingeLoss(), lambda m: m(X2[:, 0], PM1)),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.3), lambda m: m(P, Q)),
    "Identity": (lambda: nn.Identity(), lambda m: m(X2)),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"), lambda m: m(P.log(), Q)),
    "L1Loss": (lambda: nn.L1Loss(), lambda m: m(P, Q)),
    "LSTM": (lambda: nn.LSTM(6, 4, num_layers=2, bidirectional=True), lambda m: m(SEQ)),
    "LastTimeStep": (lambda: nn.LastTimeStep(), lambda m: m(X3)),
    "LSTMCell": (lambda: nn.LSTMCell(6, 4), lambda m: m(X2)),
    "LayerNorm": (lambda: nn.LayerNorm(6), lambda m: m(X2)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda m: m(X2)),
    "Linear": (lambda: nn.Linear(6, 3), lambda m: m(X2)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), lambda m: m(X2)),
    "MSELoss": (lambda: nn.MSELoss(), lambda m: m(P, Q)),
    "MultiMarginLoss": (lambda: nn.MultiMarginLoss(
        weight=fastdl.tensor(np.linspace(0.5, 2, 6, dtype=np.float32))),
        lambda m: m(X2, _labels(4, 6))),
    "NLLLoss": (lambda: nn.NLLLoss(weight=fastdl.tensor(np.linspace(0.5, 2, 6, dtype=np.float32))),
                lambda m: m(X2, _labels(4, 6))),
    "RNN": (lambda: nn.RNN(6, 4, nonlinearity="relu", batch_first=True), lambda m: m(SEQ)),
    "RNNCell": (lambda: nn.RNNCell(6, 4), lambda m: m(X2)),
    "ReLU": (lambda: nn.ReLU(), lambda m: m(X2)),
    "SiLU": (lambda: nn.SiLU(), lambda m: m(X2)),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda m: m(X2)),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), lambda m: m(P, Q)),
    "Softmax": (lambda: nn.Softmax(dim=1), lambda m: m(X2)),
    "Softplus": (lambda: nn.Softplus(), lambda m: m(X2)),
    "Tanh": (lambda: nn.Tanh(), lambda m: m(X2)),
    "TripletMarginLoss": (lambda: nn.TripletMarginLoss(), lambda m: m(P, Q, X2[:, :5])),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda m: m(X2)),
    # issue 12's layers
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(4), lambda m: m(X3)),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, 2), lambda m: m(X3)),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), lambda m: m(X3)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2), lambda m: m(X4)),
    "CosineSimilarity": (lambda: nn.CosineSimilarity(), lambda m: m(P, Q)),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(), lambda m: m(P, Q)),
    "Dropout1d": (lambda: nn.Dropout1d(0.3), lambda m: m(X3)),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), lambda m: m(X4)),
    "GLU": (lambda: nn.GLU(), lambda m: m(X2)),
    "GroupNorm": (lambda: nn.GroupNorm(3, 3), lambda m: m(X4)),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), lambda m: m(X2)),
    "Hardswish": (lambda: nn.Hardswish(), lambda m: m(X2)),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 0.5), lambda m: m(X2)),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), lambda m: m(X3)),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                       lambda m: m(X4)),
    "LogSigmoid": (lambda: nn.LogSigmoid(), lambda m: m(X2)),
    "Mish": (lambda: nn.Mish(), lambda m: m(X2)),
    "ReLU6": (lambda: nn.ReLU6(), lambda m: m(X2)),
    "Softsign": (lambda: nn.Softsign(), lambda m: m(X2)),
    "Upsample": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), lambda m: m(X4)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(6, 2), lambda m: m(SEQ, SEQ, SEQ)),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(6, 2, 8), lambda m: m(SEQ)),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(6, 2, 8), 2),
                           lambda m: m(SEQ)),
    "TransformerDecoderLayer": (lambda: nn.TransformerDecoderLayer(6, 2, 8),
                                lambda m: m(SEQ, SEQ)),
    "TransformerDecoder": (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(6, 2, 8), 2),
                           lambda m: m(SEQ, SEQ)),
    "Transformer": (lambda: nn.Transformer(6, 2, 1, 1, 8), lambda m: m(SEQ, SEQ)),
    "ParameterList": (lambda: nn.ParameterList([nn.Parameter(X2.clone())]), lambda m: m[0] * 2),
    "ParameterDict": (lambda: nn.ParameterDict({"w": nn.Parameter(X2.clone())}),
                      lambda m: m["w"] * 2),
    # containers, holding modules with parameters and buffers
    "Sequential": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                         nn.Dropout(0.2), nn.Flatten(), nn.Linear(144, 5)),
                   lambda m: m(X4)),
    "ModuleList": (lambda: nn.ModuleList([nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Linear(6, 2)]),
                   lambda m: m[2](m[1](m[0](X2)))),
    "ModuleDict": (lambda: nn.ModuleDict({"enc": nn.Sequential(nn.Linear(6, 4), nn.LayerNorm(4)),
                                          "bn": nn.BatchNorm1d(4)}),
                   lambda m: m["bn"](m["enc"](X2))),
}
ABSTRACT = {"Module", "RNNBase"}


def _fixed(a):
    return fastdl.tensor(np.ascontiguousarray(np.asarray(a.numpy() if hasattr(a, "numpy") else a)))


def _module_types():
    return sorted(name for name, obj in vars(nn).items()
                  if inspect.isclass(obj) and issubclass(obj, nn.Module) and name not in ABSTRACT)


def _arrays(out):
    if isinstance(out, fastdl.Tensor):
        return [out.detach().numpy()]
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _arrays(o)]
    raise AssertionError("unexpected output type %s" % type(out).__name__)


def _perturb(m):
    """Move every float parameter and buffer away from its initial value (so loading is seen)."""
    with fastdl.no_grad():
        for k, v in m.state_dict().items():
            a = v.numpy()
            if a.dtype.kind == "f":
                a += np.float32(0.25) * R.standard_normal(a.shape).astype(a.dtype)


def test_table_covers_every_module():
    missing = [n for n in _module_types() if n not in MODULES]
    assert not missing, "add these nn modules to MODULES in %s: %s" % (__file__, missing)
    stale = sorted(set(MODULES) - set(_module_types()))
    assert not stale, "MODULES names modules fastdl.nn no longer exports: %s" % stale


@pytest.mark.parametrize("name", _module_types())
def test_every_module_round_trips(name, tmp_path):
    if name not in MODULES:
        pytest.fail("fastdl.nn.%s has no entry in MODULES (test_checkpoint_io.py)" % name)
    make, run = MODULES[name]
    fastdl.manual_seed(1)
    a = make()
    a.train()
    run(a)                               # a training-mode pass moves BatchNorm's running stats
    _perturb(a)
    a.eval()
    sd = a.state_dict()
    path = tmp_path / ("%s.safetensors" % name)
    fastdl.save(sd, path)
    loaded = fastdl.load(path)
    assert sorted(loaded) == sorted(sd)
    for k, v in sd.items():
        got = loaded[k]
        assert got.shape == v.shape and got.dtype == v.dtype, (k, got.shape, v.shape)
        assert got.numpy().tobytes() == v.numpy().tobytes(), k
    fastdl.manual_seed(2)
    b = make()
    if any(v.numpy().dtype.kind == "f" for v in sd.values()):
        before = b.state_dict()
        assert any(not np.array_equal(before[k].numpy(), v.numpy()) for k, v in sd.items())
    b.load_state_dict(loaded, strict=True)
    b.eval()
    for k, v in b.state_dict().items():
        assert v.shape == sd[k].shape and v.numpy().tobytes() == sd[k].numpy().tobytes(), k
    out_a, out_b = _arrays(run(a)), _arrays(run(b))
    assert len(out_a) == len(out_b)
    for x, y in zip(out_a, out_b):
        assert x.shape == y.shape and x.tobytes() == y.tobytes()


def test_batchnorm_counter_stays_0d(tmp_path):
    bn = nn.BatchNorm1d(3)
    bn(fastdl.randn(4, 3))
    fastdl.save(bn.state_dict(), tmp_path / "bn.safetensors")
    back = fastdl.load(tmp_path / "bn.safetensors")
    assert back["num_batches_tracked"].shape == ()
    assert int(back["num_batches_tracked"].numpy()) == 1
    from safetensors.numpy import load_file
    assert load_file(str(tmp_path / "bn.safetensors"))["num_batches_tracked"].shape == ()


def test_0d_and_dtypes_round_trip(tmp_path):
    obj = {"f": np.float32(3.5), "z": np.array(2.5, np.float64), "i": np.array(7, np.int64),
           "b": np.array([True, False]), "h": np.arange(6, dtype=np.float16).reshape(2, 3),
           "u": np.arange(4, dtype=np.uint16), "e": np.zeros((0, 3), np.float32),
           "be": np.arange(3, dtype=">f4"), "nc": np.arange(12.0).reshape(3, 4)[:, ::2],
           "nested": {1: [fastdl.tensor(1.0), None, "s"], "t": (1, 2.5, float("nan"))},
           "__tensor__": "a user key that looks like a marker"}
    fastdl.save(obj, tmp_path / "o.safetensors")
    back = fastdl.load(tmp_path / "o.safetensors")
    assert back["f"] == 3.5 and isinstance(back["f"], float)
    assert back["z"].shape == () and back["z"].dtype == np.float64 and back["z"].item() == 2.5
    assert back["i"].shape == () and back["i"].dtype == np.int64
    # NumPy arrays load back as arrays (issue 12), Tensors as Tensors
    assert type(back["b"]) is np.ndarray and isinstance(back["nested"][1][0], fastdl.Tensor)
    np.testing.assert_array_equal(back["b"], [True, False])
    np.testing.assert_array_equal(back["h"], obj["h"])
    assert back["e"].shape == (0, 3)
    np.testing.assert_array_equal(back["be"], [0, 1, 2])
    np.testing.assert_array_equal(back["nc"], obj["nc"])
    assert back["nested"][1][0].shape == () and back["nested"][1][1:] == [None, "s"]
    assert back["nested"]["t"][:2] == (1, 2.5) and np.isnan(back["nested"]["t"][2])
    assert back["__tensor__"] == obj["__tensor__"]


def test_map_location(tmp_path):
    p = tmp_path / "w.safetensors"
    fastdl.save({"w": fastdl.ones(2)}, p)
    for ml in (None, "cpu", "CPU", {"cuda:0": "cpu"}):
        assert fastdl.load(p, map_location=ml)["w"].shape == (2,)
    for ml in ("cuda", "cuda:0", {"cpu": "cuda:1"}, "mps"):
        with pytest.raises(ValueError, match="CPU only"):
            fastdl.load(p, map_location=ml)
    with pytest.raises(ValueError, match="function"):
        fastdl.load(p, map_location=lambda storage, loc: storage)


def test_map_location_torch_device(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "w.safetensors"
    fastdl.save({"w": fastdl.ones(2)}, p)
    assert fastdl.load(p, map_location=torch.device("cpu"))["w"].shape == (2,)
    with pytest.raises(ValueError, match="CPU only"):
        fastdl.load(p, map_location=torch.device("meta"))


# ---- Trainer checkpoints and exact resume ---------------------------------------------------

def _bn_dropout_model():
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 3))


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((96, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


def _trainer(seed):
    fastdl.manual_seed(seed)
    model = _bn_dropout_model()
    opt = fastdl.optim.Adam(model.parameters(), lr=1e-2)
    sched = fastdl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    return fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"],
                          scheduler=sched)


def _fit(tr, x, y, epochs, **kw):
    return tr.fit(x, y, epochs=epochs, batch_size=16, shuffle=True, validation_split=0.25,
                  verbose=0, **kw)


def test_trainer_checkpoint_round_trip(tmp_path):
    x, y = _data()
    tr = _trainer(0)
    _fit(tr, x, y, 2)
    p = tmp_path / "ck.safetensors"
    tr.save_checkpoint(p)
    fresh = _trainer(5)
    assert fresh.load_checkpoint(p) == 2
    a, b = tr.state_dict(), fresh.state_dict()
    for k, v in a["model"].items():
        assert b["model"][k].shape == v.shape and b["model"][k].numpy().tobytes() == \
            v.numpy().tobytes(), k
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sorted(sa) == sorted(sb) and len(sa) > 0
    for i in sa:
        assert sorted(sa[i]) == sorted(sb[i])
        for k in sa[i]:
            assert np.asarray(sa[i][k]).tobytes() == np.asarray(sb[i][k]).tobytes(), (i, k)
            assert np.asarray(sa[i][k]).shape == np.asarray(sb[i][k]).shape, (i, k)
    strip = lambda gs: [{k: v for k, v in g.items() if k != "params"} for g in gs]
    assert strip(a["optimizer"]["param_groups"]) == strip(b["optimizer"]["param_groups"])
    assert a["schedulers"] == b["schedulers"] and a["rng"] == b["rng"] and b["epoch"] == 2
    assert a["history"] == b["history"]


def test_exact_resume_with_batchnorm_and_dropout(tmp_path):
    x, y = _data()
    ref = _trainer(0)
    ck = fastdl.callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch}.safetensors"),
                                          save_weights_only=False)
    _fit(ref, x, y, 4, callbacks=[ck])
    assert os.path.exists(tmp_path / "ck-2.safetensors")
    resumed = _trainer(9)                   # another seed: everything must come from the file
    _fit(resumed, x, y, 4, resume_from=str(tmp_path / "ck-2.safetensors"))
    for k, v in ref.model.state_dict().items():
        assert resumed.model.state_dict()[k].numpy().tobytes() == v.numpy().tobytes(), k
    assert resumed.history.history["loss"] == ref.history.history["loss"]
    assert resumed.history.history["val_loss"] == ref.history.history["val_loss"]
    assert len(ref.history.history["loss"]) == 4
    # the two runs really differ from a plain restart without the checkpoint
    other = _trainer(9)
    _fit(other, x, y, 2)
    assert other.history.history["loss"] != ref.history.history["loss"][2:]


@pytest.mark.parametrize("make_opt", [
    lambda ps: fastdl.optim.SGD(ps, lr=0.05, momentum=0.9),      # momentum_buffer made on step 1
    lambda ps: fastdl.optim.SGD(ps, lr=0.05),
    lambda ps: fastdl.optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True),
    lambda ps: fastdl.optim.AdamW(ps, lr=1e-2),
    lambda ps: fastdl.optim.Adagrad(ps, lr=1e-2),
    lambda ps: fastdl.optim.Adadelta(ps),
], ids=["sgd-momentum", "sgd", "rmsprop", "adamw", "adagrad", "adadelta"])
def test_every_optimizer_resumes_exactly(tmp_path, make_opt):
    x, y = _data()

    def trainer(seed):
        fastdl.manual_seed(seed)
        model = _bn_dropout_model()
        return fastdl.Trainer(model, make_opt(model.parameters()), nn.CrossEntropyLoss())

    ref = trainer(0)
    ck = fastdl.callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch}.safetensors"),
                                          save_weights_only=False)
    _fit(ref, x, y, 3, callbacks=[ck])
    resumed = trainer(4)
    _fit(resumed, x, y, 3, resume_from=str(tmp_path / "ck-1.safetensors"))
    for k, v in ref.model.state_dict().items():
        assert resumed.model.state_dict()[k].numpy().tobytes() == v.numpy().tobytes(), k


def _resave(path, fn):
    """Load a checkpoint, let fn edit it, save it again (a consistent, well-formed file)."""
    ck = fastdl.load(path)
    fn(ck)
    fastdl.save(ck, path)


@pytest.mark.parametrize("edit,match", [
    (lambda ck: ck["optimizer"]["state"][0].__setitem__(
        "exp_avg_renamed", ck["optimizer"]["state"][0].pop("exp_avg")), "exp_avg"),
    (lambda ck: ck["optimizer"]["param_groups"][0].__setitem__(
        "learning_rate", ck["optimizer"]["param_groups"][0].pop("lr")), "learning_rate"),
    (lambda ck: ck["optimizer"].pop("param_groups"), "param_groups"),
    (lambda ck: ck["optimizer"]["state"][0].__setitem__("exp_avg", fastdl.zeros(3)),
     "exp_avg"),
    (lambda ck: ck["model"].__setitem__("1.running_mean", fastdl.zeros(5)), "running_mean"),
    (lambda ck: ck["model"].pop("0.weight"), "0.weight"),
    (lambda ck: ck.__setitem__("epoch", "two"), "epoch"),
    (lambda ck: ck.__setitem__("rng", {"seed": "x"}), "rng"),
    (lambda ck: ck.pop("optimizer"), "optimizer"),
])
def test_trainer_checkpoint_validated(tmp_path, edit, match):
    x, y = _data()
    tr = _trainer(0)
    _fit(tr, x, y, 1)
    p = tmp_path / "ck.safetensors"
    tr.save_checkpoint(p)
    _resave(p, edit)
    with pytest.raises(CheckpointError, match=match) as e:
        _trainer(1).load_checkpoint(p)
    assert str(p) in str(e.value)
    with pytest.raises(CheckpointError):
        _fit(_trainer(1), x, y, 2, resume_from=p)


def test_load_never_runs_code(tmp_path, monkeypatch):
    x, y = _data()
    tr = _trainer(0)
    _fit(tr, x, y, 1)
    p = tmp_path / "ck.safetensors"
    tr.save_checkpoint(p)

    def forbidden(*a, **k):
        raise AssertionError("code execution path used during load")
    for mod, name in [(pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"),
                      (builtins, "eval"), (builtins, "exec"), (builtins, "__import__")]:
        monkeypatch.setattr(mod, name, forbidden)
    ck = fastdl.load(p)
    monkeypatch.undo()
    assert ck["epoch"] == 1 and "model" in ck


# ---- permissions ----------------------------------------------------------------------------

@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(p):
    return os.stat(p).st_mode & 0o777


def test_files_get_umask_permissions(tmp_path, umask022):
    p = tmp_path / "w.safetensors"
    fastdl.save({"w": fastdl.ones(2)}, p)
    assert _mode(p) == 0o644
    x, y = _data()
    tr = _trainer(0)
    _fit(tr, x, y, 1, callbacks=[fastdl.callbacks.ModelCheckpoint(str(tmp_path / "mc.safetensors"),
                                                                  save_weights_only=False)])
    assert _mode(tmp_path / "mc.safetensors") == 0o644
    tr.save_checkpoint(tmp_path / "ck.safetensors")
    assert _mode(tmp_path / "ck.safetensors") == 0o644
    os.umask(0o077)
    fastdl.save({"w": fastdl.ones(2)}, tmp_path / "private.safetensors")
    assert _mode(tmp_path / "private.safetensors") == 0o600
    os.umask(0o022)
    os.chmod(p, 0o640)                          # an existing file keeps its mode, as open("wb")
    fastdl.save({"w": fastdl.zeros(2)}, p)
    assert _mode(p) == 0o640


def test_png_gets_umask_permissions(tmp_path, umask022):
    pytest.importorskip("matplotlib")
    x, y = _data()
    tr = _trainer(0)
    hist = _fit(tr, x, y, 2)
    png = hist.plot(tmp_path / "curves.png")
    assert _mode(png) == 0o644
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# ---- corrupt, truncated, foreign files -------------------------------------------------------

def _sample(tmp_path):
    p = tmp_path / "m.safetensors"
    fastdl.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    m(fastdl.randn(5, 3))
    fastdl.save({"model": m.state_dict(), "epoch": 3, "note": "x"}, p)
    raw = p.read_bytes()
    hlen = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + hlen])
    return p, raw, hlen, header


def test_truncation_at_every_region_boundary(tmp_path):
    p, raw, hlen, header = _sample(tmp_path)
    cuts = {0, 1, 7, 8, 9, 8 + hlen // 2, 8 + hlen - 1, 8 + hlen, len(raw) - 1}
    for name, e in header.items():
        if name != "__metadata__":
            b, end = e["data_offsets"]
            cuts |= {8 + hlen + b, 8 + hlen + b + 1, 8 + hlen + end - 1}
    cuts = sorted(c for c in cuts if 0 <= c < len(raw))
    assert len(cuts) > 15
    for c in cuts:
        q = tmp_path / ("cut%d" % c)
        q.write_bytes(raw[:c])
        with pytest.raises(CheckpointError) as e:
            fastdl.load(q)
        assert str(q) in str(e.value), (c, str(e.value))


def test_every_header_byte_flip_is_caught(tmp_path):
    p, raw, hlen, _ = _sample(tmp_path)
    q = tmp_path / "flip"
    for i in range(8 + hlen):
        for bit in (0x01, 0x20):
            bad = bytearray(raw)
            bad[i] ^= bit
            q.write_bytes(bytes(bad))
            with pytest.raises(CheckpointError, match="flip"):
                fastdl.load(q)


def test_every_data_byte_flip_names_the_tensor(tmp_path):
    p, raw, hlen, header = _sample(tmp_path)
    q = tmp_path / "flip"
    owner = {}
    for name, e in header.items():
        if name != "__metadata__":
            for j in range(*e["data_offsets"]):
                owner[8 + hlen + j] = name
    assert len(owner) == len(raw) - 8 - hlen
    for i in range(8 + hlen, len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x10
        q.write_bytes(bytes(bad))
        with pytest.raises(CheckpointError, match="tensor %r does not match its checksum"
                           % owner[i]):
            fastdl.load(q)
    # verify=False skips the checksums (and then the flipped value comes back as stored)
    bad = bytearray(raw)
    bad[-1] ^= 0x10
    q.write_bytes(bytes(bad))
    assert fastdl.load(q, verify=False)["epoch"] == 3


def test_edited_dtype_is_refused(tmp_path):
    p, raw, hlen, header = _sample(tmp_path)
    text = raw[8:8 + hlen]
    assert b'"dtype":"F32"' in text
    bad = raw[:8] + text.replace(b'"dtype":"F32"', b'"dtype":"I32"', 1) + raw[8 + hlen:]
    p.write_bytes(bad)
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        fastdl.load(p)
    bad = raw[:8] + text.replace(b'"dtype":"F32"', b'"dtype":"F64"', 1) + raw[8 + hlen:]
    p.write_bytes(bad)
    with pytest.raises(CheckpointError, match="need .* bytes"):
        fastdl.load(p, verify=False)


def _with_meta(raw, meta_obj, fix_sha=True):
    """raw with its fastdl metadata replaced by meta_obj (and a matching checksum)."""
    import hashlib
    hlen = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + hlen])
    text = meta_obj if isinstance(meta_obj, str) else json.dumps(meta_obj)
    header["__metadata__"]["fastdl"] = text
    if fix_sha:
        header["__metadata__"]["fastdl.sha256"] = hashlib.sha256(text.encode()).hexdigest()
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    return len(hb).to_bytes(8, "little") + hb + raw[8 + hlen:]


def test_crafted_metadata_is_refused(tmp_path):
    p, raw, hlen, header = _sample(tmp_path)
    meta = json.loads(header["__metadata__"]["fastdl"])
    good = dict(meta)
    crafted = [
        dict(good, structure={"__tensor__": 5}),
        dict(good, structure={"__tensor__": "no.such.tensor"}),
        dict(good, structure={"a": {"__tensor__": "model.0.weight"},
                              "b": {"__tensor__": "model.0.weight"}}),
        dict(good, structure={"__float__": "__import__('os')"}),
        dict(good, structure={"__dict__": {"a": 1}, "__int_keys__": ["a"]}),
        dict(good, structure={"__tuple__": "abc"}),
        dict(good, structure={"model": {}}),                   # tensors no one references
        dict(good, format="1"),
        dict(good, format=99),
        dict(good, checksums={"model.0.weight": "0" * 64}),
        {"format": 1},
        [1, 2, 3],
        json.dumps(good)[:-1] + ', "deep": ' + "[" * 100000 + "]" * 100000 + "}",
    ]
    for i, m in enumerate(crafted):
        q = tmp_path / ("crafted%d" % i)
        q.write_bytes(_with_meta(raw, m))
        with pytest.raises(CheckpointError) as e:
            fastdl.load(q)
        assert str(q) in str(e.value)
    q = tmp_path / "nosha"
    q.write_bytes(_with_meta(raw, good, fix_sha=False))        # changed text, stale checksum
    fastdl.load(q)                                             # same text: still matches
    q.write_bytes(_with_meta(raw, dict(good, structure={**good["structure"], "epoch": 4}),
                             fix_sha=False))
    with pytest.raises(CheckpointError, match="metadata does not match its checksum"):
        fastdl.load(q)


def test_foreign_files_directories_empty_files(tmp_path):
    cases = {
        "empty": b"",
        "short": b"\x01\x02\x03",
        "text": b"hello, this is a text file, not weights\n" * 3,
        "png": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "zip": b"PK\x03\x04" + bytes(200),
        "pickle": pickle.dumps({"w": [1.0, 2.0]}),
        "huge_header": (2 ** 62).to_bytes(8, "little") + b"{}",
        "json_array": (2).to_bytes(8, "little") + b"[]",
        "not_utf8": (4).to_bytes(8, "little") + b"\xff\xfe\xfd\xfc",
        "tensor_bad_entry": _st({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8],
                                       "extra": 1}}, bytes(8)),
        "bf16": _st({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)),
        "neg_shape": _st({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
                         bytes(4)),
        "overlap": _st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)),
        "gap": _st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)),
        "trailing": _st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(8)),
        "meta_not_str": _st({"__metadata__": {"fastdl": 5}}, b""),
        "sha_without_meta": _st({"__metadata__": {"fastdl.sha256": "00"}}, b""),
    }
    for name, data in cases.items():
        q = tmp_path / name
        q.write_bytes(data)
        with pytest.raises(CheckpointError) as e:
            fastdl.load(q)
        assert str(q) in str(e.value), name
    d = tmp_path / "adir.safetensors"
    d.mkdir()
    with pytest.raises(CheckpointError, match="directory"):
        fastdl.load(d)
    with pytest.raises(FileNotFoundError):
        fastdl.load(tmp_path / "missing.safetensors")
    assert issubclass(CheckpointError, ValueError) and fastdl.CheckpointError is CheckpointError


def test_library_refusals_name_the_file_tensor_and_problem(tmp_path):
    """safetensors parses the file; what it refuses is explained with the tensor that misfits."""
    cases = {
        "span": (_st({"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)),
                 r"tensor 'a': dtype F64 and shape \[1\] need 8 bytes, data_offsets \[0, 4\] span 4"),
        "short": (_st({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, bytes(5)),
                  r"truncated: tensor 'a' ends at data byte 12, the file has 5"),
        "extra": (_st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(7)),
                  r"3 bytes after the last tensor"),
        "c64": (_st({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)),
                r"tensor 'a' has dtype C64 \(complex64\), which fastdl cannot hold"),
    }
    for name, (data, match) in cases.items():
        q = tmp_path / name
        q.write_bytes(data)
        with pytest.raises(CheckpointError, match=match) as e:
            fastdl.load(q)
        assert e.value.path == str(q) and str(e.value).startswith(str(q) + ": "), name


def _st(header, data):
    hb = json.dumps(header).encode()
    return len(hb).to_bytes(8, "little") + hb + data


def test_plain_safetensors_files_load_flat(tmp_path):
    from safetensors.numpy import save_file
    q = tmp_path / "other.safetensors"
    save_file({"a": np.arange(3, dtype=np.float32), "s": np.array(4, np.int64)}, str(q))
    back = fastdl.load(q)
    assert sorted(back) == ["a", "s"] and back["s"].shape == ()
    np.testing.assert_array_equal(back["a"].numpy(), [0, 1, 2])


# ---- a save killed by SIGKILL leaves no temp file behind after the next save ----------------

_SAVER = textwrap.dedent("""
    import sys, numpy as np, fastdl
    big = {"w": np.ones(%d, np.float32)}
    print("ready", flush=True)
    while True:
        fastdl.save(big, sys.argv[1])
""")


def _temps(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".fastdl.tmp"))


def test_sigkill_during_save_leaves_no_stale_temp(tmp_path):
    target = tmp_path / "big.safetensors"
    fastdl.save({"w": np.zeros(4, np.float32)}, target)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER % (8 << 20), str(target)],
                                stdout=subprocess.PIPE, cwd=str(tmp_path.parent))
        mine = ".%d." % proc.pid
        try:
            assert proc.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(mine in f for f in _temps(tmp_path)):
                time.sleep(0.001)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        left = _temps(tmp_path)
        # the killed save's temp is there, and only it: each save cleared the earlier ones
        assert len(left) == 1 and mine in left[0], left
        fastdl.load(target)           # the target is always a complete file
    fastdl.save({"w": np.zeros(4, np.float32)}, target)
    assert sorted(os.listdir(tmp_path)) == ["big.safetensors"]


def test_live_temp_of_another_process_is_kept(tmp_path):
    """Only temps whose writer is gone are removed: a concurrent save is not disturbed."""
    import fastdl.io as fio
    target = tmp_path / "w.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / (".w.safetensors.%s.%d.abcd1234.fastdl.tmp" % (fio._HOST, proc.pid))
        live.write_bytes(b"partial")
        dead = tmp_path / (".w.safetensors.%s.%d.abcd1234.fastdl.tmp" % (fio._HOST, 2 ** 22 + 7))
        dead.write_bytes(b"partial")
        other = tmp_path / (".x.safetensors.%s.%d.abcd1234.fastdl.tmp" % (fio._HOST, 2 ** 22 + 7))
        other.write_bytes(b"another target's temp")
        fastdl.save({"w": fastdl.ones(1)}, target)
        assert live.exists() and other.exists() and not dead.exists()
    finally:
        proc.kill()
        proc.wait()
