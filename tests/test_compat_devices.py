"""PyTorch's device API on fastdl (CPU only): issue 12, item 1."""
import numpy as np
import pytest

import fastdl
from fastdl import nn


@pytest.mark.parametrize("dev", ["cpu", "cpu:0", fastdl.device("cpu"), None])
def test_creation_functions_accept_cpu(dev):
    for t in [fastdl.zeros(2, 3, device=dev), fastdl.ones(2, device=dev),
              fastdl.empty(2, device=dev), fastdl.full((2,), 1.5, device=dev),
              fastdl.eye(2, device=dev), fastdl.arange(3, device=dev),
              fastdl.linspace(0, 1, 3, device=dev), fastdl.rand(2, device=dev),
              fastdl.randn(2, device=dev), fastdl.randint(0, 3, (2,), device=dev),
              fastdl.randperm(3, device=dev), fastdl.tensor([1.0], device=dev),
              fastdl.as_tensor([1.0], device=dev),
              fastdl.zeros_like(fastdl.ones(2), device=dev),
              fastdl.randn_like(fastdl.ones(2), device=dev)]:
        assert t.device == fastdl.device("cpu")
        assert t.device == "cpu"
        assert t.device.type == "cpu"


@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps", 0, "cpu:1"])
def test_other_devices_refused_with_the_device_named(dev):
    with pytest.raises(RuntimeError, match="zeros: .*" + str(dev).split(":")[0]):
        fastdl.zeros(2, device=dev)
    with pytest.raises(RuntimeError, match="Linear"):
        nn.Linear(2, 3, device=dev)
    with pytest.raises(RuntimeError, match="to"):
        fastdl.ones(2).to(dev if not isinstance(dev, int) else "cuda:0")


def test_device_object():
    d = fastdl.device("cpu")
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", None, "cpu", "device(type='cpu')")
    assert fastdl.device("cpu:0").index == 0 and str(fastdl.device("cpu", 0)) == "cpu:0"
    assert fastdl.device(d) == d and d != "cuda"
    with pytest.raises(RuntimeError, match="'cuda:1'"):
        fastdl.device("cuda:1")


def test_cuda_and_accelerator_report_nothing():
    assert fastdl.cuda.is_available() is False
    assert fastdl.cuda.device_count() == 0
    assert fastdl.accelerator.is_available() is False
    assert fastdl.accelerator.current_accelerator() is None
    dev = fastdl.device("cuda" if fastdl.cuda.is_available() else "cpu")
    assert fastdl.ones(1).to(dev).device == dev


def test_tensor_to_forms():
    x = fastdl.tensor([1.5, -2.5], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(fastdl.device("cpu")) is x
    y = x.to(fastdl.float64)
    assert y.dtype == np.float64
    assert x.to("cpu", fastdl.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=fastdl.float64).dtype == np.float64
    assert x.to(fastdl.zeros(1, dtype=fastdl.int64)).dtype == np.int64
    assert x.to(fastdl.float32, copy=True) is not x
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]
    assert x.type() == "fastdl.FloatTensor"
    with pytest.raises(TypeError, match="half"):
        x.half()
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()


def test_layer_constructors_take_pytorch_positional_order():
    lin = nn.Linear(3, 2, True, "cpu", fastdl.float64)
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64
    conv = nn.Conv2d(1, 2, 3, 1, 0, 1, 1, True, "zeros", "cpu", fastdl.float64)
    assert conv.weight.dtype == np.float64
    for m in [nn.LSTM(2, 3, device="cpu", dtype=fastdl.float64),
              nn.GRUCell(2, 3, True, "cpu", fastdl.float64),
              nn.LSTMCell(2, 3, True, "cpu", fastdl.float64),
              nn.RNNCell(2, 3, True, "tanh", "cpu", fastdl.float64),
              nn.Embedding(5, 2, device="cpu", dtype=fastdl.float64),
              nn.LayerNorm(3, device="cpu", dtype=fastdl.float64),
              nn.BatchNorm1d(3, device="cpu", dtype=fastdl.float64)]:
        assert all(p.dtype == np.float64 for p in m.parameters())


def test_module_to_double_float():
    torch = fastdl
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    w = m[0].weight
    assert m.to(torch.device("cpu")) is m
    m.double()
    assert w.dtype == np.float64 and m[1].running_mean.dtype == np.float64
    assert m[1].num_batches_tracked.dtype == np.int64
    out = m(torch.randn(5, 3, dtype=torch.float64))
    assert out.dtype == np.float64
    out.sum().backward()
    assert w.grad.dtype == np.float64
    m.float()
    assert w.dtype == np.float32 and w.grad.dtype == np.float32
    m.to("cpu", torch.float64)
    assert w.dtype == np.float64
    with pytest.raises(TypeError, match="float16"):
        m.half()
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating"):
        m.to(torch.int64)


def test_rnn_module_double_trains():
    lstm = nn.LSTM(2, 3, batch_first=True).double()
    out, (h, c) = lstm(fastdl.randn(4, 5, 2, dtype=fastdl.float64))
    assert out.dtype == np.float64
    out.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == np.float64 for p in lstm.parameters())
