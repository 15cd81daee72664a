"""A new user's first hour (issue 10 sections 1 and 2): the `fastdl` command runs the installed
package from anywhere, an unbuilt source tree gives one clear ImportError, and the demo finds
its data in the documented order, falling back to the bundled UCI digits offline."""
import functools
import gzip
import hashlib
import http.server
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import fastdl
from fastdl import demo
from fastdl.data import datasets as D

REPO = Path(__file__).resolve().parents[1]
PKG = Path(fastdl.__file__).resolve().parent
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _fastdl_cmd():
    exe = Path(sys.executable).parent / "fastdl"
    assert exe.exists(), "the `fastdl` console script is not installed next to %s" % sys.executable
    return str(exe)


def _clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("FASTDL_DATA", "PYTHONPATH")}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    os.makedirs(env["HOME"], exist_ok=True)
    return env


# ---- section 1: the command, the source tree ------------------------------------------------

def test_console_script_is_declared():
    eps = importlib.metadata.entry_points(group="console_scripts")
    ours = [e for e in eps if e.name == "fastdl"]
    assert len(ours) == 1 and ours[0].value == "fastdl.__main__:main"


def test_demo_on_the_bundled_digits(tmp_path):
    """The quick start on a fresh machine: no FASTDL_DATA, an empty cache, no network used."""
    env = _clean_env(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    r = subprocess.run([_fastdl_cmd(), "demo", "--offline"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "the bundled UCI digits" in out and "CC BY 4.0" in out
    data_line = next(line for line in out.splitlines() if line.startswith("data: "))
    assert "FASTDL_DATA not set" in data_line and "no MNIST in the cache" in data_line
    assert str(tmp_path / "cache") in data_line
    acc = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert acc > 0.9, out
    epochs = re.findall(r"^\s+(\d+)\s+[0-9.]+\s+[0-9.]+", out, re.M)
    assert len(epochs) >= 3, out                # several points per curve
    model = work / "fastdl-demo" / "model.safetensors"
    assert model.exists()
    sd = fastdl.load(model)
    assert "0.weight" in sd and sd["0.weight"].shape == (16, 1, 3, 3)
    try:
        import matplotlib  # noqa: F401
        assert (work / "fastdl-demo" / "training_curves.png").exists()
    except ImportError:
        assert "matplotlib is not installed" in r.stderr
    assert "Traceback" not in r.stderr


def test_console_script_from_the_clone_root(tmp_path):
    """From the source tree's root the command still runs the installed package."""
    r = subprocess.run([_fastdl_cmd(), "demo", "--offline", "--epochs", "1", "--out",
                        str(tmp_path / "out")], cwd=REPO, env=_clean_env(tmp_path),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test accuracy" in r.stdout


def test_python_m_fastdl_from_another_directory(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fastdl", "info"], cwd=tmp_path,
                       env=_clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("fastdl %s" % fastdl.__version__)


def _fake_source_tree(tmp_path):
    """A clone as git gives it: the Python sources, setup.py and csrc/, nothing compiled."""
    root = tmp_path / "clone"
    shutil.copytree(PKG, root / "fastdl", ignore=shutil.ignore_patterns(
        "*.so", "*.pyd", "lib", "include", "__pycache__"))
    (root / "setup.py").write_text("# setup\n")
    (root / "csrc").mkdir()
    return root


@pytest.mark.parametrize("cmd", [["-c", "import fastdl"], ["-m", "fastdl", "demo"]])
def test_unbuilt_source_tree_gives_one_clear_import_error(tmp_path, cmd):
    root = _fake_source_tree(tmp_path)
    r = subprocess.run([sys.executable] + cmd, cwd=root, env=_clean_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: fastdl was imported from its source directory"), last
    assert "fastdl demo" in last and "cd elsewhere" in last
    assert "cannot import name '_core'" not in r.stderr


def test_real_clone_root_if_unbuilt(tmp_path):
    if not (REPO / "setup.py").exists():
        pytest.skip("tests are not inside a source checkout")
    if list((REPO / "fastdl" / "_C").glob("_core*.so")):
        pytest.skip("this checkout has in-place built extensions (pip install -e)")
    r = subprocess.run([sys.executable, "-c", "import fastdl"], cwd=REPO,
                       env=_clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "source directory" in r.stderr


def test_no_machine_paths_in_readme_or_package():
    texts = {}
    if (REPO / "README.md").exists():
        texts["README.md"] = (REPO / "README.md").read_text()
    for p in PKG.rglob("*"):
        if p.suffix in (".py", ".txt", ".md", ".pyx", ".pxd", ".h") and p.is_file():
            texts[str(p.relative_to(PKG))] = p.read_text(errors="replace")
    assert len(texts) > 20
    for name, text in texts.items():
        for bad in ("../shared", "/work/", "shared/data"):
            assert bad not in text, "%s names a machine path (%s)" % (name, bad)


def test_bundled_data_and_credit_installed():
    assert (PKG / "data" / "uci_digits.u8.gz").is_file()
    credit = (PKG / "data" / "UCI_DIGITS_CREDIT.txt").read_text()
    assert "Alpaydin" in credit and "Kaynak" in credit and "CC BY 4.0" in credit
    assert "CC BY 4.0" in D.DIGITS_CREDIT and "Alpaydin" in D.load_digits.__doc__


def test_bundled_digits_match_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_digits()
    x, y = D.load_digits()
    np.testing.assert_array_equal(x, (d.images / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y, d.target)


# ---- section 2: where the data comes from ---------------------------------------------------

def test_bad_data_path_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "empty").mkdir()
    for bad, words in [(tmp_path / "nope", "no such directory"),
                       (tmp_path / "afile", "not a directory"),
                       (tmp_path / "empty", "no MNIST IDX files")]:
        r = subprocess.run([_fastdl_cmd(), "demo", "--data", str(bad)], cwd=tmp_path,
                           env=_clean_env(tmp_path), capture_output=True, text=True, timeout=120)
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert lines[0].startswith("fastdl demo: error: --data %s" % bad) and words in lines[0]
    assert demo.main(["--data", str(tmp_path / "nope")]) == 2


def _mnist_files(d):
    d.mkdir(parents=True, exist_ok=True)
    for s in STEMS:
        (d / (s + ".gz")).write_bytes(b"")
    return d


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTDL_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    calls = []

    def no_network(name, fname, root, *a, **k):
        calls.append(fname)
        raise OSError("http://mirror.invalid/ unreachable")
    monkeypatch.setattr(D, "_download", no_network)
    return calls


def test_data_order(tmp_path, monkeypatch, no_env):
    given = _mnist_files(tmp_path / "given")
    env = _mnist_files(tmp_path / "env" / "mnist")
    cache = _mnist_files(tmp_path / "cache" / "fastdl" / "mnist")
    monkeypatch.setenv("FASTDL_DATA", str(tmp_path / "env"))
    root, why = demo.choose_data(str(given))
    assert root == str(given) and why.startswith("MNIST from --data")
    root, why = demo.choose_data()
    assert root == str(env) and "FASTDL_DATA" in why
    monkeypatch.setenv("FASTDL_DATA", str(tmp_path / "elsewhere"))
    root, why = demo.choose_data()
    assert root == str(cache) and "cache" in why
    shutil.rmtree(cache)
    root, why = demo.choose_data()
    assert root is None and no_env == [STEMS[0] + ".gz"]
    assert "FASTDL_DATA=%s has no MNIST files" % (tmp_path / "elsewhere") in why
    assert "download failed: no mirror reachable" in why
    root, why = demo.choose_data(download=False)
    assert root is None and "--offline" in why and len(no_env) == 1


def test_cache_dir_honours_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert D.cache_dir("mnist") == str(tmp_path / "x" / "fastdl" / "mnist")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert D.cache_dir("mnist") == str(tmp_path / "h" / ".cache" / "fastdl" / "mnist")


def test_demo_downloads_into_the_cache(tmp_path, monkeypatch, no_env):
    got = []

    def fake(name, fname, root, *a, **k):
        got.append((name, fname, root))
        os.makedirs(root, exist_ok=True)
        open(os.path.join(root, fname), "wb").close()
        return os.path.join(root, fname)
    monkeypatch.setattr(D, "_download", fake)
    root, why = demo.choose_data()
    cache = str(tmp_path / "cache" / "fastdl" / "mnist")
    assert root == cache and "downloaded" in why
    assert [g[1] for g in got] == [s + ".gz" for s in STEMS] and {g[2] for g in got} == {cache}


# ---- the download itself, against a local server --------------------------------------------

@pytest.fixture
def server(tmp_path):
    d = tmp_path / "served"
    d.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(d))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield d, "http://127.0.0.1:%d/" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _serve(d, fname, payload):
    (d / fname).write_bytes(payload)
    return hashlib.md5(payload).hexdigest(), hashlib.sha256(payload).hexdigest()


def test_download_checks_md5_and_sha256(tmp_path, monkeypatch, server):
    d, url = server
    fname = "train-labels-idx1-ubyte.gz"
    payload = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    md5, sha = _serve(d, fname, payload)
    src = {"mirrors": ["http://127.0.0.1:9/", url], "md5": {fname: md5},
           "sha256": {fname: sha}}
    monkeypatch.setitem(D._SOURCES, "test", src)
    old = os.umask(0o022)
    try:
        out = D._download("test", fname, str(tmp_path / "c"), probe_timeout=2.0)
    finally:
        os.umask(old)
    assert Path(out).read_bytes() == payload and (os.stat(out).st_mode & 0o777) == 0o644
    np.testing.assert_array_equal(D.read_idx(out), [1, 2, 3])
    # a mirror serving other bytes: refused, nothing (not even a temp file) left behind
    monkeypatch.setitem(src, "sha256", {fname: "0" * 64})
    with pytest.raises(OSError, match="expected"):
        D._download("test", fname, str(tmp_path / "d"), probe_timeout=2.0)
    assert os.listdir(tmp_path / "d") == []
    monkeypatch.setitem(src, "sha256", {fname: sha})
    monkeypatch.setitem(src, "md5", {fname: "0" * 32})
    with pytest.raises(OSError, match="md5"):
        D._download("test", fname, str(tmp_path / "e"), probe_timeout=2.0)
    assert os.listdir(tmp_path / "e") == []


def test_mnist_checksums_cover_every_file():
    src = D._SOURCES["mnist"]
    for stem in STEMS:
        assert re.fullmatch(r"[0-9a-f]{32}", src["md5"][stem + ".gz"])
        assert re.fullmatch(r"[0-9a-f]{64}", src["sha256"][stem + ".gz"])


def test_mnist_from_fastdl_data_matches_its_checksums():
    root = os.environ.get("FASTDL_DATA")
    if not root or not os.path.isfile(os.path.join(root, STEMS[1] + ".gz")):
        pytest.skip("FASTDL_DATA does not point at the MNIST .gz files")
    for stem in STEMS:
        p = os.path.join(root, stem + ".gz")
        assert D._digests(p) == {"md5": D._SOURCES["mnist"]["md5"][stem + ".gz"],
                                 "sha256": D._SOURCES["mnist"]["sha256"][stem + ".gz"]}


def test_unreachable_mirror_is_reported(monkeypatch, tmp_path):
    monkeypatch.setitem(D._SOURCES, "test", {"mirrors": ["http://127.0.0.1:9/"],
                                             "md5": {"f.gz": "0" * 32}})
    with pytest.raises(OSError, match="unreachable"):
        D._download("test", "f.gz", str(tmp_path / "x"), probe_timeout=1.0)


def test_curves_have_integer_epoch_ticks(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    figs = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: figs.append(fig))
    h = fastdl.callbacks.History()
    h.epoch = list(range(5))
    h.history = {"loss": [1.0, 0.8, 0.6, 0.5, 0.45], "val_loss": [1.1, 0.9, 0.7, 0.6, 0.6]}
    h.plot(tmp_path / "c.png")
    (fig,) = figs
    ax = fig.axes[0]
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert all(len(line.get_xdata()) == 5 for line in ax.get_lines())
    real_close(fig)
