"""Build and configuration: show_config, ISA forcing, thread settings, headers."""
import os
import subprocess
import sys

import pytest

import fastdl
from fastdl._C import _core


def run_py(code, **env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/tests")


def test_show_config_names_everything(capsys):
    fastdl.show_config()
    out = capsys.readouterr().out
    for key in ("fastdl", "compiler", "openmp", "isa detected", "isa active", "threads"):
        assert key in out
    assert fastdl.__version__ in out


def test_config_is_consistent():
    c = fastdl.config()
    assert c["isa_detected"] in ("generic", "avx2", "avx512")
    order = ["generic", "avx2", "avx512"]
    assert order.index(c["isa_active"]) <= order.index(c["isa_detected"])
    assert c["threads"] >= 1
    if os.environ.get("FASTDL_EXPECT_SERIAL"):
        assert c["openmp"] is False and c["threads"] == 1


def test_forcing_generic_isa_in_a_fresh_process():
    r = run_py("import fastdl; print(fastdl.config()['isa_active'])", FASTDL_ISA="generic")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "generic"


def test_unknown_isa_warns_and_falls_back():
    r = run_py("import warnings, fastdl; print(fastdl.config()['isa_active'])",
               FASTDL_ISA="avx9000")
    assert r.returncode == 0, r.stderr
    assert "FASTDL_ISA=avx9000" in r.stderr
    assert r.stdout.strip() == _core.detected_isa()


@pytest.mark.skipif(_core.detected_isa() == "avx512", reason="CPU has AVX-512")
def test_unsupported_isa_warns_not_crashes():
    r = run_py("import fastdl; print(fastdl.config()['isa_active'])", FASTDL_ISA="avx512")
    assert r.returncode == 0, r.stderr
    assert "does not support" in r.stderr


def test_set_isa_rejects_unknown_names():
    with pytest.raises(ValueError, match="set_isa"):
        _core.set_isa("sse9")


def test_set_isa_roundtrip():
    prev = _core.get_isa()
    try:
        _core.set_isa("generic")
        assert _core.get_isa() == "generic"
    finally:
        _core.set_isa(prev)


def test_threads_setting():
    prev = fastdl.get_num_threads()
    try:
        fastdl.set_num_threads(1)
        assert fastdl.get_num_threads() == 1
        fastdl.set_num_threads(2)
        assert fastdl.get_num_threads() == (2 if fastdl.config()["openmp"] else 1)
        with pytest.raises(ValueError, match="set_num_threads"):
            fastdl.set_num_threads(0)
    finally:
        fastdl.set_num_threads(prev)


def test_omp_num_threads_sets_the_default():
    r = run_py("import fastdl; print(fastdl.get_num_threads())", OMP_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"


def test_headers_and_library_are_installed():
    inc = fastdl.get_include()
    assert os.path.isfile(os.path.join(inc, "fastdl.h"))
    assert os.path.isfile(os.path.join(inc, "fastdl", "gemm.h"))
    assert os.path.isfile(os.path.join(fastdl.get_lib(), "libfastdl.so"))


def test_python_m_fastdl_info():
    r = subprocess.run([sys.executable, "-m", "fastdl", "info"], capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    assert "isa active" in r.stdout
