"""The C model runtime (csrc/include/fastdl/model.h) against the Python path.

Models are written by fastdl.export and loaded in C (fdl_model_load) through
ctypes on the libfastdl.so the package ships; every layer type, a CNN, an MLP
and an LSTM model give the same outputs, parameter gradients and input
gradients in C and in Python, a few training steps in C match Python's
optimizers, files written by C open in Python (fastdl.load_model), and
malformed files give an error status, not a crash.
"""
import ctypes
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

import fastdl
from fastdl import nn

LIB = Path(fastdl.get_lib()) / "libfastdl.so"


def _load_lib():
    if not LIB.exists():
        pytest.skip("libfastdl.so is not installed with the package")
    lib = ctypes.CDLL(str(LIB))
    if not hasattr(lib, "fdl_model_load"):
        pytest.skip("installed libfastdl lacks the model runtime; reinstall")
    P, I64, I32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    sig = {
        "fdl_model_load": (I32, [ctypes.c_char_p, ctypes.POINTER(P)]),
        "fdl_model_save": (I32, [P, ctypes.c_char_p]),
        "fdl_model_free": (None, [P]),
        "fdl_model_forward": (I32, [P, P, I64, P]),
        "fdl_model_backward": (I32, [P, P, P]),
        "fdl_model_output_shape": (I32, [P, ctypes.POINTER(I32), P]),
        "fdl_model_output_numel": (I64, [P]),
        "fdl_model_num_tensors": (I32, [P]),
        "fdl_model_tensor": (I32, [P, I32, ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.POINTER(I32), P, ctypes.POINTER(P), ctypes.POINTER(P)]),
        "fdl_model_train": (None, [P, I32]),
        "fdl_model_manual_seed": (None, [P, ctypes.c_uint64, ctypes.c_uint64]),
        "fdl_model_zero_grad": (None, [P]),
        "fdl_model_train_step": (I32, [P, P, P, I64, I32, P, ctypes.POINTER(ctypes.c_float),
                                       ctypes.POINTER(I64)]),
        "fdl_model_last_error": (ctypes.c_char_p, []),
        "fdl_model_num_params": (I64, [P]),
        "fdl_optim_init": (I32, [P, I32, ctypes.c_double]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


@pytest.fixture(scope="module")
def lib():
    return _load_lib()


class Optim(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("lr", ctypes.c_double), ("momentum", ctypes.c_double),
                ("dampening", ctypes.c_double), ("weight_decay", ctypes.c_double),
                ("nesterov", ctypes.c_int), ("beta1", ctypes.c_double),
                ("beta2", ctypes.c_double), ("eps", ctypes.c_double), ("amsgrad", ctypes.c_int)]


class CModel:
    def __init__(self, lib, path):
        self.lib = lib
        self.h = ctypes.c_void_p()
        st = lib.fdl_model_load(str(path).encode(), ctypes.byref(self.h))
        self.status = st
        self.error = lib.fdl_model_last_error().decode()

    def __del__(self):
        if getattr(self, "h", None):
            self.lib.fdl_model_free(self.h)

    def _check(self, st, what):
        assert st == 0, "%s: status %d: %s" % (what, st, self.lib.fdl_model_last_error().decode())

    def out_shape(self):
        nd = ctypes.c_int()
        shape = (ctypes.c_int64 * 8)()
        self._check(self.lib.fdl_model_output_shape(self.h, ctypes.byref(nd), shape), "shape")
        return tuple(shape[:nd.value])

    def forward(self, x):
        x = np.ascontiguousarray(x)
        out = np.empty((x.shape[0],) + self.out_shape(), np.float32)
        self.x = x           # kept alive until backward
        self._check(self.lib.fdl_model_forward(self.h, x.ctypes.data, x.shape[0],
                                               out.ctypes.data), "forward")
        return out

    def backward(self, dout, want_dx=True):
        dout = np.ascontiguousarray(dout, np.float32)
        dx = np.zeros(self.x.shape, np.float32) if want_dx else None
        self._check(self.lib.fdl_model_backward(self.h, dout.ctypes.data,
                                                dx.ctypes.data if want_dx else None), "backward")
        return dx

    def tensors(self):
        out = {}
        for i in range(self.lib.fdl_model_num_tensors(self.h)):
            name, nd = ctypes.c_char_p(), ctypes.c_int()
            shape = (ctypes.c_int64 * 8)()
            data, grad = ctypes.c_void_p(), ctypes.c_void_p()
            self._check(self.lib.fdl_model_tensor(self.h, i, ctypes.byref(name), ctypes.byref(nd),
                                                  shape, ctypes.byref(data), ctypes.byref(grad)),
                        "tensor")
            n = int(np.prod(shape[:nd.value]))
            sh = tuple(shape[:nd.value])
            d = np.ctypeslib.as_array((ctypes.c_float * n).from_address(data.value)).reshape(sh).copy()
            g = (np.ctypeslib.as_array((ctypes.c_float * n).from_address(grad.value))
                 .reshape(sh).copy() if grad.value else None)
            out[name.value.decode()] = (d, g)
        return out

    def train(self, flag):
        self.lib.fdl_model_train(self.h, int(flag))

    def seed(self, seed, stream=0):
        self.lib.fdl_model_manual_seed(self.h, seed, stream)

    def train_step(self, x, y, loss_kind, opt):
        x = np.ascontiguousarray(x)
        y = np.ascontiguousarray(y)
        loss = ctypes.c_float()
        self._check(self.lib.fdl_model_train_step(self.h, x.ctypes.data, y.ctypes.data,
                                                  x.shape[0], loss_kind, ctypes.byref(opt),
                                                  ctypes.byref(loss), None), "train_step")
        return loss.value

    def save(self, path):
        self._check(self.lib.fdl_model_save(self.h, str(path).encode()), "save")


def _out(y):
    return y[0] if isinstance(y, tuple) else y


def _py_forward_backward(model, x, dout, want_dx=True):
    xt = fastdl.tensor(x, requires_grad=want_dx and x.dtype == np.float32)
    for p in model.parameters():
        p.grad = None
    y = _out(model(xt))
    (y * fastdl.tensor(dout)).sum().backward()
    grads = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32))
             for n, p in model.named_parameters()}
    return y.detach().numpy(), grads, (xt.grad.numpy() if xt.requires_grad else None)


