"""fastdl.data: datasets, loading, splits, preprocessing and augmentation.

    from fastdl.data import TensorDataset, DataLoader, train_test_split, StandardScaler
    from fastdl.data import transforms            # RandomRotation, RandomCrop, ...
    from fastdl import datasets                   # mnist, fashion_mnist, make_moons, ...
"""
import numpy as np

from fastdl.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from fastdl.data.dataloader import (BatchSampler, DataLoader, RandomSampler, Sampler,
                                    SequentialSampler, SubsetRandomSampler,
                                    WeightedRandomSampler, default_collate, default_convert)
from fastdl.data.splits import KFold, train_test_split, train_val_test_split
from fastdl.data.preprocessing import MinMaxScaler, StandardScaler, one_hot
from fastdl.data import transforms
from fastdl.data.transforms import (Compose, GaussianNoise, Normalize, RandomCrop,
                                    RandomHorizontalFlip, RandomRotation, RandomVerticalFlip)
from fastdl.data import datasets
from fastdl._C import data as _cdata

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "train_test_split", "train_val_test_split", "KFold",
           "MinMaxScaler", "StandardScaler", "one_hot",
           "transforms", "Compose", "RandomRotation", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomCrop", "GaussianNoise", "Normalize",
           "datasets", "gather_rows"]


def gather_rows(src, idx, out=None):
    """out[i] = src[idx[i]] for a 1-D integer idx: NumPy's src[idx], in one C call.

    Any dtype without Python objects, any trailing shape; negative indices count
    from the end; an out-of-range index raises IndexError before anything is
    written. ``out`` must be writeable; it may overlap src (the rows are then
    gathered into a temporary first, so the result is still src[idx]).

    Example:
        >>> fastdl.data.gather_rows(np.arange(6.0).reshape(3, 2), [2, 0])
        array([[4., 5.],
               [0., 1.]])
    """
    if out is not None and isinstance(out, np.ndarray):
        if not out.flags.writeable:
            raise ValueError("gather_rows: out is read-only (a NumPy array with writeable="
                             "False); pass a writeable array or out=None")
        if isinstance(src, np.ndarray) and np.may_share_memory(out, src):
            res = _cdata.gather_rows(src, idx)
            if res.shape != out.shape or res.dtype != out.dtype:
                _cdata.gather_rows(src, idx, out=np.empty(out.shape, out.dtype))  # its error
            out[...] = res
            return out
    return _cdata.gather_rows(src, idx, out)
