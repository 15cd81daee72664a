"""torch.nn.modules.container: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (from fastdl.nn)."""
from fastdl.nn import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: F401
                       Sequential)
