"""Interpolation and pixel shuffle kernels; contracts in ``resampling.pxd``.

Interpolation precomputes, for each output row and column, the source
index (as a byte offset) and, for linear, the two weights, with ATen's
formulas in ATen's arithmetic (``ops/defs/resampling.py`` is the NumPy
twin).  Linear mode blends each source row along the width once per plane
(rows are computed on first use into a per-thread buffer), then each output
row is ``top * a0 + bottom * a1`` over two such rows: a contiguous loop.
"""
from cython.parallel cimport prange
from libc.math cimport floor, floorf
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32,
)
from jitcore._runtime.kernels.strided cimport is_real_dtype, is_dense_output

cdef enum:
    MAX_PARTS = 64


# ------------------------------------------------------------ index tables

cdef inline Py_ssize_t nearest_index(Py_ssize_t dst, Py_ssize_t in_size, Py_ssize_t out_size,
                                     double scale) noexcept nogil:
    """ATen's nearest_idx: exact for equal and doubled sizes, else float32 arithmetic."""
    cdef float s, f
    if out_size == in_size:
        return dst
    if out_size == 2 * in_size:
        return dst >> 1
    s = <float>(1.0 / scale) if scale > 0 else <float>in_size / <float>out_size
    f = floorf(<float>dst * s)
    # a tiny given scale overflows 1 / scale to inf (and 0 * inf is NaN): clamp before the
    # cast, which is undefined for both
    if not (f < <float>(in_size - 1)):
        return in_size - 1
    return <Py_ssize_t>f


cdef void linear_table(Py_ssize_t in_size, Py_ssize_t out_size, bint align_corners,
                       double scale, Py_ssize_t stride, Py_ssize_t* left, Py_ssize_t* right,
                       real* w0, real* w1) noexcept nogil:
    """ATen's area_pixel_compute_source_index + guard_index_and_lambda, in ``real``:
    the two source positions of each output position (times ``stride``) and their weights."""
    cdef real s, src, lam
    cdef Py_ssize_t dst, i
    if align_corners:
        s = <real>(in_size - 1) / <real>(out_size - 1) if out_size > 1 else 0
    else:
        s = <real>(1.0 / scale) if scale > 0 else <real>in_size / <real>out_size
    for dst in range(out_size):
        if align_corners:
            src = s * <real>dst
        else:
            src = s * (<real>dst + <real>0.5) - <real>0.5
            if src < 0:
                src = 0
        # src >= 0 here; inf or NaN (from a scale that overflows) take the last position
        i = <Py_ssize_t>floor(src) if src < <real>(in_size - 1) else in_size - 1
        lam = src - <real>i
        if lam < 0:
            lam = 0
        if lam > 1:
            lam = 1
        left[dst] = i * stride
        right[dst] = (i + 1 if i < in_size - 1 else i) * stride
        w0[dst] = 1 - lam
        w1[dst] = lam


# ------------------------------------------------------------ interpolation

ctypedef struct Sampling:
    View x                          # (N, C, H, W); a 3-D op's input without its depth dim
    Py_ssize_t N, C, H, W, OH, OW
    Py_ssize_t D, OD                # 3-D nearest: the depths; 1 and 1 for the 2-D ops
    Py_ssize_t depth_stride         # the input's depth stride in bytes (0 for the 2-D ops)
    double scale_d                  # 3-D nearest: the depth's scale factor (<= 0: not given)
    Py_ssize_t* depths              # OD source depth byte offsets
    InterpolateParams p
    Py_ssize_t* rows                # OH source rows (linear: top rows)
    Py_ssize_t* rows_below          # linear: OH bottom rows
    Py_ssize_t* cols                # OW source column byte offsets (linear: left columns)
    Py_ssize_t* cols_right          # linear: OW right columns
    char* row_weights               # linear: a0[OH], a1[OH] as real
    char* col_weights               # linear: b0[OW], b1[OW] as real


