from fastdl._C import _core
