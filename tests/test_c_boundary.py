"""The Cython layer validates what Python code can hand it (issue 14, finding 7).

The README invites direct use of fastdl._C, so every wrapper reachable from
Python checks op, sizes, indices and buffer lengths itself and raises a clear
exception naming the op; nothing reaches a kernel that would crash or
return garbage. All cases run in one child process, so a crash fails this
test (naming the case) instead of killing the suite.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

# (case name, code evaluated with np, C (_core), nn, conv, gemm, data, metrics, optim, rnn,
#  f (float32 array factory), expected exception type names, words the message must contain)
CASES = [
    # ---- elementwise / reductions / rng (fastdl._C._core)
    ("add_dtypes", "C.add(f(3), np.ones(3))", "TypeError", ["add"]),
    ("add_shapes", "C.add(f(3), f(4))", "ValueError", ["add", "(3,)", "(4,)"]),
    ("add_out_shape", "C.add(f(3), f(3), out=f(2))", "ValueError", ["add", "out"]),
    ("add_out_not_array", "C.add(f(3), f(3), out=[0, 0, 0])", "TypeError", ["add", "out"]),
    ("add_out_read_only", "C.add(f(3), f(3), out=np.frombuffer(bytes(12), np.float32))",
     "ValueError", ["add", "read-only"]),
    ("exp_out_read_only", "C.exp(f(3), out=np.frombuffer(bytes(12), np.float32))",
     "ValueError", ["exp", "read-only"]),
    ("gather_out_read_only", "data.gather_rows(f(4, 3), np.array([0, 1]), "
     "out=np.frombuffer(bytes(24), np.float32).reshape(2, 3))", "ValueError",
     ["gather_rows", "read-only"]),
    ("add_too_many_dims", "C.add(f(*(1,) * 9), f(1))", "ValueError", ["add", "dims"]),
    ("exp_int", "C.exp(np.ones(3, np.int64))", "TypeError", ["exp", "int64"]),
    ("clip_none", "C.clip(None, 0.0, 1.0)", "TypeError", []),
    ("amax_empty", "C.amax(f(0, 3), 0)", "ValueError", ["max", "size 0"]),
    ("sum_bad_axis", "C.sum(f(2, 3), 5)", "ValueError", ["sum", "dim 5"]),
    ("argmax_tuple_axis", "C.argmax(f(2, 3), (0, 1))", "TypeError", ["argmax"]),
    ("argmin_empty", "C.argmin(f(0))", "ValueError", ["argmin"]),
    ("randint_range", "C.rng_randint((3,), 0, 0, 0, 5, 1)", "ValueError", ["randint"]),
    ("rng_dtype", "C.rng_normal((3,), 0, 0, 0, 0.0, 1.0, np.int32)", "TypeError", ["normal", "float"]),
    ("randperm_negative", "C.rng_permutation(-1, 0, 0)", "ValueError", ["randperm"]),
    ("set_isa_name", "C.set_isa('sse9')", "ValueError", ["set_isa", "sse9"]),
    # ---- nn: indices out of range
    ("embedding_index_high", "nn.embedding_forward(np.array([5]), f(3, 2))", "IndexError",
     ["embedding", "5", "3"]),
    ("embedding_index_negative", "nn.embedding_forward(np.array([-1]), f(3, 2))", "IndexError",
     ["embedding", "-1"]),
    ("embedding_backward_index", "nn.embedding_backward(np.array([7]), f(1, 2), (3, 2), -1)",
     "IndexError", ["embedding", "7"]),
    ("embedding_weight_1d", "nn.embedding_forward(np.array([0]), f(3))", "ValueError",
     ["embedding", "weight"]),
    ("embedding_backward_grad_size", "nn.embedding_backward(np.array([0]), f(5), (3, 2), -1)",
     "ValueError", ["embedding", "grad_output"]),
    ("cross_entropy_target_high", "nn.cross_entropy_forward(f(2, 3), np.array([0, 5]), None, "
     "-100, 0.0)", "IndexError", ["cross_entropy", "5", "3"]),
    ("cross_entropy_backward_target",
     "nn.cross_entropy_backward(f(2, 3), f(2), np.array([0, -2]), None, f(), 1.0, -100, 0.0)",
     "IndexError", ["cross_entropy", "-2"]),
    ("nll_target", "nn.nll_loss_forward(f(2, 3), np.array([3, 0]), None, -100)", "IndexError",
     ["nll_loss", "3"]),
    ("nll_backward_target",
     "nn.nll_loss_backward(f(2, 3), np.array([0, 9]), None, f(), 1.0, -100)", "IndexError",
     ["nll_loss", "9"]),
    ("multi_margin_target", "nn.multi_margin_loss_forward(f(2, 3), np.array([3, 0]), None, 1, "
     "1.0)", "IndexError", ["multi_margin_loss", "3"]),
    ("max_pool_indices",
     "nn.max_pool2d_backward(np.full((1, 1, 1, 1), 100), f(1, 1, 1, 1), (1, 1, 2, 2))",
     "IndexError", ["max_pool2d", "100"]),
    # ---- nn: ranks and sizes
    ("cross_entropy_1d", "nn.cross_entropy_forward(f(3), np.array([0]), None, -100, 0.0)",
     "ValueError", ["cross_entropy", "(N, C)"]),
    ("cross_entropy_weight_size", "nn.cross_entropy_forward(f(2, 3), np.array([0, 1]), f(2), "
     "-100, 0.0)", "ValueError", ["cross_entropy", "weight"]),
    ("nll_1d", "nn.nll_loss_forward(f(3), np.array([0]), None, -100)", "ValueError",
     ["nll_loss", "(N, C)"]),
    ("multi_margin_1d", "nn.multi_margin_loss_forward(f(3), np.array([0]), None, 1, 1.0)",
     "ValueError", ["multi_margin_loss", "(N, C)"]),
    ("max_pool_1d", "nn.max_pool2d_forward(f(3), 1, 1, 1, 1, 1, 1, 0, 0, 1, 1)", "ValueError",
     ["max_pool2d", "H, W)"]),
    ("max_pool_output_size", "nn.max_pool2d_forward(f(1, 1, 4, 4), 9, 9, 2, 2, 2, 2, 0, 0, 1, 1)",
     "ValueError", ["max_pool2d", "9"]),
    ("max_pool_kernel_zero", "nn.max_pool2d_forward(f(1, 1, 4, 4), 1, 1, 0, 2, 2, 2, 0, 0, 1, 1)",
     "ValueError", ["max_pool2d", "kernel"]),
    ("max_pool_backward_1d", "nn.max_pool2d_backward(np.zeros(3, np.int64), f(3), (3,))",
     "ValueError", ["max_pool2d"]),
    ("avg_pool_backward_1d", "nn.avg_pool2d_backward(f(3), (1, 3), 1, 1, 1, 1, 0, 0, True)",
     "ValueError", ["avg_pool2d"]),
    ("avg_pool_output_size", "nn.avg_pool2d_forward(f(1, 1, 4, 4), 7, 7, 2, 2, 2, 2, 0, 0, True)",
     "ValueError", ["avg_pool2d", "7"]),
    ("adaptive_pool_1d", "nn.adaptive_avg_pool2d_forward(f(3), 1, 1)", "ValueError",
     ["adaptive_avg_pool2d"]),
    ("adaptive_pool_backward_shape", "nn.adaptive_avg_pool2d_backward(f(1, 1, 2, 2), (1, 1))",
     "ValueError", ["adaptive_avg_pool2d"]),
    ("batch_norm_1d", "nn.batch_norm_forward(f(3), None, None, None, None, True, 0.1, 1e-5)",
     "ValueError", ["batch_norm", "(N, C"]),
    ("batch_norm_relu_bias_size", "nn.batch_norm_backward(f(3), f(3), f(2, 3, 4), None, "
     "f(2, 3, 4), True, True, False, False, True, f(5))", "ValueError", ["batch_norm", "bias"]),
    ("layer_norm_zero", "nn.layer_norm_forward(f(2, 3), 0, None, None, 1e-5)", "ValueError",
     ["layer_norm", "0"]),
    ("layer_norm_not_dividing", "nn.layer_norm_forward(f(2, 3), 4, None, None, 1e-5)",
     "ValueError", ["layer_norm", "4"]),
    ("triplet_1d", "nn.triplet_margin_loss_forward(f(3), f(3), f(3), 1.0, 2.0, 1e-6, False)",
     "ValueError", ["triplet_margin_loss", "(N, D)"]),
    ("cosine_1d", "nn.cosine_embedding_loss_forward(f(3), f(3), f(1), 0.0)", "ValueError",
     ["cosine_embedding_loss", "(N, D)"]),
    ("dropout_p", "nn.dropout_forward(f(3), 1.5, 0, 0)", "ValueError", ["dropout", "1.5"]),
    ("softmax_sizes", "nn.softmax_forward(f(6), -1, -1, 6, False)", "ValueError", ["softmax"]),
    ("relu_grad_size", "nn.relu_backward(f(3), f(4))", "ValueError", ["relu", "grad_output"]),
    ("mse_target_none", "nn.mse_loss_forward(f(3), None)", "TypeError", ["mse_loss", "target"]),
    ("bce_weight_size", "nn.binary_cross_entropy_forward(f(3), f(3), weight=f(2))",
     "ValueError", ["binary_cross_entropy", "weight"]),
    # ---- other families
    ("sgemm_shapes", "gemm.sgemm(False, False, 1.0, f(2, 3), f(4, 5), 0.0, f(2, 5))",
     "ValueError", ["sgemm"]),
    ("matmul_shapes", "gemm.matmul(f(2, 3), f(4, 5))", "ValueError", ["matmul"]),
    ("conv_channels", "conv.forward(f(1, 2, 5, 5), f(3, 4, 3, 3), None, (1, 1), (0, 0), (1, 1), 1)",
     "ValueError", ["conv"]),
    ("gather_rows_index", "data.gather_rows(f(3, 2), np.array([3]))", "IndexError",
     ["gather_rows", "3"]),
    ("confusion_labels", "metrics.confusion_update(np.zeros((2, 2), np.int64), np.array([0]), "
     "np.array([5]))", "ValueError", ["confusion_matrix", "5"]),
    ("adam_sizes", "optim.adam_step(f(3), f(4), f(3), f(3), None, 1.0, 0.1, 0.9, 0.999, 1e-8, 0.0, "
     "False, False, False)", "ValueError", ["adam"]),
    ("sgemm_ref_b_rows", "gemm.sgemm_ref(False, False, 1.0, f(2, 3), f(1, 2), 0.0, f(2, 2))",
     "ValueError", ["sgemm_ref", "(3, 2)"]),
    ("sgemm_ref_bias", "gemm.sgemm_ref(False, False, 1.0, f(2, 3), f(3, 2), 0.0, f(2, 2), f(1))",
     "ValueError", ["sgemm_ref", "bias"]),
    ("rnn_saved", "rnn.rnn_tanh_layer_backward((f(1),), f(2, 1, 3), f(4, 3), f(4, 4), None, 0, "
     "None, None, None, None, None, None, None)", "ValueError", ["rnn_tanh_layer_backward", "saved"]),
    ("lstm_gates", "rnn.lstm_layer_forward(f(2, 1, 3), None, None, f(4, 3), f(4, 4), None, None)",
     "ValueError", ["lstm_layer_forward", "w_ih", "(16, 3)"]),
    ("gru_saved_act", "rnn.gru_layer_backward((f(3, 1, 1), None, f(2, 1, 2), f(2, 1, 1)), "
     "f(2, 1, 3), f(3, 3), f(3, 1), None, 0, None, None, None, None, None, None, None)",
     "ValueError", ["gru_layer_backward", "act", "(2, 1, 3)"]),
    ("rnn_relu_cell_dtype", "rnn.rnn_relu_cell_forward(np.ones((2, 3), np.int32))", "TypeError",
     ["rnn_relu_cell_forward", "float32"]),
]

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from fastdl._C import _core as C, nn, conv, gemm, data, metrics, optim, rnn

    def f(*shape):
        return np.ones(shape, np.float32)

    for name, code in json.loads(sys.stdin.read()):
        print("start " + name, flush=True)
        try:
            eval(code)
            res = {"name": name, "raised": None, "msg": ""}
        except Exception as e:
            res = {"name": name, "raised": type(e).__name__, "msg": str(e)}
        print("result " + json.dumps(res), flush=True)
""")


