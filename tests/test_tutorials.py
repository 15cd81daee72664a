"""The tutorials under examples/ run as written.

The two Python tutorials run in a subprocess with --quick (a few seconds);
the C-embedding tutorial's code blocks (examples/tutorial_c_embedding.md) run
in order, in a shell, against the installed package, and the classes the C
program predicts must be those Python printed.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _run_script(name, tmp_path):
    env = dict(os.environ, FASTDL_TUTORIAL_QUICK="1")
    r = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick"], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, "%s failed:\n%s\n%s" % (name, r.stdout, r.stderr)
    return r.stdout


def test_tutorial_pytorch_loop(tmp_path):
    out = _run_script("tutorial_pytorch_loop.py", tmp_path)
    assert "reloaded model gives identical outputs: True" in out, out
    acc = float(re.search(r"final test accuracy ([0-9.]+)", out).group(1))
    assert acc >= 0.9, out                       # three spirals: a linear model gets ~0.5
    assert list(tmp_path.iterdir()) == []        # writes nothing where it is run


def test_tutorial_keras_fit(tmp_path):
    out = _run_script("tutorial_keras_fit.py", tmp_path)
    assert "best checkpoint written: True" in out, out
    m = re.search(r"test loss ([0-9.]+)  test accuracy ([0-9.]+)", out)
    assert m, out
    assert float(m.group(2)) >= 0.9, out         # three stroke shapes: chance is 1/3
    assert len(re.findall(r"^  predicted ", out, re.M)) == 5, out


def _blocks(md):
    """The fenced ```bash and ```python blocks of a Markdown file, in order."""
    return re.findall(r"^```(bash|python)\n(.*?)^```", md, re.M | re.S)


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_tutorial_c_embedding(tmp_path):
    md = (EXAMPLES / "tutorial_c_embedding.md").read_text()
    blocks = _blocks(md)
    assert [k for k, _ in blocks].count("python") == 2 and len(blocks) == 6
    # The tutorial runs from the repository root; here, from a scratch
    # directory that sees the examples, so its files land in tmp_path.
    (tmp_path / "examples").symlink_to(EXAMPLES)
    script = ["set -euo pipefail"]
    for kind, body in blocks:
        if kind == "bash":
            script.append(body)
        else:
            script.append("%s - <<'PY'\n%sPY" % (sys.executable, body))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    py_classes = [int(v) for v in re.search(r"^\[([0-9 ]+)\]$", out, re.M).group(1).split()]
    c_lines = re.findall(r"^(\d+)((?: -?\d+\.\d+)+)$", out, re.M)
    assert [int(c) for c, _ in c_lines] == py_classes, out
    assert len(py_classes) == 8
    assert "saved c_model.safetensors" in out, out
    accs = [float(a) for a in re.findall(r"^epoch \d+  loss [0-9.]+  accuracy ([0-9.]+)$", out,
                                         re.M)]
    assert len(accs) == 10 and accs[-1] >= 0.9, out
    assert "parameters loaded: 228" in out and "(2): Linear(in_features=32" in out, out
