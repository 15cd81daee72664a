"""Run under mpiexec by tests/test_distributed.py: collectives, DistributedSampler and DDP.

Every rank checks; a failed check raises, which aborts the whole job (the
excepthook installed by init_process_group), so the launcher sees a nonzero exit.
Rank 0 prints one "PASS <check>" line per check that passed on every rank.
"""
import sys

import numpy as np

import fastdl
import fastdl.distributed as dist
import fastdl.nn.functional as F
from fastdl import nn
from fastdl.nn.parallel import DistributedDataParallel as DDP
from fastdl.utils.data import DataLoader, DistributedSampler, TensorDataset

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
# float32 gradients: DDP (shards of B/np, averaged) against one process on the whole
# batch B. Only the order of the sums over samples differs.
RTOL, ATOL = 1e-5, 1e-6


def passed(name):
    """Every rank reached this point: report once."""
    dist.barrier()
    if rank == 0:
        print("PASS", name, flush=True)


def gather_np(a):
    """All ranks' copies of array a, stacked (to compare them)."""
    t = fastdl.tensor(np.ascontiguousarray(a, dtype=np.float64))
    out = fastdl.zeros((world,) + t.shape, dtype=fastdl.float64)
    dist.all_gather_into_tensor(out, t)
    return out.numpy()


def same_everywhere(a):
    every = gather_np(a)
    return all(np.array_equal(every[0], e) for e in every[1:])


# ---- collectives ------------------------------------------------------------------------
t = fastdl.tensor([rank + 1.0, 2.0 * rank])
mem = t.numpy().__array_interface__["data"][0]
dist.all_reduce(t)
s = sum(range(1, world + 1))
assert t.tolist() == [float(s), 2.0 * sum(range(world))], t
assert t.numpy().__array_interface__["data"][0] == mem      # in place, same memory
for op, expect in ((dist.ReduceOp.MAX, world), (dist.ReduceOp.MIN, 1),
                   (dist.ReduceOp.PRODUCT, float(np.prod(np.arange(1, world + 1)))),
                   (dist.ReduceOp.AVG, s / world)):
    t = fastdl.tensor([rank + 1.0])
    dist.all_reduce(t, op=op)
    assert abs(t.item() - expect) < 1e-6, (op, t.item(), expect)
t = fastdl.tensor(np.full(5, rank, dtype=np.int64))
work = dist.all_reduce(t, async_op=True)
work.wait()
assert work.is_completed() and t.tolist() == [sum(range(world))] * 5
t = fastdl.tensor(np.arange(4.0) + 10 * rank)
dist.broadcast(t, src=world - 1)
assert t.tolist() == list(np.arange(4.0) + 10 * (world - 1))
outs = [fastdl.zeros(2, 3) for _ in range(world)]
dist.all_gather(outs, fastdl.full((2, 3), float(rank)))
assert [o.numpy()[0, 0] for o in outs] == list(range(world))
big = fastdl.zeros(world * 2, 3)
dist.all_gather_into_tensor(big, fastdl.full((2, 3), float(rank)))
assert big.numpy()[::2, 0].tolist() == list(range(world))
try:
    dist.all_reduce(fastdl.zeros(4, 4).T)
    raise AssertionError("a non-contiguous tensor was accepted")
except ValueError as e:
    assert "contiguous" in str(e)
try:
    dist.init_process_group("mpi")
    raise AssertionError("a second init_process_group was accepted")
except RuntimeError as e:
    assert "twice" in str(e)
assert dist.is_initialized() and dist.get_backend() == "mpi"
passed("collectives")

