"""Build and run-time configuration: ISA, threads, OpenMP, compiler."""
import os
import sys
import warnings

import numpy as np

from fastdl._C import _core

__all__ = ["show_config", "config", "set_num_threads", "get_num_threads", "get_include",
           "get_lib", "empty_cache", "tune_malloc"]

_ENV_VARS = ("FASTDL_ISA", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
             "FASTDL_DATA", "FASTDL_CONV_ALGO")


def set_num_threads(n):
    """Set the number of threads fastdl's kernels use (always 1 in a build without OpenMP).

    Results are the same for any thread count. The default comes from
    OMP_NUM_THREADS, else the number of cores.

    A process forked (os.fork, multiprocessing 'fork') from one that has had 2 or
    more threads runs its kernels serially: OpenMP's thread pool does not survive
    fork, and a new team there would hang. Asking for more threads in such a
    child warns and keeps 1.

    Args:
        n: a positive count (ValueError otherwise).

    Example:
        >>> n = fastdl.get_num_threads()
        >>> fastdl.set_num_threads(1)
        >>> fastdl.get_num_threads()
        1
        >>> fastdl.set_num_threads(n)
    """
    n = int(n)
    if n < 1:
        raise ValueError("set_num_threads: expected a positive count, got %d" % n)
    _core.set_num_threads(n)
    if n > 1 and _core.has_openmp() and _core.get_num_threads() == 1:
        warnings.warn("set_num_threads(%d): this process was forked from one where fastdl "
                      "used OpenMP threads, which cannot restart after fork; kernels stay serial "
                      "(start the process with the 'spawn' or 'forkserver' method for threads)"
                      % n, RuntimeWarning, stacklevel=2)


def get_num_threads():
    """The number of threads fastdl's kernels use.

    Example:
        >>> fastdl.get_num_threads() >= 1
        True
    """
    return _core.get_num_threads()


def empty_cache():
    """Release the scratch memory fastdl keeps cached between calls.

    The matrix products take their packing buffers (a few MiB per thread)
    from a block cache and give them back after each call, and the storage
    of large tensors that fastdl's kernels make (256 KiB and up) returns to
    the same cache when the last array using it is gone, so the next step
    does not page-fault fresh memory in. This frees the idle blocks; later
    calls allocate what they need. Blocks in use are kept.
    (PyTorch's name: torch.cuda.empty_cache.)

    Example:
        >>> fastdl.empty_cache()
    """
    _core.empty_cache()


def get_include():
    """The directory holding fastdl.h, for C, C++ and Cython builds against libfastdl.

    Example:
        >>> import os
        >>> os.path.isfile(os.path.join(fastdl.get_include(), "fastdl.h"))
        True
    """
    return os.path.join(os.path.dirname(__file__), "include")


def get_lib():
    """The directory holding libfastdl.so, for linking C programs against fastdl's kernels.

    Example:
        >>> import os
        >>> os.path.isfile(os.path.join(fastdl.get_lib(), "libfastdl.so"))
        True
    """
    return os.path.join(os.path.dirname(__file__), "lib")


