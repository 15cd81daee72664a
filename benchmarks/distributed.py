"""Data parallelism on one machine: 1 process x 2 threads against 2 processes x 1 thread.

    pip install "fastdl[mpi]"
    python benchmarks/distributed.py [--steps-mlp 300] [--steps-cnn 30] [--runs 3]

For the MNIST MLP (784-256-128-10, Adam, global batch 128) and CNN
(conv32-pool-conv64-pool-fc128-fc10, SGD, global batch 64) it times training
steps (forward, backward, optimizer) on random 28x28 inputs (speed does not
depend on the pixel values):

- 1x2: one process, OMP_NUM_THREADS=2, the plain model, batch B;
- 2x1: ``mpiexec -n 2``, OMP_NUM_THREADS=1 each, DistributedDataParallel, B/2 per rank;
- 2x1 without all-reduce: the same two ranks training independently (the plain
  model, B/2 each): what 2x1 would reach if communication and waiting for the
  other rank cost nothing, on the machine as loaded at that moment.

Both use the same two cores, so the ratio of their samples/s is the scaling
efficiency of going from threads to processes (1.0 = no loss). For 2x1 it
also reports, per step, the time backward spent in the gradient all-reduce
(the last bucket's blocking all-reduce plus waiting for the earlier ones: what
overlap did not hide) and the time of a blocking all-reduce of the whole
gradient alone. Each configuration runs --runs times; the table
shows the best run (least disturbed by other jobs on a shared machine).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.abspath(__file__)
MODELS = {"mlp": dict(batch=128, opt="adam"), "cnn": dict(batch=64, opt="sgd")}


def build(kind):
    from fastdl import nn
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                             nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def worker(kind, steps, ddp, mpi):
    """One configuration; rank 0 prints a JSON line."""
    import fastdl
    import fastdl.nn.functional as F
    rank, world = 0, 1
    if mpi:
        import fastdl.distributed as dist
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    fastdl.manual_seed(0)
    model = build(kind)
    n_params = sum(p.numel() for p in model.parameters())
    if ddp:
        from fastdl.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model)
    spec = MODELS[kind]
    b = spec["batch"] // world
    opt = (fastdl.optim.Adam(model.parameters(), lr=1e-3) if spec["opt"] == "adam"
           else fastdl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    rng = np.random.default_rng(rank)
    xs = [fastdl.from_numpy(rng.random((b, 1, 28, 28), dtype=np.float32)) for _ in range(8)]
    ys = [fastdl.from_numpy(rng.integers(0, 10, size=b)) for _ in range(8)]

    def step(i):
        loss = F.cross_entropy(model(xs[i % 8]), ys[i % 8])
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(5):
        step(i)
    if mpi:
        dist.barrier()
    if ddp:
        model._reduce_seconds = 0.0
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    if mpi:
        dist.barrier()
    seconds = time.perf_counter() - t0
    res = {"kind": kind, "world": world, "threads": fastdl.get_num_threads(),
           "samples_per_s": steps * b * world / seconds, "ms_per_step": 1e3 * seconds / steps,
           "params": n_params}
    if ddp:
        res["wait_ms_per_step"] = 1e3 * model._reduce_seconds / steps
        flat = np.ones(n_params, dtype=np.float32)
        comm = dist._state.comm
        from mpi4py import MPI
        for _ in range(3):
            comm.Allreduce(MPI.IN_PLACE, flat)
        reps = 50
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            comm.Allreduce(MPI.IN_PLACE, flat)
        res["allreduce_ms"] = 1e3 * (time.perf_counter() - t0) / reps
    if mpi:
        dist.destroy_process_group()
    if rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def launch(kind, steps, mode, mpiexec):
    """mode: "1x2" (one process), "2x1" (DDP) or "2x1-nosync" (two independent ranks)."""
    env = dict(os.environ, OMP_NUM_THREADS="2" if mode == "1x2" else "1")
    cmd = [sys.executable, HERE, "--worker", kind, "--steps", str(steps)]
    if mode != "1x2":
        cmd = mpiexec + ["-n", "2"] + cmd + ["--mpi"] + (["--ddp"] if mode == "2x1" else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("benchmark worker failed:\n%s\n%s" % (out.stdout[-2000:],
                                                           out.stderr[-2000:]))


def find_mpiexec():
    exe = shutil.which("mpiexec") or shutil.which("mpiexec", path=os.path.dirname(sys.executable))
    if exe is None:
        raise SystemExit('mpiexec not found: pip install "fastdl[mpi]"')
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    argv = [exe]
    if "Open MPI" in version:
        argv += ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    return argv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps-mlp", type=int, default=300)
    ap.add_argument("--steps-cnn", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--ddp", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mpi", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.ddp, args.mpi)
        return
    mpiexec = find_mpiexec()
    rows = []
    for kind, steps in (("mlp", args.steps_mlp), ("cnn", args.steps_cnn)):
        best = {}
        for _ in range(args.runs):           # alternate, so all see the same disturbances
            for mode in ("1x2", "2x1", "2x1-nosync"):
                r = launch(kind, steps, mode, mpiexec)
                if mode not in best or r["samples_per_s"] > best[mode]["samples_per_s"]:
                    best[mode] = r
        rows.append((kind, best))
    print("| model | params | 1 proc x 2 threads (samples/s) | 2 procs x 1 thread, DDP "
          "(samples/s) | scaling efficiency | 2 procs x 1 thread, no all-reduce (samples/s) "
          "| all-reduce time left in backward (ms/step) | all-reduce alone (ms) "
          "| step (ms, 2x1 DDP) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, b in rows:
        one, two, free = b["1x2"], b["2x1"], b["2x1-nosync"]
        print("| %s (batch %d) | %d | %.0f | %.0f | %.2f | %.0f | %.3f | %.3f | %.2f |"
              % (kind.upper(), MODELS[kind]["batch"], one["params"], one["samples_per_s"],
                 two["samples_per_s"], two["samples_per_s"] / one["samples_per_s"],
                 free["samples_per_s"], two["wait_ms_per_step"], two["allreduce_ms"],
                 two["ms_per_step"]))


if __name__ == "__main__":
    main()
