# cython: language_level=3, boundscheck=False, cdivision=True
"""Runtime, elementwise, reduction and RNG wrappers over libfastdl.

Each wrapper checks dtypes and shapes, raises a clear exception, allocates
the output, then calls the C kernel once with the GIL released.
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t, uint8_t

cnp.import_array()

# ---- runtime -------------------------------------------------------------

ISA_NAMES = ("generic", "avx2", "avx512")


def detected_isa():
    """Best ISA this CPU supports: 'avx512', 'avx2' or 'generic'."""
    return fdl_isa_name(fdl_detected_isa()).decode()


def get_isa():
    """ISA the kernels use now."""
    return fdl_isa_name(fdl_active_isa()).decode()


def isa_env_status():
    """0 when FASTDL_ISA was honoured (or unset), else a negative status."""
    return fdl_isa_env_status()


def set_isa(name):
    """Force the kernel path: 'avx512', 'avx2' or 'generic'."""
    cdef int isa = fdl_isa_from_name(str(name).encode())
    if isa < 0:
        raise ValueError("set_isa: expected one of %s, got %r" % (ISA_NAMES, name))
    cdef int st = fdl_set_isa(<fdl_isa>isa)
    if st == FDL_ERR_ISA:
        raise RuntimeError("set_isa: this CPU does not support %r (detected: %s)"
                           % (name, detected_isa()))
    check(st, "set_isa")


def set_num_threads(int n):
    fdl_set_num_threads(n)


def get_num_threads():
    return fdl_get_num_threads()


def has_openmp():
    return bool(fdl_has_openmp())


def compiler():
    return fdl_compiler().decode()


def version():
    return fdl_version().decode()


def omp_wait_policy():
    """OMP_WAIT_POLICY / GOMP_SPINCOUNT as the OpenMP runtime read them at load."""
    return fdl_omp_wait_policy().decode()


def empty_cache():
    """Free the idle blocks of libfastdl's scratch pool (GEMM packing buffers)."""
    fdl_empty_cache()


def cached_bytes():
    """Bytes held by idle blocks of libfastdl's scratch pool."""
    return fdl_cached_bytes()


cdef int check(int status, str op) except -1:
    if status != FDL_OK:
        raise RuntimeError("%s: %s (status %d)" % (op, fdl_strerror(status).decode(), status))
    return 0


# ---- shapes and dtypes ---------------------------------------------------

UNARY_OPS = {"neg": 0, "exp": 1, "log": 2, "sqrt": 3, "abs": 4, "square": 5,
             "reciprocal": 6, "pow": 7, "clip": 8, "sign": 9, "copy": 10, "affine": 11}
BINARY_OPS = {"add": 0, "sub": 1, "mul": 2, "div": 3, "pow": 4, "maximum": 5, "minimum": 6}
COMPARE_OPS = {"eq": 0, "ne": 1, "lt": 2, "le": 3, "gt": 4, "ge": 5}
REDUCE_OPS = {"sum": 0, "mean": 1, "max": 2, "min": 3}

cdef list _UNARY_NAMES = sorted(UNARY_OPS, key=UNARY_OPS.get)
cdef list _BINARY_NAMES = sorted(BINARY_OPS, key=BINARY_OPS.get)
cdef list _COMPARE_NAMES = sorted(COMPARE_OPS, key=COMPARE_OPS.get)
cdef list _REDUCE_NAMES = sorted(REDUCE_OPS, key=REDUCE_OPS.get)