def _close(a, b, what, tol=2e-4):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max(initial=0)))
    err = float(np.abs(a - b).max(initial=0))
    assert err <= tol * scale, "%s: max |C - Python| = %g (scale %g)" % (what, err, scale)


def _check_model(lib, tmp_path, model, x, training=True, seed=None, tol=2e-4):
    path = tmp_path / "m.safetensors"
    fastdl.export(model, path, x[:1])
    c = CModel(lib, path)
    assert c.status == 0, c.error
    c.train(training)
    model.train(training)
    if seed is not None:
        c.seed(seed, 0)
        fastdl.manual_seed(seed)
    y_c = c.forward(x)
    rng = np.random.default_rng(1)
    dout = rng.standard_normal(y_c.shape).astype(np.float32)
    want_dx = x.dtype == np.float32
    dx_c = c.backward(dout, want_dx)
    y_p, g_p, dx_p = _py_forward_backward(model, x, dout, want_dx)
    _close(y_c, y_p, "output", tol)
    # Not vacuous: the output is not all zeros unless Python's is too.
    assert np.abs(y_p).max() == 0 or np.abs(y_c).max() > 0
    t = c.tensors()
    for name, g in g_p.items():
        _close(t[name][1], g, "grad of " + name, tol)
    if want_dx:
        _close(dx_c, dx_p, "input grad", tol)
    # running statistics updated the same way
    for name, buf in model.state_dict().items():
        if name.endswith(("running_mean", "running_var")):
            _close(t[name][0], buf.numpy(), name, tol)
    return c


R = np.random.default_rng(0)


def _x(*shape):
    return R.standard_normal(shape).astype(np.float32)


