"""Build fastdl: libfastdl.so from csrc/, then the Cython extensions over it.

One shared library holds every kernel, the ISA dispatch and the thread
setting; each Cython module links against it (rpath $ORIGIN/../lib), so the
Python extension and a C program use the very same code and state.

Only functions declared with FDL_API (csrc/include/fastdl/export.h) are
exported: the library is compiled with -fvisibility=hidden.

Per-file ISA flags, chosen by file name, keep the build portable (never a
flag for the build machine's own CPU): `*_avx512.c` get AVX-512 flags,
`*_avx2.c` get AVX2+FMA flags, everything else is plain x86-64 (or whatever
the compiler targets).
The code compiled for an ISA is only called after run-time CPU detection.

Environment switches (build time):
  FASTDL_NO_OPENMP=1   build without OpenMP; kernels run serially.
  FASTDL_DEBUG=1       -O0 -g, for gdb and sanitizers.
  FASTDL_SANITIZE=1    AddressSanitizer in libfastdl and the extensions (-g kept);
                       run with libasan preloaded: LD_PRELOAD=$(gcc -print-file-name=libasan.so)
                       ASAN_OPTIONS=detect_leaks=0 (CPython itself is not instrumented).
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
CSRC = ROOT / "csrc"
INCLUDE = CSRC / "include"

ISA_FLAGS = {
    "avx512": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl",
               "-mavx2", "-mfma", "-mf16c"],
    "avx2": ["-mavx2", "-mfma", "-mf16c"],
}
BASE_CFLAGS = ["-std=gnu11", "-fPIC", "-fno-math-errno", "-fvisibility=hidden", "-pthread",
               "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-function"]


def _env_on(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _opt_flags():
    return ["-O0", "-g"] if _env_on("FASTDL_DEBUG") else ["-O3"]


def sanitize_flags():
    """Compile and link flags of the FASTDL_SANITIZE=1 build (empty otherwise)."""
    return ["-fsanitize=address", "-fno-omit-frame-pointer", "-g"] \
        if _env_on("FASTDL_SANITIZE") else []


def _is_x86():
    import platform
    return platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


_OMP_PROGRAM = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"


def _compiler_accepts(cc, flags, src=_OMP_PROGRAM):
    """True when `cc` compiles and links src (a trivial OpenMP program) with flags."""
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "t.c")
        Path(c).write_text(src)
        try:
            r = subprocess.run([cc, *flags, c, "-o", os.path.join(d, "t")],
                               capture_output=True)
        except OSError:
            return False
        return r.returncode == 0


def openmp_flags(cc):
    if _env_on("FASTDL_NO_OPENMP"):
        return []
    return ["-fopenmp"] if _compiler_accepts(cc, ["-fopenmp"]) else []


def c_sources():
    return sorted(p for p in CSRC.rglob("*.c") if "tests" not in p.parts)


def isa_of(path):
    stem = path.stem
    for isa in ISA_FLAGS:
        if stem.endswith("_" + isa):
            return isa
    return None


class BuildExt(build_ext):
    """Compile csrc/ into libfastdl.so, then the extensions linked to it."""

    def _out_pkg(self):
        # setuptools builds into build_lib even for --inplace / editable
        # installs and copies the results back (copy_extensions_to_source).
        return Path(self.build_lib) / "fastdl"

    def copy_extensions_to_source(self):
        super().copy_extensions_to_source()
        for sub in ("lib", "include"):
            dst = ROOT / "fastdl" / sub
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(self._out_pkg() / sub, dst)

    def _compile_one(self, src, obj, flags):
        headers = max((p.stat().st_mtime for p in CSRC.rglob("*.h")), default=0)
        if obj.exists() and obj.stat().st_mtime > max(src.stat().st_mtime, headers) \
                and not self.force:
            return obj
        obj.parent.mkdir(parents=True, exist_ok=True)
        cmd = [self._cc, *flags, "-I", str(INCLUDE), "-I", str(CSRC), "-c", str(src),
               "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("compiling %s failed:\n%s\n%s" % (src, " ".join(cmd), r.stderr))
        if r.stderr.strip():
            sys.stderr.write(r.stderr)
        return obj

    def build_libfastdl(self):
        self._cc = os.environ.get("CC") or sysconfig.get_config_var("CC").split()[0] or "gcc"
        omp = openmp_flags(self._cc)
        self.fastdl_openmp = bool(omp)
        san = sanitize_flags()
        # `#pragma omp simd` loops (order-free reductions such as a row max) stay
        # vectorized in the serial build too: -fopenmp-simd needs no runtime
        simd = [] if omp or not _compiler_accepts(self._cc, ["-fopenmp-simd"],
                                                         "int main(void){return 0;}\n") \
            else ["-fopenmp-simd"]
        base = BASE_CFLAGS + _opt_flags() + omp + simd + san
        tmp = Path(self.build_temp) / (("libfastdl-omp" if omp else "libfastdl-serial")
                                       + ("-asan" if san else ""))
        jobs = []
        for src in c_sources():
            isa = isa_of(src)
            if isa and not _is_x86():
                continue
            flags = base + (ISA_FLAGS[isa] if isa else [])
            obj = tmp / src.relative_to(CSRC).with_suffix(".o")
            jobs.append((src, obj, flags))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            objs = list(pool.map(lambda j: self._compile_one(*j), jobs))

        libdir = self._out_pkg() / "lib"
        libdir.mkdir(parents=True, exist_ok=True)
        lib = libdir / "libfastdl.so"
        tmp_lib = libdir / ".libfastdl.so.tmp"
        cmd = [self._cc, "-shared", "-o", str(tmp_lib), *map(str, objs),
               "-Wl,-soname,libfastdl.so", *omp, *san, "-pthread", "-lm"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("linking libfastdl.so failed:\n%s" % r.stderr)
        os.replace(tmp_lib, lib)

        incdir = self._out_pkg() / "include"
        if incdir.exists():
            shutil.rmtree(incdir)
        shutil.copytree(INCLUDE, incdir)
        return libdir

    def build_extensions(self):
        # pip builds in the source tree's build/: extensions compiled with the other
        # FASTDL_SANITIZE setting must not be reused (a sanitized extension in a plain
        # install refuses to load without libasan preloaded)
        stamp = Path(self.build_temp) / "fastdl-sanitize.stamp"
        mode = "asan" if sanitize_flags() else "plain"
        if not stamp.exists() or stamp.read_text() != mode:
            self.force = True
        libdir = self.build_libfastdl()
        for ext in self.extensions:
            ext.library_dirs.append(str(libdir))
            ext.libraries.append("fastdl")
            ext.extra_link_args.append("-Wl,-rpath,$ORIGIN/../lib")
            ext.extra_compile_args.extend(sanitize_flags())
            ext.extra_link_args.extend(sanitize_flags())
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1
        super().build_extensions()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(mode)


def extensions():
    exts = []
    for pyx in sorted((ROOT / "fastdl" / "_C").glob("*.pyx")):
        name = "fastdl._C." + pyx.stem
        exts.append(Extension(
            name, [str(pyx.relative_to(ROOT))],
            include_dirs=[str(INCLUDE), np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
            extra_compile_args=["-O2", "-Wno-unreachable-code"],
        ))
    return cythonize(exts, compiler_directives={"language_level": "3"},
                     include_path=[str(ROOT / "fastdl" / "_C")])


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
