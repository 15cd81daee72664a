"""Regression tests for the fault-finding pass (issue 14): one per finding
fixed here. Tests of bugs that crashed or hung the process run in a child
process (the run_isolated fixture), so a regression fails one test instead of
killing the suite."""
import numpy as np
import pytest

import fastdl
import fastdl.nn as nn
import fastdl.nn.functional as F


# ---- finding 1: max_pool2d wrote outside the gradient buffer -------------------------------

def test_max_pool2d_window_in_padding_gives_minus_inf_and_no_gradient(run_isolated):
    # dilation 2 puts the only window row of each output at h = -1 and h = 1,
    # both padding: -inf, index -1, and backward must route nothing (it used to
    # scatter sample 0's gradient into sample 1 and past the buffer)
    r = run_isolated("""
        import numpy as np, fastdl
        import fastdl.nn.functional as F
        x = fastdl.Tensor(np.zeros((2, 1, 1, 3), np.float32), requires_grad=True)
        o, i = F.max_pool2d(x, (2, 1), 1, (1, 0), (2, 1), return_indices=True)
        o.sum().backward()
        print(o.detach().numpy().ravel().tolist(), i.numpy().ravel().tolist(),
              x.grad.numpy().ravel().tolist())
        """)
    vals = r.stdout.strip()
    assert vals == "[-inf, -inf, -inf, -inf, -inf, -inf] [-1, -1, -1, -1, -1, -1] " \
                   "[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]", vals


def test_max_pool2d_long_all_padding_row_does_not_crash(run_isolated):
    r = run_isolated("""
        import numpy as np, fastdl
        import fastdl.nn.functional as F
        x = fastdl.Tensor(np.ones((1, 1, 1, 200000), np.float32), requires_grad=True)
        o = F.max_pool2d(x, (2, 1), 1, (1, 0), (2, 1))
        o.sum().backward()
        print(o.shape, bool(np.isneginf(o.detach().numpy()).all()), float(np.abs(x.grad.numpy()).sum()))
        """)
    assert r.stdout.split() == ["(1,", "1,", "1,", "200000)", "True", "0.0"], r.stdout


def test_max_pool2d_fuzzed_dilated_shape(run_isolated):
    # the fuzzer's shape: every window of this 3-d input lies in the padding rows
    r = run_isolated("""
        import numpy as np, fastdl
        import fastdl.nn.functional as F
        x = fastdl.Tensor(np.arange(20, dtype=np.float32).reshape(2, 1, 10), requires_grad=True)
        o, i = F.max_pool2d(x, (2, 3), (1, 3), (1, 1), (2, 2), return_indices=True)
        o.sum().backward()
        print(o.shape, np.isneginf(o.detach().numpy()).all(), (i.numpy() == -1).all(),
              float(np.abs(x.grad.numpy()).sum()))
        """)
    assert r.stdout.split() == ["(2,", "1,", "3)", "True", "True", "0.0"], r.stdout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_ceil_mode_2x2_stays_in_its_plane(run_isolated, dtype):
    # the 2x2 stride-2 fast path ignored ceil_mode's partial last window and
    # read (and routed gradients to) the next plane: plane 1 holds 50s, plane 0
    # zeros; plane 0's outputs must stay 0 with indices inside its 3x3 plane
    r = run_isolated("""
        import numpy as np, fastdl
        import fastdl.nn.functional as F
        x = np.zeros((2, 1, 3, 3), np.%s); x[1] = 50
        xt = fastdl.Tensor(x, requires_grad=True)
        o, i = F.max_pool2d(xt, 2, 2, ceil_mode=True, return_indices=True)
        o.sum().backward()
        print(o.detach().numpy()[0].ravel().tolist(), i.numpy()[0].ravel().tolist(),
              xt.grad.numpy()[0].sum(), xt.grad.numpy()[1].sum())
        """ % np.dtype(dtype).name)
    assert r.stdout.split() == ["[0.0,", "0.0,", "0.0,", "0.0]", "[0,", "2,", "6,", "8]",
                                "4.0", "4.0"], r.stdout


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pool2d_of_empty_spatial_input_is_an_error_not_garbage(pool):
    # found by the hypothesis suite: with H == 0 and padding the output had windows, but the
    # kernel ran over no plane and returned uninitialized memory
    x = fastdl.Tensor(np.zeros((2, 1, 0, 5), np.float32))
    with pytest.raises(ValueError, match=r"%s: expected an input with non-zero H and W, got "
                                         r"shape \(2, 1, 0, 5\)" % pool):
        getattr(F, pool)(x, (2, 1), 1, (1, 0))


