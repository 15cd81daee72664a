"""Backward of every differentiable op by finite differences (fastdl.testing.gradcheck,
float64), and the semantics of the backward walk."""
import numpy as np
import pytest

import fastdl
from fastdl.autograd import Node
from fastdl.tensor import Tensor
from fastdl.testing import GradcheckError, gradcheck


def leaf(rng, shape, low=-2.0, high=2.0):
    return fastdl.tensor(rng.uniform(low, high, size=shape), dtype=fastdl.float64,
                         requires_grad=True)


def away_from(rng, shape, points, gap=0.1, low=-2.0, high=2.0):
    """Uniform values kept at least gap from each of points (kinks of abs/clip)."""
    v = rng.uniform(low, high, size=shape)
    for p in points:
        near = np.abs(v - p) < gap
        v[near] = p + np.where(v[near] >= p, gap, -gap) * 2
    return fastdl.tensor(v, dtype=fastdl.float64, requires_grad=True)


def distinct(rng, shape):
    """Values with no ties (and gaps >= 0.01), so max/min are differentiable."""
    n = int(np.prod(shape))
    v = (rng.permutation(n) * 0.05 - n * 0.025).reshape(shape)
    return fastdl.tensor(v, dtype=fastdl.float64, requires_grad=True)


# ---- gradcheck over every op ---------------------------------------------------------------

