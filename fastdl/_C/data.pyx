# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Data-pipeline kernels over NumPy arrays: row gather (one call per batch
array) and seeded augmentation of float32 NCHW batches.

Each wrapper checks dtypes and shapes, raises a clear exception, allocates
the output, then calls the C kernel once with the GIL released. The random
wrappers return the drawn per-sample parameters beside the output.
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check
from libc.stdint cimport int64_t, uint64_t, uint8_t

from fastdl._C.data cimport *
from fastdl._C._core cimport fdl_strerror

from fastdl._intcheck import check_int64_range

cnp.import_array()




# ---- gather ------------------------------------------------------------------

cdef bint _rows_contiguous(cnp.ndarray x):
    """True when each x[i] is one C-contiguous block (x[0] may be strided)."""
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int d
    cdef int64_t expect = cnp.PyArray_ITEMSIZE(x)
    for d in range(nd - 1, 0, -1):
        if cnp.PyArray_DIMS(x)[d] != 1 and cnp.PyArray_STRIDES(x)[d] != expect:
            return False
        expect *= cnp.PyArray_DIMS(x)[d]
    return True


def as_index(idx, str op="gather_rows"):
    """idx as a C-contiguous int64 array (no copy when it already is one)."""
    cdef cnp.ndarray a = np.asarray(idx)
    if a.dtype.kind not in "iu":
        if a.size == 0 and a.dtype.kind == "f":
            return np.zeros((<object>a).shape, dtype=np.int64)
        raise TypeError("%s: indices must be integers, got dtype %s" % (op, a.dtype))
    check_int64_range(a, op)
    return np.ascontiguousarray(a, dtype=np.int64)


def gather_rows(cnp.ndarray src not None, idx, out=None):
    """out[i] = src[idx[i]] for a 1-D integer idx: NumPy's src[idx], in one C call.

    Works for any dtype without Python objects and any trailing shape; a
    negative index counts from the end; an index out of range raises
    IndexError before anything is written.

    Args:
        src: a NumPy array with at least 1 dim.
        idx: 1-D integer indices into src's first dim.
        out: optional preallocated output of shape (len(idx),) + src.shape[1:].

    Shapes:
        src (N, *), idx (B,) -> out (B, *).

    Example:
        >>> src = np.arange(12, dtype=np.float32).reshape(4, 3)
        >>> fastdl.data.gather_rows(src, np.array([3, 0, -1]))
        array([[ 9., 10., 11.],
               [ 0.,  1.,  2.],
               [ 9., 10., 11.]], dtype=float32)
    """
    if cnp.PyArray_NDIM(src) < 1:
        raise ValueError("gather_rows: src must have at least 1 dim, got a 0-d array")
    if src.dtype.hasobject:
        raise TypeError("gather_rows: arrays of Python objects are not supported (dtype %s)"
                        % src.dtype)
    cdef cnp.ndarray ix = as_index(idx)
    if cnp.PyArray_NDIM(ix) != 1:
        raise ValueError("gather_rows: idx must be 1-D, got shape %s" % ((<object>ix).shape,))
    if not _rows_contiguous(src):
        src = np.ascontiguousarray(src)
    cdef int64_t n = cnp.PyArray_DIMS(ix)[0]
    cdef int64_t rows = cnp.PyArray_DIMS(src)[0]
    cdef int64_t stride = cnp.PyArray_STRIDES(src)[0]
    shape = (n,) + (<object>src).shape[1:]
    cdef cnp.ndarray o
    if out is None:
        o = np.empty(shape, dtype=src.dtype)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError("gather_rows: out must be a numpy array, got %s" % type(out).__name__)
        o = <cnp.ndarray>out
        if (<object>o).shape != shape or o.dtype != src.dtype or not cnp.PyArray_IS_C_CONTIGUOUS(o):
            raise ValueError("gather_rows: out must be C-contiguous with shape %s and dtype %s, "
                             "got %s %s" % (shape, src.dtype, (<object>o).shape, o.dtype))
        if not cnp.PyArray_ISWRITEABLE(o):
            raise ValueError("gather_rows: out is read-only (its writeable flag is off)")
    cdef int64_t row_bytes = cnp.PyArray_ITEMSIZE(src)
    cdef int d
    for d in range(1, cnp.PyArray_NDIM(src)):
        row_bytes *= cnp.PyArray_DIMS(src)[d]
    cdef void *po = cnp.PyArray_DATA(o)
    cdef void *ps = cnp.PyArray_DATA(src)
    cdef int64_t *pi = <int64_t *>cnp.PyArray_DATA(ix)
    cdef int st
    with nogil:
        st = fdl_gather_rows(po, ps, pi, n, rows, stride, row_bytes)
    if st != 0:
        bad = ix[(ix < -rows) | (ix >= rows)]
        if bad.size:
            raise IndexError("gather_rows: index %d is out of bounds for %d rows (%d bad "
                             "indices)" % (bad[0], rows, bad.size))
        check(st, "gather_rows")
    return o


