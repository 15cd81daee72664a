"""A library that leaves its host process alone (issue 11, section 3).

Importing fastdl changes nothing process-wide (environment, malloc, OpenMP
settings); show_config reports the OpenMP wait policy the runtime read; the
GEMM's scratch memory is a pool that fastdl.empty_cache() releases; the
shared library exports only fdl_* symbols.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastdl


def run_py(code, drop=(), **env):
    e = {k: v for k, v in os.environ.items() if k not in drop}
    e.update(env)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_leaves_the_environment_alone():
    out = run_py("import os, json; before = dict(os.environ); import fastdl; "
                 "print(json.dumps([before == dict(os.environ), fastdl.config()['malloc']]))",
                 drop=("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
    same, malloc = json.loads(out)
    assert same, "importing fastdl changed os.environ"
    assert malloc == "system defaults"


def test_import_does_not_tune_malloc():
    # mallopt(M_MMAP_THRESHOLD) would keep a 64 MiB block off mmap; with
    # glibc's defaults a fresh 64 MiB NumPy buffer is a new mapping whose
    # address lies outside the heap (brk) area.
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc malloc check is Linux-only")
    code = ("import ctypes, numpy as np, fastdl\n"
            "libc = ctypes.CDLL(None)\n"
            "libc.sbrk.restype = ctypes.c_void_p\n"
            "brk = libc.sbrk(0)\n"
            "a = np.empty(64 << 18, np.float32)\n"
            "print(int(a.ctypes.data > brk + (1 << 30) or a.ctypes.data < brk - (1 << 30)))\n")
    assert run_py(code).strip() == "1"


def test_wait_policy_reported_as_the_runtime_read_it():
    if not fastdl.config()["openmp"]:
        assert fastdl.config()["omp_wait_policy"].startswith("n/a")
        return
    code = ("import os, fastdl; os.environ['GOMP_SPINCOUNT'] = '7'; "
            "print(fastdl.config()['omp_wait_policy'])")
    out = run_py(code, drop=("GOMP_SPINCOUNT",), OMP_WAIT_POLICY="passive").strip()
    assert out == "OMP_WAIT_POLICY=passive"   # the later os.environ change is not in force
    out = run_py("import fastdl; print(fastdl.config()['omp_wait_policy'])",
                 drop=("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")).strip()
    assert "default" in out and "OMP_WAIT_POLICY=passive" in out   # names the recommendation
    out = run_py("import fastdl; fastdl.show_config()", drop=("OMP_WAIT_POLICY",),
                 GOMP_SPINCOUNT="1000")
    assert "omp wait:      GOMP_SPINCOUNT=1000" in out


def test_empty_cache_releases_gemm_scratch():
    a = np.ones((300, 300), np.float32)
    (fastdl.tensor(a) @ fastdl.tensor(a)).numpy()
    assert fastdl.config()["scratch_cached_bytes"] >= 4 << 20   # one packed B panel at least
    fastdl.empty_cache()
    assert fastdl.config()["scratch_cached_bytes"] == 0
    # and the next product allocates again, with the same result
    r = (fastdl.tensor(a) @ fastdl.tensor(a)).numpy()
    np.testing.assert_array_equal(r, np.full((300, 300), 300, np.float32))
    d = np.ones((40, 50))
    np.testing.assert_allclose((fastdl.tensor(d) @ fastdl.tensor(d.T)).numpy(), d @ d.T)
    assert fastdl.config()["scratch_cached_bytes"] > 0
    fastdl.empty_cache()
    assert fastdl.config()["scratch_cached_bytes"] == 0


def test_scratch_pool_does_not_grow_with_repeated_calls():
    a = np.ones((200, 300), np.float32)
    for _ in range(3):
        (fastdl.tensor(a) @ fastdl.tensor(a.T)).numpy()
    first = fastdl.config()["scratch_cached_bytes"]
    for _ in range(20):
        (fastdl.tensor(a) @ fastdl.tensor(a.T)).numpy()
    assert fastdl.config()["scratch_cached_bytes"] == first


def test_shared_library_exports_only_fdl_symbols():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) not installed")
    lib = os.path.join(fastdl.get_lib(), "libfastdl.so")
    out = subprocess.run([nm, "-D", "--defined-only", lib], capture_output=True, text=True,
                         check=True).stdout
    names = [line.split()[-1] for line in out.splitlines() if line.strip()]
    assert "fdl_sgemm" in names and "fdl_empty_cache" in names
    others = [n for n in names if not n.startswith("fdl_")]
    assert others == [], "libfastdl.so exports non-fdl_ symbols: %s" % others[:20]
    # internal kernels shared between its files are not exported either
    assert "fdl_sgemm_avx512_12x32" not in names and "fdl_sgemm_pack_a" not in names
    # exactly the functions the headers declare with FDL_API
    import glob
    import re
    inc = fastdl.get_include()
    declared = set()
    for h in [os.path.join(inc, "fastdl.h")] + glob.glob(os.path.join(inc, "fastdl", "*.h")):
        with open(h) as f:
            declared |= set(re.findall(r"FDL_API[^(;]*?\b(fdl_\w+)\(", f.read()))
    assert set(names) == declared, (sorted(set(names) - declared)[:10],
                                    sorted(declared - set(names))[:10])


def test_tune_malloc_is_an_explicit_opt_in():
    applied = fastdl.tune_malloc()
    if sys.platform.startswith("linux"):
        import ctypes.util
        glibc = (ctypes.util.find_library("c") or "").startswith("libc.so")
        assert applied is glibc
    if applied:
        assert fastdl.config()["malloc"].startswith("glibc tuned by fastdl.tune_malloc()")
        assert fastdl.tune_malloc() is True       # idempotent


# ---- large tensors in fastdl's block cache (fdl_cache_alloc) ----------------------------

def _cached_bytes():
    return fastdl.config()["scratch_cached_bytes"]


def test_large_kernel_outputs_come_back_to_the_cache():
    import fastdl.nn.functional as F
    fastdl.empty_cache()
    x = fastdl.randn(1024, 1024, requires_grad=True)        # 4 MiB
    y = F.relu(x)
    assert type(y.detach().numpy().base).__name__ == "_Block"   # storage from the cache
    y.sum().backward()
    del y
    x.grad = None
    held = _cached_bytes()
    assert held >= 4 << 20, held                            # freed outputs are idle blocks
    with fastdl.no_grad():
        y2 = F.relu(x)                                      # reuses an idle block
    assert _cached_bytes() < held
    np.testing.assert_array_equal(y2.numpy(), np.maximum(x.detach().numpy(), 0))
    del y2
    fastdl.empty_cache()
    assert _cached_bytes() == 0


def test_small_outputs_stay_with_numpy():
    import fastdl.nn.functional as F
    y = F.relu(fastdl.randn(16, 16))
    assert type(y.numpy().base).__name__ != "_Block"


def test_a_view_keeps_its_block_alive():
    from fastdl._C import _alloc
    fastdl.empty_cache()
    a = _alloc.empty((512, 1024), np.float32)                # 2 MiB
    a[...] = 7.0
    view = a[100:200]
    del a                                                   # the view still owns the block
    assert _cached_bytes() == 0
    others = [_alloc.zeros((512, 1024), np.float32) for _ in range(3)]
    assert (view == 7.0).all()                              # not handed out again
    assert all((o == 0).all() for o in others)
    del view, others
    assert _cached_bytes() >= 4 * (2 << 20)


def test_a_small_request_does_not_pin_a_large_block():
    from fastdl._C import _alloc
    fastdl.empty_cache()
    big = _alloc.empty((16 << 20,), np.float32)             # 64 MiB
    del big
    held = _cached_bytes()
    small = _alloc.zeros((1 << 18,), np.float32)            # 1 MiB: not from the 64 MiB block
    assert _cached_bytes() == held
    assert (small == 0).all()
    del small
    fastdl.empty_cache()


@pytest.mark.parametrize("fn, arg", [("empty", (3, -1)), ("zeros", (2, -5))])
def test_negative_shape_is_refused(fn, arg):
    from fastdl._C import _alloc
    with pytest.raises(ValueError, match="negative dimension"):
        getattr(_alloc, fn)(arg, np.float32)


def test_cache_works_in_a_forked_child():
    code = ("import os, numpy as np, fastdl, fastdl.nn.functional as F\n"
            "x = fastdl.randn(1024, 1024); F.relu(x); fastdl.set_num_threads(2); F.relu(x)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    y = F.relu(x).numpy(); ok = (y == np.maximum(x.numpy(), 0)).all()\n"
            "    os._exit(0 if ok else 3)\n"
            "_, st = os.waitpid(pid, 0); print(os.waitstatus_to_exitcode(st))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"