# name -> (fn, input makers); each maker takes rng
CASES = {
    "add_bcast": (lambda a, b: a + b, [(3, 1, 4), (5, 1)]),
    "sub_bcast": (lambda a, b: a - b, [(4,), (3, 4)]),
    "mul_bcast": (lambda a, b: a * b, [(2, 3, 1), (1, 3, 5)]),
    "div_bcast": (lambda a, b: a / b, [(3, 4), ("pos", (4,))]),
    "add_scalar_both_sides": (lambda a: 2.0 + a - 1.5, [(5,)]),
    "mul_scalar_both_sides": (lambda a: 3.0 * a * 0.5, [(5,)]),
    "rdiv_scalar": (lambda a: 2.0 / a, [("pos", (7,))]),
    "array_operands": (lambda a: np.full((2, 5), 0.3) * a + np.arange(5.0), [(5,)]),
    "same_tensor_both_sides": (lambda a: a * a + a / (a * a + 1), [(6,)]),
    "neg": (lambda a: -a, [(3, 17)]),
    "pow2": (lambda a: a ** 2, [(17,)]),
    "pow3": (lambda a: a ** 3, [(17,)]),
    "pow_half": (lambda a: a ** 0.5, [("pos", (17,))]),
    "pow_neg": (lambda a: a ** -1.5, [("pos", (17,))]),
    "pow_zero": (lambda a: a ** 0, [(5,)]),
    "pow_one": (lambda a: a ** 1, [(5,)]),
    "rpow": (lambda a: 2.0 ** a, [(17,)]),
    "pow_tensor_tensor": (lambda a, b: a ** b, [("pos", (3, 4)), (4,)]),
    "pow_fn": (lambda a, b: fastdl.pow(a, b), [("pos", (4, 1)), (1, 3)]),
    "exp": (fastdl.exp, [(3, 17)]),
    "log": (fastdl.log, [("pos", (33,))]),
    "sqrt": (fastdl.sqrt, [("pos", (33,))]),
    "abs": (fastdl.abs, [("kinks", (33,), [0.0])]),
    "square": (fastdl.square, [(9,)]),
    "clip": (lambda a: fastdl.clip(a, -0.5, 0.7), [("kinks", (33,), [-0.5, 0.7])]),
    "clamp_min": (lambda a: a.clamp(min=0), [("kinks", (33,), [0.0])]),
    "clamp_max": (lambda a: a.clamp(max=0.3), [("kinks", (33,), [0.3])]),
    "maximum": (fastdl.maximum, [("distinct", (4, 5)), ("distinct_shift", (5,))]),
    "minimum": (fastdl.minimum, [("distinct", (4, 5)), ("distinct_shift", (4, 1))]),
    "maximum_scalar": (lambda a: fastdl.maximum(a, 0), [("kinks", (17,), [0.0])]),
    "sum_all": (lambda a: a.sum(), [(3, 4, 5)]),
    "sum_dim": (lambda a: a.sum(1), [(3, 4, 5)]),
    "sum_neg_keep": (lambda a: a.sum(-1, keepdim=True), [(3, 4, 5)]),
    "sum_tuple": (lambda a: a.sum((0, 2)), [(3, 4, 5)]),
    "sum_axis_kw": (lambda a: a.sum(axis=(0, -1), keepdims=True), [(3, 4, 5)]),
    "mean_all": (lambda a: a.mean(), [(3, 4, 5)]),
    "mean_tuple": (lambda a: a.mean((1, 2)), [(3, 4, 5)]),
    "mean_keep": (lambda a: a.mean(0, keepdim=True), [(3, 4, 5)]),
    "amax_all": (lambda a: a.amax(), [("distinct", (3, 4, 5))]),
    "amax_dims": (lambda a: a.amax((0, 2)), [("distinct", (3, 4, 5))]),
    "amin_keep": (lambda a: fastdl.amin(a, -1, keepdim=True), [("distinct", (3, 4, 5))]),
    "max_dim_values": (lambda a: a.max(1).values, [("distinct", (3, 4, 5))]),
    "min_dim_keep": (lambda a: fastdl.min(a, 0, keepdim=True)[0], [("distinct", (3, 4))]),
    "max_all": (lambda a: a.max(), [("distinct", (7,))]),
    "var_all": (lambda a: a.var(), [(4, 5)]),
    "var_dims": (lambda a: a.var((0, 2), keepdim=True), [(3, 4, 5)]),
    "var_biased": (lambda a: fastdl.var(a, 1, correction=0), [(3, 4, 5)]),
    "std_all": (lambda a: a.std(), [(4, 5)]),
    "std_dim": (lambda a: a.std(-1, unbiased=False), [(3, 6)]),
    "reshape": (lambda a: a.reshape(4, 6) * np.arange(24.0).reshape(4, 6), [(2, 3, 4)]),
    "view": (lambda a: a.view(-1), [(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 2), [(2, 3, 4)]),
    "permute": (lambda a: a.permute(1, 2, 0), [(2, 3, 4)]),
    "T": (lambda a: a.T, [(3, 5)]),
    "transposed_input": (lambda a, b: a.T * b, [(5, 3), (3, 5)]),
    "flatten": (lambda a: a.flatten(1), [(2, 3, 4)]),
    "squeeze": (lambda a: a.squeeze(), [(2, 1, 3, 1)]),
    "squeeze_dim": (lambda a: a.squeeze(1), [(2, 1, 3)]),
    "unsqueeze": (lambda a: a.unsqueeze(1) * np.ones((3, 2, 5)), [(3, 5)]),
    "expand": (lambda a: a.expand(2, 3, 4), [(3, 1)]),
    "expand_neg1": (lambda a: a.expand(-1, 6), [(4, 1)]),
    "getitem_int": (lambda a: a[1], [(3, 4)]),
    "getitem_slices": (lambda a: a[1:, ::2], [(4, 5)]),
    "getitem_negstep": (lambda a: a[::-1, 3:0:-2], [(4, 5)]),
    "getitem_none_ellipsis": (lambda a: a[None, ..., 1], [(2, 3, 4)]),
    "getitem_repeated": (lambda a: a[np.array([0, 2, 2, 0, 2])], [(3, 4)]),
    "getitem_repeated_2d": (lambda a: a[np.array([1, 1, 0]), np.array([2, 2, 3])], [(3, 4)]),
    "getitem_mixed": (lambda a: a[1:, np.array([0, 0, 3])], [(3, 4)]),
    "getitem_list": (lambda a: a[[2, 2, 1]], [(3, 4)]),
    "getitem_tensor_idx": (lambda a: a[fastdl.tensor([1, 1, 0])], [(3, 4)]),
    "getitem_mask": (lambda a: a[np.array([[True, False, True, True]] * 3)], [(3, 4)]),
    "cat": (lambda a, b: fastdl.cat([a, b, a], 1), [(2, 3), (2, 4)]),
    "cat_dim0": (lambda a, b: fastdl.cat([a, b]), [(2, 3), (1, 3)]),
    "stack": (lambda a, b: fastdl.stack([a, b, b], -1), [(2, 3), (2, 3)]),
    "split": (lambda a: fastdl.split(a, 2, 1), [(3, 5)]),
    "split_sections": (lambda a: a.split([1, 3], 0), [(4, 2)]),
    "where": (lambda a, b: fastdl.where(np.array([True, False, True, False]), a, b),
              [(3, 4), (4,)]),
    "where_scalar": (lambda a: fastdl.where(a > 0, a, 0.0), [("kinks", (3, 4), [0.0])]),
    "clone": (lambda a: a.clone() * 2, [(3, 4)]),
    "composite": (lambda a, b: ((a * b).sum(1) / a.std()).exp().mean(),
                  [(3, 4), (4,)]),
}


def _make_inputs(rng, specs):
    out = []
    for s in specs:
        if isinstance(s, tuple) and s and isinstance(s[0], str):
            kind, shape = s[0], s[1]
            if kind == "pos":
                out.append(leaf(rng, shape, 0.3, 2.0))
            elif kind == "kinks":
                out.append(away_from(rng, shape, s[2]))
            elif kind == "distinct":
                out.append(distinct(rng, shape))
            elif kind == "distinct_shift":
                t = distinct(rng, shape)
                out.append(fastdl.tensor(t.detach().numpy() + 0.0125, requires_grad=True))
        else:
            out.append(leaf(rng, s))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(rng, name):
    fn, specs = CASES[name]
    inputs = _make_inputs(rng, specs)
    assert gradcheck(fn, inputs)


def test_float32_gradients_match_float64(rng):
    x64 = leaf(rng, (4, 17))
    x32 = fastdl.tensor(x64.detach().numpy(), dtype=fastdl.float32, requires_grad=True)
    for x in (x64, x32):
        (fastdl.exp(x * 0.5).sum(1) / (x * x + 1).sum()).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=1e-4, atol=1e-6)