def _run_cases():
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(
        [(name, code) for name, code, _, _ in CASES]), capture_output=True, text=True, env=env,
        cwd=os.path.dirname(os.path.abspath(__file__)), timeout=300)
    results, started = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("start "):
            started = line[6:]
        elif line.startswith("result "):
            res = json.loads(line[7:])
            results[res["name"]] = res
    return r, results, started


@pytest.fixture(scope="module")
def boundary():
    return _run_cases()


def test_no_case_crashes_the_process(boundary):
    r, results, started = boundary
    assert r.returncode == 0 and len(results) == len(CASES), (
        "the child died (status %d) during case %r:\n%s" % (r.returncode, started, r.stderr[-2000:]))


@pytest.mark.parametrize("name,code,exc,words", CASES, ids=[c[0] for c in CASES])
def test_bad_call_raises_a_clear_error(boundary, name, code, exc, words):
    _, results, _ = boundary
    if name not in results:
        pytest.fail("case %s did not complete (see test_no_case_crashes_the_process)" % name)
    res = results[name]
    assert res["raised"] == exc, "%s: expected %s, got %s: %s" % (code, exc, res["raised"],
                                                                 res["msg"])
    for w in words:
        assert w in res["msg"], "%s: message %r does not mention %r" % (code, res["msg"], w)
