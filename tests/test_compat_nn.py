"""nn layers and functional ops added for issue 12 (item 5): against float64 NumPy,
finite differences, and torch (same weights) when installed."""
import numpy as np
import pytest

import fastdl
from fastdl import nn
from fastdl.nn import functional as F
from fastdl.testing import gradcheck

rng = np.random.default_rng(0)


def d64(*shape):
    return fastdl.tensor(rng.standard_normal(shape), dtype=fastdl.float64, requires_grad=True)


def _copy_weights(ours, theirs):
    sd = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: fastdl.tensor(v) for k, v in sd.items()})


def _torch_pair(make_t, make_f):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = make_t(torch).double().eval()
    fm = make_f().double().eval()
    _copy_weights(fm, tm)
    return torch, tm, fm


# ---- functional, without torch ---------------------------------------------------------------

def test_sdpa_against_numpy_and_grad():
    q, k, v = d64(2, 3, 4), d64(2, 5, 4), d64(2, 5, 3)
    a = [t.detach().numpy() for t in (q, k, v)]
    s = a[0] @ a[1].transpose(0, 2, 1) / 2.0
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).detach().numpy(),
                               w @ a[2], rtol=1e-12)
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t), [q, k, v])
    qq = d64(1, 4, 2)
    causal = F.scaled_dot_product_attention(qq, qq, qq, is_causal=True)
    np.testing.assert_allclose(causal.detach().numpy()[0, 0], qq.detach().numpy()[0, 0])
    m = fastdl.tensor(np.tril(np.ones((4, 4), bool)))
    np.testing.assert_allclose(F.scaled_dot_product_attention(qq, qq, qq, attn_mask=m).detach().numpy(),
                               causal.detach().numpy(), rtol=1e-12)


def test_small_functionals():
    x = d64(3, 4)
    a = x.detach().numpy()
    np.testing.assert_allclose(F.normalize(x).detach().numpy(),
                               a / np.linalg.norm(a, axis=1, keepdims=True), rtol=1e-12)
    assert gradcheck(lambda t: F.normalize(t, dim=0), [x])
    y = d64(3, 4)
    b = y.detach().numpy()
    cs = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(F.cosine_similarity(x, y).detach().numpy(), cs, rtol=1e-12)
    assert gradcheck(F.cosine_similarity, [x, y])
    np.testing.assert_allclose(F.pairwise_distance(x, y).detach().numpy(),
                               np.linalg.norm(a - b + 1e-6, axis=-1), rtol=1e-12)
    assert F.one_hot(fastdl.tensor([[1, 0]]), 3).tolist() == [[[0, 1, 0], [1, 0, 0]]]
    assert F.one_hot(fastdl.tensor([2])).shape == (1, 3)
    with pytest.raises(RuntimeError, match="one_hot"):
        F.one_hot(fastdl.tensor([3]), 3)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    x = d64(2, 3, 4)
    padding = (1, 2, 2, 1)
    got = F.pad(x, padding, mode=mode)
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    want = np.pad(x.detach().numpy(), ((0, 0), (2, 1), (1, 2)), mode=np_mode)
    np.testing.assert_allclose(got.detach().numpy(), want)
    assert gradcheck(lambda t: F.pad(t, padding, mode=mode), [x])
    assert F.pad(x, (-1, 0)).shape == (2, 3, 3)