# ---- explicit gradient values against hand-written references -----------------------------------

def test_getitem_repeated_indices_accumulate():
    x = fastdl.zeros(4, dtype=fastdl.float64, requires_grad=True)
    x[np.array([0, 2, 2, 2, 3, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 3.0, 1.0])


def test_broadcast_backward_reduces_to_input_shape(rng):
    a = leaf(rng, (3, 1))
    b = leaf(rng, (1, 4))
    c = leaf(rng, ())
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4) and c.grad.shape == ()
    an, bn = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), np.broadcast_to(bn.sum(), (3, 1)))
    np.testing.assert_allclose(b.grad.numpy(), np.broadcast_to(an.sum(), (1, 4)))
    assert c.grad.item() == 12.0


def test_max_with_dim_sends_gradient_to_index():
    x = fastdl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    v, i = x.max(1)
    (v * fastdl.tensor([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 2, 0], [3, 0, 0]])
    assert not i.requires_grad


def test_amax_ties_split_gradient():
    x = fastdl.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


def test_maximum_ties_split_gradient():
    x = fastdl.tensor([1.0, 2.0, 0.0], requires_grad=True)
    y = fastdl.tensor([1.0, 0.0, 3.0], requires_grad=True)
    fastdl.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1, 0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 0, 1])


def test_pow_zero_exponent_gradient_is_zero_at_zero():
    x = fastdl.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_split_unused_chunk_gets_zero_gradient(rng):
    x = leaf(rng, (5, 2))
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    expect = np.zeros((5, 2))
    expect[2:4] = 3
    np.testing.assert_array_equal(x.grad.numpy(), expect)


# ---- backward semantics -------------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls(rng):
    x = leaf(rng, (3,))
    xn = x.detach().numpy().copy()
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * xn + 3)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.0))


def test_tensor_used_twice_gets_summed_gradient(rng):
    x = leaf(rng, (4,))
    xn = x.detach().numpy().copy()
    y = fastdl.exp(x)
    z = y * 2 + y.sum()          # y feeds two branches
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xn) * (2 + 4))


