"""`python -m fastdl bench nn`: nn kernels, forward + backward, against PyTorch and NumPy.

Each case runs one forward and one backward through the public API
(fastdl.nn.functional + autograd, an all-ones upstream gradient), the same
step in PyTorch when it is installed (same data, 2 threads), and the same math
written as vectorized NumPy (the reference implementations below, also used
by benchmarks/bench_nn.py).

The header names the CPU, its fp32 FMA peak measured now on 1 and 2 threads,
its copy bandwidth measured now (np.copyto of 128 MiB per thread, read +
write bytes, as STREAM counts) and the kernels fastdl chose (everything
fastdl.config() reports about them). Convolutions give GFLOP/s and the share
of the peak; memory-bound ops give GB/s (the minimum bytes the op must move:
inputs and outputs of forward and backward, once) and the share of the copy
bandwidth. The last table lists issue 13's targets with the measured ratios.

Timing: fastdl and PyTorch at 2 threads alternate call by call; before each
timed call the process waits until no thread of it is spinning (OpenBLAS and
the OpenMP workers spin after their calls and would halve the next
framework's speed), then one untimed call wakes that framework's own threads
(fastdl.bench._quiet.interleaved); medians; the same again at 1 thread. NumPy
is timed afterwards.
Options: --quick (fewer repeats), --no-conv, --no-numpy, --no-torch, --smoke
(tiny shapes, to check that the script runs).
"""
import argparse
import os
import platform
import threading
import time

import numpy as np

import fastdl
import fastdl.nn.functional as F
from fastdl._C import winograd
from fastdl.bench._quiet import fair_allocator, interleaved, median_ms, wait_quiet

# ---- NumPy reference implementations: forward + backward (upstream gradient of ones) ----


def np_relu_step(x):
    y = np.maximum(x, 0)
    g = np.ones_like(y)
    return y, g * (x > 0)


def np_gelu_step(x):
    from math import sqrt, pi
    k = sqrt(2 / pi)
    t = np.tanh(k * (x + 0.044715 * x ** 3))
    y = 0.5 * x * (1 + t)
    g = np.ones_like(y)
    return y, g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))


def np_softmax_step(x):
    e = np.exp(x - x.max(1, keepdims=True))
    y = e / e.sum(1, keepdims=True)
    g = np.ones_like(y)
    return y, y * (g - (g * y).sum(1, keepdims=True))


