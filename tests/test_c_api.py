"""libfastdl from C: the C test runners (tests/c/test_capi.c, tests/c/test_model.c),
the examples in examples/c (train, infer, infer_cpp) on a small MNIST subset,
models handed between Python and C in both directions (fastdl.export,
fastdl.load_model), one epoch of the same MLP and CNN trained in C and in
Python, and a Cython extension that cimports fastdl's .pxd files.

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
    return r.returncode != 0 or "fdl_model_load" in r.stdout


needs_lib = pytest.mark.skipif(not _lib_has_train_layer(),
                               reason="installed libfastdl lacks the model runtime; reinstall")


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
@pytest.mark.parametrize("runner", ["test_capi", "test_model"])
def test_c_unit_tests(tmp_path, runner):
    exe = tmp_path / runner
    _run([CC, "-std=gnu11", "-O1", "-g", "-Wall", "-Werror", str(ROOT / "tests/c" / (runner + ".c")),
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
    _run([CC, "-std=gnu11", "-O1", str(tmp_path / "broken.c"), "-I", str(ROOT / "tests/c"),
          "-o", str(tmp_path / "b"), *_link_flags()])
    r = subprocess.run([str(tmp_path / "b"), str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "FAILED" in r.stdout, r.stdout


CXX = os.environ.get("CXX", "g++")


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """train, infer and infer_cpp built by examples/c/Makefile against the package's copy."""
    if not _lib_has_train_layer():
        pytest.skip("installed libfastdl lacks the model runtime")
    if not _zlib():
        pytest.skip("zlib not available")
    if shutil.which(CXX) is None:
        pytest.skip("no C++ compiler for infer.cpp")
    d = tmp_path_factory.mktemp("examples")
    for f in ("Makefile", "train.c", "infer.c", "infer.cpp", "mnist_idx.h", "example_util.h"):
        shutil.copy(ROOT / "examples/c" / f, d / f)
    prefix = os.path.dirname(fastdl.get_lib())
    _run(["make", "-C", str(d), "FASTDL_PREFIX=" + prefix, "CC=" + CC, "CXX=" + CXX])
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


def _other():
    """An architecture no C example spells out: BatchNorm, GELU, AvgPool, LayerNorm,
    Dropout, SiLU."""
    nn = fastdl.nn
    return nn.Sequential(nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.BatchNorm2d(8), nn.GELU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.LayerNorm(8 * 7 * 7),
                         nn.Dropout(0.1), nn.Linear(8 * 7 * 7, 64), nn.SiLU(),
                         nn.Linear(64, 10))


def _parse_epochs(out):
    return [dict(loss=float(m.group(1)), train_acc=float(m.group(2)), test_acc=float(m.group(3)))
            for m in re.finditer(r"^epoch \d+\s+loss (\S+)\s+train_acc (\S+)\s+test_acc (\S+)"
                                 r"\s+time \S+ s\s+\d+ samples/s$", out, re.M)]


def _accuracy(model, n):
    xt, yt = _idx("t10k-images-idx3-ubyte.gz", n), _idx("t10k-labels-idx1-ubyte.gz", n)
    first = next(iter(model.children()))
    if isinstance(first, fastdl.nn.Conv2d):
        xt = np.ascontiguousarray(xt.reshape(-1, 1, 28, 28))
    model.eval()
    with fastdl.no_grad():
        logits = model(fastdl.from_numpy(xt)).numpy()
    model.train()
    return int((logits.argmax(1) == yt).sum())


