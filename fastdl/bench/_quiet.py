"""Timing helpers for benchmarks that mix fastdl with NumPy or PyTorch in one process.

After a NumPy BLAS call, OpenBLAS's worker threads keep spinning for a while
(they poll for the next job before they sleep), and PyTorch's OpenMP threads
do the same. On a machine with few cores a fastdl GEMM started meanwhile
shares its cores with them and runs at about half speed. The benchmarks
therefore time fastdl first, wait for the process to go quiet before each
fastdl timing (`wait_quiet`), interleave repeats of the frameworks they
compare (`interleaved`, which also wakes each framework's own threads before
timing it) and quote medians.

The frameworks' allocators differ too: see `fair_allocator`.
"""
import time

import numpy as np

__all__ = ["wait_quiet", "interleaved", "median_ms", "fair_allocator"]


def fair_allocator():
    """Let PyTorch and NumPy reuse freed large blocks in this benchmark process, as fastdl does.

    fastdl takes its large outputs and gradients from its own block cache, so
    a training step reuses memory. PyTorch and NumPy take theirs from glibc,
    which may unmap a freed block or trim the heap and then page-fault the
    memory back in on the next step. In a long benchmark process that cost
    grows with the heap's history: a full `bench nn` run took 2.3 million page
    faults, and PyTorch's relu step there took 15 ms against 1.4 ms in a fresh
    process. The benchmarks therefore call fastdl.tune_malloc() (opt-in, never
    called by the library itself) before timing anything, which gives every
    framework in the process reused memory. Returns the line they print.

    Example:
        >>> from fastdl.bench._quiet import fair_allocator
        >>> fair_allocator().startswith("allocator: ")
        True
    """
    import fastdl
    if fastdl.tune_malloc():
        return ("allocator: glibc tuned for this process (fastdl.tune_malloc()), so PyTorch's "
                "and NumPy's large buffers are reused between steps like fastdl's cached ones")
    return "allocator: system defaults (no glibc to tune)"


def _busy_fraction(interval):
    """CPU time used by this process's other threads per wall second, over interval seconds
    while the calling thread sleeps."""
    c0, t0 = time.process_time(), time.perf_counter()
    time.sleep(interval)
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def wait_quiet(max_wait=2.0, interval=0.01, threshold=0.05):
    """Sleep until no thread of this process burns CPU (spinning BLAS / OpenMP workers).

    Returns the seconds waited (at most about max_wait). The test is the
    process's own CPU time while the caller sleeps, so other processes on the
    machine do not delay it.

    Example:
        >>> from fastdl.bench._quiet import wait_quiet
        >>> wait_quiet(max_wait=0.05) < 1
        True
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        if _busy_fraction(interval) < threshold:
            break
    return time.perf_counter() - t0


def interleaved(fns, repeats, clock=time.perf_counter):
    """Median seconds of each callable in fns, timed round-robin, each from the same start.

    One warm-up call each, then `repeats` rounds; in a round each callable in
    turn waits until the process is quiet (no other framework's worker still
    spinning on the cores), is called once untimed to wake its own thread
    pool, and is then timed once. So every framework is timed as in a
    training loop, with its own workers awake and nobody else's spinning: on
    a virtual machine an idle core takes up to milliseconds to wake, and the
    framework timed right after another one would otherwise start on cores the
    first one just woke, while that one paid for waking them (measured on 2
    cores: a 3.5 ms fastdl conv step took 4-12 ms after a pause). A None entry
    gives nan.

    Example:
        >>> from fastdl.bench._quiet import interleaved
        >>> [t >= 0 for t in interleaved([lambda: None, lambda: None], 3)]
        [True, True]
    """
    live = [i for i, f in enumerate(fns) if f is not None]
    for i in live:
        fns[i]()
    samples = {i: [] for i in live}
    for _ in range(repeats):
        for i in live:
            wait_quiet(max_wait=0.5)
            fns[i]()
            t = clock()
            fns[i]()
            samples[i].append(clock() - t)
    return [float(np.median(samples[i])) if i in samples else float("nan")
            for i in range(len(fns))]


def median_ms(fn, repeats, clock=time.perf_counter, quiet=True):
    """Median milliseconds of fn over repeats calls after one warm-up (waiting for quiet first).

    Example:
        >>> from fastdl.bench._quiet import median_ms
        >>> median_ms(lambda: None, 3) >= 0
        True
    """
    if quiet:
        wait_quiet(max_wait=0.5)
    fn()
    samples = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return float(np.median(samples)) * 1e3
