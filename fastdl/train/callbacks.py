"""Callbacks with Keras's hook names, arguments and defaults.

Hooks: on_{train,epoch,train_batch,test,test_batch,predict,predict_batch}_{begin,end}.
`logs` is a plain dict; validation keys carry a `val_` prefix. A callback
stops training by setting ``self.trainer.stop_training = True`` (Keras's
``self.model.stop_training`` also works).
"""
import csv
import io
import math
import os
import sys
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "ProgressBar", "ProgbarLogger",
           "OverfittingMonitor", "EarlyStopping",
           "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback"]


class Callback:
    """Base class: override the hooks you need."""

    def __init__(self):
        self.trainer = None
        self.model = None
        self.params = {}

    def set_trainer(self, trainer):
        self.trainer = trainer
        self.model = trainer.model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


_HOOKS = [n for n in vars(Callback) if n.startswith("on_")]


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks, trainer, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_trainer(trainer)
            c.set_params(params)

    def __getattr__(self, name):
        if name not in _HOOKS:
            raise AttributeError(name)

        def call(*args):
            for c in self.callbacks:
                getattr(c, name)(*args)
        return call


class History(Callback):
    """Per-epoch logs: ``history.history`` maps each key to a list, one value per epoch.

    Also behaves as that dict (``history["loss"]``), draws the curves with
    plot(), and prints the epoch table with print_table().
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        known = len(self.epoch) - 1
        for k, v in (logs or {}).items():
            col = self.history.setdefault(k, [None] * known)
            col.append(v)
        for k, col in self.history.items():
            if len(col) < len(self.epoch):
                col.append(None)

    # dict-like access
    def __getitem__(self, key): return self.history[key]
    def __contains__(self, key): return key in self.history
    def __iter__(self): return iter(self.history)
    def __len__(self): return len(self.history)
    def keys(self): return self.history.keys()
    def items(self): return self.history.items()
    def values(self): return self.history.values()

    def table(self):
        """The epoch table as text: epoch, loss, val_loss, metrics, seconds."""
        keys = [k for k in self.history if k not in ("epoch_time", "lr")]
        keys.sort(key=lambda k: (k.startswith("val_"), k != "loss" and k != "val_loss", k))
        cols = ["epoch"] + keys + ["lr", "seconds"]
        rows = []
        for i, e in enumerate(self.epoch):
            row = [str(e + 1)]
            for k in keys:
                v = self.history[k][i]
                row.append("-" if v is None else "%.4f" % v)
            lr = self.history.get("lr", [None] * len(self.epoch))[i]
            row.append("-" if lr is None else "%.3g" % lr)
            t = self.history.get("epoch_time", [None] * len(self.epoch))[i]
            row.append("-" if t is None else "%.2f" % t)
            rows.append(row)
        widths = [max(len(c), *(len(r[j]) for r in rows)) if rows else len(c)
                  for j, c in enumerate(cols)]
        line = lambda r: "  ".join(v.rjust(w) for v, w in zip(r, widths))
        return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(r) for r in rows])

    def print_table(self, file=None):
        print(self.table(), file=file or sys.stdout)

    def plot(self, path, keys=None):
        """Save train/val curves per epoch (loss and each metric) to an image file.

        Needs matplotlib (``pip install fastdl[plot]``). Written atomically.
        """
        try:
            import matplotlib
            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
            from matplotlib.ticker import MaxNLocator
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from e
        base = [k for k in (keys or self.history) if not k.startswith("val_")
                and k not in ("lr", "epoch_time")]
        n = max(len(base), 1)
        fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.5), squeeze=False)
        x = [e + 1 for e in self.epoch]
        for ax, k in zip(axes[0], base):
            ax.plot(x, self.history[k], "o-", label="train " + k)
            if "val_" + k in self.history:
                ax.plot(x, self.history["val_" + k], "o-", label="val " + k)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))    # epochs are whole numbers
            ax.set_title(k)
            ax.legend()
            ax.grid(alpha=0.3)
        fig.tight_layout()
        from fastdl.io import atomic_write_bytes
        buf = io.BytesIO()
        ext = os.path.splitext(str(path))[1].lstrip(".") or "png"
        fig.savefig(buf, format=ext, dpi=100)
        plt.close(fig)
        atomic_write_bytes(path, buf.getvalue())
        return path


VERBOSE_VALUES = ("auto", 0, 1, 2)


def check_verbose(verbose, op):
    """Keras's verbose values; anything else is a ValueError naming them."""
    ok = verbose == "auto" if isinstance(verbose, str) else (
        isinstance(verbose, (int, np.integer)) and verbose in (0, 1, 2))
    if not ok:
        raise ValueError("%s: verbose must be one of 'auto', 0, 1, 2 (Keras's values), got %r"
                         % (op, verbose))
    return 1 if verbose == "auto" else int(verbose)


