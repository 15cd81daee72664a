"""Data-parallel MNIST over MPI: DistributedDataParallel + DistributedSampler.

    pip install "fastdl[mpi]"
    OMP_NUM_THREADS=1 mpiexec -n 2 python examples/distributed_mnist.py
    (as root, or with more ranks than cores, Open MPI wants
     mpiexec --allow-run-as-root --oversubscribe -n 2 ...)

Each rank holds a replica of the model and trains on its own share of every
global batch (--batch-size is the global batch, split evenly over the ranks);
DDP averages the gradients during backward, so the replicas stay equal and the
run matches one process training with the whole batch. Rank 0 prints and saves.

Data: the MNIST IDX files from --data DIR or $FASTDL_DATA; --synthetic trains on
generated 28x28 images of ten classes instead (no files needed).
Threads: each rank runs its own OpenMP threads; keep OMP_NUM_THREADS x ranks
at or below the number of cores, or the ranks slow each other down.
"""
import argparse
import os
import time

import numpy as np

import fastdl
import fastdl.distributed as dist
import fastdl.nn.functional as F
from fastdl import nn
from fastdl.nn.parallel import DistributedDataParallel as DDP
from fastdl.utils.data import DataLoader, TensorDataset
from fastdl.utils.data.distributed import DistributedSampler


def make_model(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                             nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def synthetic(n, seed):
    """Ten classes of 28x28 images: a class-specific blob pattern plus noise."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(1234).random((10, 28, 28)).astype(np.float32) ** 4
    y = rng.integers(0, 10, size=n)
    x = protos[y] + 1.5 * rng.standard_normal((n, 28, 28)).astype(np.float32)
    return np.clip(x, 0, 1).astype(np.float32), y.astype(np.int64)


def load(args):
    if args.synthetic:
        return synthetic(args.limit or 12000, 0) + synthetic(2000, 1)
    root = args.data or os.environ.get("FASTDL_DATA")
    if not root:
        raise SystemExit("distributed_mnist: no MNIST directory; pass --data DIR, set "
                         "FASTDL_DATA, or use --synthetic")
    x, y = fastdl.datasets.mnist(root, "train", download=False)
    xt, yt = fastdl.datasets.mnist(root, "test", download=False)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    s = np.float32(1 / 255)
    return x.astype(np.float32) * s, y, xt.astype(np.float32) * s, yt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="directory with the MNIST IDX files (default $FASTDL_DATA)")
    ap.add_argument("--synthetic", action="store_true", help="generated images, no files")
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128, help="global batch (all ranks)")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--limit", type=int, help="use the first N training images")
    ap.add_argument("--save", default="distributed_mnist.safetensors")
    args = ap.parse_args()

    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit("--batch-size %d does not split evenly over %d ranks"
                         % (args.batch_size, world))
    x, y, xt, yt = load(args)
    train = TensorDataset(fastdl.from_numpy(x[:, None]), fastdl.from_numpy(y))
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    if rank == 0:
        cores = os.cpu_count() or 1
        threads = fastdl.get_num_threads()
        print("fastdl %s: %d ranks x %d thread(s) on %d cores; %s, %d training images, "
              "global batch %d (%d per rank)"
              % (fastdl.__version__, world, threads, cores,
                 "synthetic data" if args.synthetic else "MNIST", len(train),
                 args.batch_size, args.batch_size // world))

    fastdl.manual_seed(0)
    model = DDP(make_model(args.model))          # rank 0's initial weights everywhere
    opt = fastdl.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)                 # a new shuffle, the same on every rank
        model.train()
        t0 = time.perf_counter()
        stats = np.zeros(3)                      # loss sum, correct, samples (this rank)
        for xb, yb in loader:
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()                      # gradients averaged over the ranks here
            opt.step()
            stats += (loss.item() * len(yb), int((out.detach().numpy().argmax(1) ==
                                                  yb.numpy()).sum()), len(yb))
        seconds = time.perf_counter() - t0
        total = fastdl.tensor(stats, dtype=fastdl.float64)
        dist.all_reduce(total)                   # the global figures, on every rank
        loss_sum, correct, seen = total.tolist()
        if rank == 0:
            print("epoch %d  loss %.4f  accuracy %.4f  %.1f s  %.0f samples/s (all ranks)"
                  % (epoch + 1, loss_sum / seen, correct / seen, seconds, seen / seconds))

    # test accuracy: each rank scores its own slice, the counts are summed
    model.eval()
    mine = np.arange(rank, len(xt), world)
    with fastdl.no_grad():
        pred = np.concatenate([model(fastdl.from_numpy(xt[mine[i:i + 1000], None])).numpy()
                               .argmax(1) for i in range(0, len(mine), 1000)])
    counts = fastdl.tensor([float((pred == yt[mine]).sum()), float(len(mine))],
                           dtype=fastdl.float64)
    dist.all_reduce(counts)
    if rank == 0:
        print("test accuracy: %.4f (%d images)" % (counts[0].item() / counts[1].item(),
                                                  int(counts[1].item())))
        fastdl.save(model.module.state_dict(), args.save)   # loads without DDP
        print("model saved to %s" % args.save)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
