"""PReLU over (outer, C, inner) planes of a contiguous input; contract in ``prelu.pxd``."""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_UNSUPPORTED, DT_FLOAT32,
    view_of,
)
from jitcore._runtime.kernels.strided cimport extent, is_dense_output, is_real_dtype, same_shape
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()


cdef void prelu_plane(const real* x, const View* weight, Py_ssize_t channels, Py_ssize_t inner,
                      real* out, Py_ssize_t plane) noexcept nogil:
    cdef Py_ssize_t c = plane % channels if weight.shape[0] > 1 else 0
    cdef real w = (<const real*>(weight.data + c * weight.strides[0]))[0]
    cdef const real* src = x + plane * inner
    cdef real* dst = out + plane * inner
    cdef Py_ssize_t i
    # compiled without trapping math (meson.build), so the compiler computes
    # both sides and selects, in vector registers, instead of branching on the
    # sign (a branch mispredicts on real data); NaN > 0 is false and NaN * w
    # stays NaN
    for i in range(inner):
        dst[i] = src[i] if src[i] > 0 else w * src[i]


cdef Status run_prelu(const real* x, const View* weight, Py_ssize_t planes, Py_ssize_t channels,
                      Py_ssize_t inner, real* out) noexcept nogil:
    cdef Py_ssize_t plane
    cdef int nt = threads_for(planes * inner)
    if nt <= 1 or planes < 2:
        for plane in range(planes):
            prelu_plane(x, weight, channels, inner, out, plane)
    else:
        for plane in prange(planes, nogil=True, num_threads=nt, schedule='static'):
            prelu_plane(x, weight, channels, inner, out, plane)
    return JC_OK


cdef Status prelu_kernel(const View* x, const View* weight, View* out) noexcept nogil:
    # ATen: the channels are dim 1; an input of rank < 2 has one channel
    cdef Py_ssize_t channels = x.shape[1] if x.ndim >= 2 else 1
    cdef Py_ssize_t inner, planes
    if not is_real_dtype(x.dtype) or weight.dtype != x.dtype or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if not same_shape(x, out) or weight.ndim != 1:
        return JC_ERR_SHAPE
    if weight.shape[0] != 1 and weight.shape[0] != channels:
        return JC_ERR_SHAPE
    if not is_dense_output(x) or not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    if weight.shape[0] == 1:
        # one slope for everything: the whole tensor is one plane
        planes, channels, inner = 1, 1, extent(x, 0, x.ndim)
    else:
        inner = extent(x, 2, x.ndim)
        planes = extent(x, 0, 2)
    if planes * inner == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return run_prelu(<const float*>x.data, weight, planes, channels, inner, <float*>out.data)
    return run_prelu(<const double*>x.data, weight, planes, channels, inner, <double*>out.data)


def prelu(x, weight):
    """PReLU of ``x`` with a slope per channel (dim 1) or one slope (ATen ``prelu``).

    Parameters
    ----------
    x : ndarray, float32 or float64
    weight : ndarray, shape (1,) or (C,), x's dtype

    Returns
    -------
    ndarray
    """
    cdef cnp.ndarray xx = np.ascontiguousarray(x)
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef cnp.ndarray out = np.empty_like(xx)
    cdef View vx = view_of(xx), vw = view_of(ww), vo = view_of(out)
    cdef Status status
    with nogil:
        status = prelu_kernel(&vx, &vw, &vo)
    raise_for_status(status, "prelu", f"input: {(<object>xx).shape} {xx.dtype}, "
                                      f"weight: {(<object>ww).shape} {ww.dtype}")
    return out