def test_interpolate_and_pools_grad():
    x = d64(1, 2, 3, 4)
    assert F.interpolate(x, scale_factor=2).shape == (1, 2, 6, 8)
    assert gradcheck(lambda t: F.interpolate(t, size=(5, 7), mode="bilinear"), [x])
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear",
                                             align_corners=True), [x])
    s = d64(2, 3, 7)
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2), [s])
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), [s])
    np.testing.assert_allclose(F.max_pool1d(s, 2).detach().numpy(),
                               s.detach().numpy()[..., :6].reshape(2, 3, 3, 2).max(-1))
    assert gradcheck(lambda t: F.group_norm(t, 3), [d64(2, 6, 3)])
    assert gradcheck(lambda t: F.instance_norm(t), [d64(2, 3, 5)])


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    x, w = d64(2, 3, 5, 6), d64(3, 4, 3, 2)
    y = d64(2, 4, 10, 12)     # (5 - 1) * 2 - 2 + 2 + 1 + 1, (6 - 1) * 2 + 1 + 1
    out = F.conv_transpose2d(x, w, stride=2, padding=(1, 0), output_padding=(1, 0))
    assert out.shape == y.shape
    # the adjoint identity <conv_transpose(x), y> == <x, conv(y)> with the same weight
    lhs = (out * y).sum().item()
    conv = F.conv2d(y, w, stride=2, padding=(1, 0))
    assert conv.shape == x.shape
    rhs = (x * conv).sum().item()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1),
                     [d64(1, 2, 3, 3), d64(2, 2, 3, 3)])
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, groups=2, dilation=2),
                     [d64(1, 4, 3, 3), d64(4, 1, 2, 2)])


def test_layers_run_and_train_mode():
    x = fastdl.randn(2, 4, 6, 6)
    for m, shape in [(nn.Dropout2d(0.5), (2, 4, 6, 6)), (nn.GroupNorm(2, 4), (2, 4, 6, 6)),
                     (nn.InstanceNorm2d(4, affine=True), (2, 4, 6, 6)),
                     (nn.Upsample(scale_factor=2), (2, 4, 12, 12)),
                     (nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
                      (2, 3, 12, 12))]:
        assert m(x).shape == shape
    fastdl.manual_seed(0)
    y = nn.Dropout2d(0.5)(fastdl.ones(8, 16, 3, 3))
    per_channel = y.numpy().reshape(8, 16, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))        # whole channels
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    assert nn.Dropout2d(0.5).eval()(x) is x
    pl = nn.ParameterList([nn.Parameter(fastdl.ones(2)), nn.Parameter(fastdl.ones(3))])
    assert [p.shape for p in pl.parameters()] == [(2,), (3,)]
    lstm = nn.LSTM(2, 3)
    assert lstm.flatten_parameters() is None
    from fastdl.nn.modules.linear import Linear
    from fastdl.nn.modules.loss import _Loss
    from fastdl.nn.modules.transformer import TransformerEncoderLayer
    assert Linear is nn.Linear and TransformerEncoderLayer is nn.TransformerEncoderLayer
    assert issubclass(nn.MSELoss, _Loss)


# ---- against torch -----------------------------------------------------------------------------

