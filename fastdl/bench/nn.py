"""`python -m fastdl bench nn`: nn kernels, forward + backward, against NumPy.

Each case runs one forward and one backward through the public API
(fastdl.nn.functional + autograd, an all-ones upstream gradient) and the same
math written as vectorized NumPy (the reference implementations below, also
used by benchmarks/bench_nn.py), and PyTorch when installed. Printed: median
milliseconds at 1 and 2 fastdl threads, NumPy, torch (2 threads), the ratio
NumPy / fastdl(2 threads), and fastdl's effective bandwidth: the minimum bytes
the op must move (inputs and outputs of forward and backward, once) over its
best time. On a shared machine wall-clock times of multi-threaded runs suffer
when other processes hold the cores, so the table also gives the calling
thread's CPU time (median) of fastdl at 1 thread and of NumPy (single-threaded
here), and the ratio of those two. Options: --quick (fewer repeats).
"""
import argparse
import time

import numpy as np

import fastdl
import fastdl.nn.functional as F
from fastdl._C import winograd

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


CONV_CASES = [(64, 1, 32, 28), (64, 32, 64, 14), (64, 64, 64, 32)]


def conv_cases(rng):
    """(name, flops of forward + both backward products, fastdl, numpy, torch factory)."""
    out = []
    for N, C, K, H in CONV_CASES:
        x = rng.standard_normal((N, C, H, H), dtype=np.float32)
        w = rng.standard_normal((K, C, 3, 3), dtype=np.float32) * 0.1
        flops = 3 * 2 * N * K * C * 9 * H * H
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


def cases(rng):
    """(name, bytes moved, fastdl thunk, numpy thunk, torch thunk factory)."""
    x4 = rng.standard_normal((1024, 4096), dtype=np.float32)
    n4 = x4.size * 4
    ce = {s: (rng.standard_normal(s, dtype=np.float32), rng.integers(0, s[1], s[0]))
          for s in ((128, 10), (512, 1000))}
    bn = rng.standard_normal((64, 64, 32, 32), dtype=np.float32)
    mp = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)
    w, b = fastdl.ones(64, requires_grad=True), fastdl.zeros(64, requires_grad=True)
    w1, b0 = np.ones(64, np.float32), np.zeros(64, np.float32)
    out = [
        ("relu 1024x4096", 5 * n4, lambda: fastdl_step(F.relu, x4), lambda: np_relu_step(x4),
         lambda t: lambda: torch_step(t, t.relu, x4)),
        ("gelu(tanh) 1024x4096", 5 * n4, lambda: fastdl_step(F.gelu, x4, "tanh"),
         lambda: np_gelu_step(x4),
         lambda t: lambda: torch_step(t, lambda a: t.nn.functional.gelu(a, approximate="tanh"),
                                      x4)),
        ("softmax 1024x4096 dim=1", 5 * n4, lambda: fastdl_step(F.softmax, x4, 1),
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
        ("batch_norm train 64x64x32x32", 5 * bn.size * 4,
         lambda: fastdl_step(lambda a: F.batch_norm(a, None, None, w, b, training=True), bn),
         lambda: np_batch_norm_step(bn, w1, b0),
         lambda t: (lambda tw=t.ones(64, requires_grad=True), tb=t.zeros(64, requires_grad=True):
                    lambda: torch_step(t, lambda a: t.nn.functional.batch_norm(
                        a, None, None, tw, tb, training=True), bn))()),
        ("max_pool2d 2x2 64x32x28x28", mp.size * 4 * 2 + mp.size * 3,
         lambda: fastdl_step(F.max_pool2d, mp, 2), lambda: np_max_pool_step(mp),
         lambda t: lambda: torch_step(t, t.nn.functional.max_pool2d, mp, 2)),
    ]
    return out


def median_ms(fn, repeats, clock=time.perf_counter):
    fn()
    samples = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return float(np.median(samples)) * 1e3


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastdl bench nn", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    a = p.parse_args(argv)
    reps = 5 if a.quick else 25
    try:
        import torch
    except ImportError:
        torch = None
    old = fastdl.get_num_threads()
    if torch is not None:
        torch.set_num_threads(2)
    print("fastdl %s, ISA %s; forward+backward, median ms of %d runs (wall clock | "
          "calling thread's CPU time)%s"
          % (fastdl.__version__, fastdl.config()["isa_active"], reps,
             "" if torch is not None else "; torch not installed"))
    hdr = "%-29s %8s %8s %8s %8s | %8s %8s %7s | %8s" % (
        "op", "fdl 1T", "fdl 2T", "numpy", "torch", "fdl cpu", "np cpu", "np/fdl", "fdl GB/s")
    try:
        from fastdl.bench.gemm import measure_peak
        peak = {t: measure_peak(t) for t in (1, 2)}
        print("convolutions (3x3, padding 1), forward + backward (dx, dw); GFLOP/s counts the "
              "three direct-convolution products (an effective rate where Winograd does fewer); "
              "fp32 peak measured now: %.0f (1T) / %.0f (2T) GFLOP/s"
              % (peak[1], peak[2]))
        chdr = "%-29s %8s %8s %8s %8s | %8s %8s %7s" % (
            "op", "fdl 1T", "fdl 2T", "numpy", "torch", "GF/s 2T", "%peak", "np/fdl")
        print(chdr)
        print("-" * len(chdr))
        for name, flops, f, n, tf in conv_cases(np.random.default_rng(0)):
            fastdl.set_num_threads(1)
            t1 = median_ms(f, reps)
            fastdl.set_num_threads(2)
            t2 = median_ms(f, reps)
            tn = median_ms(n, max(3, reps // 5))
            tt = median_ms(tf(torch), reps) if torch is not None else float("nan")
            gf = flops / (t2 * 1e-3) / 1e9
            print("%-29s %8.2f %8.2f %8.2f %8.2f | %8.0f %7.0f%% %6.2fx"
                  % (name, t1, t2, tn, tt, gf, 100 * gf / peak[2], tn / t2))
        print("conv2d algorithm (FASTDL_CONV_ALGO=%s): %s" % (winograd.get_algo(), "; ".join(
            "%d->%d %dx%d %s" % (C, K, H, H, winograd.algo_name((N, C, H, H), (K, C, 3, 3),
                                                                 (1, 1), (1, 1)))
            for N, C, K, H in CONV_CASES)))
        print()
        print(hdr)
        print("-" * len(hdr))
        for name, nbytes, f, n, tf in cases(np.random.default_rng(0)):
            fastdl.set_num_threads(1)
            t1 = median_ms(f, reps)
            fastdl.set_num_threads(2)
            t2 = median_ms(f, reps)
            tn = median_ms(n, reps)
            tt = median_ms(tf(torch), reps) if torch is not None else float("nan")
            fastdl.set_num_threads(1)
            c1 = median_ms(f, reps, time.thread_time)
            cn = median_ms(n, reps, time.thread_time)
            print("%-29s %8.3f %8.3f %8.3f %8.3f | %8.3f %8.3f %6.2fx | %8.1f"
                  % (name, t1, t2, tn, tt, c1, cn, cn / c1,
                     nbytes / (min(t1, t2, c1) * 1e-3) / 1e9))
    finally:
        fastdl.set_num_threads(old)
    return 0


if __name__ == "__main__":
    main()
