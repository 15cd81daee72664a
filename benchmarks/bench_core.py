"""First benchmark group: core elementwise ops and sum, fastdl against NumPy.

Run:  pytest benchmarks/bench_core.py --benchmark-only --benchmark-group-by=group
Each group is one op at one size; inside it, fastdl with a preallocated
`out=` and without, and NumPy the same two ways. `extra_info` records the
bytes moved (reads + writes, write-allocate traffic not counted, as STREAM
counts) and the GB/s of the median, so results compare against the
machine's memory bandwidth (see benchmarks/report_core.py, which measures it).
"""
import numpy as np
import pytest

from fastdl._C import _core as C

SIZES = {"1M": 1 << 20, "16M": 1 << 24}
B = {n: getattr(C, n) for n in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")}
R = {"sum": C.sum, "mean": C.mean, "max": C.amax, "min": C.amin}


def _data(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    return a, b, np.empty_like(a)


# op -> (bytes per element, {variant: fn(a, b, o, zero) -> callable})
OPS = {
    "add": (12, {
        "fastdl_out": lambda a, b, o, z: lambda: B["add"](a, b, out=o),
        "fastdl": lambda a, b, o, z: lambda: B["add"](a, b),
        "numpy_out": lambda a, b, o, z: lambda: np.add(a, b, out=o),
        "numpy": lambda a, b, o, z: lambda: np.add(a, b),
    }),
    "mul": (12, {
        "fastdl_out": lambda a, b, o, z: lambda: B["mul"](a, b, out=o),
        "fastdl": lambda a, b, o, z: lambda: B["mul"](a, b),
        "numpy_out": lambda a, b, o, z: lambda: np.multiply(a, b, out=o),
        "numpy": lambda a, b, o, z: lambda: np.multiply(a, b),
    }),
    "exp": (8, {
        "fastdl_out": lambda a, b, o, z: lambda: C.exp(a, out=o),
        "fastdl": lambda a, b, o, z: lambda: C.exp(a),
        "numpy_out": lambda a, b, o, z: lambda: np.exp(a, out=o),
        "numpy": lambda a, b, o, z: lambda: np.exp(a),
    }),
    "relu": (8, {   # maximum(x, 0)
        "fastdl_out": lambda a, b, o, z: lambda: B["maximum"](a, z, out=o),
        "fastdl": lambda a, b, o, z: lambda: B["maximum"](a, z),
        "numpy_out": lambda a, b, o, z: lambda: np.maximum(a, z, out=o),
        "numpy": lambda a, b, o, z: lambda: np.maximum(a, z),
    }),
    "sum": (4, {
        "fastdl": lambda a, b, o, z: lambda: C.sum(a),
        "numpy": lambda a, b, o, z: lambda: np.sum(a),
    }),
}

CASES = [(op, size, variant) for op in OPS for size in SIZES for variant in OPS[op][1]]


@pytest.fixture(scope="module")
def arrays():
    cache = {}

    def get(size):
        if size not in cache:
            cache[size] = _data(SIZES[size])
        return cache[size]
    return get


@pytest.mark.parametrize("op,size,variant", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_core(benchmark, arrays, op, size, variant):
    a, b, o = arrays(size)
    zero = np.zeros((), np.float32)
    bpe, variants = OPS[op]
    fn = variants[variant](a, b, o, zero)
    benchmark.group = "%s-%s" % (op, size)
    benchmark.extra_info["impl"] = variant
    benchmark.extra_info["threads"] = C.get_num_threads()
    benchmark.extra_info["isa"] = C.get_isa()
    benchmark.extra_info["bytes"] = bpe * SIZES[size]
    benchmark.pedantic(fn, rounds=30 if size == "1M" else 8, warmup_rounds=2, iterations=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info["GB/s"] = round(bpe * SIZES[size] / median / 1e9, 2)


def test_per_op_overhead(benchmark):
    """Cost of one tiny call: the wrapper's checks plus the kernel launch."""
    a = np.ones(10, np.float32)
    b = np.ones(10, np.float32)
    benchmark.group = "overhead-add-10"
    benchmark.extra_info["impl"] = "fastdl"
    benchmark(B["add"], a, b)


def test_per_op_overhead_numpy(benchmark):
    a = np.ones(10, np.float32)
    b = np.ones(10, np.float32)
    benchmark.group = "overhead-add-10"
    benchmark.extra_info["impl"] = "numpy"
    benchmark(np.add, a, b)
