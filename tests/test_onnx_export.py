"""fastdl.onnx.export: every exported model passes onnx.checker and ONNX Runtime gives
fastdl's outputs (within 1e-5) on the same inputs, including batch sizes other than
the traced one. Skipped when onnx / onnxruntime are not installed."""
import io
import sys

import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import fastdl.onnx  # noqa: E402

RNG = np.random.default_rng(3)
DYN = {"input": {0: "batch"}, "output": {0: "batch"}}


def session(proto):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def fastdl_out(model, *xs):
    with fastdl.inference_mode():
        out = model(*[fastdl.tensor(x) for x in xs])
    outs = out if isinstance(out, (tuple, list)) else [out]
    flat = []
    for o in outs:
        flat.extend(o if isinstance(o, (tuple, list)) else [o])
    return [o.numpy() for o in flat]


def export_and_compare(model, example, batches=(1, 5), dynamic=DYN, make=None, **kw):
    """Export with the example, then compare ORT and fastdl on fresh inputs per batch size."""
    model.eval()
    proto = fastdl.onnx.export(model, example, None, dynamic_axes=dynamic, **kw)
    onnx.checker.check_model(proto, full_check=True)
    sess = session(proto)
    names = [i.name for i in sess.get_inputs()]
    ex = example if isinstance(example, tuple) else (example,)
    for b in batches:
        xs = [make(b) if make else RNG.standard_normal((b,) + e.shape[1:]).astype(np.float32)
              for e in ex]
        got = sess.run(None, dict(zip(names, xs)))
        want = fastdl_out(model, *xs)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    return proto


def ops_of(proto):
    return {n.op_type for n in proto.graph.node}


# ---- the models the issue names -------------------------------------------------------------

def mlp():
    fastdl.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def mnist_cnn():
    fastdl.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


def test_mlp():
    proto = export_and_compare(mlp(), fastdl.randn(3, 784), batches=(1, 3, 64))
    assert ops_of(proto) >= {"Gemm", "Relu"}
    # the weights are stored under their state_dict names
    inits = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "4.weight", "4.bias"} <= inits


def test_mnist_cnn():
    proto = export_and_compare(mnist_cnn(), fastdl.randn(2, 1, 28, 28), batches=(1, 4))
    assert ops_of(proto) >= {"Conv", "MaxPool", "Reshape", "Gemm"}


