# cython: language_level=3, boundscheck=False, cdivision=True
"""Runtime, elementwise, reduction and RNG wrappers over libfastdl.

Each wrapper checks dtypes and shapes, raises a clear exception, allocates
the output, then calls the C kernel once with the GIL released.
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check, by_dtype
from fastdl._C cimport _alloc
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




# ---- shapes and dtypes ---------------------------------------------------

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
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError("%s: out is read-only (its writeable flag is off)" % op)
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


# One dispatch helper per signature: it checks, allocates, forks on the
# dtype once and calls the named C function it is given; each public wrapper
# below is one line that names its fdl_* functions.
ctypedef int (*bin32_t)(int, const int64_t *, float *, const float *, const int64_t *,
                        const float *, const int64_t *) noexcept nogil
ctypedef int (*bin64_t)(int, const int64_t *, double *, const double *, const int64_t *,
                        const double *, const int64_t *) noexcept nogil
ctypedef int (*cmp32_t)(int, const int64_t *, uint8_t *, const float *, const int64_t *,
                        const float *, const int64_t *) noexcept nogil
ctypedef int (*cmp64_t)(int, const int64_t *, uint8_t *, const double *, const int64_t *,
                        const double *, const int64_t *) noexcept nogil
ctypedef int (*un32_t)(int, const int64_t *, float *, const float *,
                       const int64_t *) noexcept nogil
ctypedef int (*un64_t)(int, const int64_t *, double *, const double *,
                       const int64_t *) noexcept nogil
ctypedef int (*unp32_t)(int, const int64_t *, float *, const float *, const int64_t *,
                        float, float) noexcept nogil
ctypedef int (*unp64_t)(int, const int64_t *, double *, const double *, const int64_t *,
                        double, double) noexcept nogil


cdef object _binary(cnp.ndarray a, cnp.ndarray b, object out, str name,
                    bin32_t f32, bin64_t f64):
    """out = a <op> b with NumPy broadcasting; a and b share a float dtype."""
    cdef int64_t shape[8]
    cdef int64_t as_[8]
    cdef int64_t bs[8]
    cdef int nd = _binary_layout(a, b, shape, as_, bs, name)
    cdef int t = cnp.PyArray_TYPE(a)
    cdef cnp.ndarray o
    cdef int st
    if out is None:
        o = _alloc.empty_dims(nd, <cnp.npy_intp *>shape, t)
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
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, nd, shape, po, pa, as_, pb, bs)
    check(st, name)
    return o


cdef object _compare(cnp.ndarray a, cnp.ndarray b, str name, cmp32_t f32, cmp64_t f64):
    """bool array of a <cmp> b with NumPy broadcasting."""
    cdef int64_t shape[8]
    cdef int64_t as_[8]
    cdef int64_t bs[8]
    cdef int nd = _binary_layout(a, b, shape, as_, bs, name)
    cdef int t = cnp.PyArray_TYPE(a)
    cdef int st
    cdef cnp.ndarray o = cnp.PyArray_EMPTY(nd, <cnp.npy_intp *>shape, cnp.NPY_BOOL, 0)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *pa = cnp.PyArray_DATA(a)
    cdef void *pb = cnp.PyArray_DATA(b)
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, nd, shape, <uint8_t *>po, pa, as_, pb, bs)
    check(st, name)
    return o


cdef object _unary(cnp.ndarray x, object out, str name, un32_t f32, un64_t f64,
                   unp32_t p32=NULL, unp64_t p64=NULL, double p0=0.0, double p1=0.0):
    """out = f(x) (or f(x; p0, p1) through p32/p64) for any strides of x."""
    if x is None:
        raise TypeError("%s: expected a numpy array, got None" % name)
    cdef int t = _float_type(x, name)
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int64_t shape[8]
    cdef int64_t xs[8]
    cdef int d, st
    if nd > FDL_MAX_DIMS:
        raise ValueError("%s: at most %d dims are supported, got shape %s"
                         % (name, FDL_MAX_DIMS, (<object>x).shape))
    for d in range(nd):
        shape[d] = cnp.PyArray_DIMS(x)[d]
    _elem_strides(x, xs, nd, shape, name)
    cdef cnp.ndarray o
    if out is None:
        o = _alloc.empty_dims(nd, <cnp.npy_intp *>shape, t)
    else:
        o = _check_out(out, nd, shape, t, name)
        if _unsafe_alias(x, xs, o, nd, shape):
            x = np.array(x)
            _elem_strides(x, xs, nd, shape, name)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *px = cnp.PyArray_DATA(x)
    with nogil:
        if p32 != NULL:
            st = by_dtype(t != cnp.NPY_FLOAT32, p64, p32, nd, shape, po, px, xs, p0, p1)
        else:
            st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, nd, shape, po, px, xs)
    check(st, name)
    return o


cdef int _pow_scalar_f32(int nd, const int64_t *shape, float *out, const float *x,
                         const int64_t *xs, float p, float unused) noexcept nogil:
    return fdl_pow_scalar_f32(nd, shape, out, x, xs, p)


cdef int _pow_scalar_f64(int nd, const int64_t *shape, double *out, const double *x,
                         const int64_t *xs, double p, double unused) noexcept nogil:
    return fdl_pow_scalar_f64(nd, shape, out, x, xs, p)


def add(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """a + b with NumPy broadcasting (fdl_add_f32/_f64)."""
    return _binary(a, b, out, "add", fdl_add_f32, fdl_add_f64)


def sub(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """a - b with NumPy broadcasting (fdl_sub_f32/_f64)."""
    return _binary(a, b, out, "sub", fdl_sub_f32, fdl_sub_f64)


def mul(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """a * b with NumPy broadcasting (fdl_mul_f32/_f64)."""
    return _binary(a, b, out, "mul", fdl_mul_f32, fdl_mul_f64)


def div(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """a / b with NumPy broadcasting (fdl_div_f32/_f64)."""
    return _binary(a, b, out, "div", fdl_div_f32, fdl_div_f64)


def pow(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """a ** b with NumPy broadcasting (fdl_pow_f32/_f64)."""
    return _binary(a, b, out, "pow", fdl_pow_f32, fdl_pow_f64)


def maximum(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """elementwise max, NaN-propagating with NumPy broadcasting (fdl_maximum_f32/_f64)."""
    return _binary(a, b, out, "maximum", fdl_maximum_f32, fdl_maximum_f64)


def minimum(cnp.ndarray a not None, cnp.ndarray b not None, out=None):
    """elementwise min, NaN-propagating with NumPy broadcasting (fdl_minimum_f32/_f64)."""
    return _binary(a, b, out, "minimum", fdl_minimum_f32, fdl_minimum_f64)


def eq(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a == b with NumPy broadcasting (fdl_eq_f32/_f64)."""
    return _compare(a, b, "eq", fdl_eq_f32, fdl_eq_f64)


