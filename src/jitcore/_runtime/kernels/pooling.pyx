"""2-D max / average / adaptive-average pooling over strided views.

Kernel contracts in ``pooling.pxd``.  Every kernel walks the input's leading
dims as a list of (H, W) planes and writes one contiguous output plane each.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.math cimport INFINITY

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32, DT_INT64, view_of, itemsize_of,
)
from jitcore._runtime.kernels.strided cimport is_dense_output, is_real_dtype, FlatWalk, flat_walk, walk_offset
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.kernels.row_reductions cimport sum_of
from jitcore._runtime.kernels.cpu_features cimport jc_isa

cdef extern from "pooling_max2x2.h" nogil:
    int JC_MAX2X2_ISA
    int JC_MAX2X2_AVX2_ISA
    Py_ssize_t jc_max_row_2x2_f32(const float* r0, const float* r1, float* dst, Py_ssize_t n)
    Py_ssize_t jc_max_row_2x2_f32_avx2(const float* r0, const float* r1, float* dst,
                                       Py_ssize_t n)


cnp.import_array()

cdef enum PoolKind:
    POOL_MAX = 0
    POOL_AVG = 1
    POOL_ADAPTIVE_AVG = 2
    POOL_ADAPTIVE_MAX = 3


ctypedef struct PoolProblem:
    const View* x
    FlatWalk planes_walk     # the leading dims of x
    Py_ssize_t planes, H, W, OH, OW
    Py_ssize_t sh, sw        # byte strides of x's H and W
    Pool2dParams p
    int kind
    Py_ssize_t isz           # bytes per element


cdef Status prepare(const View* x, const View* out, PoolProblem* pp) noexcept nogil:
    cdef int d
    if not is_real_dtype(x.dtype) or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if (x.ndim != 3 and x.ndim != 4) or out.ndim != x.ndim:
        return JC_ERR_SHAPE
    for d in range(x.ndim - 2):
        if out.shape[d] != x.shape[d]:
            return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    pp.x = x
    pp.planes_walk = flat_walk(x, 0, x.ndim - 2)
    pp.planes = 1
    for d in range(x.ndim - 2):
        pp.planes *= x.shape[d]
    pp.H = x.shape[x.ndim - 2]
    pp.W = x.shape[x.ndim - 1]
    pp.sh = x.strides[x.ndim - 2]
    pp.sw = x.strides[x.ndim - 1]
    pp.OH = out.shape[out.ndim - 2]
    pp.OW = out.shape[out.ndim - 1]
    pp.isz = itemsize_of(x.dtype)
    return JC_OK


cdef Status check_window_params(const Pool2dParams* p, bint is_max) noexcept nogil:
    if p.kernel_h < 1 or p.kernel_w < 1 or p.stride_h < 1 or p.stride_w < 1 \
            or p.dilation_h < 1 or p.dilation_w < 1 or p.pad_h < 0 or p.pad_w < 0:
        return JC_ERR_VALUE
    if not is_max and (p.dilation_h != 1 or p.dilation_w != 1):
        return JC_ERR_VALUE
    # ATen: padding at most half the effective kernel, so no window is all padding
    if 2 * p.pad_h > p.dilation_h * (p.kernel_h - 1) + 1 \
            or 2 * p.pad_w > p.dilation_w * (p.kernel_w - 1) + 1:
        return JC_ERR_VALUE
    return JC_OK


# ------------------------------------------------------------ window rules

cdef inline real max_window(const char* plane, const PoolProblem* pp,
                            Py_ssize_t oh, Py_ssize_t ow, real sample) noexcept nogil:
    cdef Py_ssize_t i, j, ih, iw
    cdef real best = -INFINITY
    cdef real v
    for i in range(pp.p.kernel_h):
        ih = oh * pp.p.stride_h - pp.p.pad_h + i * pp.p.dilation_h
        if ih < 0 or ih >= pp.H:
            continue
        for j in range(pp.p.kernel_w):
            iw = ow * pp.p.stride_w - pp.p.pad_w + j * pp.p.dilation_w
            if iw < 0 or iw >= pp.W:
                continue
            v = (<const real*>(plane + ih * pp.sh + iw * pp.sw))[0]
            if v > best or v != v:
                best = v
                if v != v:
                    return v
    return best


cdef inline real sum_window(const char* plane, const PoolProblem* pp,
                            Py_ssize_t h0, Py_ssize_t h1, Py_ssize_t w0, Py_ssize_t w1,
                            real sample) noexcept nogil:
    cdef Py_ssize_t ih, iw
    cdef double total = 0
    if pp.sw == pp.isz:
        # unit-stride rows: row_reductions' four chains (one running sum waits on
        # each add's latency; global pools sum whole planes)
        for ih in range(h0, h1):
            total += sum_of(<const real*>(plane + ih * pp.sh) + w0, w1 - w0)
        return <real>total
    for ih in range(h0, h1):
        for iw in range(w0, w1):
            total += (<const real*>(plane + ih * pp.sh + iw * pp.sw))[0]
    return <real>total


cdef inline real avg_window(const char* plane, const PoolProblem* pp,
                            Py_ssize_t oh, Py_ssize_t ow, real sample) noexcept nogil:
    # ATen's avg_pool2d: the padded window size is taken before clipping.
    cdef Py_ssize_t h0 = oh * pp.p.stride_h - pp.p.pad_h
    cdef Py_ssize_t w0 = ow * pp.p.stride_w - pp.p.pad_w
    cdef Py_ssize_t h1 = min(h0 + pp.p.kernel_h, pp.H + pp.p.pad_h)
    cdef Py_ssize_t w1 = min(w0 + pp.p.kernel_w, pp.W + pp.p.pad_w)
    cdef Py_ssize_t padded_size = (h1 - h0) * (w1 - w0)
    cdef Py_ssize_t divisor
    h0 = max(h0, 0)
    w0 = max(w0, 0)
    h1 = min(h1, pp.H)
    w1 = min(w1, pp.W)
    if h0 >= h1 or w0 >= w1:
        return 0
    divisor = padded_size if pp.p.count_include_pad else (h1 - h0) * (w1 - w0)
    return sum_window(plane, pp, h0, h1, w0, w1, sample) / divisor


cdef inline real adaptive_avg_window(const char* plane, const PoolProblem* pp,
                                     Py_ssize_t oh, Py_ssize_t ow, real sample) noexcept nogil:
    cdef Py_ssize_t h0 = (oh * pp.H) // pp.OH
    cdef Py_ssize_t h1 = ((oh + 1) * pp.H + pp.OH - 1) // pp.OH
    cdef Py_ssize_t w0 = (ow * pp.W) // pp.OW
    cdef Py_ssize_t w1 = ((ow + 1) * pp.W + pp.OW - 1) // pp.OW
    return sum_window(plane, pp, h0, h1, w0, w1, sample) / ((h1 - h0) * (w1 - w0))


# ------------------------------------------------------- max pool fast path
#
# The usual CNN pooling (2x2 stride 2, no padding, rows of unit stride) spends
# most of the generic path's time on per-element bounds checks.  For windows
# that lie wholly inside the input the bounds are known, so those outputs are
# computed by straight loops the compiler vectorises; the border windows (only
# present with ceil_mode or a stride that does not tile the input) keep the
# generic rule.

cdef inline real nan_max(real a, real b) noexcept nogil:
    """max(a, b) propagating a NaN from either side, as ATen's max pooling does.

    The condition is one non-short-circuit expression so that the compiler
    selects instead of branching (a branch on random data mispredicts half the
    time)."""
    cdef bint take_a = (a > b) | (a != a)
    return a if take_a else b


cdef inline bint has_interior_fast_path(const PoolProblem* pp) noexcept nogil:
    return pp.kind == POOL_MAX and pp.p.dilation_h == 1 and pp.p.dilation_w == 1 \
        and pp.sw == pp.isz


cdef inline void windows_inside(Py_ssize_t out_len, Py_ssize_t in_len, Py_ssize_t kernel,
                                Py_ssize_t stride, Py_ssize_t pad, Py_ssize_t* first,
                                Py_ssize_t* stop) noexcept nogil:
    """The output positions ``[first, stop)`` whose whole window lies inside the input
    (none of it in the padding)."""
    first[0] = (pad + stride - 1) // stride
    stop[0] = (in_len + pad - kernel) // stride + 1 if in_len + pad >= kernel else 0
    if stop[0] > out_len:
        stop[0] = out_len
    if stop[0] < first[0]:
        stop[0] = first[0]


cdef void max_row_2x2(const real* r0, const real* r1, real* dst, Py_ssize_t n) noexcept nogil:
    """One output row of a 2x2, stride-2 max pool over input rows ``r0`` and ``r1``:
    the family's selection function (every variant gives the scalar rule's bits)."""
    cdef Py_ssize_t ow = 0
    cdef int level
    if real is float:
        level = jc_isa()
        if level >= JC_MAX2X2_ISA:
            # the whole row, 16 outputs at a time and a masked tail
            ow = jc_max_row_2x2_f32(r0, r1, dst, n)
        elif level >= JC_MAX2X2_AVX2_ISA:
            # 8 outputs at a time; the scalar loop below finishes the row
            ow = jc_max_row_2x2_f32_avx2(r0, r1, dst, n)
    while ow < n:
        dst[ow] = nan_max(nan_max(r0[2 * ow], r0[2 * ow + 1]),
                          nan_max(r1[2 * ow], r1[2 * ow + 1]))
        ow += 1


cdef void max_row_interior(const PoolProblem* pp, const char* first_row, real* dst,
                           Py_ssize_t n) noexcept nogil:
    """``n`` outputs of one row whose windows start at ``first_row`` and lie inside.

    Window offset by window offset over the whole row: each pass is a loop of
    independent selects the compiler vectorises (a loop over one window's
    elements is a chain of data-dependent branches); every output still sees
    its elements in the same order."""
    cdef Py_ssize_t ow, i, j, s = pp.p.stride_w
    cdef const real* row = <const real*>first_row
    for ow in range(n):
        dst[ow] = row[ow * s]
    for i in range(pp.p.kernel_h):
        row = <const real*>(first_row + i * pp.sh)
        for j in range(pp.p.kernel_w):
            for ow in range(n):
                dst[ow] = nan_max(dst[ow], row[ow * s + j])


cdef void max_pool_plane_fast(const PoolProblem* pp, const char* plane,
                              real* dst) noexcept nogil:
    cdef Py_ssize_t oh, ow, h_first, h_stop, w_first, w_stop
    cdef bint two_by_two = pp.p.kernel_h == 2 and pp.p.kernel_w == 2 \
        and pp.p.stride_h == 2 and pp.p.stride_w == 2 and pp.p.pad_w == 0
    cdef const char* rows
    cdef real sample = 0
    windows_inside(pp.OH, pp.H, pp.p.kernel_h, pp.p.stride_h, pp.p.pad_h, &h_first, &h_stop)
    windows_inside(pp.OW, pp.W, pp.p.kernel_w, pp.p.stride_w, pp.p.pad_w, &w_first, &w_stop)
    for oh in range(pp.OH):
        if h_first <= oh < h_stop and w_first < w_stop:
            for ow in range(w_first):
                dst[oh * pp.OW + ow] = max_window(plane, pp, oh, ow, sample)
            rows = plane + (oh * pp.p.stride_h - pp.p.pad_h) * pp.sh \
                + (w_first * pp.p.stride_w - pp.p.pad_w) * pp.isz
            if two_by_two:
                max_row_2x2(<const real*>rows, <const real*>(rows + pp.sh),
                            dst + oh * pp.OW + w_first, w_stop - w_first)
            else:
                max_row_interior(pp, rows, dst + oh * pp.OW + w_first, w_stop - w_first)
            ow = w_stop
        else:
            ow = 0
        while ow < pp.OW:
            dst[oh * pp.OW + ow] = max_window(plane, pp, oh, ow, sample)
            ow += 1


cdef void pool_plane(const PoolProblem* pp, real* out, Py_ssize_t plane_index) noexcept nogil:
    cdef const char* plane = pp.x.data + walk_offset(&pp.planes_walk, plane_index)
    cdef real* dst = out + plane_index * pp.OH * pp.OW
    cdef Py_ssize_t oh, ow
    cdef real sample = 0      # selects the specialisation of the window rules
    if has_interior_fast_path(pp):
        max_pool_plane_fast(pp, plane, dst)
        return
    for oh in range(pp.OH):
        for ow in range(pp.OW):
            if pp.kind == POOL_MAX:
                dst[oh * pp.OW + ow] = max_window(plane, pp, oh, ow, sample)
            elif pp.kind == POOL_AVG:
                dst[oh * pp.OW + ow] = avg_window(plane, pp, oh, ow, sample)
            else:
                dst[oh * pp.OW + ow] = adaptive_avg_window(plane, pp, oh, ow, sample)


cdef Status run_pool(const PoolProblem* pp, real* out) noexcept nogil:
    cdef Py_ssize_t plane
    cdef Py_ssize_t window = pp.p.kernel_h * pp.p.kernel_w if pp.kind != POOL_ADAPTIVE_AVG \
        else (pp.H // pp.OH + 1) * (pp.W // pp.OW + 1)
    cdef int nt = threads_for(pp.planes * pp.OH * pp.OW * window)
    if nt <= 1:
        for plane in range(pp.planes):
            pool_plane(pp, out, plane)
    else:
        for plane in prange(pp.planes, nogil=True, num_threads=nt, schedule='static'):
            pool_plane(pp, out, plane)
    return JC_OK


cdef Status dispatch(const PoolProblem* pp, View* out) noexcept nogil:
    if pp.planes == 0 or pp.OH == 0 or pp.OW == 0:
        return JC_OK
    if out.dtype == DT_FLOAT32:
        return run_pool(pp, <float*>out.data)
    return run_pool(pp, <double*>out.data)


# ------------------------------------------------------------------ kernels

cdef Status windowed_pool(const View* x, View* out, const Pool2dParams* params,
                          int kind) noexcept nogil:
    cdef PoolProblem pp
    cdef Status status = check_window_params(params, kind == POOL_MAX)
    if status != JC_OK:
        return status
    status = prepare(x, out, &pp)
    if status != JC_OK:
        return status
    pp.p = params[0]
    pp.kind = kind
    if pp.OH != pool_output_size(pp.H, params.kernel_h, params.stride_h, params.pad_h,
                                 params.dilation_h, params.ceil_mode) \
            or pp.OW != pool_output_size(pp.W, params.kernel_w, params.stride_w,
                                         params.pad_w, params.dilation_w, params.ceil_mode) \
            or pp.OH < 1 or pp.OW < 1:
        return JC_ERR_SHAPE
    return dispatch(&pp, out)


cdef Status max_pool2d_kernel(const View* x, View* out,
                              const Pool2dParams* params) noexcept nogil:
    return windowed_pool(x, out, params, POOL_MAX)


cdef Status avg_pool2d_kernel(const View* x, View* out,
                              const Pool2dParams* params) noexcept nogil:
    return windowed_pool(x, out, params, POOL_AVG)


cdef Status adaptive_avg_pool2d_kernel(const View* x, View* out) noexcept nogil:
    cdef PoolProblem pp
    cdef Status status = prepare(x, out, &pp)
    if status != JC_OK:
        return status
    if pp.OH < 1 or pp.OW < 1 or (pp.planes > 0 and (pp.H < 1 or pp.W < 1)):
        return JC_ERR_SHAPE
    pp.kind = POOL_ADAPTIVE_AVG
    return dispatch(&pp, out)


cdef void adaptive_max_plane(const PoolProblem* pp, real* out, long long* indices,
                             Py_ssize_t plane_index) noexcept nogil:
    """Every output of one plane: a scan of each adaptive window, row by row."""
    cdef const char* plane = pp.x.data + walk_offset(&pp.planes_walk, plane_index)
    cdef Py_ssize_t base = plane_index * pp.OH * pp.OW
    cdef Py_ssize_t oh, ow, h0, h1, w0, w1, ih, iw, best_index
    cdef const char* row
    cdef real best, v
    cdef bint take
    for oh in range(pp.OH):
        h0 = (oh * pp.H) // pp.OH
        h1 = ((oh + 1) * pp.H + pp.OH - 1) // pp.OH
        for ow in range(pp.OW):
            w0 = (ow * pp.W) // pp.OW
            w1 = ((ow + 1) * pp.W + pp.OW - 1) // pp.OW
            best = (<const real*>(plane + h0 * pp.sh + w0 * pp.sw))[0]
            best_index = h0 * pp.W + w0
            for ih in range(h0, h1):
                row = plane + ih * pp.sh
                for iw in range(w0, w1):
                    # selects, not a branch on the data (see nan_max)
                    v = (<const real*>(row + iw * pp.sw))[0]
                    take = (v > best) | (v != v)
                    best = v if take else best
                    best_index = ih * pp.W + iw if take else best_index
            out[base + oh * pp.OW + ow] = best
            if indices != NULL:
                indices[base + oh * pp.OW + ow] = best_index


cdef Status run_adaptive_max(const PoolProblem* pp, real* out, long long* indices) noexcept nogil:
    cdef Py_ssize_t plane
    cdef int nt = threads_for(pp.planes * pp.H * pp.W)
    if nt <= 1 or pp.planes < 2:
        for plane in range(pp.planes):
            adaptive_max_plane(pp, out, indices, plane)
    else:
        for plane in prange(pp.planes, nogil=True, num_threads=nt, schedule='static'):
            adaptive_max_plane(pp, out, indices, plane)
    return JC_OK


cdef Status adaptive_max_pool2d_kernel(const View* x, View* out, View* indices) noexcept nogil:
    cdef PoolProblem pp
    cdef long long* index_data = NULL
    cdef int d
    cdef Status status = prepare(x, out, &pp)
    if status != JC_OK:
        return status
    if pp.OH < 1 or pp.OW < 1 or (pp.planes > 0 and (pp.H < 1 or pp.W < 1)):
        return JC_ERR_SHAPE
    if indices != NULL:
        if indices.dtype != DT_INT64:
            return JC_ERR_DTYPE
        if indices.ndim != out.ndim:
            return JC_ERR_SHAPE
        for d in range(out.ndim):
            if indices.shape[d] != out.shape[d]:
                return JC_ERR_SHAPE
        if not is_dense_output(indices):
            return JC_ERR_UNSUPPORTED
        index_data = <long long*>indices.data
    pp.kind = POOL_ADAPTIVE_MAX
    if pp.planes == 0:
        return JC_OK
    if out.dtype == DT_FLOAT32:
        return run_adaptive_max(&pp, <float*>out.data, index_data)
    return run_adaptive_max(&pp, <double*>out.data, index_data)


# ------------------------------------------------------------------ Python

def _pair(value, str op, str name):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


cdef Pool2dParams _params(str op, kernel_size, stride, padding, dilation, bint ceil_mode,
                          bint count_include_pad) except *:
    cdef Pool2dParams p
    p.kernel_h, p.kernel_w = _pair(kernel_size, op, "kernel_size")
    p.stride_h, p.stride_w = _pair(kernel_size if stride is None else stride, op, "stride")
    p.pad_h, p.pad_w = _pair(padding, op, "padding")
    p.dilation_h, p.dilation_w = _pair(dilation, op, "dilation")
    p.ceil_mode = ceil_mode
    p.count_include_pad = count_include_pad
    return p


cdef cnp.ndarray _pooled(str op, x, Pool2dParams* p, tuple out_hw):
    cdef cnp.ndarray xx = np.asarray(x)
    shape = (<object>xx).shape
    if xx.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D or 4-D input, got shape {shape}")
    if out_hw is None:
        out_hw = (
            pool_output_size(shape[xx.ndim - 2], p.kernel_h, max(p.stride_h, 1), p.pad_h,
                             p.dilation_h, p.ceil_mode),
            pool_output_size(shape[xx.ndim - 1], p.kernel_w, max(p.stride_w, 1), p.pad_w,
                             p.dilation_w, p.ceil_mode))
    cdef cnp.ndarray out = np.empty(tuple(shape[:xx.ndim - 2]) + out_hw, dtype=xx.dtype)
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef int kind = POOL_MAX if op == "max_pool2d" else (
        POOL_AVG if op == "avg_pool2d" else POOL_ADAPTIVE_AVG)
    cdef Status status
    with nogil:
        if kind == POOL_ADAPTIVE_AVG:
            status = adaptive_avg_pool2d_kernel(&vx, &vo)
        else:
            status = windowed_pool(&vx, &vo, p, kind)
    raise_for_status(status, op, f"input: {shape} {xx.dtype}, output size {out_hw}")
    return out


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling over the two trailing dims (ATen ``max_pool2d``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding, dilation : int or pair of ints
        ``stride`` defaults to ``kernel_size``.
    ceil_mode : bool

    Returns
    -------
    ndarray
    """
    cdef Pool2dParams p = _params("max_pool2d", kernel_size, stride, padding, dilation,
                                  ceil_mode, True)
    return _pooled("max_pool2d", x, &p, None)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling over the two trailing dims (ATen ``avg_pool2d``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding : int or pair of ints
    ceil_mode, count_include_pad : bool

    Returns
    -------
    ndarray
    """
    cdef Pool2dParams p = _params("avg_pool2d", kernel_size, stride, padding, 1,
                                  ceil_mode, count_include_pad)
    return _pooled("avg_pool2d", x, &p, None)


def adaptive_avg_pool2d(x, output_size):
    """Adaptive average pooling to ``output_size`` (ATen ``adaptive_avg_pool2d``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) or (C, H, W)
    output_size : int or pair of ints

    Returns
    -------
    ndarray
    """
    cdef Pool2dParams p = _params("adaptive_avg_pool2d", 1, 1, 0, 1, False, True)
    return _pooled("adaptive_avg_pool2d", x, &p,
                   _pair(output_size, "adaptive_avg_pool2d", "output_size"))


def adaptive_max_pool2d(x, output_size):
    """Adaptive max pooling to ``output_size`` (ATen ``adaptive_max_pool2d``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) or (C, H, W), float32 or float64
    output_size : int or pair of ints

    Returns
    -------
    (ndarray, ndarray)
        The maxima and their int64 indices in each (H, W) plane.
    """
    cdef cnp.ndarray xx = np.asarray(x)
    shape = (<object>xx).shape
    if xx.ndim not in (3, 4):
        raise ValueError(f"adaptive_max_pool2d: expected a 3-D or 4-D input, got shape {shape}")
    out_hw = _pair(output_size, "adaptive_max_pool2d", "output_size")
    if min(out_hw) < 1:
        raise ValueError(f"adaptive_max_pool2d: output_size must be positive, got {output_size}")
    cdef cnp.ndarray out = np.empty(tuple(shape[:xx.ndim - 2]) + out_hw, dtype=xx.dtype)
    cdef cnp.ndarray indices = np.empty(tuple(shape[:xx.ndim - 2]) + out_hw, dtype=np.int64)
    cdef View vx = view_of(xx), vo = view_of(out), vi = view_of(indices)
    cdef Status status
    with nogil:
        status = adaptive_max_pool2d_kernel(&vx, &vo, &vi)
    raise_for_status(status, "adaptive_max_pool2d", f"input: {shape} {xx.dtype}, "
                                                    f"output size {out_hw}")
    return out, indices
