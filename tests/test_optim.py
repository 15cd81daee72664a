"""fastdl.optim: fused optimizers against float64 NumPy references of PyTorch's
equations (written here, independently of the kernels) and against torch.optim when
torch is installed; thread-count determinism, state dicts, validation, LR schedules
and gradient clipping. The fused steps dispatch on the ISA: the NumPy-reference tests take
the `isa` fixture (tests/conftest.py)."""
import math
import warnings

import numpy as np
import pytest

import fastdl
from fastdl import optim
from fastdl.optim import lr_scheduler
from fastdl.nn import utils as nn_utils
from fastdl._C import optim as _k

STEPS = 20


# ---- float64 references: PyTorch's documented update equations ----------------------------

def ref_sgd(p, grads, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    p = p.astype(np.float64)
    buf = None
    for g in grads:
        d = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if weight_decay:
            d = d + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    b1, b2 = betas
    p = p.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        g = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2 ** t)
        else:
            vhat = v / (1 - b2 ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
    return p


def ref_adamw(p, grads, weight_decay=1e-2, **kw):
    return ref_adam(p, grads, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    p = p.astype(np.float64)
    v = np.zeros_like(p)
    gavg = np.zeros_like(p)
    buf = np.zeros_like(p)
    for g in grads:
        g = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if weight_decay:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            vt = v - gavg * gavg
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(vt) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
    return p


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p = p.astype(np.float64)
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, 1):
        g = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if weight_decay:
            g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    p = p.astype(np.float64)
    v = np.zeros_like(p)
    u = np.zeros_like(p)
    for g in grads:
        g = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if weight_decay:
            g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    return p


CASES = [
    ("SGD", ref_sgd, dict(lr=0.1)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", ref_sgd, dict(lr=0.1, weight_decay=0.05)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.8, weight_decay=0.01, maximize=True)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    ("Adam", ref_adam, dict(lr=0.01)),
    ("Adam", ref_adam, dict(lr=0.01, amsgrad=True)),
    ("Adam", ref_adam, dict(lr=0.01, weight_decay=0.1)),
    ("Adam", ref_adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("Adam", ref_adam, dict(lr=0.01, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("AdamW", ref_adamw, dict(lr=0.01)),
    ("AdamW", ref_adamw, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", ref_adamw, dict(lr=0.02, weight_decay=0.3, maximize=True)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, centered=True)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, momentum=0.9)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5,
                                  weight_decay=0.01)),
    ("RMSprop", ref_rmsprop, dict(lr=0.005, eps=1e-4, maximize=True)),
    ("Adagrad", ref_adagrad, dict(lr=0.1)),
    ("Adagrad", ref_adagrad, dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", ref_adagrad, dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", ref_adagrad, dict(lr=0.1, weight_decay=0.05, maximize=True)),
    ("Adadelta", ref_adadelta, dict()),
    ("Adadelta", ref_adadelta, dict(lr=0.5, rho=0.95)),
    ("Adadelta", ref_adadelta, dict(lr=1.0, eps=1e-4, weight_decay=0.05, maximize=True)),
]
IDS = ["%s-%s" % (name, "-".join("%s=%s" % kv for kv in kw.items()) or "defaults")
       for name, _, kw in CASES]


def _problem(n, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed + n)
    p0 = rng.standard_normal(n).astype(np.float32)
    # gradient scale varies per step so amsgrad's max and the averages matter
    grads = [(rng.standard_normal(n) * (0.5 + (t % 4))).astype(np.float32)
             for t in range(steps)]
    return p0, grads


def _run_fastdl(name, kw, p0, grads, shape=None):
    w = fastdl.tensor(p0.reshape(shape or p0.shape).copy(), requires_grad=True)
    opt = getattr(optim, name)([w], **kw)
    for g in grads:
        w.grad = fastdl.tensor(g.reshape(w.shape))
        opt.step()
    return w._data.reshape(-1).copy(), opt


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_against_numpy_reference(isa, name, ref, kw):
    p0, grads = _problem(257)
    got, _ = _run_fastdl(name, kw, p0, grads)
    want = ref(p0, grads, **kw)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("n", [1, 17, 1023])
@pytest.mark.parametrize("name,ref,kw", [CASES[i] for i in (2, 9, 13, 18, 22, 26)],
                         ids=[IDS[i] for i in (2, 9, 13, 18, 22, 26)])
def test_odd_sizes(isa, name, ref, kw, n):
    p0, grads = _problem(n, steps=7)
    got, _ = _run_fastdl(name, kw, p0, grads)
    np.testing.assert_allclose(got, ref(p0, grads, **kw), rtol=2e-5, atol=2e-5)


def test_multidim_parameter():
    p0, grads = _problem(6 * 35, steps=5)
    got, _ = _run_fastdl("Adam", dict(lr=0.01), p0, grads, shape=(6, 5, 7))
    np.testing.assert_allclose(got, ref_adam(p0, grads, lr=0.01), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_against_torch(name, ref, kw):
    torch = pytest.importorskip("torch")
    p0, grads = _problem(1000)
    got, opt = _run_fastdl(name, kw, p0, grads)
    tw = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    tkw = dict(kw, foreach=False)  # torch's single-tensor path: PyTorch's reference math
    topt = getattr(torch.optim, name)([tw], **tkw)
    for g in grads:
        tw.grad = torch.from_numpy(g.copy())
        topt.step()
    want = tw.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # the same state, under PyTorch's key names
    tstate = topt.state[tw]
    fstate = opt.state[next(iter(opt.state))]
    assert set(k for k, v in tstate.items() if v is not None) == set(fstate)
    for key, val in tstate.items():
        if val is None:
            continue
        want = val.detach().numpy()
        # float32 rounding of a buffer is relative to the buffer's scale
        scale = float(np.abs(want).max()) or 1.0
        np.testing.assert_allclose(np.asarray(fstate[key]), want, rtol=1e-6,
                                   atol=1e-6 * scale, err_msg=key)


THREAD_CASES = [CASES[i] for i in (6, 11, 13, 18, 23, 26)]


@pytest.mark.skipif(not fastdl._core.has_openmp(), reason="built without OpenMP")
@pytest.mark.parametrize("name,ref,kw", THREAD_CASES, ids=[c[0] for c in THREAD_CASES])
def test_bitwise_identical_across_thread_counts(name, ref, kw):
    n = (1 << 20) + 13  # 1M elements plus a ragged tail
    p0, grads = _problem(n, steps=3)
    old = fastdl.get_num_threads()
    try:
        results = []
        for nt in (1, 2):
            fastdl.set_num_threads(nt)
            p, opt = _run_fastdl(name, kw, p0, grads)
            state = opt.state[next(iter(opt.state))]
            results.append((p, {k: np.array(v) for k, v in state.items()}))
    finally:
        fastdl.set_num_threads(old)
    (p1, s1), (p2, s2) = results
    assert np.array_equal(p1, p2)
    assert not np.array_equal(p1, p0)
    for key in s1:
        assert np.array_equal(s1[key], s2[key]), key


# ---- the Optimizer API -----------------------------------------------------------------

def _param(shape=(4, 3), seed=0):
    rng = np.random.default_rng(seed)
    return fastdl.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)


def test_params_without_grad_are_skipped():
    a, b = _param(seed=1), _param(seed=2)
    b0 = b._data.copy()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = fastdl.ones(a.shape)
    opt.step()
    assert np.array_equal(b._data, b0)
    assert b not in opt.state and len(opt.state[a]) == 3


def test_param_groups_with_different_lr():
    p0, grads = _problem(50, steps=5)
    a = fastdl.tensor(p0.copy(), requires_grad=True)
    b = fastdl.tensor(p0.copy(), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["momentum"] == 0.9
    for g in grads:
        a.grad = fastdl.tensor(g)
        b.grad = fastdl.tensor(g)
        opt.step()
    np.testing.assert_allclose(a._data, ref_sgd(p0, grads, lr=0.1, momentum=0.9), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(b._data, ref_sgd(p0, grads, lr=0.01, momentum=0.9), rtol=1e-5,
                               atol=1e-6)


def test_add_param_group_and_errors():
    a, b = _param(seed=1), _param(seed=2)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)


def test_torch_only_flags_are_accepted():
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad,
                optim.Adadelta):
        cls([_param()], fused=True, foreach=False)


def test_zero_grad():
    a = _param()
    opt = optim.SGD([a], lr=0.1)
    a.grad = fastdl.ones(a.shape)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad._data.any()
    opt.zero_grad()
    assert a.grad is None


def test_step_returns_closure_loss():
    a = _param()
    opt = optim.SGD([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    before = a._data.copy()
    loss = opt.step(closure)
    np.testing.assert_allclose(float(loss.item()), float((before.astype(np.float64) ** 2).sum()),
                               rtol=1e-5)
    np.testing.assert_allclose(a._data, before - 0.1 * 2 * before, rtol=1e-6)


def test_integer_parameter_is_a_type_error():
    # float64 parameters are supported (issue 12); other dtypes are refused
    w = fastdl.tensor(np.ones(3), requires_grad=True, dtype=fastdl.float64)
    w._data = np.ones(3, np.int64)
    w.grad = fastdl.tensor(np.ones(3), dtype=fastdl.int64)
    with pytest.raises(TypeError, match="float32 or float64"):
        optim.Adam([w]).step()


@pytest.mark.parametrize("name,ref,kw", [CASES[i] for i in (3, 11, 13, 18, 22, 26)],
                         ids=[IDS[i] for i in (3, 11, 13, 18, 22, 26)])
def test_state_dict_round_trip_resumes_exactly(name, ref, kw):
    p0, grads = _problem(300, steps=10)
    a = fastdl.tensor(p0.copy(), requires_grad=True)
    opt = getattr(optim, name)([a], **kw)
    for g in grads[:5]:
        a.grad = fastdl.tensor(g)
        opt.step()
    sd = opt.state_dict()
    assert list(sd["state"]) == [0] and sd["param_groups"][0]["params"] == [0]
    mid = a._data.copy()
    for g in grads[5:]:
        a.grad = fastdl.tensor(g)
        opt.step()

    b = fastdl.tensor(mid.copy(), requires_grad=True)
    opt2 = getattr(optim, name)([b], lr=123.0)  # options come from the state dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g in grads[5:]:
        b.grad = fastdl.tensor(g)
        opt2.step()
    assert np.array_equal(a._data, b._data)


def test_load_torch_state_dict_and_resume():
    torch = pytest.importorskip("torch")
    p0, grads = _problem(200, steps=10)
    tw = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    topt = torch.optim.Adam([tw], lr=0.01, amsgrad=True, foreach=False)
    for g in grads[:5]:
        tw.grad = torch.from_numpy(g.copy())
        topt.step()
    tsd = topt.state_dict()
    sd = {"state": {i: {k: v.numpy().copy() for k, v in s.items()}
                    for i, s in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    w = fastdl.tensor(tw.detach().numpy().copy(), requires_grad=True)
    opt = optim.Adam([w])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["amsgrad"] and opt.param_groups[0]["lr"] == 0.01
    for g in grads[5:]:
        tw.grad = torch.from_numpy(g.copy())
        topt.step()
        w.grad = fastdl.tensor(g)
        opt.step()
    np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_load_state_dict_errors():
    a, b = _param(seed=1), _param(seed=2)
    opt = optim.Adam([a, b])
    a.grad = fastdl.ones(a.shape)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([a]).load_state_dict(sd)
    c = _param(shape=(5,))
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([c, b]).load_state_dict(sd)


INVALID = [
    (optim.SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (optim.SGD, dict(momentum=-1), "Invalid momentum value: -1"),
    (optim.SGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (optim.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (optim.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum"),
    (optim.Adam, dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (optim.Adam, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (optim.Adam, dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.AdamW, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (optim.RMSprop, dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    (optim.RMSprop, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.RMSprop, dict(eps=-1e-8), "Invalid epsilon value"),
    (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (optim.Adadelta, dict(lr=-1), "Invalid learning rate: -1"),
]


@pytest.mark.parametrize("cls,kw,msg", INVALID)
def test_invalid_hyperparameters(cls, kw, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        cls([_param()], **kw)


def test_kernel_wrapper_validation():
    p = np.zeros(8, np.float32)
    g = np.zeros(8, np.float32)
    with pytest.raises(ValueError, match="shape"):
        _k.sgd_step(p, np.zeros(7, np.float32), None, 0.1)
    with pytest.raises(TypeError, match="float32"):
        _k.sgd_step(p, np.zeros(8), None, 0.1)
    with pytest.raises(ValueError, match="contiguous"):
        _k.sgd_step(np.zeros(16, np.float32)[::2], g, None, 0.1)
    with pytest.raises(ValueError, match="momentum_buffer is required"):
        _k.sgd_step(p, g, None, 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="overlaps"):
        _k.adam_step(p, g, p, np.zeros(8, np.float32), None, 1, 0.1, 0.9, 0.99, 1e-8)
    with pytest.raises(ValueError, match="step"):
        _k.adam_step(p, g, np.zeros(8, np.float32), np.zeros(8, np.float32), None, 0, 0.1,
                     0.9, 0.99, 1e-8)


# ---- LR schedulers ---------------------------------------------------------------------

def _sched_opt(lr=0.1, cls=optim.SGD, groups=1, **kw):
    params = [_param(seed=i) for i in range(groups)]
    return cls([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], **kw)


def _lrs(sched, opt, n, metrics=None):
    out = [[g["lr"] for g in opt.param_groups]]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
    return np.array(out)


def test_closed_forms():
    opt = _sched_opt()
    got = _lrs(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), opt, 10)[:, 0]
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (e // 3) for e in range(11)], rtol=1e-12)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5, 8], gamma=0.1), opt, 10)[:, 0]
    want = [0.1 * 0.1 ** sum(m <= e for m in (2, 5, 5, 8)) for e in range(11)]
    np.testing.assert_allclose(got, want, rtol=1e-12)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), opt, 10)[:, 0]
    np.testing.assert_allclose(got, [0.1 * 0.9 ** e for e in range(11)], rtol=1e-12)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.01), opt, 8)[:, 0]
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 8)) / 2 for e in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4), opt, 8)[:, 0]
    want = [0.1 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-12)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3), opt, 6)[:, 0]
    np.testing.assert_allclose(got, [0.05] * 3 + [0.1] * 4, rtol=1e-12)

    opt = _sched_opt()
    got = _lrs(lr_scheduler.PolynomialLR(opt, total_iters=5, power=2.0), opt, 8)[:, 0]
    want = [0.1 * (1 - min(e, 5) / 5) ** 2 for e in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)

    opt = _sched_opt(groups=2)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    got = _lrs(sched, opt, 6)
    np.testing.assert_allclose(got[:, 0], [0.1 / (e + 1) for e in range(7)], rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], [0.2 * 0.5 ** e for e in range(7)], rtol=1e-12)


def test_one_cycle_closed_form():
    opt = _sched_opt(momentum=0.9)
    total = 20
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=total, pct_start=0.25)
    got = _lrs(sched, opt, total - 1)[:, 0]
    init, lo = 1.0 / 25, 1.0 / 25 / 1e4
    up = 0.25 * total - 1

    def cos(a, b, pct):
        return b + (a - b) / 2 * (1 + math.cos(math.pi * pct))

    want = [cos(init, 1.0, s / up) if s <= up else cos(1.0, lo, (s - up) / (total - 1 - up))
            for s in range(total)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="Tried to step"):
        opt.step()
        sched.step()
        sched.step()


def test_reduce_lr_on_plateau():
    opt = _sched_opt()
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                           min_lr=0.02)
    metrics = [1.0, 0.9] + [0.95] * 11
    got = _lrs(sched, opt, len(metrics), metrics)[1:, 0]
    # after the best (0.9), the 3rd bad epoch in a row reduces the rate; the epoch after
    # a reduction is cooldown and does not count; min_lr bounds the last reduction
    want = [0.1] * 4 + [0.05] * 4 + [0.025] * 4 + [0.02]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")


def test_scheduler_state_dict_round_trip():
    opt = _sched_opt()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    _lrs(sched, opt, 4)
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    rest = _lrs(sched, opt, 4)

    opt2 = _sched_opt()
    opt2.param_groups[0]["lr"] = rest[0, 0]
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(sd)
    opt2.param_groups[0]["lr"] = rest[0, 0]
    np.testing.assert_array_equal(_lrs(sched2, opt2, 4), rest)


def test_linear_lr_validation():
    opt = _sched_opt()
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        lr_scheduler.LinearLR(opt, end_factor=2)


def _torch_sched_cases():
    return [
        ("StepLR", dict(step_size=3, gamma=0.5), None, "SGD", {}),
        ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), None, "SGD", {}),
        ("ExponentialLR", dict(gamma=0.8), None, "SGD", {}),
        ("CosineAnnealingLR", dict(T_max=6, eta_min=0.001), None, "SGD", {}),
        ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=7), None, "SGD", {}),
        ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e), None, "SGD", {}),
        ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9 + 0.01 * e), None, "SGD", {}),
        ("ConstantLR", dict(factor=0.25, total_iters=4), None, "SGD", {}),
        ("PolynomialLR", dict(total_iters=10, power=2.0), None, "SGD", {}),
        ("OneCycleLR", dict(max_lr=0.5, total_steps=25), None, "SGD", dict(momentum=0.9)),
        ("OneCycleLR", dict(max_lr=[0.5, 0.3], epochs=5, steps_per_epoch=5, three_phase=True,
                            anneal_strategy="linear"), None, "Adam", {}),
        ("ReduceLROnPlateau", dict(mode="max", factor=0.3, patience=1, threshold=0.05,
                                   threshold_mode="abs", cooldown=2, min_lr=[0.001, 0.002]),
         [0.1, 0.2, 0.21, 0.22, 0.23, 0.5, 0.5, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
         "SGD", {}),
    ]


