"""ResNet-8's and the MNIST CNN's GEMM-path convolution layers (the stride-2
3x3 ones go through the padded phase planes), fastdl against PyTorch.

Per layer, N=128, float32, no bias: forward + backward (dx and dW, the input
requires grad) and forward alone, medians of repeats of 3-call medians, the
two libraries alternating in one process on the same data. With one thread
the clock is the process's CPU time (time.process_time), so a loaded machine
shifts both sides less; with more, wall-clock time. PyTorch when installed.

    python benchmarks/conv_layers.py [--threads 1] [--repeats 7] [--layers s2a,s2b]
"""
import argparse
import time

import numpy as np

import fastdl
import fastdl.nn as fnn
from fastdl.bench._quiet import fair_allocator

# name: (C, K, kernel, stride, H)
LAYERS = {
    "s2a": (16, 32, 3, 2, 32),      # ResNet-8 16->32 stride 2, 32x32 -> 16x16
    "s2b": (32, 64, 3, 2, 16),      # ResNet-8 32->64 stride 2, 16x16 -> 8x8
    "stem": (3, 16, 3, 1, 32),      # ResNet-8 stem
    "mnist": (1, 32, 3, 1, 28),     # the MNIST CNN's first layer
    "1x1s2": (16, 32, 1, 2, 32),    # ResNet-8 shortcut
}


def steps(lib, layer, x):
    """(forward + backward, forward alone) of layer on x through lib (fastdl or torch:
    the same names)."""
    xt = lib.from_numpy(x).requires_grad_()

    def both():
        y = layer(xt)
        y.backward(lib.ones_like(y))

    def forward():
        with lib.no_grad():
            layer(xt)

    return both, forward


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--layers", default=",".join(LAYERS))
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    print(fair_allocator())
    try:
        import torch
        torch.set_num_threads(a.threads)
    except ImportError:
        torch = None
    fastdl.set_num_threads(a.threads)
    clock = time.process_time if a.threads == 1 else time.perf_counter

    def med(f):
        ts = []
        for _ in range(3):
            t = clock()
            f()
            ts.append(clock() - t)
        return np.median(ts) * 1e3

    for name in a.layers.split(","):
        c, k, ks, s, h = LAYERS[name]
        x = np.random.default_rng(0).standard_normal((a.batch, c, h, h), dtype=np.float32)
        fm = fnn.Conv2d(c, k, ks, s, ks // 2, bias=False)
        runs = {"fastdl": steps(fastdl, fm, x)}
        if torch is not None:
            tm = torch.nn.Conv2d(c, k, ks, s, ks // 2, bias=False)
            with torch.no_grad():
                tm.weight.copy_(torch.from_numpy(fm.weight.detach().numpy()))
            runs["torch"] = steps(torch, tm, x)
        for fa, ff in runs.values():
            fa(), ff()
        res = {lib: ([], []) for lib in runs}
        for _ in range(a.repeats):
            for lib, (fa, ff) in runs.items():
                res[lib][0].append(med(fa))
                res[lib][1].append(med(ff))
        line = "%-6s C=%d K=%d %dx%d s%d %dx%d:" % (name, c, k, ks, ks, s, h, h)
        f_a, f_f = (np.median(v) for v in res["fastdl"])
        line += " fwd+bwd fastdl %.3f ms" % f_a
        if "torch" in res:
            t_a, t_f = (np.median(v) for v in res["torch"])
            line += " torch %.3f (x%.2f)" % (t_a, t_a / f_a)
        line += " | fwd fastdl %.3f" % f_f
        if "torch" in res:
            line += " torch %.3f (x%.2f)" % (t_f, t_f / f_f)
        print(line, flush=True)


if __name__ == "__main__":
    main()
