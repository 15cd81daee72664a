"""fastdl.data: datasets, loading, splits, preprocessing and augmentation.

    from fastdl.data import TensorDataset, DataLoader, train_test_split, StandardScaler
    from fastdl.data import transforms            # RandomRotation, RandomCrop, ...
    from fastdl import datasets                   # mnist, fashion_mnist, make_moons, ...
"""
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
from fastdl._C.data import gather_rows

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "train_test_split", "train_val_test_split", "KFold",
           "MinMaxScaler", "StandardScaler", "one_hot",
           "transforms", "Compose", "RandomRotation", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomCrop", "GaussianNoise", "Normalize",
           "datasets", "gather_rows"]
