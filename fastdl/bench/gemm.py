"""`python -m fastdl bench gemm`: fastdl's sgemm and dgemm against NumPy.

Prints, for square sizes and the products of MLP training (784-256-128-10,
batch 128, forward and both backward products), GFLOP/s of fastdl at 1 and 2
threads, of NumPy at 1 and 2 threads, their ratios, and fastdl's share of this
machine's peak; then float64 squares (dgemm) and the batch-1 Linear products
(the small-M path) as latencies.

The header names the CPU, its cache sizes and the blocking fastdl derived
from them. The fp32 peak is measured now with an FMA loop (fdl_fma_loop) run
on all threads at once; the fp64 peak is half of it (the same FMA units with
half as many lanes). A peak is the best of many short samples: contention
from other processes only ever makes a sample slower, so the best one is the
closest to what the CPU can do, while GEMM figures are medians. A %pk above
100 therefore means the machine got busier between the two measurements.

NumPy's thread count is set with threadpoolctl when it is installed;
otherwise NumPy runs with its own default and the header says so.
"""
import argparse
import time

import numpy as np

from fastdl._C import _core, gemm
from fastdl.bench._quiet import fair_allocator

SQUARE = (64, 128, 256, 512, 1024, 2048)
DSQUARE = (256, 512, 1024, 2048)

# (label, K, N): y = x @ W^T at batch 1, W (N, K) as nn.Linear stores it.
BATCH1 = (
    ("fc1 784->256", 784, 256),
    ("fc2 256->128", 256, 128),
    ("fc3 128->10", 128, 10),
    ("1024->1024", 1024, 1024),
)

# (label, M, N, K, transa, transb) as Linear layers issue them: forward
# x @ W^T, input gradient dY @ W, weight gradient dY^T @ x.
MLP = (
    ("fc1 fwd  x@W^T", 128, 256, 784, False, True),
    ("fc1 dX   dY@W", 128, 784, 256, False, False),
    ("fc1 dW   dY^T@x", 256, 784, 128, True, False),
    ("fc2 fwd  x@W^T", 128, 128, 256, False, True),
    ("fc2 dX   dY@W", 128, 256, 128, False, False),
    ("fc2 dW   dY^T@x", 128, 256, 128, True, False),
    ("fc3 fwd  x@W^T", 128, 10, 128, False, True),
    ("fc3 dX   dY@W", 128, 128, 10, False, False),
    ("fc3 dW   dY^T@x", 10, 128, 128, True, False),
)


def _seconds(fn, min_time, repeats, stat="median"):
    """Seconds per call (median, or min, of `repeats` samples); calls are
    batched so that each sample lasts about min_time / repeats."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(min_time / repeats / one))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return float(np.min(samples) if stat == "min" else np.median(samples))


def measure_peak(nthreads, seconds=0.005, repeats=40, stat=None):
    """fp32 FMA peak in GFLOP/s with the FMA loop running on nthreads threads at once.

    Returns the best of `repeats` samples of about `seconds` each (after one
    warm-up call that starts the thread team): on a shared machine a sample
    can only lose time to other processes, never gain it. The loop runs on
    all nthreads threads at once (one OpenMP team), so the 2-thread figure is
    two cores' worth when two cores are free. `stat` is accepted
    for compatibility and ignored.
    """
    # Size a sample on one thread (each thread of a team does the same
    # work): a team's first calls can wait for a busy core, and sizing on
    # them would leave samples too short to mean anything.
    iters = 1 << 14
    gemm.fma_loop(iters, nthreads)            # start the team, wake the cores
    while iters < 1 << 30:
        t0 = time.perf_counter()
        gemm.fma_loop(iters, 1)
        if time.perf_counter() - t0 > seconds:
            break
        iters *= 2
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        flops = gemm.fma_loop(iters, nthreads)
        rates.append(flops / (time.perf_counter() - t0) / 1e9)
    return float(np.max(rates))


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux), or the platform's guess."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def describe_blocking():
    """Lines naming the CPU, its caches and fastdl's GEMM kernels and blocking."""
    lines = []
    b32, b64 = gemm.blocking("float32"), gemm.blocking("float64")
    kib = lambda v: ("%d KiB" % (v >> 10)) if v else "unknown"
    lines.append("CPU %s; caches L1d %s, L2 %s, L3 %s%s" % (
        cpu_model(), kib(b32["l1d"]), kib(b32["l2"]), kib(b32["l3"]),
        "" if b32["l2"] else " (compiled default blocking)"))
    for name, b, dt in (("sgemm", b32, "float32"), ("dgemm", b64, "float64")):
        lines.append("%s kernel %s: MR x NR %d x %d, MC %d, KC %d, NC %d" % (
            name, gemm.kernel_name(dt), b["mr"], b["nr"], b["mc"], b["kc"], b["nc"]))
    return lines


def _operands(M, N, K, ta, tb, rng, dtype=np.float32):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