def ne(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a != b with NumPy broadcasting (fdl_ne_f32/_f64)."""
    return _compare(a, b, "ne", fdl_ne_f32, fdl_ne_f64)


def lt(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a < b with NumPy broadcasting (fdl_lt_f32/_f64)."""
    return _compare(a, b, "lt", fdl_lt_f32, fdl_lt_f64)


def le(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a <= b with NumPy broadcasting (fdl_le_f32/_f64)."""
    return _compare(a, b, "le", fdl_le_f32, fdl_le_f64)


def gt(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a > b with NumPy broadcasting (fdl_gt_f32/_f64)."""
    return _compare(a, b, "gt", fdl_gt_f32, fdl_gt_f64)


def ge(cnp.ndarray a not None, cnp.ndarray b not None):
    """bool array of a >= b with NumPy broadcasting (fdl_ge_f32/_f64)."""
    return _compare(a, b, "ge", fdl_ge_f32, fdl_ge_f64)


def neg(cnp.ndarray x not None, out=None):
    """neg(x) elementwise, any strides of x (fdl_neg_f32/_f64)."""
    return _unary(x, out, "neg", fdl_neg_f32, fdl_neg_f64)


def exp(cnp.ndarray x not None, out=None):
    """exp(x) elementwise, any strides of x (fdl_exp_f32/_f64)."""
    return _unary(x, out, "exp", fdl_exp_f32, fdl_exp_f64)


def log(cnp.ndarray x not None, out=None):
    """log(x) elementwise, any strides of x (fdl_log_f32/_f64)."""
    return _unary(x, out, "log", fdl_log_f32, fdl_log_f64)


def sqrt(cnp.ndarray x not None, out=None):
    """sqrt(x) elementwise, any strides of x (fdl_sqrt_f32/_f64)."""
    return _unary(x, out, "sqrt", fdl_sqrt_f32, fdl_sqrt_f64)


def abs(cnp.ndarray x not None, out=None):
    """abs(x) elementwise, any strides of x (fdl_abs_f32/_f64)."""
    return _unary(x, out, "abs", fdl_abs_f32, fdl_abs_f64)


def square(cnp.ndarray x not None, out=None):
    """square(x) elementwise, any strides of x (fdl_square_f32/_f64)."""
    return _unary(x, out, "square", fdl_square_f32, fdl_square_f64)


def reciprocal(cnp.ndarray x not None, out=None):
    """reciprocal(x) elementwise, any strides of x (fdl_reciprocal_f32/_f64)."""
    return _unary(x, out, "reciprocal", fdl_reciprocal_f32, fdl_reciprocal_f64)


def sign(cnp.ndarray x not None, out=None):
    """sign(x) elementwise, any strides of x (fdl_sign_f32/_f64)."""
    return _unary(x, out, "sign", fdl_sign_f32, fdl_sign_f64)


def copy(cnp.ndarray x not None, out=None):
    """copy(x) elementwise, any strides of x (fdl_copy_f32/_f64)."""
    return _unary(x, out, "copy", fdl_copy_f32, fdl_copy_f64)


def pow_scalar(cnp.ndarray x not None, double p, out=None):
    """x ** p for a scalar p (fdl_pow_scalar_f32/_f64)."""
    return _unary(x, out, "pow", NULL, NULL, _pow_scalar_f32, _pow_scalar_f64, p, 0.0)


def clip(cnp.ndarray x not None, double lo, double hi, out=None):
    """min(max(x, lo), hi); NaN stays NaN (fdl_clip_f32/_f64)."""
    return _unary(x, out, "clip", NULL, NULL, fdl_clip_f32, fdl_clip_f64, lo, hi)


def affine(cnp.ndarray x not None, double scale, double shift, out=None):
    """scale * x + shift (fdl_affine_f32/_f64)."""
    return _unary(x, out, "affine", NULL, NULL, fdl_affine_f32, fdl_affine_f64, scale, shift)


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


ctypedef int (*red32_t)(int64_t, int64_t, int64_t, float *, const float *) noexcept nogil
ctypedef int (*red64_t)(int64_t, int64_t, int64_t, double *, const double *) noexcept nogil
ctypedef int (*arg32_t)(int64_t, int64_t, int64_t, int64_t *, const float *) noexcept nogil
ctypedef int (*arg64_t)(int64_t, int64_t, int64_t, int64_t *, const double *) noexcept nogil


cdef object _reduce(cnp.ndarray x, object axis, bint keepdims, str name, bint needs_item,
                    red32_t f32, red64_t f64):
    """The reduction over `axis` (int, tuple or None); needs_item: max/min (no identity)."""
    if x is None:
        raise TypeError("%s: expected a numpy array, got None" % name)
    cdef int t = _float_type(x, name)
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef cnp.ndarray o
    cdef int64_t n
    cdef int st
    cdef void *po
    cdef void *px
    if axis is None and not keepdims and cnp.PyArray_IS_C_CONTIGUOUS(x) and \
            (cnp.PyArray_SIZE(x) > 0 or not needs_item):
        # the common loss.mean() / x.sum() case, without the tuple work below
        # (about 1.9 -> 0.3 us per call on 10 elements)
        n = cnp.PyArray_SIZE(x)
        o = cnp.PyArray_EMPTY(0, NULL, t, 0)
        po = cnp.PyArray_DATA(o)
        px = cnp.PyArray_DATA(x)
        with nogil:
            st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, 1, n, 1, po, px)
        check(st, name)
        return o
    cdef int64_t r0
    cdef cnp.npy_intp c0
    if nd == 2 and not keepdims and cnp.PyArray_IS_C_CONTIGUOUS(x) and \
            ((type(axis) is tuple and len(<tuple>axis) == 1 and type((<tuple>axis)[0]) is int
              and (<tuple>axis)[0] == 0) or (type(axis) is int and axis == 0)) and \
            (x.shape[0] > 0 or not needs_item):
        # over the rows of a C-contiguous matrix (Linear's bias gradient): the shapes the
        # general path below would compute, without its tuple work
        r0 = x.shape[0]
        c0 = x.shape[1]
        o = _alloc.empty_dims(1, &c0, t)
        po = cnp.PyArray_DATA(o)
        px = cnp.PyArray_DATA(x)
        with nogil:
            st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, 1, r0, c0, po, px)
        check(st, name)
        return o
    axes = normalize_axes(axis, nd, name)
    shape = (<object>x).shape
    if needs_item:
        for d in axes:
            if shape[d] == 0:
                raise ValueError("%s: cannot reduce over dim %d of size 0 (shape %s); "
                                 "max/min have no identity" % (name, d, shape))
    xc, outer, r, inner = _as_orI(x, axes, name)
    cdef cnp.ndarray xa = <cnp.ndarray>xc
    oshape = _out_shape(shape, axes, keepdims)
    o = _alloc.empty(oshape, x.dtype)
    cdef int64_t o_ = outer, r_ = r, i_ = inner
    po = cnp.PyArray_DATA(o)
    px = cnp.PyArray_DATA(xa)
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, o_, r_, i_, po, px)
    check(st, name)
    return o


