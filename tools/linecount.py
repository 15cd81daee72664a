"""Lines of code per layer, printed by CI so that growth shows in every run.

A line counts when it is not blank and not only a comment (#, //, or a line
inside /* */). Layers follow DESIGN.md: C kernels, the Cython boundary,
Tensor/autograd, then the Python libraries on top, and the tests.

    python tools/linecount.py [checkout]
"""
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (layer, path prefixes relative to the repository root, file suffixes)
LAYERS = [
    ("C public headers", ["csrc/include"], (".h",)),
    ("C runtime", ["csrc/runtime"], (".c", ".h")),
    ("C core (elementwise, reduce)", ["csrc/core"], (".c", ".h")),
    ("C gemm", ["csrc/gemm"], (".c", ".h")),
    ("C nn kernels", ["csrc/nn"], (".c", ".h")),
    ("C optim, data, metrics", ["csrc/optim", "csrc/data", "csrc/metrics"], (".c", ".h")),
    ("C model runtime", ["csrc/train"], (".c", ".h")),
    ("Cython boundary", ["fastdl/_C"], (".pyx", ".pxd")),
    ("Tensor + autograd", ["fastdl/tensor.py", "fastdl/autograd", "fastdl/creation.py"],
     (".py",)),
    ("nn", ["fastdl/nn"], (".py",)),
    ("optim", ["fastdl/optim"], (".py",)),
    ("data", ["fastdl/data"], (".py",)),
    ("train", ["fastdl/train"], (".py",)),
    ("other Python", ["fastdl"], (".py",)),
    ("tests", ["tests"], (".py", ".c")),
]


def count(path):
    n = 0
    in_block = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            s = line.strip()
            if in_block:
                if "*/" in s:
                    in_block = False
                continue
            if not s or s.startswith("#") and not s.startswith(("#include", "#define", "#if",
                                                               "#endif", "#else", "#elif",
                                                               "#undef", "#pragma", "#error")):
                continue
            if s.startswith("//"):
                continue
            if s.startswith("/*"):
                if "*/" not in s:
                    in_block = True
                continue
            n += 1
    return n


def files_under(prefix, suffixes):
    full = os.path.join(ROOT, prefix)
    if os.path.isfile(full):
        return [full] if full.endswith(suffixes) else []
    out = []
    for d, dirs, files in os.walk(full):
        dirs[:] = [x for x in dirs if not x.startswith((".", "__pycache__", "build"))]
        out += [os.path.join(d, f) for f in files if f.endswith(suffixes)]
    return out


def main():
    seen = set()
    rows = []
    for name, prefixes, suffixes in LAYERS:
        files = [f for p in prefixes for f in files_under(p, suffixes) if f not in seen]
        # generated Cython C files are not source
        files = [f for f in files if not (f.endswith(".c") and "/_C/" in f)]
        seen.update(files)
        rows.append((name, len(files), sum(count(f) for f in files)))
    w = max(len(r[0]) for r in rows)
    print("%-*s  %5s  %6s" % (w, "layer", "files", "lines"))
    for name, nf, nl in rows:
        print("%-*s  %5d  %6d" % (w, name, nf, nl))
    lib = sum(nl for name, _, nl in rows if name != "tests")
    print("%-*s  %5s  %6d" % (w, "library total (without tests)", "", lib))
    return 0


if __name__ == "__main__":
    sys.exit(main())