LAYER_CASES = {
    "linear": (lambda: nn.Sequential(nn.Linear(5, 4)), lambda: _x(3, 5)),
    "linear_3d_nobias": (lambda: nn.Sequential(nn.Linear(5, 4, bias=False)), lambda: _x(3, 2, 5)),
    "conv_groups_stride": (lambda: nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1,
                                                           groups=2)), lambda: _x(2, 4, 9, 8)),
    "conv_dilation_rect": (lambda: nn.Sequential(nn.Conv2d(3, 4, (3, 2), stride=(1, 2),
                                                           padding=(2, 1), dilation=2,
                                                           bias=False)), lambda: _x(2, 3, 7, 9)),
    "maxpool": (lambda: nn.Sequential(nn.MaxPool2d(2)), lambda: _x(2, 3, 8, 6)),
    "maxpool_pad_ceil": (lambda: nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1,
                                                           ceil_mode=True)),
                         lambda: _x(2, 2, 8, 7)),
    "maxpool_dilation": (lambda: nn.Sequential(nn.MaxPool2d(2, stride=1, dilation=2)),
                         lambda: _x(2, 2, 6, 6)),
    "avgpool": (lambda: nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1,
                                                   count_include_pad=False)),
                lambda: _x(2, 3, 7, 8)),
    "avgpool_default": (lambda: nn.Sequential(nn.AvgPool2d(2)), lambda: _x(2, 3, 6, 6)),
    "adaptive_avgpool": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d((3, 2))),
                         lambda: _x(2, 3, 7, 5)),
    "batchnorm1d": (lambda: nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6)), lambda: _x(8, 5)),
    "batchnorm1d_3d": (lambda: nn.Sequential(nn.BatchNorm1d(4)), lambda: _x(3, 4, 5)),
    "batchnorm2d": (lambda: nn.Sequential(nn.BatchNorm2d(3, momentum=0.3)),
                    lambda: _x(4, 3, 5, 5)),
    "batchnorm2d_cumulative": (lambda: nn.Sequential(nn.BatchNorm2d(3, momentum=None)),
                               lambda: _x(4, 3, 5, 5)),
    "batchnorm_no_affine": (lambda: nn.Sequential(nn.BatchNorm1d(5, affine=False)),
                            lambda: _x(6, 5)),
    "layernorm": (lambda: nn.Sequential(nn.LayerNorm(6)), lambda: _x(3, 4, 6)),
    "layernorm_2d_noaffine": (lambda: nn.Sequential(nn.LayerNorm((4, 6),
                                                                 elementwise_affine=False)),
                              lambda: _x(3, 4, 6)),
    "flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(24, 3)), lambda: _x(2, 2, 3, 4)),
    "flatten_middle": (lambda: nn.Sequential(nn.Flatten(2, 3), nn.Linear(12, 3)),
                       lambda: _x(2, 2, 3, 4)),
    "identity": (lambda: nn.Sequential(nn.Identity(), nn.Linear(4, 2)), lambda: _x(3, 4)),
    "relu_first": (lambda: nn.Sequential(nn.ReLU()), lambda: _x(4, 7)),
    "relu_fused": (lambda: nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2)),
                   lambda: _x(4, 5)),
    "relu_after_conv": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU()),
                        lambda: _x(2, 2, 5, 5)),
    "leaky_relu": (lambda: nn.Sequential(nn.LeakyReLU(0.2)), lambda: _x(4, 7)),
    "elu": (lambda: nn.Sequential(nn.ELU(0.5)), lambda: _x(4, 7)),
    "gelu": (lambda: nn.Sequential(nn.GELU()), lambda: _x(4, 7)),
    "gelu_tanh": (lambda: nn.Sequential(nn.GELU("tanh")), lambda: _x(4, 7)),
    "silu": (lambda: nn.Sequential(nn.SiLU()), lambda: _x(4, 7)),
    "sigmoid": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Sigmoid()), lambda: _x(4, 3)),
    "tanh": (lambda: nn.Sequential(nn.Tanh()), lambda: _x(4, 7)),
    "softplus": (lambda: nn.Sequential(nn.Softplus(2.0, 1.0)), lambda: _x(4, 7)),
    "softmax": (lambda: nn.Sequential(nn.Softmax(dim=1)), lambda: _x(4, 7)),
    "softmax_3d_last": (lambda: nn.Sequential(nn.Softmax(dim=-1)), lambda: _x(2, 3, 5)),
    "softmax_3d_mid": (lambda: nn.Sequential(nn.Softmax(dim=1)), lambda: _x(2, 3, 5)),
    "log_softmax": (lambda: nn.Sequential(nn.Linear(4, 5), nn.LogSoftmax(dim=1)),
                    lambda: _x(3, 4)),
    "lstm_seq": (lambda: nn.Sequential(nn.LSTM(3, 5, batch_first=True)), lambda: _x(2, 4, 3)),
    "lstm_2layer_last": (lambda: nn.Sequential(nn.LSTM(3, 5, num_layers=2, batch_first=True),
                                               nn.LastTimeStep(), nn.Linear(5, 2)),
                         lambda: _x(3, 6, 3)),
    "gru": (lambda: nn.Sequential(nn.GRU(4, 3, batch_first=True), nn.LastTimeStep()),
            lambda: _x(2, 5, 4)),
    "gru_nobias_2layer": (lambda: nn.Sequential(nn.GRU(4, 3, num_layers=2, bias=False,
                                                       batch_first=True)),
                          lambda: _x(2, 5, 4)),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_same_in_c_and_python(lib, tmp_path, case):
    make_model, make_x = LAYER_CASES[case]
    fastdl.manual_seed(3)
    _check_model(lib, tmp_path, make_model(), make_x())


