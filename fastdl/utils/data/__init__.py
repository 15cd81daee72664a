"""fastdl.utils.data: ``torch.utils.data``'s path to fastdl.data, so PyTorch scripts port by import.

The classes are fastdl.data's own (the same objects), plus ``DistributedSampler``.
"""
from fastdl.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                         Sampler, SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                         WeightedRandomSampler, default_collate, default_convert, random_split)
from fastdl.utils.data.distributed import DistributedSampler

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "DistributedSampler"]
