"""matmul / @ forward against float64 NumPy and backward by finite differences.

Runs once fastdl._C.gemm (the GEMM kernels) is built into the tree."""
import numpy as np
import pytest

gemm = pytest.importorskip("fastdl._C.gemm")

import fastdl  # noqa: E402
from fastdl.testing import gradcheck  # noqa: E402

SHAPES = [
    ((3,), (3,)), ((5,), (5, 7)), ((4, 5), (5,)), ((1, 1), (1, 1)), ((3, 17), (17, 33)),
    ((33, 1), (1, 17)), ((17, 1000), (1000, 3)), ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 6)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)),
    ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((3, 4), (4, 0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sa, sb", SHAPES)
def test_matmul_forward(rng, dtype, sa, sb):
    # the GEMM kernels of every ISA are checked in test_gemm.py; here the
    # Tensor's shape rules (1-D operands, batch broadcasting) at the active ISA
    an = rng.uniform(-1, 1, sa).astype(dtype)
    bn = rng.uniform(-1, 1, sb).astype(dtype)
    a, b = fastdl.from_numpy(an), fastdl.from_numpy(bn)
    ref = np.matmul(an.astype(np.float64), bn.astype(np.float64))
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    r = a @ b
    assert r.dtype == dtype and r.shape == ref.shape
    np.testing.assert_allclose(r.numpy().astype(np.float64), ref, **tol)


@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5))])
def test_matmul_spellings_agree(rng, sa, sb):
    a = fastdl.from_numpy(rng.uniform(-1, 1, sa).astype(np.float32))
    b = fastdl.from_numpy(rng.uniform(-1, 1, sb).astype(np.float32))
    want = (a @ b).numpy()
    for r in (fastdl.matmul(a, b), a.matmul(b)):
        assert r.shape == want.shape
        np.testing.assert_array_equal(r.numpy(), want)


def test_matmul_transposed_views_and_arrays(rng):
    an = rng.uniform(-1, 1, (33, 17)).astype(np.float32)
    bn = rng.uniform(-1, 1, (33, 5)).astype(np.float32)
    a, b = fastdl.from_numpy(an), fastdl.from_numpy(bn)
    ref = an.T.astype(np.float64) @ bn.astype(np.float64)
    np.testing.assert_allclose((a.T @ b).numpy(), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose((an.T @ b).numpy(), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose((a.T[::2] @ b).numpy(), ref[::2], rtol=1e-4, atol=1e-4)


def test_matmul_integers():
    a = fastdl.tensor([[1, 2], [3, 4]])
    r = a @ a
    assert r.dtype == np.int64 and r.tolist() == [[7, 10], [15, 22]]


@pytest.mark.parametrize("sa, sb", [s for s in SHAPES if 0 not in s[0] + s[1]
                                    and np.prod(s[0]) * np.prod(s[1]) < 5000])
def test_matmul_gradcheck(rng, sa, sb):
    a = fastdl.tensor(rng.uniform(-1, 1, sa), requires_grad=True)
    b = fastdl.tensor(rng.uniform(-1, 1, sb), requires_grad=True)
    assert gradcheck(lambda x, y: x @ y, [a, b])


def test_matmul_gradcheck_one_side_and_transposed(rng):
    a = fastdl.tensor(rng.uniform(-1, 1, (5, 3)), requires_grad=True)
    c = fastdl.tensor(rng.uniform(-1, 1, (5, 4)))
    assert gradcheck(lambda x: x.T @ c, [a])
    assert gradcheck(lambda x: c.T @ x, [a])
    assert gradcheck(lambda x: (x @ x.T).sum(1), [a])


def test_matmul_grad_values(rng):
    an, bn = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4, 2))
    gn = rng.uniform(-1, 1, (3, 2))
    a = fastdl.tensor(an, requires_grad=True)
    b = fastdl.tensor(bn, requires_grad=True)
    (a @ b).backward(gradient=fastdl.tensor(gn))
    np.testing.assert_allclose(a.grad.numpy(), gn @ bn.T, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), an.T @ gn, rtol=1e-12)


@pytest.mark.parametrize("sa, sb", [((3, 4), (5, 6)), ((4,), (5,)), ((2, 3, 4), (2, 5, 6)),
                                    ((3, 4), (3,))])
def test_matmul_misaligned_names_both_shapes(sa, sb):
    with pytest.raises(ValueError) as e:
        fastdl.ones(*sa) @ fastdl.ones(*sb)
    msg = str(e.value)
    assert "matmul" in msg and str(sa) in msg and str(sb) in msg


def test_matmul_scalar_operand_raises():
    with pytest.raises(ValueError, match="matmul"):
        fastdl.tensor(2.0) @ fastdl.ones(3)