@pytest.mark.parametrize("case", ["batchnorm1d", "batchnorm2d", "batchnorm_no_affine",
                                  "batchnorm1d_3d"])
def test_batchnorm_eval_same_in_c_and_python(lib, tmp_path, case):
    """Eval mode: the running statistics (after a training step in Python) normalize."""
    make_model, make_x = LAYER_CASES[case]
    model = make_model()
    model(fastdl.tensor(make_x()))     # moves the running statistics away from 0 / 1
    _check_model(lib, tmp_path, model, make_x(), training=False)


def test_dropout_same_mask_in_c_and_python(lib, tmp_path):
    """Same seed, same Philox stream: C's Dropout drops what fastdl's does."""
    model = nn.Sequential(nn.Linear(6, 50), nn.Dropout(0.3), nn.Linear(50, 4))
    c = _check_model(lib, tmp_path, model, _x(5, 6), seed=11)
    # and in eval mode it is the identity in both
    _check_model(lib, tmp_path, model, _x(5, 6), training=False)
    del c


def test_embedding_same_in_c_and_python(lib, tmp_path):
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 3))
    x = np.array([[0, 3, 9], [5, 0, 2]], np.int64)
    _check_model(lib, tmp_path, model, x)


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 7 * 7, 16),
                         nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 10))


def _mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 5))


def _lstm():
    return nn.Sequential(nn.Embedding(12, 6), nn.LSTM(6, 8, num_layers=2, batch_first=True),
                         nn.LastTimeStep(), nn.Linear(8, 3))


def test_cnn_same_in_c_and_python(lib, tmp_path):
    fastdl.manual_seed(0)
    _check_model(lib, tmp_path, _cnn(), _x(6, 1, 28, 28), seed=5)


def test_mlp_same_in_c_and_python(lib, tmp_path):
    fastdl.manual_seed(0)
    _check_model(lib, tmp_path, _mlp(), _x(7, 20))


def test_lstm_model_same_in_c_and_python(lib, tmp_path):
    fastdl.manual_seed(0)
    x = np.random.default_rng(2).integers(0, 12, (4, 7)).astype(np.int64)
    _check_model(lib, tmp_path, _lstm(), x)