cdef inline const char* plane_base(const Sampling* sp, Py_ssize_t plane) noexcept nogil:
    """The source plane of output plane ``plane`` ((n * C + c) * OD + od)."""
    cdef Py_ssize_t nc = plane // sp.OD
    return sp.x.data + (nc // sp.C) * sp.x.strides[0] + (nc % sp.C) * sp.x.strides[1] \
        + sp.depths[plane % sp.OD]


cdef void nearest_plane(const Sampling* sp, Py_ssize_t plane, real* out) noexcept nogil:
    cdef const char* base = plane_base(sp, plane)
    cdef Py_ssize_t oh, ow, OW = sp.OW
    cdef const char* row
    cdef real* dst = out + plane * sp.OH * OW
    for oh in range(sp.OH):
        if oh > 0 and sp.rows[oh] == sp.rows[oh - 1]:
            memcpy(dst + oh * OW, dst + (oh - 1) * OW, OW * sizeof(real))
            continue
        row = base + sp.rows[oh] * sp.x.strides[2]
        for ow in range(OW):
            dst[oh * OW + ow] = (<const real*>(row + sp.cols[ow]))[0]


cdef void blend_row(const Sampling* sp, const char* row, real* dst) noexcept nogil:
    """One source row blended along the width: ``x[l0] * b0 + x[l1] * b1``."""
    cdef const real* b0 = <const real*>sp.col_weights
    cdef const real* b1 = b0 + sp.OW
    cdef Py_ssize_t ow
    for ow in range(sp.OW):
        dst[ow] = (<const real*>(row + sp.cols[ow]))[0] * b0[ow] \
            + (<const real*>(row + sp.cols_right[ow]))[0] * b1[ow]


cdef inline real* blended(const Sampling* sp, const char* base, Py_ssize_t h,
                          real* rows, unsigned char* done) noexcept nogil:
    """Source row ``h`` blended along the width, computed on first use."""
    cdef real* dst = rows + h * sp.OW
    if not done[h]:
        blend_row(sp, base + h * sp.x.strides[2], dst)
        done[h] = 1
    return dst


cdef void linear_plane(const Sampling* sp, Py_ssize_t plane, real* out, real* rows,
                       unsigned char* done) noexcept nogil:
    cdef const char* base = plane_base(sp, plane)
    cdef const real* a0 = <const real*>sp.row_weights
    cdef const real* a1 = a0 + sp.OH
    cdef Py_ssize_t oh, ow, OW = sp.OW
    cdef real* dst = out + plane * sp.OH * OW
    cdef real* top
    cdef real* bottom
    cdef real wa, wb
    if sp.p.one_dim:
        blend_row(sp, base, dst)
        return
    memset(done, 0, sp.H)
    for oh in range(sp.OH):
        top = blended(sp, base, sp.rows[oh], rows, done)
        bottom = blended(sp, base, sp.rows_below[oh], rows, done)
        wa = a0[oh]
        wb = a1[oh]
        for ow in range(OW):
            dst[oh * OW + ow] = top[ow] * wa + bottom[ow] * wb


cdef Status run_planes(const Sampling* sp, real* out, Py_ssize_t first, Py_ssize_t step,
                       real* rows, unsigned char* done) noexcept nogil:
    cdef Py_ssize_t plane = first
    while plane < sp.N * sp.C * sp.OD:
        if sp.p.mode == INTERP_NEAREST:
            nearest_plane(sp, plane, out)
        else:
            linear_plane(sp, plane, out, rows, done)
        plane += step
    return JC_OK


cdef Status run_interpolate(Sampling* sp, real* out) noexcept nogil:
    cdef Py_ssize_t planes = sp.N * sp.C * sp.OD, oh, ow, od, per_part
    cdef int nt, part
    cdef char* tables
    cdef char* workspace = NULL
    cdef real* rows
    cdef bint linear = sp.p.mode == INTERP_LINEAR
    tables = <char*>malloc(2 * (sp.OH + sp.OW) * (sizeof(Py_ssize_t) + sizeof(real))
                           + sp.OD * sizeof(Py_ssize_t) + 1)
    if tables == NULL:
        return JC_ERR_OOM
    sp.rows = <Py_ssize_t*>tables
    sp.rows_below = sp.rows + sp.OH
    sp.cols = sp.rows_below + sp.OH
    sp.cols_right = sp.cols + sp.OW
    sp.row_weights = <char*>(sp.cols_right + sp.OW)
    sp.col_weights = sp.row_weights + 2 * sp.OH * sizeof(real)
    sp.depths = <Py_ssize_t*>(sp.col_weights + 2 * sp.OW * sizeof(real))
    for od in range(sp.OD):
        sp.depths[od] = nearest_index(od, sp.D, sp.OD, sp.scale_d) * sp.depth_stride
    if linear:
        linear_table(sp.H, sp.OH, sp.p.align_corners, sp.p.scale_h, 1,
                     sp.rows, sp.rows_below, <real*>sp.row_weights,
                     <real*>sp.row_weights + sp.OH)
        linear_table(sp.W, sp.OW, sp.p.align_corners, sp.p.scale_w, sp.x.strides[3],
                     sp.cols, sp.cols_right, <real*>sp.col_weights,
                     <real*>sp.col_weights + sp.OW)
    else:
        for oh in range(sp.OH):
            sp.rows[oh] = nearest_index(oh, sp.H, sp.OH, sp.p.scale_h)
        for ow in range(sp.OW):
            sp.cols[ow] = nearest_index(ow, sp.W, sp.OW, sp.p.scale_w) * sp.x.strides[3]
    nt = threads_for(planes * sp.OH * sp.OW * (4 if linear else 1))
    if nt > planes:
        nt = <int>planes
    if nt > MAX_PARTS:
        nt = MAX_PARTS
    if nt < 1:
        nt = 1
    # linear: each thread blends the source rows of its plane into its own buffer
    per_part = sp.H * sp.OW * sizeof(real) + sp.H + 64 if linear and not sp.p.one_dim else 0
    per_part = (per_part + 63) // 64 * 64
    if per_part > 0:
        workspace = <char*>malloc(nt * per_part + 1)
        if workspace == NULL:
            free(tables)
            return JC_ERR_OOM
    if nt <= 1:
        run_planes(sp, out, 0, 1, <real*>workspace,
                   <unsigned char*>(workspace + sp.H * sp.OW * sizeof(real)))
    else:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            run_planes(sp, out, part, nt, <real*>(workspace + part * per_part),
                       <unsigned char*>(workspace + part * per_part
                                        + sp.H * sp.OW * sizeof(real)))
    free(workspace)
    free(tables)
    return JC_OK


cdef Status sample(const View* x, View* out, const InterpolateParams* params, bint depth,
                   double scale_d) noexcept nogil:
    """``out`` from ``x``: (N, C, H, W), or (N, C, D, H, W) with ``depth`` (nearest only)."""
    cdef Sampling sp
    cdef int d, nd = 5 if depth else 4
    if not is_real_dtype(x.dtype) or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim != nd or out.ndim != nd or out.shape[0] != x.shape[0] or out.shape[1] != x.shape[1]:
        return JC_ERR_SHAPE
    for d in range(2, nd):
        if x.shape[d] < 1 or out.shape[d] < 1:
            return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    # a 3-D op's planes are the 2-D ones, each read at its depth's nearest source
    sp.x = x[0]
    sp.x.ndim = 4
    for d in range(2, 4):
        sp.x.shape[d] = x.shape[d + depth]
        sp.x.strides[d] = x.strides[d + depth]
    sp.p = params[0]
    sp.N = x.shape[0]
    sp.C = x.shape[1]
    sp.H = sp.x.shape[2]
    sp.W = sp.x.shape[3]
    sp.OH = out.shape[2 + depth]
    sp.OW = out.shape[3 + depth]
    sp.D = x.shape[2] if depth else 1
    sp.OD = out.shape[2] if depth else 1
    sp.depth_stride = x.strides[2] if depth else 0
    sp.scale_d = scale_d
    if sp.N * sp.C == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return run_interpolate(&sp, <float*>out.data)
    return run_interpolate(&sp, <double*>out.data)


cdef Status interpolate2d_kernel(const View* x, View* out,
                                 const InterpolateParams* params) noexcept nogil:
    if params.mode != INTERP_NEAREST and params.mode != INTERP_LINEAR:
        return JC_ERR_VALUE
    if params.one_dim and x.ndim == 4 and out.ndim == 4 and (x.shape[2] != 1 or out.shape[2] != 1):
        return JC_ERR_SHAPE
    return sample(x, out, params, False, 0.0)


cdef Status interpolate_nearest3d_kernel(const View* x, View* out, double scale_d, double scale_h,
                                         double scale_w) noexcept nogil:
    cdef InterpolateParams p
    p.mode = INTERP_NEAREST
    p.align_corners = False
    p.one_dim = False
    p.scale_h = scale_h
    p.scale_w = scale_w
    return sample(x, out, &p, True, scale_d)


# ------------------------------------------------------------ pixel shuffle

cdef void shuffle_plane(const View* x, real* out, Py_ssize_t plane, Py_ssize_t r,
                        bint upscale) noexcept nogil:
    """Output plane ``plane`` of the (un)shuffle."""
    cdef Py_ssize_t C = x.shape[1] // (r * r) if upscale else x.shape[1]
    cdef Py_ssize_t H = x.shape[2] if upscale else x.shape[2] // r
    cdef Py_ssize_t W = x.shape[3] if upscale else x.shape[3] // r
    cdef Py_ssize_t n, c, h, w, i, j
    cdef const char* src
    cdef real* dst
    if upscale:
        # out (n, c) row h*r + i, column w*r + j = x (n, c*r*r + i*r + j) row h, column w
        n = plane // C
        c = plane % C
        dst = out + plane * H * r * W * r
        for h in range(H):
            for i in range(r):
                for j in range(r):
                    src = x.data + n * x.strides[0] + (c * r * r + i * r + j) * x.strides[1] \
                        + h * x.strides[2]
                    for w in range(W):
                        dst[w * r + j] = (<const real*>(src + w * x.strides[3]))[0]
                dst += W * r
    else:
        # out (n, c*r*r + i*r + j) row h, column w = x (n, c) row h*r + i, column w*r + j
        n = plane // (C * r * r)
        c = (plane // (r * r)) % C
        i = (plane // r) % r
        j = plane % r
        dst = out + plane * H * W
        for h in range(H):
            src = x.data + n * x.strides[0] + c * x.strides[1] + (h * r + i) * x.strides[2] \
                + j * x.strides[3]
            for w in range(W):
                dst[h * W + w] = (<const real*>(src + w * r * x.strides[3]))[0]


cdef Status run_shuffle(const View* x, real* out, Py_ssize_t planes, Py_ssize_t plane_len,
                        Py_ssize_t r, bint upscale) noexcept nogil:
    cdef Py_ssize_t plane
    cdef int nt = threads_for(planes * plane_len)
    if nt <= 1:
        for plane in range(planes):
            shuffle_plane(x, out, plane, r, upscale)
    else:
        for plane in prange(planes, nogil=True, num_threads=nt, schedule='static'):
            shuffle_plane(x, out, plane, r, upscale)
    return JC_OK


cdef Status pixel_shuffle_kernel(const View* x, View* out, Py_ssize_t r,
                                 bint upscale) noexcept nogil:
    cdef Py_ssize_t n, c, h, w
    if not is_real_dtype(x.dtype) or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if r < 1:
        return JC_ERR_VALUE
    if x.ndim != 4 or out.ndim != 4:
        return JC_ERR_SHAPE
    n, c, h, w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    if upscale:
        if c % (r * r) != 0 or out.shape[0] != n or out.shape[1] != c // (r * r) \
                or out.shape[2] != h * r or out.shape[3] != w * r:
            return JC_ERR_SHAPE
    elif h % r != 0 or w % r != 0 or out.shape[0] != n or out.shape[1] != c * r * r \
            or out.shape[2] != h // r or out.shape[3] != w // r:
        return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    if out.shape[0] * out.shape[1] * out.shape[2] * out.shape[3] == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return run_shuffle(x, <float*>out.data, out.shape[0] * out.shape[1],
                           out.shape[2] * out.shape[3], r, upscale)
    return run_shuffle(x, <double*>out.data, out.shape[0] * out.shape[1],
                       out.shape[2] * out.shape[3], r, upscale)