# ---- DistributedSampler over the real group -----------------------------------------------
for n, drop_last in ((10, False), (10, True), (12, False), (7, False)):
    ds = TensorDataset(fastdl.tensor(np.arange(n, dtype=np.float32)))
    sampler = DistributedSampler(ds, shuffle=True, seed=3, drop_last=drop_last)
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        mine = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=2,
                                                                 sampler=sampler)])
        assert len(mine) == len(sampler)
        every = gather_np(mine).astype(np.int64)
        flat = every.T.reshape(-1)                      # interleave back: rank r took r::world
        if drop_last:
            assert len(set(flat.tolist())) == len(flat) == world * (n // world)
        else:
            assert sorted(set(flat.tolist())) == list(range(n))
            assert len(flat) == -(-n // world) * world
passed("sampler")

# ---- DDP: gradients against one process on the whole batch ------------------------------------
B = 12                                                   # divisible by 2 and 3
rng = np.random.default_rng(0)
X = rng.standard_normal((B, 1, 6, 6)).astype(np.float32)
Y = rng.integers(0, 3, size=B)


def make_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(36, 16), nn.ReLU(), nn.Linear(16, 3))


fastdl.manual_seed(100 + rank)                           # different on purpose
model = make_model()
ddp = DDP(model, bucket_cap_mb=0.0002)                   # ~200 bytes: several buckets
assert len(ddp._buckets) > 2, len(ddp._buckets)
assert ddp.module is model
assert list(ddp.state_dict())[0] == "module.0.weight"
for p in model.parameters():                             # rank 0's initial values everywhere
    assert same_everywhere(p.detach().numpy())
passed("ddp_broadcast_init")

ref = make_model()
ref.load_state_dict(model.state_dict())
shard = list(DistributedSampler(range(B), shuffle=False))  # rank r: r, r + world, ...
out = ddp(fastdl.tensor(X[shard]))
F.cross_entropy(out, fastdl.tensor(Y[shard])).backward()
F.cross_entropy(ref(fastdl.tensor(X)), fastdl.tensor(Y)).backward()
worst = 0.0
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    assert same_everywhere(p.grad.numpy()), name          # every rank: the same bits
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=name)
    worst = max(worst, float(np.max(np.abs(p.grad.numpy() - q.grad.numpy()))))
if rank == 0:
    print("max |grad ddp - grad single| = %.3g" % worst)
passed("ddp_grads_match_single_process")

# exact where the order of the sums is fixed: the same shards computed in one process and
# summed in rank order give DDP's averaged gradients bit for bit (two ranks: a + b)
if world == 2:
    parts = []
    for r in range(world):
        ref.zero_grad()
        idx = list(DistributedSampler(range(B), num_replicas=world, rank=r, shuffle=False))
        F.cross_entropy(ref(fastdl.tensor(X[idx])), fastdl.tensor(Y[idx])).backward()
        parts.append([q.grad.numpy().copy() for q in ref.parameters()])
    for i, p in enumerate(model.parameters()):
        exact = (parts[0][i] + parts[1][i]) * np.float32(0.5)
        assert np.array_equal(p.grad.numpy(), exact), i
    passed("ddp_grads_exact_two_ranks")

# overlap: the last layer's bucket is all-reduced while backward still has the first
# layer to do (its gradient does not exist yet when the first Iallreduce starts)
events = []


class Spy:
    def __init__(self, comm):
        self.comm = comm

    def Iallreduce(self, *a, **k):
        events.append(("iallreduce", model[0].weight.grad is None))
        return self.comm.Iallreduce(*a, **k)

    def Allreduce(self, *a, **k):
        events.append(("allreduce", model[0].weight.grad is None))
        return self.comm.Allreduce(*a, **k)


ddp.__dict__["_comm"] = Spy(ddp._comm)
model.zero_grad()
F.cross_entropy(ddp(fastdl.tensor(X[shard])), fastdl.tensor(Y[shard])).backward()
ddp.__dict__["_comm"] = ddp._comm.comm
assert [e[0] for e in events] == ["iallreduce"] * (len(ddp._buckets) - 1) + ["allreduce"], events
assert events[0] == ("iallreduce", True), events       # started before layer 0's gradient
passed("ddp_overlap")

