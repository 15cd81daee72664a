"""The multi-tensor SGD step (fastdl._C.optim.sgd_step_many, used by optim.SGD once every
parameter of a group has its momentum buffer): checked against PyTorch's SGD equations in
float64, bit for bit against the per-parameter path, and on the layouts it must refuse."""
import numpy as np
import pytest

import fastdl
from fastdl import optim
from fastdl._C import optim as _copt


def _np(t):
    return t.detach().numpy()


def _sgd_ref(p, g, buf, first, lr, momentum, dampening, wd, nesterov, maximize):
    """PyTorch's SGD in float64, one parameter."""
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    if momentum:
        buf = g.copy() if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


KWS = [{}, {"momentum": 0.9}, {"momentum": 0.9, "weight_decay": 0.1},
       {"momentum": 0.5, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
       {"momentum": 0.9, "maximize": True, "weight_decay": 0.05}]


@pytest.fixture
def spy():
    calls = []
    real = _copt.sgd_step_many
    _copt.sgd_step_many = lambda *a, **k: calls.append(real(*a, **k)) or calls[-1]
    yield calls
    _copt.sgd_step_many = real


@pytest.mark.parametrize("kw", KWS)
def test_multi_tensor_sgd_matches_float64_reference(kw, rng, spy):
    shapes = [(7, 5), (5,), (1,), (3, 4, 2), (16, 3, 3, 3)]
    ps = [fastdl.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in shapes]
    opt = optim.SGD(ps, lr=0.05, **kw)
    ref = [[_np(p).astype(np.float64), None] for p in ps]
    for step in range(4):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for p, g in zip(ps, grads):
            p.grad = fastdl.tensor(g)
        opt.step()
        for r, g in zip(ref, grads):
            r[0], r[1] = _sgd_ref(r[0], g.astype(np.float64), r[1], step == 0, 0.05,
                                  kw.get("momentum", 0.0), kw.get("dampening", 0.0),
                                  kw.get("weight_decay", 0.0), kw.get("nesterov", False),
                                  kw.get("maximize", False))
        for p, r in zip(ps, ref):
            np.testing.assert_allclose(_np(p), r[0], rtol=1e-5, atol=1e-6)
    # with momentum the first step creates the buffers per parameter; without, every step
    # is one call
    assert spy == [True] * (3 if kw.get("momentum") else 4)


@pytest.mark.parametrize("kw", KWS)
def test_multi_tensor_sgd_equals_per_parameter_path(kw, spy, step_both_paths):
    (oa, a), (ob, b) = step_both_paths(optim.SGD, ((33, 17), (17,), (64, 64, 3, 3)), lr=0.1,
                                       **kw)
    assert spy and all(spy)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(_np(pa), _np(pb))
        if kw.get("momentum"):
            np.testing.assert_array_equal(oa.state[pa]["momentum_buffer"],
                                          ob.state[pb]["momentum_buffer"])


def test_multi_tensor_sgd_falls_back_on_odd_layouts(rng, spy):
    """A strided gradient, a float64 parameter, a parameter without grad, a parameter
    that gets its first gradient late: the per-parameter results, nothing updated twice."""
    w = fastdl.tensor(rng.standard_normal((4, 6)).astype(np.float32), requires_grad=True)
    d = fastdl.tensor(rng.standard_normal(3), requires_grad=True)           # float64
    n = fastdl.tensor(np.ones(2, np.float32), requires_grad=True)           # no grad
    late = fastdl.tensor(np.ones(5, np.float32), requires_grad=True)
    w2 = fastdl.tensor(_np(w).copy(), requires_grad=True)
    d2 = fastdl.tensor(_np(d).copy(), requires_grad=True)
    late2 = fastdl.tensor(np.ones(5, np.float32), requires_grad=True)
    opt = optim.SGD([w, d, n, late], lr=0.1, momentum=0.9)
    opt2 = optim.SGD([w2, d2, late2], lr=0.1, momentum=0.9)
    for step in range(4):
        gw = rng.standard_normal((6, 4)).astype(np.float32)
        w.grad = fastdl.tensor(gw).T if step == 2 else fastdl.tensor(gw.T.copy())
        w2.grad = fastdl.tensor(gw.T.copy())
        d.grad, d2.grad = fastdl.tensor(np.ones(3)), fastdl.tensor(np.ones(3))
        if step >= 2:
            late.grad = late2.grad = fastdl.tensor(np.full(5, 0.5, np.float32))
        opt.step()
        for group in opt2.param_groups:
            optim.Optimizer._step_group(opt2, group)
        for a, b in ((w, w2), (d, d2), (late, late2)):
            np.testing.assert_array_equal(_np(a), _np(b))
    assert n not in opt.state or not opt.state[n]
    np.testing.assert_array_equal(_np(n), np.ones(2, np.float32))
    assert False in spy         # the float64 parameter refuses the fused call


def test_sgd_step_many_refuses_without_touching(rng):
    p = rng.standard_normal(8).astype(np.float32)
    g = rng.standard_normal(8).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    p0, b0 = p.copy(), b.copy()
    bad = np.zeros(9, np.float32)          # wrong shape
    p2 = p.copy()
    assert not _copt.sgd_step_many([p2, p], [g, g], [b.copy(), bad], 0.1, 0.9)
    np.testing.assert_array_equal(p2, p0)
    assert not _copt.sgd_step_many([p], [p], [b], 0.1, 0.9)           # grad is the param
    assert not _copt.sgd_step_many([p], [g], [p], 0.1, 0.9)           # buffer is the param
    ro = g.copy()
    ro.flags.writeable = False
    assert not _copt.sgd_step_many([ro], [g], [b], 0.1, 0.9)          # read-only param
    assert not _copt.sgd_step_many([p], [g[::-1]], [b], 0.1, 0.9)     # strided grad
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(b, b0)
    with pytest.raises(ValueError, match="one entry per parameter"):
        _copt.sgd_step_many([p], [], [b], 0.1, 0.9)
    with pytest.raises(ValueError, match="one entry per parameter"):
        _copt.sgd_step_many([p], [g], [], 0.1, 0.9)
    assert _copt.sgd_step_many([p], [g], [], 0.1)                     # no momentum: no buffers
    np.testing.assert_allclose(p, p0 - 0.1 * g, rtol=1e-6, atol=1e-7)
    assert _copt.sgd_step_many([], [], [], 0.1, 0.9)
