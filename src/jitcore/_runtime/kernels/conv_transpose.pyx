"""Transposed 2-D convolution (NCHW) by GEMM + col2im; kernel contract in ``conv_transpose.pxd``.

One *task* is one (image, group) pair.  Its GEMM ``col = W_g^T x_g`` has one
row per (output channel, tap) and one column per input pixel; col2im then adds
row ``(o, i, j)`` into output plane ``o`` at ``(ih*stride_h - pad_h + i*dil_h,
iw*stride_w - pad_w + j*dil_w)``, taps in order, and the bias last.  Each
output plane is written by one thread in that fixed order.
"""
from cython.parallel cimport prange
from libc.stdint cimport uintptr_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, itemsize_of, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32,
)
from jitcore._runtime.kernels.strided cimport is_real_dtype, collapse_dims, is_dense_output
from jitcore._runtime.kernels.blas cimport (
    gemm,
)

cdef enum:
    MAX_PARTS = 64


ctypedef struct Problem:
    View x                  # (N, C, H, W)
    View w                  # (C, O/G, KH, KW)
    View out                # (N, O, OH, OW), C-contiguous
    const View* bias        # NULL or (O,)
    ConvTranspose2dParams p
    Py_ssize_t N, C, H, W, O, KH, KW, OH, OW, G, Cg, Og, K, P
    bint x_direct           # x_g is a row-major matrix GEMM can read in place
    Py_ssize_t x_ld         # its leading dimension, in elements


cdef Status prepare(const View* x, const View* weight, const View* bias, const View* out,
                    const ConvTranspose2dParams* params, Problem* pr) noexcept nogil:
    cdef Py_ssize_t plane, plane_stride, isz
    if not is_real_dtype(x.dtype) or weight.dtype != x.dtype or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if bias != NULL and bias.dtype != x.dtype:
        return JC_ERR_DTYPE
    if params.stride_h < 1 or params.stride_w < 1 or params.dilation_h < 1 \
            or params.dilation_w < 1 or params.pad_h < 0 or params.pad_w < 0 \
            or params.groups < 1:
        return JC_ERR_VALUE
    if x.ndim != 4 or out.ndim != 4 or weight.ndim != 4:
        return JC_ERR_SHAPE
    pr.x = x[0]
    pr.out = out[0]
    pr.bias = bias
    pr.w = weight[0]
    pr.p = params[0]
    pr.N = pr.x.shape[0]
    pr.C = pr.x.shape[1]
    pr.H = pr.x.shape[2]
    pr.W = pr.x.shape[3]
    pr.G = params.groups
    pr.Og = weight.shape[1]
    pr.O = pr.Og * pr.G
    pr.KH = weight.shape[2]
    pr.KW = weight.shape[3]
    if weight.shape[0] != pr.C or pr.C % pr.G != 0:
        return JC_ERR_SHAPE
    if bias != NULL and (bias.ndim != 1 or bias.shape[0] != pr.O):
        return JC_ERR_SHAPE
    pr.Cg = pr.C // pr.G
    pr.OH = pr.out.shape[2]
    pr.OW = pr.out.shape[3]
    # the output's size fixes output_padding, which must stay below stride or dilation
    if pr.out.shape[0] != pr.N or pr.out.shape[1] != pr.O or pr.OH < 1 or pr.OW < 1:
        return JC_ERR_SHAPE
    if not output_padding_ok(pr.OH, pr.H, pr.KH, params.stride_h, params.pad_h, params.dilation_h) \
            or not output_padding_ok(pr.OW, pr.W, pr.KW, params.stride_w, params.pad_w,
                                     params.dilation_w):
        return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    pr.K = pr.Og * pr.KH * pr.KW
    pr.P = pr.H * pr.W
    isz = itemsize_of(x.dtype)
    pr.x_direct = False
    pr.x_ld = pr.P
    if (<uintptr_t>pr.x.data) % isz == 0 and collapse_dims(&pr.x, 2, 4, &plane, &plane_stride) \
            and (plane <= 1 or plane_stride == isz):
        if pr.Cg == 1:
            pr.x_direct = True
        elif pr.x.strides[1] > 0 and pr.x.strides[1] % isz == 0 \
                and pr.x.strides[1] // isz >= pr.P:
            pr.x_direct = True
            pr.x_ld = pr.x.strides[1] // isz
    return JC_OK


cdef inline bint output_padding_ok(Py_ssize_t out_len, Py_ssize_t in_len, Py_ssize_t kernel,
                                   Py_ssize_t stride, Py_ssize_t pad,
                                   Py_ssize_t dilation) noexcept nogil:
    cdef Py_ssize_t extra = out_len - conv_transpose_output_size(in_len, kernel, stride, pad, 0,
                                                                 dilation)
    return extra >= 0 and (extra < stride or extra < dilation)


