"""Numerically stable softmax / log_softmax along any dim (see ``softmax.pxd``).

A task is one block of up to ``INNER_BLOCK`` neighbouring lines of one outer
index: for ``dim`` last (inner == 1) a task is a single contiguous line; for
an inner dim the block's lines are processed together, walking rows of
``INNER_BLOCK`` contiguous values so the loads stay sequential.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.string cimport memcpy

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32, view_of,
)
from jitcore._runtime.kernels.strided cimport is_dense_output, is_real_dtype, same_shape
from jitcore._runtime.kernels.scalar_math cimport fmath_exp, fmath_log
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()

cdef enum:
    INNER_BLOCK = 64


ctypedef struct SoftmaxProblem:
    Py_ssize_t outer, length, inner, blocks_per_outer
    bint log


cdef void softmax_block(const SoftmaxProblem* sp, const real* x, real* out,
                        Py_ssize_t task) noexcept nogil:
    if sp.inner == 1 and not sp.log:
        # a contiguous line along the last dim: the vectorised line softmax
        if out + task * sp.length != x + task * sp.length:
            memcpy(out + task * sp.length, x + task * sp.length, sp.length * sizeof(real))
        softmax_line(out + task * sp.length, sp.length)
        return
    softmax_block_strided(sp, x, out, task)


cdef void softmax_block_strided(const SoftmaxProblem* sp, const real* x, real* out,
                                Py_ssize_t task) noexcept nogil:
    cdef Py_ssize_t o = task // sp.blocks_per_outer
    cdef Py_ssize_t i0 = (task % sp.blocks_per_outer) * INNER_BLOCK
    cdef Py_ssize_t width = sp.inner - i0 if sp.inner - i0 < INNER_BLOCK else INNER_BLOCK
    cdef Py_ssize_t base = o * sp.length * sp.inner + i0
    cdef Py_ssize_t l, i
    cdef real peak[INNER_BLOCK]
    cdef double total[INNER_BLOCK]
    cdef real e, shift
    cdef const real* src
    cdef real* dst
    for i in range(width):
        peak[i] = -INFINITY
        total[i] = 0
    for l in range(sp.length):
        src = x + base + l * sp.inner
        for i in range(width):
            if src[i] > peak[i]:
                peak[i] = src[i]
    for i in range(width):
        # an all -inf line would give inf - inf; shift by 0 instead (ATen's choice)
        if peak[i] == -INFINITY:
            peak[i] = 0
    for l in range(sp.length):
        src = x + base + l * sp.inner
        dst = out + base + l * sp.inner
        for i in range(width):
            e = fmath_exp(src[i] - peak[i])
            total[i] += e
            if not sp.log:
                dst[i] = e
    for i in range(width):
        if sp.log:
            # log_softmax = (x - max) - log(sum); subtracting the max first
            # keeps the digits that adding log(sum) to a large max would lose
            total[i] = fmath_log(total[i])
        else:
            total[i] = 1.0 / total[i]
    for l in range(sp.length):
        src = x + base + l * sp.inner
        dst = out + base + l * sp.inner
        for i in range(width):
            if sp.log:
                dst[i] = <real>((src[i] - peak[i]) - total[i])
            else:
                dst[i] = <real>(dst[i] * total[i])


cdef Status run_softmax(const SoftmaxProblem* sp, const real* x, real* out) noexcept nogil:
    cdef Py_ssize_t tasks = sp.outer * sp.blocks_per_outer
    cdef Py_ssize_t task
    cdef int nt = threads_for(sp.outer * sp.length * sp.inner * 4)
    if nt <= 1 or tasks < 2:
        for task in range(tasks):
            softmax_block(sp, x, out, task)
    else:
        for task in prange(tasks, nogil=True, num_threads=nt, schedule='static'):
            softmax_block(sp, x, out, task)
    return JC_OK


cdef Status softmax_any(const View* x, int dim, View* out, bint log) noexcept nogil:
    cdef SoftmaxProblem sp
    cdef int d, ndim = x.ndim if x.ndim > 0 else 1
    if not is_real_dtype(x.dtype) or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if not same_shape(x, out):
        return JC_ERR_SHAPE
    if dim < -ndim or dim >= ndim:
        return JC_ERR_VALUE
    if dim < 0:
        dim += ndim
    if not is_dense_output(x) or not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    sp.outer = 1
    sp.inner = 1
    sp.length = x.shape[dim] if x.ndim > 0 else 1
    for d in range(x.ndim):
        if d < dim:
            sp.outer *= x.shape[d]
        elif d > dim:
            sp.inner *= x.shape[d]
    sp.blocks_per_outer = (sp.inner + INNER_BLOCK - 1) // INNER_BLOCK
    sp.log = log
    if sp.outer * sp.length * sp.inner == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return run_softmax(&sp, <const float*>x.data, <float*>out.data)
    return run_softmax(&sp, <const double*>x.data, <double*>out.data)


cdef Status softmax_kernel(const View* x, int dim, View* out) noexcept nogil:
    return softmax_any(x, dim, out, False)


cdef Status log_softmax_kernel(const View* x, int dim, View* out) noexcept nogil:
    return softmax_any(x, dim, out, True)


def _run(str op, x, int dim, bint log):
    cdef cnp.ndarray xx = np.ascontiguousarray(x)
    cdef cnp.ndarray out = np.empty_like(xx)
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef Status status
    with nogil:
        status = softmax_any(&vx, dim, &vo, log)
    raise_for_status(status, op, f"input: {(<object>xx).shape} {xx.dtype}, dim={dim}")
    return out


def softmax(x, int dim):
    """Softmax along ``dim`` (ATen ``softmax``); a strided input is made contiguous.

    Parameters
    ----------
    x : ndarray
        float32 or float64.
    dim : int
        May be negative.

    Returns
    -------
    ndarray
    """
    return _run("softmax", x, dim, False)


def log_softmax(x, int dim):
    """Log-softmax along ``dim`` (ATen ``log_softmax``). See :func:`softmax`."""
    return _run("log_softmax", x, dim, True)
