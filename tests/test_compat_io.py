"""save/load with PyTorch habits (issue 12, item 6): file objects, arrays, whole modules."""
import io

import numpy as np
import pytest

import fastdl
from fastdl import nn


def test_save_and_load_through_file_objects(tmp_path):
    model = nn.Linear(3, 2)
    buf = io.BytesIO()
    fastdl.save({"model": model.state_dict(), "epoch": 4}, buf)
    buf.seek(0)
    ck = fastdl.load(buf, map_location="cpu")
    assert ck["epoch"] == 4
    np.testing.assert_array_equal(ck["model"]["weight"].numpy(), model.weight.detach().numpy())
    with open(tmp_path / "m.pt", "wb") as f:
        fastdl.save(model.state_dict(), f)
    with open(tmp_path / "m.pt", "rb") as f:
        state = fastdl.load(f)
    nn.Linear(3, 2).load_state_dict(state)
    with open(tmp_path / "m.pt", "r") as f:
        with pytest.raises((TypeError, UnicodeDecodeError)):
            fastdl.load(f)


def test_arrays_load_as_arrays_and_tensors_as_tensors(tmp_path):
    obj = {"arr": np.arange(6.0).reshape(2, 3), "t": fastdl.ones(2), "mixed": [np.int64(3),
                                                                                np.zeros(2, np.int32)]}
    fastdl.save(obj, tmp_path / "a.safetensors")
    back = fastdl.load(tmp_path / "a.safetensors")
    assert type(back["arr"]) is np.ndarray and back["arr"].dtype == np.float64
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    assert isinstance(back["t"], fastdl.Tensor)
    assert back["mixed"][0] == 3 and type(back["mixed"][1]) is np.ndarray
    back["arr"][0, 0] = 7          # writable
    # files without arrays keep format 1 (older fastdl reads them)
    fastdl.save({"t": fastdl.ones(1)}, tmp_path / "b.safetensors")
    import json
    import safetensors
    with safetensors.safe_open(str(tmp_path / "b.safetensors"), "np") as f:
        assert json.loads(f.metadata()["fastdl"])["format"] == 1


def test_whole_module_and_optimizer_refused_pointing_to_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        fastdl.save(model, tmp_path / "m.pt")
    with pytest.raises(TypeError, match=r"optimizer.state_dict\(\)"):
        fastdl.save({"opt": fastdl.optim.SGD(model.parameters(), lr=0.1)}, tmp_path / "o.pt")
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(ValueError, match="CPU only"):
        fastdl.load(tmp_path / "x.pt", map_location="cuda:0")


def test_random_sampler_with_replacement_draws_lazily():
    from fastdl.data import dataloader
    from fastdl.utils.data import RandomSampler
    huge = RandomSampler(range(10), replacement=True, num_samples=10 ** 12, generator=3)
    it = iter(huge)
    first = [next(it) for _ in range(5)]
    assert len(huge) == 10 ** 12 and all(0 <= i < 10 for i in first)
    # chunked draws are the same indices as one draw from the same key
    m = dataloader._CHUNK * 2 + 5
    a = list(RandomSampler(range(7), replacement=True, num_samples=m, generator=5))
    b = RandomSampler(range(7), replacement=True, num_samples=m, generator=5)._indices().tolist()
    assert a == b
