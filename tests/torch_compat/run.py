"""Run one compat program under torch or under fastdl behind torch's import names.

Usage: python run.py PROGRAM.py {torch,fastdl} SEED

For fastdl, ``import torch`` (and torch.nn, torch.nn.functional, torch.optim,
torch.optim.lr_scheduler, torch.utils.data, torch.autograd, torch.nn.init,
torch.nn.utils) resolve to fastdl's modules: the import swap a user does by
hand. The program prints one line ``RESULT {json}``; this script adds the wall
time of the program and prints it.
"""
import json
import os
import runpy
import sys
import time


def alias_fastdl_as_torch():
    import fastdl
    import fastdl.nn.functional
    import fastdl.nn.init
    import fastdl.nn.utils
    import fastdl.optim.lr_scheduler
    import fastdl.utils.data
    names = {"torch": fastdl, "torch.nn": fastdl.nn, "torch.nn.functional": fastdl.nn.functional,
             "torch.nn.init": fastdl.nn.init, "torch.nn.utils": fastdl.nn.utils,
             "torch.optim": fastdl.optim, "torch.optim.lr_scheduler": fastdl.optim.lr_scheduler,
             "torch.utils": fastdl.utils, "torch.utils.data": fastdl.utils.data,
             "torch.autograd": fastdl.autograd}
    sys.modules.update(names)


def main():
    program, lib, seed = sys.argv[1], sys.argv[2], sys.argv[3]
    if lib == "fastdl":
        alias_fastdl_as_torch()
    elif lib != "torch":
        raise SystemExit("run.py: lib must be torch or fastdl, got %r" % lib)
    import torch
    torch.set_num_threads(int(os.environ.get("COMPAT_THREADS", "2")))
    os.environ["SEED"] = seed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs"))
    t0 = time.perf_counter()
    result = runpy.run_path(program, run_name="__main__").get("RESULT")
    elapsed = time.perf_counter() - t0
    if result is None:
        raise SystemExit("run.py: %s set no RESULT" % program)
    result["seconds"] = elapsed
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
