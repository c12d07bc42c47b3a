"""Batch norm (running or batch statistics) and layer norm over strided views.

Kernel contracts in ``normalization.pxd``.  Statistics are accumulated in
double precision for float32 too, so a float32 layer norm over thousands of
features keeps full float32 accuracy.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.math cimport sqrt

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.row_reductions cimport sum_of, sum_of_squared_deviations
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32, view_of,
)
from jitcore._runtime.kernels.strided cimport (
    is_dense_output, extent,
    is_real_dtype, same_shape, FlatWalk, flat_walk, walk_offset,
)
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()


cdef inline double element(const View* v, Py_ssize_t index, real sample) noexcept nogil:
    """Element ``index`` of a 1-D view as a double."""
    return (<const real*>(v.data + index * v.strides[0]))[0]


cdef Status check_common(const View* x, const View* out, double eps) noexcept nogil:
    if not is_real_dtype(x.dtype) or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if not same_shape(x, out):
        return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    if not (eps >= 0):
        return JC_ERR_VALUE
    return JC_OK


cdef Status check_affine(const View* v, int dtype, const View* shape_of, int first_dim,
                         int stop_dim, bint optional) noexcept nogil:
    """A per-channel / per-feature parameter of shape ``shape_of.shape[first_dim:stop_dim]``."""
    cdef int d
    if v == NULL:
        return JC_OK if optional else JC_ERR_VALUE
    if v.dtype != dtype:
        return JC_ERR_DTYPE
    if v.ndim != stop_dim - first_dim:
        return JC_ERR_SHAPE
    for d in range(v.ndim):
        if v.shape[d] != shape_of.shape[first_dim + d]:
            return JC_ERR_SHAPE
    return JC_OK


# ---------------------------------------------------------------- batch norm

ctypedef struct BatchNormProblem:
    const View* x
    const View* mean
    const View* var
    const View* weight
    const View* bias
    double eps
    Py_ssize_t N, C, inner
    FlatWalk inner_walk


cdef void channel_layout(const View* x, BatchNormProblem* bp) noexcept nogil:
    """x (N, C, ...) as N x C planes of ``inner`` elements."""
    cdef int d
    bp.x = x
    bp.N = x.shape[0]
    bp.C = x.shape[1]
    bp.inner = 1
    for d in range(2, x.ndim):
        bp.inner *= x.shape[d]
    bp.inner_walk = flat_walk(x, 2, x.ndim)


cdef void batch_norm_plane(const BatchNormProblem* bp, real* out,
                           Py_ssize_t plane) noexcept nogil:
    cdef Py_ssize_t n = plane // bp.C
    cdef Py_ssize_t c = plane % bp.C
    cdef real sample = 0
    cdef double scale = 1.0 / sqrt(element(bp.var, c, sample) + bp.eps)
    cdef double shift
    cdef const char* src = bp.x.data + n * bp.x.strides[0] + c * bp.x.strides[1]
    cdef real* dst = out + plane * bp.inner
    cdef real s, t
    cdef Py_ssize_t i
    if bp.weight != NULL:
        scale *= element(bp.weight, c, sample)
    shift = -element(bp.mean, c, sample) * scale
    if bp.bias != NULL:
        shift += element(bp.bias, c, sample)
    s = <real>scale
    t = <real>shift
    if bp.inner_walk.collapsed and bp.inner_walk.stride == sizeof(real):
        for i in range(bp.inner):
            dst[i] = (<const real*>src)[i] * s + t
    else:
        for i in range(bp.inner):
            dst[i] = (<const real*>(src + walk_offset(&bp.inner_walk, i)))[0] * s + t


cdef Status run_batch_norm(const BatchNormProblem* bp, real* out) noexcept nogil:
    cdef Py_ssize_t planes = bp.N * bp.C
    cdef Py_ssize_t plane
    cdef int nt = threads_for(planes * bp.inner)
    if nt <= 1:
        for plane in range(planes):
            batch_norm_plane(bp, out, plane)
    else:
        for plane in prange(planes, nogil=True, num_threads=nt, schedule='static'):
            batch_norm_plane(bp, out, plane)
    return JC_OK


cdef Status batch_norm_kernel(const View* x, const View* mean, const View* var,
                              const View* weight, const View* bias, double eps,
                              View* out) noexcept nogil:
    cdef BatchNormProblem bp
    cdef Status status = check_common(x, out, eps)
    if status != JC_OK:
        return status
    if x.ndim < 2:
        return JC_ERR_SHAPE
    status = check_affine(mean, x.dtype, x, 1, 2, False)
    if status == JC_OK:
        status = check_affine(var, x.dtype, x, 1, 2, False)
    if status == JC_OK:
        status = check_affine(weight, x.dtype, x, 1, 2, True)
    if status == JC_OK:
        status = check_affine(bias, x.dtype, x, 1, 2, True)
    if status != JC_OK:
        return status
    channel_layout(x, &bp)
    bp.mean = mean
    bp.var = var
    bp.weight = weight
    bp.bias = bias
    bp.eps = eps
    if x.dtype == DT_FLOAT32:
        return run_batch_norm(&bp, <float*>out.data)
    return run_batch_norm(&bp, <double*>out.data)


cdef void channel_statistics(const BatchNormProblem* bp, real* mean, real* var,
                             Py_ssize_t c) noexcept nogil:
    """Mean and biased variance of channel ``c`` over N and the inner dims.

    Two passes in double precision (the mean, then squared deviations from
    it), each plane summed by row_reductions' four-chain loops when it is
    contiguous; one thread owns a channel, so the result does not depend on
    the thread count.
    """
    cdef Py_ssize_t n, i, count = bp.N * bp.inner
    cdef const char* src
    cdef double total = 0, deviations = 0, m, d
    cdef bint unit = bp.inner_walk.collapsed and bp.inner_walk.stride == sizeof(real)
    for n in range(bp.N):
        src = bp.x.data + n * bp.x.strides[0] + c * bp.x.strides[1]
        if unit:
            total += sum_of(<const real*>src, bp.inner)
        else:
            for i in range(bp.inner):
                total += (<const real*>(src + walk_offset(&bp.inner_walk, i)))[0]
    m = total / count
    for n in range(bp.N):
        src = bp.x.data + n * bp.x.strides[0] + c * bp.x.strides[1]
        if unit:
            deviations += sum_of_squared_deviations(<const real*>src, bp.inner, m)
        else:
            for i in range(bp.inner):
                d = (<const real*>(src + walk_offset(&bp.inner_walk, i)))[0] - m
                deviations += d * d
    mean[c] = <real>m
    var[c] = <real>(deviations / count)


cdef Status run_statistics(const BatchNormProblem* bp, real* mean, real* var) noexcept nogil:
    cdef Py_ssize_t c
    cdef int nt = threads_for(bp.N * bp.C * bp.inner * 2)
    if nt <= 1 or bp.C < 2:
        for c in range(bp.C):
            channel_statistics(bp, mean, var, c)
    else:
        for c in prange(bp.C, nogil=True, num_threads=nt, schedule='static'):
            channel_statistics(bp, mean, var, c)
    return JC_OK


cdef Status batch_statistics_kernel(const View* x, View* mean, View* var) noexcept nogil:
    cdef BatchNormProblem bp
    if not is_real_dtype(x.dtype) or mean.dtype != x.dtype or var.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim < 2:
        return JC_ERR_SHAPE
    if (mean.ndim != 1 or var.ndim != 1 or mean.shape[0] != x.shape[1]
            or var.shape[0] != x.shape[1]):
        return JC_ERR_SHAPE
    if not is_dense_output(mean) or not is_dense_output(var):
        return JC_ERR_UNSUPPORTED
    channel_layout(x, &bp)
    if bp.N * bp.inner == 0:
        return JC_ERR_VALUE if bp.C > 0 else JC_OK
    if x.dtype == DT_FLOAT32:
        return run_statistics(&bp, <float*>mean.data, <float*>var.data)
    return run_statistics(&bp, <double*>mean.data, <double*>var.data)


# ---------------------------------------------------------------- layer norm

ctypedef struct LayerNormProblem:
    const View* x
    const View* weight
    const View* bias
    double eps
    Py_ssize_t rows, features
    FlatWalk row_walk, feature_walk, weight_walk, bias_walk


cdef inline real feature(const char* base, const FlatWalk* walk, Py_ssize_t i,
                         real sample) noexcept nogil:
    return (<const real*>(base + walk_offset(walk, i)))[0]


cdef inline bint unit_walk(const FlatWalk* walk, Py_ssize_t itemsize) noexcept nogil:
    return walk.collapsed and walk.stride == itemsize


cdef void layer_norm_row_contiguous(const LayerNormProblem* lp, const real* x, real* dst) noexcept nogil:
    """``layer_norm_row`` for a unit-stride row (and unit-stride or absent weight
    and bias): the same two passes (``row_reductions``), then one affine loop the
    compiler vectorises."""
    cdef Py_ssize_t i, n = lp.features
    cdef double mean = sum_of(x, n) / n
    cdef real centre = <real>mean
    cdef real rstd = <real>(1.0 / sqrt(sum_of_squared_deviations(x, n, mean) / n + lp.eps))
    cdef const real* w = <const real*>lp.weight.data if lp.weight != NULL else NULL
    cdef const real* b = <const real*>lp.bias.data if lp.bias != NULL else NULL
    if w != NULL and b != NULL:
        for i in range(n):
            dst[i] = (x[i] - centre) * rstd * w[i] + b[i]
    elif w != NULL:
        for i in range(n):
            dst[i] = (x[i] - centre) * rstd * w[i]
    elif b != NULL:
        for i in range(n):
            dst[i] = (x[i] - centre) * rstd + b[i]
    else:
        for i in range(n):
            dst[i] = (x[i] - centre) * rstd


cdef void layer_norm_row(const LayerNormProblem* lp, real* out, Py_ssize_t row) noexcept nogil:
    cdef const char* src = lp.x.data + walk_offset(&lp.row_walk, row)
    cdef real* dst = out + row * lp.features
    cdef Py_ssize_t i
    cdef double mean = 0, var = 0, d
    cdef real sample = 0
    cdef real rstd, centred
    if unit_walk(&lp.feature_walk, sizeof(real)) \
            and (lp.weight == NULL or unit_walk(&lp.weight_walk, sizeof(real))) \
            and (lp.bias == NULL or unit_walk(&lp.bias_walk, sizeof(real))):
        layer_norm_row_contiguous(lp, <const real*>src, dst)
        return
    # Two passes: the mean first, then the squared deviations from it, so
    # the variance does not cancel catastrophically for large means.
    for i in range(lp.features):
        mean += feature(src, &lp.feature_walk, i, sample)
    mean /= lp.features
    for i in range(lp.features):
        d = feature(src, &lp.feature_walk, i, sample) - mean
        var += d * d
    var /= lp.features
    rstd = <real>(1.0 / sqrt(var + lp.eps))
    for i in range(lp.features):
        centred = <real>(feature(src, &lp.feature_walk, i, sample) - mean) * rstd
        if lp.weight != NULL:
            centred = centred * feature(lp.weight.data, &lp.weight_walk, i, sample)
        if lp.bias != NULL:
            centred = centred + feature(lp.bias.data, &lp.bias_walk, i, sample)
        dst[i] = centred


cdef Status run_layer_norm(const LayerNormProblem* lp, real* out) noexcept nogil:
    cdef Py_ssize_t row
    cdef int nt = threads_for(lp.rows * lp.features * 3)
    if nt <= 1 or lp.rows < 2:
        for row in range(lp.rows):
            layer_norm_row(lp, out, row)
    else:
        for row in prange(lp.rows, nogil=True, num_threads=nt, schedule='static'):
            layer_norm_row(lp, out, row)
    return JC_OK


cdef Status layer_norm_kernel(const View* x, int normalized_ndim, const View* weight,
                              const View* bias, double eps, View* out) noexcept nogil:
    cdef LayerNormProblem lp
    cdef int lead, d
    cdef Status status = check_common(x, out, eps)
    if status != JC_OK:
        return status
    if normalized_ndim < 1 or normalized_ndim > x.ndim:
        return JC_ERR_VALUE
    lead = x.ndim - normalized_ndim
    status = check_affine(weight, x.dtype, x, lead, x.ndim, True)
    if status == JC_OK:
        status = check_affine(bias, x.dtype, x, lead, x.ndim, True)
    if status != JC_OK:
        return status
    lp.x = x
    lp.weight = weight
    lp.bias = bias
    lp.eps = eps
    lp.rows = 1
    lp.features = 1
    for d in range(x.ndim):
        if d < lead:
            lp.rows *= x.shape[d]
        else:
            lp.features *= x.shape[d]
    if lp.rows == 0 or lp.features == 0:
        return JC_OK
    lp.row_walk = flat_walk(x, 0, lead)
    lp.feature_walk = flat_walk(x, lead, x.ndim)
    if weight != NULL:
        lp.weight_walk = flat_walk(weight, 0, weight.ndim)
    if bias != NULL:
        lp.bias_walk = flat_walk(bias, 0, bias.ndim)
    if x.dtype == DT_FLOAT32:
        return run_layer_norm(&lp, <float*>out.data)
    return run_layer_norm(&lp, <double*>out.data)


# ---------------------------------------------------------------- group norm

ctypedef struct GroupNormProblem:
    const View* weight
    const View* bias
    double eps
    Py_ssize_t C, groups, per_group, inner


# A group is tens of thousands of contiguous values: its two statistics passes
# sum eight lanes in the data's precision over blocks of 256 values (the
# compiler packs the lanes into vector registers; a fixed lane order keeps the
# bits the same at every ISA level) and the block totals in double, so the
# error grows with the block, not with the group.
cdef enum:
    BLOCK = 256


cdef inline double blocked_sum(const real* x, Py_ssize_t n) noexcept nogil:
    cdef real s0, s1, s2, s3, s4, s5, s6, s7
    cdef double total = 0
    cdef Py_ssize_t i = 0, j
    while i + BLOCK <= n:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0
        for j in range(i, i + BLOCK, 8):
            s0 += x[j]
            s1 += x[j + 1]
            s2 += x[j + 2]
            s3 += x[j + 3]
            s4 += x[j + 4]
            s5 += x[j + 5]
            s6 += x[j + 6]
            s7 += x[j + 7]
        total += (<double>((s0 + s1) + (s2 + s3)) + <double>((s4 + s5) + (s6 + s7)))
        i += BLOCK
    return total + sum_of(x + i, n - i)


cdef inline double blocked_squared_deviations(const real* x, Py_ssize_t n,
                                              double centre) noexcept nogil:
    cdef real s0, s1, s2, s3, s4, s5, s6, s7
    cdef real c = <real>centre
    cdef double total = 0
    cdef Py_ssize_t i = 0, j
    while i + BLOCK <= n:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0
        for j in range(i, i + BLOCK, 8):
            s0 += (x[j] - c) * (x[j] - c)
            s1 += (x[j + 1] - c) * (x[j + 1] - c)
            s2 += (x[j + 2] - c) * (x[j + 2] - c)
            s3 += (x[j + 3] - c) * (x[j + 3] - c)
            s4 += (x[j + 4] - c) * (x[j + 4] - c)
            s5 += (x[j + 5] - c) * (x[j + 5] - c)
            s6 += (x[j + 6] - c) * (x[j + 6] - c)
            s7 += (x[j + 7] - c) * (x[j + 7] - c)
        total += (<double>((s0 + s1) + (s2 + s3)) + <double>((s4 + s5) + (s6 + s7)))
        i += BLOCK
    return total + sum_of_squared_deviations(x + i, n - i, <double>c)


cdef void group_norm_task(const GroupNormProblem* gp, const real* x, real* out,
                          Py_ssize_t task) noexcept nogil:
    """Normalise group ``task % groups`` of sample ``task // groups``: its statistics
    over ``per_group * inner`` contiguous elements, then each channel's affine loop."""
    cdef Py_ssize_t count = gp.per_group * gp.inner
    cdef const real* src = x + task * count
    cdef real* dst = out + task * count
    cdef Py_ssize_t first = (task % gp.groups) * gp.per_group
    cdef double mean = blocked_sum(src, count) / count
    cdef double rstd = 1.0 / sqrt(blocked_squared_deviations(src, count, mean) / count + gp.eps)
    cdef double scale
    cdef real s, t, sample = 0
    cdef Py_ssize_t c, i
    for c in range(first, first + gp.per_group):
        scale = rstd
        if gp.weight != NULL:
            scale *= element(gp.weight, c, sample)
        t = <real>(-mean * scale + (element(gp.bias, c, sample) if gp.bias != NULL else 0.0))
        s = <real>scale
        for i in range(gp.inner):
            dst[i] = src[i] * s + t
        src += gp.inner
        dst += gp.inner


