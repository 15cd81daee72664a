"""Multi-output nodes, fastdl.autograd.Function and fastdl.autograd.grad."""
import numpy as np
import pytest

import fastdl
import fastdl.nn.functional as F
from fastdl.autograd import Function
from fastdl.testing import gradcheck


def leaf(rng, shape, low=-2.0, high=2.0):
    return fastdl.tensor(rng.uniform(low, high, size=shape), dtype=fastdl.float64,
                         requires_grad=True)


# ---- multi-output nodes ------------------------------------------------------------------

def test_split_pieces_share_one_node_and_sum_gradients(rng):
    x = leaf(rng, (7, 3))
    a, b, c = x.split([2, 4, 1])
    assert a.grad_fn is b.grad_fn is c.grad_fn
    w = rng.standard_normal((4, 3))
    (a * 2).sum().backward(retain_graph=True)
    expect = np.zeros((7, 3))
    expect[:2] = 2
    np.testing.assert_allclose(x.grad.numpy(), expect)
    x.grad = None
    (a.sum() * 3 + (b * fastdl.tensor(w)).sum()).backward()     # c unused
    expect = np.zeros((7, 3))
    expect[:2] = 3
    expect[2:6] = w
    np.testing.assert_allclose(x.grad.numpy(), expect)


def test_chunk_and_unbind_gradients_match_numpy(rng):
    x = leaf(rng, (5, 4))
    parts = x.chunk(2, dim=1)
    assert [p.shape for p in parts] == [(5, 2), (5, 2)]
    rows = x.unbind(0)
    assert len(rows) == 5 and rows[0].shape == (4,)
    np.testing.assert_array_equal(rows[3].detach().numpy(), x.detach().numpy()[3])
    loss = (parts[1] * parts[1]).sum() + rows[0].sum() * 5 + rows[4].sum()
    loss.backward()
    xd = x.detach().numpy()
    expect = np.zeros((5, 4))
    expect[:, 2:] = 2 * xd[:, 2:]
    expect[0] += 5
    expect[4] += 1
    np.testing.assert_allclose(x.grad.numpy(), expect)
    assert gradcheck(lambda t: tuple(t.unbind(1)), [leaf(rng, (3, 4))])
    assert gradcheck(lambda t: t.chunk(3, 0), [leaf(rng, (7, 2))])


def test_chunk_sizes_like_pytorch():
    x = fastdl.arange(10)
    assert [len(p) for p in fastdl.chunk(x, 3)] == [4, 4, 2]
    assert [len(p) for p in x.chunk(4)] == [3, 3, 3, 1]
    assert [len(p) for p in x.split(4)] == [4, 4, 2]


def test_max_dim_values_and_indices_one_node(rng):
    x = leaf(rng, (4, 5))
    v, i = x.max(1)
    assert not i.requires_grad and i.grad_fn is None
    v.sum().backward()
    expect = np.zeros((4, 5))
    expect[np.arange(4), x.detach().numpy().argmax(1)] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_lstm_output_and_states_used_together_and_unused(rng):
    fastdl.manual_seed(0)
    lstm = fastdl.nn.LSTM(3, 4, num_layers=2, dtype=np.float64)
    x = leaf(rng, (5, 2, 3))
    out, (h, c) = lstm(x)
    assert out.grad_fn is h.grad_fn is c.grad_fn          # one node, three outputs

    def grads(loss_fn):
        for p in list(lstm.parameters()) + [x]:
            p.grad = None
        out, (h, c) = lstm(x)
        loss_fn(out, h, c).backward()
        return [p.grad.numpy().copy() for p in list(lstm.parameters()) + [x]]

    both = grads(lambda o, h, c: (o * o).sum() + 3 * h.sum() + (c * c).sum())
    parts = [grads(lambda o, h, c: (o * o).sum()), grads(lambda o, h, c: 3 * h.sum()),
             grads(lambda o, h, c: (c * c).sum())]
    for k, g in enumerate(both):
        np.testing.assert_allclose(g, parts[0][k] + parts[1][k] + parts[2][k], rtol=1e-10,
                                   atol=1e-12)
    # only c_n used: the output and h_n get no gradient and backward still runs once
    assert gradcheck(lambda t: lstm(t)[1][1], [x])
    assert gradcheck(lambda t: (lstm(t)[0], lstm(t)[1][1]), [x])