@needs_mnist
def test_train_mlp_then_infer(examples, tmp_path):
    """C trains an exported MLP on 2000 images and saves; infer.c and Python agree on it."""
    fastdl.manual_seed(0)
    path = tmp_path / "mlp.safetensors"
    fastdl.export(_mlp(), path, np.zeros((1, 784), np.float32))
    w = tmp_path / "c.safetensors"
    out = _run([str(examples / "train"), str(path), "--data", str(MNIST), "--limit", "2000",
                "--test-limit", "1000", "--epochs", "1", "--save", str(w)])
    ep = _parse_epochs(out)
    assert len(ep) == 1, out
    assert ep[0]["loss"] < 2.3 and ep[0]["test_acc"] > 0.5, out

    out = _run([str(examples / "infer"), str(w), "--data", str(MNIST), "--limit", "1000"])
    m = re.search(r"correct (\d+)\s+accuracy (\S+)", out)
    assert m, out
    assert float(m.group(2)) == pytest.approx(ep[0]["test_acc"], abs=1e-4)

    state = fastdl.load(w)   # a state dict for fastdl.load, a model for fastdl.load_model
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    back = fastdl.load_model(w)
    assert abs(_accuracy(back, 1000) - int(m.group(1))) <= 2


@needs_mnist
def test_infer_reads_python_model(examples, tmp_path):
    """A model trained and exported in Python runs in C with the same accuracy."""
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
    fastdl.export(model, path, x[:1])
    out = _run([str(examples / "infer"), str(path), "--data", str(MNIST), "--limit", "500"])
    got = int(re.search(r"correct (\d+)", out).group(1))
    assert abs(got - _accuracy(model, 500)) <= 1, out

    # A model of another shape is refused, naming what does not fit.
    fastdl.export(_mlp((20, 10)), tmp_path / "small.safetensors", np.zeros((1, 20), np.float32))
    r = subprocess.run([str(examples / "infer"), str(tmp_path / "small.safetensors"), "--data",
                        str(MNIST), "--limit", "10"], capture_output=True, text=True)
    assert r.returncode == 1 and "20 inputs" in r.stderr, r.stderr
    # A truncated file is reported as such, not a crash.
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    r = subprocess.run([str(examples / "infer"), str(path), "--data", str(MNIST), "--limit", "10"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "format" in r.stderr.lower(), r.stderr


def _one_epoch(examples, tmp_path, model, opt, c_args, n, batch, image):
    init = tmp_path / "init.safetensors"
    shape = (1, 1, 28, 28) if image else (1, 784)
    fastdl.export(model, init, np.zeros(shape, np.float32))
    c_out = tmp_path / "c.safetensors"
    out = _run([str(examples / "train"), str(init), "--data", str(MNIST), "--limit", str(n),
                "--test-limit", "100", "--epochs", "1", "--batch", str(batch), "--no-shuffle",
                "--save", str(c_out), *c_args])
    ep = _parse_epochs(out)
    assert len(ep) == 1, out
    x, y = _idx("train-images-idx3-ubyte.gz", n), _idx("train-labels-idx1-ubyte.gz", n)
    if image:
        x = x.reshape(n, 1, 28, 28)
    loss_fn = fastdl.nn.CrossEntropyLoss()
    total = 0.0
    for s in range(0, n, batch):
        xb, yb = np.ascontiguousarray(x[s:s + batch]), y[s:s + batch]
        opt.zero_grad()
        loss = loss_fn(model(fastdl.from_numpy(xb)), fastdl.from_numpy(yb))
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    return ep[0]["loss"], total / n, fastdl.load(c_out), fastdl.load(init)


@needs_mnist
def test_one_epoch_mlp_same_in_c_and_python(examples, tmp_path):
    """Same initial weights, same batches (no shuffle), Adam: C and Python agree."""
    fastdl.manual_seed(0)
    model = _mlp()
    opt = fastdl.optim.Adam(model.parameters(), lr=1e-3)
    c_loss, py_loss, c_state, init_state = _one_epoch(examples, tmp_path, model, opt, [], 2000,
                                                      128, False)
    assert c_loss == pytest.approx(py_loss, rel=1e-5, abs=1e-6), (c_loss, py_loss)
    for k, v in model.state_dict().items():
        a, b = c_state[k].numpy(), v.numpy()
        # the same kernels in the same order: agreement to float rounding
        assert np.abs(a - b).max() < 1e-5, (k, float(np.abs(a - b).max()))
    # training really moved the weights, so the agreement is not vacuous
    assert np.abs(c_state["0.weight"].numpy() - init_state["0.weight"].numpy()).max() > 1e-3


@needs_mnist
def test_one_epoch_cnn_same_in_c_and_python(examples, tmp_path):
    """The CNN with SGD + momentum as benchmarks/training.py: train and fastdl agree."""
    fastdl.manual_seed(0)
    model = _cnn(8, 16, 32)
    opt = fastdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    c_loss, py_loss, c_state, init_state = _one_epoch(
        examples, tmp_path, model, opt, ["--opt", "sgd", "--lr", "0.05", "--momentum", "0.9"],
        512, 64, True)
    assert c_loss == pytest.approx(py_loss, rel=1e-4, abs=1e-5), (c_loss, py_loss)
    assert sorted(c_state) == sorted(model.state_dict()), sorted(c_state)
    for k, v in model.state_dict().items():
        a, b = c_state[k].numpy(), v.numpy()
        moved = np.abs(b - init_state[k].numpy()).max()
        assert np.abs(a - b).max() <= 1e-3 * moved + 1e-6, (k, float(np.abs(a - b).max()),
                                                            float(moved))
    assert np.abs(c_state["0.weight"].numpy() - init_state["0.weight"].numpy()).max() > 1e-3


@needs_mnist
def test_c_trains_an_architecture_it_does_not_hard_code(examples, tmp_path):
    """train.c knows nothing of this model: BatchNorm, GELU, AvgPool, LayerNorm, Dropout,
    SiLU come from the file; it learns, and Python scores the result as C does."""
    fastdl.manual_seed(1)
    path = tmp_path / "other.safetensors"
    fastdl.export(_other(), path, np.zeros((1, 1, 28, 28), np.float32))
    w = tmp_path / "trained.safetensors"
    out = _run([str(examples / "train"), str(path), "--data", str(MNIST), "--limit", "2000",
                "--test-limit", "500", "--epochs", "1", "--save", str(w)])
    ep = _parse_epochs(out)
    assert len(ep) == 1 and "10 layers" in out, out
    assert ep[0]["loss"] < 2.0 and ep[0]["test_acc"] > 0.6, out
    back = fastdl.load_model(w)
    assert int(back[1].num_batches_tracked.item()) == 16     # 2000 / 128 batches
    assert abs(_accuracy(back, 500) / 500 - ep[0]["test_acc"]) <= 0.004, out


def test_infer_cpp_matches_python(examples, tmp_path):
    """The C++ example runs an exported model; its scores are Python's."""
    fastdl.manual_seed(4)
    model = _other()
    model(fastdl.randn(8, 1, 28, 28))          # BatchNorm statistics away from 0 / 1
    path = tmp_path / "m.safetensors"
    fastdl.export(model, path, np.zeros((1, 1, 28, 28), np.float32))
    out = _run([str(examples / "infer_cpp"), str(path)])
    assert "output [4, 10]" in out, out
    got = np.array([[float(v) for v in line.split(":")[1].split()]
                    for line in out.splitlines() if line.startswith("sample")])
    x = (np.arange(4 * 784, dtype=np.float32) / np.float32(4 * 784)).reshape(4, 1, 28, 28)
    model.eval()
    with fastdl.no_grad():
        want = model(fastdl.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-4)
    r = subprocess.run([str(examples / "infer_cpp"), str(tmp_path / "absent")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "cannot open" in r.stderr, r.stderr


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
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for runner in ("test_capi", "test_model"):
        exe = tmp_path / (runner + "_san")
        _run([CC, "-std=gnu11", "-O1", "-g", "-fno-omit-frame-pointer",
              "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
              str(ROOT / "tests/c" / (runner + ".c")), "-o", str(exe), "-I",
              str(ROOT / "csrc/include"), "-L", str(build), "-Wl,-rpath," + str(build),
              "-lfastdl", "-lm"])
        for threads in ("1", "2"):
            env["OMP_NUM_THREADS"] = threads
            out = _run([str(exe), str(tmp_path)], env=env)
            assert re.search(r"^OK: \d+ checks, 0 failed", out, re.M), (runner, out)
