"""Training output a person can read: plain lines in logs, a bar that fits a terminal.

The fits run in subprocesses so stdout is really a file, a pipe or a
pseudo-terminal, as it is for a user's `python train.py > log` or a terminal.
"""
import os
import re
import subprocess
import sys
import textwrap

import pytest

import fastdl
from fastdl import nn
from fastdl.train.progbar import Progbar

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import fastdl
    from fastdl import nn
    verbose = sys.argv[1]
    verbose = verbose if verbose == "auto" else int(verbose)
    fastdl.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 10)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    tr = fastdl.Trainer(model, "adam", "sparse_categorical_crossentropy",
                        metrics=["accuracy", "f1"])
    h = tr.fit(x, y, 32, 3, validation_split=0.2, verbose=verbose)
    sys.stderr.write("HISTORY %s\\n" % " ".join(
        "%s=%.4f" % (k, h[k][-1]) for k in ("loss", "accuracy", "f1", "val_loss",
                                            "val_accuracy", "val_f1")))
""")


def _env(**extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def _run_to_file(tmp_path, verbose):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    log = tmp_path / "log"
    with open(log, "w") as f:
        subprocess.run([sys.executable, str(script), str(verbose)], stdout=f,
                       stderr=subprocess.PIPE, check=True, cwd=str(tmp_path), timeout=120,
                       env=_env())
    return log.read_bytes().decode()


@pytest.mark.parametrize("verbose", ["auto", 1, 2])
def test_log_file_has_one_plain_line_per_epoch(tmp_path, verbose):
    out = _run_to_file(tmp_path, verbose)
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 3, out
    for i, line in enumerate(lines):
        assert line.startswith("Epoch %d/3 - 15/15 - " % (i + 1)), line
        for key in ("loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"):
            assert re.search(r"(^| )%s: \d+\.\d{4}( |$)" % key, line), (key, line)


def test_verbose_0_prints_nothing(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    r = subprocess.run([sys.executable, str(script), "0"], capture_output=True, text=True,
                       check=True, timeout=120, cwd=str(tmp_path))
    assert r.stdout == ""
    assert r.stderr.startswith("HISTORY") and r.stderr.count("\n") == 1, r.stderr


def _render(raw, cols):
    """A minimal terminal: \\r returns, \\n goes down, text wraps at `cols`."""
    screen, row, col = [[]], 0, 0
    for ch in raw:
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
            if row == len(screen):
                screen.append([])
        else:
            if col >= cols:             # the terminal wraps a too-long line
                row, col = row + 1, 0
                if row == len(screen):
                    screen.append([])
            line = screen[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
    return ["".join(r).rstrip() for r in screen]


def _run_in_pty(tmp_path, verbose, cols=80):
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import struct
    import termios
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    p = subprocess.Popen([sys.executable, str(script), str(verbose)], stdin=slave,
                         stdout=slave, stderr=subprocess.PIPE, cwd=str(tmp_path),
                         env=_env(COLUMNS=str(cols), LANG="C.UTF-8", PYTHONIOENCODING="utf-8"))
    os.close(slave)
    raw = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:         # the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
        err = p.stderr.read().decode()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert p.returncode == 0, err
    hist = dict(kv.split("=") for kv in err.split("HISTORY", 1)[1].split())
    return raw.decode("utf-8"), hist


def test_terminal_80_columns_shows_every_metric_on_the_last_epoch(tmp_path):
    raw, hist = _run_in_pty(tmp_path, "auto", cols=80)
    assert "\r" in raw                       # a bar redrawn in place
    screen = _render(raw.replace("\r\n", "\n"), 80)
    assert all(len(line) <= 80 for line in screen)
    start = screen.index("Epoch 3/3")
    block = screen[start + 1:]
    assert block[0].startswith("15/15 ")
    text = "\n".join(block)
    for key, value in hist.items():
        # each value is whole (not cut by the terminal's edge) on the last epoch's lines
        assert re.search(r"(^| )%s: %s( |$)" % (key, re.escape(value)), text, re.M), \
            (key, value, block)
    # every redrawn line fits one row, so no stale text is left behind
    for line in screen:
        assert "Epoch" not in line or re.fullmatch(r"Epoch \d/3", line), line


def test_terminal_verbose_2_is_one_line_per_epoch(tmp_path):
    raw, hist = _run_in_pty(tmp_path, 2, cols=200)
    assert "\r" not in raw.replace("\r\n", "\n")
    lines = [l for l in raw.replace("\r\n", "\n").split("\n") if l]
    assert len(lines) == 3 and lines[2].startswith("Epoch 3/3 - 15/15 - ")
    assert "val_accuracy: %s" % hist["val_accuracy"] in lines[2]


def test_progbar_final_line_wraps_between_metrics(monkeypatch):
    import io

    class Tty(io.StringIO):
        encoding = "utf-8"

        def isatty(self):
            return True
    monkeypatch.setenv("COLUMNS", "40")
    f = Tty()
    bar = Progbar(10, file=f)
    logs = {"loss": 0.123456, "accuracy": 0.5, "val_loss": 0.25, "val_accuracy": 0.75}
    for i in range(10):
        bar.update(i + 1, logs, finalize=False)
    bar.update(10, logs, finalize=True)
    screen = _render(f.getvalue(), 40)
    assert all(len(line) <= 39 for line in screen)
    text = "\n".join(screen)
    for s in ("loss: 0.1235", "accuracy: 0.5000", "val_loss: 0.2500", "val_accuracy: 0.7500"):
        assert s in text
    assert [l for l in screen if l][-1].startswith("  ")    # continuation lines indented


def test_unknown_verbose_is_rejected():
    model = nn.Linear(2, 1)
    tr = fastdl.Trainer(model, "sgd", "mse")
    x = fastdl.randn(8, 2).numpy()
    y = fastdl.randn(8, 1).numpy()
    for bad in ("yes", 3, -1, None, 1.5, "1"):
        with pytest.raises(ValueError, match=r"'auto', 0, 1, 2"):
            tr.fit(x, y, verbose=bad)
    with pytest.raises(ValueError, match="verbose"):
        tr.evaluate(x, y, verbose="loud")
    with pytest.raises(ValueError, match="verbose"):
        tr.predict(x, verbose=5)


def test_fit_docstring_documents_verbose():
    doc = fastdl.Trainer.fit.__doc__
    for s in ('"auto"', "0:", "1:", "2:", "not a terminal"):
        assert s in doc, s
