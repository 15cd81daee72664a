"""Inference speed: fastdl against PyTorch (eager and torch.jit.trace) and ONNX Runtime.

Latency at batch 1 (median microseconds per call) and throughput at batch 64
(samples/s from the median call time) for the MNIST MLP (784-256-128-10), the
MNIST CNN (conv32-pool-conv64-pool-fc128-fc10, as in benchmarks/training.py)
and a 2-layer LSTM (28 steps of 28 features, hidden 128, a linear head on the
last step). All frameworks run the same weights (fastdl's, loaded into
PyTorch; ONNX Runtime runs the model fastdl.onnx.export wrote) and are first
checked to agree on the same input; each is limited to the same number of
threads. fastdl runs under fastdl.inference_mode(), PyTorch under
torch.inference_mode(). Columns whose package is missing are skipped.

    python benchmarks/inference.py [--threads 1] [--rounds 7] [--min-time 0.05]
                                   [--settle 0.05] [--breakdown]

Timing: each framework gets as many calls per round as fill ``min-time``
seconds, after a warm-up; the rounds of the frameworks are interleaved (round
1 of every framework, then round 2, ...) so that a load change on a shared
machine hits them alike, and before each framework's round the process sleeps
until no other thread of the process spins (another framework's workers poll
for a while after their last call), then ``settle`` seconds more, so that the
cores are quiet. The median round gives the time per call. Run on an idle
machine for numbers to keep; on a shared one compare ratios from one run.
"""
import argparse
import io
import os
import statistics
import time
import warnings

import numpy as np

import fastdl
from fastdl import nn
from fastdl.bench._quiet import fair_allocator, wait_quiet

try:
    import torch
except ImportError:
    torch = None
try:
    import onnxruntime as ort
    import fastdl.onnx
except ImportError:
    ort = None


# ---- the models -------------------------------------------------------------------------

def fastdl_mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def fastdl_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


class FastdlLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, num_layers=2, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def torch_models():
    tnn = torch.nn

    class TorchLSTM(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(28, 128, num_layers=2, batch_first=True)
            self.fc = tnn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    return {
        "mlp": lambda: tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128),
                                      tnn.ReLU(), tnn.Linear(128, 10)),
        "cnn": lambda: tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(),
                                      tnn.MaxPool2d(2), tnn.Conv2d(32, 64, 3, padding=1),
                                      tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                                      tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10)),
        "lstm": TorchLSTM,
    }


MODELS = {
    "MNIST MLP": ("mlp", fastdl_mlp, (784,)),
    "MNIST CNN": ("cnn", fastdl_cnn, (1, 28, 28)),
    "LSTM 2x128": ("lstm", FastdlLSTM, (28, 28)),
}


# ---- timing -----------------------------------------------------------------------------

def time_call(fn, rounds, min_time):
    """Median seconds per call over `rounds` rounds of n calls each (n fills min_time)."""
    return time_calls({"": fn}, rounds, min_time, 0.0)[""]


def time_calls(fns, rounds, min_time, settle):
    """{name: median seconds per call}: rounds interleaved over the callables, each
    round of one callable once no other thread of the process spins (OpenBLAS,
    PyTorch's or ONNX Runtime's workers) and after `settle` more seconds of sleep."""
    counts = {}
    for name, fn in fns.items():
        for _ in range(3):
            fn()
        t0 = time.perf_counter()
        fn()
        counts[name] = max(1, int(min_time / max(time.perf_counter() - t0, 1e-7)))
    per = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            wait_quiet()
            if settle:
                time.sleep(settle)
            n = counts[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            per[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(v) for name, v in per.items()}


# ---- one model in every framework ---------------------------------------------------------

def runners(key, make, feat, threads):
    """{framework: (callable(x ndarray) -> output ndarray, prepare(x) -> arg)}."""
    fastdl.manual_seed(0)
    model = make()
    model.eval()
    res = {}

    def fd_prep(x):
        return fastdl.from_numpy(x)

    @fastdl.inference_mode()
    def fd_run(t):
        return model(t)
    res["fastdl"] = (fd_run, fd_prep, lambda o: o.numpy())

    if torch is not None:
        tm = torch_models()[key]()
        sd = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
        tm.load_state_dict(sd)
        tm.eval()

        def t_prep(x):
            return torch.from_numpy(x)

        def t_run(t):
            with torch.inference_mode():
                return tm(t)
        res["torch eager"] = (t_run, t_prep, lambda o: o.numpy())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ex = torch.zeros((1,) + feat)
                with torch.no_grad():
                    jm = torch.jit.freeze(torch.jit.trace(tm, ex).eval())

            def j_run(t):
                with torch.inference_mode():
                    return jm(t)
            res["torch.jit.trace"] = (j_run, t_prep, lambda o: o.numpy())
        except Exception as e:          # noqa: BLE001 (reported, column left empty)
            print("torch.jit.trace failed for %s: %s" % (key, str(e).splitlines()[0]))

    if ort is not None:
        buf = io.BytesIO()
        fastdl.onnx.export(model, fastdl.zeros((2,) + feat), buf, input_names=["x"],
                           output_names=["y"], dynamic_axes={"x": {0: "b"}, "y": {0: "b"}})
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        sess = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])

        def o_run(x):
            return sess.run(None, {"x": x})[0]
        res["onnxruntime"] = (o_run, lambda x: x, lambda o: o)
    return res


