"""Run under mpiexec by tests/test_distributed.py: Trainer(distributed=True).

argv: mode out_dir [resume_checkpoint]
  train: fit 3 epochs (global batch 12) with validation, accuracy, ModelCheckpoint
         and CSVLogger into out_dir; rank 0 writes result.json (final weights,
         history). Every rank checks that its history equals rank 0's.
  stops: EarlyStopping stops every rank at the same epoch; then a NaN in one
         rank's data stops every rank with FloatingPointError at the same batch.
"""
import json
import os
import sys

import numpy as np

import fastdl
import fastdl.distributed as dist
from fastdl import nn
from fastdl.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint

mode, out_dir = sys.argv[1], sys.argv[2]
resume = sys.argv[3] if len(sys.argv) > 3 else None
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()

rng = np.random.default_rng(0)
N, NV = 48, 10                      # 48: whole global batches of 12 on 1, 2 and 3 ranks
x = rng.standard_normal((N + NV, 5)).astype(np.float32)
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)


def make_trainer():
    fastdl.manual_seed(7)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = fastdl.optim.Adam(model.parameters(), lr=0.02)
    return fastdl.Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"],
                          distributed=True)


def same_on_every_rank(values):
    a = fastdl.tensor(np.asarray(values, dtype=np.float64))
    every = fastdl.zeros((world,) + a.shape, dtype=fastdl.float64)
    dist.all_gather_into_tensor(every, a)
    e = every.numpy()
    return all(np.array_equal(e[0], r, equal_nan=True) for r in e[1:])


if mode == "train":
    tr = make_trainer()
    cbs = [ModelCheckpoint(os.path.join(out_dir, "ckpt-{epoch}.safetensors"), monitor="loss"),
           CSVLogger(os.path.join(out_dir, "log.csv"))]
    hist = tr.fit(x[:N], y[:N], batch_size=12, epochs=3, validation_data=(x[N:], y[N:]),
                  callbacks=cbs, verbose=2, shuffle=True, resume_from=resume)
    h = hist.history
    keys = sorted(k for k in h if k not in ("epoch_time",))
    flat = [v for k in keys for v in h[k]]
    assert same_on_every_rank(flat), "rank %d logged different values" % rank
    ev = tr.evaluate(x[N:], y[N:], batch_size=4, verbose=0)
    ev = ev if isinstance(ev, dict) else {"loss": ev[0] if isinstance(ev, list) else ev}
    assert same_on_every_rank([ev["loss"]])
    if rank == 0:
        state = {k: v.numpy().tolist() for k, v in tr.model.state_dict().items()}
        with open(os.path.join(out_dir, "result.json"), "w") as f:
            json.dump({"world": world, "history": {k: h[k] for k in keys}, "state": state,
                       "evaluate_loss": ev["loss"]}, f)
elif mode == "stops":
    tr = make_trainer()
    hist = tr.fit(x[:N], y[:N], batch_size=12, epochs=5, verbose=0,
                  callbacks=[EarlyStopping(monitor="loss", min_delta=10.0, patience=0)])
    n_epochs = len(hist.history["loss"])
    assert n_epochs == 2 and same_on_every_rank([n_epochs]), n_epochs
    bad = x[:N].copy()
    bad[world + 1 if world > 1 else 1, 0] = np.nan   # one sample of rank 1's first batch
    tr = make_trainer()
    try:
        tr.fit(bad, y[:N], batch_size=12, epochs=2, verbose=0, shuffle=False)
        raise AssertionError("a NaN loss did not stop training")
    except FloatingPointError as e:
        print("rank %d stopped: FloatingPointError: %s" % (rank, str(e).split(";")[0]),
              flush=True)
    # gradient accumulation: 2 x 6 samples give the 12-sample step, and only the last
    # backward of each group all-reduces
    ref = make_trainer()
    ref.fit(x[:N], y[:N], batch_size=12, epochs=1, verbose=0, shuffle=False)
    acc = make_trainer()
    calls = []
    real = acc._dist.ddp._comm

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def Iallreduce(self, *a, **k):
            calls.append(1)
            return real.Iallreduce(*a, **k)

        def Allreduce(self, *a, **k):
            calls.append(1)
            return real.Allreduce(*a, **k)

    acc._dist.ddp.__dict__["_comm"] = Spy()
    acc.fit(x[:N], y[:N], batch_size=6, epochs=1, verbose=0, shuffle=False, grad_accum_steps=2)
    acc._dist.ddp.__dict__["_comm"] = real
    if world > 1:
        assert len(calls) == (N // 12) * len(acc._dist.ddp._buckets), len(calls)
    for (name, p), q in zip(acc.model.named_parameters(), ref.model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
    assert same_on_every_rank(np.concatenate([p.detach().numpy().ravel()
                                              for p in acc.model.parameters()]))
    # a user's DataLoader without a DistributedSampler: a warning, since every rank reads it all
    import warnings
    from fastdl.data import DataLoader, TensorDataset
    plain = DataLoader(TensorDataset(fastdl.tensor(x[:N]), fastdl.tensor(y[:N])), batch_size=6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_trainer().fit(plain, epochs=1, verbose=0)
    assert any("no DistributedSampler" in str(w.message) for w in caught) == (world > 1)
    dist.barrier()
    if rank == 0:
        print("PASS stops", flush=True)
dist.destroy_process_group()