class _NumpyThreads:
    """Context that sets NumPy's BLAS threads when threadpoolctl exists."""

    def __init__(self):
        try:
            import threadpoolctl
        except ImportError:
            threadpoolctl = None
        self.ctl = threadpoolctl

    @property
    def available(self):
        return self.ctl is not None

    def limit(self, n):
        if self.ctl is None:
            return _Null()
        return self.ctl.threadpool_limits(limits=n, user_api="blas")


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run(shapes, threads=(1, 2), min_time=0.3, repeats=7, seed=0, stat="median",
        dtype=np.float32):
    """Rows of measurements: dicts with label, flops, sec, fdl{t}, np{t} in GFLOP/s
    (and fdl{t}_s, np{t}_s in seconds)."""
    rng = np.random.default_rng(seed)
    npt = _NumpyThreads()
    saved = _core.get_num_threads()
    rows = []
    try:
        for label, M, N, K, ta, tb in shapes:
            a, b = _operands(M, N, K, ta, tb, rng, dtype)
            out = np.empty((M, N), dtype)
            flops = 2.0 * M * N * K
            row = dict(label=label, flops=flops)
            for t in threads:
                _core.set_num_threads(t)
                sec = _seconds(lambda: gemm.matmul(a, b, transa=ta, transb=tb, out=out),
                               min_time, repeats, stat)
                row["fdl%d" % t] = flops / sec / 1e9
                row["fdl%d_s" % t] = sec
            an = a.T if ta else a
            bn = b.T if tb else b
            for t in threads:
                with npt.limit(t):
                    sec = _seconds(lambda: np.matmul(an, bn, out=out), min_time, repeats, stat)
                row["np%d" % t] = flops / sec / 1e9
                row["np%d_s" % t] = sec
            rows.append(row)
    finally:
        _core.set_num_threads(saved)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastdl bench gemm",
                                description="fastdl sgemm and dgemm against NumPy (GFLOP/s)")
    p.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    p.add_argument("--sizes", type=int, nargs="*", default=None,
                   help="square sizes (default: %s)" % " ".join(map(str, SQUARE)))
    p.add_argument("--no-mlp", action="store_true", help="skip the MLP shapes")
    p.add_argument("--no-f64", action="store_true", help="skip the float64 (dgemm) table")
    p.add_argument("--no-batch1", action="store_true", help="skip the batch-1 Linear table")
    p.add_argument("--best", action="store_true",
                   help="report the fastest sample instead of the median (for a shared, "
                        "busy machine; also takes more samples)")
    args = p.parse_args(argv)
    min_time, repeats = (0.1, 5) if args.quick else (0.3, 7)
    stat = "min" if args.best else "median"
    if args.best:
        min_time, repeats = min_time * 3, repeats * 6
    sizes = SQUARE if args.sizes is None else args.sizes
    shapes = [("%d^3" % n, n, n, n, False, False) for n in sizes]
    if not args.no_mlp:
        shapes += list(MLP)

    threads = (1, 2)
    peak = {t: measure_peak(t) for t in threads}
    npt = _NumpyThreads()
    print("fastdl GEMM: ISA %s, %s" % (_core.get_isa(),
                                       "OpenMP" if _core.has_openmp() else "serial"))
    print(fair_allocator())
    for line in describe_blocking():
        print(line)
    print("fp32 FMA peak (measured now, best of 40 samples of 5 ms, the loop on all "
          "threads at once): %s; fp64 peak = half" % ", ".join(
              "%.0f GFLOP/s at %d thread%s" % (peak[t], t, "s" if t > 1 else "")
              for t in threads))
    if peak[2] < peak[1]:
        print("note: the 2-thread peak came out below the 1-thread one: another process "
              "held a core; %pk2 is overstated")
    if npt.available:
        print("NumPy %s, BLAS threads set with threadpoolctl" % np.__version__)
    else:
        print("NumPy %s with its default BLAS threads (threadpoolctl not installed): "
              "np1 and np2 are the same setting" % np.__version__)
    print("GFLOP/s, %s of %d runs; %%pk = fastdl / measured peak at that thread count"
          % ("best" if stat == "min" else "medians", repeats))

    def table(title, shapes, dtype, pk):
        print()
        print(title)
        head = ("%-8s %-16s %8s %8s %8s %8s %6s %6s %6s %6s"
                % ("shape", "MxNxK op", "fdl t1", "fdl t2", "np t1", "np t2", "x t1", "x t2",
                   "%pk1", "%pk2"))
        print(head)
        print("-" * len(head))
        rows = run(shapes, threads, min_time, repeats, stat=stat, dtype=dtype)
        for (label, M, N, K, ta, tb), row in zip(shapes, rows):
            name = label if label.endswith("^3") else " ".join(label.split()[:2])
            dims = "%dx%dx%d %s%s" % (M, N, K, "T" if ta else "N", "T" if tb else "N")
            print("%-8s %-16s %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f %5.0f%% %5.0f%%" % (
                name, dims, row["fdl1"], row["fdl2"], row["np1"], row["np2"],
                row["fdl1"] / row["np1"], row["fdl2"] / row["np2"],
                100 * row["fdl1"] / pk[1], 100 * row["fdl2"] / pk[2]))

    table("float32 (sgemm)", shapes, np.float32, peak)
    if not args.no_f64:
        dsizes = DSQUARE if args.sizes is None else args.sizes
        table("float64 (dgemm); %pk against the fp64 peak (half the fp32 one)",
              [("%d^3" % n, n, n, n, False, False) for n in dsizes], np.float64,
              {t: peak[t] / 2 for t in threads})
    if not args.no_batch1:
        print()
        print("batch 1: y = x @ W^T (nn.Linear), float32, microseconds per call "
              "(%s of %d runs); x = NumPy time / fastdl time" %
              ("best" if stat == "min" else "medians", repeats))
        head = "%-14s %8s %8s %8s %8s %6s %6s" % ("layer", "fdl t1", "fdl t2", "np t1", "np t2",
                                                  "x t1", "x t2")
        print(head)
        print("-" * len(head))
        shapes1 = [(label, 1, N, K, False, True) for label, K, N in BATCH1]
        rows = run(shapes1, threads, min_time, repeats, stat=stat)
        for (label, *_), row in zip(shapes1, rows):
            print("%-14s %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f" % (
                label, 1e6 * row["fdl1_s"], 1e6 * row["fdl2_s"], 1e6 * row["np1_s"],
                1e6 * row["np2_s"], row["np1_s"] / row["fdl1_s"], row["np2_s"] / row["fdl2_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
