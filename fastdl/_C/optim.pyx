# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Fused optimizer updates and gradient-clipping helpers over libfastdl.

Each wrapper checks that the parameter, its gradient and its state buffers
are C-contiguous float32 arrays of one shape that do not overlap, then calls
the C kernel once with the GIL released. Arrays are updated in place.
float32 only: other dtypes raise TypeError (fastdl.optim documents this).
"""
import numpy as np
cimport numpy as cnp
from fastdl._C._status cimport check
from libc.stdint cimport int64_t, uintptr_t

from fastdl._C._core cimport fdl_strerror, FDL_OK

cnp.import_array()




cdef class _Bufs:
    """The arrays of one call: validated pointers and their byte ranges."""
    cdef float *ptr[5]
    cdef uintptr_t lo[5]
    cdef uintptr_t hi[5]
    cdef int k
    cdef int64_t n
    cdef cnp.ndarray ref
    cdef str op

    def __cinit__(self, str op, cnp.ndarray p):
        self.op = op
        self.k = 0
        self.ref = p
        self.n = cnp.PyArray_SIZE(p)

    cdef float *add(self, object a, str name, bint writable, bint required) except? NULL:
        cdef cnp.ndarray arr
        cdef uintptr_t lo, hi
        cdef int j
        if a is None:
            if required:
                raise ValueError("%s: %s is required with these options, got None"
                                 % (self.op, name))
            return NULL
        if not isinstance(a, np.ndarray):
            raise TypeError("%s: %s must be a numpy.ndarray, got %s"
                            % (self.op, name, type(a).__name__))
        arr = <cnp.ndarray>a
        if cnp.PyArray_TYPE(arr) != cnp.NPY_FLOAT32:
            raise TypeError("%s: %s must be float32, got %s (fastdl.optim updates float32 "
                            "parameters only)" % (self.op, name, arr.dtype))
        if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
            raise ValueError("%s: %s must be C-contiguous" % (self.op, name))
        if writable and not cnp.PyArray_ISWRITEABLE(arr):
            raise ValueError("%s: %s is read-only" % (self.op, name))
        if arr is not self.ref and (<object>arr).shape != (<object>self.ref).shape:
            raise ValueError("%s: %s has shape %s, expected the parameter's shape %s"
                             % (self.op, name, (<object>arr).shape, (<object>self.ref).shape))
        lo = <uintptr_t>cnp.PyArray_DATA(arr)
        hi = lo + <uintptr_t>cnp.PyArray_NBYTES(arr)
        # The kernels read and write through restrict pointers: the arrays
        # of one call must not overlap.
        for j in range(self.k):
            if lo < self.hi[j] and self.lo[j] < hi and hi > lo:
                raise ValueError("%s: %s overlaps another array of this update"
                                 % (self.op, name))
        self.ptr[self.k] = <float *>cnp.PyArray_DATA(arr)
        self.lo[self.k] = lo
        self.hi[self.k] = hi
        self.k += 1
        return self.ptr[self.k - 1]


cdef inline cnp.ndarray _param(object p, str op):
    if not isinstance(p, np.ndarray):
        raise TypeError("%s: the parameter must be a numpy.ndarray, got %s"
                        % (op, type(p).__name__))
    return <cnp.ndarray>p


def sgd_step(p, g, momentum_buffer, double lr, double momentum=0.0, double dampening=0.0,
             double weight_decay=0.0, bint nesterov=False, bint maximize=False,
             bint first_step=False):
    """One SGD update of p in place (and of momentum_buffer when momentum != 0)."""
    cdef _Bufs b = _Bufs("sgd_step", _param(p, "sgd_step"))
    cdef float *pp = b.add(p, "param", True, True)
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef float *bp = b.add(momentum_buffer, "momentum_buffer", True, momentum != 0.0)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_sgd_step_f32(pp, bp, gp, n, lr, momentum, dampening, weight_decay,
                          nesterov, maximize, first_step)
    check(st, "sgd_step")


def sgd_step_many(list params, list grads, list momentum_buffers, double lr,
                  double momentum=0.0, double dampening=0.0, double weight_decay=0.0,
                  bint nesterov=False, bint maximize=False):
    """sgd_step over lists of parameters in one call (a multi-tensor SGD step), none of
    them on its first step (momentum_buffers hold the buffers when momentum != 0; pass
    an empty list otherwise). Returns False and changes nothing when an array does not
    fit the fused call (dtype, layout, shape, overlap, read-only): the caller then takes
    the per-parameter path, whose checks name the problem."""
    cdef Py_ssize_t k, n = len(params)
    cdef bint mom = momentum != 0.0
    if len(grads) != n or (mom and len(momentum_buffers) != n):
        raise ValueError("sgd_step_many: the lists must have one entry per parameter")
    cdef cnp.ndarray p
    for k in range(n):
        if not _f32_c(params[k], True, None):
            return False
        p = <cnp.ndarray>params[k]
        if not (_f32_c(grads[k], False, p) and _apart(p, grads[k])):
            return False
        if mom and not (_f32_c(momentum_buffers[k], True, p) and _apart(p, momentum_buffers[k])
                        and _apart(grads[k], momentum_buffers[k])):
            return False
    cdef int st = FDL_OK
    cdef float *pp
    cdef float *bp
    cdef const float *gp
    cdef int64_t m
    for k in range(n):
        p = <cnp.ndarray>params[k]
        pp = <float *>cnp.PyArray_DATA(p)
        gp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grads[k])
        bp = <float *>cnp.PyArray_DATA(<cnp.ndarray>momentum_buffers[k]) if mom else NULL
        m = cnp.PyArray_SIZE(p)
        with nogil:
            st = fdl_sgd_step_f32(pp, bp, gp, m, lr, momentum, dampening, weight_decay,
                                  nesterov, maximize, 0)
        check(st, "sgd_step")
    return True


def adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, double step, double lr,
              double beta1, double beta2, double eps, double weight_decay=0.0,
              bint decoupled=False, bint amsgrad=False, bint maximize=False):
    """One Adam (decoupled=False) or AdamW (decoupled=True) update in place.

    `step` is the step count after this update (1 on the first call)."""
    if not step >= 1:
        raise ValueError("adam_step: step must be >= 1, got %r" % step)
    cdef _Bufs b = _Bufs("adam_step", _param(p, "adam_step"))
    cdef float *pp = b.add(p, "param", True, True)
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef float *mp = b.add(exp_avg, "exp_avg", True, True)
    cdef float *vp = b.add(exp_avg_sq, "exp_avg_sq", True, True)
    cdef float *xp = b.add(max_exp_avg_sq, "max_exp_avg_sq", True, amsgrad)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_adam_step_f32(pp, mp, vp, xp, gp, n, step, lr, beta1, beta2, eps,
                           weight_decay, decoupled, amsgrad, maximize)
    check(st, "adam_step")


cdef bint _f32_c(object a, bint writable, cnp.ndarray like):
    """a is a C-contiguous float32 ndarray of like's shape (like=None: any shape)."""
    if type(a) is not np.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != cnp.NPY_FLOAT32 or not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        return False
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        return False
    if like is not None and not cnp.PyArray_SAMESHAPE(arr, like):
        return False
    return True


