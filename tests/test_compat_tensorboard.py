"""fastdl.utils.tensorboard.SummaryWriter writes event files TensorBoard reads (issue 12, item 7)."""
import pytest


def test_summary_writer_event_file_reads_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import fastdl
    from fastdl.utils.tensorboard import SummaryWriter
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss/train", fastdl.tensor(1.0 / (step + 1)), step)
        w.add_scalars("acc", {"train": 0.5, "val": 0.25}, 2)
        w.add_histogram("weights", fastdl.randn(100), 1)
        w.add_text("note", "hello", 0)
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    ev = acc.Scalars("loss/train")
    assert [e.step for e in ev] == [0, 1, 2]
    assert [round(e.value, 4) for e in ev] == [1.0, 0.5, 0.3333]
    assert acc.Scalars("acc/val")[0].value == 0.25
    h = acc.Histograms("weights")[0].histogram_value
    assert h.num == 100


def test_summary_writer_without_tensorboard_says_what_to_install(monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    from fastdl.utils.tensorboard import SummaryWriter
    with pytest.raises(ImportError, match="pip install tensorboard"):
        SummaryWriter("unused")
