"""DLPack both ways: fastdl <-> NumPy (always) and fastdl <-> PyTorch (when installed).

Each case checks the values, that memory is shared (a write on one side is
seen on the other), and the shapes/strides the consumer sees."""
import numpy as np
import pytest

import fastdl
from fastdl.dlpack import to_dlpack


def _strided():
    """A non-contiguous float32 view: every other column of a 4x6 array, transposed."""
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    return base, base[:, ::2].T


# ---- NumPy ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_numpy_to_fastdl_shares_memory(dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    t = fastdl.from_dlpack(a)
    assert isinstance(t, fastdl.Tensor)
    assert t.shape == (3, 4) and t.dtype == a.dtype and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), a)
    a[1, 2] = 0 if dtype is np.bool_ else 99
    assert t[1, 2].item() == a[1, 2]
    assert np.shares_memory(t.numpy(), a)


def test_fastdl_to_numpy_shares_memory():
    t = fastdl.randn(3, 5)
    a = np.from_dlpack(t)
    assert a.shape == (3, 5) and a.dtype == np.float32
    a[0, 0] = 123.0
    assert t[0, 0].item() == 123.0
    t.add_(1.0)
    assert a[0, 0] == 124.0


def test_device_is_cpu():
    assert tuple(fastdl.zeros(2).__dlpack_device__()) == (1, 0)


def test_strides_travel_both_ways():
    base, view = _strided()
    t = fastdl.from_dlpack(view)
    assert t.shape == (3, 4) and t.numpy().strides == view.strides
    assert not t.is_contiguous()
    np.testing.assert_array_equal(t.numpy(), view)
    base[2, 4] = -1.0                      # view[2, 2]
    assert t[2, 2].item() == -1.0
    back = np.from_dlpack(t)
    assert back.strides == view.strides and np.shares_memory(back, base)
    # ops on the strided tensor compute on the right elements
    np.testing.assert_allclose((t * 2).numpy(), view * 2)


def test_fastdl_view_exports_as_view():
    t = fastdl.arange(24, dtype=fastdl.float32).reshape(4, 6)
    v = t.transpose(0, 1)[1:5]
    a = np.from_dlpack(v)
    np.testing.assert_array_equal(a, t.numpy().T[1:5])
    a[0, 0] = 500.0
    assert t[0, 1].item() == 500.0


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2)])
def test_zero_d_and_empty(shape):
    a = np.full(shape, 2.5, dtype=np.float32)
    t = fastdl.from_dlpack(a)
    assert t.shape == shape
    b = np.from_dlpack(t)
    assert b.shape == shape and b.dtype == np.float32
    if shape == ():
        assert t.item() == 2.5
        a[()] = 4.0
        assert t.item() == 4.0


def test_read_only_source_gives_read_only_tensor():
    a = np.arange(4, dtype=np.float32)
    a.flags.writeable = False
    t = fastdl.from_dlpack(a)
    assert not t.numpy().flags.writeable
    np.testing.assert_array_equal(t.numpy(), a)
    with pytest.raises(ValueError, match="read-only"):
        t.add_(1.0)
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    # out-of-place ops work
    np.testing.assert_array_equal((t + 1).numpy(), a + 1)


def test_read_only_tensor_export():
    a = np.arange(4, dtype=np.float32)
    a.flags.writeable = False
    t = fastdl.Tensor(a)
    # a DLPack >= 1.0 consumer gets the read-only flag (NumPy honours it) ...
    b = np.from_dlpack(t)
    assert not b.flags.writeable and np.shares_memory(a, b)
    # ... a legacy consumer cannot be told, so the export is refused, clearly
    with pytest.raises(BufferError, match="read-only.*clone"):
        to_dlpack(t)
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__()
    # a clone is writable and exports anywhere
    assert np.from_dlpack(t.clone()).flags.writeable


def test_requires_grad_refused():
    t = fastdl.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad.*detach"):
        np.from_dlpack(t)
    np.testing.assert_array_equal(np.from_dlpack(t.detach()), t.detach().numpy())


def test_stream_and_copy_arguments():
    t = fastdl.ones(3)
    with pytest.raises(BufferError, match="stream"):
        t.__dlpack__(stream=1)
    u = fastdl.from_dlpack(t.__dlpack__(stream=-1))      # a bare capsule
    assert np.shares_memory(u.numpy(), t.numpy())
    c = np.from_dlpack(t, copy=True)
    c[0] = 9.0
    assert t[0].item() == 1.0


def test_bad_input():
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        fastdl.from_dlpack([1.0, 2.0])

    class Gpu:
        def __dlpack__(self, **kw):
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (2, 0)           # kDLCUDA

    with pytest.raises(BufferError, match="CPU memory"):
        fastdl.from_dlpack(Gpu())