# ---- finding 5: uint64 indices and labels above 2**63 wrapped to negative numbers ---------

_HUGE = np.array([2**64 - 1, 0], np.uint64)      # wraps to -1: a valid negative index
_IGNORED = np.array([2**64 - 100, 0], np.uint64)  # wraps to -100: cross_entropy's ignore_index


@pytest.mark.parametrize("make", [lambda a: a, fastdl.Tensor], ids=["ndarray", "Tensor"])
def test_uint64_index_above_int64_raises_in_getitem_and_setitem(make):
    x = fastdl.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(IndexError, match=r"getitem: index 18446744073709551615 \(dtype uint64\) "
                                         r"does not fit in int64"):
        x[make(_HUGE)]
    with pytest.raises(IndexError, match="setitem: index 18446744073709551615"):
        x[make(_HUGE)] = 5.0
    assert x.numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    # in range uint64 indices still index
    assert x[make(np.array([1], np.uint64))].numpy().tolist() == [[3, 4, 5]]


def test_uint64_gather_rows_index_above_int64_raises():
    src = np.arange(6, dtype=np.float32).reshape(3, 2)
    with pytest.raises(IndexError, match="gather_rows: index 18446744073709551615"):
        fastdl.data.gather_rows(src, _HUGE)
    assert fastdl.data.gather_rows(src, np.array([2, 0], np.uint64)).tolist() == [[4, 5], [0, 1]]


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "multi_margin_loss"])
@pytest.mark.parametrize("target", [_HUGE, _IGNORED], ids=["minus1", "minus100"])
def test_uint64_class_label_above_int64_raises(loss, target):
    x = fastdl.Tensor(np.log(np.full((2, 3), 1 / 3, np.float32)))
    with pytest.raises(ValueError, match="%s: target class index %d" % (loss, int(target[0]))):
        getattr(F, loss)(x, target)
    with pytest.raises(ValueError, match="does not fit in int64"):
        getattr(F, loss)(x, fastdl.Tensor(target))
    # uint64 labels in range: the same loss as int64 labels
    ok = np.array([2, 0], np.uint64)
    assert float(getattr(F, loss)(x, ok)) == pytest.approx(
        float(getattr(F, loss)(x, ok.astype(np.int64))))


def test_uint64_metric_labels_above_int64_raise():
    preds = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    m = fastdl.metrics.Accuracy()
    with pytest.raises(ValueError, match="Accuracy.update: target label 18446744073709551615"):
        m.update(preds, _HUGE)
    with pytest.raises(ValueError, match="confusion_matrix: y_true label 18446744073709551615"):
        fastdl.metrics.confusion_matrix(_HUGE, np.array([0, 1]))


# ---- finding 6: unclear errors (ZeroDivisionError, "invalid argument (status -1)") ---------