def test_diamond_graph(rng):
    x = leaf(rng, (3,))
    xn = x.detach().numpy().copy()
    a = x * 2
    b = a * a
    c = a + b
    c.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 + 2 * 2 * xn))


def test_second_backward_raises_unless_retain_graph(rng):
    x = leaf(rng, (3,))
    y = (fastdl.exp(x) * x).sum()
    y.backward()
    g1 = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), g1)      # nothing half-applied

    x.grad = None
    z = (fastdl.exp(x) * x).sum()
    z.backward(retain_graph=True)
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * g1)
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


def _nodes(t):
    seen, stack, out = set(), [t], []
    while stack:
        u = stack.pop()
        if u is None or id(u) in seen or u.grad_fn is None:
            continue
        seen.add(id(u))
        out.append(u.grad_fn)
        stack.extend(u.grad_fn.inputs)
    return out


def test_saved_buffers_freed_after_backward(rng):
    x = leaf(rng, (100,))
    loss = (fastdl.exp(x * 2) * x).sum()
    nodes = _nodes(loss)
    assert len(nodes) == 4 and all(n._fn is not None for n in nodes)
    loss.backward(retain_graph=True)
    assert all(n._fn is not None for n in nodes)
    loss.backward()
    assert all(n._fn is None for n in nodes)     # closures (and their buffers) dropped


def test_backward_on_non_scalar_without_gradient_raises(rng):
    x = leaf(rng, (3,))
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(gradient=fastdl.tensor([1.0, 2.0, 3.0], dtype=fastdl.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_with_wrong_gradient_shape_raises(rng):
    x = leaf(rng, (3,))
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        y.backward(gradient=fastdl.ones(2, dtype=fastdl.float64))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (fastdl.ones(3) * 2).sum().backward()


def test_no_grad_stops_recording(rng):
    x = leaf(rng, (3,))
    with fastdl.no_grad():
        y = x * 2 + 1
        z = fastdl.exp(x).sum()
        w = x[0:2]
    for t in (y, z, w):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf


def test_detach_cuts_the_graph(rng):
    x = leaf(rng, (3,))
    xn = x.detach().numpy().copy()
    y = x * 2
    z = (y.detach() * x).sum()         # only the direct x path flows
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * xn)
    assert y.grad is None


def test_leaf_and_nonleaf_grads(rng):
    x = leaf(rng, (3,))
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    y.retain_grad()
    (y * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0, 6.0])


def test_only_inputs_requiring_grad_get_grad(rng):
    x = leaf(rng, (3,))
    c = fastdl.ones(3, dtype=fastdl.float64)
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_grad_dtype_and_shape_match_leaf(rng):
    x = fastdl.ones(2, 3, requires_grad=True)
    (x.T * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)
    assert x.grad.is_leaf and not x.grad.requires_grad


# ---- gradcheck can fail ---------------------------------------------------------------------------

def _bad_square(x):
    """x**2 with a deliberately wrong backward (missing the factor 2)."""
    xd = x._data
    return Tensor._wrap(xd * xd, Node("BadSquare", (x,), lambda g: (g * xd,)))


def _good_square(x):
    xd = x._data
    return Tensor._wrap(xd * xd, Node("GoodSquare", (x,), lambda g: (2 * g * xd,)))


def test_gradcheck_fails_on_wrong_backward(rng):
    x = leaf(rng, (5,), 0.5, 2.0)
    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(_bad_square, [x])
    assert gradcheck(_bad_square, [x], raise_exception=False) is False
    assert gradcheck(_good_square, [x])


def test_gradcheck_fails_on_wrong_broadcast_backward(rng):
    a = leaf(rng, (3, 4))
    b = leaf(rng, (4,))

    def bad_mul(a, b):
        ad, bd = a._data, b._data
        # gradient for b taken from the first row only instead of summed over rows
        return Tensor._wrap(ad * bd, Node("BadMul", (a, b),
                                          lambda g: (g * bd, (g * ad)[0])))
    with pytest.raises(GradcheckError):
        gradcheck(bad_mul, [a, b])