def test_from_dlpack_of_fastdl_tensor_shares():
    t = fastdl.randn(2, 2)
    u = fastdl.from_dlpack(t)
    u.mul_(0.0)
    assert t.sum().item() == 0.0


# ---- PyTorch -----------------------------------------------------------------------------

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("tdtype,ndtype", [("float32", np.float32), ("float64", np.float64),
                                           ("int64", np.int64), ("bool", np.bool_)])
def test_torch_to_fastdl(torch, tdtype, ndtype):
    tt = (torch.arange(12).reshape(3, 4) % 3).to(getattr(torch, tdtype))
    t = fastdl.from_dlpack(tt)
    assert t.shape == (3, 4) and t.dtype == ndtype
    np.testing.assert_array_equal(t.numpy(), tt.numpy())
    tt[2, 3] = 1
    assert t[2, 3].item() == 1
    assert t.numpy().ctypes.data == tt.data_ptr()


def test_fastdl_to_torch(torch):
    t = fastdl.randn(4, 3)
    tt = torch.from_dlpack(t)
    assert tuple(tt.shape) == (4, 3) and tt.dtype == torch.float32
    assert tt.data_ptr() == t.numpy().ctypes.data
    tt[1, 1] = 42.0
    assert t[1, 1].item() == 42.0
    t.mul_(2.0)
    assert tt[1, 1].item() == 84.0
    # torch's legacy entry point takes our capsule too
    from torch.utils.dlpack import from_dlpack as t_from
    tt2 = t_from(to_dlpack(t))
    assert tt2.data_ptr() == t.numpy().ctypes.data


def test_torch_strides_both_ways(torch):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    view = base[:, ::2].t()
    t = fastdl.from_dlpack(view)
    assert t.shape == (3, 4)
    assert t.numpy().strides == tuple(4 * s for s in view.stride())
    np.testing.assert_array_equal(t.numpy(), view.numpy())
    base[2, 4] = -7.0
    assert t[2, 2].item() == -7.0
    back = torch.from_dlpack(t)
    assert back.stride() == view.stride() and back.data_ptr() == view.data_ptr()

    f = fastdl.arange(24, dtype=fastdl.float32).reshape(4, 6).permute(1, 0)[::2]
    tf = torch.from_dlpack(f)
    assert tf.stride() == tuple(s // 4 for s in f.numpy().strides)
    np.testing.assert_array_equal(tf.numpy(), f.numpy())


def test_torch_zero_d_and_empty(torch):
    s = fastdl.from_dlpack(torch.tensor(3.5))
    assert s.shape == () and s.item() == 3.5
    e = fastdl.from_dlpack(torch.zeros(0, 3))
    assert e.shape == (0, 3)
    assert tuple(torch.from_dlpack(fastdl.zeros(2, 0)).shape) == (2, 0)
    assert torch.from_dlpack(fastdl.tensor(1.25)).item() == 1.25


def test_torch_legacy_capsule(torch):
    tt = torch.arange(5, dtype=torch.float64)
    t = fastdl.from_dlpack(torch.utils.dlpack.to_dlpack(tt))
    tt[0] = 10
    assert t[0].item() == 10.0


def test_torch_errors(torch):
    with pytest.raises(BufferError, match="from_dlpack: .*torch.Tensor.*detach"):
        fastdl.from_dlpack(torch.ones(2, requires_grad=True))
    with pytest.raises((RuntimeError, BufferError, TypeError),
                       match="from_dlpack: .*torch.Tensor of dtype torch.bfloat16"):
        fastdl.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(RuntimeError, match="requires grad"):
        torch.from_dlpack(fastdl.ones(2, requires_grad=True))


def test_torch_gradients_flow_after_import(torch):
    """A tensor imported from torch is an ordinary fastdl leaf: autograd works on it."""
    tt = torch.tensor([1.0, 2.0, 3.0])
    x = fastdl.from_dlpack(tt).requires_grad_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_from_dlpack_device_and_copy():
    a = np.arange(4, dtype=np.float32)
    a.flags.writeable = False
    c = fastdl.from_dlpack(a, copy=True)
    assert c.numpy().flags.writeable and not np.shares_memory(c.numpy(), a)
    c.add_(1.0)
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    s = fastdl.from_dlpack(a, device="cpu", copy=False)
    assert np.shares_memory(s.numpy(), a)
    with pytest.raises(ValueError, match="device must be None or 'cpu'"):
        fastdl.from_dlpack(a, device="cuda")
    with pytest.raises(ValueError, match="copy must be None, True or False"):
        fastdl.from_dlpack(a, copy="yes")