class ProgressBar(Callback):
    """Keras's progress output for fit (attached by fit unless verbose=0).

    verbose=1 ("auto"): in a terminal, "Epoch i/n" and a bar redrawn in place
    that fits the terminal, ending with a line that shows every metric
    (val_ ones included; wrapped, never cut). Not in a terminal (a log file,
    nohup, CI), one plain line per epoch and no carriage return.
    verbose=2: one plain line per epoch everywhere. verbose=0: nothing.
    Output goes to sys.stdout, as in Keras.
    """

    def __init__(self, verbose="auto", file=None):
        super().__init__()
        self.verbose = check_verbose(verbose, "ProgressBar")
        self.file = file
        self.bar = None
        self.shows_running_metrics = self._redraws()

    def _redraws(self):
        from fastdl.train.progbar import is_dynamic
        return self.verbose == 1 and is_dynamic(self.file)

    def on_train_begin(self, logs=None):
        self.shows_running_metrics = self._redraws()

    def on_epoch_begin(self, epoch, logs=None):
        from fastdl.train.progbar import Progbar
        if not self.verbose:
            return
        head = "Epoch %d/%d" % (epoch + 1, self.params.get("epochs", 0))
        redraw = self._redraws()
        if redraw:
            f = self.file or sys.stdout
            f.write(head + "\n")
            f.flush()
        self.bar = Progbar(self.params.get("steps"), verbose=self.verbose, file=self.file,
                           prefix="" if redraw else head)
        self.done = 0

    def on_train_batch_end(self, batch, logs=None):
        self.done = batch + 1
        if self.bar is not None and self.bar.dynamic and self.verbose == 1:
            self.bar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.update(self.done, logs, finalize=True)
            self.bar = None


ProgbarLogger = ProgressBar


class OverfittingMonitor(Callback):
    """Opt-in overfitting alarm: warns once (RuntimeWarning) when `monitor` has not
    improved on its best for `patience` epochs while the training loss kept falling.

    The epoch it fired is kept in ``self.fired_epoch`` (None if never). fit never
    adds it by itself: at verbose=0 a run prints nothing unless asked.

    Args:
        monitor: the validation quantity to watch (a loss: lower is better).
        patience: epochs without a new best before the alarm.
        verbose: 1 warns; 0 only records ``fired_epoch``.
    """

    def __init__(self, monitor="val_loss", patience=3, verbose=1):
        super().__init__()
        if patience < 1:
            raise ValueError("OverfittingMonitor: patience must be >= 1, got %r" % (patience,))
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.fired_epoch = None

    def on_train_begin(self, logs=None):
        self.best, self.best_train, self.wait = math.inf, None, 0
        self.train_at_best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        v, t = logs.get(self.monitor), logs.get("loss")
        if v is None or t is None:
            return
        if v < self.best:
            self.best, self.train_at_best, self.wait = v, t, 0
        else:
            self.wait += 1
        if (self.fired_epoch is None and self.wait >= self.patience
                and t < self.train_at_best):
            self.fired_epoch = epoch
            if self.verbose:
                warnings.warn("OverfittingMonitor: %s has not improved on its best (%.4g) for %d "
                              "epochs while the training loss fell (%.4g -> %.4g): the model "
                              "may be overfitting; consider EarlyStopping, regularization or "
                              "more data" % (self.monitor, self.best, self.wait,
                                             self.train_at_best, t), RuntimeWarning)


class _MonitorCallback(Callback):
    """Shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau."""
    _increasing = ("acc", "accuracy", "f1", "precision", "recall", "r2", "auc")

    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn("%s: mode %r is unknown, using 'auto'" % (type(self).__name__, mode))
            mode = "auto"
        if mode == "auto":
            base = monitor[4:] if monitor.startswith("val_") else monitor
            mode = "max" if any(base == k or base.endswith("_" + k) or base.startswith(k)
                                for k in self._increasing) else "min"
        self.monitor, self.mode = monitor, mode
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)
        self.best = -math.inf if mode == "max" else math.inf

    def _current(self, logs):
        v = (logs or {}).get(self.monitor)
        if v is None:
            warnings.warn("%s: metric %r is not available; available: %s"
                          % (type(self).__name__, self.monitor, ", ".join(sorted(logs or {}))),
                          RuntimeWarning, stacklevel=3)
        return v

    def _improved(self, current, reference):
        if self.mode == "max":
            return current - self.min_delta > reference
        return current - self.min_delta < reference


