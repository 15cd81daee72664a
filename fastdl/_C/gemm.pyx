# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Matrix products over NumPy arrays: matmul (batched, fused bias/ReLU) and a
BLAS-like sgemm.

Operands are passed to C without a copy whenever their last two dims have a
unit stride on either axis (an outer unit stride is read as the transposed
layout) and their batch dims collapse to one stride; anything else is copied
once. The GIL is released once around the C call(s).
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check
from libc.stdint cimport int64_t

from fastdl._C.gemm cimport *
from fastdl._C._core cimport fdl_strerror

cnp.import_array()


cdef inline str _shape(x):
    return str(tuple(x))




cdef bint _span(cnp.ndarray x, char **lo, char **hi):
    """Byte range [lo, hi) that x's elements lie in; False when x is empty."""
    cdef int d
    cdef cnp.npy_intp n, st
    lo[0] = hi[0] = <char *>cnp.PyArray_DATA(x)
    for d in range(cnp.PyArray_NDIM(x)):
        n = cnp.PyArray_DIMS(x)[d]
        if n == 0:
            return False
        st = cnp.PyArray_STRIDES(x)[d] * (n - 1)
        if st < 0:
            lo[0] += st
        else:
            hi[0] += st
    hi[0] += cnp.PyArray_ITEMSIZE(x)
    return True


cdef bint _overlap(cnp.ndarray x, cnp.ndarray y):
    """True when the byte ranges of x and y intersect (cheap, conservative)."""
    cdef char *lx
    cdef char *hx
    cdef char *ly
    cdef char *hy
    if not _span(x, &lx, &hx) or not _span(y, &ly, &hy):
        return False
    return lx < hy and ly < hx


cdef bint _matrix_layout(cnp.ndarray x, int64_t *flip, int64_t *ld):
    """Layout of x's last two dims (R, Cc) as the C kernels read it.

    flip = 0: row-major, element (r, c) at r*ld + c.
    flip = 1: column-major, i.e. x^T is row-major with leading dim ld.
    Returns False when neither holds (the caller copies).
    """
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int64_t R = cnp.PyArray_DIMS(x)[nd - 2]
    cdef int64_t Cc = cnp.PyArray_DIMS(x)[nd - 1]
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(x)
    cdef int64_t sr = cnp.PyArray_STRIDES(x)[nd - 2]
    cdef int64_t sc = cnp.PyArray_STRIDES(x)[nd - 1]
    if R == 0 or Cc == 0:
        # Nothing is read; any valid leading dimension will do.
        flip[0] = 0
        ld[0] = max(Cc, 1)
        return True
    if sr % isz or sc % isz:
        return False
    sr //= isz
    sc //= isz
    if (sc == 1 or Cc <= 1) and (R <= 1 or sr >= max(Cc, 1)):
        flip[0] = 0
        ld[0] = sr if R > 1 else max(Cc, 1)
        return True
    if (sr == 1 or R <= 1) and (Cc <= 1 or sc >= max(R, 1)):
        flip[0] = 1
        ld[0] = sc if Cc > 1 else max(R, 1)
        return True
    return False


cdef bint _batch_stride(cnp.ndarray x, int64_t *stride):
    """One element stride that walks x's batch dims in C order, or False."""
    cdef int nd = cnp.PyArray_NDIM(x)
    cdef int64_t isz = cnp.PyArray_ITEMSIZE(x)
    cdef int64_t s = -1, span = 1, st, n
    cdef int d
    for d in range(nd - 3, -1, -1):
        n = cnp.PyArray_DIMS(x)[d]
        st = cnp.PyArray_STRIDES(x)[d]
        if n == 1:
            continue
        if st % isz:
            return False
        st //= isz
        if s < 0:
            if st < 0:
                return False
            s = st if span == 1 else -2
            if s == -2:
                return False
        elif st != s * span:
            return False
        span *= n
    stride[0] = s if s >= 0 else 0
    return True


cdef cnp.ndarray _operand(cnp.ndarray x, tuple full_shape, int64_t *flip, int64_t *ld,
                          int64_t *stride):
    """x broadcast to full_shape and laid out for C; copies only if needed."""
    if tuple((<object>x).shape) != full_shape:
        x = np.broadcast_to(x, full_shape)
    if not (_matrix_layout(x, flip, ld) and _batch_stride(x, stride)):
        x = np.ascontiguousarray(x)
        _matrix_layout(x, flip, ld)
        _batch_stride(x, stride)
    return x


