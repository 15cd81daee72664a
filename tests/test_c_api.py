"""libfastdl from C: the C test runner (tests/c/test_capi.c), the examples in
examples/c on a small MNIST subset, weights handed between Python and C in
both directions, one epoch of the same MLP trained in C and in Python, and a
Cython extension that cimports fastdl's .pxd files.

Everything builds against the library and headers inside the installed
package (fastdl.get_lib(), fastdl.get_include()), which is what a user links.
The AddressSanitizer/UBSan run rebuilds libfastdl with `make SANITIZE=1`;
it takes ~1 minute, so it runs only when FASTDL_TEST_SANITIZE=1 (CI sets it).
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastdl

ROOT = Path(__file__).resolve().parents[1]
MNIST = Path(os.environ.get("FASTDL_DATA") or ROOT.parent / "shared" / "data" / "mnist")
if not MNIST.is_dir():
    MNIST = Path("/work/shared/data/mnist")
CC = os.environ.get("CC", "cc")

pytestmark = pytest.mark.skipif(shutil.which(CC) is None, reason="no C compiler")


def _lib_has_train_layer():
    lib = Path(fastdl.get_lib()) / "libfastdl.so"
    if not lib.exists():
        return False
    r = subprocess.run(["nm", "-D", str(lib)], capture_output=True, text=True)
    return r.returncode != 0 or "fdl_mlp_init" in r.stdout


needs_lib = pytest.mark.skipif(not _lib_has_train_layer(),
                               reason="installed libfastdl lacks the train layer; reinstall")


def _zlib():
    r = subprocess.run([CC, "-x", "c", "-", "-o", os.devnull, "-lz"], input=
                       "#include <zlib.h>\nint main(void){return zlibVersion()[0] == 0;}\n",
                       capture_output=True, text=True)
    return r.returncode == 0


def _mnist_available():
    return all((MNIST / f).exists() for f in ("train-images-idx3-ubyte.gz",
                                               "train-labels-idx1-ubyte.gz",
                                               "t10k-images-idx3-ubyte.gz",
                                               "t10k-labels-idx1-ubyte.gz"))


needs_mnist = pytest.mark.skipif(not (_mnist_available() and _zlib()),
                                 reason="MNIST IDX files or zlib not available")


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(map(str, cmd)), r.returncode,
                                                          r.stdout, r.stderr))
    return r.stdout


def _link_flags():
    lib = fastdl.get_lib()
    return ["-I", fastdl.get_include(), "-L", lib, "-Wl,-rpath," + lib, "-lfastdl", "-lm"]


@needs_lib
def test_c_unit_tests(tmp_path):
    exe = tmp_path / "test_capi"
    _run([CC, "-std=gnu11", "-O1", "-g", "-Wall", "-Werror", str(ROOT / "tests/c/test_capi.c"),
          "-o", str(exe), *_link_flags()])
    out = _run([str(exe), str(tmp_path)])
    assert re.search(r"^OK: \d+ checks, 0 failed", out, re.M), out


@needs_lib
def test_c_unit_tests_fail_when_they_should(tmp_path):
    """The runner's exit status is wired: a broken check makes it fail."""
    src = (ROOT / "tests/c/test_capi.c").read_text()
    broken = src.replace("CHECK(C[0] == 19 &&", "CHECK(C[0] == 20 &&")
    assert broken != src
    (tmp_path / "broken.c").write_text(broken)
    _run([CC, "-std=gnu11", "-O1", str(tmp_path / "broken.c"), "-o", str(tmp_path / "b"),
          *_link_flags()])
    r = subprocess.run([str(tmp_path / "b"), str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "FAILED" in r.stdout, r.stdout


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """train_mlp, train_cnn and infer built by examples/c/Makefile against the package's copy."""
    if not _lib_has_train_layer():
        pytest.skip("installed libfastdl lacks the train layer")
    if not _zlib():
        pytest.skip("zlib not available")
    d = tmp_path_factory.mktemp("examples")
    for f in ("Makefile", "train_mlp.c", "train_cnn.c", "infer.c", "mnist_idx.h", "example_util.h"):
        shutil.copy(ROOT / "examples/c" / f, d / f)
    prefix = os.path.dirname(fastdl.get_lib())
    _run(["make", "-C", str(d), "FASTDL_PREFIX=" + prefix, "CC=" + CC])
    return d


def _idx(name, limit):
    with gzip.open(MNIST / name, "rb") as f:
        raw = f.read()
    if raw[3] == 3:
        n, r, c = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
        x = np.frombuffer(raw, np.uint8, offset=16).reshape(n, r * c)[:limit]
        return x.astype(np.float32) / np.float32(255.0)
    return np.frombuffer(raw, np.uint8, offset=8)[:limit].astype(np.int64)


def _mlp(sizes=(784, 256, 128, 10)):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(fastdl.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(fastdl.nn.ReLU())
    return fastdl.nn.Sequential(*layers)


def _cnn(c1=32, c2=64, hidden=128):
    nn = fastdl.nn
    return nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(c2 * 49, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def _numpy_logits(state, x):
    keys = sorted({k.split(".")[0] for k in state}, key=int)
    h = x
    for i, k in enumerate(keys):
        w, b = np.asarray(state[k + ".weight"]), np.asarray(state[k + ".bias"])
        h = h @ w.T + b
        if i < len(keys) - 1:
            h = np.maximum(h, 0)
    return h


def _parse_epochs(out):
    return [dict(loss=float(m.group(1)), train_acc=float(m.group(2)), test_acc=float(m.group(3)))
            for m in re.finditer(r"^epoch \d+\s+loss (\S+)\s+train_acc (\S+)\s+test_acc (\S+)"
                                 r"\s+time \S+ s\s+\d+ samples/s$", out, re.M)]


@needs_mnist
def test_train_mlp_then_infer(examples, tmp_path):
    """C trains on 2000 images and saves; infer.c and NumPy agree on the saved weights."""
    w = tmp_path / "c.safetensors"
    out = _run([str(examples / "train_mlp"), "--data", str(MNIST), "--limit", "2000",
                "--test-limit", "1000", "--epochs", "1", "--save", str(w)])
    ep = _parse_epochs(out)
    assert len(ep) == 1, out
    assert ep[0]["loss"] < 2.3 and ep[0]["test_acc"] > 0.5, out

    out = _run([str(examples / "infer"), str(w), "--data", str(MNIST), "--limit", "1000"])
    m = re.search(r"correct (\d+)\s+accuracy (\S+)", out)
    assert m, out
    assert float(m.group(2)) == pytest.approx(ep[0]["test_acc"], abs=1e-4)

    state = fastdl.load(w)   # what fastdl.save would have written: a flat state dict
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    model = _mlp()
    model.load_state_dict(state)
    x, y = _idx("t10k-images-idx3-ubyte.gz", 1000), _idx("t10k-labels-idx1-ubyte.gz", 1000)
    pred = _numpy_logits({k: v.numpy() for k, v in state.items()}, x.astype(np.float64))
    assert abs(int((pred.argmax(1) == y).sum()) - int(m.group(1))) <= 2


@needs_mnist
def test_infer_reads_python_weights(examples, tmp_path):
    """A model saved with fastdl.save(model.state_dict()) runs in C with the same accuracy."""
    fastdl.manual_seed(3)
    model = _mlp((784, 64, 10))
    x, y = _idx("train-images-idx3-ubyte.gz", 1000), _idx("train-labels-idx1-ubyte.gz", 1000)
    opt = fastdl.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = fastdl.nn.CrossEntropyLoss()
    for s in range(0, 1000, 100):
        opt.zero_grad()
        loss_fn(model(fastdl.from_numpy(x[s:s + 100])), fastdl.from_numpy(y[s:s + 100])).backward()
        opt.step()
    path = tmp_path / "py.safetensors"
    fastdl.save(model.state_dict(), path)
    out = _run([str(examples / "infer"), str(path), "--data", str(MNIST), "--limit", "500",
                "--hidden", "64"])
    xt, yt = _idx("t10k-images-idx3-ubyte.gz", 500), _idx("t10k-labels-idx1-ubyte.gz", 500)
    with fastdl.no_grad():
        logits = model(fastdl.from_numpy(xt)).numpy()
    want = int((logits.argmax(1) == yt).sum())
    got = int(re.search(r"correct (\d+)", out).group(1))
    assert abs(got - want) <= 1, out

    # Strict loading: the wrong architecture is an error naming the tensor.
    r = subprocess.run([str(examples / "infer"), str(path), "--data", str(MNIST), "--limit", "10",
                        "--hidden", "32"], capture_output=True, text=True)
    assert r.returncode == 1 and "0.weight" in r.stderr and "shape" in r.stderr, r.stderr
    # A truncated file is reported as such, not a crash.
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    r = subprocess.run([str(examples / "infer"), str(path), "--data", str(MNIST), "--limit", "10",
                        "--hidden", "64"], capture_output=True, text=True)
    assert r.returncode == 1 and "format" in r.stderr.lower(), r.stderr


@needs_mnist
def test_one_epoch_same_in_c_and_python(examples, tmp_path):
    """Same initial weights, same batches (no shuffle), Adam: C and Python agree."""
    n, batch = 2000, 128
    fastdl.manual_seed(0)
    model = _mlp()
    init = tmp_path / "init.safetensors"
    fastdl.save(model.state_dict(), init)

    c_out = tmp_path / "c.safetensors"
    out = _run([str(examples / "train_mlp"), "--data", str(MNIST), "--limit", str(n),
                "--test-limit", "100", "--epochs", "1", "--no-shuffle", "--init", str(init),
                "--save", str(c_out)])
    c_loss = _parse_epochs(out)[0]["loss"]

    x, y = _idx("train-images-idx3-ubyte.gz", n), _idx("train-labels-idx1-ubyte.gz", n)
    opt = fastdl.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = fastdl.nn.CrossEntropyLoss()
    total = 0.0
    for s in range(0, n, batch):
        xb, yb = x[s:s + batch], y[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(fastdl.from_numpy(xb)), fastdl.from_numpy(yb))
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    py_loss = total / n

    assert c_loss == pytest.approx(py_loss, rel=1e-5, abs=1e-6), (c_loss, py_loss)
    c_state = fastdl.load(c_out)
    for k, v in model.state_dict().items():
        a, b = c_state[k].numpy(), v.numpy()
        # Measured: max difference ~1e-6 after 16 steps (float rounding only).
        assert np.abs(a - b).max() < 1e-5, (k, float(np.abs(a - b).max()))
    # ... and training really moved the weights, so the agreement is not vacuous.
    init_state = fastdl.load(init)
    assert np.abs(c_state["0.weight"].numpy() - init_state["0.weight"].numpy()).max() > 1e-3


@needs_mnist
def test_one_epoch_cnn_same_in_c_and_python(examples, tmp_path):
    """The CNN: same initial weights (fastdl.save), same batches, SGD with momentum as
    benchmarks/training.py: train_cnn and fastdl agree, and fastdl.load reads C's weights."""
    n, batch, c1, c2, hidden = 512, 64, 8, 16, 32
    fastdl.manual_seed(0)
    model = _cnn(c1, c2, hidden)
    init = tmp_path / "init.safetensors"
    fastdl.save(model.state_dict(), init)

    c_out = tmp_path / "c.safetensors"
    out = _run([str(examples / "train_cnn"), "--data", str(MNIST), "--limit", str(n),
                "--test-limit", "200", "--epochs", "1", "--batch", str(batch), "--no-shuffle",
                "--channels", "%d,%d" % (c1, c2), "--hidden", str(hidden), "--init", str(init),
                "--save", str(c_out)])
    ep = _parse_epochs(out)
    assert len(ep) == 1, out
    c_loss = ep[0]["loss"]

    x, y = _idx("train-images-idx3-ubyte.gz", n), _idx("train-labels-idx1-ubyte.gz", n)
    x = x.reshape(n, 1, 28, 28)
    opt = fastdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = fastdl.nn.CrossEntropyLoss()
    total = 0.0
    for s in range(0, n, batch):
        xb, yb = x[s:s + batch], y[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(fastdl.from_numpy(np.ascontiguousarray(xb))), fastdl.from_numpy(yb))
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    py_loss = total / n

    assert c_loss == pytest.approx(py_loss, rel=1e-4, abs=1e-5), (c_loss, py_loss)
    c_state = fastdl.load(c_out)
    assert sorted(c_state) == sorted(model.state_dict()), sorted(c_state)
    init_state = fastdl.load(init)
    for k, v in model.state_dict().items():
        a, b = c_state[k].numpy(), v.numpy()
        assert a.shape == b.shape, (k, a.shape, b.shape)
        moved = np.abs(b - init_state[k].numpy()).max()
        assert np.abs(a - b).max() <= 1e-3 * moved + 1e-6, (k, float(np.abs(a - b).max()),
                                                            float(moved))
    # training moved the weights, so the agreement is not vacuous
    assert np.abs(c_state["0.weight"].numpy() - init_state["0.weight"].numpy()).max() > 1e-3

    # The weights C wrote score the same in Python as C's own test accuracy.
    model.load_state_dict(c_state)
    xt, yt = _idx("t10k-images-idx3-ubyte.gz", 200), _idx("t10k-labels-idx1-ubyte.gz", 200)
    with fastdl.no_grad():
        logits = model(fastdl.from_numpy(np.ascontiguousarray(xt.reshape(-1, 1, 28, 28)))).numpy()
    assert abs(float((logits.argmax(1) == yt).mean()) - ep[0]["test_acc"]) <= 0.01, out


@needs_mnist
def test_train_cnn_learns(examples, tmp_path):
    """The default benchmark CNN, one epoch on 2000 images from C, learns."""
    out = _run([str(examples / "train_cnn"), "--data", str(MNIST), "--limit", "2000",
                "--test-limit", "500", "--epochs", "1"])
    ep = _parse_epochs(out)
    assert len(ep) == 1, out
    assert ep[0]["loss"] < 2.3 and ep[0]["test_acc"] > 0.4, out


def test_cython_cimport_from_another_project(tmp_path):
    """Another project's Cython code cimports fastdl's .pxd and calls a kernel nogil."""
    pytest.importorskip("Cython")
    pkg = Path(fastdl.__file__).parent
    if not (pkg / "_C" / "gemm.pxd").exists() or not (Path(fastdl.get_lib()) / "libfastdl.so").exists():
        pytest.skip("fastdl's .pxd files or libfastdl.so are not installed")
    (tmp_path / "user_ext.pyx").write_text(
        "# cython: language_level=3\n"
        "from fastdl._C.gemm cimport fdl_sgemm\n"
        "from fastdl._C._core cimport fdl_get_num_threads\n"
        "def matmul_2x2(float[::1] a, float[::1] b):\n"
        "    cdef float c[4]\n"
        "    cdef int st\n"
        "    with nogil:\n"
        "        st = fdl_sgemm(0, 0, 2, 2, 2, 1.0, &a[0], 2, &b[0], 2, 0.0, c, 2)\n"
        "    return st, [c[0], c[1], c[2], c[3]], fdl_get_num_threads()\n")
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup, Extension\n"
        "from Cython.Build import cythonize\n"
        "import fastdl, os\n"
        "pkg_parent = os.path.dirname(os.path.dirname(fastdl.__file__))\n"
        "ext = Extension('user_ext', ['user_ext.pyx'], include_dirs=[fastdl.get_include()],\n"
        "                library_dirs=[fastdl.get_lib()], libraries=['fastdl'],\n"
        "                runtime_library_dirs=[fastdl.get_lib()])\n"
        "setup(name='user_ext', ext_modules=cythonize([ext], include_path=[pkg_parent],\n"
        "      compiler_directives={'language_level': 3}), script_args=['build_ext', '--inplace'])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fastdl.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "setup.py"], cwd=tmp_path, capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        pytest.fail("building a Cython extension against fastdl failed:\n" + r.stderr[-3000:])
    code = ("import user_ext, numpy as np\n"
            "print(user_ext.matmul_2x2(np.array([1, 2, 3, 4], np.float32),"
            " np.array([5, 6, 7, 8], np.float32)))\n")
    out = _run([sys.executable, "-c", code], cwd=tmp_path, env=env)
    assert out.strip().startswith("(0, [19.0, 22.0, 43.0, 50.0],"), out


@pytest.mark.skipif(os.environ.get("FASTDL_TEST_SANITIZE") != "1",
                    reason="~1 min: set FASTDL_TEST_SANITIZE=1 (CI does)")
def test_c_unit_tests_under_asan_ubsan(tmp_path):
    """libfastdl and the C tests built with -fsanitize=address,undefined run clean."""
    build = tmp_path / "build-san"
    jobs = str(os.cpu_count() or 2)
    _run(["make", "-C", str(ROOT / "csrc"), "-j" + jobs, "SANITIZE=1", "BUILD=" + str(build),
          "CC=" + CC, str(build / "libfastdl.so")])
    exe = tmp_path / "test_capi_san"
    _run([CC, "-std=gnu11", "-O1", "-g", "-fno-omit-frame-pointer",
          "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
          str(ROOT / "tests/c/test_capi.c"), "-o", str(exe), "-I", str(ROOT / "csrc/include"),
          "-L", str(build), "-Wl,-rpath," + str(build), "-lfastdl", "-lm"])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for threads in ("1", "2"):
        env["OMP_NUM_THREADS"] = threads
        out = _run([str(exe), str(tmp_path)], env=env)
        assert re.search(r"^OK: \d+ checks, 0 failed", out, re.M), out