@pytest.mark.parametrize("case", _torch_sched_cases(), ids=lambda c: c[0])
def test_schedulers_against_torch(case):
    torch = pytest.importorskip("torch")
    name, kw, metrics, oname, okw = case
    steps = len(metrics) if metrics else 24
    opt = _sched_opt(cls=getattr(optim, oname), groups=2, **okw)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    ps = [torch.nn.Parameter(torch.zeros(2)) for _ in range(2)]
    topt = getattr(torch.optim, oname)([{"params": [p], "lr": 0.1 * (i + 1)}
                                        for i, p in enumerate(ps)], **okw)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    for i in range(steps):
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12)
        if oname == "Adam":
            assert [b for g in opt.param_groups for b in g["betas"]] == pytest.approx(
                [b for g in topt.param_groups for b in g["betas"]])
        if "momentum" in okw:
            assert [g["momentum"] for g in opt.param_groups] == pytest.approx(
                [g["momentum"] for g in topt.param_groups])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            topt.step()
            if metrics:
                sched.step(metrics[i])
                tsched.step(metrics[i])
            else:
                sched.step()
                tsched.step()


def test_sequential_lr_against_torch():
    torch = pytest.importorskip("torch")
    opt = _sched_opt()
    s1 = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
    s2 = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    sched = lr_scheduler.SequentialLR(opt, [s1, s2], milestones=[3])
    tp = torch.nn.Parameter(torch.zeros(2))
    topt = torch.optim.SGD([tp], lr=0.1)
    t1 = torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.1, total_iters=3)
    t2 = torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.9)
    tsched = torch.optim.lr_scheduler.SequentialLR(topt, [t1, t2], milestones=[3])
    for _ in range(10):
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        topt.step()
        sched.step()
        tsched.step()


