"""Run under mpiexec by tests/test_distributed.py: one rank raises, the others must not hang.

argv: pid_dir mode. Each rank writes its pid to pid_dir; then rank 1 raises while
the other ranks wait in a collective (mode "collective") or in DDP's gradient
reduction during backward (mode "backward").
"""
import os
import sys

import fastdl
import fastdl.distributed as dist
from fastdl import nn
from fastdl.nn.parallel import DistributedDataParallel as DDP

pid_dir, mode = sys.argv[1], sys.argv[2]
dist.init_process_group("mpi")
rank = dist.get_rank()
with open(os.path.join(pid_dir, "rank%d.pid" % rank), "w") as f:
    f.write(str(os.getpid()))
dist.barrier()

if mode == "collective":
    if rank == 1:
        raise ValueError("bad input on rank 1: labels out of range")
    dist.all_reduce(fastdl.ones(4))          # would wait forever for rank 1
elif mode == "backward":
    model = DDP(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)))
    x = fastdl.randn(4, 8)
    if rank == 1:
        x = fastdl.randn(4, 7)               # wrong shape: Linear raises in forward
    model(x).sum().backward()                # rank 0 waits for rank 1's gradients
    dist.barrier()
print("rank %d finished normally" % rank, flush=True)
