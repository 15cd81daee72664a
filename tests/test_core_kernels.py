"""Core kernels (fastdl._C._core) against float64 NumPy.

The elementwise, compare and reduction rows dispatch on the ISA: their tests
take the `isa` fixture (tests/conftest.py), so the generic, AVX2 and AVX-512
row loops are all checked against the same oracle. Row lengths (vector body
and tails) run on every ISA; the shape handling around the rows (empty, 0-d,
size-1 dims, many dims) is the same C driver whatever the ISA, and runs once.
The random numbers, the runtime calls and the argument errors have no
per-ISA code and run once.
"""
import itertools

import numpy as np
import pytest

from fastdl._C import _core as C

ISAS = ("generic", "avx2", "avx512")

# Each op is its own _core function (no op codes); these tables give the
# tests one name per op and one call shape per family.
B = {n: getattr(C, n) for n in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")}
CMP = {n: getattr(C, n) for n in ("eq", "ne", "lt", "le", "gt", "ge")}
R = {"sum": C.sum, "mean": C.mean, "max": C.amax, "min": C.amin}


def unary(name, x, p0=0.0, p1=0.0, out=None):
    if name == "pow":
        return C.pow_scalar(x, p0, out=out)
    if name in ("clip", "affine"):
        return getattr(C, name)(x, p0, p1, out=out)
    return getattr(C, name)(x, out=out)


def reduce(name, x, axis=None, keepdims=False):
    return R[name](x, axis, keepdims)


def argreduce(is_min, x, axis=None, keepdims=False):
    return (C.argmin if is_min else C.argmax)(x, axis, keepdims)

NP_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
             "pow": np.power, "maximum": np.maximum, "minimum": np.minimum}
NP_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
              "gt": np.greater, "ge": np.greater_equal}
NP_REDUCE = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}

# row lengths: vector body and tails of every ISA's loops
ROWS = [(1,), (3,), (17,), (1023,), (4099,)]
# the driver's shape handling around the rows (no per-ISA code)
LAYOUTS = [(0,), (2, 0, 3), (1, 1), (5, 1, 7), (3, 4, 5, 6), ()]
DTYPES = [np.float32, np.float64]


@pytest.fixture
def threads():
    """Yields a setter for the kernel thread count; restores it afterwards."""
    prev = C.get_num_threads()
    yield C.set_num_threads
    C.set_num_threads(prev)


def rand(shape, dtype, seed=0, lo=-3.0, hi=3.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def ref(fn, *xs, dtype):
    """fn evaluated in float64 and rounded once to dtype."""
    with np.errstate(all="ignore"):
        return np.asarray(fn(*[np.asarray(x, np.float64) for x in xs])).astype(dtype)


def ordered(y):
    """Map floats to integers whose difference counts ulps."""
    if y.dtype == np.float32:
        i = y.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    i = y.view(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFFFFFFFFFF), i)


def assert_ulp(got, want, max_ulp, what=""):
    """Same NaN pattern, same infinities, finite values within max_ulp."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    assert np.array_equal(nan_g, nan_w), "%s: NaN at different positions" % what
    ok = ~nan_w
    d = np.abs(ordered(got[ok]) - ordered(want[ok]))
    if d.size:
        k = int(d.argmax())
        assert d[k] <= max_ulp, "%s: %d ulp at x-index %d (got %r, want %r)" % (
            what, d[k], k, got[ok][k], want[ok][k])


def assert_same(got, want):
    """Bitwise equal, NaNs included (exact ops: IEEE results are unique)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


# ---- runtime ---------------------------------------------------------------

def test_isa_roundtrip(isa):
    assert C.get_isa() == isa
    assert C.detected_isa() in ISAS


def test_set_isa_rejects_unknown_name():
    with pytest.raises(ValueError, match="avx512"):
        C.set_isa("sse9")


@pytest.mark.skipif(C.detected_isa() == "avx512", reason="CPU supports every ISA")
def test_set_isa_rejects_unsupported():
    prev = C.get_isa()
    with pytest.raises(RuntimeError, match="does not support"):
        C.set_isa("avx512")
    assert C.get_isa() == prev


def test_num_threads(threads):
    threads(1)
    assert C.get_num_threads() == 1
    threads(0)
    assert C.get_num_threads() >= 1
    if C.has_openmp():
        threads(2)
        assert C.get_num_threads() == 2


# ---- binary ----------------------------------------------------------------

EXACT_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"]


