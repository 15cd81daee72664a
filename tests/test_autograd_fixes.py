"""Regression tests for issue 14: 0-d tensors (finding 2), NaN that propagates (3),
writes through read-only memory (4). References are float64 NumPy, and PyTorch
when it is installed."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.testing import gradcheck

T = fastdl.tensor
NAN = float("nan")


def scalar(v, grad=True):
    return fastdl.tensor(v, dtype=fastdl.float64, requires_grad=grad)


# ---- finding 2: 0-d tensors ---------------------------------------------------------------

ACTS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "gelu": (F.gelu, None),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, np.tanh),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x))),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
}


@pytest.mark.parametrize("name", sorted(ACTS))
@pytest.mark.parametrize("v", [-0.7, 1.3])
def test_activation_of_0d_is_0d(name, v):
    fn, ref = ACTS[name]
    x = scalar(v)
    y = fn(x)
    assert y.shape == ()
    if ref is not None:
        np.testing.assert_allclose(y.item(), ref(np.float64(v)), rtol=1e-12)
    y.backward()
    assert x.grad.shape == ()
    assert gradcheck(fn, [scalar(v)])


def _sig(x):
    return 1 / (1 + np.exp(-x))


LOSSES = {
    "mse_loss": (lambda x, y: F.mse_loss(x, y, reduction="none"), lambda x, y: (x - y) ** 2),
    "l1_loss": (lambda x, y: F.l1_loss(x, y, reduction="none"), lambda x, y: abs(x - y)),
    "huber_loss": (lambda x, y: F.huber_loss(x, y, reduction="none"),
                   lambda x, y: 0.5 * (x - y) ** 2 if abs(x - y) < 1 else abs(x - y) - 0.5),
    "smooth_l1_loss": (lambda x, y: F.smooth_l1_loss(x, y, reduction="none"),
                       lambda x, y: 0.5 * (x - y) ** 2 if abs(x - y) < 1 else abs(x - y) - 0.5),
    "bce": (lambda x, y: F.binary_cross_entropy(F.sigmoid(x), y, reduction="none"),
            lambda x, y: -(y * np.log(_sig(x)) + (1 - y) * np.log(1 - _sig(x)))),
    "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
                        lambda x, y: np.log1p(np.exp(x)) - y * x),
    "kl_div": (lambda x, y: F.kl_div(x, y, reduction="none"), lambda x, y: y * (np.log(y) - x)),
    "hinge_embedding": (lambda x, y: F.hinge_embedding_loss(x, -fastdl.ones_like(y),
                                                            reduction="none"),
                        lambda x, y: max(0.0, 1.0 - x)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_pointwise_loss_of_0d_is_0d(name):
    fn, ref = LOSSES[name]
    x, y = scalar(0.3), fastdl.tensor(0.4, dtype=fastdl.float64)
    out = fn(x, y)
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), ref(0.3, 0.4), rtol=1e-10)
    out.backward()
    assert x.grad.shape == ()
    assert gradcheck(lambda t: fn(t, y), [scalar(0.3)])


def test_dropout_of_0d_is_0d():
    fastdl.manual_seed(3)
    for p, expect in ((0.0, 1.0), (1.0, 0.0)):
        x = scalar(1.5)
        y = F.dropout(x, p, True)
        assert y.shape == ()
        y.backward()
        assert x.grad.shape == () and x.grad.item() == expect
    x = scalar(1.5)
    y = F.dropout(x, 0.5, True)
    y.backward()
    assert y.shape == () and x.grad.item() in (0.0, 2.0)
    assert y.item() == 1.5 * x.grad.item()


def test_embedding_of_0d_index():
    w = fastdl.tensor(np.arange(15.0).reshape(5, 3), requires_grad=True)
    e = F.embedding(fastdl.tensor(2), w)
    assert e.shape == (3,)
    np.testing.assert_array_equal(e.detach().numpy(), [6.0, 7.0, 8.0])
    (e * fastdl.tensor([1.0, 2.0, 3.0], dtype=fastdl.float64)).sum().backward()
    expect = np.zeros((5, 3))
    expect[2] = [1, 2, 3]
    np.testing.assert_array_equal(w.grad.numpy(), expect)
    e2 = F.embedding(fastdl.tensor([[1, 4], [0, 1]]), w)
    assert e2.shape == (2, 2, 3)


def test_bce_accepts_0d_weight():
    p = fastdl.tensor([0.2, 0.7], dtype=fastdl.float64, requires_grad=True)
    y = fastdl.tensor([0.0, 1.0], dtype=fastdl.float64)
    out = F.binary_cross_entropy(p, y, weight=fastdl.tensor(2.0, dtype=fastdl.float64))
    ref = -2 * np.mean([np.log(0.8), np.log(0.7)])
    np.testing.assert_allclose(out.item(), ref, rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(p.grad.numpy(), [2 / 0.8 / 2, -2 / 0.7 / 2], rtol=1e-12)
    out = F.binary_cross_entropy_with_logits(scalar(0.5), T(1.0, dtype=fastdl.float64),
                                             weight=T(3.0, dtype=fastdl.float64),
                                             pos_weight=T(2.0, dtype=fastdl.float64))
    np.testing.assert_allclose(out.item(), 3 * 2 * np.log1p(np.exp(-0.5)), rtol=1e-12)


@pytest.mark.parametrize("op,grad", [
    (lambda x: x.mean(), 1.0),
    (lambda x: x.sum(), 1.0),
    (lambda x: x.var(correction=0), 0.0),
    (lambda x: x.std(correction=0), 0.0),
    (lambda x: x.clip(max=1.0), 0.0),
    (lambda x: x.clip(min=1.0), 1.0),
    (lambda x: fastdl.maximum(x, T(1.0, dtype=fastdl.float64)), 1.0),
    (lambda x: fastdl.minimum(x, T(1.0, dtype=fastdl.float64)), 0.0),
    (lambda x: x.amax(), 1.0),
    (lambda x: x.max(), 1.0),
])
def test_backward_through_reductions_of_0d(op, grad):
    x = scalar(2.0)
    y = op(x)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    np.testing.assert_allclose(x.grad.item(), grad)


def test_max_min_along_dim_of_0d():
    for op in ("max", "min"):
        x = scalar(2.5)
        v, i = getattr(x, op)(0)
        assert v.shape == () and i.shape == () and i.item() == 0 and v.item() == 2.5
        v.backward()
        assert x.grad.item() == 1.0
    with pytest.raises(IndexError, match="0-d"):
        scalar(1.0).max(1)


def test_var_std_of_0d_with_correction_is_nan_not_an_error():
    x = scalar(2.0)
    x.var().backward()           # N - 1 == 0: NaN like PyTorch, no exception
    assert np.isnan(x.grad.item())


def test_clip_of_a_sum_backward():
    p = fastdl.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().clip(max=10.0).backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0])
    p.grad = None
    (p * p).sum().clip(max=1.0).backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 0.0])


def test_0d_against_torch():
    torch = pytest.importorskip("torch")
    for name, (fn, _) in ACTS.items():
        x = scalar(0.3)
        fn(x).backward()
        tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
        tfn = getattr(torch.nn.functional, name)
        ty = tfn(tx)
        ty.backward()
        assert tuple(ty.shape) == fn(scalar(0.3)).shape
        np.testing.assert_allclose(x.grad.item(), tx.grad.item(), rtol=1e-6)


# ---- finding 3: NaN propagates ------------------------------------------------------------

def test_hinge_losses_and_kl_div_propagate_nan():
    x = T([NAN, 0.5, 2.0], dtype=fastdl.float64)
    y = T([-1.0, -1.0, 1.0], dtype=fastdl.float64)
    out = F.hinge_embedding_loss(x, y, reduction="none").numpy()
    assert np.isnan(out[0]) and np.allclose(out[1:], [0.5, 2.0])
    assert np.isnan(F.hinge_embedding_loss(x, y).item())
    out = F.hinge_loss(x, y, reduction="none").numpy()
    assert np.isnan(out[0]) and np.allclose(out[1:], [1.5, 0.0])
    assert np.isnan(F.hinge_loss(x, y).item())
    lp = T([-1.0, -1.0, -1.0], dtype=fastdl.float64)
    t = T([NAN, 0.5, 0.5], dtype=fastdl.float64)
    out = F.kl_div(lp, t, reduction="none").numpy()
    assert np.isnan(out[0])
    np.testing.assert_allclose(out[1:], 0.5 * (np.log(0.5) + 1.0))
    assert np.isnan(F.kl_div(lp, t, reduction="batchmean").item())


def test_row_losses_propagate_nan():
    a = T([[NAN, 1.0], [1.0, 2.0]], dtype=fastdl.float64)
    b = T([[1.0, 1.0], [0.0, 2.0]], dtype=fastdl.float64)
    c = T([[3.0, 1.0], [5.0, 2.0]], dtype=fastdl.float64)
    for args in ((a, b, c), (b, a, c), (b, c, a)):
        out = F.triplet_margin_loss(*args, reduction="none").numpy()
        assert np.isnan(out[0]) and not np.isnan(out[1])
        assert np.isnan(F.triplet_margin_loss(*args).item())
    for y in (-1.0, 1.0):
        out = F.cosine_embedding_loss(a, b, T([y, y], dtype=fastdl.float64),
                                      reduction="none").numpy()
        assert np.isnan(out[0]) and not np.isnan(out[1])
    ok = F.cosine_embedding_loss(b, c, T([-1.0, 1.0], dtype=fastdl.float64), reduction="none")
    cos = (b.numpy() * c.numpy()).sum(1) / np.linalg.norm(b.numpy(), axis=1) \
        / np.linalg.norm(c.numpy(), axis=1)
    np.testing.assert_allclose(ok.numpy(), [max(0.0, cos[0]), 1 - cos[1]], rtol=1e-10)


def test_std_backward_is_zero_where_std_is_zero():
    x = fastdl.tensor([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]], dtype=fastdl.float64,
                      requires_grad=True)
    s = x.std(dim=1)
    s.sum().backward()
    xd = x.detach().numpy()
    ref = (xd[1] - xd[1].mean()) / (xd[1].std(ddof=1) * 2)
    np.testing.assert_array_equal(x.grad.numpy()[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy()[1], ref, rtol=1e-12)
    np.testing.assert_allclose(s.detach().numpy(), xd.std(axis=1, ddof=1), rtol=1e-12)
    assert gradcheck(lambda t: t.std(dim=0, keepdim=True), [fastdl.tensor(
        np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)])


def test_nan_against_torch():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = np.array([NAN, 0.5, 2.0, -0.3])
    y = np.array([-1.0, -1.0, 1.0, -1.0])
    tx, ty = torch.tensor(x), torch.tensor(y)
    cases = [
        (F.hinge_embedding_loss(T(x), T(y), reduction="none"),
         tF.hinge_embedding_loss(tx, ty, reduction="none")),
        (F.kl_div(T(-np.abs(y)), T(np.abs(x)), reduction="none"),
         tF.kl_div(-ty.abs(), tx.abs(), reduction="none")),
        (F.kl_div(T(-np.abs(y)), T(np.abs(x)), reduction="batchmean"),
         tF.kl_div(-ty.abs(), tx.abs(), reduction="batchmean")),
    ]
    a = np.array([[NAN, 1.0], [1.0, 2.0], [0.5, -1.0]])
    b = np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 1.0]])
    c = np.array([[3.0, 1.0], [5.0, 2.0], [0.0, 0.5]])
    for args in ((a, b, c), (b, a, c), (b, c, a)):
        cases.append((F.triplet_margin_loss(*map(T, args), reduction="none"),
                      tF.triplet_margin_loss(*map(torch.tensor, args), reduction="none")))
    for yy in ([-1.0, -1.0, 1.0], [1.0, 1.0, -1.0]):
        cases.append((F.cosine_embedding_loss(T(a), T(b), T(yy), reduction="none"),
                      tF.cosine_embedding_loss(torch.tensor(a), torch.tensor(b),
                                               torch.tensor(yy), reduction="none")))
    for ours, ref in cases:
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    for shape, dim in (((2, 3), 1), ((3, 2), 0)):
        v = np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]).reshape(shape)
        tv = torch.tensor(v, requires_grad=True)
        tv.std(dim=dim).sum().backward()
        fv = fastdl.tensor(v, dtype=fastdl.float64, requires_grad=True)
        fv.std(dim=dim).sum().backward()
        np.testing.assert_allclose(fv.grad.numpy(), tv.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_0d_losses_against_torch():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    pairs = [(F.mse_loss, tF.mse_loss), (F.l1_loss, tF.l1_loss), (F.huber_loss, tF.huber_loss),
             (F.smooth_l1_loss, tF.smooth_l1_loss),
             (F.binary_cross_entropy_with_logits, tF.binary_cross_entropy_with_logits),
             (F.kl_div, tF.kl_div)]
    for ours, ref in pairs:
        x = scalar(0.3)
        out = ours(x, fastdl.tensor(0.4, dtype=fastdl.float64), reduction="none")
        out.backward()
        tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
        tout = ref(tx, torch.tensor(0.4, dtype=torch.float64), reduction="none")
        tout.backward()
        assert out.shape == tuple(tout.shape) == ()
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.item(), tx.grad.item(), rtol=1e-12)
    x = scalar(0.3)
    w = fastdl.tensor(2.0, dtype=fastdl.float64)
    out = F.binary_cross_entropy(x, fastdl.tensor(1.0, dtype=fastdl.float64), weight=w)
    tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    tout = tF.binary_cross_entropy(tx, torch.tensor(1.0, dtype=torch.float64),
                                   weight=torch.tensor(2.0, dtype=torch.float64))
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    for op in ("mean", "sum", "amax"):
        x, tx = scalar(2.0), torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        getattr(x, op)().backward()
        getattr(tx, op)().backward()
        np.testing.assert_allclose(x.grad.item(), tx.grad.item())
    x, tx = scalar(2.0), torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x.std(correction=0).backward()
    tx.std(correction=0).backward()
    np.testing.assert_allclose(x.grad.item(), tx.grad.item())


# ---- finding 4: read-only memory ----------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda x: x.__iadd__(1.0), lambda x: x.__imul__(2.0), lambda x: x.add_(1.0),
    lambda x: x.sub_(1.0), lambda x: x.div_(2.0), lambda x: x.zero_(), lambda x: x.fill_(3.0),
    lambda x: x.__setitem__(0, 5.0),
])
def test_inplace_on_read_only_storage_raises(op):
    buf = bytes(8)
    x = fastdl.Tensor(np.frombuffer(buf, np.float32))
    with pytest.raises(ValueError, match="read-only"):
        op(x)
    assert buf == bytes(8)
    assert np.all(x.numpy() == 0)


def test_inplace_on_writeable_storage_still_works():
    x = fastdl.Tensor(np.zeros(2, np.float32))
    x += 1.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


def test_read_only_grad_is_not_written_through():
    x = fastdl.tensor([1.0, 2.0], requires_grad=True)
    ro = np.zeros(2, np.float32)
    ro.flags.writeable = False
    x.grad = fastdl.Tensor(ro)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert np.all(ro == 0)


def test_gather_rows_out_read_only_and_aliasing():
    from fastdl.data import gather_rows
    src = np.arange(12, dtype=np.float32).reshape(4, 3)
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gather_rows(src, [1, 2], out=ro)
    assert np.all(ro == 0)
    a = src.copy()
    idx = np.array([3, 0, 2, 1])
    res = gather_rows(a, idx, out=a)
    assert res is a
    np.testing.assert_array_equal(a, src[idx])
    b = src.copy()
    res = gather_rows(b[1:], np.array([2, 0, 1]), out=b[:3])      # overlapping views
    np.testing.assert_array_equal(res, src[1:][[2, 0, 1]])
    with pytest.raises(ValueError, match="out must be"):
        gather_rows(src, [0], out=np.zeros((2, 3), np.float32))
