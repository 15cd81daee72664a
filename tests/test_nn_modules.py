"""nn.Module, containers, layers, init and save/load (PyTorch conventions)."""
import math
import os

import numpy as np
import pytest

import fastdl
from fastdl import nn
from fastdl.testing import gradcheck


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.scale = nn.Parameter(fastdl.ones(3))
        self.register_buffer("steps", fastdl.zeros(1))
        self.register_buffer("scratch", fastdl.zeros(2), persistent=False)

    def forward(self, x):
        return self.body(x) * self.scale


def test_registration_and_dotted_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert list(net.state_dict()) == ["scale", "steps", "body.0.weight", "body.0.bias",
                                      "body.2.weight", "body.2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["body"]
    assert len(list(net.modules())) == 5
    assert net.num_parameters() == 4 * 8 + 8 + 8 * 3 + 3 + 3


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_propagates():
    net = Net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_state_dict_round_trip_and_strict_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    sd = {k: v.numpy() for k, v in a.state_dict().items()}     # numpy arrays accepted
    sd.pop("scale")
    sd["extra.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(sd)
    assert '"scale"' in str(e.value) and '"extra.weight"' in str(e.value)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["scale"] and res.unexpected_keys == ["extra.weight"]
    sd2 = {k: v.numpy() for k, v in a.state_dict().items()}
    sd2["body.2.weight"] = np.zeros((5, 8), np.float32)
    with pytest.raises(RuntimeError, match=r"size mismatch for body.2.weight.*\(5, 8\).*\(3, 8\)"):
        b.load_state_dict(sd2, strict=False)


def test_load_keeps_parameter_identity():
    a, b = Net(), Net()
    w = b.body[0].weight
    b.load_state_dict(a.state_dict())
    assert b.body[0].weight is w
    assert np.array_equal(w.numpy() if not w.requires_grad else w.detach().numpy(),
                          a.body[0].weight.detach().numpy())


def test_requires_grad_false_freezes_a_part():
    net = Net()
    net.body[0].requires_grad_(False)
    y = net(fastdl.randn(5, 4)).sum()
    y.backward()
    assert net.body[0].weight.grad is None
    assert net.body[2].weight.grad is not None
    text = net.summary((4,), print_fn=None)
    assert "Non-trainable params: 40" in text


def test_zero_grad_set_to_none_and_zero():
    net = Net()
    net(fastdl.randn(2, 4)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert np.all(net.body[0].weight.grad.numpy() == 0)
    net.zero_grad()
    assert net.body[0].weight.grad is None


def test_sequential_indexing_slicing_and_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    with pytest.raises(IndexError):
        seq[3]
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


def test_repr_uses_extra_repr():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Conv2d(1, 4, 3, padding=1)))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text
    assert "Conv2d(1, 4, kernel_size=(3, 3)" in text


def test_summary_table():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 10))
    text = model.summary((1, 6, 6), print_fn=None)
    assert "(None, 4, 6, 6)" in text and "(None, 10)" in text
    assert "Total params: {:,}".format(4 * 9 + 4 + 144 * 10 + 10) in text


def test_linear_matches_numpy_and_gradcheck():
    rng = np.random.default_rng(0)
    lin = nn.Linear(7, 5, dtype=np.float64)
    x = rng.standard_normal((3, 2, 7))
    y = lin(fastdl.tensor(x))
    ref = x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12)
    xt = fastdl.tensor(x, requires_grad=True)
    assert gradcheck(lambda a, w, b: fastdl.nn.functional.linear(a, w, b),
                     [xt, lin.weight, lin.bias])
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(\*, 7\), got \(3, 6\)"):
        lin(fastdl.randn(3, 6, dtype=fastdl.float64))


def test_linear_default_init_bounds():
    fastdl.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound


def test_conv_layers_shapes_and_gradcheck():
    conv = nn.Conv2d(2, 4, 3, stride=2, padding=1, dtype=np.float64)
    x = fastdl.randn(2, 2, 7, 7, dtype=fastdl.float64, requires_grad=True)
    assert conv(x).shape == (2, 4, 4, 4)
    assert gradcheck(lambda a: conv(a), [x])
    c1 = nn.Conv1d(3, 2, 5, padding=2)
    assert c1(fastdl.randn(4, 3, 11)).shape == (4, 2, 11)
    with pytest.raises(ValueError, match="Conv2d: expected 4-D"):
        conv(fastdl.randn(2, 7, 7, dtype=fastdl.float64))


def test_init_functions_statistics():
    fastdl.manual_seed(1)
    t = fastdl.empty(400, 300)
    nn.init.xavier_uniform_(t)
    a = math.sqrt(6 / 700)
    assert np.abs(t.numpy()).max() <= a and abs(t.numpy().std() - a / math.sqrt(3)) < 0.01 * a
    nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    q = fastdl.empty(30, 50)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, np.eye(30), atol=1e-5)
    nn.init.constant_(q, 0.5)
    assert np.all(q.numpy() == 0.5)
    with pytest.raises(ValueError, match="fan in and fan out"):
        nn.init.xavier_uniform_(fastdl.empty(5))


def test_init_is_seeded():
    fastdl.manual_seed(7)
    a = nn.Linear(10, 10).weight.detach().numpy().copy()
    fastdl.manual_seed(7)
    b = nn.Linear(10, 10).weight.detach().numpy()
    assert np.array_equal(a, b)


def test_save_load_model_round_trip(tmp_path):
    net = Net()
    x = fastdl.randn(3, 4)
    path = tmp_path / "net.safetensors"
    fastdl.save(net.state_dict(), path)
    fresh = Net()
    fresh.load_state_dict(fastdl.load(path))
    np.testing.assert_array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())
    # the file is plain safetensors: other tools read it
    from safetensors.numpy import load_file
    assert set(load_file(str(path))) == set(net.state_dict())


def test_save_nested_checkpoint(tmp_path):
    obj = {"model": {"w": fastdl.ones(2)}, "epoch": 3, "lr": 1e-3, "tags": ("a", None),
           "state": {0: {"step": 5, "exp_avg": np.arange(3.0)}}, "best": float("inf")}
    fastdl.save(obj, tmp_path / "ck.safetensors")
    back = fastdl.load(tmp_path / "ck.safetensors")
    assert back["epoch"] == 3 and back["lr"] == 1e-3 and back["tags"] == ("a", None)
    assert back["best"] == float("inf")
    assert np.array_equal(back["state"][0]["exp_avg"], np.arange(3.0))   # an array stays an array


def test_load_rejects_truncated_and_corrupt_files(tmp_path):
    p = tmp_path / "m.safetensors"
    fastdl.save({"w": fastdl.ones(100)}, p)
    raw = p.read_bytes()
    (tmp_path / "trunc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="trunc"):
        fastdl.load(tmp_path / "trunc")
    (tmp_path / "junk").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ValueError, match="junk"):
        fastdl.load(tmp_path / "junk")
    with pytest.raises(FileNotFoundError):
        fastdl.load(tmp_path / "missing")


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"
    fastdl.save({"w": fastdl.ones(3)}, p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        fastdl.save({"w": fastdl.zeros(3)}, p)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["m.safetensors"]