def _check_binary_exact(op, shape, dtype):
    # float64 is more than 2*24+2 bits, so rounding the float64 result of
    # +-*/ on float32 inputs gives the correctly rounded float32 result.
    a, b = rand(shape, dtype, 1), rand(shape, dtype, 2)
    assert_same(B[op](a, b), ref(NP_BINARY[op], a, b, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROWS)
@pytest.mark.parametrize("op", EXACT_BINARY)
def test_binary_exact(isa, op, shape, dtype):
    _check_binary_exact(op, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LAYOUTS)
@pytest.mark.parametrize("op", EXACT_BINARY)
def test_binary_exact_shapes(op, shape, dtype):
    _check_binary_exact(op, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3,), (1023,), (4099,), (5, 1, 7)])
def test_binary_pow(isa, shape, dtype):
    a, b = rand(shape, dtype, 1, 0.0, 4.0), rand(shape, dtype, 2, -3.0, 3.0)
    assert_ulp(B["pow"](a, b), ref(np.power, a, b, dtype=dtype), 2, "pow")


VIEWS = {
    "transposed": lambda x: x.T,
    "step2": lambda x: x[:, ::2],
    "reversed": lambda x: x[::-1, ::-1],
    "neg_step3": lambda x: x[:, ::-3],
    "row_slice": lambda x: x[1:-1],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("op", ["add", "sub", "maximum", "div"])
def test_binary_noncontiguous(isa, op, view, dtype):
    base_a, base_b = rand((37, 41), dtype, 3), rand((37, 41), dtype, 4)
    a, b = VIEWS[view](base_a), VIEWS[view](base_b)
    assert not a.flags.c_contiguous or view == "row_slice"
    assert_same(B[op](a, b), ref(NP_BINARY[op], a, b, dtype=dtype))
    # one contiguous, one strided operand
    c = rand(a.shape, dtype, 5)
    assert_same(B[op](c, b), ref(NP_BINARY[op], c, b, dtype=dtype))
    assert_same(B[op](a, c), ref(NP_BINARY[op], a, c, dtype=dtype))


# each row-stride case of the ISA loops: scalar on either side, a long
# broadcast row, an inner row shared by outer rows, an outer product
BROADCAST_ROWS = [((), (5,)), ((5,), ()), ((1,), (1023,)), ((4,), (2, 3, 4)),
                  ((3, 1), (1, 4))]
# the driver's broadcasting of shapes around those rows (no per-ISA code)
BROADCAST_SHAPES = [((), ()), ((1, 4), (3, 1)), ((2, 3, 4), (3, 1)), ((2, 1, 4), (3, 1)),
                    ((7, 1, 1), (1, 1, 1)), ((0, 3), (1, 3)), ((1, 0), (4, 1)),
                    ((1, 1, 1, 1, 1, 1, 1, 2), (2, 1))]


def _check_broadcast(op, sa, sb, dtype):
    a, b = rand(sa, dtype, 6), rand(sb, dtype, 7)
    got = B[op](a, b)
    assert got.flags.c_contiguous
    assert_same(got, ref(NP_BINARY[op], a, b, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", BROADCAST_ROWS)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum"])
def test_binary_broadcast(isa, op, sa, sb, dtype):
    _check_broadcast(op, sa, sb, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum"])
def test_binary_broadcast_shapes(op, sa, sb, dtype):
    _check_broadcast(op, sa, sb, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_broadcast_strided(isa, dtype):
    a = rand((6, 9), dtype, 8)[::2, ::-3]          # (3, 3) strided
    b = rand((8, 3), dtype, 9)[::-4, :1]           # (2, 1) strided
    a3 = a[None, :, :]
    assert_same(B["sub"](a3, b[:, None, :]),
                ref(np.subtract, a3, b[:, None, :], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["add", "mul", "maximum"])
def test_binary_inplace(isa, op, dtype):
    a, b = rand((33, 65), dtype, 10), rand((65,), dtype, 11)
    want = ref(NP_BINARY[op], a, b, dtype=dtype)
    res = B[op](a, b, out=a)
    assert res is a
    assert_same(a, want)
    b2 = rand((33, 65), dtype, 12)
    want = ref(NP_BINARY[op], a, b2, dtype=dtype)
    B[op](a, b2, out=b2)
    assert_same(b2, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["reversed", "transposed", "row0", "shifted"])
def test_binary_out_overlaps_other_layout(isa, name, dtype):
    # out shares memory with an input laid out differently; the result must
    # be as if the inputs were read before anything was written
    a = rand((48, 48), dtype, 13)
    other = {"reversed": lambda x: x[::-1], "transposed": lambda x: x.T,
             "row0": lambda x: x[:1], "shifted": None}[name]
    if other is None:
        flat = rand((200,), dtype, 14)
        a, b = flat[1:101], flat[:100]
        want = ref(np.add, a, b, dtype=dtype)
        B["add"](a, b, out=a)
        assert_same(a, want)
        return
    b = other(a)
    want = ref(np.add, a, b, dtype=dtype)
    B["add"](a, b, out=a)
    assert_same(a, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_special_values(isa, dtype):
    vals = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 3.5], dtype)
    a, b = np.meshgrid(vals, vals)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    for op in EXACT_BINARY + ["pow"]:
        got = B[op](a, b)
        want = ref(NP_BINARY[op], a, b, dtype=dtype)
        if op in ("maximum", "minimum"):
            # signed zeros compare equal; numpy's pick between them is unspecified
            both_zero = (a == 0) & (b == 0)
            got, want = got[~both_zero], want[~both_zero]
        assert_same(got, want)


def test_binary_nan_propagation_large(isa):
    # NaN in either operand, in the vector body and in the tail
    for dtype in DTYPES:
        a, b = rand((1000,), dtype, 15), rand((1000,), dtype, 16)
        a[[0, 17, 500, 999]] = np.nan
        b[[3, 18, 998]] = np.nan
        for op in ("maximum", "minimum"):
            got = B[op](a, b)
            assert np.array_equal(np.isnan(got), np.isnan(a) | np.isnan(b)), op


# ---- compare -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", sorted(CMP))
def test_compare(isa, op, dtype):
    vals = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan], dtype)
    a, b = np.meshgrid(vals, vals)
    got = CMP[op](a, b)
    assert got.dtype == np.bool_
    assert_same(got, NP_COMPARE[op](a, b))
    x, y = rand((4099,), dtype, 17).round(), rand((4099,), dtype, 18).round()
    assert_same(CMP[op](x, y), NP_COMPARE[op](x, y))
    assert_same(CMP[op](x[::-2], np.asarray(1.0, dtype)),
                NP_COMPARE[op](x[::-2], dtype(1.0)))
    m, n = rand((3, 1), dtype, 19).round(), rand((1, 4), dtype, 20).round()
    assert_same(CMP[op](m, n), NP_COMPARE[op](m, n))


# ---- unary -------------------------------------------------------------------

UNARY_CASES = {
    # name: (p0, p1, numpy reference, max ulp for float32, domain)
    "neg": (0, 0, np.negative, 0, None),
    "abs": (0, 0, np.abs, 0, None),
    "sqrt": (0, 0, np.sqrt, 0, (0.0, 9.0)),
    "square": (0, 0, np.square, 0, None),
    "reciprocal": (0, 0, np.reciprocal, 0, None),
    "copy": (0, 0, lambda x: x, 0, None),
    "sign": (0, 0, np.sign, 0, None),
    "exp": (0, 0, np.exp, 2, (-90.0, 90.0)),
    "log": (0, 0, np.log, 2, (1e-30, 1e30)),
    "clip": (-0.5, 1.25, lambda x: np.clip(x, -0.5, 1.25), 0, None),
}


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_affine(isa, dtype):
    # p0 * x + p1 may be contracted to an FMA (AVX2/AVX-512 files) or not
    # (generic); either rounding is right, nothing else is
    x = rand((4099,), dtype, 21)
    got = unary("affine", x, 1.5, -0.25)
    wide = np.longdouble if dtype == np.float64 else np.float64
    fused = (x.astype(wide) * 1.5 - 0.25).astype(dtype)
    unfused = (x * dtype(1.5)).astype(dtype) - dtype(0.25)
    ok = (got == fused) | (got == unfused)
    assert ok.all(), (x[~ok][:3], got[~ok][:3], fused[~ok][:3], unfused[~ok][:3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROWS)
@pytest.mark.parametrize("name", sorted(UNARY_CASES))
def test_unary(isa, name, shape, dtype):
    _check_unary(name, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LAYOUTS)
@pytest.mark.parametrize("name", sorted(UNARY_CASES))
def test_unary_shapes(name, shape, dtype):
    _check_unary(name, shape, dtype)


def _check_unary(name, shape, dtype):
    p0, p1, fn, ulp32, dom = UNARY_CASES[name]
    lo, hi = dom or (-3.0, 3.0)
    x = rand(shape, dtype, 21, lo, hi)
    if dom == (1e-30, 1e30):
        x = np.asarray(10.0 ** rand(shape, np.float64, 21, -30, 30)).astype(dtype)
    got = unary(name, x, p0, p1)
    want = ref(fn, x, dtype=dtype)
    # float64 math comes from libm (exp, log) and may differ from NumPy's by an ulp
    assert_ulp(got, want, ulp32 if dtype == np.float32 else (ulp32 and 1), name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", ["exp", "neg", "sqrt", "copy"])
def test_unary_noncontiguous(isa, name, view, dtype):
    x = VIEWS[view](rand((37, 41), dtype, 22, 0.0, 5.0))
    p0, p1, fn, ulp32, _ = UNARY_CASES[name]
    got = unary(name, x)
    assert got.flags.c_contiguous
    assert_ulp(got, ref(fn, x, dtype=dtype), ulp32 if dtype == np.float32 else 1, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_inplace_and_out(isa, dtype):
    x = rand((129, 3), dtype, 23)
    want = ref(np.exp, x, dtype=dtype)
    assert unary("exp", x, out=x) is x
    assert_ulp(x, want, 2, "exp in place")
    o = np.empty((129, 3), dtype)
    y = rand((3, 129), dtype, 24)
    unary("neg", y.T, out=o)
    assert_same(o, -y.T)
    # out overlapping a differently laid-out input
    z = rand((50,), dtype, 25)
    want = ref(np.negative, z[::-1], dtype=dtype)
    unary("neg", z[::-1], out=z)
    assert_same(z, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p0", [2.0, 0.5, 1.0, -1.0, 3.0, 1.5, 0.0, -0.5])
def test_unary_pow(isa, p0, dtype):
    x = rand((1031,), dtype, 26, 0.0, 4.0)
    assert_ulp(unary("pow", x, p0), ref(lambda v: np.power(v, p0), x, dtype=dtype),
               2, "pow %g" % p0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -2.0, 1.0], dtype)
    assert_same(unary("pow", special, p0),
                ref(lambda v: np.power(v, p0), special, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_special_values(isa, dtype):
    x = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40], dtype)
    for name in ("neg", "abs", "sqrt", "square", "reciprocal", "sign", "exp", "log", "copy"):
        fn = UNARY_CASES[name][2]
        got, want = unary(name, x), ref(fn, x, dtype=dtype)
        assert_ulp(got, want, 0 if name not in ("exp", "log") else 1, name)
        # signs of zeros matter too (1/x, -x, sqrt(-0))
        assert_same(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_semantics(isa, dtype):
    x = np.array([-2.0, 0.0, 2.0, np.nan, np.inf, -np.inf], dtype)
    assert_same(unary("clip", x, -1.0, 1.0), np.clip(x, dtype(-1), dtype(1)))
    # min > max: clip is min(max(x, lo), hi) as documented, like numpy
    assert_same(unary("clip", x, 1.0, -1.0), np.minimum(np.maximum(x, 1), -1).astype(dtype))


def _all_float32_sample(step):
    bits = np.arange(0, 1 << 32, step, dtype=np.uint64).astype(np.uint32)
    return bits.view(np.float32)


def _float32_specials():
    tiny = np.arange(1, 1 << 23, 61, dtype=np.uint32)        # positive denormals
    parts = [tiny.view(np.float32), -tiny.view(np.float32),
             np.array([0.0, -0.0, np.inf, -np.inf, np.nan, np.finfo(np.float32).max,
                       np.finfo(np.float32).tiny, 1.0, -1.0], np.float32)]
    for centre in (88.72283935546875, -87.33654022216797, -103.27893, -103.97208, 0.0, 1.0,
                   0.34657359, -0.34657359):
        c = np.float32(centre).view(np.int32)
        around = np.arange(c - 3000, c + 3000, dtype=np.int32)
        parts.append(around.view(np.float32))
    return np.concatenate(parts)


@pytest.mark.parametrize("name", ["exp", "log"])
def test_exp_log_float32_accuracy(isa, name):
    # vmath.h promises <= 2 ulp against float64 rounded to float32 over the whole
    # float range (checked exhaustively once; here a 1-in-509 sample of all
    # 2^32 bit patterns plus denormals, +-0, +-inf, NaN and the thresholds)
    x = np.concatenate([_all_float32_sample(509), _float32_specials()])
    fn = np.exp if name == "exp" else np.log
    assert_ulp(unary(name, x), ref(fn, x, dtype=np.float32), 2, name)


# ---- reductions ----------------------------------------------------------------

def _axis_combos(nd):
    yield None
    if nd == 0:
        return
    for k in range(1, nd + 1):
        for c in itertools.combinations(range(nd), k):
            yield c
    yield -1
    if nd >= 2:
        yield (-1, 0)


def _reduce_ref(name, x, axis, keepdims, dtype):
    with np.errstate(all="ignore"):
        return np.asarray(NP_REDUCE[name](x.astype(np.float64), axis=axis,
                                          keepdims=keepdims)).astype(dtype)


def _check_reduce(name, x, axis, keepdims):
    dtype = x.dtype.type
    got = reduce(name, x, axis, keepdims)
    want = _reduce_ref(name, x, axis, keepdims, dtype)
    assert got.shape == want.shape, (name, axis, keepdims, got.shape, want.shape)
    assert got.dtype == x.dtype
    if name in ("max", "min"):
        assert_same(got, want)
    else:
        # both sums are exact-ish in float64; the float32 results may differ by
        # the final rounding only
        assert_ulp(got, want, 1 if dtype == np.float32 else 64, "%s axis=%s" % (name, axis))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 1, 17, 3), (1023,), (5, 1), ()])
@pytest.mark.parametrize("name", sorted(R))
def test_reduce_all_axes(isa, name, shape, dtype):
    x = rand(shape, dtype, 30)
    for axis in _axis_combos(len(shape)):
        for keepdims in (False, True):
            _check_reduce(name, x, axis, keepdims)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", ["sum", "max", "mean"])
def test_reduce_noncontiguous(isa, name, view, dtype):
    x = VIEWS[view](rand((37, 41), dtype, 31))
    for axis in (None, 0, 1, (0, 1)):
        _check_reduce(name, x, axis, False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce_empty(dtype):
    x = np.zeros((3, 0, 4), dtype)
    assert_same(reduce("sum", x, 1), np.zeros((3, 4), dtype))
    assert np.isnan(reduce("mean", x, 1)).all()
    assert_same(reduce("sum", x, (0, 2)), np.zeros((0,), dtype))
    assert_same(reduce("max", x, 2), np.zeros((3, 0), dtype))
    assert_same(reduce("sum", x, None), np.zeros((), dtype))
    for name in ("max", "min"):
        with pytest.raises(ValueError, match=r"size 0.*\(3, 0, 4\)"):
            reduce(name, x, 1)
        with pytest.raises(ValueError, match="size 0"):
            reduce(name, x, None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce_nan_inf(isa, dtype):
    x = rand((7, 300), dtype, 32)
    x[1, 0] = np.nan
    x[2, 299] = np.nan
    x[3, 150] = np.inf
    x[4, 10] = -np.inf
    x[5, 5], x[5, 6] = np.inf, -np.inf
    for name in sorted(R):
        for axis in (None, 0, 1):
            _check_reduce(name, x, axis, False)
    # NaN only in a column tail and in the first element of a long row
    y = rand((3000,), dtype, 33)
    y[2999] = np.nan
    for name in ("max", "min", "sum"):
        assert np.isnan(reduce(name, y)), name
    y[2999] = 1.0
    y[0] = np.nan
    assert np.isnan(reduce("max", y)) and np.isnan(reduce("min", y))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 17, 1), (1023,), (7, 1)])
def test_argreduce(isa, shape, dtype):
    # integers in a small range make ties common; the first index must win
    x = np.random.default_rng(34).integers(-3, 4, size=shape).astype(dtype)
    for is_min, fn in ((False, np.argmax), (True, np.argmin)):
        for axis in [None] + list(range(-len(shape), len(shape))):
            for keepdims in (False, True):
                got = argreduce(is_min, x, axis, keepdims)
                want = fn(x, axis=axis, keepdims=keepdims)
                assert got.dtype == np.int64
                assert_same(got, np.asarray(want, np.int64))
        xt = x.T
        assert_same(argreduce(is_min, xt, 0), fn(xt, axis=0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_argreduce_nan_and_errors(isa, dtype):
    x = rand((4, 9), dtype, 35)
    x[1, 3] = np.nan
    x[1, 7] = np.nan
    x[2, 0] = np.nan
    x[3, 4] = np.inf
    for is_min, fn in ((False, np.argmax), (True, np.argmin)):
        for axis in (None, 0, 1):
            assert_same(argreduce(is_min, x, axis), np.asarray(fn(x, axis=axis), np.int64))
    with pytest.raises(ValueError, match="empty"):
        argreduce(False, np.zeros((3, 0), dtype), 1)
    with pytest.raises(ValueError, match="empty"):
        argreduce(True, np.zeros((0,), dtype))
    with pytest.raises(TypeError):
        argreduce(False, x, (0, 1))


def test_reduce_scalar_dim():
    # like PyTorch, a 0-d tensor accepts dim 0 and -1
    x = np.asarray(2.5, np.float32)
    for name in sorted(R):
        for axis in (0, -1, (0,)):
            assert_same(reduce(name, x, axis), x)
    assert argreduce(False, x, 0) == 0
    with pytest.raises(ValueError, match="out of range"):
        reduce("sum", x, 1)


def test_reduce_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="out of range"):
        reduce("sum", x, 2)
    with pytest.raises(ValueError, match="more than once"):
        reduce("sum", x, (0, -2))
    with pytest.raises(TypeError, match="int32"):
        reduce("sum", x.astype(np.int32))
    assert C.normalize_axes(None, 3) == (0, 1, 2)
    assert C.normalize_axes((-1, 0), 3) == (0, 2)


# ---- large sizes: threaded and chunked paths, thread-count independence ----

def _with_threads(threads, n, fn):
    threads(n)
    return fn()


@pytest.mark.skipif(not C.has_openmp(), reason="serial build")
@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_threads_bitwise(isa, threads, dtype):
    n = (1 << 20) + 37
    a, b = rand((n,), dtype, 40), rand((n,), dtype, 41)
    cases = [lambda: B["add"](a, b),
             lambda: B["maximum"](a, np.asarray(0.0, dtype)),
             lambda: B["mul"](a[:1025 * 1023].reshape(1025, -1)[:, ::-1], b[:1023]),
             lambda: unary("exp", a),
             lambda: unary("log", b[::3]),
             lambda: CMP["lt"](a, b)]
    for k, fn in enumerate(cases):
        one = _with_threads(threads, 1, fn)
        two = _with_threads(threads, 2, fn)
        assert one.tobytes() == two.tobytes(), "case %d differs between 1 and 2 threads" % k
    assert_same(cases[0](), ref(np.add, a, b, dtype=dtype))
    assert_same(cases[2](), ref(np.multiply, a[:1025 * 1023].reshape(1025, -1)[:, ::-1],
                                b[:1023], dtype=dtype))


@pytest.mark.skipif(not C.has_openmp(), reason="serial build")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((3_000_017,), None),        # chunked single row
                                        ((2, 400_009), 1),           # chunked, outer > 1
                                        ((600, 1001), 1),            # many rows, threaded
                                        ((1001, 600), 0),            # column tiles
                                        ((3, 70_001, 5), 1),         # column, long r
                                        ((40, 50, 60), (0, 2))])     # non-adjacent