class EarlyStopping(_MonitorCallback):
    """Stop when `monitor` has not improved for `patience` epochs (Keras semantics)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._snapshot()
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print("Epoch %d: early stopping" % (self.stopped_epoch + 1), file=sys.stderr)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print("Restoring model weights from the end of the best epoch: %d"
                      % (self.best_epoch + 1), file=sys.stderr)
            self.model.load_state_dict(self.best_weights)

    def _snapshot(self):
        return {k: v.numpy().copy() for k, v in self.model.state_dict().items()}


class ModelCheckpoint(_MonitorCallback):
    """Save the model (or the whole training state) after each epoch, atomically.

    filepath may hold format fields, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.safetensors".
    With save_weights_only=False the file holds the model, optimizer, scheduler,
    epoch, RNG state and history, so ``fit(resume_from=path)`` continues exactly.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode)
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported, got %r"
                             % (save_freq,))
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if initial_value_threshold is not None:
            self.best = initial_value_threshold
        self.last_saved = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current, self.best):
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        if self.save_weights_only:
            from fastdl.io import save
            save(self.model.state_dict(), path)
        else:
            self.trainer.save_checkpoint(path, epoch=epoch + 1)
        self.last_saved = path
        if self.verbose:
            print("Epoch %d: saved %s" % (epoch + 1, path), file=sys.stderr)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch.

    Args:
        schedule: a function (epoch, lr) -> new lr (Keras), or a fastdl.optim
            lr_scheduler instance, which is stepped once per epoch, or after
            every optimizer step when its ``step_per_batch`` is True (OneCycleLR,
            CyclicLR).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        if callable(self.schedule) and not hasattr(self.schedule, "step"):
            opt = self.trainer.optimizer
            lr = float(self.schedule(epoch, opt.param_groups[0]["lr"]))
            if not math.isfinite(lr):
                raise ValueError("LearningRateScheduler: schedule returned %r at epoch %d"
                                 % (lr, epoch))
            for g in opt.param_groups:
                g["lr"] = lr

    def on_epoch_end(self, epoch, logs=None):
        # per-batch schedules are stepped by the Trainer after each optimizer step
        if hasattr(self.schedule, "step") and not getattr(self.schedule, "step_per_batch",
                                                          False):
            self.schedule.step()

    def state_dict(self):
        return self.schedule.state_dict() if hasattr(self.schedule, "state_dict") else {}

    def load_state_dict(self, state):
        if hasattr(self.schedule, "load_state_dict") and state:
            self.schedule.load_state_dict(state)


class ReduceLROnPlateau(_MonitorCallback):
    """Multiply the learning rate by `factor` when `monitor` stops improving."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0, got %s"
                             % factor)
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                for g in self.trainer.optimizer.param_groups:
                    old = g["lr"]
                    new = max(old * self.factor, self.min_lr)
                    if old - new > 1e-12:
                        g["lr"] = new
                        if self.verbose:
                            print("Epoch %d: ReduceLROnPlateau reducing learning rate to %g."
                                  % (epoch + 1, new), file=sys.stderr)
                self.cooldown_counter = self.cooldown
                self.wait = 0


class CSVLogger(Callback):
    """Append one CSV row of logs per epoch (header from the first epoch's keys)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None

    def on_train_begin(self, logs=None):
        if not self.append and os.path.exists(self.filename):
            os.remove(self.filename)
        self.keys = None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                first = f.readline().strip()
            if first:
                self.keys = first.split(self.sep)[1:]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        new = self.keys is None
        if new:
            self.keys = sorted(logs)
        with open(self.filename, "a", newline="") as f:
            w = csv.writer(f, delimiter=self.sep)
            if new:
                w.writerow(["epoch"] + self.keys)
            w.writerow([epoch] + [logs.get(k, "") for k in self.keys])


class TerminateOnNaN(Callback):
    """Stop when the loss is NaN or infinite; the Trainer then raises FloatingPointError
    naming the epoch and batch. Attached by default."""

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            self.trainer.stop_training = True
            self.trainer._nonfinite = (
                "non-finite loss %r at epoch %d, batch %d; training stopped"
                % (loss, self.epoch + 1, batch))


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. LambdaCallback(on_epoch_end=lambda e, logs: ...)."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError("LambdaCallback: unknown hook %r" % name)
            setattr(self, name, fn)