def config():
    """The build and run-time configuration as a dict (what show_config prints).

    Keys: version, compiler, openmp, cpu, isa_detected, isa_active,
    sgemm_kernel, dgemm_kernel, gemm_blocking (per dtype: MR, NR, MC, KC, NC
    and the L1d/L2/L3 bytes they were derived from), conv_algo
    (FASTDL_CONV_ALGO: auto, im2col or winograd, and its rule), threads,
    denormals, omp_wait_policy, malloc, python, numpy, env (the FASTDL_*/OMP_*
    variables that are set) and lib.

    Example:
        >>> c = fastdl.config()
        >>> c["isa_active"] in ("avx512", "avx2", "generic"), c["threads"] >= 1
        (True, True)
    """
    return {
        "version": _core.version(),
        "compiler": _core.compiler(),
        "openmp": _core.has_openmp(),
        "isa_detected": _core.detected_isa(),
        "isa_active": _core.get_isa(),
        "cpu": _cpu_model(),
        "sgemm_kernel": _sgemm_kernel(),
        "dgemm_kernel": _gemm().kernel_name("float64"),
        "gemm_blocking": {dt: _gemm().blocking(dt) for dt in ("float32", "float64")},
        "conv_algo": _conv_algo(),
        "threads": _core.get_num_threads(),
        "denormals": "not flushed (IEEE semantics, same results as NumPy)",
        "omp_wait_policy": _wait_policy(),
        "malloc": ("glibc tuned by fastdl.tune_malloc(): freed blocks up to 512 MiB kept for "
                   "reuse" if _MALLOC_TUNED else "system defaults"),
        "scratch_cached_bytes": _core.cached_bytes(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "env": {k: os.environ.get(k) for k in _ENV_VARS if os.environ.get(k) is not None},
        "lib": os.path.join(get_lib(), "libfastdl.so"),
    }


_MALLOC_TUNED = None


def tune_malloc():
    """Opt-in: keep freed large blocks for reuse instead of returning them to the OS.

    fastdl never calls this itself: it changes glibc's malloc for the whole
    process, which is the application's decision, not a library's.

    fastdl's kernels already keep their large outputs and gradients in
    fastdl's own block cache (see empty_cache), so this matters for the
    other large NumPy buffers of a program (its own temporaries, NumPy ops on
    tensors): with glibc's defaults each is a fresh mmap that the kernel must
    fault in and zero again after every free. It sets glibc's
    M_MMAP_THRESHOLD to 256 MiB and M_TRIM_THRESHOLD to 512 MiB for the whole
    process, so up to 512 MiB of freed heap stays mapped. A no-op off glibc.
    Returns True when applied.

    Example:
        >>> import subprocess, sys                  # a fresh process: the setting is process-wide
        >>> code = "import fastdl; print(fastdl.tune_malloc(), fastdl.config()['malloc'])"
        >>> print(subprocess.run([sys.executable, "-c", code], capture_output=True,
        ...                      text=True).stdout)  # doctest: +ELLIPSIS
        True glibc tuned by fastdl.tune_malloc(): freed blocks up to 512 MiB kept for reuse
    """
    global _MALLOC_TUNED
    if not _MALLOC_TUNED:
        _MALLOC_TUNED = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                libc = ctypes.CDLL("libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):
                return False
            M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
            _MALLOC_TUNED = bool(mallopt(M_MMAP_THRESHOLD, 256 << 20)) and \
                bool(mallopt(M_TRIM_THRESHOLD, 512 << 20))
    return _MALLOC_TUNED


def _gemm():
    from fastdl._C import gemm
    return gemm


def _sgemm_kernel():
    return _gemm().kernel_name()


def _cpu_model():
    from fastdl.bench.gemm import cpu_model
    return cpu_model()


def _blocking_lines(c):
    b = c["gemm_blocking"]["float32"]
    kib = lambda v: ("%d KiB" % (v >> 10)) if v else "unknown"
    lines = ["  caches:        L1d %s, L2 %s, L3 %s%s" % (
        kib(b["l1d"]), kib(b["l2"]), kib(b["l3"]),
        "" if b["l2"] else " (GEMM uses its compiled default blocking)")]
    for name, dt in (("sgemm", "float32"), ("dgemm", "float64")):
        b = c["gemm_blocking"][dt]
        lines.append("  %s kernel:  %s (MR x NR %d x %d; MC %d, KC %d, NC %d)" % (
            name, c[name + "_kernel"], b["mr"], b["nr"], b["mc"], b["kc"], b["nc"]))
    return lines


def _conv_algo():
    from fastdl._C import winograd
    a = winograd.get_algo()
    rule = {"auto": "Winograd F(4x4,3x3) for float32 3x3 stride-1 layers with >= 8 in and out "
                    "channels and >= 512 output pixels over the batch, im2col + GEMM otherwise",
            "im2col": "im2col + GEMM for every layer",
            "winograd": "Winograd F(4x4,3x3) for every float32 3x3 stride-1 layer"}[a]
    return "%s (%s)" % (a, rule)


def _wait_policy():
    """The OpenMP wait policy in force, as libgomp read it when libfastdl loaded."""
    if not _core.has_openmp():
        return "n/a (serial build)"
    seen = _core.omp_wait_policy()
    if seen:
        return seen
    return ("OpenMP runtime default (OMP_WAIT_POLICY and GOMP_SPINCOUNT unset; libgomp spins "
            "~300000 rounds before sleeping). On a shared machine set "
            "OMP_WAIT_POLICY=passive or GOMP_SPINCOUNT=1000")


def show_config():
    """Print the version, compiler, OpenMP, CPU, caches, ISA, GEMM kernels and threads.

    Environment variables that change behaviour (FASTDL_ISA, FASTDL_CONV_ALGO,
    OMP_NUM_THREADS,
    OMP_WAIT_POLICY, GOMP_SPINCOUNT, FASTDL_MALLOC_TUNE, FASTDL_DATA) are
    reported when set.

    Example:
        >>> fastdl.show_config()
        fastdl ...
          compiler: ...
          isa active: ...
          sgemm kernel: sgemm_...
          dgemm kernel: dgemm_...
    """
    c = config()
    lines = [
        "fastdl %s" % c["version"],
        "  compiler:      %s" % c["compiler"],
        "  openmp:        %s" % ("on" if c["openmp"] else "off (kernels run serially)"),
        "  cpu:           %s" % c["cpu"],
        "  isa detected:  %s" % c["isa_detected"],
        "  isa active:    %s%s" % (c["isa_active"],
                                   "  (forced by FASTDL_ISA)" if "FASTDL_ISA" in c["env"] else ""),
    ] + _blocking_lines(c) + [
        "  conv2d algo:   %s" % c["conv_algo"],
        "  threads:       %d" % c["threads"],
        "  denormals:     %s" % c["denormals"],
        "  omp wait:      %s" % c["omp_wait_policy"],
        "  malloc:        %s" % c["malloc"],
        "  scratch cache: %d bytes idle (fastdl.empty_cache() frees them)"
        % c["scratch_cached_bytes"],
        "  python/numpy:  %s / %s" % (c["python"], c["numpy"]),
        "  library:       %s" % c["lib"],
    ]
    print("\n".join(lines))


def _check_isa_env():
    algo = os.environ.get("FASTDL_CONV_ALGO", "")
    if algo.lower() not in ("", "auto", "im2col", "winograd"):
        warnings.warn("FASTDL_CONV_ALGO=%s is not one of auto, im2col, winograd; using auto"
                      % algo, RuntimeWarning, stacklevel=3)
    st = _core.isa_env_status()
    if st != 0:
        want = os.environ.get("FASTDL_ISA")
        if st == -4:
            msg = ("FASTDL_ISA=%s: this CPU does not support it (detected: %s); using %s"
                   % (want, _core.detected_isa(), _core.get_isa()))
        else:
            msg = ("FASTDL_ISA=%s is not one of avx512, avx2, generic; using %s"
                   % (want, _core.get_isa()))
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
