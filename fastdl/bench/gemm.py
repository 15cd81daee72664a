"""`python -m fastdl bench gemm`: fastdl's sgemm against NumPy, per shape.

Prints, for square sizes and the products of MLP training (784-256-128-10,
batch 128, forward and both backward products), GFLOP/s of fastdl at 1 and 2
threads, of NumPy at 1 and 2 threads, their ratios, and fastdl's share of this
machine's fp32 peak, measured now with an FMA loop (fdl_fma_loop).

NumPy's thread count is set with threadpoolctl when it is installed;
otherwise NumPy runs with its own default and the header says so.
Each figure is the median of several timed runs.
"""
import argparse
import time

import numpy as np

from fastdl._C import _core, gemm

SQUARE = (64, 128, 256, 512, 1024, 2048)

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


def measure_peak(nthreads, seconds=0.05, repeats=5, stat="median"):
    """fp32 FMA peak in GFLOP/s on nthreads threads (median, or max, of repeats)."""
    iters = 1 << 16
    while True:
        t0 = time.perf_counter()
        gemm.fma_loop(iters, nthreads)
        if time.perf_counter() - t0 > seconds / 4 or iters > 1 << 30:
            break
        iters *= 2
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        flops = gemm.fma_loop(iters, nthreads)
        rates.append(flops / (time.perf_counter() - t0) / 1e9)
    return float(np.max(rates) if stat == "min" else np.median(rates))


def _operands(M, N, K, ta, tb, rng):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
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


def run(shapes, threads=(1, 2), min_time=0.3, repeats=7, seed=0, stat="median"):
    """Rows of measurements: dicts with label, flops, fdl{t}, np{t} in GFLOP/s."""
    rng = np.random.default_rng(seed)
    npt = _NumpyThreads()
    saved = _core.get_num_threads()
    rows = []
    try:
        for label, M, N, K, ta, tb in shapes:
            a, b = _operands(M, N, K, ta, tb, rng)
            out = np.empty((M, N), np.float32)
            flops = 2.0 * M * N * K
            row = dict(label=label, flops=flops)
            for t in threads:
                _core.set_num_threads(t)
                sec = _seconds(lambda: gemm.matmul(a, b, transa=ta, transb=tb, out=out),
                               min_time, repeats, stat)
                row["fdl%d" % t] = flops / sec / 1e9
            an = a.T if ta else a
            bn = b.T if tb else b
            for t in threads:
                with npt.limit(t):
                    sec = _seconds(lambda: np.matmul(an, bn, out=out), min_time, repeats, stat)
                row["np%d" % t] = flops / sec / 1e9
            rows.append(row)
    finally:
        _core.set_num_threads(saved)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastdl bench gemm",
                                description="fastdl sgemm against NumPy (GFLOP/s)")
    p.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    p.add_argument("--sizes", type=int, nargs="*", default=None,
                   help="square sizes (default: %s)" % " ".join(map(str, SQUARE)))
    p.add_argument("--no-mlp", action="store_true", help="skip the MLP shapes")
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
    peak = {t: measure_peak(t, stat=stat, repeats=5 if stat == "median" else 30)
            for t in threads}
    npt = _NumpyThreads()
    print("fastdl sgemm: kernel %s, ISA %s, %s" % (gemm.kernel_name(), _core.get_isa(),
                                                  "OpenMP" if _core.has_openmp() else "serial"))
    print("fp32 FMA peak (measured): %s" % ", ".join(
        "%.0f GFLOP/s at %d thread%s" % (peak[t], t, "s" if t > 1 else "") for t in threads))
    if npt.available:
        print("NumPy %s, BLAS threads set with threadpoolctl" % np.__version__)
    else:
        print("NumPy %s with its default BLAS threads (threadpoolctl not installed): "
              "np1 and np2 are the same setting" % np.__version__)
    print("GFLOP/s, %s of %d runs; %%pk = fastdl / measured peak at that thread count"
          % ("best" if stat == "min" else "medians", repeats))
    head = ("%-8s %-16s %8s %8s %8s %8s %6s %6s %6s %6s"
            % ("shape", "MxNxK op", "fdl t1", "fdl t2", "np t1", "np t2", "x t1", "x t2",
               "%pk1", "%pk2"))
    print(head)
    print("-" * len(head))
    rows = run(shapes, threads, min_time, repeats, stat=stat)
    for (label, M, N, K, ta, tb), row in zip(shapes, rows):
        name = label if label.endswith("^3") else " ".join(label.split()[:2])
        dims = "%dx%dx%d %s%s" % (M, N, K, "T" if ta else "N", "T" if tb else "N")
        print("%-8s %-16s %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f %5.0f%% %5.0f%%" % (
            name, dims, row["fdl1"], row["fdl2"], row["np1"], row["np2"],
            row["fdl1"] / row["np1"], row["fdl2"] / row["np2"],
            100 * row["fdl1"] / peak[1], 100 * row["fdl2"] / peak[2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
