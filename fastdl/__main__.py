"""fastdl {demo, info, bench <name>}: the `fastdl` command (also `python -m fastdl`)."""
import argparse
import importlib
import os
import sys


def _prog():
    return "python -m fastdl" if os.path.basename(sys.argv[0]) == "__main__.py" else "fastdl"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = _prog()
    if argv[:1] == ["demo"]:        # the demo parses its own options
        from fastdl import demo
        return demo.main(argv[1:], prog=prog + " demo")
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split(":")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="train a small CNN on real data (MNIST if found, else the "
                                    "bundled digits)", add_help=False)
    d.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("info", help="print the build and run-time configuration")
    b = sub.add_parser("bench", help="print a benchmark table (e.g. 'gemm')")
    b.add_argument("name", help="benchmark name: a module under fastdl.bench")
    b.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    if a.cmd == "info":
        import fastdl
        fastdl.show_config()
        return 0
    try:
        mod = importlib.import_module("fastdl.bench." + a.name)
    except ModuleNotFoundError:
        p.error("unknown benchmark %r" % a.name)
    return mod.main(a.args) or 0


if __name__ == "__main__":
    sys.exit(main())
