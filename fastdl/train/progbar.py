"""Progbar: Keras's progress display, made safe for terminals of any width and for logs.

Two displays, chosen from the output stream:

* dynamic (a terminal or a Jupyter kernel): one line redrawn in place with a
  carriage return. Every redrawn line fits the terminal's width, so the
  carriage return always lands at its start. The final line of a pass shows
  every metric: when it is wider than the terminal the bar is shortened, then
  dropped, then the metrics continue on further lines, broken between metrics.
* static (a file, a pipe, CI, nohup): nothing while the pass runs and one
  plain line at its end; never a carriage return.

Keras decides "dynamic" from ``sys.stdout.isatty()`` *or* ``"posix" in
sys.modules``, which is why Keras fills Linux log files with ``\\r`` lines;
fastdl asks the stream only.

Why not tqdm: tqdm fits its bar to the terminal by truncating the postfix,
which cuts exactly the val_ metrics a user reads at the end of an epoch, and
it has no one-line-per-pass mode for logs. Keras's layout needs both, so the
display is written here (about 200 lines) and fastdl has no tqdm dependency.
"""
import math
import shutil
import sys
import time

__all__ = ["Progbar", "format_logs", "is_dynamic"]

# logs the Trainer adds that the display leaves out (they stay in the History)
_HIDDEN = ("size", "batch", "lr", "epoch_time")


def is_dynamic(stream=None):
    """True when `stream` (default sys.stdout) can redraw a line in place."""
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    return "ipykernel" in sys.modules and stream is sys.stdout


def format_value(v):
    """Keras's number format: 4 decimals, or scientific below 1e-3."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if v != 0 and abs(v) < 1e-3 and math.isfinite(v):
        return "%.4e" % v
    return "%.4f" % v


def format_logs(logs):
    """["loss: 0.1234", ...] for the numbers in logs, in their order."""
    out = []
    for k, v in (logs or {}).items():
        if k in _HIDDEN or v is None or isinstance(v, (str, bytes, dict, list, tuple)):
            continue
        out.append("%s: %s" % (k, format_value(v)))
    return out


def _format_seconds(t):
    t = max(0.0, t)
    if t < 3600:
        return "%ds" % int(round(t)) if t < 60 else "%d:%02d" % divmod(int(round(t)), 60)
    h, rem = divmod(int(round(t)), 3600)
    return "%d:%02d:%02d" % (h, rem // 60, rem % 60)


def _format_per_unit(t, unit):
    if t >= 1:
        return "%.0fs/%s" % (t, unit)
    if t >= 1e-3:
        return "%.0fms/%s" % (t * 1e3, unit)
    return "%.0fus/%s" % (t * 1e6, unit)


class Progbar:
    """A Keras-style progress display for one pass over `target` steps.

    Args:
        target: number of steps in the pass, or None if unknown.
        width: bar width in characters (shortened to fit the terminal).
        verbose: 1 (a bar in a terminal; one line at the end otherwise),
            2 (one line at the end), 0 (nothing).
        interval: minimum seconds between two redraws.
        unit_name: what a step is called ("step").
        file: the stream (default: sys.stdout at the time of each write).
        prefix: text that starts the static end line (e.g. "Epoch 1/3").

    Example:
        >>> bar = Progbar(3, verbose=2, prefix="Epoch 1/1")
        >>> for i in range(3):
        ...     bar.update(i + 1, {"loss": 0.5})   # doctest: +ELLIPSIS
        Epoch 1/1 - 3/3 - ...s - ...s/step - loss: 0.5000
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, unit_name="step",
                 file=None, prefix=""):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._file = file
        self.prefix = prefix
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._prev_len = 0
        self._finished = False
        self.dynamic = is_dynamic(self.file)

    @property
    def file(self):
        return self._file if self._file is not None else sys.stdout

    # ---- pieces ------------------------------------------------------------------------
    def _chars(self):
        enc = (getattr(self.file, "encoding", None) or "").lower().replace("-", "")
        return ("\u2501", "\u2500") if enc.startswith("utf") else ("=", ".")

    def _bar(self, current, cells):
        done_c, todo_c = self._chars()
        frac = min(max(current / self.target, 0.0), 1.0) if self.target else 0.0
        done = int(frac * cells)
        return done_c * done + todo_c * (cells - done)

    def _counter(self, current):
        if self.target is None:
            return "%d/Unknown" % current
        n = len(str(self.target))
        return "%*d/%d" % (n, current, self.target)

    def _times(self, current, finalize):
        elapsed = time.perf_counter() - self._start
        per = elapsed / current if current else 0.0
        if finalize or not self.target:
            t = elapsed
        else:
            t = per * (self.target - current)
        return _format_seconds(t), _format_per_unit(per, self.unit_name)

    @staticmethod
    def columns():
        """Terminal width (COLUMNS, then the terminal, then 80)."""
        return shutil.get_terminal_size((80, 24)).columns

    # ---- drawing -----------------------------------------------------------------------
    def _fit_line(self, head, tail, metrics, usable, final):
        """Lines for a redraw: head (counter), optional bar, tail (times), metrics."""
        metrics_text = "".join(" - " + m for m in metrics)
        # 1) full bar, 2) a shorter bar, 3) no bar
        for cells in (self.width, min(self.width, 10), 0):
            if cells and self.target is None:
                continue
            bar = (" " + self._bar(self._current, cells)) if cells else ""
            line = head + bar + " " + tail + metrics_text
            if len(line) <= usable:
                return [line]
        if not final:
            first = head + " " + tail
            # a line being redrawn must stay on one terminal row: keep the
            # metrics that fit; the final line shows them all
            kept = first
            for m in metrics:
                if len(kept) + 3 + len(m) > usable:
                    break
                kept += " - " + m
            return [kept[:usable]]
        # the final line: counter, bar and times first, then every metric on the
        # following lines, broken between metrics (never inside one)
        for cells in (self.width, min(self.width, 10), 0):
            bar = (" " + self._bar(self._current, cells)) if cells and self.target else ""
            lines = [head + bar + " " + tail]
            if len(lines[0]) <= usable:
                break
        cur = ""
        for m in metrics:
            piece = ("  " if not cur else " - ") + m
            if cur and len(cur) + len(piece) > usable:
                lines.append(cur)
                cur, piece = "", "  " + m
            cur += piece
        if cur:
            lines.append(cur)
        return lines

    def update(self, current, values=None, finalize=None):
        """Show progress at step `current` with the running `values` (a logs dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 0 or self._finished:
            return
        self._current = current
        f = self.file
        metrics = format_logs(values)
        if not self.dynamic or self.verbose == 2:
            if not finalize:
                return
            total, per = self._times(current, True)
            parts = ([self.prefix] if self.prefix else []) + \
                ["%d/%s" % (current, self.target if self.target is not None else current),
                 total, per] + metrics
            f.write(" - ".join(parts) + "\n")
            f.flush()
            self._finished = True
            return
        now = time.perf_counter()
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        eta, per = self._times(current, finalize)
        usable = max(self.columns() - 1, 20)
        lines = self._fit_line(self._counter(current), eta + " " + per, metrics, usable,
                               finalize)
        first = lines[0]
        pad = " " * max(self._prev_len - len(first), 0)
        f.write("\r" + first + pad)
        self._prev_len = len(first)
        if finalize:
            for extra in lines[1:]:
                f.write("\n" + extra)
            f.write("\n")
            self._finished = True
        f.flush()

    def add(self, n, values=None):
        """Advance by n steps (Keras's Progbar.add)."""
        self.update(getattr(self, "_current", 0) + n, values)
