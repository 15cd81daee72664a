"""An independent PyTorch/Keras user's programs (issue 12's "independent check").

user_programs/ holds 20 short programs written from memory the way a PyTorch user
(and, for p10-p12, a Keras user of fastdl's Trainer) writes them, before reading
fastdl's code; the only fastdl-specific lines are the imports (``import fastdl as
torch``, ``import fastdl.nn as nn``, ...). Each runs in its own interpreter and sets
``RESULT``; the test checks that it learned (the loss fell, an accuracy was reached).
Two programs use features fastdl refuses (higher-order gradients, packed sequences):
their test checks that the refusal is the clear NotImplementedError, not a crash.
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "user_programs")
RUNNER = ("import json, runpy, sys; r = runpy.run_path(sys.argv[1], run_name='__main__')"
          "['RESULT']; print('RESULT ' + json.dumps(r))")


def _run(name, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-c", RUNNER, os.path.join(HERE, name + ".py")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


def _learned(first, last, factor):
    return lambda r: r[last] < factor * r[first]


GOALS = {
    "p01_mlp_digits": [lambda r: r["accuracy"] >= 0.85, _learned("first_loss", "last_loss", 0.5)],
    "p02_cnn_digits": [lambda r: r["accuracy"] >= 0.75, _learned("first_loss", "last_loss", 0.5)],
    "p03_custom_module": [lambda r: r["accuracy"] >= 0.75,
                          _learned("first_loss", "last_loss", 0.6)],
    "p04_manual_linreg": [lambda r: r["w_err"] < 0.01, lambda r: r["b_err"] < 0.01,
                          lambda r: r["last_loss"] < 1e-3],
    "p05_lstm_classifier": [lambda r: r["accuracy"] >= 0.9,
                            _learned("first_loss", "last_loss", 0.5)],
    "p06_einsum_attention": [lambda r: r["accuracy"] >= 0.95,
                             _learned("first_loss", "last_loss", 0.1)],
    # label smoothing keeps the confidence below 1
    "p07_label_smoothing": [lambda r: r["accuracy"] >= 0.9, lambda r: r["conf"] < 0.99,
                            _learned("first_loss", "last_loss", 0.5)],
    "p08_numpy_roundtrip": [lambda r: r["ok"] == 1],
    "p09_autoencoder": [_learned("first_loss", "last_loss", 0.6)],
    "p10_keras_mlp": [lambda r: r["val_accuracy"] >= 0.8, _learned("first_loss", "last_loss", 0.5)],
    "p11_keras_callbacks": [lambda r: r["saved"], lambda r: r["val_accuracy"] >= 0.85,
                            _learned("first_loss", "last_loss", 0.5)],
    "p12_keras_cnn": [lambda r: r["accuracy"] >= 0.75, _learned("first_loss", "last_loss", 0.5)],
    "p13_gru_sine": [lambda r: r["test_loss"] < 0.05, lambda r: r["test_loss"] < r["first_loss"] / 10],
    "p14_logistic_bce": [lambda r: r["accuracy"] >= 0.93, _learned("first_loss", "last_loss", 0.5)],
    "p15_transformer_classifier": [lambda r: r["accuracy"] >= 0.75,
                                   _learned("first_loss", "last_loss", 0.9)],
    # resuming from the checkpoint continues exactly where the uninterrupted run went
    "p16_checkpoint_resume": [lambda r: abs(r["resumed"] - r["ref"]) <= 1e-6 * r["ref"],
                              lambda r: r["ref"] < r["first_loss"] / 3],
    "p17_custom_dataset": [lambda r: r["accuracy"] >= 0.8, _learned("first_loss", "last_loss", 0.5)],
    "p20_padded_lstm": [lambda r: r["accuracy"] >= 0.95, _learned("first_loss", "last_loss", 0.2)],
}

# programs stopped by a feature fastdl refuses: the error they must end with
REFUSED = {
    "p18_autograd_grad": "NotImplementedError: grad: create_graph=True (higher-order gradients) "
                         "is not supported",
    "p19_pack_padded": "NotImplementedError: pack_padded_sequence: packed sequences are not "
                       "supported; fastdl's RNN, LSTM and GRU take padded batches. Pad with "
                       "nn.utils.rnn.pad_sequence",
}


def test_every_program_has_a_case():
    names = sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py"))
    assert names == sorted(list(GOALS) + list(REFUSED))


@pytest.mark.parametrize("name", sorted(GOALS))
def test_user_program_learns(name, tmp_path):
    proc = _run(name, tmp_path)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, "%s failed (exit %d):\n%s\n%s" % (
        name, proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    result = json.loads(lines[-1][len("RESULT "):])
    for i, goal in enumerate(GOALS[name]):
        assert goal(result), "%s missed goal %d: %s" % (name, i, result)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_user_program_refused_clearly(name, tmp_path):
    proc = _run(name, tmp_path)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(REFUSED[name]), proc.stderr[-3000:]
    assert "Segmentation" not in proc.stderr