def test_reduce_threads_bitwise(isa, threads, shape, axis, dtype):
    x = rand(shape, dtype, 42, -1.0, 2.0)
    for name in sorted(R):
        got1 = _with_threads(threads, 1, lambda: reduce(name, x, axis))
        got2 = _with_threads(threads, 2, lambda: reduce(name, x, axis))
        assert got1.tobytes() == got2.tobytes(), name
        _check_reduce(name, x, axis, False)
    a1 = _with_threads(threads, 1, lambda: argreduce(False, x, axis if axis != (0, 2) else 0))
    a2 = _with_threads(threads, 2, lambda: argreduce(False, x, axis if axis != (0, 2) else 0))
    assert_same(a1, a2)


@pytest.mark.skipif(C.detected_isa() != "avx512", reason="streaming stores are AVX-512 only")
@pytest.mark.parametrize("offset", [0, 1, 5, 15])
def test_streaming_store_rows(threads, offset):
    # rows of >= 8 MiB of output take the streaming-store path on AVX-512
    # (the other ISAs' large rows are test_elementwise_threads_bitwise's);
    # the output starts `offset` floats past an allocation, so the aligned
    # head and the tail are exercised too
    C.set_isa("avx512")
    n = (1 << 21) + 2 * 16 + 7
    a, b = rand((n,), np.float32, 44), rand((n,), np.float32, 45, 0.5, 2.0)
    buf = np.empty(n + 16, np.float32)
    out = buf[offset:offset + n]
    zero = np.zeros((), np.float32)
    for nt in (1, 2):
        threads(nt)
        for op in ("add", "sub", "mul", "div", "maximum", "minimum"):
            B[op](a, b, out=out)
            assert_same(out, ref(NP_BINARY[op], a, b, dtype=np.float32))
        B["maximum"](a, zero, out=out)
        assert_same(out, np.maximum(a, 0))
        B["mul"](np.asarray(3, np.float32), b, out=out)
        assert_same(out, ref(np.multiply, np.float32(3), b, dtype=np.float32))
        unary("exp", a, out=out)
        assert_ulp(out, ref(np.exp, a, dtype=np.float32), 2, "exp")
        unary("log", b, out=out)
        assert_ulp(out, ref(np.log, b, dtype=np.float32), 2, "log")