def test_gradcheck_rejects_float32_and_no_grad_inputs():
    with pytest.raises(TypeError):
        gradcheck(lambda t: t * 2, [fastdl.ones(3, requires_grad=True)])
    with pytest.raises(ValueError):
        gradcheck(lambda t: t * 2, [fastdl.ones(3, dtype=fastdl.float64)])


def test_gradcheck_leaves_inputs_unchanged(rng):
    x = leaf(rng, (4,))
    before = x.detach().numpy().copy()
    gradcheck(fastdl.exp, [x])
    np.testing.assert_array_equal(x.detach().numpy(), before)


# ---- post-accumulate grad hooks (what DistributedDataParallel overlaps on) -------------------

def test_post_accumulate_hook_sees_complete_grad_once():
    w = fastdl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    # w is used by two ops: the hook runs once, after both contributions are summed
    ((w * 2).sum() + (w * w).sum()).backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [4.0, 6.0, 8.0])
    (w * 3).sum().backward()            # accumulates: the hook sees the running .grad
    np.testing.assert_array_equal(seen[1], [7.0, 9.0, 11.0])


def test_post_accumulate_hooks_run_last_layer_first_during_backward():
    fastdl.manual_seed(0)
    model = fastdl.nn.Sequential(fastdl.nn.Linear(4, 5), fastdl.nn.ReLU(),
                                 fastdl.nn.Linear(5, 3), fastdl.nn.ReLU(),
                                 fastdl.nn.Linear(3, 2))
    names = {id(p): n for n, p in model.named_parameters()}
    fired = []
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(
            lambda t: fired.append((names[id(t)], model[0].weight.grad is None)))
    model(fastdl.randn(6, 4)).sum().backward()
    order = [n for n, _ in fired]
    assert sorted(order) == sorted(names.values())
    # the last layer's parameters come first, the first layer's last...
    assert order.index("4.weight") < order.index("2.weight") < order.index("0.weight")
    # ...and the last layer's hooks ran before backward reached the first layer
    assert dict(fired)["4.weight"] is True and dict(fired)["4.bias"] is True


def test_hooks_leave_every_gradient_bitwise_unchanged():
    # early accumulation of hooked leaves must not change any gradient: the same
    # graph (shared weights, a tensor with three consumers, conv) with and without hooks
    def grads(hooked):
        fastdl.manual_seed(0)
        lin = fastdl.nn.Linear(6, 6)
        conv = fastdl.nn.Conv2d(1, 2, 3, padding=1)
        x = fastdl.randn(3, 1, 4, 4, requires_grad=True)
        params = list(lin.parameters()) + list(conv.parameters())
        if hooked:
            for p in params:
                p.register_post_accumulate_grad_hook(lambda t: None)
        h = fastdl.nn.functional.relu(conv(x)).reshape(3, 32)[:, :6]
        out = lin(fastdl.nn.functional.tanh(lin(h))) + lin(h)
        (out * out).mean().backward()
        return [p.grad.numpy().copy() for p in params] + [x.grad.numpy().copy()]

    for a, b in zip(grads(False), grads(True)):
        assert np.array_equal(a, b)


def test_hook_changing_grad_in_place_does_not_leak_into_other_gradients():
    # add's backward hands one array to both inputs; a hook that edits one leaf's .grad
    # in place must not change the other's
    a = fastdl.ones(3, requires_grad=True)
    b = fastdl.ones(3, requires_grad=True)
    a.register_post_accumulate_grad_hook(lambda t: t.grad.numpy().__imul__(10))
    c = fastdl.ones(3, requires_grad=True)
    h = c * 1.0
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [10, 10, 10])
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 1])
    (a + h).sum().backward()                 # the other holder is a non-leaf
    np.testing.assert_array_equal(c.grad.numpy(), [1, 1, 1])


def test_post_accumulate_hook_remove_and_errors():
    w = fastdl.ones(2, requires_grad=True)
    calls = []
    h = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    h.remove()
    (w * 2).sum().backward()
    assert calls == []
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        fastdl.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)