cdef void pack_weight_transposed(const Problem* pr, real* wt) noexcept nogil:
    """The weight (C_in, C_out/G, KH, KW) as the row-major K x C_in matrix ``W^T``: each
    group's GEMM then takes two row-major operands (the layout the fast GEMM paths take)."""
    cdef Py_ssize_t c, o, i, j, k
    cdef const char* w
    for c in range(pr.C):
        k = 0
        for o in range(pr.Og):
            for i in range(pr.KH):
                for j in range(pr.KW):
                    w = pr.w.data + c * pr.w.strides[0] + o * pr.w.strides[1] \
                        + i * pr.w.strides[2] + j * pr.w.strides[3]
                    wt[k * pr.C + c] = (<const real*>w)[0]
                    k += 1


cdef inline void valid_range(Py_ssize_t in_len, Py_ssize_t out_len, Py_ssize_t stride,
                             Py_ssize_t offset, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Input positions i with 0 <= i*stride + offset < out_len: [lo, hi)."""
    cdef Py_ssize_t end = out_len - offset
    lo[0] = (-offset + stride - 1) // stride if offset < 0 else 0
    hi[0] = (end + stride - 1) // stride if end > 0 else 0
    if hi[0] > in_len:
        hi[0] = in_len
    if lo[0] > hi[0]:
        lo[0] = hi[0]


cdef void col2im_plane(const Problem* pr, const real* col, real* plane,
                       Py_ssize_t o, real bias) noexcept nogil:
    """Output plane ``o`` of the task's group: its taps' rows of ``col``, then the bias."""
    cdef Py_ssize_t i, j, ih, iw, lo_h, hi_h, lo_w, hi_w, off_h, off_w
    cdef Py_ssize_t sw = pr.p.stride_w, OW = pr.OW, W = pr.W
    cdef const real* row
    cdef const real* src
    cdef real* dst
    memset(plane, 0, pr.OH * pr.OW * sizeof(real))
    for i in range(pr.KH):
        off_h = i * pr.p.dilation_h - pr.p.pad_h
        valid_range(pr.H, pr.OH, pr.p.stride_h, off_h, &lo_h, &hi_h)
        for j in range(pr.KW):
            off_w = j * pr.p.dilation_w - pr.p.pad_w
            valid_range(W, OW, sw, off_w, &lo_w, &hi_w)
            row = col + ((o * pr.KH + i) * pr.KW + j) * pr.P
            for ih in range(lo_h, hi_h):
                src = row + ih * W
                dst = plane + (ih * pr.p.stride_h + off_h) * OW + off_w
                if sw == 1:
                    for iw in range(lo_w, hi_w):
                        dst[iw] += src[iw]
                elif sw == 2:
                    # the common upsampling stride as a constant: the loop vectorises
                    for iw in range(lo_w, hi_w):
                        dst[2 * iw] += src[iw]
                else:
                    for iw in range(lo_w, hi_w):
                        dst[iw * sw] += src[iw]
    if bias != 0:
        for i in range(pr.OH * pr.OW):
            plane[i] += bias


cdef inline real bias_of(const Problem* pr, Py_ssize_t channel, const real* like) noexcept nogil:
    """The bias of ``channel`` (0 without one), in the dtype of ``like`` (never read)."""
    if pr.bias == NULL:
        return 0
    return (<const real*>(pr.bias.data + channel * pr.bias.strides[0]))[0]


cdef void pack_group(const Problem* pr, Py_ssize_t n, Py_ssize_t g, real* dst) noexcept nogil:
    """x's (image n, group g) channels as a contiguous Cg x H*W matrix."""
    cdef Py_ssize_t c, h, w
    cdef const char* base = pr.x.data + n * pr.x.strides[0] + g * pr.Cg * pr.x.strides[1]
    for c in range(pr.Cg):
        for h in range(pr.H):
            for w in range(pr.W):
                dst[0] = (<const real*>(base + c * pr.x.strides[1] + h * pr.x.strides[2]
                                        + w * pr.x.strides[3]))[0]
                dst += 1


cdef Status task_gemm(const Problem* pr, const real* wt, Py_ssize_t task, real* col,
                      real* packed) noexcept nogil:
    """``col = W_g^T x_g`` of one (image, group) task."""
    cdef Py_ssize_t n = task // pr.G, g = task % pr.G
    cdef const real* rhs
    if pr.x_direct:
        rhs = <const real*>(pr.x.data + n * pr.x.strides[0] + g * pr.Cg * pr.x.strides[1])
    else:
        pack_group(pr, n, g, packed)
        rhs = packed
    # W_g^T is columns g*Cg.. of the K x C_in matrix W^T
    return gemm(False, False, pr.K, pr.P, pr.Cg, <real>1, wt + g * pr.Cg, pr.C,
                rhs, pr.x_ld if pr.x_direct else pr.P, <real>0, col, pr.P)


cdef Status run_tasks_strided(const Problem* pr, const real* wt, real* out,
                              Py_ssize_t first, Py_ssize_t step, real* col,
                              real* packed) noexcept nogil:
    cdef Py_ssize_t task = first, o, channel
    cdef Status status
    while task < pr.N * pr.G:
        status = task_gemm(pr, wt, task, col, packed)
        if status != JC_OK:
            return status
        for o in range(pr.Og):
            channel = (task % pr.G) * pr.Og + o
            col2im_plane(pr, col, out + ((task // pr.G) * pr.O + channel) * pr.OH * pr.OW, o,
                         bias_of(pr, channel, col))
        task += step
    return JC_OK


cdef void fill_bias(const Problem* pr, real* out) noexcept nogil:
    """The output of a transposed convolution with nothing to sum: the bias (or zeros)."""
    cdef Py_ssize_t plane, i, size = pr.OH * pr.OW
    cdef real value
    for plane in range(pr.N * pr.O):
        value = bias_of(pr, plane % pr.O, out)
        for i in range(size):
            out[plane * size + i] = value


cdef Status run(const Problem* pr, real* out) noexcept nogil:
    cdef Py_ssize_t tasks = pr.N * pr.G, task, o
    cdef Py_ssize_t col_len = pr.K * pr.P, packed_len = 0 if pr.x_direct else pr.Cg * pr.P
    cdef Py_ssize_t per_part = col_len + packed_len
    cdef int nt = threads_for(tasks * pr.K * pr.P * (pr.Cg + 1)), part
    cdef real* workspace
    cdef real* wt
    cdef Status status = JC_OK
    cdef Status part_status[MAX_PARTS]
    if tasks == 0:
        return JC_OK
    if pr.P == 0 or pr.Cg == 0:
        fill_bias(pr, out)
        return JC_OK
    if nt > tasks:
        # too few tasks to share: one at a time, the GEMM and col2im split inside
        nt = 1 if tasks == 1 else <int>tasks
    if nt > MAX_PARTS:
        nt = MAX_PARTS
    # one buffer: W^T (K x C_in), then each thread's col (K x H*W) and packed input
    workspace = <real*>malloc((pr.K * pr.C + nt * per_part) * sizeof(real) + 1)
    if workspace == NULL:
        return JC_ERR_OOM
    wt = workspace
    workspace += pr.K * pr.C
    pack_weight_transposed(pr, wt)
    if nt > 1:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            part_status[part] = run_tasks_strided(pr, wt, out, part, nt,
                                                  workspace + part * per_part,
                                                  workspace + part * per_part + col_len)
        for part in range(nt):
            if part_status[part] != JC_OK:
                status = part_status[part]
    else:
        for task in range(tasks):
            status = task_gemm(pr, wt, task, workspace, workspace + col_len)
            if status != JC_OK:
                break
            col2im_channels(pr, workspace, out, task)
    free(wt)
    return status


cdef void col2im_channels(const Problem* pr, const real* col, real* out,
                          Py_ssize_t task) noexcept nogil:
    """col2im of every output channel of one task, the channels split over threads."""
    cdef Py_ssize_t n = task // pr.G, g = task % pr.G, o
    cdef Py_ssize_t plane_len = pr.OH * pr.OW
    cdef real* first = out + (n * pr.O + g * pr.Og) * plane_len
    cdef int nt = threads_for(pr.Og * pr.KH * pr.KW * pr.P + pr.Og * plane_len)
    if nt <= 1:
        for o in range(pr.Og):
            col2im_plane(pr, col, first + o * plane_len, o, bias_of(pr, g * pr.Og + o, col))
    else:
        for o in prange(pr.Og, nogil=True, num_threads=nt, schedule='static'):
            col2im_plane(pr, col, first + o * plane_len, o, bias_of(pr, g * pr.Og + o, col))


cdef Status conv_transpose2d_kernel(const View* x, const View* weight, const View* bias,
                                    View* out,
                                    const ConvTranspose2dParams* params) noexcept nogil:
    cdef Problem pr
    cdef Status status = prepare(x, weight, bias, out, params, &pr)
    if status != JC_OK:
        return status
    if x.dtype == DT_FLOAT32:
        return run(&pr, <float*>out.data)
    return run(&pr, <double*>out.data)