def test_batchnorm_dropout_eval_and_mode_restored():
    fastdl.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Dropout(0.5), nn.Flatten(), nn.Linear(8 * 6 * 6, 16),
                          nn.BatchNorm1d(16), nn.Dropout(0.3), nn.Linear(16, 4))
    model.train()
    for _ in range(3):          # running statistics away from (0, 1)
        model(fastdl.randn(8, 3, 6, 6) * 2 + 1)
    model.train()
    proto = fastdl.onnx.export(model, fastdl.randn(2, 3, 6, 6), None, dynamic_axes=DYN)
    assert model.training and all(m.training for m in model.modules())
    assert "Dropout" not in ops_of(proto) and "BatchNormalization" in ops_of(proto)
    model.eval()
    x = RNG.standard_normal((5, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(session(proto).run(None, {"input": x})[0],
                               fastdl_out(model, x)[0], rtol=1e-5, atol=1e-5)


class Residual(nn.Module):
    """A custom forward over functional and tensor ops (residual add, transpose, ...)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 12)
        self.fc2 = nn.Linear(12, 12)
        self.norm = nn.LayerNorm(12)
        self.head = nn.Linear(24, 3)
        self.scale = nn.Parameter(fastdl.randn(12))

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = x + self.fc2(h) * self.scale            # residual add, broadcast mul
        h = self.norm(h)
        a = h @ h.transpose(0, 1)                   # matmul of a tensor with its transpose
        a = F.softmax(a / 2.0, dim=-1)
        h = h + (a @ h) - h.mean(dim=1, keepdim=True)
        g = F.gelu(h) + F.sigmoid(h) * F.tanh(h) - F.leaky_relu(h, 0.2)
        z = fastdl.cat([g, h.exp().clamp(max=3.0)], dim=1)
        return F.log_softmax(self.head(z), dim=1)


def test_custom_module_functional_ops():
    fastdl.manual_seed(2)
    proto = export_and_compare(Residual(), fastdl.randn(4, 12), batches=(4,), dynamic=None)
    assert ops_of(proto) >= {"Add", "Mul", "MatMul", "Transpose", "Softmax", "LayerNormalization",
                             "LogSoftmax", "Concat", "Exp", "Clip", "ReduceMean", "Erf"}


class Reshaper(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):                   # x: (N, 2, 3, 2)
        n = x.shape[0]
        h = x.permute(0, 2, 1, 3).reshape(n, 3, 4)
        h = h.flatten(1).view(n, 2, 6)
        h = self.fc(h)                      # 3-d linear: MatMul + Add
        a, b = h.split(2, dim=2)
        h = fastdl.stack([a.sum(2), b.amax(2), h[:, 0, 1:3].sum(1, keepdim=True)
                          .expand(n, 2)], dim=1)
        return h.unsqueeze(1).squeeze(1)[:, :, None][..., 0] ** 2


def test_shape_ops_with_dynamic_batch():
    export_and_compare(Reshaper(), fastdl.randn(3, 2, 3, 2), batches=(3,), dynamic=None)
    # with a dynamic batch, the reshapes copy the batch dim instead of baking 3 in
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    export_and_compare(model, fastdl.randn(3, 1, 6, 6), batches=(1, 2, 7))


def test_dynamic_batch_labels_and_static_default():
    model = mlp()
    proto = fastdl.onnx.export(model, fastdl.randn(2, 784), None, input_names=["x"],
                               output_names=["logits"],
                               dynamic_axes={"x": {0: "batch"}, "logits": [0]})
    d_in = proto.graph.input[0].type.tensor_type.shape.dim
    d_out = proto.graph.output[0].type.tensor_type.shape.dim
    assert d_in[0].dim_param == "batch" and d_in[1].dim_value == 784
    assert d_out[0].dim_param == "logits_dynamic_axes_1" and d_out[1].dim_value == 10
    x = RNG.standard_normal((9, 784)).astype(np.float32)
    np.testing.assert_allclose(session(proto).run(None, {"x": x})[0], fastdl_out(model, x)[0],
                               rtol=1e-5, atol=1e-5)
    # without dynamic_axes the batch is fixed, as in PyTorch
    fixed = fastdl.onnx.export(model, fastdl.randn(2, 784), None)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        session(fixed).run(None, {"input": x})


class Seq(nn.Module):
    def __init__(self, cell, **kw):
        super().__init__()
        self.rnn = cell(10, 16, num_layers=2, batch_first=True, **kw)
        self.fc = nn.Linear(16 * (2 if kw.get("bidirectional") else 1), 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@pytest.mark.parametrize("cell,kw", [(nn.LSTM, {}), (nn.GRU, {}), (nn.LSTM, {"bidirectional": True}),
                                     (nn.GRU, {"bidirectional": True}),
                                     (nn.RNN, {"nonlinearity": "relu"})])
def test_recurrent(cell, kw):
    fastdl.manual_seed(4)
    export_and_compare(Seq(cell, **kw), fastdl.randn(2, 7, 10), batches=(1, 3))


class LSTMStates(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 5, num_layers=2)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return out, h, c


def test_lstm_initial_states_and_all_outputs():
    fastdl.manual_seed(5)
    m = LSTMStates()
    ex = (fastdl.randn(4, 3, 6), fastdl.randn(2, 3, 5), fastdl.randn(2, 3, 5))
    proto = fastdl.onnx.export(m, ex, None, input_names=["x", "h0", "c0"],
                               output_names=["y", "h", "c"])
    xs = [RNG.standard_normal(t.shape).astype(np.float32) for t in ex]
    got = session(proto).run(None, dict(zip(["x", "h0", "c0"], xs)))
    for g, w in zip(got, fastdl_out(m, *xs)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_embedding_conv1d_pools_activations():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 8)
            self.conv = nn.Conv1d(8, 6, 3, padding=1)
            self.conv2 = nn.Conv2d(1, 4, 3, stride=2, padding=1, dilation=1)

        def forward(self, ix):
            h = self.emb(ix).transpose(1, 2)                 # (N, 8, L)
            h = F.elu(self.conv(h)) + F.silu(h[:, :6]) + F.softplus(h[:, 2:], beta=2.0)
            img = h.unsqueeze(1)                              # (N, 1, 6, L)
            a = F.avg_pool2d(self.conv2(img), 2, ceil_mode=True)
            b = F.max_pool2d(img, 3, stride=2, padding=1)
            c = F.adaptive_avg_pool2d(img, 1)
            return fastdl.cat([a.flatten(1), b.flatten(1), c.flatten(1)], dim=1)

    fastdl.manual_seed(6)
    m = M()
    export_and_compare(m, fastdl.tensor(RNG.integers(0, 20, (2, 10))), batches=(2, 3),
                       make=lambda b: RNG.integers(0, 20, (b, 10)).astype(np.int64))


def test_unsupported_op_is_refused_by_name():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            h = self.fc(x)
            return h.std(dim=1) + F.cross_entropy(h, fastdl.tensor([0, 1]))

    with pytest.raises(RuntimeError, match=r"unsupported op\(s\): op Std.*op CrossEntropy"):
        fastdl.onnx.export(M(), fastdl.randn(2, 4), None)
    # the tracing hook is gone afterwards: ops run normally
    assert "apply" in fastdl.autograd.KernelFunction.__dict__
    assert type(fastdl.autograd.KernelFunction.__dict__["apply"]).__name__ == "classmethod"
    assert fastdl.autograd.KernelFunction.apply.__func__.__module__ == "fastdl.autograd.function"


def test_training_mode_dropout_refused():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with pytest.raises(RuntimeError, match="dropout in training mode"):
        fastdl.onnx.export(model, fastdl.randn(2, 3), None,
                           training=fastdl.onnx.TrainingMode.TRAINING)


def test_input_dependent_constant_refused():
    class M(nn.Module):
        def forward(self, x):
            return x * float(x.sum().item())         # a Python float computed from the input

    with pytest.raises(RuntimeError, match="depends on the input"):
        fastdl.onnx.export(M(), fastdl.randn(2, 3), None)

    class Mask(nn.Module):
        def forward(self, x):
            return fastdl.where(x > 0, x, x * 0.1)   # the comparison bypasses the Functions

    with pytest.raises(RuntimeError, match="depends on the input"):
        fastdl.onnx.export(Mask(), fastdl.randn(2, 3), None)


def test_data_dependent_control_flow_refused():
    class M(nn.Module):
        def forward(self, x):
            if x.sum().item() > 0:
                return x.exp()
            return x.exp().exp()

    x = fastdl.tensor(np.abs(RNG.standard_normal((3, 3))).astype(np.float32) + 5)
    with pytest.raises(RuntimeError, match="different ops|depends on the input"):
        fastdl.onnx.export(M(), x, None)


def test_file_outputs_names_and_params(tmp_path):
    model = mlp()
    path = tmp_path / "mlp.onnx"
    proto = fastdl.onnx.export(model, fastdl.randn(1, 784), str(path), input_names=["img"],
                               output_names=["logits"])
    loaded = onnx.load(str(path))
    assert loaded == proto
    assert [i.name for i in loaded.graph.input] == ["img"]
    assert [o.name for o in loaded.graph.output] == ["logits"]
    assert loaded.opset_import[0].version == fastdl.onnx.DEFAULT_OPSET
    assert not list(tmp_path.glob(".onnx-*"))          # temp file renamed away
    buf = io.BytesIO()
    fastdl.onnx.export(model, fastdl.randn(1, 784), buf, opset_version=17)
    assert onnx.load_from_string(buf.getvalue()).opset_import[0].version == 17
    # export_params=False: the weights become graph inputs
    bare = fastdl.onnx.export(model, fastdl.randn(1, 784), None, export_params=False)
    assert not bare.graph.initializer
    assert {"input", "0.weight", "4.bias"} <= {i.name for i in bare.graph.input}
    feed = {"input": RNG.standard_normal((1, 784)).astype(np.float32)}
    feed.update({k: v.detach().numpy() for k, v in model.state_dict().items()})
    np.testing.assert_allclose(session(bare).run(None, feed)[0],
                               fastdl_out(model, feed["input"])[0], rtol=1e-5, atol=1e-5)


def test_opsets():
    m = Residual()
    for opset in (17, 18, fastdl.onnx._import_onnx().defs.onnx_opset_version()):
        export_and_compare(m, fastdl.randn(4, 12), batches=(4,), dynamic=None,
                           opset_version=opset)
    # LayerNormalization exists from opset 17: below, refused by name
    with pytest.raises(RuntimeError, match="layer_norm below opset 17"):
        fastdl.onnx.export(m, fastdl.randn(4, 12), None, opset_version=13)
    export_and_compare(mnist_cnn(), fastdl.randn(1, 1, 28, 28), batches=(2,), opset_version=13)


def test_bad_arguments():
    m = mlp()
    with pytest.raises(ValueError, match="opset_version must be in"):
        fastdl.onnx.export(m, fastdl.randn(1, 784), None, opset_version=5)
    with pytest.raises(TypeError, match="unsupported argument.*dynamic_shapes"):
        fastdl.onnx.export(m, fastdl.randn(1, 784), None, dynamic_shapes={})
    with pytest.raises(ValueError, match="dynamic_axes names.*'nope'"):
        fastdl.onnx.export(m, fastdl.randn(1, 784), None, dynamic_axes={"nope": [0]})
    with pytest.raises(TypeError, match="args must be a Tensor"):
        fastdl.onnx.export(m, np.zeros((1, 784)), None)
    with pytest.raises(ValueError, match="2 input_names given for 1 input"):
        fastdl.onnx.export(m, fastdl.randn(1, 784), None, input_names=["a", "b"])


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"fastdl\[onnx\]"):
        fastdl.onnx.export(mlp(), fastdl.randn(1, 784), None)


class Cube(fastdl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


def test_custom_autograd_function_refused_by_name():
    """A custom Function is opaque to the trace (as in PyTorch's tracer): refused, named."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 3)

        def forward(self, x):
            return Cube.apply(self.fc(x)) + 1.0

    with pytest.raises(RuntimeError, match="input of Add comes from CubeBackward"):
        fastdl.onnx.export(M(), fastdl.randn(2, 5), None)


def test_values_computed_under_no_grad_refused():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 3)

        def forward(self, x):
            with fastdl.no_grad():
                h = x * 2.0                 # no Function runs: invisible to the trace
            return self.fc(h)

    with pytest.raises(RuntimeError, match="output 0 depends on the input"):
        fastdl.onnx.export(M(), fastdl.randn(2, 5), None)

    class N(M):
        def forward(self, x):
            with fastdl.no_grad():
                h = x * 2.0
            return self.fc(x + h)

    with pytest.raises(RuntimeError, match="depends on the input"):
        fastdl.onnx.export(N(), fastdl.randn(2, 5), None)


def test_float64_model_and_initializers_as_inputs(capsys):
    fastdl.manual_seed(8)
    model = nn.Sequential(nn.Linear(6, 4, dtype=fastdl.float64), nn.Tanh())
    x = np.random.default_rng(0).standard_normal((3, 6))
    proto = fastdl.onnx.export(model, fastdl.tensor(x), None, keep_initializers_as_inputs=True,
                               verbose=True)
    assert "Gemm" in capsys.readouterr().out                # verbose prints the graph
    assert {"input", "0.weight", "0.bias"} <= {i.name for i in proto.graph.input}
    got = session(proto).run(None, {"input": x})[0]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, fastdl_out(model, x)[0], rtol=1e-12, atol=1e-12)


class Cells(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNNCell(6, 5, nonlinearity="relu")
        self.lstm = nn.LSTMCell(5, 4)
        self.gru = nn.GRUCell(4, 3)

    def forward(self, x, r=None, h=None, c=None, g=None):  # x: (N, T, 6), a loop over T
        for t in range(x.shape[1]):
            r = self.rnn(x[:, t], r)
            h, c = self.lstm(r, None if h is None else (h, c))
            g = self.gru(h, g)
        return g, c


def test_recurrent_cells_in_a_loop():
    fastdl.manual_seed(9)
    m = Cells()
    # initial states as inputs: the batch can change
    ex = (fastdl.randn(2, 3, 6), fastdl.randn(2, 5), fastdl.randn(2, 4), fastdl.randn(2, 4),
          fastdl.randn(2, 3))
    names = ["x", "r", "h", "c", "g"]
    dyn = {n: [0] for n in names + ["output_0", "output_1"]}
    proto = fastdl.onnx.export(m, ex, None, input_names=names, dynamic_axes=dyn)
    sess = session(proto)
    for b in (1, 4):
        xs = [RNG.standard_normal((b,) + t.shape[1:]).astype(np.float32) for t in ex]
        for got, want in zip(sess.run(None, dict(zip(names, xs))), fastdl_out(m, *xs)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # zero states made inside forward have the traced batch size: fine for a fixed batch ...
    export_and_compare(m, fastdl.randn(2, 3, 6), batches=(2,), dynamic=None)
    # ... refused with a dynamic one, instead of silently broadcasting the wrong batch
    with pytest.raises(RuntimeError, match="shape follows a dynamic axis"):
        fastdl.onnx.export(m, fastdl.randn(2, 3, 6), None,
                           dynamic_axes={"input": [0], "output_0": [0], "output_1": [0]})


def test_every_builtin_function_has_a_translation_or_is_listed():
    """A Function added to fastdl/autograd/_functions must get an ONNX converter (or be
    listed as untranslated on purpose, then refused by name)."""
    from fastdl.autograd.function import KernelFunction
    from fastdl.onnx._ops import CONVERTERS, UNTRANSLATED

    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)
    builtin = {s.__name__ for s in subclasses(KernelFunction)
               if s.__module__.startswith("fastdl.autograd._functions")
               and not s.__name__.startswith("_")}
    assert builtin - set(CONVERTERS) - UNTRANSLATED == set()
    assert not set(CONVERTERS) & UNTRANSLATED