def test_large_sum_nan_in_later_chunk(isa):
    x = np.ones(3_000_017, np.float32)
    x[2_900_000] = np.nan
    assert np.isnan(reduce("max", x)) and np.isnan(reduce("sum", x))
    x[2_900_000] = 5.0
    assert reduce("max", x) == 5.0
    assert argreduce(False, x) == 2_900_000


# ---- errors --------------------------------------------------------------------

def test_binary_shape_mismatch_names_both_shapes():
    a, b = np.zeros((3, 4), np.float32), np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(2, 4\)"):
        B["add"](a, b)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(2, 4\)"):
        CMP["eq"](a, b)


@pytest.mark.parametrize("bad", [np.int32, np.float16, np.int64, np.complex64, np.bool_])
def test_wrong_dtype(bad):
    x = np.zeros(4, np.float32)
    y = np.zeros(4, bad)
    with pytest.raises(TypeError, match=np.dtype(bad).name):
        B["add"](x, y)
    with pytest.raises(TypeError, match=np.dtype(bad).name):
        unary("exp", y)
    with pytest.raises(TypeError, match=np.dtype(bad).name):
        reduce("sum", y)


def test_mixed_float_dtypes():
    with pytest.raises(TypeError, match="float32.*float64"):
        B["add"](np.zeros(2, np.float32), np.zeros(2, np.float64))