# ---- image batches -------------------------------------------------------------

cdef cnp.ndarray _batch(x, str op):
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: expected a numpy array, got %s" % (op, type(x).__name__))
    cdef cnp.ndarray a = <cnp.ndarray>x
    if a.dtype != np.float32:
        raise TypeError("%s: expected float32 images, got dtype %s" % (op, a.dtype))
    if cnp.PyArray_NDIM(a) != 4:
        raise ValueError("%s: expected a batch of shape (N, C, H, W), got shape %s"
                         % (op, (<object>a).shape))
    return np.ascontiguousarray(a)


cdef cnp.ndarray _per_sample(v, int64_t n, dtype, str op, str what, int64_t width=1):
    cdef cnp.ndarray a = np.ascontiguousarray(v, dtype=dtype)
    want = (<object>n,) if width == 1 else (<object>n, <object>width)
    if (<object>a).shape != want:
        raise ValueError("%s: %s must have shape %s, got %s" % (op, what, want, (<object>a).shape))
    return a


def rotate(x, angles, float fill=0.0):
    """Rotate each image of x (N, C, H, W) counter-clockwise by angles[i] degrees."""
    cdef cnp.ndarray xa = _batch(x, "rotate")
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef cnp.ndarray an = _per_sample(angles, N, np.float32, "rotate", "angles")
    if not np.isfinite(an).all():
        raise ValueError("rotate: angles must be finite, got %s" % an[~np.isfinite(an)][:3])
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef float *pa = <float *>cnp.PyArray_DATA(an)
    cdef int st = 0
    with nogil:
        st = fdl_rotate_f32(po, px, pa, N, C, H, W, fill)
    check(st, "rotate")
    return o


def flip(x, flags, int dim):
    """Flip the images of x (N, C, H, W) along dim 3 (W) or 2 (H) where flags != 0 (None: all)."""
    cdef cnp.ndarray xa = _batch(x, "flip")
    if dim not in (2, 3):
        raise ValueError("flip: dim must be 2 (vertical) or 3 (horizontal), got %d" % dim)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef cnp.ndarray fl
    cdef uint8_t *pf = NULL
    if flags is not None:
        fl = _per_sample(np.asarray(flags) != 0, N, np.uint8, "flip", "flags")
        pf = <uint8_t *>cnp.PyArray_DATA(fl)
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef int st
    with nogil:
        st = fdl_flip_f32(po, px, pf, N, C, H, W, dim)
    check(st, "flip")
    return o


cdef tuple _pads(padding, str op):
    """(top, bottom, left, right) from an int, (left/right, top/bottom) or (l, t, r, b),
    as torchvision's padding argument."""
    if padding is None:
        return (0, 0, 0, 0)
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        pads = (p, p, p, p)
    else:
        padding = tuple(int(v) for v in padding)
        if len(padding) == 2:
            pads = (padding[1], padding[1], padding[0], padding[0])
        elif len(padding) == 4:
            pads = (padding[1], padding[3], padding[0], padding[2])
        else:
            raise ValueError("%s: padding must be an int or a sequence of 2 or 4 ints, got %r"
                             % (op, padding))
    if min(pads) < 0:
        raise ValueError("%s: padding must be non-negative, got %r" % (op, padding))
    return pads


def crop(x, offsets, size, padding=None, float fill=0.0):
    """Crop windows of size (OH, OW) at offsets (N, 2) = (top, left) in padded coordinates."""
    cdef cnp.ndarray xa = _batch(x, "crop")
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef int64_t OH = size[0], OW = size[1]
    pt, pb, pl, pr = _pads(padding, "crop")
    cdef cnp.ndarray off = _per_sample(offsets, N, np.int64, "crop", "offsets", 2)
    if N and (off[:, 0].min() < 0 or off[:, 0].max() > H + pt + pb - OH
              or off[:, 1].min() < 0 or off[:, 1].max() > W + pl + pr - OW):
        raise ValueError("crop: offsets must keep the %dx%d window inside the padded %dx%d image"
                         % (OH, OW, H + pt + pb, W + pl + pr))
    cdef cnp.ndarray o = np.empty((N, C, OH, OW), dtype=np.float32)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef int64_t *poff = <int64_t *>cnp.PyArray_DATA(off)
    cdef int64_t t_ = pt, l_ = pl
    cdef int st = 0
    with nogil:
        st = fdl_crop_f32(po, px, poff, N, C, H, W, OH, OW, t_, l_, fill)
    check(st, "crop")
    return o


