"""Trainer: a Keras-style fit/evaluate/predict loop over a fastdl model.

One epoch is one full pass over the training data: ceil(n / batch_size)
iterations (floor with drop_last). With grad_accum_steps=k the optimizer
steps every k mini-batches and each mini-batch loss is weighted by its share
of the samples in its group, so k accumulated batches give exactly the
gradient of one k-times larger batch.
"""
import math
import time
import warnings

import numpy as np

from fastdl import random as _random
from fastdl.autograd import no_grad
from fastdl.tensor import Tensor
from fastdl.train import distributed as _distributed
from fastdl.train.callbacks import (CallbackList, History, LearningRateScheduler, ProgressBar,
                                    TerminateOnNaN)

__all__ = ["Trainer"]


def _to_tensor(x):
    if isinstance(x, Tensor):
        return x
    from fastdl.creation import as_tensor
    return as_tensor(x)


def _item(x):
    return float(x.item()) if isinstance(x, Tensor) else float(x)


class _EpochStats:
    """Sample-weighted running losses and streaming metrics over one pass."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.names = self.metrics = None
        self.sum_loss, self.sum_parts, self.seen = 0.0, {}, 0

    def update(self, loss, parts, outs, targets):
        """Adds one batch; returns (loss value, batch size)."""
        if self.metrics is None:
            self.names = list(outs)
            self.metrics = self.trainer._build_metrics(self.names)
        bsz = len(next(iter(outs.values())))
        lv = _item(loss)
        self.sum_loss += lv * bsz
        self.seen += bsz
        with no_grad():
            for n in self.names:
                if len(self.names) > 1:
                    self.sum_parts[n] = self.sum_parts.get(n, 0.0) + _item(parts[n]) * bsz
                for m in self.metrics[n]:
                    m.update(outs[n].detach(), targets[n])
        return lv, bsz

    def running_loss(self):
        return self.sum_loss / max(self.seen, 1)

    def logs(self):
        seen = max(self.seen, 1)
        logs = {"loss": self.sum_loss / seen}
        for n in self.names or []:
            if len(self.names) > 1:
                logs[Trainer._key(n, "loss")] = self.sum_parts[n] / seen
            for m in self.metrics[n]:
                logs[Trainer._key(n, m.name)] = float(m.compute())
        return logs


class Trainer:
    """Train a model with an optimizer and a loss, Keras-style.

    Args:
        model: a fastdl.nn.Module. It may return one output, a tuple, or a dict.
        optimizer: a fastdl.optim optimizer over the model's parameters.
        loss: a loss module/function (output, target) -> scalar Tensor; for several
            outputs a list or dict with one loss per output.
        metrics: names ("accuracy", "f1", "r2", ...) or metric objects; for several
            outputs a dict output name -> list.
        loss_weights: per-output weights of the total loss (list or dict).
        scheduler: an optional fastdl.optim.lr_scheduler stepped once per epoch
            (ReduceLROnPlateau is stepped with the monitored val_loss or loss).
        distributed: True (or a fastdl.train.distributed.DataParallel) to train
            data-parallel over MPI ranks (``mpiexec -n N python train.py``):
            batch_size is the global batch, split over the ranks; logs are global
            on every rank; rank 0 alone prints and writes files.

    Example:
        >>> trainer = fastdl.Trainer(model, fastdl.optim.Adam(model.parameters()),
        ...                          nn.CrossEntropyLoss(), metrics=["accuracy"])
        >>> history = trainer.fit(x, y, epochs=3, batch_size=128, validation_split=0.1)
    """

    def __init__(self, model, optimizer, loss, metrics=None, loss_weights=None, scheduler=None,
                 distributed=False):
        self.model = model
        self._dist = _distributed.resolve(distributed)
        if self._dist is not None:
            self._dist.setup(model)
        self.optimizer = optimizer
        self.loss = loss
        self.metrics_spec = metrics or []
        self.loss_weights = loss_weights
        self.scheduler = scheduler
        self.stop_training = False
        self.history = History()
        self.epoch = 0
        self._nonfinite = None
        self._overfit_warned = False
        self._output_names = None
        self._running_metrics = False

    # ---- data ----------------------------------------------------------------------------
    def _loader(self, x, y, batch_size, shuffle, drop_last=False, train=True):
        from fastdl.data import DataLoader, Dataset, TensorDataset
        if isinstance(x, DataLoader):
            return x if self._dist is None else self._dist.check_loader(x)
        if isinstance(x, Dataset):
            return self._data_loader(x, batch_size, shuffle, drop_last, train)
        if y is None:
            raise ValueError("fit: y is required when x is an array or Tensor")
        xs = x if isinstance(x, (tuple, list)) else (x,)
        ys = tuple(y.values()) if isinstance(y, dict) else (
            tuple(y) if isinstance(y, (tuple, list)) else (y,))
        if isinstance(y, dict):
            self._target_keys = list(y.keys())
        n = len(xs[0])
        for a in xs + ys:
            if len(a) != n:
                raise ValueError("fit: x and y must have the same number of samples, got %s"
                                 % [len(a) for a in xs + ys])
        self._n_inputs = len(xs)
        return self._data_loader(TensorDataset(*[_to_tensor(a) for a in xs + ys]),
                                 batch_size, shuffle, drop_last, train)

    def _data_loader(self, ds, batch_size, shuffle, drop_last, train):
        from fastdl.data import DataLoader
        if self._dist is None:
            return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
        if train:
            return self._dist.train_loader(ds, batch_size, shuffle, drop_last)
        return self._dist.eval_loader(ds, batch_size)

    def _split_batch(self, batch):
        if isinstance(batch, dict):
            return batch["x"], batch["y"]
        batch = tuple(batch)
        k = getattr(self, "_n_inputs", 1)
        xb = batch[0] if k == 1 else batch[:k]
        yb = batch[k:]
        if getattr(self, "_target_keys", None):
            yb = dict(zip(self._target_keys, yb))
        elif len(yb) == 1:
            yb = yb[0]
        return xb, yb

    @staticmethod
    def _split_validation(x, y, validation_split):
        """Keras semantics: the last fraction of the samples, before shuffling."""
        if not 0.0 < validation_split < 1.0:
            raise ValueError("fit: validation_split must be in (0, 1), got %r" % validation_split)
        xs = x if isinstance(x, (tuple, list)) else (x,)
        n = len(xs[0])
        cut = int(n * (1.0 - validation_split))
        if cut <= 0 or cut >= n:
            raise ValueError("fit: validation_split=%s leaves an empty split of %d samples"
                             % (validation_split, n))
        sl = lambda a, s: a[s]
        if isinstance(y, dict):
            ytr = {k: sl(v, slice(0, cut)) for k, v in y.items()}
            yva = {k: sl(v, slice(cut, None)) for k, v in y.items()}
        elif isinstance(y, (tuple, list)):
            ytr = type(y)(sl(v, slice(0, cut)) for v in y)
            yva = type(y)(sl(v, slice(cut, None)) for v in y)
        else:
            ytr, yva = sl(y, slice(0, cut)), sl(y, slice(cut, None))
        if isinstance(x, (tuple, list)):
            return (type(x)(sl(v, slice(0, cut)) for v in x), ytr,
                    type(x)(sl(v, slice(cut, None)) for v in x), yva)
        return sl(x, slice(0, cut)), ytr, sl(x, slice(cut, None)), yva

    # ---- outputs, losses, metrics ---------------------------------------------------------
    def _named_outputs(self, out):
        if isinstance(out, dict):
            return out
        if isinstance(out, (tuple, list)):
            return {"out%d" % (i + 1): o for i, o in enumerate(out)}
        return {"": out}

    def _named(self, spec, names, what):
        if len(names) == 1 and names[0] == "":
            return {"": spec}
        if isinstance(spec, dict):
            missing = [n for n in names if n not in spec]
            if missing and what == "loss":
                raise ValueError("Trainer: no loss given for output(s) %s" % missing)
            return spec
        if isinstance(spec, (list, tuple)) and what != "metrics":
            if len(spec) != len(names):
                raise ValueError("Trainer: %d %ss for %d outputs" % (len(spec), what, len(names)))
            return dict(zip(names, spec))
        return {n: spec for n in names}

    def _build_metrics(self, names):
        from fastdl.metrics import get_metric
        spec = self._named(self.metrics_spec, names, "metrics")
        built = {}
        for n in names:
            items = spec.get(n, [])
            items = items if isinstance(items, (list, tuple)) else [items]
            built[n] = [get_metric(m) for m in items]
        return built

    def _compute_loss(self, out, yb):
        outs = self._named_outputs(out)
        names = list(outs)
        if self._output_names is None:
            self._output_names = names
            self._losses = self._named(self.loss, names, "loss")
            w = self.loss_weights
            self._weights = self._named(w, names, "loss weight") if w is not None else \
                {n: 1.0 for n in names}
        targets = yb if isinstance(yb, dict) else (
            dict(zip(names, yb)) if len(names) > 1 else {names[0]: yb})
        total, parts = None, {}
        for n in names:
            if n not in targets:
                raise ValueError("Trainer: no target for output %r" % n)
            lv = self._losses[n](outs[n], targets[n])
            parts[n] = lv
            term = lv * self._weights.get(n, 1.0) if len(names) > 1 else lv
            total = term if total is None else total + term
        return total, parts, outs, targets

    @staticmethod
    def _key(name, key):
        return key if not name else "%s_%s" % (name, key)

    # ---- training -----------------------------------------------------------------------------
    def fit(self, x=None, y=None, epochs=1, batch_size=32, shuffle=True, validation_split=0.0,
            validation_data=None, callbacks=None, initial_epoch=0, verbose="auto",
            grad_accum_steps=1, resume_from=None, drop_last=False):
        """Train for `epochs` epochs; returns the History (a dict of per-epoch lists).

        Args:
            x, y: arrays/Tensors (or tuples/dicts of them), or x a Dataset/DataLoader.
            validation_split: fraction of (x, y) held out for validation (the last samples).
            validation_data: (x_val, y_val), a Dataset or a DataLoader.
            callbacks: extra callbacks; History and TerminateOnNaN are always attached.
            grad_accum_steps: optimizer step every k mini-batches.
            resume_from: a checkpoint written by save_checkpoint/ModelCheckpoint;
                training continues exactly where it stopped.
        """
        if grad_accum_steps < 1:
            raise ValueError("fit: grad_accum_steps must be >= 1, got %r" % grad_accum_steps)
        if resume_from is not None:
            initial_epoch = self.load_checkpoint(resume_from)
        if validation_split and validation_data is None:
            x, y, xv, yv = self._split_validation(x, y, validation_split)
            validation_data = (xv, yv)
        loader = self._loader(x, y, batch_size, shuffle, drop_last)
        n_inputs = getattr(self, "_n_inputs", 1)
        val_loader = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                val_loader = self._loader(validation_data[0], validation_data[1], batch_size,
                                          False, train=False)
            else:
                val_loader = self._loader(validation_data, None, batch_size, False, train=False)
            self._n_inputs = n_inputs
        cbs = [c for c in (callbacks or [])]
        if not any(isinstance(c, TerminateOnNaN) for c in cbs):
            cbs.insert(0, TerminateOnNaN())
        if not any(isinstance(c, ProgressBar) for c in cbs) and verbose:
            cbs.append(ProgressBar(verbose))
        cbs.insert(0, self.history)     # first, so checkpoints see this epoch's logs
        if self._dist is not None:
            cbs = self._dist.rank_callbacks(cbs)
        self._callbacks = cbs
        pending = getattr(self, "_pending_callback_sched", None)
        if pending:
            for c in cbs:
                if isinstance(c, LearningRateScheduler):
                    c.load_state_dict(_to_numpy_tree(pending))
            self._pending_callback_sched = None
        self._running_metrics = any(getattr(c, "shows_running_metrics", False) for c in cbs)
        steps = len(loader) if hasattr(loader, "__len__") else None
        cbl = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        self._nonfinite = None
        cbl.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            self.epoch = epoch
            if self._dist is not None:
                self._dist.set_epoch(loader, epoch)
            cbl.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            logs = self._train_epoch(loader, cbl, grad_accum_steps)
            if self._nonfinite:
                break
            if val_loader is not None:
                val = self.evaluate(val_loader, callbacks=cbl, _internal=True)
                logs.update({"val_" + k: v for k, v in val.items()})
            logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
            logs["epoch_time"] = time.perf_counter() - t0
            self._step_scheduler(logs)
            cbl.on_epoch_end(epoch, logs)
            self.epoch = epoch + 1
            self._check_overfitting()
            stop = self.stop_training or getattr(self.model, "stop_training", False)
            if self._dist is not None:
                stop = self._dist.any(stop)     # every rank stops at the same epoch
            if stop:
                break
        cbl.on_train_end({})
        if self._nonfinite:
            raise FloatingPointError("fit: " + self._nonfinite + ". Lower the learning rate, "
                                     "check the inputs for NaN/Inf, or clip gradients; "
                                     "trainer.history holds the epochs before it.")
        return self.history

    def _group_sizes(self, loader):
        """Samples per mini-batch in epoch order (None if unknown)."""
        ds = getattr(loader, "dataset", None)
        bs = getattr(loader, "batch_size", None)
        if ds is None or not bs or not hasattr(ds, "__len__") or not hasattr(loader, "__len__"):
            return None
        sampler = getattr(loader, "sampler", None)     # a DistributedSampler: this rank's share
        n = len(sampler) if hasattr(sampler, "__len__") else len(ds)
        return [min(bs, n - i * bs) for i in range(len(loader))]

    def _forward(self, batch):
        xb, yb = self._split_batch(batch)
        model = self.model if self._dist is None else self._dist.model
        out = model(*xb) if isinstance(xb, tuple) else model(xb)
        return self._compute_loss(out, yb)

    def _train_epoch(self, loader, cbl, k):
        self.model.train()
        stats = _EpochStats(self)
        sizes = self._group_sizes(loader) if k > 1 else None
        nb = len(sizes) if sizes is not None else None
        self.optimizer.zero_grad()
        pending = 0
        for i, batch in enumerate(loader):
            cbl.on_train_batch_begin(i, {})
            if self._dist is None:
                loss, parts, outs, targets = self._forward(batch)
            else:       # all-reduce only the last backward of each accumulation group
                last = k == 1 or pending + 1 == k or nb is None or i == nb - 1
                with self._dist.sync(last):
                    loss, parts, outs, targets = self._forward(batch)
            if k > 1:
                bsz = len(next(iter(outs.values())))
                if sizes is not None:        # weight by the batch's share of its group
                    g0 = (i // k) * k
                    scale = bsz / sum(sizes[g0:min(g0 + k, nb)])
                else:
                    scale = 1.0 / k
                (loss * scale).backward()
            else:
                loss.backward()
            pending += 1
            if pending == k or (nb is not None and i == nb - 1):
                self.optimizer.step()
                self.optimizer.zero_grad()
                pending = 0
            lv, bsz = stats.update(loss, parts, outs, targets)
            # Keras's batch logs: running means over the epoch so far (metrics only
            # when a callback shows them, since computing them costs per batch)
            blogs = stats.logs() if self._running_metrics else {"loss": stats.running_loss()}
            if self._dist is not None:      # the same running loss (and NaN stop) everywhere
                blogs["loss"] = self._dist.running_loss(stats.sum_loss, stats.seen)
            blogs["size"] = bsz
            cbl.on_train_batch_end(i, blogs)
            if self.stop_training:
                if self._nonfinite:
                    return {}
                break
        if pending:      # an iterable of unknown length ended inside a group
            self.optimizer.step()
            self.optimizer.zero_grad()
        if self._dist is not None:
            self._dist.reduce_stats(stats)
        return stats.logs()

    def _step_scheduler(self, logs):
        s = self.scheduler
        if s is None:
            return
        if type(s).__name__ == "ReduceLROnPlateau":
            s.step(logs.get("val_loss", logs.get("loss")))
        else:
            s.step()

    def _check_overfitting(self, patience=3):
        """Warn once when val_loss rose `patience` epochs in a row while loss fell."""
        h = self.history.history
        if self._overfit_warned or "val_loss" not in h or len(h["val_loss"]) <= patience:
            return
        v, t = h["val_loss"][-patience - 1:], h["loss"][-patience - 1:]
        if None in v or None in t:
            return
        if all(b > a for a, b in zip(v, v[1:])) and all(b < a for a, b in zip(t, t[1:])):
            self._overfit_warned = True
            warnings.warn("Trainer: validation loss has risen for %d epochs while training loss "
                          "fell (%.4g -> %.4g vs %.4g -> %.4g): the model is overfitting; "
                          "consider EarlyStopping, regularization or more data"
                          % (patience, v[0], v[-1], t[0], t[-1]), RuntimeWarning, stacklevel=3)

    # ---- evaluation and prediction ---------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=32, verbose=0, callbacks=None, _internal=False):
        """Loss and metrics over (x, y) in eval mode; returns a dict of logs."""
        loader = x if _internal else self._loader(x, y, batch_size, False, train=False)
        cbl = callbacks if _internal else CallbackList(callbacks or [], self, {})
        was_training = self.model.training
        self.model.eval()
        stats = _EpochStats(self)
        cbl.on_test_begin({})
        try:
            with no_grad():
                for i, batch in enumerate(loader):
                    cbl.on_test_batch_begin(i, {})
                    lv, bsz = stats.update(*self._forward(batch))
                    cbl.on_test_batch_end(i, {"loss": lv, "size": bsz})
        finally:
            self.model.train(was_training)
        if self._dist is not None:
            self._dist.reduce_stats(stats)
        logs = stats.logs()
        cbl.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=32):
        """Model outputs over x in eval mode, concatenated over batches (Tensor, tuple or dict)."""
        from fastdl.data import DataLoader, Dataset, TensorDataset
        if isinstance(x, DataLoader):
            loader = x
        elif isinstance(x, Dataset):
            loader = DataLoader(x, batch_size=batch_size)
        else:
            xs = x if isinstance(x, (tuple, list)) else (x,)
            loader = DataLoader(TensorDataset(*[_to_tensor(a) for a in xs]),
                                batch_size=batch_size)
        was_training = self.model.training
        self.model.eval()
        chunks = []
        try:
            with no_grad():
                for batch in loader:
                    batch = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
                    chunks.append(self.model(*batch))
        finally:
            self.model.train(was_training)
        if not chunks:
            raise ValueError("predict: no input samples")
        first = chunks[0]
        cat = lambda parts: Tensor._wrap(np.concatenate([p._data for p in parts]))
        if isinstance(first, dict):
            return {k: cat([c[k] for c in chunks]) for k in first}
        if isinstance(first, (tuple, list)):
            return tuple(cat([c[i] for c in chunks]) for i in range(len(first)))
        return cat(chunks)

    # ---- checkpoints ---------------------------------------------------------------------------
    def state_dict(self, epoch=None):
        """Everything needed to continue training exactly."""
        sched = {}
        for c in getattr(self, "_callbacks", []):
            if isinstance(c, LearningRateScheduler):
                sched["callback"] = c.state_dict()
        if self.scheduler is not None:
            sched["scheduler"] = self.scheduler.state_dict()
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedulers": sched,
            "epoch": self.epoch if epoch is None else epoch,
            "rng": _random.get_rng_state(),
            "history": {"history": self.history.history, "epoch": self.history.epoch},
        }

    def save_checkpoint(self, path, epoch=None):
        """Write model, optimizer, scheduler, epoch, RNG state and history (atomically)."""
        from fastdl.io import save
        if self._dist is not None and not self._dist.is_main:
            return                      # the replicas are equal: rank 0 writes the one file
        save(self.state_dict(epoch), path)

    def load_checkpoint(self, path):
        """Restore a checkpoint; returns the epoch to continue from."""
        from fastdl.io import load
        ck = load(path)
        for key in ("model", "optimizer", "epoch", "rng"):
            if key not in ck:
                raise ValueError("load_checkpoint: %s is not a trainer checkpoint (no %r); "
                                 "weights-only files load with model.load_state_dict(fastdl.load())"
                                 % (path, key))
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(_to_numpy_tree(ck["optimizer"]))
        sched = ck.get("schedulers") or {}
        if self.scheduler is not None and "scheduler" in sched:
            self.scheduler.load_state_dict(_to_numpy_tree(sched["scheduler"]))
        self._pending_callback_sched = sched.get("callback")
        _random.set_rng_state(ck["rng"])
        h = ck.get("history") or {}
        self.history.history = {k: list(v) for k, v in (h.get("history") or {}).items()}
        self.history.epoch = list(h.get("epoch") or [])
        self.epoch = int(ck["epoch"])
        return self.epoch


def _to_numpy_tree(obj):
    """Loaded checkpoints hold Tensors; optimizer/scheduler states take NumPy arrays."""
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, dict):
        return {k: _to_numpy_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy_tree(v) for v in obj)
    return obj