def matmul(a, b, *, transa=False, transb=False, bias=None, relu=False, out=None):
    """Batched matrix product with a fused bias and ReLU epilogue.

    Args:
        a, b: numpy arrays, both float32 or both float64, ndim >= 2.
        transa, transb: use the transpose of the last two dims of a / b.
        bias: optional (N,) array of the same dtype, added to every row.
        relu: apply max(x, 0) after the bias (NaN stays NaN).
        out: optional C-contiguous array of the result's shape and dtype.

    Shapes:
        a (..., M, K) or (..., K, M) with transa; b (..., K, N) or
        (..., N, K) with transb; result (..., M, N), batch dims broadcast.

    Example:
        >>> matmul(np.ones((2, 3), np.float32), np.ones((4, 3), np.float32),
        ...        transb=True).shape
        (2, 4)
    """
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise TypeError("matmul: expected numpy arrays, got %s and %s"
                        % (type(a).__name__, type(b).__name__))
    cdef cnp.ndarray A = a, B = b
    cdef int typ = cnp.PyArray_TYPE(A)
    if typ != cnp.PyArray_TYPE(B) or (typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64):
        raise TypeError("matmul: expected a and b both float32 or both float64, got %s and %s"
                        % (A.dtype, B.dtype))
    cdef int nda = cnp.PyArray_NDIM(A), ndb = cnp.PyArray_NDIM(B)
    if nda < 2 or ndb < 2:
        raise ValueError("matmul: expected a and b with at least 2 dims, got shapes %s and %s"
                         % (_shape((<object>A).shape), _shape((<object>B).shape)))
    cdef int ta = 1 if transa else 0, tb = 1 if transb else 0
    cdef int64_t M = A.shape[nda - 1] if ta else A.shape[nda - 2]
    cdef int64_t K = A.shape[nda - 2] if ta else A.shape[nda - 1]
    cdef int64_t Kb = B.shape[ndb - 1] if tb else B.shape[ndb - 2]
    cdef int64_t N = B.shape[ndb - 2] if tb else B.shape[ndb - 1]
    if K != Kb:
        raise ValueError(
            "matmul: inner dimensions differ: a %s%s gives K=%d, b %s%s gives K=%d"
            % (_shape((<object>A).shape), " (transa)" if ta else "", K,
               _shape((<object>B).shape), " (transb)" if tb else "", Kb))
    cdef tuple batch
    if nda == 2 and ndb == 2:
        batch = ()
    else:
        try:
            batch = np.broadcast_shapes((<object>A).shape[:nda - 2], (<object>B).shape[:ndb - 2])
        except ValueError:
            raise ValueError("matmul: batch dims do not broadcast: a %s, b %s"
                             % (_shape((<object>A).shape), _shape((<object>B).shape))) from None
    cdef tuple oshape = batch + (M, N) if batch else (M, N)
    cdef cnp.ndarray Bias = None
    if bias is not None:
        if not isinstance(bias, np.ndarray) or cnp.PyArray_TYPE(<cnp.ndarray>bias) != typ:
            raise TypeError("matmul: expected bias as a %s array, got %s"
                            % (A.dtype, getattr(bias, "dtype", type(bias).__name__)))
        if bias.ndim != 1 or bias.shape[0] != N:
            raise ValueError("matmul: expected bias of shape (%d,), got %s"
                             % (N, _shape((<object>bias).shape)))
        Bias = np.ascontiguousarray(bias)
    cdef cnp.ndarray C
    cdef cnp.npy_intp dims[2]
    if out is None:
        if batch:
            C = np.empty(oshape, dtype=A.dtype)
        else:
            dims[0] = M
            dims[1] = N
            C = cnp.PyArray_EMPTY(2, dims, typ, 0)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError("matmul: expected out as a numpy array, got %s" % type(out).__name__)
        C = out
        if cnp.PyArray_TYPE(C) != typ:
            raise TypeError("matmul: expected out of dtype %s, got %s" % (A.dtype, C.dtype))
        if tuple((<object>C).shape) != oshape:
            raise ValueError("matmul: expected out of shape %s, got %s"
                             % (_shape(oshape), _shape((<object>C).shape)))
        if not cnp.PyArray_IS_C_CONTIGUOUS(C) or not C.flags.writeable:
            raise ValueError("matmul: out must be a writeable C-contiguous array")
        if _overlap(C, A) or _overlap(C, B):
            raise ValueError("matmul: out must not overlap a or b")
    cdef int64_t nbatch = 1
    for d in batch:
        nbatch *= d
    if M == 0 or N == 0 or nbatch == 0:
        return C

    cdef int64_t fa = 0, fb = 0, lda = 1, ldb = 1, sa = 0, sb = 0
    if batch:
        A = _operand(A, batch + tuple((<object>A).shape[nda - 2:]), &fa, &lda, &sa)
        B = _operand(B, batch + tuple((<object>B).shape[ndb - 2:]), &fb, &ldb, &sb)
    else:
        if not _matrix_layout(A, &fa, &lda):
            A = np.ascontiguousarray(A)
            _matrix_layout(A, &fa, &lda)
        if not _matrix_layout(B, &fb, &ldb):
            B = np.ascontiguousarray(B)
            _matrix_layout(B, &fb, &ldb)
    ta ^= <int>fa
    tb ^= <int>fb
    cdef fdl_act act = FDL_ACT_RELU if relu else FDL_ACT_NONE
    cdef int st = 0
    cdef int64_t i, sc = M * N
    cdef char *pa = <char *>cnp.PyArray_DATA(A)
    cdef char *pb = <char *>cnp.PyArray_DATA(B)
    cdef char *pc = <char *>cnp.PyArray_DATA(C)
    cdef char *pbias = <char *>cnp.PyArray_DATA(Bias) if Bias is not None else NULL
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            st = fdl_sgemm_strided_batched_ex(
                ta, tb, M, N, K, 1.0, <const float *>pa, lda, sa,
                <const float *>pb, ldb, sb, 0.0, <float *>pc, N, sc, nbatch,
                <const float *>pbias, act)
    else:
        with nogil:
            for i in range(nbatch):
                st = fdl_dgemm_ex(ta, tb, M, N, K, 1.0,
                                  (<const double *>pa) + i * sa, lda,
                                  (<const double *>pb) + i * sb, ldb, 0.0,
                                  (<double *>pc) + i * sc, N, <const double *>pbias, act)
                if st != 0:
                    break
    check(st, "matmul")
    return C