cdef inline bint _apart(cnp.ndarray a, cnp.ndarray b):
    cdef uintptr_t alo = <uintptr_t>cnp.PyArray_DATA(a), blo = <uintptr_t>cnp.PyArray_DATA(b)
    cdef uintptr_t ahi = alo + <uintptr_t>cnp.PyArray_NBYTES(a)
    cdef uintptr_t bhi = blo + <uintptr_t>cnp.PyArray_NBYTES(b)
    return not (alo < bhi and blo < ahi and ahi > alo and bhi > blo)


def adam_step_many(list params, list grads, list exp_avgs, list exp_avg_sqs, list max_exp_avg_sqs,
                   list steps, double lr, double beta1, double beta2, double eps,
                   double weight_decay=0.0, bint decoupled=False, bint amsgrad=False,
                   bint maximize=False):
    """adam_step over lists of parameters in one call (a multi-tensor Adam step).

    steps holds each parameter's step count as a 0-d float32 array, incremented
    in place before its update (as the optimizer's state['step']). Returns False
    and changes nothing when an array does not fit the fused call (dtype,
    layout, shape, overlap, read-only): the caller then takes the per-parameter
    path, whose checks name the problem. max_exp_avg_sqs is used with amsgrad
    only (pass an empty list otherwise)."""
    cdef Py_ssize_t k, n = len(params)
    if len(grads) != n or len(exp_avgs) != n or len(exp_avg_sqs) != n or len(steps) != n \
            or (amsgrad and len(max_exp_avg_sqs) != n):
        raise ValueError("adam_step_many: the lists must have one entry per parameter")
    cdef cnp.ndarray p, s
    for k in range(n):
        if not _f32_c(params[k], True, None):
            return False
        p = <cnp.ndarray>params[k]
        if not (_f32_c(grads[k], False, p) and _f32_c(exp_avgs[k], True, p)
                and _f32_c(exp_avg_sqs[k], True, p)
                and (not amsgrad or _f32_c(max_exp_avg_sqs[k], True, p))):
            return False
        if not _f32_c(steps[k], True, None):
            return False
        s = <cnp.ndarray>steps[k]
        if cnp.PyArray_SIZE(s) != 1:
            return False
        if not (_apart(p, grads[k]) and _apart(p, exp_avgs[k]) and _apart(p, exp_avg_sqs[k])
                and _apart(grads[k], exp_avgs[k]) and _apart(grads[k], exp_avg_sqs[k])
                and _apart(exp_avgs[k], exp_avg_sqs[k]) and _apart(p, s)
                and _apart(exp_avgs[k], s) and _apart(exp_avg_sqs[k], s)):
            return False
        if amsgrad and not (_apart(max_exp_avg_sqs[k], p) and _apart(max_exp_avg_sqs[k], grads[k])
                            and _apart(max_exp_avg_sqs[k], exp_avgs[k])
                            and _apart(max_exp_avg_sqs[k], exp_avg_sqs[k])):
            return False
    cdef int st = FDL_OK
    cdef float *sp
    cdef float *pp
    cdef float *mp
    cdef float *vp
    cdef float *xp
    cdef const float *gp
    cdef int64_t m
    cdef double stepd
    for k in range(n):
        p = <cnp.ndarray>params[k]
        pp = <float *>cnp.PyArray_DATA(p)
        gp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grads[k])
        mp = <float *>cnp.PyArray_DATA(<cnp.ndarray>exp_avgs[k])
        vp = <float *>cnp.PyArray_DATA(<cnp.ndarray>exp_avg_sqs[k])
        xp = <float *>cnp.PyArray_DATA(<cnp.ndarray>max_exp_avg_sqs[k]) if amsgrad else NULL
        m = cnp.PyArray_SIZE(p)
        sp = <float *>cnp.PyArray_DATA(<cnp.ndarray>steps[k])
        sp[0] = sp[0] + <float>1.0          # state['step'] += 1, in float32 like _bump_step
        stepd = sp[0]
        with nogil:
            st = fdl_adam_step_f32(pp, mp, vp, xp, gp, m, stepd, lr, beta1, beta2, eps,
                                   weight_decay, decoupled, amsgrad, maximize)
        check(st, "adam_step")
    return True