def test_too_many_dims():
    x = np.zeros((1,) * 9, np.float32)
    with pytest.raises(ValueError, match="at most 8 dims"):
        B["add"](x, x)
    with pytest.raises(ValueError, match="at most 8 dims"):
        unary("neg", x)
    # 8 dims is fine
    y = rand((2,) * 8, np.float32, 43)
    assert_same(B["add"](y, y), y + y)


def test_bad_out():
    a = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        B["add"](a, a, out=np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="float32"):
        B["add"](a, a, out=np.zeros((3, 4), np.float64))
    with pytest.raises(ValueError, match="contiguous"):
        unary("neg", a, out=np.zeros((4, 3), np.float32).T)
    with pytest.raises(TypeError):
        unary("neg", a, out=[0.0])


# ---- random numbers ------------------------------------------------------------

def _rng(kind, shape, seed, stream, offset, a=0.0, b=1.0, dtype=np.float32):
    """The named generator wrapper for kind (rng_uniform, rng_normal, ...)."""
    if kind in ("uniform", "normal"):
        return getattr(C, "rng_" + kind)(shape, seed, stream, offset, a, b, dtype)
    if kind == "randint":
        return C.rng_randint(shape, seed, stream, offset, a, b)
    return C.rng_bernoulli(shape, seed, stream, offset, a)


