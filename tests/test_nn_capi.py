"""The nn kernels from C: a program built against fastdl/include and
fastdl/lib calls a few fdl_* nn functions and checks their results."""
import os
import shutil
import subprocess
import textwrap

import pytest

import fastdl

PROGRAM = textwrap.dedent(r"""
    #include <math.h>
    #include <stdio.h>
    #include "fastdl.h"

    static int bad(const char *what, double got, double want) {
        if (fabs(got - want) > 1e-5 * (1 + fabs(want))) {
            printf("%s: got %.9g want %.9g\n", what, got, want);
            return 1;
        }
        return 0;
    }

    int main(void) {
        int fails = 0;
        /* softmax and log_softmax of one row */
        float x[3] = {1.0f, 2.0f, 3.0f}, y[3], ly[3];
        fdl_softmax_forward_f32(y, x, 1, 3, 1);
        fdl_log_softmax_forward_f32(ly, x, 1, 3, 1);
        double z = exp(1.0) + exp(2.0) + exp(3.0);
        for (int i = 0; i < 3; i++) {
            fails += bad("softmax", y[i], exp(i + 1.0) / z);
            fails += bad("log_softmax", ly[i], (i + 1.0) - log(z));
        }
        /* backward writes the gradient (what was in dx does not matter) */
        float g[3] = {1, 0, 0}, dx[3] = {7, 7, 7};
        fdl_softmax_backward_f32(dx, y, g, 1, 3, 1);
        fails += bad("softmax_backward", dx[0], y[0] * (1 - y[0]));
        fails += bad("softmax_backward", dx[1], -y[0] * y[1]);
        /* cross_entropy of two rows, one ignored */
        double logits[6] = {0, 1, 2, 5, 5, 5}, loss[2], lse[2];
        int64_t t[2] = {2, -100};
        fdl_cross_entropy_forward_f64(loss, lse, logits, t, NULL, 2, 3, -100, 0.0);
        fails += bad("cross_entropy", loss[0], log(1 + exp(1.0) + exp(2.0)) - 2);
        fails += bad("cross_entropy ignored", loss[1], 0);
        /* max_pool2d 2x2 over one 2x4 plane */
        float img[8] = {1, 5, 2, 0, 3, 4, 9, 8}, out[2];
        int64_t am[2];
        fdl_max_pool2d_forward_f32(out, am, img, 1, 2, 4, 1, 2, 2, 2, 2, 2, 0, 0, 1, 1);
        fails += bad("max_pool2d", out[0], 5) + bad("max_pool2d", out[1], 9);
        fails += bad("argmax", (double)am[0], 1) + bad("argmax", (double)am[1], 6);
        /* the Elman RNN: one function per activation, no act code */
        float pre[3] = {-1.0f, 0.5f, 2.0f}, ht[3], hr[3];
        fails += bad("rnn_tanh status", fdl_rnn_tanh_cell_forward_f32(ht, pre, 1, 3), FDL_OK);
        fails += bad("rnn_relu status", fdl_rnn_relu_cell_forward_f32(hr, pre, 1, 3), FDL_OK);
        for (int i = 0; i < 3; i++) {
            fails += bad("rnn_tanh_cell", ht[i], tanh(pre[i]));
            fails += bad("rnn_relu_cell", hr[i], pre[i] > 0 ? pre[i] : 0);
        }
        fails += bad("rnn_relu B < 0", fdl_rnn_relu_cell_forward_f32(hr, pre, -1, 3), FDL_ERR_ARG);
        /* one relu layer step: T = 1, B = 1, In = 1, H = 1, h = relu(x w_ih + h0 w_hh) */
        float xs[1] = {2.0f}, h0[1] = {-3.0f}, wi[1] = {0.5f}, wh[1] = {1.0f}, hs[2], work[8];
        fails += bad("rnn_relu_layer status", fdl_rnn_relu_layer_forward_f32(hs, work, xs, h0,
                     wi, wh, NULL, NULL, 1, 1, 1, 1, 0), FDL_OK);
        fails += bad("rnn_relu_layer h0", hs[0], -3) + bad("rnn_relu_layer h1", hs[1], 0);
        fails += bad("rnn_tanh_layer status", fdl_rnn_tanh_layer_forward_f32(hs, work, xs, h0,
                     wi, wh, NULL, NULL, 1, 1, 1, 1, 0), FDL_OK);
        fails += bad("rnn_tanh_layer h1", hs[1], tanh(-2.0));
        fails += bad("rnn_tanh_layer NULL", fdl_rnn_tanh_layer_forward_f32(hs, NULL, xs, h0,
                     wi, wh, NULL, NULL, 1, 1, 1, 1, 0), FDL_ERR_NULL);
        {   /* batch_norm + ReLU in one pass (the _ex functions) */
            /* one channel, values -1, 0, 1, 2: mean 0.5, var 1.25 */
            float x[4] = {-1, 0, 1, 2}, out[4], mean[1], rstd[1], dx[4], dw[1] = {0}, db[1] = {0};
            float g[4] = {1, 1, 1, 1};
            fails += bad("fwd status", fdl_batch_norm_forward_ex_f32(out, mean, rstd, NULL, NULL, x,
                         NULL, NULL, 1, 1, 4, 1, 0.1f, 0.0f, FDL_ACT_RELU), FDL_OK);
            for (int i = 0; i < 4; i++)
                fails += bad("relu(bn)", out[i], fmax((x[i] - 0.5) / sqrt(1.25), 0));
            fails += bad("bwd status", fdl_batch_norm_backward_ex_f32(dx, dw, db, mean, rstd, x,
                         NULL, NULL, g, 1, 1, 4, 1, FDL_ACT_RELU), FDL_OK);
            fails += bad("dbias counts only y > 0", db[0], 2);
            /* argument checks */
            fails += bad("bad act", fdl_batch_norm_forward_ex_f32(out, mean, rstd, NULL, NULL, x,
                         NULL, NULL, 1, 1, 4, 1, 0.1f, 0.0f, (fdl_act)7), FDL_ERR_ARG);
            fails += bad("negative N", fdl_batch_norm_forward_ex_f32(out, mean, rstd, NULL, NULL, x,
                         NULL, NULL, -1, 1, 4, 1, 0.1f, 0.0f, FDL_ACT_NONE), FDL_ERR_ARG);
            fails += bad("NULL x", fdl_batch_norm_forward_ex_f32(out, mean, rstd, NULL, NULL, NULL,
                         NULL, NULL, 1, 1, 4, 1, 0.1f, 0.0f, FDL_ACT_NONE), FDL_ERR_NULL);
            fails += bad("eval without running stats", fdl_batch_norm_forward_ex_f32(out, mean,
                         rstd, NULL, NULL, x, NULL, NULL, 1, 1, 4, 0, 0.1f, 0.0f, FDL_ACT_NONE),
                         FDL_ERR_NULL);
            fails += bad("empty, NULL pointers", fdl_batch_norm_forward_ex_f64(NULL, NULL, NULL,
                         NULL, NULL, NULL, NULL, NULL, 0, 3, 4, 1, 0.1, 0.0, FDL_ACT_RELU), FDL_OK);
            fails += bad("bwd negative S", fdl_batch_norm_backward_ex_f64(NULL, NULL, NULL, NULL,
                         NULL, NULL, NULL, NULL, NULL, 1, 1, -4, 1, FDL_ACT_NONE), FDL_ERR_ARG);
            fails += bad("bwd bad act", fdl_batch_norm_backward_ex_f32(dx, dw, db, mean, rstd, x,
                         NULL, NULL, g, 1, 1, 4, 1, (fdl_act)3), FDL_ERR_ARG);
            fails += bad("bwd NULL dout", fdl_batch_norm_backward_ex_f32(dx, dw, db, mean, rstd, x,
                         NULL, NULL, NULL, 1, 1, 4, 1, FDL_ACT_RELU), FDL_ERR_NULL);
        }
        printf(fails ? "FAIL\n" : "OK\n");
        return fails != 0;
    }
""")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")
def test_nn_kernels_callable_from_c(tmp_path):
    src = tmp_path / "nn.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "nn"
    lib = fastdl.get_lib()
    r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", str(src), "-I", fastdl.get_include(),
                        "-L", lib, "-lfastdl", "-lm", "-Wl,-rpath," + lib, "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stdout + r.stderr