@pytest.mark.parametrize("which", ["cnn_sgd", "mlp_adam", "lstm_adamw"])
def test_training_steps_same_in_c_and_python(lib, tmp_path, which):
    """Three optimizer steps in C (fdl_model_train_step) and in Python end at the same weights."""
    fastdl.manual_seed(1)
    rng = np.random.default_rng(4)
    if which == "cnn_sgd":
        model, x = _cnn(), _x(8, 1, 28, 28)
        y = rng.integers(0, 10, 8).astype(np.int64)
        kind, lr, popt = 0, 0.05, lambda p: fastdl.optim.SGD(p, lr=0.05, momentum=0.9)
        loss_kind, loss_fn = 0, nn.CrossEntropyLoss()
    elif which == "mlp_adam":
        model, x = _mlp(), _x(9, 20)
        y = rng.standard_normal((9, 5)).astype(np.float32)
        kind, lr, popt = 1, 1e-2, lambda p: fastdl.optim.Adam(p, lr=1e-2)
        loss_kind, loss_fn = 2, nn.MSELoss()
    else:
        model = _lstm()
        x = rng.integers(0, 12, (5, 6)).astype(np.int64)
        y = rng.integers(0, 3, 5).astype(np.int64)
        kind, lr, popt = 2, 1e-2, lambda p: fastdl.optim.AdamW(p, lr=1e-2)
        loss_kind, loss_fn = 0, nn.CrossEntropyLoss()
    path = tmp_path / "m.safetensors"
    fastdl.export(model, path, x[:1])
    init = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    c = CModel(lib, path)
    assert c.status == 0, c.error
    opt = Optim()
    assert lib.fdl_optim_init(ctypes.byref(opt), kind, lr) == 0
    if which == "cnn_sgd":
        opt.momentum = 0.9
    c.seed(9, 0)
    c_losses = [c.train_step(x, y, loss_kind, opt) for _ in range(3)]

    fastdl.manual_seed(9)
    model.train()
    o = popt(model.parameters())
    p_losses = []
    for _ in range(3):
        o.zero_grad()
        loss = loss_fn(_out(model(fastdl.tensor(x))), fastdl.tensor(y))
        loss.backward()
        o.step()
        p_losses.append(loss.item())
    np.testing.assert_allclose(c_losses, p_losses, rtol=1e-4, atol=1e-5)
    t = c.tensors()
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        moved = float(np.abs(v.numpy() - init[k]).max())
        _close(t[k][0], v.numpy(), k, tol=1e-4)
        if k.endswith("weight") and "running" not in k:
            assert moved > 1e-4, (k, moved)     # training moved it: the match is not vacuous


def test_c_saves_python_loads(lib, tmp_path):
    """fdl_model_save writes a file fastdl.load_model rebuilds, with C's trained weights."""
    fastdl.manual_seed(2)
    model = _cnn()
    path = tmp_path / "a.safetensors"
    x = _x(4, 1, 28, 28)
    fastdl.export(model, path, x[:1])
    c = CModel(lib, path)
    opt = Optim()
    lib.fdl_optim_init(ctypes.byref(opt), 1, 1e-2)
    c.train_step(x, np.array([1, 2, 3, 4], np.int64), 0, opt)   # BN statistics move too
    c.save(tmp_path / "b.safetensors")
    back = fastdl.load_model(tmp_path / "b.safetensors")
    assert [type(m).__name__ for m in back] == [type(m).__name__ for m in model]
    assert int(back[1].num_batches_tracked.item()) == 1
    back.eval()
    c.train(False)
    with fastdl.no_grad():
        y_p = back(fastdl.tensor(x)).numpy()
    _close(c.forward(x), y_p, "output after the round trip")
    t = c.tensors()
    for k, v in back.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            np.testing.assert_array_equal(t[k][0], v.numpy())


def test_export_load_model_round_trip(tmp_path):
    fastdl.manual_seed(0)
    model = _lstm()
    fastdl.export(model, tmp_path / "l.safetensors", np.zeros((1, 5), np.int64))
    back = fastdl.load_model(tmp_path / "l.safetensors")
    x = np.random.default_rng(0).integers(0, 12, (3, 5)).astype(np.int64)
    with fastdl.no_grad():
        np.testing.assert_array_equal(back(fastdl.tensor(x)).numpy(),
                                      model(fastdl.tensor(x)).numpy())