RNG_KINDS = [("uniform", -2.0, 3.0, np.float32), ("uniform", 0.0, 1.0, np.float64),
             ("normal", 1.0, 2.0, np.float32), ("normal", 0.0, 1.0, np.float64),
             ("randint", -5, 7, np.int64), ("bernoulli", 0.3, 0.0, np.uint8)]


@pytest.mark.parametrize("kind,a,b,dtype", RNG_KINDS)
def test_rng_thread_independent(threads, kind, a, b, dtype):
    n = 1_000_003
    one = _with_threads(threads, 1, lambda: _rng(kind, (n,), 7, 3, 11, a, b, dtype))
    two = _with_threads(threads, 2, lambda: _rng(kind, (n,), 7, 3, 11, a, b, dtype))
    assert one.dtype == np.dtype(dtype)
    assert one.tobytes() == two.tobytes()
    again = _rng(kind, (n,), 7, 3, 11, a, b, dtype)
    assert again.tobytes() == one.tobytes()
    assert _rng(kind, (n,), 8, 3, 11, a, b, dtype).tobytes() != one.tobytes()
    assert _rng(kind, (n,), 7, 4, 11, a, b, dtype).tobytes() != one.tobytes()


@pytest.mark.parametrize("kind,a,b,dtype", RNG_KINDS)
@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 1000, 70_001])
def test_rng_offset_continuity(kind, a, b, dtype, k):
    full = _rng(kind, (200_000,), 123, 9, 0, a, b, dtype)
    part = _rng(kind, (100_001,), 123, 9, k, a, b, dtype)
    assert part.tobytes() == full[k:k + 100_001].tobytes()