cdef Status run_group_norm(const GroupNormProblem* gp, const real* x, real* out,
                           Py_ssize_t tasks) noexcept nogil:
    cdef Py_ssize_t task
    cdef int nt = threads_for(tasks * gp.per_group * gp.inner * 3)
    if nt <= 1 or tasks < 2:
        for task in range(tasks):
            group_norm_task(gp, x, out, task)
    else:
        for task in prange(tasks, nogil=True, num_threads=nt, schedule='static'):
            group_norm_task(gp, x, out, task)
    return JC_OK


cdef Status group_norm_kernel(const View* x, Py_ssize_t groups, const View* weight,
                              const View* bias, double eps, View* out) noexcept nogil:
    cdef GroupNormProblem gp
    cdef Status status = check_common(x, out, eps)
    if status != JC_OK:
        return status
    if x.ndim < 2:
        return JC_ERR_SHAPE
    if groups < 1 or x.shape[1] % groups != 0:
        return JC_ERR_VALUE
    if not is_dense_output(x):
        return JC_ERR_UNSUPPORTED
    status = check_affine(weight, x.dtype, x, 1, 2, True)
    if status == JC_OK:
        status = check_affine(bias, x.dtype, x, 1, 2, True)
    if status != JC_OK:
        return status
    gp.weight = weight
    gp.bias = bias
    gp.eps = eps
    gp.C = x.shape[1]
    gp.groups = groups
    gp.per_group = gp.C // groups
    gp.inner = extent(x, 2, x.ndim)
    if x.shape[0] * gp.C * gp.inner == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return run_group_norm(&gp, <const float*>x.data, <float*>out.data, x.shape[0] * groups)
    return run_group_norm(&gp, <const double*>x.data, <double*>out.data, x.shape[0] * groups)