def rmsprop_step(p, g, square_avg, grad_avg, momentum_buffer, double lr, double alpha,
                 double eps, double weight_decay=0.0, double momentum=0.0,
                 bint centered=False, bint maximize=False):
    """One RMSprop update in place."""
    cdef _Bufs b = _Bufs("rmsprop_step", _param(p, "rmsprop_step"))
    cdef float *pp = b.add(p, "param", True, True)
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef float *sp = b.add(square_avg, "square_avg", True, True)
    cdef float *ap = b.add(grad_avg, "grad_avg", True, centered)
    cdef float *bp = b.add(momentum_buffer, "momentum_buffer", True, momentum > 0.0)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_rmsprop_step_f32(pp, sp, ap, bp, gp, n, lr, alpha, eps, weight_decay,
                              momentum, centered, maximize)
    check(st, "rmsprop_step")


def adagrad_step(p, g, state_sum, double step, double lr, double lr_decay=0.0,
                 double eps=1e-10, double weight_decay=0.0, bint maximize=False):
    """One Adagrad update in place; `step` counts this update (1 first)."""
    if not step >= 1:
        raise ValueError("adagrad_step: step must be >= 1, got %r" % step)
    cdef _Bufs b = _Bufs("adagrad_step", _param(p, "adagrad_step"))
    cdef float *pp = b.add(p, "param", True, True)
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef float *sp = b.add(state_sum, "sum", True, True)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_adagrad_step_f32(pp, sp, gp, n, step, lr, lr_decay, eps, weight_decay, maximize)
    check(st, "adagrad_step")


def adadelta_step(p, g, square_avg, acc_delta, double lr, double rho, double eps,
                  double weight_decay=0.0, bint maximize=False):
    """One Adadelta update in place."""
    cdef _Bufs b = _Bufs("adadelta_step", _param(p, "adadelta_step"))
    cdef float *pp = b.add(p, "param", True, True)
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef float *sp = b.add(square_avg, "square_avg", True, True)
    cdef float *ap = b.add(acc_delta, "acc_delta", True, True)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_adadelta_step_f32(pp, sp, ap, gp, n, lr, rho, eps, weight_decay, maximize)
    check(st, "adadelta_step")


# ---- gradient clipping ---------------------------------------------------

def grad_sq_norm(g):
    """Sum of squares of a float32 array, accumulated in double in a fixed
    order (the same result for any thread count)."""
    cdef _Bufs b = _Bufs("grad_sq_norm", _param(g, "grad_sq_norm"))
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef int64_t n = b.n
    cdef double s
    cdef int st
    with nogil:
        st = fdl_grad_sq_norm_f32(&s, gp, n)
    check(st, "grad_sq_norm")
    return s


def grad_max_abs(g):
    """max |g| of a float32 array (NaN if it holds a NaN; 0 if empty)."""
    cdef _Bufs b = _Bufs("grad_max_abs", _param(g, "grad_max_abs"))
    cdef const float *gp = b.add(g, "grad", False, True)
    cdef int64_t n = b.n
    cdef float m
    cdef int st
    with nogil:
        st = fdl_grad_max_abs_f32(&m, gp, n)
    check(st, "grad_max_abs")
    return m


def grad_scale_(g, float scale):
    """g *= scale in place."""
    cdef _Bufs b = _Bufs("grad_scale_", _param(g, "grad_scale_"))
    cdef float *gp = b.add(g, "grad", True, True)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_grad_scale_f32(gp, n, scale)
    check(st, "grad_scale_")


def grad_clamp_(g, float lo, float hi):
    """g = clip(g, lo, hi) in place."""
    cdef _Bufs b = _Bufs("grad_clamp_", _param(g, "grad_clamp_"))
    cdef float *gp = b.add(g, "grad", True, True)
    cdef int64_t n = b.n
    cdef int st
    with nogil:
        st = fdl_grad_clamp_f32(gp, n, lo, hi)
    check(st, "grad_clamp_")