def test_lstm_cell_both_outputs(rng):
    gates, c = leaf(rng, (2, 12)), leaf(rng, (2, 3))
    from fastdl.nn.rnn import lstm_cell
    assert gradcheck(lambda g, c: lstm_cell(g, c), [gates, c])
    assert gradcheck(lambda g, c: lstm_cell(g, c)[1], [gates, c])


def test_rnn_has_no_shared_zero_view_workaround():
    import inspect
    import fastdl.nn.rnn as rnn
    src = inspect.getsource(rnn)
    assert "g is zero" not in src and "_multi_output" not in src


def test_batch_norm_statistics_are_non_differentiable_outputs(rng):
    from fastdl.autograd._functions.nn import BatchNorm
    x = leaf(rng, (6, 3))
    w, b = leaf(rng, (3,)), leaf(rng, (3,))
    out, mean, rstd = BatchNorm.apply(x, w, b, None, None, True, 0.1, 1e-5)
    assert out.requires_grad and not mean.requires_grad and not rstd.requires_grad
    xd = x.detach().numpy()
    np.testing.assert_allclose(mean.numpy(), xd.mean(0))
    np.testing.assert_allclose(rstd.numpy(), 1 / np.sqrt(xd.var(0) + 1e-5))


# ---- autograd.Function ----------------------------------------------------------------

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    @fastdl.autograd.once_differentiable
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


class ScaledMul(Function):
    """(a * b * k, a + b): two outputs, a non-tensor argument."""

    @staticmethod
    def forward(ctx, a, k, b):
        ctx.save_for_backward(a, b)
        ctx.k = k
        ctx.seen = ctx.needs_input_grad
        return a * b * k, a + b

    @staticmethod
    def backward(ctx, g1, g2):
        a, b = ctx.saved_tensors
        ga = g1 * b * ctx.k + g2 if ctx.needs_input_grad[0] else None
        gb = g1 * a * ctx.k + g2 if ctx.needs_input_grad[2] else None
        return ga, None, gb


def test_custom_function_gradcheck(rng):
    x = leaf(rng, (3, 4))
    assert gradcheck(Cube.apply, [x])
    y = Cube.apply(x)
    assert y.grad_fn.name == "CubeBackward"
    a, b = leaf(rng, (5,)), leaf(rng, (5,))
    assert gradcheck(lambda a, b: ScaledMul.apply(a, 2.5, b), [a, b])
    assert gradcheck(lambda a, b: ScaledMul.apply(a, 2.5, b)[1], [a, b])   # one output unused


def test_needs_input_grad(rng):
    a = leaf(rng, (3,))
    b = fastdl.tensor(rng.standard_normal(3))
    p, s = ScaledMul.apply(a, 2.0, b)
    assert p.grad_fn.seen == (True, False, False)
    (p.sum() + s.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy() * 2 + 1)
    with fastdl.no_grad():
        p, _ = ScaledMul.apply(a, 2.0, b)
    assert p.grad_fn is None and not p.requires_grad


class SortWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        order = np.argsort(x.detach().numpy(), kind="stable")
        idx = fastdl.tensor(order)
        ctx.order = order
        vals = fastdl.tensor(x.detach().numpy()[order])
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        assert g_idx is None or not g_idx.numpy().any()
        gx = np.zeros_like(g.numpy())
        gx[ctx.order] = g.numpy()
        return fastdl.tensor(gx)


def test_non_differentiable_output(rng):
    x = leaf(rng, (6,))
    vals, idx = SortWithIndex.apply(x)
    assert vals.requires_grad and not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), np.argsort(x.detach().numpy(), kind="stable"))
    w = rng.standard_normal(6)
    (vals * fastdl.tensor(w)).sum().backward()
    expect = np.zeros(6)
    expect[idx.numpy()] = w
    np.testing.assert_allclose(x.grad.numpy(), expect)


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return fastdl.ones(7, dtype=fastdl.float64)


