"""Winograd F(4x4, 3x3) against fastdl's im2col path and PyTorch, and the
float32 accuracy of F(2x2), F(4x4), F(6x6) (why F(4x4)).

Speed: conv2d forward + backward (dx, dw, db) of 3x3 padding-1 layers,
median wall-clock ms over repeats, the three runs interleaved in one process
with the same data (FASTDL_CONV_ALGO switched at run time); PyTorch when
installed, with as many threads as fastdl.

Accuracy: the tile algorithm simulated in NumPy float32 (transform matrices
built from the interpolation points), max |error| / max |reference| against
float64 on unit-scale data, C = K = 64.

    python benchmarks/conv_winograd.py [--repeats 15] [--threads 2] [--no-accuracy]
"""
import argparse
import time

import numpy as np

import fastdl
from fastdl._C import conv, winograd

CASES = [(64, 64, 64, 32), (64, 32, 64, 14), (64, 16, 32, 28), (64, 128, 128, 8)]


def step_fastdl(x, w, b, dout):
    conv.forward(x, w, b, (1, 1), (1, 1), (1, 1), 1)
    conv.backward(dout, x, w, True, True, True, (1, 1), (1, 1), (1, 1), 1)


def speed(repeats, threads):
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    fastdl.set_num_threads(threads)
    prev = winograd.get_algo()
    print("conv2d 3x3 pad 1, fwd + bwd, median ms of %d, %d thread(s)" % (repeats, threads))
    print("%-24s %9s %9s %9s %11s %11s" % ("layer", "im2col", "winograd", "torch",
                                          "torch/wino", "im2col/wino"))
    rng = np.random.default_rng(0)
    try:
        for N, C, K, H in CASES:
            x = rng.standard_normal((N, C, H, H), dtype=np.float32)
            w = rng.standard_normal((K, C, 3, 3), dtype=np.float32) * 0.1
            b = np.zeros(K, np.float32)
            dout = rng.standard_normal((N, K, H, H), dtype=np.float32)
            fns = {a: (lambda a=a: (winograd.set_algo(a), step_fastdl(x, w, b, dout)))
                   for a in ("im2col", "winograd")}
            if torch is not None:
                tx = torch.from_numpy(x).requires_grad_()
                tw = torch.from_numpy(w).requires_grad_()
                tb = torch.from_numpy(b).requires_grad_()
                td = torch.from_numpy(dout)

                def torch_step():
                    tx.grad = tw.grad = tb.grad = None
                    torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(td)
                fns["torch"] = torch_step
            times = {k: [] for k in fns}
            for f in fns.values():
                f()
            for _ in range(repeats):
                for k, f in fns.items():
                    t0 = time.perf_counter()
                    f()
                    times[k].append(time.perf_counter() - t0)
            med = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
            tt = med.get("torch", float("nan"))
            print("%-24s %9.2f %9.2f %9.2f %10.2fx %10.2fx"
                  % ("%d->%d %dx%d N=%d" % (C, K, H, H, N), med["im2col"], med["winograd"], tt,
                     tt / med["winograd"], med["im2col"] / med["winograd"]))
    finally:
        winograd.set_algo(prev)


def transform_matrices(m, points):
    """A^T (m x n), G (n x 3), B^T (n x n) of F(m, 3) over points + infinity."""
    r, n = 3, m + 2
    pts = np.array(points, float)
    AT, G = np.zeros((m, n)), np.zeros((n, r))
    for j, p in enumerate(pts):
        AT[:, j] = p ** np.arange(m)
        G[j] = p ** np.arange(r) / np.prod([p - q for q in pts if q != p])
    AT[m - 1, n - 1] = G[n - 1, r - 1] = 1
    BT = np.zeros((n, n))
    for col in range(n):   # B^T from the identity y_i = sum_k g_k d_{i+k}
        rows = [AT[i] * G[:, k] for i in range(m) for k in range(r)]
        rhs = [1.0 if col == i + k else 0.0 for i in range(m) for k in range(r)]
        BT[:, col] = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return AT, G, BT


def accuracy(C=64, K=64, tiles=400):
    rng = np.random.default_rng(0)
    print("float32 Winograd tiles, C = K = %d, max|err| / max|ref| against float64" % C)
    f = np.float32
    for m, pts in ((2, [0, 1, -1]), (4, [0, 1, -1, 2, -2]),
                   (6, [0, 1, -1, 2, -2, 0.5, -0.5])):
        AT, G, BT = transform_matrices(m, pts)
        n = m + 2
        d = rng.standard_normal((tiles, C, n, n))
        g = rng.standard_normal((K, C, 3, 3))
        ref = np.zeros((tiles, K, m, m))
        for i in range(m):
            for j in range(m):
                ref[:, :, i, j] = np.einsum("tcrs,kcrs->tk", d[:, :, i:i + 3, j:j + 3], g)
        U = np.einsum("ar,kcrs,bs->kcab", G, g, G).astype(f)
        V = np.einsum("ai,tcij,bj->tcab", BT.astype(f), d.astype(f), BT.astype(f))
        M = np.einsum("kcab,tcab->tkab", U, V.astype(f))
        Y = np.einsum("ia,tkab,jb->tkij", AT.astype(f), M.astype(f), AT.astype(f))
        print("  F(%dx%d, 3x3): %.2e   (%d products per %d outputs)"
              % (m, m, np.abs(Y - ref).max() / np.abs(ref).max(), n * n, m * m))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=fastdl.get_num_threads())
    p.add_argument("--no-accuracy", action="store_true")
    a = p.parse_args(argv)
    speed(a.repeats, a.threads)
    if not a.no_accuracy:
        print()
        accuracy()


if __name__ == "__main__":
    main()