cdef inline int _float_type(cnp.ndarray x, str op) except -1:
    cdef int t = cnp.PyArray_TYPE(x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("%s: expected float32 or float64 data, got %s" % (op, x.dtype))
    return t


cdef inline int _elem_strides(cnp.ndarray x, int64_t *out, int nd, const int64_t *oshape,
                              str op) except -1:
    """Element strides of x broadcast (right-aligned) to oshape[nd]."""
    cdef int xd = cnp.PyArray_NDIM(x)
    cdef int off = nd - xd
    cdef int d
    cdef int64_t item = cnp.PyArray_ITEMSIZE(x)
    cdef cnp.npy_intp *sh = cnp.PyArray_DIMS(x)
    cdef cnp.npy_intp *st = cnp.PyArray_STRIDES(x)
    for d in range(nd):
        if d < off or sh[d - off] == 1:
            out[d] = 0
        else:
            if st[d - off] % item != 0:
                raise ValueError("%s: strides %s are not a multiple of the item size"
                                 % (op, (<object>x).strides))
            out[d] = st[d - off] // item
    return 0


cdef inline int _broadcast_shape(cnp.ndarray a, cnp.ndarray b, int64_t *shape, str op) except -1:
    cdef int na = cnp.PyArray_NDIM(a), nb = cnp.PyArray_NDIM(b)
    cdef int nd = na if na > nb else nb
    cdef int d
    cdef int64_t da, db
    if nd > FDL_MAX_DIMS:
        raise ValueError("%s: at most %d dims are supported, got shapes %s and %s"
                         % (op, FDL_MAX_DIMS, (<object>a).shape, (<object>b).shape))
    for d in range(nd):
        da = cnp.PyArray_DIMS(a)[d - (nd - na)] if d >= nd - na else 1
        db = cnp.PyArray_DIMS(b)[d - (nd - nb)] if d >= nd - nb else 1
        if da == db or db == 1:
            shape[d] = da
        elif da == 1:
            shape[d] = db
        else:
            raise ValueError("%s: shapes %s and %s cannot be broadcast together"
                             % (op, (<object>a).shape, (<object>b).shape))
    return nd


cdef inline cnp.ndarray _check_out(object out, int nd, int64_t *shape, int typenum, str op):
    cdef int d
    if not isinstance(out, np.ndarray):
        raise TypeError("%s: out must be a numpy array, got %s" % (op, type(out).__name__))
    cdef cnp.ndarray o = <cnp.ndarray>out
    want = tuple(shape[d] for d in range(nd))
    if (<object>o).shape != want or cnp.PyArray_TYPE(o) != typenum:
        raise ValueError("%s: out must have shape %s and dtype %s, got %s %s"
                         % (op, want, np.dtype(cnp.PyArray_TypeObjectFromType(typenum)),
                            (<object>o).shape, (<object>o).dtype))
    if not cnp.PyArray_IS_C_CONTIGUOUS(o):
        raise ValueError("%s: out must be C-contiguous" % op)
    return o


cdef inline bint _unsafe_alias(cnp.ndarray x, const int64_t *xs, cnp.ndarray o, int nd,
                               const int64_t *shape):
    """True when x overlaps out in any way other than being out itself.

    The kernels read and write in one pass, so out may alias an input only
    when that input has out's data pointer and C-contiguous layout (the
    in-place case). Any other overlap (a reversed, transposed, shifted or
    broadcast view of out's memory) would read values already overwritten.
    """
    cdef char *xp = <char *>cnp.PyArray_DATA(x)
    cdef char *op = <char *>cnp.PyArray_DATA(o)
    cdef int64_t item = cnp.PyArray_ITEMSIZE(x)
    cdef int64_t lo = 0, hi = item, step, contig = 1
    cdef int d
    for d in range(nd):
        if shape[d] == 0:
            return False
    for d in range(nd):
        step = xs[d] * item * (shape[d] - 1)
        if step < 0:
            lo += step
        else:
            hi += step
    if xp + hi <= op or op + cnp.PyArray_NBYTES(o) <= xp + lo:
        return False
    if xp != op:
        return True
    for d in range(nd - 1, -1, -1):
        if shape[d] != 1 and xs[d] != contig:
            return True
        contig *= shape[d]
    return False


# ---- elementwise ---------------------------------------------------------

cdef inline int _binary_layout(cnp.ndarray a, cnp.ndarray b, int64_t *shape, int64_t *as_,
                               int64_t *bs, str name) except -1:
    """Check the dtypes, broadcast, and fill shape/strides; returns nd (the dtype is a's)."""
    cdef int t = _float_type(a, name)
    if _float_type(b, name) != t:
        raise TypeError("%s: dtypes differ: %s and %s" % (name, a.dtype, b.dtype))
    cdef int nd = _broadcast_shape(a, b, shape, name)
    _elem_strides(a, as_, nd, shape, name)
    _elem_strides(b, bs, nd, shape, name)
    return nd


def binary(int op, cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """out = a <op> b with NumPy broadcasting; a and b share a float dtype."""
    cdef str name = _BINARY_NAMES[op] if 0 <= op < len(_BINARY_NAMES) else "binary"
    cdef int64_t shape[8]
    cdef int64_t as_[8]
    cdef int64_t bs[8]
    cdef int nd = _binary_layout(a, b, shape, as_, bs, name)
    cdef int t = cnp.PyArray_TYPE(a)
    cdef cnp.ndarray o
    if out is None:
        o = cnp.PyArray_EMPTY(nd, <cnp.npy_intp *>shape, t, 0)
    else:
        o = _check_out(out, nd, shape, t, name)
        if _unsafe_alias(a, as_, o, nd, shape):
            a = np.array(a)
            _elem_strides(a, as_, nd, shape, name)
        if _unsafe_alias(b, bs, o, nd, shape):
            b = np.array(b)
            _elem_strides(b, bs, nd, shape, name)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fdl_binary_f32(op, nd, shape, <float *>po, <float *>pa, as_, <float *>pb, bs)
        else:
            fdl_binary_f64(op, nd, shape, <double *>po, <double *>pa, as_, <double *>pb, bs)
    return o


def compare(int op, cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a <cmp> b with NumPy broadcasting."""
    cdef str name = _COMPARE_NAMES[op] if 0 <= op < len(_COMPARE_NAMES) else "compare"
    cdef int64_t shape[8]
    cdef int64_t as_[8]
    cdef int64_t bs[8]
    cdef int nd = _binary_layout(a, b, shape, as_, bs, name)
    cdef int t = cnp.PyArray_TYPE(a)
    cdef cnp.ndarray o = cnp.PyArray_EMPTY(nd, <cnp.npy_intp *>shape, cnp.NPY_BOOL, 0)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fdl_compare_f32(op, nd, shape, <uint8_t *>po, <float *>pa, as_, <float *>pb, bs)
        else:
            fdl_compare_f64(op, nd, shape, <uint8_t *>po, <double *>pa, as_, <double *>pb, bs)
    return o


def unary(int op, cnp.ndarray x not None, double p0=0.0, double p1=0.0, out=None):
    """out = f(x; p0, p1) for any strides of x; out is C-contiguous."""
    cdef str name = _UNARY_NAMES[op] if 0 <= op < len(_UNARY_NAMES) else "unary"
    cdef int t = _float_type(x, name)
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int64_t shape[8]
    cdef int64_t xs[8]
    cdef int d
    if nd > FDL_MAX_DIMS:
        raise ValueError("%s: at most %d dims are supported, got shape %s"
                         % (name, FDL_MAX_DIMS, (<object>x).shape))
    for d in range(nd):
        shape[d] = cnp.PyArray_DIMS(x)[d]
    _elem_strides(x, xs, nd, shape, name)
    cdef cnp.ndarray o
    if out is None:
        o = cnp.PyArray_EMPTY(nd, <cnp.npy_intp *>shape, t, 0)
    else:
        o = _check_out(out, nd, shape, t, name)
        if _unsafe_alias(x, xs, o, nd, shape):
            x = np.array(x)
            _elem_strides(x, xs, nd, shape, name)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *px = cnp.PyArray_DATA(x)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fdl_unary_f32(op, nd, shape, <float *>po, <float *>px, xs, <float>p0, <float>p1)
        else:
            fdl_unary_f64(op, nd, shape, <double *>po, <double *>px, xs, p0, p1)
    return o


# ---- reductions ------------------------------------------------------------

def normalize_axes(axis, int ndim, str op="reduce"):
    """Sorted tuple of non-negative axes; None means all."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for ax in axis:
        ax = int(ax)
        # like PyTorch, a 0-d tensor accepts dim 0 / -1 (reducing nothing)
        if ndim == 0 and ax in (0, -1):
            continue
        if ax < -ndim or ax >= ndim:
            raise ValueError("%s: dim %d is out of range for a tensor of %d dims"
                             % (op, ax, ndim))
        ax = ax % ndim
        if ax in out:
            raise ValueError("%s: dim %d appears more than once" % (op, ax))
        out.append(ax)
    return tuple(sorted(out))


cdef tuple _as_orI(cnp.ndarray x, tuple axes, str op):
    """View x as [outer, r, inner] C-contiguous; returns (array, outer, r, inner)."""
    shape = (<object>x).shape
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int64_t outer = 1, r = 1, inner = 1
    cdef int d
    if nd == 0:
        return (np.ascontiguousarray(x), 1, 1, 1)
    contiguous_axes = axes == tuple(range(axes[0], axes[-1] + 1)) if axes else True
    if not axes:
        for d in range(nd):
            outer *= shape[d]
        return (np.ascontiguousarray(x), outer, 1, 1)
    if contiguous_axes:
        xc = np.ascontiguousarray(x)
        for d in range(nd):
            if d < axes[0]:
                outer *= shape[d]
            elif d <= axes[-1]:
                r *= shape[d]
            else:
                inner *= shape[d]
        return (xc, outer, r, inner)
    kept = tuple(d for d in range(nd) if d not in axes)
    xc = np.ascontiguousarray(np.transpose(x, kept + axes))
    for d in kept:
        outer *= shape[d]
    for d in axes:
        r *= shape[d]
    return (xc, outer, r, 1)


def _out_shape(shape, tuple axes, bint keepdims):
    if keepdims:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


def reduce(int op, cnp.ndarray x not None, axis=None, bint keepdims=False):
    """sum / mean / max / min over `axis` (int, tuple or None)."""
    cdef str name = _REDUCE_NAMES[op] if 0 <= op < len(_REDUCE_NAMES) else "reduce"
    cdef int t = _float_type(x, name)
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef cnp.ndarray o
    cdef int64_t n
    cdef void *po
    cdef void *px
    if axis is None and not keepdims and cnp.PyArray_IS_C_CONTIGUOUS(x) and \
            (cnp.PyArray_SIZE(x) > 0 or op < 2):
        # the common loss.mean() / x.sum() case, without the tuple work below
        # (about 1.9 -> 0.3 us per call on 10 elements)
        n = cnp.PyArray_SIZE(x)
        o = cnp.PyArray_EMPTY(0, NULL, t, 0)
        po = cnp.PyArray_DATA(o)
        px = cnp.PyArray_DATA(x)
        with nogil:
            if t == cnp.NPY_FLOAT32:
                fdl_reduce_f32(op, 1, n, 1, <float *>po, <float *>px)
            else:
                fdl_reduce_f64(op, 1, n, 1, <double *>po, <double *>px)
        return o
    axes = normalize_axes(axis, nd, name)
    shape = (<object>x).shape
    if op >= 2:
        for d in axes:
            if shape[d] == 0:
                raise ValueError("%s: cannot reduce over dim %d of size 0 (shape %s); "
                                 "max/min have no identity" % (name, d, shape))
    xc, outer, r, inner = _as_orI(x, axes, name)
    cdef cnp.ndarray xa = <cnp.ndarray>xc
    oshape = _out_shape(shape, axes, keepdims)
    o = np.empty(oshape, dtype=x.dtype)
    cdef int64_t o_ = outer, r_ = r, i_ = inner
    po = cnp.PyArray_DATA(o)
    px = cnp.PyArray_DATA(xa)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fdl_reduce_f32(op, o_, r_, i_, <float *>po, <float *>px)
        else:
            fdl_reduce_f64(op, o_, r_, i_, <double *>po, <double *>px)
    return o


def argreduce(bint is_min, cnp.ndarray x not None, axis=None, bint keepdims=False):
    """argmax (is_min=False) / argmin over one axis, or the flattened array."""
    cdef str name = "argmin" if is_min else "argmax"
    cdef int t = _float_type(x, name)
    shape = (<object>x).shape
    if axis is None:
        xa_obj = np.ascontiguousarray(x).reshape(-1)
        axes = (0,)
        oshape = (1,) * len(shape) if keepdims else ()
    else:
        if not isinstance(axis, (int, np.integer)):
            raise TypeError("%s: dim must be an int or None, got %r" % (name, axis))
        axes = normalize_axes(axis, cnp.PyArray_NDIM(x), name)
        xa_obj = x
        oshape = _out_shape(shape, axes, keepdims)
    if (<object>xa_obj).shape[axes[0]] == 0 if (<object>xa_obj).ndim else False:
        raise ValueError("%s: cannot take %s over an empty dim (shape %s)" % (name, name, shape))
    xc, outer, r, inner = _as_orI(<cnp.ndarray>xa_obj, axes, name)
    cdef cnp.ndarray xa = <cnp.ndarray>xc
    cdef cnp.ndarray o = np.empty(oshape, dtype=np.int64)
    cdef int64_t o_ = outer, r_ = r, i_ = inner
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *px = cnp.PyArray_DATA(xa)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fdl_argreduce_f32(is_min, o_, r_, i_, <int64_t *>po, <float *>px)
        else:
            fdl_argreduce_f64(is_min, o_, r_, i_, <int64_t *>po, <double *>px)
    return o


# ---- random numbers --------------------------------------------------------

def rng_fill(str kind, shape, uint64_t seed, uint64_t stream, uint64_t offset,
             double a=0.0, double b=1.0, dtype=np.float32):
    """Fill a new array from the counter-based generator.

    kind: 'uniform' in [a, b), 'normal' (mean a, std b), 'randint' in [a, b),
    'bernoulli' (keep probability a, uint8 0/1).
    """
    dt = np.dtype(dtype)
    cdef cnp.ndarray o
    cdef int64_t n
    cdef void *p
    cdef int64_t lo, hi
    if kind == "randint":
        lo, hi = <int64_t>a, <int64_t>b
        if hi <= lo:
            raise ValueError("randint: high (%d) must be greater than low (%d)" % (hi, lo))
        o = np.empty(shape, dtype=np.int64)
    elif kind == "bernoulli":
        o = np.empty(shape, dtype=np.uint8)
    elif dt == np.float32 or dt == np.float64:
        o = np.empty(shape, dtype=dt)
    else:
        raise TypeError("%s: expected a float dtype, got %s" % (kind, dt))
    n = o.size
    p = cnp.PyArray_DATA(o)
    if kind == "uniform":
        with nogil:
            if cnp.PyArray_TYPE(o) == cnp.NPY_FLOAT32:
                fdl_rng_uniform(<float *>p, n, seed, stream, offset, <float>a, <float>b)
            else:
                fdl_rng_uniform_f64(<double *>p, n, seed, stream, offset, a, b)
    elif kind == "normal":
        with nogil:
            if cnp.PyArray_TYPE(o) == cnp.NPY_FLOAT32:
                fdl_rng_normal(<float *>p, n, seed, stream, offset, <float>a, <float>b)
            else:
                fdl_rng_normal_f64(<double *>p, n, seed, stream, offset, a, b)
    elif kind == "randint":
        with nogil:
            fdl_rng_randint(<int64_t *>p, n, seed, stream, offset, lo, hi)
    elif kind == "bernoulli":
        with nogil:
            fdl_rng_bernoulli(<uint8_t *>p, n, seed, stream, offset, <float>a)
    else:
        raise ValueError("rng_fill: unknown kind %r" % kind)
    return o


def rng_permutation(int64_t n, uint64_t seed, uint64_t stream):
    if n < 0:
        raise ValueError("randperm: n must be non-negative, got %d" % n)
    cdef cnp.ndarray o = np.empty(n, dtype=np.int64)
    cdef void *p = cnp.PyArray_DATA(o)
    with nogil:
        fdl_rng_permutation(<int64_t *>p, n, seed, stream)
    return o