def test_multihead_attention_matches_torch():
    torch, tm, fm = _torch_pair(lambda t: t.nn.MultiheadAttention(8, 2, batch_first=True),
                                lambda: nn.MultiheadAttention(8, 2, batch_first=True))
    q, kv = rng.standard_normal((3, 4, 8)), rng.standard_normal((3, 6, 8))
    kpm = np.zeros((3, 6), bool)
    kpm[0, 4:] = True
    am = np.triu(np.ones((4, 6), bool), 3)
    for kw in [{}, {"key_padding_mask": kpm}, {"attn_mask": am},
               {"attn_mask": np.where(am, -np.inf, 0.0)}, {"average_attn_weights": False}]:
        tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        fk = {k: fastdl.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        to, tw = tm(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), **tk)
        fo, fw = fm(fastdl.tensor(q), fastdl.tensor(kv), fastdl.tensor(kv), **fk)
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(fw.detach().numpy(), tw.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    x = rng.standard_normal((5, 2, 8))        # self-attention, sequence first, causal
    tm2 = torch.nn.MultiheadAttention(8, 4).double()
    fm2 = nn.MultiheadAttention(8, 4).double()
    _copy_weights(fm2, tm2)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    tx = torch.tensor(x, requires_grad=True)
    fx = fastdl.tensor(x, requires_grad=True)
    to = tm2(tx, tx, tx, attn_mask=mask)[0]
    fo = fm2(fx, fx, fx, attn_mask=fastdl.tensor(mask.numpy()))[0]
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-10)
    (to * to).sum().backward()
    (fo * fo).sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(fm2.in_proj_weight.grad.numpy(),
                               tm2.in_proj_weight.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_layers_match_torch(norm_first):
    kw = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    torch, tm, fm = _torch_pair(
        lambda t: t.nn.Transformer(8, 2, 2, 2, batch_first=True, **kw),
        lambda: nn.Transformer(8, 2, 2, 2, batch_first=True, **kw))
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4).double()
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    to = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask,
            src_key_padding_mask=torch.tensor(kpm), memory_key_padding_mask=torch.tensor(kpm))
    fo = fm(fastdl.tensor(src), fastdl.tensor(tgt), tgt_mask=fastdl.tensor(mask.numpy()),
            src_key_padding_mask=fastdl.tensor(kpm), memory_key_padding_mask=fastdl.tensor(kpm))
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-10)
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu").double()
    fl = nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu").double()
    _copy_weights(fl, tl)
    x = rng.standard_normal((5, 3, 8))
    np.testing.assert_allclose(fl(fastdl.tensor(x)).detach().numpy(),
                               tl(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-10)


def test_norm_pool_resize_layers_match_torch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 6, 5, 7))
    s = rng.standard_normal((2, 6, 9))
    cases = [
        (lambda L: L.nn.GroupNorm(3, 6), x), (lambda L: L.nn.InstanceNorm2d(6, affine=True), x),
        (lambda L: L.nn.InstanceNorm1d(6), s), (lambda L: L.nn.MaxPool1d(3, 2, 1), s),
        (lambda L: L.nn.AvgPool1d(2), s), (lambda L: L.nn.AdaptiveAvgPool1d(4), s),
        (lambda L: L.nn.Upsample(scale_factor=2), x),
        (lambda L: L.nn.Upsample(size=(7, 4), mode="bilinear"), x),
        (lambda L: L.nn.Upsample(scale_factor=1.7, mode="bilinear", align_corners=True), x),
        (lambda L: L.nn.Upsample(size=13, mode="linear"), s),
        (lambda L: L.nn.Upsample(size=(3, 10), mode="nearest"), x),
        (lambda L: L.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1), x),
        (lambda L: L.nn.ConvTranspose2d(6, 4, (2, 3), stride=(1, 2), groups=2, dilation=2), x),
    ]
    for make, inp in cases:
        torch.manual_seed(0)
        tm, fm = make(torch).double(), make(fastdl).double()
        _copy_weights(fm, tm)
        ti = torch.tensor(inp, requires_grad=True)
        fi = fastdl.tensor(inp, requires_grad=True)
        to, fo = tm(ti), fm(fi)
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=repr(tm))
        w = rng.standard_normal(tuple(to.shape))
        (to * torch.tensor(w)).sum().backward()
        (fo * fastdl.tensor(w)).sum().backward()
        np.testing.assert_allclose(fi.grad.numpy(), ti.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=repr(tm))
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for name, kw in [("normalize", {"p": 3, "dim": 0}), ("cosine_similarity", {}),
                     ("pairwise_distance", {"p": 1.5})]:
        args = (a,) if name == "normalize" else (a, b)
        want = getattr(torch.nn.functional, name)(*map(torch.tensor, args), **kw).numpy()
        got = getattr(F, name)(*map(fastdl.tensor, args), **kw).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10)
    for mode in ["reflect", "replicate", "circular", "constant"]:
        want = torch.nn.functional.pad(torch.tensor(x), (2, 1, -1, 3), mode=mode) \
            if mode == "constant" else torch.nn.functional.pad(torch.tensor(x), (2, 1, 1, 3),
                                                               mode=mode)
        got = F.pad(fastdl.tensor(x), (2, 1, -1, 3) if mode == "constant" else (2, 1, 1, 3),
                    mode=mode)
        np.testing.assert_allclose(got.numpy(), want.numpy())