# ---------------------------------------------------------------- Python

cdef inline View* optional_view(cnp.ndarray arr, View* storage) except? NULL:
    if arr is None:
        return NULL
    storage[0] = view_of(arr)
    return storage


def batch_norm(x, running_mean, running_var, weight=None, bias=None, double eps=1e-5):
    """Inference-mode batch norm over channel dim 1 (ATen ``batch_norm``, training=False).

    Parameters
    ----------
    x : ndarray, shape (N, C, ...)
    running_mean, running_var : ndarray, shape (C,)
    weight, bias : ndarray, shape (C,), optional
    eps : float

    Returns
    -------
    ndarray
        ``(x - mean) / sqrt(var + eps) * weight + bias``.
    """
    cdef cnp.ndarray xx = np.asarray(x)
    cdef cnp.ndarray mm = np.asarray(running_mean)
    cdef cnp.ndarray vv = np.asarray(running_var)
    cdef cnp.ndarray ww = None if weight is None else np.asarray(weight)
    cdef cnp.ndarray bb = None if bias is None else np.asarray(bias)
    cdef cnp.ndarray out = np.empty_like(xx, order="C")
    cdef View vx = view_of(xx), vm = view_of(mm), vv_ = view_of(vv), vo = view_of(out)
    cdef View sw, sb
    cdef View* pw = optional_view(ww, &sw)
    cdef View* pb = optional_view(bb, &sb)
    cdef Status status
    with nogil:
        status = batch_norm_kernel(&vx, &vm, &vv_, pw, pb, eps, &vo)
    raise_for_status(status, "batch_norm", f"input: {(<object>xx).shape} {xx.dtype}, "
                                           f"running_mean: {(<object>mm).shape} {mm.dtype}")
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, double eps=1e-5):
    """Layer norm over the trailing ``normalized_shape`` dims (ATen ``layer_norm``).

    Parameters
    ----------
    x : ndarray
    normalized_shape : int or tuple of ints
        Must equal the trailing dims of ``x``.
    weight, bias : ndarray of shape ``normalized_shape``, optional
    eps : float

    Returns
    -------
    ndarray
    """
    cdef cnp.ndarray xx = np.asarray(x)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    x_shape = (<object>xx).shape
    if len(shape) == 0 or len(shape) > xx.ndim or \
            tuple(x_shape[xx.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must equal the trailing dims "
                         f"of the input, got input shape {x_shape}")
    cdef cnp.ndarray ww = None if weight is None else np.asarray(weight)
    cdef cnp.ndarray bb = None if bias is None else np.asarray(bias)
    cdef cnp.ndarray out = np.empty_like(xx, order="C")
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef View sw, sb
    cdef View* pw = optional_view(ww, &sw)
    cdef View* pb = optional_view(bb, &sb)
    cdef int nd = len(shape)
    cdef Status status
    with nogil:
        status = layer_norm_kernel(&vx, nd, pw, pb, eps, &vo)
    raise_for_status(status, "layer_norm", f"input: {x_shape} {xx.dtype}, "
                                           f"normalized_shape: {shape}")
    return out


def batch_statistics(x):
    """Per-channel mean and biased variance of ``x`` (N, C, ...): what a
    training-mode ``batch_norm`` normalises with.

    Parameters
    ----------
    x : ndarray, shape (N, C, ...), float32 or float64

    Returns
    -------
    (ndarray, ndarray)
        ``x.mean(axes)`` and ``x.var(axes)`` over every dim but 1, in ``x``'s
        dtype (accumulated in double precision).
    """
    cdef cnp.ndarray xx = np.asarray(x)
    if xx.ndim < 2:
        raise_for_status(JC_ERR_SHAPE, "batch_statistics", f"input: {(<object>xx).shape}")
    cdef cnp.ndarray mean = np.empty(xx.shape[1], dtype=xx.dtype)
    cdef cnp.ndarray var = np.empty(xx.shape[1], dtype=xx.dtype)
    cdef View vx = view_of(xx), vm = view_of(mean), vv = view_of(var)
    cdef Status status
    with nogil:
        status = batch_statistics_kernel(&vx, &vm, &vv)
    raise_for_status(status, "batch_statistics", f"input: {(<object>xx).shape} {xx.dtype}")
    return mean, var


def group_norm(x, num_groups, weight=None, bias=None, double eps=1e-5):
    """Group norm of ``x`` (N, C, ...) over ``num_groups`` channel groups (ATen ``group_norm``).

    Parameters
    ----------
    x : ndarray, shape (N, C, ...), float32 or float64
    num_groups : int
        Must divide C.
    weight, bias : ndarray, shape (C,), optional
    eps : float

    Returns
    -------
    ndarray
        Each (sample, group) normalised by its mean and biased variance, then
        ``* weight + bias`` per channel.
    """
    cdef cnp.ndarray xx = np.ascontiguousarray(x)
    cdef cnp.ndarray ww = None if weight is None else np.asarray(weight)
    cdef cnp.ndarray bb = None if bias is None else np.asarray(bias)
    cdef cnp.ndarray out = np.empty_like(xx, order="C")
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef View sw, sb
    cdef View* pw = optional_view(ww, &sw)
    cdef View* pb = optional_view(bb, &sb)
    cdef Py_ssize_t groups = num_groups
    cdef Status status
    with nogil:
        status = group_norm_kernel(&vx, groups, pw, pb, eps, &vo)
    raise_for_status(status, "group_norm", f"input: {(<object>xx).shape} {xx.dtype}, "
                                           f"num_groups: {num_groups}")
    return out
