"""Constant, reflection and replication padding as one copy kernel.

Kernel contract in ``padding.pxd``.  The output is walked row by row (every
dim but the last): each row's source row comes from mapping its indices
through the mode, and the row itself is the source's middle part (one
``memcpy`` when the source row is contiguous) between two mapped edges.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t, int64_t
from libc.string cimport memcpy

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE, DT_FLOAT32,
    DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, view_of, itemsize_of,
)
from jitcore._runtime.kernels.strided cimport extent, is_dense_output
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()

ctypedef fused item:
    uint8_t
    uint32_t
    uint64_t


ctypedef struct PadProblem:
    const View* x
    const Py_ssize_t* before
    int mode
    int ndim
    Py_ssize_t rows, width          # output rows and their length
    Py_ssize_t out_shape[MAX_DIMS]


cdef inline Py_ssize_t source_index(Py_ssize_t o, Py_ssize_t before, Py_ssize_t size,
                                    int mode) noexcept nogil:
    """The input index output index ``o`` copies, or -1 for the constant fill."""
    cdef Py_ssize_t s = o - before
    if 0 <= s < size:
        return s
    if mode == PAD_CONSTANT:
        return -1
    if mode == PAD_REPLICATE:
        return 0 if s < 0 else size - 1
    return -s if s < 0 else 2 * (size - 1) - s


cdef void pad_row(const PadProblem* pp, item* dst, Py_ssize_t row, item fill) noexcept nogil:
    cdef const View* x = pp.x
    cdef int last = pp.ndim - 1
    cdef Py_ssize_t rest = row, o, s, d, start, stop
    cdef Py_ssize_t size = x.shape[last], stride = x.strides[last], before = pp.before[last]
    cdef const char* src = x.data
    for d in range(last - 1, -1, -1):
        o = rest % pp.out_shape[d]
        rest = rest // pp.out_shape[d]
        s = source_index(o, pp.before[d], x.shape[d], pp.mode)
        if s < 0:
            for o in range(pp.width):
                dst[o] = fill
            return
        src += s * x.strides[d]
    # the middle: output positions whose source lies inside the row
    start = before if before > 0 else 0
    stop = before + size if before + size < pp.width else pp.width
    if stop < start:
        stop = start
    for o in range(start):
        s = source_index(o, before, size, pp.mode)
        dst[o] = fill if s < 0 else (<const item*>(src + s * stride))[0]
    if stride == sizeof(item):
        memcpy(dst + start, src + (start - before) * stride, (stop - start) * sizeof(item))
    else:
        for o in range(start, stop):
            dst[o] = (<const item*>(src + (o - before) * stride))[0]
    for o in range(stop, pp.width):
        s = source_index(o, before, size, pp.mode)
        dst[o] = fill if s < 0 else (<const item*>(src + s * stride))[0]


cdef Status run_pad(const PadProblem* pp, item* out, item fill) noexcept nogil:
    cdef Py_ssize_t row
    cdef int nt = threads_for(pp.rows * pp.width)
    if nt <= 1 or pp.rows < 2:
        for row in range(pp.rows):
            pad_row(pp, out + row * pp.width, row, fill)
    else:
        for row in prange(pp.rows, nogil=True, num_threads=nt, schedule='static'):
            pad_row(pp, out + row * pp.width, row, fill)
    return JC_OK


cdef Status pad_kernel(const View* x, const Py_ssize_t* before, int mode, double value,
                       View* out) noexcept nogil:
    cdef PadProblem pp
    cdef Py_ssize_t after
    cdef int d
    cdef float f32
    cdef double f64
    cdef int64_t i64
    cdef int32_t i32
    cdef uint8_t b
    cdef uint32_t bits32
    cdef uint64_t bits64
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim < 1 or out.ndim != x.ndim or not is_dense_output(out):
        return JC_ERR_SHAPE
    if mode != PAD_CONSTANT and mode != PAD_REFLECT and mode != PAD_REPLICATE:
        return JC_ERR_VALUE
    for d in range(x.ndim):
        after = out.shape[d] - x.shape[d] - before[d]
        if out.shape[d] < 0 or x.shape[d] + before[d] < 0 or x.shape[d] + after < 0:
            return JC_ERR_SHAPE
        if mode == PAD_REFLECT and ((before[d] > 0 and before[d] >= x.shape[d])
                                    or (after > 0 and after >= x.shape[d])):
            return JC_ERR_VALUE
        if mode != PAD_CONSTANT and x.shape[d] == 0 and out.shape[d] > 0:
            return JC_ERR_VALUE
        pp.out_shape[d] = out.shape[d]
    pp.x = x
    pp.before = before
    pp.mode = mode
    pp.ndim = x.ndim
    pp.width = out.shape[x.ndim - 1]
    pp.rows = extent(out, 0, x.ndim - 1)
    if pp.rows * pp.width == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        f32 = <float>value
        memcpy(&bits32, &f32, 4)
        return run_pad(&pp, <uint32_t*>out.data, bits32)
    if x.dtype == DT_INT32:
        i32 = <int32_t>value
        memcpy(&bits32, &i32, 4)
        return run_pad(&pp, <uint32_t*>out.data, bits32)
    if x.dtype == DT_FLOAT64:
        f64 = value
        memcpy(&bits64, &f64, 8)
        return run_pad(&pp, <uint64_t*>out.data, bits64)
    if x.dtype == DT_INT64:
        i64 = <int64_t>value
        memcpy(&bits64, &i64, 8)
        return run_pad(&pp, <uint64_t*>out.data, bits64)
    if x.dtype == DT_BOOL:
        b = 1 if value != 0 else 0
        return run_pad(&pp, <uint8_t*>out.data, b)
    return JC_ERR_DTYPE


_MODES = {"constant": PAD_CONSTANT, "reflect": PAD_REFLECT, "replicate": PAD_REPLICATE}


def pad(x, pad, mode="constant", value=None):
    """Pad the trailing dims of ``x`` (ATen ``pad``, torch's pad-list order).

    Parameters
    ----------
    x : ndarray
    pad : sequence of int
        (before, after) pairs from the last dim backwards; negative amounts crop.
    mode : {"constant", "reflect", "replicate"}
    value : float, optional
        The constant mode's fill (default 0).

    Returns
    -------
    ndarray
    """
    cdef cnp.ndarray xx = np.asarray(x)
    pad = [int(p) for p in pad]
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if len(pad) % 2 or len(pad) > 2 * xx.ndim:
        raise ValueError(f"pad: {len(pad)} pad values for a {xx.ndim}-d input")
    shape = list((<object>xx).shape)
    cdef Py_ssize_t before[MAX_DIMS]
    cdef int d
    for d in range(xx.ndim):
        before[d] = 0
    for k in range(len(pad) // 2):
        d = xx.ndim - 1 - k
        before[d] = pad[2 * k]
        shape[d] += pad[2 * k] + pad[2 * k + 1]
    if min(shape, default=0) < 0:
        raise ValueError(f"pad: {pad} crops more than input shape {(<object>xx).shape} holds")
    cdef cnp.ndarray out = np.empty(shape, dtype=xx.dtype)
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef int code = _MODES[mode]
    cdef double fill = 0.0 if value is None else value
    cdef Status status
    with nogil:
        status = pad_kernel(&vx, before, code, fill, &vo)
    raise_for_status(status, "pad", f"input: {(<object>xx).shape} {xx.dtype}, pad: {pad}, "
                                    f"mode: {mode}")
    return out