def test_rng_uniform_moments():
    n = 2_000_000
    for dtype in (np.float32, np.float64):
        x = _rng("uniform", (n,), 1, 0, 0, -2.0, 3.0, dtype).astype(np.float64)
        assert x.min() >= -2.0 and x.max() < 3.0
        # mean 0.5, var 25/12; tolerances are ~6 standard errors
        assert abs(x.mean() - 0.5) < 6 * np.sqrt(25 / 12 / n)
        assert abs(x.var() - 25 / 12) < 0.01
        hist = np.histogram(x, bins=50, range=(-2, 3))[0]
        assert np.all(np.abs(hist - n / 50) < 6 * np.sqrt(n / 50))


def test_rng_normal_moments():
    n = 2_000_000
    for dtype in (np.float32, np.float64):
        x = _rng("normal", (n,), 2, 0, 0, 1.0, 2.0, dtype).astype(np.float64)
        assert np.isfinite(x).all()
        assert abs(x.mean() - 1.0) < 6 * 2.0 / np.sqrt(n)
        assert abs(x.std() - 2.0) < 0.01
        z = (x - 1.0) / 2.0
        assert abs(np.mean(z ** 3)) < 0.02          # skew
        assert abs(np.mean(z ** 4) - 3.0) < 0.05    # kurtosis
        assert abs(np.mean(np.abs(z) < 1) - 0.6826894921) < 0.003