cdef int64_t _ld_rowmajor(cnp.ndarray x, str name) except -1:
    cdef int64_t flip = 0, ld = 1
    if (cnp.PyArray_TYPE(x) != cnp.NPY_FLOAT32 or cnp.PyArray_NDIM(x) != 2):
        raise TypeError("sgemm: expected %s as a 2-D float32 array, got %s %s"
                        % (name, x.dtype, _shape((<object>x).shape)))
    if not _matrix_layout(x, &flip, &ld) or flip:
        raise ValueError("sgemm: %s must have a unit inner stride, got strides %s"
                         % (name, _shape((<object>x).strides)))
    return ld


cdef tuple _sgemm_operands(A, B, C, bint ta, bint tb, str op):
    """Check A, B, C for C = op(A) @ op(B); returns (M, N, K, lda, ldb, ldc)."""
    for name, x in (("A", A), ("B", B), ("C", C)):
        if not isinstance(x, np.ndarray):
            raise TypeError("%s: expected %s as a numpy array, got %s"
                            % (op, name, type(x).__name__))
    cdef cnp.ndarray a = A, b = B, c = C
    cdef int64_t lda = _ld_rowmajor(a, "A"), ldb = _ld_rowmajor(b, "B"), ldc = _ld_rowmajor(c, "C")
    if not c.flags.writeable:
        raise ValueError("%s: C must be writeable" % op)
    cdef int64_t M = c.shape[0], N = c.shape[1]
    cdef int64_t K = a.shape[0] if ta else a.shape[1]
    exp_a = (K, M) if ta else (M, K)
    exp_b = (N, K) if tb else (K, N)
    if tuple((<object>a).shape) != exp_a or tuple((<object>b).shape) != exp_b:
        raise ValueError("%s: with C %s, expected A %s and B %s, got A %s and B %s"
                         % (op, _shape((<object>c).shape), _shape(exp_a), _shape(exp_b),
                            _shape((<object>a).shape), _shape((<object>b).shape)))
    return M, N, K, lda, ldb, ldc


