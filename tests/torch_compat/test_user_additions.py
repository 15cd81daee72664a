"""Names added after the independent user check (issue 12): %, //, remainder, fmod,
floor_divide, fastdl.Size, normal(requires_grad=), load(weights_only=),
nn.utils.rnn.pad_sequence and the clear refusal of packed sequences.

Forward values are checked against Python's own arithmetic / float64 NumPy, gradients
by finite differences, and against torch when it is installed.
"""
import io

import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
from fastdl.nn.utils.rnn import (pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                 pad_sequence)

INTS = [-7, -3, -1, 0, 1, 2, 5, 9]
DIVS = [-4, -3, 2, 3, 5]


def _pairs():
    return [(a, b) for a in INTS for b in DIVS]


def test_integer_remainder_and_floor_divide_match_python():
    a = fastdl.tensor([p[0] for p in _pairs()])
    b = fastdl.tensor([p[1] for p in _pairs()])
    assert (a % b).dtype == np.int64 and (a // b).dtype == np.int64
    assert (a % b).tolist() == [x % y for x, y in _pairs()]
    assert (a // b).tolist() == [x // y for x, y in _pairs()]
    assert fastdl.remainder(a, b).tolist() == [x % y for x, y in _pairs()]
    c_fmod = [int(np.fmod(x, y)) for x, y in _pairs()]
    assert fastdl.fmod(a, b).tolist() == c_fmod and a.fmod(b).tolist() == c_fmod
    # scalar on either side, as the operators
    assert (a % 3).tolist() == [x % 3 for x, _ in _pairs()]
    assert (10 % b).tolist() == [10 % y for _, y in _pairs()]
    assert (10 // b).tolist() == [10 // y for _, y in _pairs()]


def test_float_values_and_dtypes():
    x = np.array([-5.5, -2.0, -0.25, 0.0, 0.75, 3.5, 7.0], np.float64)
    y = np.array([2.0, -1.5, 0.5, 3.0, -0.5, 2.5, 4.0], np.float64)
    for dt in (np.float32, np.float64):
        tx, ty = fastdl.tensor(x.astype(dt)), fastdl.tensor(y.astype(dt))
        r = tx % ty
        assert r.dtype == dt
        np.testing.assert_array_equal(r.numpy(), np.remainder(x.astype(dt), y.astype(dt)))
        np.testing.assert_array_equal((tx // ty).numpy(), np.floor(x / y).astype(dt))
        np.testing.assert_array_equal(fastdl.fmod(tx, ty).numpy(), np.fmod(x, y).astype(dt))
    # an int tensor with a float scalar is float32, as the other operators
    assert (fastdl.tensor([5, -5]) % 2.5).dtype == np.float32
    np.testing.assert_array_equal((fastdl.tensor([5, -5]) % 3.0).numpy(), [2.0, 1.0])


def test_integer_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError, match="remainder"):
        fastdl.tensor([1, 2]) % 0
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        fastdl.tensor([1, 2]) // fastdl.tensor([1, 0])
    with pytest.raises(TypeError, match="fmod: expected a Tensor"):
        fastdl.fmod(1, 2)
    # floats follow IEEE: nan
    assert np.isnan((fastdl.tensor([1.0]) % 0.0).item())


@pytest.mark.parametrize("op,q", [(fastdl.remainder, np.floor), (fastdl.fmod, np.trunc)])
def test_gradients_by_finite_differences(op, q):
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-5, 5, (3, 4))
    y0 = rng.uniform(0.5, 2.0, (4,)) * np.array([1, -1, 1, -1])
    x = fastdl.tensor(x0, requires_grad=True)
    y = fastdl.tensor(y0, requires_grad=True)
    w = rng.normal(size=(3, 4))
    (op(x, y) * fastdl.tensor(w)).sum().backward()

    def f(xv, yv):
        return float((np.remainder(xv, yv) if op is fastdl.remainder else np.fmod(xv, yv)).ravel()
                     @ w.ravel())
    eps = 1e-6
    gx = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        d = np.zeros_like(x0); d[i] = eps
        gx[i] = (f(x0 + d, y0) - f(x0 - d, y0)) / (2 * eps)
    gy = np.zeros_like(y0)
    for i in np.ndindex(y0.shape):
        d = np.zeros_like(y0); d[i] = eps
        gy[i] = (f(x0, y0 + d) - f(x0, y0 - d)) / (2 * eps)
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), gy, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), (-q(x0 / y0) * w).sum(0), rtol=1e-12)
    # floor_divide carries no gradient, as in PyTorch
    assert not (x // y).requires_grad


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.integers(-20, 20, 50)
    b = rng.integers(1, 7, 50) * rng.choice([-1, 1], 50)
    for fop, top in [(lambda p, q: p % q, lambda p, q: p % q),
                     (lambda p, q: p // q, lambda p, q: p // q),
                     (fastdl.fmod, torch.fmod), (fastdl.remainder, torch.remainder)]:
        assert fop(fastdl.tensor(a), fastdl.tensor(b)).tolist() == \
            top(torch.tensor(a), torch.tensor(b)).tolist()
        xf, yf = rng.normal(size=30) * 4, rng.normal(size=30)
        ours = fop(fastdl.tensor(xf), fastdl.tensor(yf)).numpy()
        ref = top(torch.tensor(xf), torch.tensor(yf)).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    x = torch.tensor([5.5, -3.25], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([2.0, 1.5], dtype=torch.float64, requires_grad=True)
    (torch.remainder(x, y) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    fx = fastdl.tensor([5.5, -3.25], dtype=fastdl.float64, requires_grad=True)
    fy = fastdl.tensor([2.0, 1.5], dtype=fastdl.float64, requires_grad=True)
    (fastdl.remainder(fx, fy) * fastdl.tensor([1.0, 2.0], dtype=fastdl.float64)).sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), x.grad.numpy())
    np.testing.assert_allclose(fy.grad.numpy(), y.grad.numpy())
    # pad_sequence
    seqs = [rng.normal(size=(n, 3)) for n in (4, 1, 3)]
    for bf in (False, True):
        for side in ("right", "left"):
            ours = pad_sequence([fastdl.tensor(s) for s in seqs], batch_first=bf,
                                padding_value=-2.0, padding_side=side).numpy()
            ref = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf,
                                                  padding_value=-2.0, padding_side=side).numpy()
            np.testing.assert_array_equal(ours, ref)


def test_size():
    t = fastdl.zeros(2, 3, 4)
    assert isinstance(t.shape, fastdl.Size) and isinstance(t.size(), fastdl.Size)
    assert t.shape == fastdl.Size([2, 3, 4]) == (2, 3, 4) and t.size(1) == 3
    assert t.shape.numel() == 24 == t.numel() and fastdl.Size([]).numel() == 1
    assert t.shape[1:] == (3, 4) and tuple(t.shape) == (2, 3, 4)
    assert repr(t.shape) == "(2, 3, 4)"


def test_normal_requires_grad():
    fastdl.manual_seed(0)
    w = fastdl.normal(0, 0.01, size=(2, 1), requires_grad=True)
    assert w.requires_grad and w.shape == (2, 1) and w.is_leaf
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[3.0], [3.0]])
    m = fastdl.normal(fastdl.zeros(3), 1.0, requires_grad=True)
    assert m.requires_grad
    assert not fastdl.normal(0.0, 1.0, size=(2,)).requires_grad