# ---- gradient clipping -----------------------------------------------------------------

def _grads_params(seed=0, sizes=((7, 3), (1000,), (33,))):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in sizes:
        p = fastdl.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        p.grad = fastdl.tensor((rng.standard_normal(shape) * 3).astype(np.float32))
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    ps = _grads_params()
    ps.append(fastdl.tensor(np.ones(4, np.float32), requires_grad=True))  # grad None: skipped
    g0 = [p.grad._data.astype(np.float64) for p in ps[:-1]]
    flat = np.concatenate([g.ravel() for g in g0])
    if norm_type == math.inf:
        want = np.abs(flat).max()
    else:
        want = (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = nn_utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(float(total.item()), want, rtol=1e-6)
    coef = min(1.0, max_norm / (want + 1e-6))
    for p, g in zip(ps, g0):
        np.testing.assert_allclose(p.grad._data, g * coef, rtol=1e-6, atol=1e-7)
    assert ps[-1].grad is None


def test_clip_grad_norm_against_torch():
    torch = pytest.importorskip("torch")
    ps = _grads_params(seed=3)
    tps = [torch.nn.Parameter(torch.from_numpy(p._data.copy())) for p in ps]
    for p, tp in zip(ps, tps):
        tp.grad = torch.from_numpy(p.grad._data.copy())
    total = nn_utils.clip_grad_norm_(ps, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0)
    np.testing.assert_allclose(float(total.item()), float(ttotal), rtol=1e-6)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_value():
    ps = _grads_params(seed=1)
    ps[0].grad._data[0, 0] = np.nan
    g0 = [p.grad._data.copy() for p in ps]
    nn_utils.clip_grad_value_(ps, 0.75)
    for p, g in zip(ps, g0):
        np.testing.assert_array_equal(p.grad._data, np.clip(g, -0.75, 0.75))


def test_clip_grad_norm_float64_path():
    p = fastdl.tensor(np.ones(10), requires_grad=True, dtype=fastdl.float64)
    p.grad = fastdl.tensor(np.full(10, 2.0), dtype=fastdl.float64)
    total = nn_utils.clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(float(total.item()), math.sqrt(40), rtol=1e-6)
    np.testing.assert_allclose(p.grad._data, 2.0 / (math.sqrt(40) + 1e-6), rtol=1e-6)


def test_grad_sq_norm_deterministic_and_accurate():
    rng = np.random.default_rng(5)
    g = rng.standard_normal(3_000_017).astype(np.float32)
    want = float(np.sum(g.astype(np.float64) ** 2))
    old = fastdl.get_num_threads()
    try:
        vals = []
        for nt in (1, 2):
            fastdl.set_num_threads(nt)
            vals.append(_k.grad_sq_norm(g))
    finally:
        fastdl.set_num_threads(old)
    assert vals[0] == vals[1]
    assert abs(vals[0] - want) <= 1e-12 * want
    assert _k.grad_max_abs(g) == np.abs(g).max()


def test_batch_size_variants_example_converges():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "optim_batch_sizes.py"
    spec = importlib.util.spec_from_file_location("optim_batch_sizes", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    X, y, w_true = ex.make_problem()
    for bs, epochs, lr in ((len(X), 200, 0.1), (1, 3, 0.01), (32, 20, 0.05)):
        w, loss = ex.fit(X, y, bs, epochs, lr)
        np.testing.assert_allclose(w, w_true.ravel(), atol=0.01)
        assert loss < 2e-4


def test_step_with_epoch_uses_the_closed_form():
    opt = _sched_opt()
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7 and opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.25)


def test_l1_penalty_value_and_gradient():
    ps = _grads_params(seed=4)
    for p in ps:
        p.grad = None
    loss = nn_utils.l1_penalty(ps, 0.01)
    want = 0.01 * sum(np.abs(p._data.astype(np.float64)).sum() for p in ps)
    np.testing.assert_allclose(float(loss.item()), want, rtol=1e-5)
    loss.backward()
    for p in ps:
        np.testing.assert_allclose(p.grad._data, 0.01 * np.sign(p._data), rtol=1e-6)


# ---- float64 parameters (issue 12): the same formulas in float64 -------------------------

def _run_fastdl64(name, kw, p0, grads):
    w = fastdl.tensor(p0.astype(np.float64), requires_grad=True)
    opt = getattr(optim, name)([w], **kw)
    for g in grads:
        w.grad = fastdl.tensor(g.astype(np.float64))
        opt.step()
    assert w.dtype == np.float64 and all(
        v.dtype == np.float64 for v in opt.state[w].values()
        if isinstance(v, np.ndarray) and v.ndim)
    return w._data.copy()


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_float64_parameters_against_numpy_reference(name, ref, kw):
    p0, grads = _problem(33)
    np.testing.assert_allclose(_run_fastdl64(name, kw, p0, grads), ref(p0, grads, **kw),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,ref,kw", CASES[::3], ids=IDS[::3])
def test_float64_parameters_against_torch(name, ref, kw):
    torch = pytest.importorskip("torch")
    p0, grads = _problem(50)
    got = _run_fastdl64(name, kw, p0, grads)
    tw = torch.nn.Parameter(torch.from_numpy(p0.astype(np.float64)))
    topt = getattr(torch.optim, name)([tw], **dict(kw, foreach=False))
    for g in grads:
        tw.grad = torch.from_numpy(g.astype(np.float64))
        topt.step()
    np.testing.assert_allclose(got, tw.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mixed_dtype_gradient_refused():
    w = fastdl.zeros(3, dtype=fastdl.float64, requires_grad=True)
    w.grad = fastdl.ones(3)
    with pytest.raises(TypeError, match="expected float64 like its parameter"):
        optim.SGD([w], lr=0.1).step()
