"""fastdl's GEMM right after a NumPy matmul: the cost of OpenBLAS's spinning threads, and remedies.

After each multi-threaded call OpenBLAS keeps its worker threads spinning for
a while, waiting for the next job. A fastdl GEMM started meanwhile shares its
cores with them. This script times fastdl's sgemm (1024^3 by default, 2
threads) in rounds that alternate the situations below and prints medians:

- alone:                   the process is quiet (fastdl.bench._quiet.wait_quiet);
- right after numpy:       straight after a NumPy matmul of the same size;
- after numpy + wait:      the same, but waiting until the process is quiet;
- numpy under threadpool_limits(1): NumPy's matmul ran inside threadpoolctl's
  `threadpool_limits(1, "blas")` (when threadpoolctl is installed);
- OPENBLAS_NUM_THREADS=1:  "right after numpy" again in a child process with
  OpenBLAS limited to one thread (its workers never start);
- OPENBLAS_THREAD_TIMEOUT=4: the same with OpenBLAS's idle threads spinning
  2^4 cycles instead of 2^28 before they sleep.

    python benchmarks/numpy_spin.py [--size 1024] [--rounds 15]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

from fastdl._C import gemm
from fastdl.bench._quiet import wait_quiet


def measure(n, rounds):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    flops = 2.0 * n ** 3

    def fdl():
        t = time.perf_counter()
        gemm.matmul(a, b, out=out)
        return flops / (time.perf_counter() - t) / 1e9

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    res = {"alone": [], "right after numpy": [], "after numpy + wait_quiet": []}
    if threadpool_limits is not None:
        res["numpy under threadpool_limits(1)"] = []
    waited = []
    fdl(), np.matmul(a, b)
    for _ in range(rounds):
        wait_quiet()
        res["alone"].append(fdl())
        np.matmul(a, b)
        res["right after numpy"].append(fdl())
        np.matmul(a, b)
        waited.append(wait_quiet())
        res["after numpy + wait_quiet"].append(fdl())
        if threadpool_limits is not None:
            wait_quiet()
            with threadpool_limits(1, "blas"):
                np.matmul(a, b)
            res["numpy under threadpool_limits(1)"].append(fdl())
    return res, float(np.median(waited))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    res, waited = measure(a.size, a.rounds)
    if a.child:
        print(np.median(res["right after numpy"]))
        return 0
    print("fastdl sgemm %d^3 on %s threads, GFLOP/s (median of %d rounds, min - max)"
          % (a.size, os.environ.get("OMP_NUM_THREADS", "its default"), a.rounds))
    for k, v in res.items():
        print("  %-36s %7.1f   (%.1f - %.1f)" % (k, np.median(v), min(v), max(v)))
    for var, val in (("OPENBLAS_NUM_THREADS", "1"), ("OPENBLAS_THREAD_TIMEOUT", "4")):
        env = dict(os.environ, **{var: val})
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--size",
                            str(a.size), "--rounds", str(a.rounds)], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0:
            print("  %-36s %7.1f" % ("right after numpy, %s=%s" % (var, val),
                                     float(r.stdout.split()[-1])))
    print("wait_quiet waited %.0f ms (median) after a NumPy matmul for the process to go quiet"
          % (1e3 * waited))
    return 0


if __name__ == "__main__":
    sys.exit(main())