def np_cross_entropy_step(x, t):
    m = x.max(1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(1, keepdims=True)
    lse = m[:, 0] + np.log(s[:, 0])
    loss = (lse - x[np.arange(len(t)), t]).mean()
    g = e / s
    g[np.arange(len(t)), t] -= 1
    return loss, g / len(t)


def np_batch_norm_step(x, w, b, eps=1e-5):
    mu = x.mean((0, 2, 3), keepdims=True)
    var = x.var((0, 2, 3), keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    y = xhat * w.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)
    g = np.ones_like(y)
    db = g.sum((0, 2, 3))
    dw = (g * xhat).sum((0, 2, 3))
    gw = g * w.reshape(1, -1, 1, 1)
    dx = rstd * (gw - gw.mean((0, 2, 3), keepdims=True)
                 - xhat * (gw * xhat).mean((0, 2, 3), keepdims=True))
    return y, dx, dw, db


def np_max_pool_step(x):
    """2 x 2, stride 2."""
    N, C, H, W = x.shape
    win = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        N, C, H // 2, W // 2, 4)
    idx = win.argmax(-1)
    y = np.take_along_axis(win, idx[..., None], -1)[..., 0]
    g = np.ones_like(y)
    dwin = np.zeros_like(win)
    np.put_along_axis(dwin, idx[..., None], g[..., None], -1)
    dx = dwin.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    return y, dx


def _im2col(x, k, pad):
    """(N, C, H, W) -> (N*H*W, C*k*k), stride 1, 'same' padding (a strided view, copied once)."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    s = xp.strides
    cols = np.lib.stride_tricks.as_strided(xp, (N, H, W, C, k, k),
                                           (s[0], s[2], s[3], s[1], s[2], s[3]))
    return cols.reshape(N * H * W, C * k * k)


def np_conv_step(x, w):
    """3x3 'same' convolution forward + backward (dx, dw) by im2col + matmul."""
    N, C, H, W = x.shape
    K = w.shape[0]
    cols = _im2col(x, 3, 1)
    wm = w.reshape(K, -1)
    y = cols @ wm.T                                   # (NHW, K)
    g = np.ones_like(y)
    dw = g.T @ cols
    dcols = (g @ wm).reshape(N, H, W, C, 3, 3)
    dx = np.zeros((N, C, H + 2, W + 2), np.float32)
    for i in range(3):
        for j in range(3):
            dx[:, :, i:i + H, j:j + W] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx[:, :, 1:-1, 1:-1], dw


# ---- steps through fastdl and torch ----------------------------------------------------------

def fastdl_conv_step(x, w):
    xt = fastdl.from_numpy(x).requires_grad_()
    wt = fastdl.from_numpy(w).requires_grad_()
    y = F.conv2d(xt, wt, padding=1)
    y.backward(fastdl.ones_like(y))
    return xt.grad, wt.grad


def torch_conv_step(torch, x, w):
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    y = torch.nn.functional.conv2d(xt, wt, padding=1)
    y.backward(torch.ones_like(y))
    return xt.grad, wt.grad


# (N, C, K, H): 3x3, padding 1, H x H maps; the last is the final stage of a
# ResNet-18 on 28x28 images, where per-sample GEMMs degenerate
CONV_CASES = [(64, 1, 32, 28), (64, 32, 64, 14), (64, 64, 64, 32), (128, 512, 512, 1)]
SMOKE_CONV = [(2, 3, 5, 7), (3, 8, 8, 1)]


def conv_cases(rng, shapes=CONV_CASES):
    """(name, flops of forward + both backward products, fastdl, numpy, torch factory)."""
    out = []
    for N, C, K, H in shapes:
        x = rng.standard_normal((N, C, H, H), dtype=np.float32)
        w = rng.standard_normal((K, C, 3, 3), dtype=np.float32) * 0.1
        # flops of the GEMM-sized products; on a 1x1 map only the centre tap touches data
        taps = 1 if H == 1 else 9
        flops = 3 * 2 * N * K * C * taps * H * H
        out.append(("conv2d %d->%d %dx%d N=%d" % (C, K, H, H, N), flops,
                    (lambda x=x, w=w: fastdl_conv_step(x, w)),
                    (lambda x=x, w=w: np_conv_step(x, w)),
                    (lambda t, x=x, w=w: (lambda: torch_conv_step(t, x, w)))))
    return out


def fastdl_step(fn, x, *args):
    xt = fastdl.from_numpy(x).requires_grad_()
    y = fn(xt, *args)
    y.backward(fastdl.ones_like(y) if y.ndim else None)
    return xt.grad


def torch_step(torch, fn, x, *args):
    xt = torch.from_numpy(x).requires_grad_()
    y = fn(xt, *args)
    y.backward(torch.ones_like(y) if y.ndim else None)
    return xt.grad


def cases(rng, smoke=False):
    """(name, bytes moved, fastdl thunk, numpy thunk, torch thunk factory)."""
    rows, cols = (3, 37) if smoke else (1024, 4096)             # 4M elements
    x4 = rng.standard_normal((rows, cols), dtype=np.float32)
    n4 = x4.size * 4
    ce = {s: (rng.standard_normal(s, dtype=np.float32), rng.integers(0, s[1], s[0]))
          for s in (((5, 3),) if smoke else ((128, 10), (512, 1000)))}
    bn = rng.standard_normal((2, 64, 3, 5) if smoke else (64, 64, 32, 32), dtype=np.float32)
    mp = rng.standard_normal((2, 3, 6, 6) if smoke else (64, 32, 28, 28), dtype=np.float32)
    w, b = fastdl.ones(64, requires_grad=True), fastdl.zeros(64, requires_grad=True)
    w1, b0 = np.ones(64, np.float32), np.zeros(64, np.float32)
    shp = "%dx%d" % (rows, cols)
    out = [
        ("relu " + shp, 5 * n4, lambda: fastdl_step(F.relu, x4), lambda: np_relu_step(x4),
         lambda t: lambda: torch_step(t, t.relu, x4)),
        ("gelu(tanh) " + shp, 5 * n4, lambda: fastdl_step(F.gelu, x4, "tanh"),
         lambda: np_gelu_step(x4),
         lambda t: lambda: torch_step(t, lambda a: t.nn.functional.gelu(a, approximate="tanh"),
                                      x4)),
        ("softmax %s dim=1" % shp, 5 * n4, lambda: fastdl_step(F.softmax, x4, 1),
         lambda: np_softmax_step(x4), lambda t: lambda: torch_step(t, t.softmax, x4, 1)),
    ]
    for s, (x, t) in ce.items():
        tt = fastdl.from_numpy(t)
        out.append(("cross_entropy %dx%d" % s, 2 * x.size * 4,
                    (lambda x=x, tt=tt: fastdl_step(F.cross_entropy, x, tt)),
                    (lambda x=x, t=t: np_cross_entropy_step(x, t)),
                    (lambda th, x=x, t=t: (lambda: torch_step(
                        th, th.nn.functional.cross_entropy, x, th.from_numpy(t))))))
    out += [
        ("batch_norm train %s" % "x".join(map(str, bn.shape)), 5 * bn.size * 4,
         lambda: fastdl_step(lambda a: F.batch_norm(a, None, None, w, b, training=True), bn),
         lambda: np_batch_norm_step(bn, w1, b0),
         lambda t: (lambda tw=t.ones(64, requires_grad=True), tb=t.zeros(64, requires_grad=True):
                    lambda: torch_step(t, lambda a: t.nn.functional.batch_norm(
                        a, None, None, tw, tb, training=True), bn))()),
        ("max_pool2d 2x2 %s" % "x".join(map(str, mp.shape)), mp.size * 4 * 2 + mp.size * 3,
         lambda: fastdl_step(F.max_pool2d, mp, 2), lambda: np_max_pool_step(mp),
         lambda t: lambda: torch_step(t, t.nn.functional.max_pool2d, mp, 2)),
    ]
    return out


# ---- the machine ---------------------------------------------------------------------------

def cpu_model():
    """The CPU's marketing name and family/model, as the OS reports them."""
    name, fam, mod = None, None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and name is None:
                    name = v
                elif k == "cpu family" and fam is None:
                    fam = v
                elif k == "model" and mod is None:
                    mod = v
                if name and fam and mod:
                    break
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    extra = " (family %s, model %s)" % (fam, mod) if fam else ""
    return "%s%s, %d logical CPUs" % (name, extra, os.cpu_count() or 1)


def copy_bandwidth(nthreads, n=1 << 25, repeat=7):
    """GB/s of np.copyto over n float32 per thread on nthreads Python threads (read + write
    bytes; NumPy releases the GIL while it copies); the fastest of repeat runs."""
    srcs = [np.ones(n, np.float32) for _ in range(nthreads)]
    dsts = [np.zeros(n, np.float32) for _ in range(nthreads)]
    best = []
    for _ in range(repeat):
        threads = [threading.Thread(target=np.copyto, args=(d, s)) for d, s in zip(dsts, srcs)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        best.append(time.perf_counter() - t)
    return 8 * n * nthreads / min(best) / 1e9


def peaks(quick):
    """{threads: fp32 GFLOP/s}: the best of several short FMA-loop runs (a median on a
    shared machine measures the other processes), taken after the process is quiet."""
    from fastdl.bench.gemm import measure_peak
    wait_quiet()
    return {t: measure_peak(t, seconds=0.05, repeats=5 if quick else 15, stat="min")
            for t in (1, 2)}


_CONFIG_SKIP = ("version", "python", "numpy", "env", "lib", "compiler", "denormals", "malloc",
                "scratch_cached_bytes", "threads", "omp_wait_policy")


def kernel_config():
    """The kernel choices fastdl.config() reports (ISA, GEMM kernel, and any convolution
    algorithm or other choice a later version adds), as 'key: value' strings."""
    c = fastdl.config()
    return ["%s: %s" % (k, v) for k, v in c.items() if k not in _CONFIG_SKIP]


# ---- the tables ----------------------------------------------------------------------------

TARGETS = [  # (case name prefix, target speed ratio fastdl / torch, the wording)
    ("conv2d 64->64 32x32", 1.5, "conv2d 64->64 32x32 N=64 3x3, fwd + bwd >= 1.5x PyTorch"),
    ("conv2d 32->64 14x14", 1.3, "conv2d 32->64 14x14 N=64 3x3, fwd + bwd >= 1.3x PyTorch"),
    ("conv2d 512->512 1x1", 1.0, "conv2d 512->512 on 1x1 maps N=128, fwd + bwd >= PyTorch"),
    ("relu ", 1.0, "relu fwd + bwd at 4M elements >= PyTorch"),
    ("softmax ", 1.0, "softmax fwd + bwd at 4M elements >= PyTorch"),
    ("batch_norm ", 1.0, "batch_norm fwd + bwd at 4M elements >= PyTorch"),
]


def _fmt(v, spec):
    return "-" if v != v else spec % v


def _time_pair(f, tf, torch, reps):
    """(fastdl 1T, torch 1T, fastdl 2T, torch 2T) median seconds, each pair interleaved.
    The 1-thread pair is the steadier comparison on a machine other processes share."""
    res = []
    for n in (1, 2):
        fastdl.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        res += interleaved([f, tf(torch) if torch is not None else None], reps)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastdl bench nn", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--no-conv", action="store_true", help="skip the convolutions")
    p.add_argument("--no-numpy", action="store_true", help="skip the NumPy column")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    p.add_argument("--smoke", action="store_true", help="tiny shapes, one repeat")
    a = p.parse_args(argv)
    reps = 1 if a.smoke else 5 if a.quick else 15
    torch = None
    if not a.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    old = fastdl.get_num_threads()
    if torch is not None:
        torch.set_num_threads(2)
    print("fastdl %s; CPU: %s" % (fastdl.__version__, cpu_model()))
    print(fair_allocator())
    pk = peaks(a.quick or a.smoke)
    bw = {t: copy_bandwidth(t, n=1 << (16 if a.smoke else 25), repeat=3 if a.smoke else 7)
          for t in (1, 2)}
    # two cores run at most twice one core's rate; less means the 2-thread loop shared a core
    ceiling = max(pk[2], 2 * pk[1]) if (os.cpu_count() or 1) >= 2 else pk[1]
    note = ""
    if pk[2] < 1.8 * pk[1]:
        note = ("; the 2-thread run was slowed by other processes: %%peak uses 2 x 1-thread "
                "= %.0f" % ceiling)
    elif pk[2] > 2.2 * pk[1]:
        note = "; the 1-thread run was slowed by other processes: %peak uses the 2-thread figure"
    print("fp32 FMA peak measured now (best of several runs): %.0f GFLOP/s (1 thread), "
          "%.0f (2 threads)%s" % (pk[1], pk[2], note))
    print("copy bandwidth measured now (np.copyto, 128 MiB per thread, read + write): "
          "%.1f GB/s (1 thread), %.1f (2 threads)" % (bw[1], bw[2]))
    print("kernels: " + "; ".join(kernel_config()))
    print("PyTorch: %s" % ("%s, 2 threads" % torch.__version__ if torch is not None
                           else "not installed (its columns are left empty)"))
    print("forward + backward, median ms of %d runs; fastdl and torch at the same thread count "
          "timed alternately, each after the process is quiet and one untimed call that wakes "
          "its threads; x = fastdl's speed / torch's"
          % reps)
    ratios = {}
    try:
        if not a.no_conv:
            print()
            print("convolutions (3x3, padding 1), forward + backward (dx, dw); GFLOP/s counts "
                  "the three direct-convolution products (an effective rate where Winograd "
                  "does fewer)")
            chdr = "%-27s %8s %8s %8s %8s %8s | %7s %5s %8s %8s" % (
                "op", "fdl 1T", "torch 1T", "fdl 2T", "torch 2T", "numpy", "GF/s 2T", "%peak",
                "x 2T", "x 1T")
            print(chdr)
            print("-" * len(chdr))
            shapes = SMOKE_CONV if a.smoke else CONV_CASES
            for name, flops, f, n, tf in conv_cases(np.random.default_rng(0), shapes):
                t1, tt1, t2, tt = _time_pair(f, tf, torch, reps)
                tn = (float("nan") if a.no_numpy or name.startswith("conv2d 512")
                      else median_ms(n, max(1, reps // 5), quiet=False) * 1e-3)
                gf = flops / t2 / 1e9
                ratios[name] = (tt / t2, tt1 / t1)
                print("%-27s %8.2f %8s %8.2f %8s %8s | %7.0f %4.0f%% %8s %8s"
                      % (name, t1 * 1e3, _fmt(tt1 * 1e3, "%.2f"), t2 * 1e3,
                         _fmt(tt * 1e3, "%.2f"), _fmt(tn * 1e3, "%.2f"), gf,
                         100 * gf / ceiling, _fmt(tt / t2, "%.2fx"), _fmt(tt1 / t1, "%.2fx")))
            print("conv2d algorithm (FASTDL_CONV_ALGO=%s): %s" % (winograd.get_algo(), "; ".join(
                "%d->%d %dx%d %s" % (C, K, H, H, winograd.algo_name((N, C, H, H), (K, C, 3, 3),
                                                                     (1, 1), (1, 1)))
                for N, C, K, H in shapes)))
        print()
        print("memory-bound ops, forward + backward; GB/s = minimum bytes moved / median time; "
              "%bw = share of the copy bandwidth (the higher of the 1- and 2-thread figures: "
              "a busy machine can depress either)")
        hdr = "%-30s %7s %8s %7s %8s %7s | %8s %4s %8s %6s %6s" % (
            "op", "fdl 1T", "torch 1T", "fdl 2T", "torch 2T", "numpy", "GB/s 2T", "%bw",
            "torch GB/s", "x 2T", "x 1T")
        print(hdr)
        print("-" * len(hdr))
        for name, nbytes, f, n, tf in cases(np.random.default_rng(0), a.smoke):
            t1, tt1, t2, tt = _time_pair(f, tf, torch, reps)
            tn = float("nan") if a.no_numpy else median_ms(n, reps, quiet=False) * 1e-3
            ratios[name] = (tt / t2, tt1 / t1)
            gbs = nbytes / t2 / 1e9
            print("%-30s %7.3f %8s %7.3f %8s %7s | %8.1f %3.0f%% %8s %6s %6s"
                  % (name, t1 * 1e3, _fmt(tt1 * 1e3, "%.3f"), t2 * 1e3, _fmt(tt * 1e3, "%.3f"),
                     _fmt(tn * 1e3, "%.3f"), gbs, 100 * gbs / max(bw.values()),
                     _fmt(nbytes / tt / 1e9, "%.1f"), _fmt(tt / t2, "%.2fx"),
                     _fmt(tt1 / t1, "%.2fx")))
    finally:
        fastdl.set_num_threads(old)
    if torch is not None and not a.smoke:
        print()
        print("issue 13 targets: speed ratio fastdl / PyTorch in this run, on 2 threads (the "
              "target) and on 1 (steadier when other processes share the cores)")
        thdr = "%-62s %7s %8s %5s %8s" % ("target", "needed", "x 2T", "met", "x 1T")
        print(thdr)
        print("-" * len(thdr))
        for prefix, need, text in TARGETS:
            got = [r for k, r in ratios.items() if k.startswith(prefix)]
            if not got:
                continue
            r2, r1 = got[0]
            print("%-62s %6.2fx %7.2fx %5s %7.2fx" % (text, need, r2,
                                                      "yes" if r2 >= need else "no", r1))
    return 0


if __name__ == "__main__":
    main()
