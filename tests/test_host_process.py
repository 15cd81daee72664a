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