def sgemm(transa, transb, alpha, A, B, beta, C):
    """In-place BLAS sgemm on 2-D float32 arrays: C = alpha*op(A)@op(B) + beta*C.

    Each array needs a unit inner stride; its row stride is its leading
    dimension, so sub-matrix views are used in place.

    Shapes:
        A (M, K) or (K, M) with transa; B (K, N) or (N, K) with transb; C (M, N).

    Example:
        >>> C = np.zeros((2, 2), np.float32)
        >>> sgemm(False, False, 1.0, np.eye(2, dtype=np.float32), C + 1, 0.0, C)
    """
    cdef int ta = 1 if transa else 0, tb = 1 if transb else 0
    cdef int64_t M, N, K, lda, ldb, ldc
    M, N, K, lda, ldb, ldc = _sgemm_operands(A, B, C, ta, tb, "sgemm")
    cdef cnp.ndarray a = A, b = B, c = C
    cdef float al = alpha, be = beta
    cdef const float *pa = <const float *>cnp.PyArray_DATA(a)
    cdef const float *pb = <const float *>cnp.PyArray_DATA(b)
    cdef float *pc = <float *>cnp.PyArray_DATA(c)
    cdef int st
    with nogil:
        st = fdl_sgemm(ta, tb, M, N, K, al, pa, lda, pb, ldb, be, pc, ldc)
    check(st, "sgemm")


def sgemm_ref(transa, transb, alpha, A, B, beta, C, bias=None, relu=False):
    """fdl_sgemm_ref (the C oracle) with sgemm's conventions; for tests."""
    cdef int ta = 1 if transa else 0, tb = 1 if transb else 0
    cdef int64_t M, N, K, lda, ldb, ldc
    M, N, K, lda, ldb, ldc = _sgemm_operands(A, B, C, ta, tb, "sgemm_ref")
    cdef cnp.ndarray a = A, b = B, c = C
    cdef cnp.ndarray bi = None if bias is None else np.ascontiguousarray(bias, np.float32)
    if bi is not None and bi.size != N:
        raise ValueError("sgemm_ref: expected bias of %d elements, got shape %s"
                         % (N, _shape((<object>bi).shape)))
    cdef float *pbias = NULL if bi is None else <float *>cnp.PyArray_DATA(bi)
    check(fdl_sgemm_ref(ta, tb, M, N, K, alpha, <const float *>cnp.PyArray_DATA(a), lda,
                         <const float *>cnp.PyArray_DATA(b), ldb, beta,
                         <float *>cnp.PyArray_DATA(c), ldc, pbias,
                         FDL_ACT_RELU if relu else FDL_ACT_NONE), "sgemm_ref")


def kernel_name(dtype="float32"):
    """Name of the sgemm (or, for dtype float64, dgemm) micro-kernel of the active ISA."""
    if np.dtype(dtype) == np.float64:
        return fdl_dgemm_kernel_name().decode()
    return fdl_sgemm_kernel_name().decode()


def blocking(dtype="float32"):
    """The active ISA's GEMM blocking for float32 or float64, as a dict.

    Keys mr, nr (register tile), mc, kc, nc (cache blocks, in elements) and
    l1d, l2, l3 (the cache sizes in bytes they were derived from; 0 when the
    CPU reports none and the compiled defaults are used).
    """
    cdef int64_t out[8]
    check(fdl_gemm_blocking_info(1 if np.dtype(dtype) == np.float64 else 0, out), "blocking")
    return dict(zip(("mr", "nr", "mc", "kc", "nc", "l1d", "l2", "l3"),
                    [int(out[i]) for i in range(8)]))


def fma_loop(int64_t iters, int nthreads):
    """Run the fp32 FMA peak probe; returns the flops done (time it)."""
    cdef int64_t r
    with nogil:
        r = fdl_fma_loop(iters, nthreads)
    return r