def random_rotation(x, float min_deg, float max_deg, float fill, uint64_t seed, uint64_t stream):
    """(out, angles): angles[i] ~ U[min_deg, max_deg) from Philox (seed, stream, i)."""
    cdef cnp.ndarray xa = _batch(x, "random_rotation")
    if not (max_deg >= min_deg and np.isfinite(min_deg) and np.isfinite(max_deg)):
        raise ValueError("random_rotation: degrees must be (min, max) with min <= max, got (%g, %g)"
                         % (min_deg, max_deg))
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef cnp.ndarray an = np.empty(N, dtype=np.float32)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef float *pa = <float *>cnp.PyArray_DATA(an)
    cdef int st = 0
    with nogil:
        st = fdl_random_rotation_f32(po, pa, px, N, C, H, W, min_deg, max_deg, fill, seed, stream)
    check(st, "random_rotation")
    return o, an


def random_flip(x, int dim, float p, uint64_t seed, uint64_t stream):
    """(out, flags): flags[i] = 1 with probability p from Philox (seed, stream, i)."""
    cdef cnp.ndarray xa = _batch(x, "random_flip")
    if dim not in (2, 3):
        raise ValueError("random_flip: dim must be 2 (vertical) or 3 (horizontal), got %d" % dim)
    if not 0.0 <= p <= 1.0:
        raise ValueError("random_flip: p must be in [0, 1], got %g" % p)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef cnp.ndarray fl = np.empty(N, dtype=np.uint8)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef uint8_t *pf = <uint8_t *>cnp.PyArray_DATA(fl)
    cdef int st
    with nogil:
        st = fdl_random_flip_f32(po, pf, px, N, C, H, W, dim, p, seed, stream)
    check(st, "random_flip")
    return o, fl.astype(bool)


def random_crop(x, size, padding, float fill, uint64_t seed, uint64_t stream):
    """(out, offsets): (top, left) of each window uniform from Philox (seed, stream, i)."""
    cdef cnp.ndarray xa = _batch(x, "random_crop")
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3]
    cdef int64_t OH = size[0], OW = size[1]
    cdef int64_t pt, pb, pl, pr
    pt, pb, pl, pr = _pads(padding, "random_crop")
    if OH < 1 or OW < 1 or OH > H + pt + pb or OW > W + pl + pr:
        raise ValueError("random_crop: crop size (%d, %d) does not fit the padded image (%d, %d)"
                         % (OH, OW, H + pt + pb, W + pl + pr))
    cdef cnp.ndarray o = np.empty((N, C, OH, OW), dtype=np.float32)
    cdef cnp.ndarray off = np.empty((N, 2), dtype=np.int64)
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef int64_t *poff = <int64_t *>cnp.PyArray_DATA(off)
    cdef int st
    with nogil:
        st = fdl_random_crop_f32(po, poff, px, N, C, H, W, OH, OW, pt, pb, pl, pr, fill,
                                 seed, stream)
    check(st, "random_crop")
    return o, off


def gaussian_noise(x, float std, uint64_t seed, uint64_t stream):
    """x + std * N(0, 1), the normal of element i from Philox (seed, stream, i).

    float32, any shape."""
    if not isinstance(x, np.ndarray) or (<cnp.ndarray>x).dtype != np.float32:
        raise TypeError("gaussian_noise: expected a float32 numpy array, got %s"
                        % getattr(x, "dtype", type(x).__name__))
    if not std >= 0.0:
        raise ValueError("gaussian_noise: std must be non-negative, got %g" % std)
    cdef cnp.ndarray xa = np.ascontiguousarray(x)
    cdef cnp.ndarray o = np.empty_like(xa)
    cdef int64_t n = xa.size
    cdef float *po = <float *>cnp.PyArray_DATA(o)
    cdef float *px = <float *>cnp.PyArray_DATA(xa)
    cdef int st = 0
    with nogil:
        st = fdl_gaussian_noise_f32(po, px, n, std, seed, stream)
    check(st, "gaussian_noise")
    return o
