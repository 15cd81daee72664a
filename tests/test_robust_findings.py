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