# gradient_as_bucket_view: .grad views the bucket; same values as the copies
fastdl.manual_seed(100 + rank)
viewed = make_model()
vddp = DDP(viewed, bucket_cap_mb=0.0002, gradient_as_bucket_view=True)
viewed.load_state_dict(model.state_dict())
F.cross_entropy(vddp(fastdl.tensor(X[shard])), fastdl.tensor(Y[shard])).backward()
for p, q in zip(viewed.parameters(), model.parameters()):
    assert np.array_equal(p.grad.numpy(), q.grad.numpy())
    assert any(np.shares_memory(p.grad.numpy(), b.flat) for b in vddp._buckets)
passed("ddp_gradient_as_bucket_view")

# training: np ranks with B/np each against one process with batch B, same steps
opt = fastdl.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref.load_state_dict(model.state_dict())
ropt = fastdl.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
for step in range(5):
    opt.zero_grad()
    ropt.zero_grad()
    F.cross_entropy(ddp(fastdl.tensor(X[shard])), fastdl.tensor(Y[shard])).backward()
    opt.step()
    F.cross_entropy(ref(fastdl.tensor(X)), fastdl.tensor(Y)).backward()
    ropt.step()
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    assert same_everywhere(p.detach().numpy()), name
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
passed("ddp_training_matches_single_process")

# no_sync: two local backward passes, then one synchronized: the average of all of them
opt.zero_grad()
ref.load_state_dict(model.state_dict())
ref.zero_grad()
half = shard[:len(shard) // 2], shard[len(shard) // 2:]
with ddp.no_sync():
    F.cross_entropy(ddp(fastdl.tensor(X[half[0]])), fastdl.tensor(Y[half[0]])).backward()
local = model[0].weight.grad.numpy().copy()
assert not same_everywhere(local)                          # not reduced yet
F.cross_entropy(ddp(fastdl.tensor(X[half[1]])), fastdl.tensor(Y[half[1]])).backward()
for r in range(world):
    idx = list(DistributedSampler(range(B), num_replicas=world, rank=r, shuffle=False))
    h = idx[:len(idx) // 2], idx[len(idx) // 2:]
    for part in h:
        (F.cross_entropy(ref(fastdl.tensor(X[part])), fastdl.tensor(Y[part])) / world).backward()
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    assert same_everywhere(p.grad.numpy()), name
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=name)
passed("ddp_no_sync")

# a forward that skips a layer: refused clearly without find_unused_parameters, handled with it


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)

    def forward(self, x, head):
        return (self.a if head == "a" else self.b)(self.body(x))


fastdl.manual_seed(0)
x4 = fastdl.tensor(rng.standard_normal((4, 4)).astype(np.float32))
strict = DDP(TwoHeads())
strict(x4, "a").sum().backward()
try:
    strict(x4, "a")
    raise AssertionError("a skipped parameter went unnoticed")
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e) and "b.weight" in str(e), str(e)
fastdl.manual_seed(0)
tolerant = DDP(TwoHeads(), find_unused_parameters=True)
head = "a" if rank % 2 == 0 else "b"                        # ranks use different heads
tolerant(x4, head).sum().backward()
g_b = tolerant.module.b.weight.grad
assert g_b is not None and same_everywhere(g_b.numpy())   # used on rank 1: averaged
tolerant.module.zero_grad()
tolerant(x4, "a").sum().backward()                          # b unused everywhere: grad left None
assert tolerant.module.b.weight.grad is None
tolerant(x4, "a").sum().backward()                          # the next iteration runs normally
passed("ddp_unused_parameters")

# buffers: BatchNorm running statistics follow rank 0
fastdl.manual_seed(0)
bn_model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
bn_model[1].running_mean.numpy()[...] = rank
bn = DDP(bn_model)
assert bn_model[1].running_mean.numpy().tolist() == [0.0] * 4
passed("ddp_buffers")

dist.destroy_process_group()
assert not dist.is_initialized()
sys.exit(0)