@pytest.mark.parametrize("make, exc, msg", [
    (lambda: nn.Conv2d(3, 0, 3), ValueError, r"Conv2d: out_channels must be positive, got 0"),
    (lambda: nn.Conv2d(3, 4, 0), ValueError, r"Conv2d: kernel_size must be positive, got 0"),
    (lambda: nn.Conv2d(3, 4, (3, -1)), ValueError, r"Conv2d: kernel_size must be positive, got -1"),
    (lambda: nn.Conv2d(3, 4, 3, stride=0), ValueError, r"Conv2d: stride must be positive, got 0"),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), ValueError, r"Conv2d: padding must be >= 0, got -1"),
    (lambda: nn.Conv2d(3, 4, 3, dilation=0), ValueError, r"Conv2d: dilation must be positive"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, r"Conv2d: groups must be positive, got 0"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, r"Conv2d: in_channels \(3\) and "
                                                       r"out_channels \(4\) must be divisible"),
    (lambda: nn.Conv2d(3.5, 4, 3), TypeError, r"Conv2d: in_channels must be an integer, got 3.5"),
    (lambda: nn.Conv2d(3, 4, 3, padding="foo"), ValueError, r"Conv2d: invalid padding string"),
    (lambda: nn.Conv2d(3, 4, 3, padding="same", stride=2), ValueError,
     r"Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv1d(3, 4, (3, 3)), ValueError, r"Conv1d: kernel_size must be an int or a "
                                                  r"sequence of 1 ints, got \(3, 3\)"),
    (lambda: nn.Linear(-1, 4), ValueError, r"Linear: in_features must be >= 0, got -1"),
    (lambda: nn.Linear(3, 2.0), TypeError, r"Linear: out_features must be an integer, got 2.0"),
    (lambda: nn.Embedding(-1, 4), ValueError, r"Embedding: num_embeddings must be >= 0, got -1"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), ValueError,
     r"Embedding: padding_idx must be within num_embeddings \(4\), got 4"),
    (lambda: nn.BatchNorm2d(-2), ValueError, r"BatchNorm2d: num_features must be >= 0, got -2"),
], ids=lambda v: None)
def test_layer_constructor_errors_name_layer_argument_and_value(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make()


def test_zero_input_channels_conv_is_its_bias_like_an_empty_sum():
    # nn.Conv2d(0, ...) raised ZeroDivisionError in its init; PyTorch builds it (its init is
    # a no-op on zero-element weights). Every output sums over no input: out = bias.
    with pytest.warns(UserWarning, match="zero-element"):
        m = nn.Conv2d(0, 4, 3, padding=1)
    b = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    m.bias._data[...] = b
    x = fastdl.Tensor(np.zeros((2, 0, 5, 6), np.float32), requires_grad=True)
    out = m(x)
    assert out.shape == (2, 4, 5, 6)
    np.testing.assert_array_equal(out.detach().numpy(), np.broadcast_to(b[None, :, None, None],
                                                                         (2, 4, 5, 6)))
    (out * fastdl.Tensor(np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1))).sum().backward()
    assert x.grad.shape == (2, 0, 5, 6) and m.weight.grad.shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(m.bias.grad.numpy(), np.arange(4) * 2 * 5 * 6)


def test_zero_size_spatial_input_with_padding_is_its_bias():
    w = fastdl.Tensor(np.ones((2, 3, 1, 1), np.float64))
    b = fastdl.Tensor(np.array([0.25, -1.0]))
    out = F.conv2d(fastdl.Tensor(np.zeros((1, 3, 0, 4))), w, b, padding=1)
    assert out.shape == (1, 2, 2, 6)
    np.testing.assert_array_equal(out.numpy()[0, :, 0, 0], [0.25, -1.0])


def test_linear_with_zero_in_features_is_its_bias():
    with pytest.warns(UserWarning, match="zero-element"):
        m = nn.Linear(0, 3)
    np.testing.assert_array_equal(m.bias.detach().numpy(), 0)   # PyTorch: bound 0
    x = fastdl.Tensor(np.zeros((2, 0), np.float32), requires_grad=True)
    out = m(x)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    np.testing.assert_array_equal(m.bias.grad.numpy(), [2, 2, 2])


@pytest.mark.parametrize("x_shape, w_shape, msg", [
    ((2, 3, 5, 5), (0, 3, 3, 3), r"conv2d: weight must have at least one output channel \(dim 0"
                                 r"\), got weight of shape \(0, 3, 3, 3\)"),
    ((2, 3, 5, 5), (4, 3, 0, 3), r"conv2d: kernel size must be positive, got weight of shape "
                                 r"\(4, 3, 0, 3\)"),
    ((2, 3, 0, 5), (4, 3, 3, 3), r"conv2d: kernel size \(3, 3\) with dilation \(1, 1\) is larger "
                                 r"than the padded input \(0, 5\)"),
])
def test_zero_size_conv2d_errors_are_words_not_a_status(x_shape, w_shape, msg):
    with pytest.raises(ValueError, match=msg) as e:
        F.conv2d(fastdl.Tensor(np.ones(x_shape, np.float32)),
                 fastdl.Tensor(np.ones(w_shape, np.float32)))
    assert "status" not in str(e.value)


