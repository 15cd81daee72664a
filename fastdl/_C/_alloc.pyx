# cython: language_level=3, boundscheck=False
"""C-ordered NumPy arrays whose large storage comes from libfastdl's block cache.

Why: glibc gives every large request fresh pages (a new mmap) and unmaps it
on free, so a training step that allocates its activations and gradients
anew page-faults all of them in again; reusing freed blocks makes
memory-bound steps run at memory speed (relu forward + backward over 4M
floats: 5.8 ms with fresh pages, 2.3 ms with reused ones, on 2 cores). Only
fastdl's own buffers are cached; the process's allocator is left alone.

An array of at least _CACHE_MIN bytes holds its block through a small owner
object set as the array's base: the block returns to the cache when the last
array or view using it is gone. fastdl.empty_cache() frees the idle blocks.
"""
import numpy as np
cimport numpy as cnp
from libc.string cimport memset
from cpython.ref cimport PyObject

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    # borrowed reference: reading it does not change the count we test
    PyObject *_base "PyArray_BASE"(cnp.ndarray a)

cdef enum:
    # Below this NumPy's own allocator is as fast (glibc serves it from its heap).
    _CACHE_MIN = 256 * 1024


cdef enum:
    # From here zeroing runs on fastdl's threads: a serial memset of a conv2d
    # backward's input gradient leaves the other threads waiting.
    _ZERO_THREADED_MIN = 1024 * 1024

cdef float _ZERO_F32 = 0.0


cdef void _zero(void *p, size_t n) noexcept nogil:
    """n bytes at p set to 0: float32 +0.0 is all zero bits, so large multiples of 4
    bytes go through the threaded copy kernel from a broadcast 0.0f."""
    cdef int64_t count, stride = 0
    if n < _ZERO_THREADED_MIN or n % 4:
        memset(p, 0, n)
        return
    count = <int64_t>(n // 4)
    if fdl_copy_f32(1, &count, <float *>p, &_ZERO_F32, &stride) != 0:
        memset(p, 0, n)


cdef class _Block:
    """Owner of one cache block; gives it back when the last array using it dies."""
    cdef void *ptr

    def __dealloc__(self):
        fdl_cache_free(self.ptr)


cdef cnp.ndarray _new(int nd, cnp.npy_intp *dims, cnp.dtype dt, bint zero):
    cdef size_t n = dt.itemsize
    cdef int i
    for i in range(nd):
        if dims[i] < 0:
            raise ValueError("fastdl: negative dimension %d in an array shape" % dims[i])
        n *= <size_t>dims[i]
    if n < _CACHE_MIN or not dt.isnative or dt.hasobject:
        shape = tuple([dims[i] for i in range(nd)])
        return np.zeros(shape, dt) if zero else np.empty(shape, dt)
    cdef _Block blk = _Block.__new__(_Block)
    blk.ptr = fdl_cache_alloc(n)
    if blk.ptr == NULL:
        raise MemoryError("fastdl: could not allocate %d bytes for an array" % n)
    if zero:
        with nogil:
            _zero(blk.ptr, n)
    cdef cnp.ndarray a = cnp.PyArray_SimpleNewFromData(nd, dims, dt.type_num, blk.ptr)
    cnp.set_array_base(a, blk)
    return a


cdef cnp.ndarray _cached(tuple shape, cnp.dtype dt, bint zero):
    cdef int nd = len(shape)
    cdef cnp.npy_intp dims[64]
    cdef int i
    if nd > 64:
        raise ValueError("fastdl: an array of %d dimensions (at most 64)" % nd)
    for i in range(nd):
        dims[i] = shape[i]
    return _new(nd, dims, dt, zero)


cdef cnp.ndarray empty_dims(int nd, cnp.npy_intp *dims, int typenum):
    """np.empty of a C shape and a type number (the elementwise wrappers' outputs)."""
    return _new(nd, dims, cnp.PyArray_DescrFromType(typenum), False)


cdef inline tuple _shape(object shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


cpdef cnp.ndarray empty(object shape, object dtype):
    """Like np.empty(shape, dtype) (C order); large arrays come from the cache."""
    return _cached(_shape(shape), np.dtype(dtype), False)


cpdef cnp.ndarray zeros(object shape, object dtype):
    """Like np.zeros(shape, dtype) (C order); large arrays come from the cache."""
    return _cached(_shape(shape), np.dtype(dtype), True)


cpdef cnp.ndarray empty_like(cnp.ndarray a):
    """A C-ordered array of a's shape and dtype, uninitialized."""
    return _cached((<object>a).shape, (<object>a).dtype, False)


cpdef cnp.ndarray zeros_like(cnp.ndarray a):
    """A C-ordered array of a's shape and dtype, zeroed."""
    return _cached((<object>a).shape, (<object>a).dtype, True)


cpdef bint sole_owner(cnp.ndarray a):
    """True when a alone uses its memory, so a gradient may adopt it without a copy.

    a owns its data (NumPy's or a cache block referenced only by a), or a is a
    reshape-like view of the same size whose base chain is referenced only
    through a (a backward rule's `dx.reshape(shape)` once dx is gone).
    """
    cdef PyObject *b
    cdef cnp.ndarray cur = a
    cdef Py_ssize_t n = a.size
    while True:
        b = _base(cur)
        if b == NULL:
            return cnp.PyArray_CHKFLAGS(cur, cnp.NPY_ARRAY_OWNDATA)
        if b.ob_refcnt != 1:
            return False
        if type(<object>b) is _Block:
            return True
        if type(<object>b) is not np.ndarray:
            return False
        cur = <cnp.ndarray>b
        if cur.size != n:
            return False