def sum(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """Sum over `axis` (int, tuple or None), double accumulation (fdl_sum_f32/_f64)."""
    return _reduce(x, axis, keepdims, "sum", False, fdl_sum_f32, fdl_sum_f64)


def mean(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """Mean over `axis`; NaN over an empty axis (fdl_mean_f32/_f64)."""
    return _reduce(x, axis, keepdims, "mean", False, fdl_mean_f32, fdl_mean_f64)


def amax(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """Max over `axis`, NaN-propagating (fdl_amax_f32/_f64)."""
    return _reduce(x, axis, keepdims, "max", True, fdl_amax_f32, fdl_amax_f64)


def amin(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """Min over `axis`, NaN-propagating (fdl_amin_f32/_f64)."""
    return _reduce(x, axis, keepdims, "min", True, fdl_amin_f32, fdl_amin_f64)


cdef object _argreduce(cnp.ndarray x, object axis, bint keepdims, str name,
                       arg32_t f32, arg64_t f64):
    """Index of the max/min over one axis, or over the flattened array."""
    cdef int t = _float_type(x, name)
    cdef int st
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
    cdef cnp.ndarray o = _alloc.empty(oshape, np.int64)
    cdef int64_t o_ = outer, r_ = r, i_ = inner
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *px = cnp.PyArray_DATA(xa)
    with nogil:
        st = by_dtype(t != cnp.NPY_FLOAT32, f64, f32, o_, r_, i_, <int64_t *>po, px)
    check(st, name)
    return o


def argmax(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """First index of the max (or of the first NaN) (fdl_argmax_f32/_f64)."""
    return _argreduce(x, axis, keepdims, "argmax", fdl_argmax_f32, fdl_argmax_f64)


def argmin(cnp.ndarray x not None, axis=None, bint keepdims=False):
    """First index of the min (or of the first NaN) (fdl_argmin_f32/_f64)."""
    return _argreduce(x, axis, keepdims, "argmin", fdl_argmin_f32, fdl_argmin_f64)


# ---- random numbers --------------------------------------------------------

cdef cnp.ndarray _float_out(shape, dtype, str op):
    dt = np.dtype(dtype)
    if dt != np.float32 and dt != np.float64:
        raise TypeError("%s: expected a float dtype, got %s" % (op, dt))
    return _alloc.empty(shape, dt)


def rng_uniform(shape, uint64_t seed, uint64_t stream, uint64_t offset, double low=0.0,
                double high=1.0, dtype=np.float32):
    """A new array uniform in [low, high) from the counter-based generator (fdl_rng_uniform_f32/_f64)."""
    cdef cnp.ndarray o = _float_out(shape, dtype, "uniform")
    cdef int64_t n = o.size
    cdef void *p = cnp.PyArray_DATA(o)
    cdef bint d = cnp.PyArray_TYPE(o) == cnp.NPY_FLOAT64
    cdef int st
    with nogil:
        st = by_dtype(d, fdl_rng_uniform_f64, fdl_rng_uniform_f32, p, n, seed, stream, offset, low,
                      high)
    check(st, "uniform")
    return o


def rng_normal(shape, uint64_t seed, uint64_t stream, uint64_t offset, double mean=0.0,
               double std=1.0, dtype=np.float32):
    """A new array of normal(mean, std) draws (fdl_rng_normal_f32/_f64)."""
    cdef cnp.ndarray o = _float_out(shape, dtype, "normal")
    cdef int64_t n = o.size
    cdef void *p = cnp.PyArray_DATA(o)
    cdef bint d = cnp.PyArray_TYPE(o) == cnp.NPY_FLOAT64
    cdef int st
    with nogil:
        st = by_dtype(d, fdl_rng_normal_f64, fdl_rng_normal_f32, p, n, seed, stream, offset, mean,
                      std)
    check(st, "normal")
    return o


def rng_randint(shape, uint64_t seed, uint64_t stream, uint64_t offset, double low, double high):
    """A new int64 array uniform in [int(low), int(high)) (fdl_rng_randint)."""
    cdef int64_t lo = <int64_t>low, hi = <int64_t>high
    if hi <= lo:
        raise ValueError("randint: high (%d) must be greater than low (%d)" % (hi, lo))
    cdef cnp.ndarray o = _alloc.empty(shape, np.int64)
    cdef int64_t n = o.size
    cdef void *p = cnp.PyArray_DATA(o)
    cdef int st
    with nogil:
        st = fdl_rng_randint(<int64_t *>p, n, seed, stream, offset, lo, hi)
    check(st, "randint")
    return o


def rng_bernoulli(shape, uint64_t seed, uint64_t stream, uint64_t offset, double p):
    """A new uint8 0/1 array, 1 with probability p (fdl_rng_bernoulli)."""
    cdef cnp.ndarray o = _alloc.empty(shape, np.uint8)
    cdef int64_t n = o.size
    cdef void *po = cnp.PyArray_DATA(o)
    cdef int st
    with nogil:
        st = fdl_rng_bernoulli(<uint8_t *>po, n, seed, stream, offset, <float>p)
    check(st, "bernoulli")
    return o


def rng_permutation(int64_t n, uint64_t seed, uint64_t stream):
    if n < 0:
        raise ValueError("randperm: n must be non-negative, got %d" % n)
    cdef cnp.ndarray o = _alloc.empty(n, np.int64)
    cdef void *p = cnp.PyArray_DATA(o)
    cdef int st
    with nogil:
        st = fdl_rng_permutation(<int64_t *>p, n, seed, stream)
    check(st, "randperm")
    return o