def test_export_refuses_unsupported(tmp_path):
    p = tmp_path / "x.safetensors"
    with pytest.raises(ValueError, match=r"layer 1 \(Conv1d\)"):
        fastdl.export(nn.Sequential(nn.Identity(), nn.Conv1d(2, 2, 3)), p, _x(1, 2, 5))
    with pytest.raises(ValueError, match="batch_first=False"):
        fastdl.export(nn.Sequential(nn.LSTM(3, 4)), p, _x(1, 2, 3))
    with pytest.raises(ValueError, match="bidirectional"):
        fastdl.export(nn.Sequential(nn.GRU(3, 4, batch_first=True, bidirectional=True)), p,
                      _x(1, 2, 3))
    with pytest.raises(ValueError, match="dim=None"):
        fastdl.export(nn.Sequential(nn.Softmax()), p, _x(1, 3))
    with pytest.raises(ValueError, match="does not run"):
        fastdl.export(nn.Sequential(nn.Linear(3, 2)), p, _x(1, 4))
    with pytest.raises(TypeError, match="nn.Sequential"):
        fastdl.export(object(), p, _x(1, 4))
    assert not p.exists()


def test_load_model_refuses_plain_state_dict(tmp_path):
    fastdl.save(nn.Linear(2, 2).state_dict(), tmp_path / "s.safetensors")
    with pytest.raises(ValueError, match="no architecture record"):
        fastdl.load_model(tmp_path / "s.safetensors")


# ---- malformed files: an error status from C, never a crash -----------------------------------

FDL_ERR_SHAPE, FDL_ERR_IO, FDL_ERR_FORMAT = -3, -6, -7


def _write(path, tensors, arch):
    meta = {"fastdl_model": arch if isinstance(arch, str) else json.dumps(arch)}
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))


def _good():
    arch = {"format": 1, "input_shape": [4], "input_dtype": "float32",
            "layers": [{"type": "Linear", "in_features": 4, "out_features": 3, "bias": True},
                       {"type": "ReLU"}]}
    t = {"0.weight": np.ones((3, 4), np.float32), "0.bias": np.zeros(3, np.float32)}
    return t, arch


def _bad_cases():
    cases = {}
    t, a = _good()
    cases["bad_json"] = (t, '{"format": 1, "layers": [', FDL_ERR_FORMAT, "JSON")
    cases["unknown_layer"] = (t, dict(a, layers=[{"type": "Transformer"}]), FDL_ERR_FORMAT,
                              "unknown layer type")
    cases["layer_not_object"] = (t, dict(a, layers=[3]), FDL_ERR_FORMAT, "layer 0")
    cases["missing_field"] = (t, dict(a, layers=[{"type": "Linear", "in_features": 4}]),
                              FDL_ERR_FORMAT, "out_features")
    cases["negative_size"] = (t, dict(a, layers=[{"type": "Linear", "in_features": -4,
                                                  "out_features": 3}]), FDL_ERR_FORMAT,
                              "in_features")
    cases["string_size"] = (t, dict(a, layers=[{"type": "Linear", "in_features": "4",
                                                "out_features": 3}]), FDL_ERR_FORMAT,
                            "in_features")
    cases["wrong_input_shape"] = (t, dict(a, input_shape=[5]), FDL_ERR_SHAPE, "Linear")
    cases["wrong_tensor_shape"] = (dict(t, **{"0.weight": np.ones((4, 4), np.float32)}), a,
                                   FDL_ERR_SHAPE, "0.weight")
    cases["missing_tensor"] = ({"0.weight": t["0.weight"]}, a, FDL_ERR_FORMAT, "0.bias")
    cases["extra_tensor"] = (dict(t, extra=np.ones(2, np.float32)), a, FDL_ERR_FORMAT, "extra")
    cases["wrong_dtype"] = (dict(t, **{"0.bias": np.zeros(3, np.float64)}), a, FDL_ERR_FORMAT,
                            "F64")
    cases["no_layers"] = (t, {"format": 1}, FDL_ERR_FORMAT, "layers")
    cases["format_2"] = (t, dict(a, format=2), FDL_ERR_FORMAT, "format")
    cases["conv_groups"] = ({}, dict(a, layers=[{"type": "Conv2d", "in_channels": 3,
                                                 "out_channels": 4, "kernel_size": 3,
                                                 "groups": 2}]), FDL_ERR_FORMAT, "groups")
    cases["deep_json"] = (t, "[" * 100000 + "]" * 100000, FDL_ERR_FORMAT, "JSON")
    cases["lstm_not_batch_first"] = ({}, dict(a, input_shape=[2, 3], layers=[
        {"type": "LSTM", "input_size": 3, "hidden_size": 2, "batch_first": False}]),
        FDL_ERR_FORMAT, "batch_first")
    big = 2 ** 31
    cases["huge_linear"] = ({}, dict(a, input_shape=[big], layers=[
        {"type": "Linear", "in_features": big, "out_features": big}]), FDL_ERR_FORMAT,
        "too large")
    cases["huge_conv"] = ({}, dict(a, input_shape=[big, 8, 8], layers=[
        {"type": "Conv2d", "in_channels": big, "out_channels": big, "kernel_size": 65536}]),
        FDL_ERR_FORMAT, "too large")
    cases["huge_input"] = ({}, dict(a, input_shape=[big] * 5, layers=[{"type": "ReLU"}]),
                           FDL_ERR_FORMAT, "too large")
    return cases


