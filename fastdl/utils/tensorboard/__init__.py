"""fastdl.utils.tensorboard: torch.utils.tensorboard's SummaryWriter, writing real event files.

As in PyTorch, the event files are written through the ``tensorboard`` package
(an optional extra: ``pip install "fastdl[tensorboard]"``); TensorBoard reads
the directory with ``tensorboard --logdir runs``. Without the package,
creating a SummaryWriter raises ImportError saying what to install.
"""
import os
import socket
import time
from datetime import datetime

import numpy as np

__all__ = ["SummaryWriter"]


def _scalar(v):
    from fastdl.tensor import Tensor
    if isinstance(v, Tensor):
        v = v.item()
    elif isinstance(v, np.ndarray):
        v = v.item()
    return float(v)


class SummaryWriter:
    """Write scalars, histograms and text to a TensorBoard event file (torch.utils.tensorboard.SummaryWriter).

    Args:
        log_dir: the directory (default ``runs/<date>_<host><comment>``).
        comment: appended to the default log_dir.
        purge_step, max_queue, flush_secs, filename_suffix: as PyTorch
            (purge_step is accepted and ignored).

    Example:
        >>> import os, tempfile
        >>> try:
        ...     from fastdl.utils.tensorboard import SummaryWriter
        ...     d = tempfile.mkdtemp()
        ...     with SummaryWriter(d) as w:
        ...         w.add_scalar("loss", 0.5, 0)
        ...     ok = any(f.startswith("events.out.tfevents") for f in os.listdir(d))
        ... except ImportError:            # the optional tensorboard package is absent
        ...     ok = True
        >>> ok
        True
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        try:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            raise ImportError("SummaryWriter: writing TensorBoard event files needs the "
                              "tensorboard package: pip install tensorboard (or "
                              "pip install \"fastdl[tensorboard]\")") from None
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self._writer = EventFileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        """The directory the event file is written to."""
        return self.log_dir

    def _add(self, summary, global_step, walltime):
        from tensorboard.compat.proto import event_pb2
        ev = event_pb2.Event(summary=summary,
                             wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            ev.step = int(global_step)
        self._writer.add_event(ev)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None,
                   new_style=False, double_precision=False):
        """Record one scalar (a number or a one-element tensor) under tag at global_step."""
        from tensorboard.compat.proto import summary_pb2
        s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
            tag=tag, simple_value=_scalar(scalar_value))])
        self._add(s, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Record several scalars, one per key, under main_tag/key (one event file here)."""
        for k, v in tag_scalar_dict.items():
            self.add_scalar("%s/%s" % (main_tag, k), v, global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """Record the distribution of values (a tensor or array) as a histogram."""
        from tensorboard.compat.proto import summary_pb2
        from fastdl.tensor import Tensor
        a = values.detach()._data if isinstance(values, Tensor) else np.asarray(values)
        a = a.astype(np.float64).reshape(-1)
        nb = 30 if not isinstance(bins, int) else bins
        counts, edges = np.histogram(a, bins=nb) if a.size else (np.zeros(0), np.zeros(1))
        h = summary_pb2.HistogramProto(
            min=float(a.min()) if a.size else 0.0, max=float(a.max()) if a.size else 0.0,
            num=float(a.size), sum=float(a.sum()), sum_squares=float((a * a).sum()),
            bucket_limit=[float(e) for e in edges[1:]], bucket=[float(c) for c in counts])
        self._add(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=h)]),
                  global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Record a text string (shown in TensorBoard's Text tab)."""
        from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
        t = tensor_pb2.TensorProto(
            dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
        s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag + "/text_summary",
                                                                 metadata=meta, tensor=t)])
        self._add(s, global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not supported (fastdl has no TorchScript trace); raises NotImplementedError."""
        raise NotImplementedError("SummaryWriter.add_graph: graphs are not supported by fastdl")

    def flush(self):
        """Write pending events to disk."""
        self._writer.flush()

    def close(self):
        """Flush and close the event file."""
        self._writer.flush()
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