def test_rng_randint_and_bernoulli():
    n = 1_000_000
    x = _rng("randint", (n,), 3, 0, 0, -5, 7)
    assert x.dtype == np.int64 and x.min() == -5 and x.max() == 6
    counts = np.bincount(x + 5)
    assert np.all(np.abs(counts - n / 12) < 6 * np.sqrt(n / 12))
    for keep in (0.0, 0.1, 0.5, 0.9, 1.0):
        m = _rng("bernoulli", (n,), 4, 0, 0, keep)
        assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1}
        assert abs(m.mean() - keep) < 6 * np.sqrt(keep * (1 - keep) / n) + 1e-12
    with pytest.raises(ValueError, match="greater"):
        _rng("randint", (3,), 0, 0, 0, 5, 5)
    with pytest.raises(TypeError):
        _rng("uniform", (3,), 0, 0, 0, 0.0, 1.0, np.int32)


def test_rng_shapes():
    assert _rng("uniform", (2, 0, 3), 0, 0, 0).shape == (2, 0, 3)
    assert _rng("normal", (3, 4), 0, 0, 0).shape == (3, 4)
    assert _rng("uniform", (), 0, 0, 0).shape == ()


def test_rng_permutation():
    for n in (0, 1, 2, 17, 100_000):
        p = C.rng_permutation(n, 5, 1)
        assert p.dtype == np.int64
        assert_same(np.sort(p), np.arange(n))
        assert_same(C.rng_permutation(n, 5, 1), p)
    p = C.rng_permutation(1000, 5, 1)
    assert not np.array_equal(p, np.arange(1000))
    assert not np.array_equal(p, C.rng_permutation(1000, 6, 1))
    assert not np.array_equal(p, C.rng_permutation(1000, 5, 2))
    # every value lands in every position about equally often
    pos = np.zeros((5, 5))
    for s in range(4000):
        q = C.rng_permutation(5, s, 0)
        pos[np.arange(5), q] += 1
    assert np.all(np.abs(pos - 800) < 6 * np.sqrt(800))
    with pytest.raises(ValueError, match="non-negative"):
        C.rng_permutation(-1, 0, 0)