def breakdown(rounds, min_time):
    """Where fastdl's batch-1 MLP time goes: each Linear's GEMM (M = 1) against NumPy's."""
    from fastdl._C import gemm
    fastdl.manual_seed(0)
    model = fastdl_mlp()
    x = np.random.default_rng(1).standard_normal((1, 784)).astype(np.float32)
    print("\nbatch-1 MLP breakdown (us per call):")
    total = 0.0
    for layer in model:
        if not isinstance(layer, nn.Linear):
            continue
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        t_fd = time_call(lambda: gemm.matmul(x, w, transb=True, bias=b), rounds, min_time)
        t_np = time_call(lambda: x @ w.T + b, rounds, min_time)
        total += t_fd
        print("  linear %4d -> %4d: fastdl GEMM %6.1f, NumPy %6.1f"
              % (w.shape[1], w.shape[0], t_fd * 1e6, t_np * 1e6))
        x = np.maximum(x @ w.T + b, 0).astype(np.float32)
    with fastdl.inference_mode():
        xt = fastdl.from_numpy(np.zeros((1, 784), np.float32))
        t_model = time_call(lambda: model(xt), rounds, min_time)
    print("  whole model %.1f, of which the three GEMMs %.1f" % (t_model * 1e6, total * 1e6))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=64, help="throughput batch size")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time each Linear of the batch-1 MLP: fastdl's GEMM vs NumPy")
    ap.add_argument("--settle", type=float, default=0.05,
                    help="seconds of sleep before each framework's timing round")
    args = ap.parse_args(argv)

    fastdl.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    versions = ["fastdl %s (%s)" % (fastdl.__version__, fastdl.config()["isa_active"])]
    if torch is not None:
        versions.append("torch %s" % torch.__version__)
    if ort is not None:
        versions.append("onnxruntime %s" % ort.__version__)
    print("threads per framework: %d; %s" % (args.threads, ", ".join(versions)))
    print(fair_allocator())

    rng = np.random.default_rng(0)
    rows = []
    frameworks = None
    for label, (key, make, feat) in MODELS.items():
        rs = runners(key, make, feat, args.threads)
        frameworks = frameworks or list(rs)
        lat, thr = {}, {}
        for b, store in ((1, lat), (args.batch, thr)):
            x = rng.standard_normal((b,) + feat).astype(np.float32)
            ref = None
            calls = {}
            for name, (run, prep, out) in rs.items():
                arg = prep(x)
                y = out(run(arg))
                if ref is None:
                    ref = y
                else:
                    err = float(np.abs(y - ref).max())
                    if err > 1e-4:
                        raise SystemExit("%s %s batch %d: output differs from fastdl by %.3g"
                                         % (label, name, b, err))
                calls[name] = (lambda run, arg: lambda: run(arg))(run, arg)
            store.update(time_calls(calls, args.rounds, args.min_time, args.settle))
        rows.append((label, lat, thr))

    fw = frameworks
    others = [f for f in fw if f != "fastdl"]
    ratio_to = [f for f in ("torch eager", "onnxruntime") if f in fw]
    print()
    print("batch-1 latency (median us per call) and batch-%d throughput (samples/s), "
          "%d thread(s) per framework:" % (args.batch, args.threads))
    print()
    print("| model | " + " | ".join("%s b1 (us)" % f for f in fw)
          + "".join(" | fastdl / %s b1" % f for f in ratio_to)
          + " | " + " | ".join("%s b%d (samples/s)" % (f, args.batch) for f in fw) + " |")
    print("|---" * (1 + 2 * len(fw) + len(ratio_to)) + "|")
    for label, lat, thr in rows:
        cells = ["%.0f" % (lat[f] * 1e6) if f in lat else "n/a" for f in fw]
        cells += ["%.2fx" % (lat["fastdl"] / lat[f]) if f in lat else "n/a" for f in ratio_to]
        cells += ["%.0f" % (args.batch / thr[f]) if f in thr else "n/a" for f in fw]
        print("| %s | %s |" % (label, " | ".join(cells)))
    if "torch.jit.trace" in others:
        print()
        for label, lat, _ in (r for r in rows if "torch.jit.trace" in r[1]):
            print("batch-1 latency, fastdl / torch.jit.trace: %-10s %.2fx"
                  % (label, lat["fastdl"] / lat["torch.jit.trace"]))
    if args.breakdown:
        breakdown(args.rounds, args.min_time)


if __name__ == "__main__":
    main()