def test_conv1d_errors_speak_of_its_own_shapes():
    with pytest.raises(ValueError, match=r"conv1d: kernel size \(3,\) with dilation \(1,\) is "
                                         r"larger than the padded input \(0,\) \(input \(2, 3, 0\)"):
        F.conv1d(fastdl.Tensor(np.ones((2, 3, 0), np.float32)),
                 fastdl.Tensor(np.ones((4, 3, 3), np.float32)))
    with pytest.raises(TypeError, match=r"conv1d: stride must be an int or a sequence of 1 ints, "
                                        r"got 'a'"):
        F.conv1d(fastdl.Tensor(np.ones((2, 3, 5), np.float32)),
                 fastdl.Tensor(np.ones((4, 3, 3), np.float32)), stride="a")


@pytest.mark.parametrize("cls, n", [(nn.Conv2d, 2), (nn.Conv1d, 1)])
def test_conv_layers_accept_padding_strings(cls, n):
    # Conv2d(padding='same') used to fail in int('same')
    m = cls(3, 4, 3, padding="same")
    x = fastdl.Tensor(np.ones((2, 3) + (5,) * n, np.float32))
    assert m(x).shape == (2, 4) + (5,) * n
    assert "padding='same'" in repr(m)
    assert cls(3, 4, 3, padding="valid")(x).shape == (2, 4) + (3,) * n


# ---- finding 8: fork after OpenMP hung in libgomp ------------------------------------------

_THREADED_PARENT = """
import os, warnings, numpy as np, fastdl
fastdl.set_num_threads(2)
rng = np.random.default_rng(0)
a = fastdl.Tensor(rng.standard_normal((384, 384)).astype(np.float32))
x = fastdl.Tensor(rng.standard_normal(1 << 20).astype(np.float32))

def work(i):
    # a GEMM and a large elementwise + reduction: both take the threaded path
    return float((a @ a).sum()) + float((x * float(i) + 1.0).sum())

parent = [work(i) for i in range(4)]    # OpenMP teams of 2 have run
"""


def test_fork_after_threaded_kernels_runs_serially(run_isolated):
    r = run_isolated(_THREADED_PARENT + """
pid = os.fork()
if pid == 0:
    ok = fastdl.get_num_threads() == 1 and [work(i) for i in range(4)] == parent
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), fastdl.get_num_threads())
""", timeout=60)
    # same results bitwise (determinism across thread counts), parent keeps its threads
    assert r.stdout.split() == ["0", "2"], r.stdout


def test_multiprocessing_fork_pool_after_threaded_kernels(run_isolated):
    r = run_isolated(_THREADED_PARENT + """
import multiprocessing as mp
with mp.get_context("fork").Pool(2) as pool:
    child = pool.map(work, range(4))
print(child == parent, pool is not None)
""", timeout=90)
    assert r.stdout.split() == ["True", "True"], r.stdout + r.stderr


def test_forked_child_cannot_restart_threads_and_says_so(run_isolated):
    if not fastdl.config()["openmp"]:
        pytest.skip("build without OpenMP: always 1 thread, nothing to restart")
    r = run_isolated(_THREADED_PARENT + """
pid = os.fork()
if pid == 0:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fastdl.set_num_threads(2)       # would hang libgomp at the next team
    ok = (fastdl.get_num_threads() == 1 and len(w) == 1 and "forked" in str(w[0].message)
          and work(1) == parent[1])
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
""", timeout=60)
    assert r.stdout.split() == ["0"], r.stdout


def test_child_of_a_single_threaded_process_may_set_threads(run_isolated):
    if not fastdl.config()["openmp"]:
        pytest.skip("build without OpenMP: always 1 thread")
    # no team can have run in the parent, so the child may start teams (and must not hang)
    r = run_isolated("""
import os, numpy as np, fastdl
fastdl.set_num_threads(1)
a = fastdl.Tensor(np.ones((384, 384), np.float32))
s1 = float((a @ a).sum())
pid = os.fork()
if pid == 0:
    fastdl.set_num_threads(2)
    ok = fastdl.get_num_threads() == 2 and float((a @ a).sum()) == s1
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
""", timeout=60)
    assert r.stdout.split() == ["0"], r.stdout
