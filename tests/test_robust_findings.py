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