@pytest.mark.parametrize("case", sorted(_bad_cases()))
def test_malformed_architecture_is_an_error(lib, tmp_path, case):
    tensors, arch, status, words = _bad_cases()[case]
    path = tmp_path / "bad.safetensors"
    _write(path, tensors, arch)
    c = CModel(lib, path)
    assert c.status == status, (c.status, c.error)
    assert words.lower() in c.error.lower(), c.error
    assert not c.h


def test_good_file_loads(lib, tmp_path):
    """The base of the malformed cases is itself valid, so each case tests its one defect."""
    t, a = _good()
    path = tmp_path / "good.safetensors"
    _write(path, t, a)
    c = CModel(lib, path)
    assert c.status == 0, c.error
    np.testing.assert_allclose(c.forward(np.ones((2, 4), np.float32)), 4.0)


@pytest.mark.parametrize("cut", [0, 4, 8, 20, -1, -13])
def test_truncated_file_is_an_error(lib, tmp_path, cut):
    t, a = _good()
    good = tmp_path / "good.safetensors"
    _write(good, t, a)
    raw = good.read_bytes()
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(raw[:cut] if cut >= 0 else raw[:len(raw) + cut])
    c = CModel(lib, bad)
    assert c.status == FDL_ERR_FORMAT, (c.status, c.error)


def test_header_length_lies(lib, tmp_path):
    bad = tmp_path / "lie.safetensors"
    bad.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    assert CModel(lib, bad).status == FDL_ERR_FORMAT
    assert CModel(lib, tmp_path / "absent.safetensors").status == FDL_ERR_IO


def test_no_architecture_record(lib, tmp_path):
    fastdl.save(nn.Linear(2, 2).state_dict(), tmp_path / "s.safetensors")
    c = CModel(lib, tmp_path / "s.safetensors")
    assert c.status == FDL_ERR_FORMAT and "fastdl_model" in c.error, c.error


def test_bad_input_at_run_time(lib, tmp_path):
    """Embedding indices out of range and class labels out of range are errors, not reads
    outside the table."""
    fastdl.manual_seed(0)
    path = tmp_path / "e.safetensors"
    fastdl.export(_lstm(), path, np.zeros((1, 4), np.int64))
    c = CModel(lib, path)
    x = np.array([[1, 2, 12, 3]], np.int64)
    out = np.empty((1, 3), np.float32)
    st = lib.fdl_model_forward(c.h, x.ctypes.data, 1, out.ctypes.data)
    assert st == -1 and "outside [0, 12)" in lib.fdl_model_last_error().decode()
    opt = Optim()
    lib.fdl_optim_init(ctypes.byref(opt), 0, 0.1)
    y = np.array([7], np.int64)
    x = np.array([[1, 2, 3, 4]], np.int64)
    st = lib.fdl_model_train_step(c.h, x.ctypes.data, y.ctypes.data, 1, 0, ctypes.byref(opt),
                                  None, None)
    assert st == -1, lib.fdl_model_last_error()
