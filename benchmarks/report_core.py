"""Print a markdown table: core ops, fastdl against NumPy, with GB/s.

    python benchmarks/report_core.py [--threads 1 2] [--repeat R]

Same comparisons as bench_core.py, without pytest. Each case alternates
fastdl and NumPy calls, so background load hits both alike, and reports
medians, plus the best run: on a shared machine another process can stall
a 2-thread OpenMP region for a whole scheduler slice. GB/s counts bytes
read + written (no write-allocate), as STREAM does. The limit is measured at run time: np.copyto of 128 MiB on one
thread, and on two Python threads at once (NumPy releases the GIL while
copying), so it does not depend on fastdl's own kernels.
"""
import argparse
import time

import numpy as np

from fastdl._C import _core as C
from fastdl.bench.nn import copy_bandwidth

B = {n: getattr(C, n) for n in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")}
R = {"sum": C.sum, "mean": C.mean, "max": C.amax, "min": C.amin}


def time_pair(f, g, repeat):
    """Interleaved timings of f and g: (median f, median g, min f, min g), seconds."""
    f(), g()
    tf, tg = [], []
    for _ in range(repeat):
        t = time.perf_counter(); f(); tf.append(time.perf_counter() - t)
        t = time.perf_counter(); g(); tg.append(time.perf_counter() - t)
    return float(np.median(tf)), float(np.median(tg)), min(tf), min(tg)


def cases(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    o1, o2 = np.empty_like(a), np.empty_like(a)
    z = np.zeros((), np.float32)
    return [
        ("add (out=)", 12, lambda: B["add"](a, b, out=o1), lambda: np.add(a, b, out=o2)),
        ("add", 12, lambda: B["add"](a, b), lambda: np.add(a, b)),
        ("mul (out=)", 12, lambda: B["mul"](a, b, out=o1),
         lambda: np.multiply(a, b, out=o2)),
        ("exp (out=)", 8, lambda: C.exp(a, out=o1), lambda: np.exp(a, out=o2)),
        ("exp", 8, lambda: C.exp(a), lambda: np.exp(a)),
        ("maximum(x, 0) (out=)", 8, lambda: B["maximum"](a, z, out=o1),
         lambda: np.maximum(a, z, out=o2)),
        ("sum", 4, lambda: C.sum(a), lambda: np.sum(a)),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="*", default=None,
                    help="fastdl thread counts to report (default: 1 and the default count)")
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    default = C.get_num_threads()
    counts = args.threads or sorted({1, default})
    print("fastdl ISA %s, OpenMP %s, NumPy %s" % (C.get_isa(), C.has_openmp(), np.__version__))
    lim1 = copy_bandwidth(1)
    lim2 = copy_bandwidth(2)
    print("measured copy bandwidth (np.copyto, 128 MiB, read + write): "
          "1 thread %.1f GB/s, 2 threads %.1f GB/s\n" % (lim1, lim2))
    print("| op | size | fastdl threads | fastdl median | NumPy median | NumPy/fastdl | "
          "fastdl GB/s | NumPy GB/s | fastdl best GB/s | NumPy best GB/s | copy limit GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, n in (("1M", 1 << 20), ("16M", 1 << 24)):
        for name, bpe, f, g in cases(n):
            for nt in counts:
                C.set_num_threads(nt)
                rep = args.repeat if n < (1 << 24) else max(5, args.repeat // 3)
                tf, tg, bf, bg = time_pair(f, g, rep)
                lim = lim1 if nt == 1 else lim2
                gb = bpe * n / 1e9
                print("| %s | %s | %d | %.1f us | %.1f us | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f |"
                      % (name, size, nt, tf * 1e6, tg * 1e6, tg / tf, gb / tf, gb / tg,
                         gb / bf, gb / bg, lim))
    C.set_num_threads(default)
    a = np.ones(10, np.float32)
    tf, tg, _, _ = time_pair(lambda: B["add"](a, a), lambda: np.add(a, a), 20001)
    print("\nper-call overhead, add of two 10-element float32 arrays: fastdl %.2f us, "
          "NumPy %.2f us" % (tf * 1e6, tg * 1e6))


if __name__ == "__main__":
    main()