class TooFew(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return (g,)


class Broadcasting(Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()

    @staticmethod
    def backward(ctx, g):
        return g.expand(4, 3)       # (4, 3) for an input (1, 3): summed down, as in PyTorch


def test_wrong_gradients_raise_clear_errors(rng):
    x = leaf(rng, (3,))
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward returned an invalid gradient "
                                           r"at index 0 - got shape \(7,\)"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooFew.apply(leaf(rng, (3,)), leaf(rng, (3,))).sum().backward()
    a = leaf(rng, (1, 3))
    Broadcasting.apply(a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[4.0, 4.0, 4.0]])
    with pytest.raises(RuntimeError, match="apply"):
        Cube()


def test_saved_tensors_freed_after_backward(rng):
    x = leaf(rng, (3,))
    y = Cube.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


# ---- autograd.grad ---------------------------------------------------------------------

def test_grad_returns_without_touching_dot_grad(rng):
    x, y = leaf(rng, (3,)), leaf(rng, (3,))
    z = (x * y).sum() + (x * x).sum()
    gx, gy = fastdl.autograd.grad(z, (x, y))
    np.testing.assert_allclose(gx.numpy(), y.detach().numpy() + 2 * x.detach().numpy())
    np.testing.assert_allclose(gy.numpy(), x.detach().numpy())
    assert x.grad is None and y.grad is None


def test_grad_of_intermediate_and_unused(rng):
    x = leaf(rng, (3,))
    h = x * 3
    u = leaf(rng, (2,))
    out = (h * h).sum()
    gh, gu = fastdl.autograd.grad(out, [h, u], allow_unused=True, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    assert gu is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        fastdl.autograd.grad(out, [u], retain_graph=True)
    g, = fastdl.autograd.grad(out, [x], grad_outputs=fastdl.tensor(2.0, dtype=fastdl.float64))
    np.testing.assert_allclose(g.numpy(), 2 * 18 * x.detach().numpy())


def test_grad_create_graph_refused(rng):
    x = leaf(rng, (3,))
    with pytest.raises(NotImplementedError, match="create_graph"):
        fastdl.autograd.grad((x * x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        (x * x).sum().backward(create_graph=True)


def test_backward_inputs_accumulates_only_there(rng):
    x, y = leaf(rng, (3,)), leaf(rng, (3,))
    (x * y).sum().backward(inputs=[x])
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    assert y.grad is None


def test_functional_losses_and_layers_still_single_node(rng):
    x = leaf(rng, (4, 3))
    loss = F.mse_loss(x, fastdl.zeros(4, 3, dtype=fastdl.float64))
    assert loss.grad_fn.name == "MseLossBackward"
    assert gradcheck(lambda t: F.linear(t, fastdl.ones(2, 3, dtype=fastdl.float64)), [x])


def test_torch_function_api_agrees():
    torch = pytest.importorskip("torch")

    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x * x
    xs = np.array([0.5, -1.5, 2.0])
    tx = torch.tensor(xs, requires_grad=True)
    TCube.apply(tx).sum().backward()
    fx = fastdl.tensor(xs, requires_grad=True)
    Cube.apply(fx).sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy())


def test_backward_from_a_later_output_and_retain_grad_on_outputs(rng):
    fastdl.manual_seed(1)
    lstm = fastdl.nn.LSTM(3, 4, dtype=np.float64)
    x = leaf(rng, (4, 2, 3))
    g = rng.standard_normal((1, 2, 4))
    out, (h, c) = lstm(x)
    h.retain_grad()
    c.backward(fastdl.tensor(g))                 # the root is output 2 of the node
    direct = x.grad.numpy().copy()
    assert h.grad is None                         # no gradient reached h
    x.grad = None
    out, (h, c) = lstm(x)
    h.retain_grad()
    c.retain_grad()
    ((c * fastdl.tensor(g)).sum() + h.sum()).backward()
    np.testing.assert_array_equal(c.grad.numpy(), g)
    np.testing.assert_array_equal(h.grad.numpy(), np.ones((1, 2, 4)))
    x2 = x.detach().requires_grad_()
    out, (h2, c2) = lstm(x2)
    (c2 * fastdl.tensor(g)).sum().backward()
    np.testing.assert_allclose(direct, x2.grad.numpy(), rtol=1e-12)