def test_load_weights_only():
    buf = io.BytesIO()
    fastdl.save({"w": fastdl.ones(2)}, buf)
    for flag in (None, True, False):
        buf.seek(0)
        assert fastdl.load(buf, weights_only=flag)["w"].tolist() == [1.0, 1.0]
    buf.seek(0)
    with pytest.raises(TypeError, match="weights_only must be None, True or False"):
        fastdl.load(buf, weights_only="yes")


def test_pad_sequence_values_and_gradient():
    a = fastdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = fastdl.tensor([4.0], requires_grad=True)
    p = pad_sequence([a, b])
    assert p.shape == (3, 2)
    np.testing.assert_array_equal(p.detach().numpy(), [[1, 4], [2, 0], [3, 0]])
    (p * fastdl.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(b.grad.numpy(), [10])
    left = pad_sequence([fastdl.tensor([1, 2]), fastdl.tensor([3])], batch_first=True,
                        padding_value=9, padding_side="left")
    assert left.tolist() == [[1, 2], [9, 3]] and left.dtype == np.int64
    assert nn.utils.rnn.pad_sequence is pad_sequence


def test_pad_sequence_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        pad_sequence([])
    with pytest.raises(ValueError, match="sequence 1 has shape"):
        pad_sequence([fastdl.zeros(2, 3), fastdl.zeros(2, 4)])
    with pytest.raises(TypeError, match="sequence 0 is a list"):
        pad_sequence([[1, 2]])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([fastdl.zeros(2)], padding_side="middle")


def test_packed_sequences_are_refused_clearly():
    for call in (lambda: pack_padded_sequence(fastdl.zeros(2, 3, 4), [3, 2], batch_first=True),
                 lambda: pack_sequence([fastdl.zeros(3, 4)]),
                 lambda: pad_packed_sequence(None)):
        with pytest.raises(NotImplementedError, match="packed sequences are not supported.*"
                                                      "pad_sequence"):
            call()
