"""2-D convolution (NCHW) by im2col + GEMM, with direct depthwise, 1x1 and 3x3 paths.

float32 3x3 "same" convolutions with few input channels (a CNN's stem and
early stages) run the direct AVX-512 kernel of ``conv_direct.h`` where the CPU
has it: no im2col copy and no BLAS packing, bias and ReLU in registers.  Those
with 16..64 input channels (multiples of 16) and output channels a multiple
of 16 run Winograd F(2x2, 3x3) instead (``conv_winograd.h``, on AVX2
``conv_winograd_avx2.h``: 2.25x fewer multiplies, the products as
register-blocked GEMMs), and so do those with up to 256 input and output
channels, which would otherwise take im2col + GEMM (on AVX2 only with enough
tiles: ``winograd_avx2_faster``).  float32 stride-2 convolutions with few
input channels (the 7x7 stem of a ResNet, the 3x3 stem of a MobileNet) and
output rows of at least DIRECT_STRIDED_MIN_OW pixels run ``conv_direct_strided.h``'s direct kernel on a
padded copy of each image whose rows are split into their two column phases.

Depthwise convolutions (one input channel per output channel) run
``conv_depthwise.h``'s kernels: "same" stride-1 planes flattened in place,
planes whose output rows fit one vector row by row in place, others as one
row-kernel call per plane on a padded copy split into the strides' row and
column phases (``DepthwiseLayout``); planes of at most DEPTHWISE_BLOCKED_MAX_P
outputs channel-blocked on a channels-last copy of 16 (AVX2: 8) channels.

Kernel contract in ``conv.pxd``.  The GEMM path's unit is (image, group,
block of output channels, tile of output pixels), fixed by the shape alone
(``gemm_tiling``): its output block is ``W_g @ col`` where ``col`` holds the
unit's columns of the im2col matrix (C_in/groups*KH*KW x OH*OW) of that
image's group, and the epilogue runs on the block while it is in cache.
Several units split over OpenMP threads, each thread with its own im2col
buffer; a lone unit's GEMM splits its own output over the threads
(``blas.pyx``).  The direct 3x3 path splits images over threads, or (image,
8-channel block) units when there are fewer images than threads (batch 1);
the Winograd path splits images, or (image, tile row) units.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.limits cimport INT_MAX
from libc.stdint cimport uintptr_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memcpy, memset

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, itemsize_of, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM, JC_ERR_VALUE,
    JC_ERR_OVERFLOW, JC_ERR_UNSUPPORTED, DT_FLOAT32, view_of, set_contiguous_strides,
)
from jitcore._runtime.kernels.strided cimport (
    is_dense_output,
    is_real_dtype, collapse_dims, unravel_offset, same_shape,
)
from jitcore._runtime.kernels.epilogue cimport (
    Epilogue, TileEpilogue, ACT_NONE, ACT_RELU, ACT_RELU6, ACT_HARDSWISH, ACT_COUNT,
    epilogue_is_empty, jc_hardswishf, jc_hardswish,
    apply_tile_epilogue,
    apply_epilogue_parallel, clamp_activations, activate_row,
)
from jitcore._runtime.kernels.blas cimport (
    BlasOperand, gemm, blas_operand, release_operand, operand_row,
    jc_gr_epilogue, gemm_f32_epilogue, JC_GR_ACT_NONE, JC_GR_ACT_RELU, JC_GR_ACT_RELU6,
    JC_GR_ACT_HARDSWISH,
)
from jitcore._runtime.kernels.linalg cimport EpilogueArgs
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.kernels.scalar_math cimport relu_of, clamp_of
from jitcore._runtime.kernels.cpu_features cimport jc_isa

cnp.import_array()

#: Epilogue activations that are a clamp to constant bounds (name -> (low, high)):
#: the fuser matches them by an op's ``hardtanh`` chain step.
EPILOGUE_CLAMPS = clamp_activations()

# Parallel regions hold at most this many per-thread results.
cdef enum:
    MAX_PARTS = 64


ctypedef struct ConvProblem:
    View x              # (N, C, H, W)
    View w              # (O, C/G, KH, KW)
    View out            # (N, O, OH, OW), C-contiguous
    Conv2dParams p
    Py_ssize_t N, C, H, W, O, KH, KW, OH, OW, G, Cg, Og, K, P
    TileEpilogue ep     # bias (per channel) and residual of image 0, channel 0
    Py_ssize_t residual_image_stride, residual_channel_stride
    const float* winograd_U   # the weight's Winograd transform, given; NULL: computed per call
    const float* nchwc_weight # the weight packed for conv_nchwc.h, given; NULL: packed per call


# ---------------------------------------------------------------- set-up

cdef inline void as_batched(const View* v, View* v4) noexcept nogil:
    """(C, H, W) -> (1, C, H, W); 4-D views pass through."""
    cdef int d
    v4[0] = v[0]
    if v.ndim == 3:
        v4.ndim = 4
        for d in range(3, 0, -1):
            v4.shape[d] = v.shape[d - 1]
            v4.strides[d] = v.strides[d - 1]
        v4.shape[0] = 1
        v4.strides[0] = 0


cdef Status prepare(const View* x, const View* weight, const View* out,
                    const Conv2dParams* params, const Epilogue* ep,
                    ConvProblem* cp) noexcept nogil:
    cdef Py_ssize_t plane, plane_stride
    cdef View r4
    if not is_real_dtype(x.dtype) or weight.dtype != x.dtype or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if params.stride_h < 1 or params.stride_w < 1 or params.dilation_h < 1 \
            or params.dilation_w < 1 or params.pad_h < 0 or params.pad_w < 0 \
            or params.groups < 1:
        return JC_ERR_VALUE
    if (x.ndim != 4 and x.ndim != 3) or out.ndim != x.ndim or weight.ndim != 4:
        return JC_ERR_SHAPE
    as_batched(x, &cp.x)
    as_batched(out, &cp.out)
    cp.w = weight[0]
    cp.p = params[0]
    cp.N = cp.x.shape[0]
    cp.C = cp.x.shape[1]
    cp.H = cp.x.shape[2]
    cp.W = cp.x.shape[3]
    cp.O = weight.shape[0]
    cp.KH = weight.shape[2]
    cp.KW = weight.shape[3]
    cp.G = params.groups
    if cp.C % cp.G != 0 or cp.O % cp.G != 0 or weight.shape[1] * cp.G != cp.C:
        return JC_ERR_SHAPE
    cp.Cg = cp.C // cp.G
    cp.Og = cp.O // cp.G
    cp.OH = conv_output_size(cp.H, cp.KH, params.stride_h, params.pad_h, params.dilation_h)
    cp.OW = conv_output_size(cp.W, cp.KW, params.stride_w, params.pad_w, params.dilation_w)
    if cp.OH < 1 or cp.OW < 1:
        return JC_ERR_SHAPE
    if cp.out.shape[0] != cp.N or cp.out.shape[1] != cp.O or cp.out.shape[2] != cp.OH \
            or cp.out.shape[3] != cp.OW:
        return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    cp.K = cp.Cg * cp.KH * cp.KW
    cp.P = cp.OH * cp.OW
    cp.winograd_U = NULL
    cp.nchwc_weight = NULL
    if cp.Og > INT_MAX or cp.P > INT_MAX or cp.K > INT_MAX:
        return JC_ERR_OVERFLOW
    # the epilogue, resolved for image 0 / channel 0
    cp.ep.addend = NULL
    cp.ep.addend_row_stride = 0
    cp.ep.addend_col_stride = 0
    cp.ep.addend_scale = 1.0
    cp.ep.activation = ACT_NONE
    cp.ep.residual = NULL
    cp.ep.residual_row_stride = 0
    cp.ep.residual_col_stride = 0
    cp.ep.residual_after_activation = False
    cp.residual_image_stride = 0
    cp.residual_channel_stride = 0
    if ep == NULL:
        return JC_OK
    if ep.activation < ACT_NONE or ep.activation >= ACT_COUNT:
        return JC_ERR_VALUE
    cp.ep.activation = ep.activation
    cp.ep.residual_after_activation = ep.residual_after_activation
    if ep.bias != NULL:
        if ep.bias.dtype != x.dtype:
            return JC_ERR_DTYPE
        if ep.bias.ndim != 1 or ep.bias.shape[0] != cp.O:
            return JC_ERR_SHAPE
        cp.ep.addend = ep.bias.data
        cp.ep.addend_row_stride = ep.bias.strides[0]     # one value per channel row
    if ep.residual != NULL:
        if ep.residual.dtype != x.dtype:
            return JC_ERR_DTYPE
        if not same_shape(ep.residual, out):
            return JC_ERR_SHAPE
        as_batched(ep.residual, &r4)
        if not collapse_dims(&r4, 2, 4, &plane, &plane_stride):
            return JC_ERR_UNSUPPORTED
        cp.ep.residual = r4.data
        cp.ep.residual_row_stride = r4.strides[1]
        cp.ep.residual_col_stride = plane_stride
        cp.residual_image_stride = r4.strides[0]
        cp.residual_channel_stride = r4.strides[1]
    return JC_OK


cdef inline void task_epilogue(const ConvProblem* cp, Py_ssize_t n, Py_ssize_t channel,
                               TileEpilogue* t) noexcept nogil:
    """The epilogue of the output block starting at (image n, channel ``channel``)."""
    t[0] = cp.ep
    if t.addend != NULL:
        t.addend = cp.ep.addend + channel * cp.ep.addend_row_stride
    if t.residual != NULL:
        t.residual = cp.ep.residual + n * cp.residual_image_stride \
            + channel * cp.residual_channel_stride


cdef inline void valid_range(Py_ssize_t out_len, Py_ssize_t in_len, Py_ssize_t stride,
                             Py_ssize_t pad, Py_ssize_t offset,
                             Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Output positions o with 0 <= o*stride - pad + offset < in_len: [lo, hi)."""
    cdef Py_ssize_t first = pad - offset
    cdef Py_ssize_t end = in_len + pad - offset
    lo[0] = (first + stride - 1) // stride if first > 0 else 0
    hi[0] = (end + stride - 1) // stride if end > 0 else 0
    if hi[0] > out_len:
        hi[0] = out_len
    if lo[0] > hi[0]:
        lo[0] = hi[0]


# ---------------------------------------------------------------- im2col

cdef inline bint im2col_by_planes(const ConvProblem* cp) noexcept nogil:
    """Whether each im2col plane is one shifted copy of an input plane.

    True for stride 1 when the output is as wide as the input ("same" padding)
    and the input's rows are contiguous: then output row ``oh`` of the plane of
    tap (i, j) reads input row ``oh - pad_h + i*dil_h`` from column
    ``j*dil_w - pad_w`` on, and consecutive rows are consecutive in memory.
    """
    cdef Py_ssize_t isz = itemsize_of(cp.x.dtype)
    return cp.p.stride_h == 1 and cp.p.stride_w == 1 and cp.OW == cp.W \
        and cp.x.strides[3] == isz and cp.x.strides[2] == cp.W * isz


cdef void im2col_planes(const ConvProblem* cp, const char* x_group, real* col) noexcept nogil:
    """im2col when ``im2col_by_planes``: one block copy per (channel, tap) plane.

    The block copy also fills the positions whose column falls into the
    padding with neighbouring pixels (or, clipped at the plane's ends, leaves
    them alone); those positions are zeroed afterwards.
    """
    cdef Py_ssize_t c, i, j, oh, lo, hi, oh_lo, oh_hi, start, end
    cdef Py_ssize_t W = cp.W, plane_len = cp.H * cp.W
    cdef const real* x_plane
    cdef real* plane = col
    for c in range(cp.Cg):
        x_plane = <const real*>(x_group + c * cp.x.strides[1])
        for i in range(cp.KH):
            valid_range(cp.OH, cp.H, 1, cp.p.pad_h, i * cp.p.dilation_h, &oh_lo, &oh_hi)
            for j in range(cp.KW):
                valid_range(cp.OW, cp.W, 1, cp.p.pad_w, j * cp.p.dilation_w, &lo, &hi)
                if oh_lo > 0:
                    memset(plane, 0, oh_lo * W * sizeof(real))
                if oh_hi < cp.OH:
                    memset(plane + oh_hi * W, 0, (cp.OH - oh_hi) * W * sizeof(real))
                if oh_lo < oh_hi:
                    # flat input index of output (oh, 0), clipped to the plane
                    start = (oh_lo - cp.p.pad_h + i * cp.p.dilation_h) * W \
                        + j * cp.p.dilation_w - cp.p.pad_w
                    end = start + (oh_hi - oh_lo) * W
                    memcpy(plane + oh_lo * W + (max(start, 0) - start), x_plane + max(start, 0),
                           (min(end, plane_len) - max(start, 0)) * sizeof(real))
                    for oh in range(oh_lo, oh_hi):
                        if lo > 0:
                            memset(plane + oh * W, 0, lo * sizeof(real))
                        if hi < W:
                            memset(plane + oh * W + hi, 0, (W - hi) * sizeof(real))
                plane += cp.P


cdef void im2col(const ConvProblem* cp, const char* x_group, real* col) noexcept nogil:
    """Write the (Cg*KH*KW) x (OH*OW) patch matrix of one image's group."""
    cdef Py_ssize_t c, i, j, oh, ow, ih, lo, hi, offset
    cdef Py_ssize_t P = cp.P, OW = cp.OW
    cdef Py_ssize_t xs1 = cp.x.strides[1], xs2 = cp.x.strides[2], xs3 = cp.x.strides[3]
    cdef Py_ssize_t sw = cp.p.stride_w
    cdef real* dst
    cdef const char* src
    cdef const real* src_row
    cdef bint unit = xs3 == sizeof(real) and sw == 1
    cdef real* plane = col
    if im2col_by_planes(cp):
        im2col_planes(cp, x_group, col)
        return
    for c in range(cp.Cg):
        for i in range(cp.KH):
            for j in range(cp.KW):
                offset = j * cp.p.dilation_w - cp.p.pad_w
                valid_range(OW, cp.W, sw, cp.p.pad_w, j * cp.p.dilation_w, &lo, &hi)
                for oh in range(cp.OH):
                    dst = plane + oh * OW
                    ih = oh * cp.p.stride_h - cp.p.pad_h + i * cp.p.dilation_h
                    if ih < 0 or ih >= cp.H:
                        memset(dst, 0, OW * sizeof(real))
                        continue
                    src = x_group + c * xs1 + ih * xs2
                    if lo > 0:
                        memset(dst, 0, lo * sizeof(real))
                    if unit:
                        # stride 1 over a unit-stride row: the valid part is one block copy
                        memcpy(dst + lo, <const real*>src + offset + lo, (hi - lo) * sizeof(real))
                    elif sw == 2 and xs3 == sizeof(real):
                        deinterleave2(<const real*>src + offset, dst, lo, hi)
                    else:
                        for ow in range(lo, hi):
                            dst[ow] = (<const real*>(src + (ow * sw + offset) * xs3))[0]
                    if hi < OW:
                        memset(dst + hi, 0, (OW - hi) * sizeof(real))
                plane += P


cdef inline bint is_pointwise(const ConvProblem* cp) noexcept nogil:
    """A 1x1, stride-1, unpadded convolution whose input GEMM can read in place."""
    cdef Py_ssize_t plane, plane_stride
    cdef Py_ssize_t isz = sizeof(double) if cp.x.dtype != DT_FLOAT32 else sizeof(float)
    if cp.KH != 1 or cp.KW != 1 or cp.p.stride_h != 1 or cp.p.stride_w != 1 \
            or cp.p.pad_h != 0 or cp.p.pad_w != 0:
        return False
    if (<uintptr_t>cp.x.data) % isz != 0:
        return False
    if not collapse_dims(&cp.x, 2, 4, &plane, &plane_stride):
        return False
    if plane > 1 and plane_stride != isz:
        return False
    # channel rows are the GEMM's leading dimension
    return cp.Cg == 1 or (cp.x.strides[1] > 0 and cp.x.strides[1] % isz == 0
                          and cp.x.strides[1] // isz >= plane)


cdef Status weight_operand(const ConvProblem* cp, BlasOperand* ow) noexcept nogil:
    """The weight as an O x K matrix, copied once when its trailing dims do not collapse."""
    cdef View w2
    cdef Py_ssize_t k, k_stride, o, e
    cdef Py_ssize_t isz = itemsize_of(cp.w.dtype)
    cdef char* dst
    w2 = cp.w
    w2.ndim = 2
    w2.shape[0] = cp.O
    w2.shape[1] = cp.K
    w2.strides[0] = cp.w.strides[0]
    if collapse_dims(&cp.w, 1, 4, &k, &k_stride):
        w2.strides[1] = k_stride
        return blas_operand(&w2, ow)
    dst = <char*>malloc(cp.O * cp.K * isz + 1)
    if dst == NULL:
        return JC_ERR_OOM
    for o in range(cp.O):
        for e in range(cp.K):
            memcpy(dst + (o * cp.K + e) * isz,
                   cp.w.data + o * cp.w.strides[0] + unravel_offset(&cp.w, 1, 4, e), isz)
    ow.data = dst
    ow.owned = dst
    ow.trans = False
    ow.ld = cp.K if cp.K > 0 else 1
    return JC_OK


# The GEMM path works in units of (image, group, block of output channels,
# tile of output pixels), fixed by the problem's shape alone -- never by the
# thread count -- so every thread count computes every output element with
# the same GEMM call and gets the same bits.  A patch matrix (K x P) larger
# than IM2COL_MAX_BYTES is built in tiles of IM2COL_TILE_BYTES, each just
# before its GEMM, so that a large image never needs the whole matrix at once;
# smaller ones are one tile (tiles of 256 KB-1 MB measured no faster at one
# thread: the GEMM, not the copy, dominates; docs/performance.md).
cdef Py_ssize_t IM2COL_MAX_BYTES = 8 * 1024 * 1024
cdef Py_ssize_t IM2COL_TILE_BYTES = 1024 * 1024
cdef Py_ssize_t MIN_TILE_COLS = 64
# One image's GEMM whose output is a single tile is cut into two blocks of
# output channels from this many multiply-adds on (about 35 us at the FMA
# peak), so that a second thread has work at batch 1 (a 1x1 convolution on
# a 7x7 map gives BLAS too few columns to split).
cdef Py_ssize_t ROW_SPLIT_MIN_WORK = 1 << 21
# Maps of fewer pixels than this (a 4x4 or 7x7 map at batch 16) give a GEMM
# too few columns per image to use its register blocks: several images' patch
# matrices then sit side by side in one GEMM of about this many columns, whose
# output is copied to the images' planes.
cdef Py_ssize_t IMAGE_BATCH_COLS = 128
# A 1x1 convolution reads its input in place, one image per GEMM; on maps of
# fewer pixels than this (2x2) that stays faster than copying the images side
# by side (docs/performance.md).
cdef Py_ssize_t POINTWISE_BATCH_MIN_P = 8


ctypedef struct GemmTiling:
    Py_ssize_t cols, tiles          # output pixels per tile, tiles per (image, group)
    Py_ssize_t rows, row_blocks     # output channels per block, blocks per group
    Py_ssize_t images               # images side by side in one unit's GEMM (1: one image)
    Py_ssize_t units                # N * G * row_blocks * tiles, or ceil(N / images)
    Py_ssize_t col_len              # patch-matrix floats per thread (0: pointwise)
    Py_ssize_t out_len              # a batched unit's GEMM output, floats per thread


cdef void gemm_tiling(const ConvProblem* cp, bint pointwise, Py_ssize_t isz,
                      GemmTiling* gt) noexcept nogil:
    cdef Py_ssize_t cols = cp.P
    gt.out_len = 0
    if cp.G == 1 and cp.N > 2 and cp.P < IMAGE_BATCH_COLS // 2 \
            and (not pointwise or cp.P >= POINTWISE_BATCH_MIN_P):
        # at least two units, so that a second thread has work
        gt.images = min((cp.N + 1) // 2, (IMAGE_BATCH_COLS + cp.P - 1) // cp.P)
        gt.cols, gt.tiles, gt.rows, gt.row_blocks = cp.P, 1, cp.Og, 1
        gt.units = (cp.N + gt.images - 1) // gt.images
        gt.col_len = cp.K * gt.images * cp.P
        gt.out_len = cp.O * gt.images * cp.P
        return
    gt.images = 1
    if not pointwise and cp.K * cp.P * isz > IM2COL_MAX_BYTES:
        cols = max(MIN_TILE_COLS, (IM2COL_TILE_BYTES // (cp.K * isz)) // 16 * 16)
        cols = min(cols, cp.P)
    gt.cols = cols
    gt.tiles = (cp.P + cols - 1) // cols
    gt.rows = cp.Og
    if cp.N * cp.G * gt.tiles == 1 and cp.Og >= 32 and cp.Og * cp.P * cp.K >= ROW_SPLIT_MIN_WORK:
        gt.rows = (cp.Og + 15) // 16 * 8
    gt.row_blocks = (cp.Og + gt.rows - 1) // gt.rows
    gt.units = cp.N * cp.G * gt.row_blocks * gt.tiles
    gt.col_len = 0 if pointwise else cp.K * cols


cdef void im2col_tile(const ConvProblem* cp, const char* x_group, real* col,
                      Py_ssize_t p0, Py_ssize_t pc, Py_ssize_t ld) noexcept nogil:
    """Columns ``[p0, p0 + pc)`` of the patch matrix of one image's group, as a
    K x pc matrix with rows ``ld`` apart (the whole matrix when they are all of it)."""
    cdef Py_ssize_t c, i, j, p, oh, ow0, ow1, ih, lo, hi, a, b, ow, offset
    cdef Py_ssize_t xs1 = cp.x.strides[1], xs2 = cp.x.strides[2], xs3 = cp.x.strides[3]
    cdef Py_ssize_t sw = cp.p.stride_w
    cdef bint unit = xs3 == sizeof(real) and sw == 1
    cdef real* dst_row = col
    cdef real* dst
    cdef const char* src
    if p0 == 0 and pc == cp.P and ld == cp.P:
        im2col(cp, x_group, col)
        return
    for c in range(cp.Cg):
        for i in range(cp.KH):
            for j in range(cp.KW):
                offset = j * cp.p.dilation_w - cp.p.pad_w
                valid_range(cp.OW, cp.W, sw, cp.p.pad_w, j * cp.p.dilation_w, &lo, &hi)
                p = p0
                while p < p0 + pc:
                    oh = p // cp.OW
                    ow0 = p - oh * cp.OW
                    ow1 = min(cp.OW, ow0 + (p0 + pc - p))
                    dst = dst_row + (p - p0)
                    ih = oh * cp.p.stride_h - cp.p.pad_h + i * cp.p.dilation_h
                    if ih < 0 or ih >= cp.H:
                        memset(dst, 0, (ow1 - ow0) * sizeof(real))
                    else:
                        src = x_group + c * xs1 + ih * xs2
                        a = min(max(lo, ow0), ow1)
                        b = min(max(hi, a), ow1)
                        if a > ow0:
                            memset(dst, 0, (a - ow0) * sizeof(real))
                        if unit:
                            memcpy(dst + (a - ow0), <const real*>src + a + offset,
                                   (b - a) * sizeof(real))
                        elif sw == 2 and xs3 == sizeof(real):
                            deinterleave2(<const real*>src + offset, dst - ow0, a, b)
                        else:
                            for ow in range(a, b):
                                dst[ow - ow0] = (<const real*>(src + (ow * sw + offset) * xs3))[0]
                        if ow1 > b:
                            memset(dst + (b - ow0), 0, (ow1 - b) * sizeof(real))
                    p += ow1 - ow0
                dst_row += ld


cdef bint stored_epilogue(const TileEpilogue* t, jc_gr_epilogue* ep) noexcept nogil:
    """``t`` (float32) as the row-major GEMM kernel applies it while it stores its
    tile: a per-channel bias, a residual with unit pixel stride and an activation it
    has; False for any other epilogue (then the separate pass after the product)."""
    cdef Py_ssize_t fsz = sizeof(float)
    if t.activation == ACT_NONE:
        ep.act = JC_GR_ACT_NONE
    elif t.activation == ACT_RELU:
        ep.act = JC_GR_ACT_RELU
    elif t.activation == ACT_RELU6:
        ep.act = JC_GR_ACT_RELU6
    elif t.activation == ACT_HARDSWISH:
        ep.act = JC_GR_ACT_HARDSWISH
    else:
        return False
    ep.bias = <const float*>t.addend
    ep.bias_stride = 0
    if t.addend != NULL:
        if t.addend_col_stride != 0 or t.addend_scale != 1 or t.addend_row_stride % fsz != 0 \
                or (<uintptr_t>t.addend) % fsz != 0:
            return False
        ep.bias_stride = t.addend_row_stride // fsz
    ep.residual = <const float*>t.residual
    ep.ldr = 0
    ep.residual_after = t.residual_after_activation
    if t.residual != NULL:
        if t.residual_col_stride != fsz or t.residual_row_stride % fsz != 0 \
                or (<uintptr_t>t.residual) % fsz != 0:
            return False
        ep.ldr = t.residual_row_stride // fsz
    return True


cdef Status run_unit(const ConvProblem* cp, real* out, const BlasOperand* ow, bint pointwise,
                     const GemmTiling* gt, Py_ssize_t unit, real* col,
                     bint parallel_epilogue, bint patches_ready=False) noexcept nogil:
    """One (image, group, channel block, pixel tile) unit: its GEMM, then its epilogue
    while the block is in cache; ``patches_ready``: ``col`` already holds its patch matrix."""
    cdef Py_ssize_t per_task = gt.row_blocks * gt.tiles
    cdef Py_ssize_t task = unit // per_task
    cdef Py_ssize_t tile = (unit % per_task) // gt.row_blocks
    cdef Py_ssize_t rb = unit % gt.row_blocks
    cdef Py_ssize_t n = task // cp.G
    cdef Py_ssize_t g = task % cp.G
    cdef Py_ssize_t p0 = tile * gt.cols, pc = min(gt.cols, cp.P - tile * gt.cols)
    cdef Py_ssize_t r0 = rb * gt.rows, rc = min(gt.rows, cp.Og - rb * gt.rows)
    cdef Py_ssize_t isz = sizeof(real)
    cdef const char* x_group = cp.x.data + n * cp.x.strides[0] + g * cp.Cg * cp.x.strides[1]
    cdef real* block = out + (n * cp.O + g * cp.Og + r0) * cp.P + p0
    cdef const real* rhs
    cdef Py_ssize_t ld_rhs
    cdef TileEpilogue t
    cdef jc_gr_epilogue fused
    cdef Status status
    if pointwise:
        rhs = <const real*>x_group + p0
        ld_rhs = cp.x.strides[1] // isz if cp.Cg > 1 else cp.P
    else:
        if not patches_ready:
            im2col_tile(cp, x_group, col, p0, pc, pc)
        rhs = col
        ld_rhs = pc
    if real is float and cp.KH == 1 and cp.KW == 1 and not ow.trans:
        # a 1x1 convolution (strided ones too): the epilogue as the kernel stores C
        task_epilogue(cp, n, g * cp.Og + r0, &t)
        if t.residual != NULL:
            t.residual = t.residual + p0 * t.residual_col_stride
        if stored_epilogue(&t, &fused) and gemm_f32_epilogue(
                rc, pc, cp.K, <const float*>operand_row(ow, g * cp.Og + r0, isz), ow.ld,
                rhs, ld_rhs, block, cp.P, &fused):
            return JC_OK
    status = gemm(ow.trans, False, rc, pc, cp.K, <real>1,
                  <const real*>operand_row(ow, g * cp.Og + r0, isz), ow.ld,
                  rhs, ld_rhs, <real>0, block, cp.P)
    if status != JC_OK:
        return status
    task_epilogue(cp, n, g * cp.Og + r0, &t)
    if t.residual != NULL:
        t.residual = t.residual + p0 * t.residual_col_stride
    if parallel_epilogue:
        apply_epilogue_parallel(block, rc, pc, cp.P, &t)
    elif not epilogue_is_empty(&t):
        apply_tile_epilogue(block, rc, pc, cp.P, &t, 0, rc)
    return JC_OK


cdef void pointwise_columns(const ConvProblem* cp, const char* x_image, real* dst,
                            Py_ssize_t ld) noexcept nogil:
    """An ``is_pointwise`` image's patch matrix (its C x P planes) into rows ``ld`` apart:
    one copy per channel, where ``im2col_tile`` walks every output row."""
    cdef Py_ssize_t c
    for c in range(cp.C):
        memcpy(dst + c * ld, x_image + c * cp.x.strides[1], cp.P * sizeof(real))


cdef Status run_image_batch(const ConvProblem* cp, real* out, const BlasOperand* ow,
                            const GemmTiling* gt, Py_ssize_t unit, real* col,
                            bint parallel_epilogue, bint pointwise) noexcept nogil:
    """Images ``[unit * images, ...)`` (G == 1): their patch matrices side by side
    (``pointwise``: copied plane by plane), one GEMM into ``col + col_len``, copied to
    each image's planes, then each image's epilogue."""
    cdef Py_ssize_t n0 = unit * gt.images
    cdef Py_ssize_t nb = min(gt.images, cp.N - n0)
    cdef Py_ssize_t cols = nb * cp.P
    cdef Py_ssize_t i, o
    cdef real* tmp = col + gt.col_len
    cdef real* image
    cdef TileEpilogue t
    cdef Status status
    for i in range(nb):
        if pointwise:
            pointwise_columns(cp, cp.x.data + (n0 + i) * cp.x.strides[0], col + i * cp.P, cols)
        else:
            im2col_tile(cp, cp.x.data + (n0 + i) * cp.x.strides[0], col + i * cp.P, 0, cp.P,
                        cols)
    status = gemm(ow.trans, False, cp.O, cols, cp.K, <real>1,
                  <const real*>operand_row(ow, 0, sizeof(real)), ow.ld, col, cols, <real>0,
                  tmp, cols)
    if status != JC_OK:
        return status
    for i in range(nb):
        image = out + (n0 + i) * cp.O * cp.P
        for o in range(cp.O):
            memcpy(image + o * cp.P, tmp + o * cols + i * cp.P, cp.P * sizeof(real))
        task_epilogue(cp, n0 + i, 0, &t)
        if parallel_epilogue:
            apply_epilogue_parallel(image, cp.O, cp.P, cp.P, &t)
        elif not epilogue_is_empty(&t):
            apply_tile_epilogue(image, cp.O, cp.P, cp.P, &t, 0, cp.O)
    return JC_OK


cdef Status run_units(const ConvProblem* cp, real* out, const BlasOperand* ow, bint pointwise,
                      const GemmTiling* gt, Py_ssize_t first, Py_ssize_t last,
                      real* col, bint patches_ready=False) noexcept nogil:
    cdef Py_ssize_t unit
    cdef Status status
    for unit in range(first, last):
        if gt.images > 1:
            status = run_image_batch(cp, out, ow, gt, unit, col, False, pointwise)
        else:
            status = run_unit(cp, out, ow, pointwise, gt, unit, col, False, patches_ready)
        if status != JC_OK:
            return status
    return JC_OK


cdef inline bint shares_patches(const ConvProblem* cp, bint pointwise,
                               const GemmTiling* gt) noexcept nogil:
    """Whether every unit is a block of output channels of one and the same patch
    matrix (one image, one group, one tile: batch 1), which is then built once."""
    return not pointwise and gt.images == 1 and cp.N * cp.G * gt.tiles == 1 \
        and gt.row_blocks > 1


cdef void im2col_channels(const ConvProblem* cp, real* col, Py_ssize_t c_first,
                          Py_ssize_t c_last) noexcept nogil:
    """The rows of input channels ``[c_first, c_last)`` of image 0's patch matrix."""
    cdef ConvProblem part = cp[0]
    part.Cg = c_last - c_first
    if part.Cg > 0:
        im2col(&part, cp.x.data + c_first * cp.x.strides[1],
               col + c_first * cp.KH * cp.KW * cp.P)


cdef Status run_shared_patches(const ConvProblem* cp, real* out, const BlasOperand* ow,
                               const GemmTiling* gt, real* col, int nt) noexcept nogil:
    """The units of ``shares_patches``: the patch matrix built once, its input
    channels split over the threads, then the blocks of output channels split.
    Each block's GEMM is the one it would be alone, so the bits do not depend on ``nt``."""
    cdef Py_ssize_t per_part = (gt.units + nt - 1) // nt
    cdef Status status = JC_OK
    cdef Status part_status[MAX_PARTS]
    cdef int part
    if nt <= 1:
        im2col_channels(cp, col, 0, cp.Cg)
        return run_units(cp, out, ow, False, gt, 0, gt.units, col, True)
    for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
        im2col_channels(cp, col, part * cp.Cg // nt, (part + 1) * cp.Cg // nt)
    for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
        part_status[part] = run_units(cp, out, ow, False, gt, part * per_part,
                                      min(gt.units, (part + 1) * per_part), col, True)
    for part in range(nt):
        if part_status[part] != JC_OK:
            status = part_status[part]
    return status


cdef Status run_gemm_path(ConvProblem* cp, real* out) noexcept nogil:
    """Every unit of the GEMM path; one unit alone may thread its own GEMM and
    epilogue, several are split over threads in contiguous ranges."""
    cdef BlasOperand ow
    cdef GemmTiling gt
    cdef bint pointwise = is_pointwise(cp)
    cdef Py_ssize_t per_part
    cdef int nt, part
    cdef real* workspace = NULL
    cdef Status status
    cdef Status part_status[MAX_PARTS]
    status = weight_operand(cp, &ow)
    if status != JC_OK:
        return status
    gemm_tiling(cp, pointwise, sizeof(real), &gt)
    nt = threads_for(cp.N * cp.O * cp.P * cp.K)
    if nt > gt.units:
        nt = <int>gt.units
    nt = max(1, min(nt, MAX_PARTS))
    if gt.col_len + gt.out_len > 0:
        workspace = <real*>malloc(nt * (gt.col_len + gt.out_len) * sizeof(real))
        if workspace == NULL:
            release_operand(&ow)
            return JC_ERR_OOM
    if gt.units == 1 and gt.images > 1:
        status = run_image_batch(cp, out, &ow, &gt, 0, workspace, True, pointwise)
    elif gt.units == 1:
        status = run_unit(cp, out, &ow, pointwise, &gt, 0, workspace, True)
    elif shares_patches(cp, pointwise, &gt):
        status = run_shared_patches(cp, out, &ow, &gt, workspace, nt)
    elif nt <= 1:
        status = run_units(cp, out, &ow, pointwise, &gt, 0, gt.units, workspace)
    else:
        per_part = (gt.units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            part_status[part] = run_units(cp, out, &ow, pointwise, &gt, part * per_part,
                                          min(gt.units, (part + 1) * per_part),
                                          workspace + part * (gt.col_len + gt.out_len))
        status = JC_OK
        for part in range(nt):
            if part_status[part] != JC_OK:
                status = part_status[part]
    free(workspace)
    release_operand(&ow)
    return status


# ---------------------------------------------------------------- depthwise

cdef extern from "conv_depthwise.h" nogil:
    int JC_DEPTHWISE_ISA
    int JC_DEPTHWISE_AVX2_ISA
    enum:
        JC_DW_NONE
        JC_DW_RELU
        JC_DW_RELU6
        JC_DW_HARDSWISH
    void jc_depthwise_row_f32(const float* base, const Py_ssize_t* offs, const float* w,
                              Py_ssize_t taps, float* out, Py_ssize_t OW, float bias, int act)
    void jc_depthwise_row_f32_avx2(const float* base, const Py_ssize_t* offs, const float* w,
                                   Py_ssize_t taps, float* out, Py_ssize_t OW, float bias,
                                   int act)


    enum:
        JC_DW_SMALL_MAX_KW
    void jc_depthwise_small_f32(const float* x, Py_ssize_t H, Py_ssize_t W, Py_ssize_t xs_row,
                                const float* w, Py_ssize_t KH, Py_ssize_t KW,
                                Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                                Py_ssize_t dh, Py_ssize_t dw, float* out,
                                Py_ssize_t OH, Py_ssize_t OW, float bias, int act)
    void jc_depthwise_small_f32_avx2(const float* x, Py_ssize_t H, Py_ssize_t W,
                                     Py_ssize_t xs_row, const float* w,
                                     Py_ssize_t KH, Py_ssize_t KW,
                                     Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                                     Py_ssize_t dh, Py_ssize_t dw, float* out,
                                     Py_ssize_t OH, Py_ssize_t OW, float bias, int act)

    void jc_depthwise_flat_f32(const float* x, Py_ssize_t P, const Py_ssize_t* offs,
                               const unsigned short* masks, const float* w, Py_ssize_t taps,
                               float* out, float bias, int act)
    void jc_depthwise_flat_f32_avx2(const float* x, Py_ssize_t P, const Py_ssize_t* offs,
                                    const unsigned short* masks, const float* w,
                                    Py_ssize_t taps, float* out, float bias, int act)
    enum:
        JC_DEPTHWISE_BLOCK_C
        JC_DEPTHWISE_BLOCK_C_AVX2
    void jc_depthwise_block_f32(const float* xb, Py_ssize_t Wp, const float* wb,
                                Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t sh, Py_ssize_t sw,
                                Py_ssize_t dh, Py_ssize_t dw, float* tb,
                                Py_ssize_t OH, Py_ssize_t OW)
    void jc_depthwise_block_f32_avx2(const float* xb, Py_ssize_t Wp, const float* wb,
                                     Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t sh, Py_ssize_t sw,
                                     Py_ssize_t dh, Py_ssize_t dw, float* tb,
                                     Py_ssize_t OH, Py_ssize_t OW)
    void jc_dw_even_f32(const float* src, float* dst, Py_ssize_t n)
    void jc_dw_even_f32_avx2(const float* src, float* dst, Py_ssize_t n)
    void jc_dw_pack_block_f32(const float* src, Py_ssize_t cs, Py_ssize_t rs, Py_ssize_t count,
                              Py_ssize_t H, Py_ssize_t W, float* dst, Py_ssize_t drs)
    void jc_dw_pack_block_f32_avx2(const float* src, Py_ssize_t cs, Py_ssize_t rs,
                                   Py_ssize_t count, Py_ssize_t H, Py_ssize_t W, float* dst,
                                   Py_ssize_t drs)
    void jc_dw_unpack_block_f32(const float* tb, Py_ssize_t P, Py_ssize_t count, float* dst,
                                Py_ssize_t ds, const float* bias, int act)
    void jc_dw_unpack_block_f32_avx2(const float* tb, Py_ssize_t P, Py_ssize_t count,
                                     float* dst, Py_ssize_t ds, const float* bias, int act)

ctypedef void (*depthwise_flat_fn)(const float* x, Py_ssize_t P, const Py_ssize_t* offs,
                                   const unsigned short* masks, const float* w, Py_ssize_t taps,
                                   float* out, float bias, int act) noexcept nogil
ctypedef void (*depthwise_block_fn)(const float* xb, Py_ssize_t Wp, const float* wb,
                                    Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t sh, Py_ssize_t sw,
                                    Py_ssize_t dh, Py_ssize_t dw, float* tb,
                                    Py_ssize_t OH, Py_ssize_t OW) noexcept nogil
ctypedef void (*even_split_fn)(const float* src, float* dst, Py_ssize_t n) noexcept nogil
ctypedef void (*block_pack_fn)(const float* src, Py_ssize_t cs, Py_ssize_t rs, Py_ssize_t count,
                               Py_ssize_t H, Py_ssize_t W, float* dst,
                               Py_ssize_t drs) noexcept nogil
ctypedef void (*block_unpack_fn)(const float* tb, Py_ssize_t P, Py_ssize_t count, float* dst,
                                 Py_ssize_t ds, const float* bias, int act) noexcept nogil
ctypedef void (*depthwise_row_fn)(const float* base, const Py_ssize_t* offs, const float* w,
                                  Py_ssize_t taps, float* out, Py_ssize_t OW, float bias,
                                  int act) noexcept nogil
ctypedef void (*depthwise_small_fn)(const float* x, Py_ssize_t H, Py_ssize_t W, Py_ssize_t xs_row,
                                    const float* w, Py_ssize_t KH, Py_ssize_t KW,
                                    Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                                    Py_ssize_t dh, Py_ssize_t dw, float* out,
                                    Py_ssize_t OH, Py_ssize_t OW, float bias,
                                    int act) noexcept nogil

# Kernels up to this many taps keep their offsets and weights on the stack.
cdef enum:
    DEPTHWISE_MAX_TAPS = 64
    DEPTHWISE_MAX_STRIDE = 8
    # lane masks of the flattened in-place kernel: (vectors + 1) x taps
    DEPTHWISE_FLAT_MAX_MASKS = 2048


ctypedef struct DepthwiseLayout:
    # One input plane, zero-padded (Hp x Wp), split into the strides' phases:
    # padded element (r, c) sits at ``((r % sh) * sw + c % sw) * phase_len
    # + (r // sh) * phase_w + c // sw``.  Output (oh, ow) then reads tap t's input
    # at ``offs[t] + q`` with q = oh * phase_w + ow: along q every tap's input is
    # one contiguous run, so a whole plane is one call of the row kernel over
    # ``span`` = OH * phase_w elements (columns ow >= OW of each row are computed
    # and dropped; a row of 7 or 14 outputs no longer leaves most lanes empty).
    Py_ssize_t phase_w, phase_len, plane_len, span
    Py_ssize_t taps
    Py_ssize_t offs[DEPTHWISE_MAX_TAPS]
    depthwise_row_fn row_f32      # the float32 row kernel at jc_isa()'s level
    depthwise_small_fn small_f32  # the in-place kernel for narrow planes, or NULL
    even_split_fn even_f32        # float32 stride-2 column split at jc_isa()'s level, or NULL
    # "same" stride-1 planes flattened in place (depthwise_flat), or NULL
    depthwise_flat_fn flat_f32
    Py_ssize_t flat_offs[DEPTHWISE_MAX_TAPS]
    unsigned short flat_masks[DEPTHWISE_FLAT_MAX_MASKS]


cdef void depthwise_layout(const ConvProblem* cp, DepthwiseLayout* lay) noexcept nogil:
    cdef Py_ssize_t i, j, r, c
    cdef Py_ssize_t sh = cp.p.stride_h, sw = cp.p.stride_w
    lay.phase_w = (cp.W + 2 * cp.p.pad_w + sw - 1) // sw
    lay.phase_len = (cp.H + 2 * cp.p.pad_h + sh - 1) // sh * lay.phase_w
    # the dropped columns of the last row read up to this far past the last phase
    lay.plane_len = sh * sw * lay.phase_len + (cp.KW - 1) * cp.p.dilation_w // sw + 1
    lay.span = cp.OH * lay.phase_w
    lay.taps = cp.KH * cp.KW
    for i in range(cp.KH):
        for j in range(cp.KW):
            r = i * cp.p.dilation_h
            c = j * cp.p.dilation_w
            lay.offs[i * cp.KW + j] = ((r % sh) * sw + c % sw) * lay.phase_len \
                + (r // sh) * lay.phase_w + c // sw


cdef inline void deinterleave2(const real* src, real* dst, Py_ssize_t k_lo,
                               Py_ssize_t k_hi) noexcept nogil:
    """``dst[k] = src[2 k]`` for k in [k_lo, k_hi)."""
    cdef Py_ssize_t k
    for k in range(k_lo, k_hi):
        dst[k] = src[2 * k]


cdef inline void copy_run(real* dst, const real* src, Py_ssize_t n) noexcept nogil:
    """``dst[:n] = src[:n]``: a loop rather than memcpy, whose call costs as much as
    the copy for the 7- and 14-element rows of small planes."""
    cdef Py_ssize_t k
    for k in range(n):
        dst[k] = src[k]


cdef void depthwise_pack(const ConvProblem* cp, const DepthwiseLayout* lay, const char* x_plane,
                         real* buf) noexcept nogil:
    """The plane at ``x_plane`` into ``buf`` in ``lay``'s padded, phase-split order."""
    cdef Py_ssize_t h, k, a, b, rr, sh = cp.p.stride_h, sw = cp.p.stride_w, pw = cp.p.pad_w
    cdef Py_ssize_t xs2 = cp.x.strides[2], xs3 = cp.x.strides[3]
    cdef Py_ssize_t k_lo[DEPTHWISE_MAX_STRIDE]
    cdef Py_ssize_t k_hi[DEPTHWISE_MAX_STRIDE]
    cdef real* row
    cdef real* dst
    cdef const char* src
    memset(buf, 0, lay.plane_len * sizeof(real))
    # column phase b holds padded columns b + k sw: input column b + k sw - pw,
    # inside for k in [k_lo, k_hi)
    for b in range(sw):
        valid_range(lay.phase_w, cp.W, sw, pw, b, &k_lo[b], &k_hi[b])
    # padded row r = a + rr sh (input row r - ph) goes to row phase a, row rr
    for a in range(sh):
        rr = (cp.p.pad_h - a + sh - 1) // sh if cp.p.pad_h > a else 0
        h = a + rr * sh - cp.p.pad_h
        while h < cp.H:
            row = buf + a * sw * lay.phase_len + rr * lay.phase_w
            src = x_plane + h * xs2
            rr += 1
            h += sh
            if sw == 1 and xs3 == sizeof(real):
                copy_run(row + pw, <const real*>src, cp.W)
                continue
            for b in range(sw):
                dst = row + b * lay.phase_len
                if sw == 2 and xs3 == sizeof(real):
                    if real is float:
                        if lay.even_f32 != NULL and k_hi[b] > k_lo[b]:
                            lay.even_f32(<const float*>src + b - pw + 2 * k_lo[b],
                                         dst + k_lo[b], k_hi[b] - k_lo[b])
                            continue
                    # a constant stride of 2 elements: gcc vectorises the even/odd split
                    deinterleave2(<const real*>src + b - pw, dst, k_lo[b], k_hi[b])
                    continue
                for k in range(k_lo[b], k_hi[b]):
                    dst[k] = (<const real*>(src + (b + k * sw - pw) * xs3))[0]


cdef void depthwise_row(const real* base, const Py_ssize_t* offs, const real* w,
                        Py_ssize_t taps, real* out, Py_ssize_t OW, real bias,
                        int act) noexcept nogil:
    """One output row, tap by tap (multiply, then add), then ``+ bias`` and ``act``
    (conv_depthwise.h's JC_DW_*): the baseline and float64 path."""
    cdef Py_ssize_t t, ow
    cdef const real* src
    cdef real wv
    for ow in range(OW):
        out[ow] = 0
    for t in range(taps):
        wv = w[t]
        src = base + offs[t]
        for ow in range(OW):
            out[ow] += wv * src[ow]
    for ow in range(OW):
        out[ow] += bias
    if act == JC_DW_RELU:
        for ow in range(OW):
            out[ow] = relu_of(out[ow])
    elif act == JC_DW_RELU6:
        for ow in range(OW):
            out[ow] = clamp_of(out[ow], <real>0, <real>6)
    elif act == JC_DW_HARDSWISH:
        for ow in range(OW):
            out[ow] = jc_hardswishf(out[ow]) if real is float else jc_hardswish(out[ow])


cdef inline int row_activation(const ConvProblem* cp) noexcept nogil:
    """The epilogue as the row kernels' JC_DW_* code, or -1 when they cannot apply it
    (a residual, another activation): then the per-plane epilogue runs."""
    if cp.ep.residual != NULL:
        return -1
    if cp.ep.activation == ACT_NONE:
        return JC_DW_NONE
    if cp.ep.activation == ACT_RELU:
        return JC_DW_RELU
    if cp.ep.activation == ACT_RELU6:
        return JC_DW_RELU6
    if cp.ep.activation == ACT_HARDSWISH:
        return JC_DW_HARDSWISH
    return -1


cdef inline even_split_fn depthwise_even_f32() noexcept nogil:
    """The vector stride-2 column split at jc_isa()'s level, or NULL (the loop)."""
    cdef int level = jc_isa()
    if level >= JC_DEPTHWISE_ISA:
        return jc_dw_even_f32
    if level >= JC_DEPTHWISE_AVX2_ISA:
        return jc_dw_even_f32_avx2
    return NULL


cdef inline depthwise_row_fn depthwise_row_f32() noexcept nogil:
    """The float32 row kernel at jc_isa()'s level (the baseline one otherwise)."""
    cdef int level = jc_isa()
    if level >= JC_DEPTHWISE_ISA:
        return jc_depthwise_row_f32
    if level >= JC_DEPTHWISE_AVX2_ISA:
        return jc_depthwise_row_f32_avx2
    return depthwise_row[float]


# Narrow planes run in place when their output row fits one vector (AVX-512: 16
# lanes, AVX2: 8).
cdef enum:
    DEPTHWISE_SMALL_LANES = 16
    DEPTHWISE_SMALL_LANES_AVX2 = 8


cdef depthwise_small_fn depthwise_small_f32(const ConvProblem* cp) noexcept nogil:
    """The in-place kernel for this float32 problem's planes at jc_isa()'s level, or
    NULL: output rows of one vector, stride 1 or 2 along the width, columns
    contiguous and rows a whole number of floats apart."""
    cdef int level = jc_isa()
    if cp.x.dtype != DT_FLOAT32 or cp.p.stride_w > 2 or cp.KW > JC_DW_SMALL_MAX_KW \
            or cp.x.strides[3] != sizeof(float) or cp.x.strides[2] % sizeof(float) != 0 \
            or (<uintptr_t>cp.x.data) % sizeof(float) != 0:
        return NULL
    if level >= JC_DEPTHWISE_ISA and cp.OW <= DEPTHWISE_SMALL_LANES:
        return jc_depthwise_small_f32
    if level >= JC_DEPTHWISE_AVX2_ISA and cp.OW <= DEPTHWISE_SMALL_LANES_AVX2:
        return jc_depthwise_small_f32_avx2
    return NULL


cdef void depthwise_flat(const ConvProblem* cp, DepthwiseLayout* lay) noexcept nogil:
    """Set ``lay.flat_f32`` (and its offsets and masks) when this float32 problem's
    planes run flattened in place: stride 1, output planes the input's size, each
    plane contiguous, and a mask table that fits."""
    cdef int level = jc_isa()
    cdef Py_ssize_t lanes, nvec, v, lane, i, j, q, oh, ow, ih, iw
    cdef Py_ssize_t taps = cp.KH * cp.KW
    lay.flat_f32 = NULL
    if cp.x.dtype != DT_FLOAT32 or cp.p.stride_h != 1 or cp.p.stride_w != 1 \
            or cp.OH != cp.H or cp.OW != cp.W or cp.x.strides[3] != sizeof(float) \
            or cp.x.strides[2] != cp.W * sizeof(float) \
            or (<uintptr_t>cp.x.data) % sizeof(float) != 0:
        return
    if level >= JC_DEPTHWISE_ISA:
        lanes = DEPTHWISE_SMALL_LANES
    elif level >= JC_DEPTHWISE_AVX2_ISA:
        lanes = DEPTHWISE_SMALL_LANES_AVX2
    else:
        return
    nvec = (cp.P + lanes - 1) // lanes
    if (nvec + 1) * taps > DEPTHWISE_FLAT_MAX_MASKS:
        return
    for i in range(cp.KH):
        for j in range(cp.KW):
            lay.flat_offs[i * cp.KW + j] = (i * cp.p.dilation_h - cp.p.pad_h) * cp.W \
                + j * cp.p.dilation_w - cp.p.pad_w
    memset(lay.flat_masks, 0, (nvec + 1) * taps * sizeof(unsigned short))
    # output q = oh * W + ow, walked without divisions (the table is built per call)
    oh = ow = v = lane = 0
    for q in range(cp.P):
        for i in range(cp.KH):
            ih = oh + i * cp.p.dilation_h - cp.p.pad_h
            if ih < 0 or ih >= cp.H:
                continue
            for j in range(cp.KW):
                iw = ow + j * cp.p.dilation_w - cp.p.pad_w
                if 0 <= iw < cp.W:
                    lay.flat_masks[v * taps + i * cp.KW + j] |= <unsigned short>(1 << lane)
        ow += 1
        if ow == cp.W:
            ow = 0
            oh += 1
        lane += 1
        if lane == lanes:
            lane = 0
            v += 1
    lay.flat_f32 = jc_depthwise_flat_f32 if lanes == DEPTHWISE_SMALL_LANES \
        else jc_depthwise_flat_f32_avx2


cdef void depthwise_plane(const ConvProblem* cp, const DepthwiseLayout* lay, real* out,
                          Py_ssize_t plane_index, real* buf) noexcept nogil:
    """One output plane (its channel reads one input channel): in place by the narrow
    planes' kernel, or with ``buf`` for the padded input (``lay.plane_len``) and its
    padded-width result (``lay.span``)."""
    cdef Py_ssize_t n = plane_index // cp.O
    cdef Py_ssize_t o = plane_index % cp.O
    cdef Py_ssize_t g = o // cp.Og
    cdef real* dst_plane = out + plane_index * cp.P
    cdef real* wide = buf + lay.plane_len
    cdef const char* x_plane
    cdef bint in_place = False
    cdef real w[DEPTHWISE_MAX_TAPS]
    cdef Py_ssize_t i, j, oh
    cdef TileEpilogue t
    cdef int act = row_activation(cp)
    cdef real bias = 0
    if act >= 0 and cp.ep.addend != NULL:
        bias = (<const real*>(cp.ep.addend + o * cp.ep.addend_row_stride))[0]
    for i in range(cp.KH):
        for j in range(cp.KW):
            w[i * cp.KW + j] = (<const real*>(cp.w.data + o * cp.w.strides[0]
                                              + i * cp.w.strides[2] + j * cp.w.strides[3]))[0]
    x_plane = cp.x.data + n * cp.x.strides[0] + g * cp.x.strides[1]
    if real is float:
        if lay.flat_f32 != NULL:
            lay.flat_f32(<const float*>x_plane, cp.P, lay.flat_offs, lay.flat_masks, w, lay.taps,
                         dst_plane, bias, max(act, JC_DW_NONE))
            in_place = True
        elif lay.small_f32 != NULL:
            lay.small_f32(<const float*>x_plane, cp.H, cp.W, cp.x.strides[2] // sizeof(float), w,
                          cp.KH, cp.KW, cp.p.stride_h, cp.p.stride_w, cp.p.pad_h, cp.p.pad_w,
                          cp.p.dilation_h, cp.p.dilation_w, dst_plane, cp.OH, cp.OW, bias,
                          max(act, JC_DW_NONE))
            in_place = True
    if not in_place:
        depthwise_pack(cp, lay, x_plane, buf)
        if lay.phase_w == cp.OW:
            wide = dst_plane      # no dropped columns: the rows are the output's
        if real is float:
            lay.row_f32(buf, lay.offs, w, lay.taps, wide, lay.span, bias, max(act, JC_DW_NONE))
        else:
            depthwise_row(buf, lay.offs, w, lay.taps, wide, lay.span, bias,
                          max(act, JC_DW_NONE))
        if wide != dst_plane:
            for oh in range(cp.OH):
                copy_run(dst_plane + oh * cp.OW, wide + oh * lay.phase_w, cp.OW)
    if act < 0:
        task_epilogue(cp, n, o, &t)
        if not epilogue_is_empty(&t):
            apply_tile_epilogue(dst_plane, 1, cp.P, cp.P, &t, 0, 1)


cdef void depthwise_planes(const ConvProblem* cp, const DepthwiseLayout* lay, real* out,
                           Py_ssize_t first, Py_ssize_t last, real* buf) noexcept nogil:
    cdef Py_ssize_t plane
    for plane in range(first, last):
        depthwise_plane(cp, lay, out, plane, buf)


# Planes of at most this many outputs (one AVX-512 vector: 4x4, 2x2) run
# channel-blocked (float32, AVX2 or AVX-512): per plane, the in-place kernels
# would spend more on the plane's set-up than on its few outputs.
cdef Py_ssize_t DEPTHWISE_BLOCKED_MAX_P = 16
# ... and strided ones of at most this many (8x8, 7x7), whose in-place rows each
# cost two loads and a permute per tap.
cdef Py_ssize_t DEPTHWISE_BLOCKED_MAX_P_STRIDED = 64


ctypedef struct DepthwiseBlocks:
    # A block of CB output channels of one image, channels-last: the padded
    # input ``xb`` (Hp x Wp x CB), weights ``wb`` (taps x CB, packed once for
    # all images), output ``tb`` (P x CB).
    depthwise_block_fn run
    block_pack_fn pack          # the copies in and out, CB x CB transposes
    block_unpack_fn unpack
    Py_ssize_t CB, Hp, Wp, xb_len, wb_len, tb_len, per_image


cdef bint depthwise_blocks(const ConvProblem* cp, DepthwiseBlocks* db) noexcept nogil:
    """Fill ``db`` when this float32 depthwise convolution runs channel-blocked."""
    cdef int level = jc_isa()
    if cp.x.dtype != DT_FLOAT32 or cp.P > (DEPTHWISE_BLOCKED_MAX_P if cp.p.stride_w == 1
                                           else DEPTHWISE_BLOCKED_MAX_P_STRIDED):
        return False
    if level >= JC_DEPTHWISE_ISA:
        db.run = jc_depthwise_block_f32
        db.pack = jc_dw_pack_block_f32
        db.unpack = jc_dw_unpack_block_f32
        db.CB = JC_DEPTHWISE_BLOCK_C
    elif level >= JC_DEPTHWISE_AVX2_ISA:
        db.run = jc_depthwise_block_f32_avx2
        db.pack = jc_dw_pack_block_f32_avx2
        db.unpack = jc_dw_unpack_block_f32_avx2
        db.CB = JC_DEPTHWISE_BLOCK_C_AVX2
    else:
        return False
    db.Hp = cp.H + 2 * cp.p.pad_h
    db.Wp = cp.W + 2 * cp.p.pad_w
    db.xb_len = db.Hp * db.Wp * db.CB
    db.wb_len = cp.KH * cp.KW * db.CB
    db.tb_len = cp.P * db.CB
    db.per_image = (cp.O + db.CB - 1) // db.CB
    return True


cdef void depthwise_pack_weights(const ConvProblem* cp, const DepthwiseBlocks* db,
                                 float* wall) noexcept nogil:
    """Every channel block's weights, ``wall[block * wb_len + tap * CB + c]`` (zero
    for the missing channels of a last block): packed once, read by every image."""
    cdef Py_ssize_t o, i, j, CB = db.CB, taps = cp.KH * cp.KW, f = sizeof(float)
    if cp.w.strides[3] == f and cp.w.strides[2] == cp.KW * f and cp.w.strides[0] == taps * f:
        # each block's (CB, taps) rows, transposed in registers (zero past O)
        for i in range(db.per_image):
            o = i * CB
            db.pack(<const float*>(cp.w.data + o * cp.w.strides[0]), taps, taps,
                    min(CB, cp.O - o), 1, taps, wall + i * db.wb_len, 0)
        return
    memset(wall, 0, db.per_image * db.wb_len * sizeof(float))
    for o in range(cp.O):
        for i in range(cp.KH):
            for j in range(cp.KW):
                wall[(o // CB) * db.wb_len + (i * cp.KW + j) * CB + o % CB] = (<const float*>(
                    cp.w.data + o * cp.w.strides[0] + i * cp.w.strides[2]
                    + j * cp.w.strides[3]))[0]


cdef inline bint depthwise_packs_in_registers(const ConvProblem* cp) noexcept nogil:
    """Whether depthwise_block copies its input by the registers' transposes: one
    input plane per output channel, rows of contiguous floats."""
    return cp.Og == 1 and cp.x.strides[3] == sizeof(float) \
        and cp.x.strides[1] % sizeof(float) == 0 and cp.x.strides[2] % sizeof(float) == 0


cdef void depthwise_block(const ConvProblem* cp, const DepthwiseBlocks* db, float* out,
                          Py_ssize_t unit, const float* wall, float* work) noexcept nogil:
    """Output channels [o0, o0 + CB) of one image (``unit``), with ``work`` for its buffers."""
    cdef Py_ssize_t n = unit // db.per_image
    cdef Py_ssize_t o0 = (unit % db.per_image) * db.CB
    cdef Py_ssize_t count = min(db.CB, cp.O - o0)
    cdef Py_ssize_t CB = db.CB, c, o, h, w, i, j, px
    cdef float* xb = work
    cdef float* tb = work + db.xb_len
    cdef const float* wb = wall + (unit % db.per_image) * db.wb_len
    cdef float lanes[JC_DEPTHWISE_BLOCK_C]
    cdef float* dst
    cdef const char* x_plane
    cdef const char* src
    cdef TileEpilogue t
    cdef int act = row_activation(cp)
    if depthwise_packs_in_registers(cp):
        # channel o reads input plane o, rows contiguous: transposed in registers,
        # into a buffer zeroed once (only the interior is written, every lane)
        db.pack(<const float*>(cp.x.data + n * cp.x.strides[0] + o0 * cp.x.strides[1]),
                cp.x.strides[1] // sizeof(float), cp.x.strides[2] // sizeof(float), count,
                cp.H, cp.W, xb + (cp.p.pad_h * db.Wp + cp.p.pad_w) * CB, db.Wp * CB)
    else:
        memset(xb, 0, db.xb_len * sizeof(float))
        for c in range(count):
            o = o0 + c
            x_plane = cp.x.data + n * cp.x.strides[0] + (o // cp.Og) * cp.x.strides[1]
            for h in range(cp.H):
                src = x_plane + h * cp.x.strides[2]
                dst = xb + ((h + cp.p.pad_h) * db.Wp + cp.p.pad_w) * CB + c
                for w in range(cp.W):
                    dst[w * CB] = (<const float*>(src + w * cp.x.strides[3]))[0]
    db.run(xb, db.Wp, wb, cp.KH, cp.KW, cp.p.stride_h, cp.p.stride_w,
           cp.p.dilation_h, cp.p.dilation_w, tb, cp.OH, cp.OW)
    if cp.ep.addend != NULL and cp.ep.residual == NULL:
        for c in range(CB):
            lanes[c] = (<const float*>(cp.ep.addend + (o0 + c) * cp.ep.addend_row_stride))[0] \
                if c < count else 0
    if act >= 0:
        # the row kernels' epilogue (bias, then relu/relu6/hardswish), each channel's
        # pixels one vector as they are stored
        db.unpack(tb, cp.P, count, out + (n * cp.O + o0) * cp.P, cp.P,
                  lanes if cp.ep.addend != NULL else NULL, act)
        return
    if cp.ep.residual == NULL:
        # bias then activation on the channels-last block, whole pixels at a time
        # (the same two steps per element as the per-plane epilogue)
        if cp.ep.addend != NULL:
            for px in range(cp.P):
                for c in range(CB):
                    tb[px * CB + c] += lanes[c]
        activate_row(tb, cp.P * CB, cp.ep.activation)
    db.unpack(tb, cp.P, count, out + (n * cp.O + o0) * cp.P, cp.P, NULL, -1)
    if cp.ep.residual != NULL:
        for c in range(count):
            task_epilogue(cp, n, o0 + c, &t)
            apply_tile_epilogue(out + (n * cp.O + o0 + c) * cp.P, 1, cp.P, cp.P, &t, 0, 1)


cdef void depthwise_block_range(const ConvProblem* cp, const DepthwiseBlocks* db, float* out,
                                Py_ssize_t first, Py_ssize_t last, const float* wall,
                                float* work) noexcept nogil:
    cdef Py_ssize_t unit
    for unit in range(first, last):
        depthwise_block(cp, db, out, unit, wall, work)


cdef Status run_depthwise_blocked(ConvProblem* cp, const DepthwiseBlocks* db,
                                  float* out) noexcept nogil:
    """Channel blocks of every image, split over threads, one workspace each."""
    cdef Py_ssize_t units = cp.N * db.per_image
    cdef Py_ssize_t work_len = db.xb_len + db.tb_len
    cdef Py_ssize_t per_part
    cdef int nt = threads_for(cp.N * cp.O * cp.P * cp.KH * cp.KW)
    cdef int part
    cdef float* work
    cdef float* wall
    nt = <int>min(<Py_ssize_t>max(nt, 1), units)
    # zeroed once: the padding of each thread's input block stays zero
    work = <float*>calloc(nt * work_len + db.per_image * db.wb_len, sizeof(float))
    if work == NULL:
        return JC_ERR_OOM
    wall = work + nt * work_len
    depthwise_pack_weights(cp, db, wall)
    if nt <= 1:
        depthwise_block_range(cp, db, out, 0, units, wall, work)
    else:
        per_part = (units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            depthwise_block_range(cp, db, out, part * per_part,
                                  min(units, (part + 1) * per_part), wall,
                                  work + part * work_len)
    free(work)
    return JC_OK


cdef Status run_depthwise(ConvProblem* cp, real* out) noexcept nogil:
    """Depthwise (one input channel per output channel): output planes split over threads,
    each thread with its own buffers for the plane it is on."""
    cdef Py_ssize_t planes = cp.N * cp.O
    cdef Py_ssize_t per_part, work_len
    cdef DepthwiseLayout lay
    cdef int nt = threads_for(planes * cp.P * cp.KH * cp.KW)
    cdef int part
    cdef real* bufs
    cdef DepthwiseBlocks db
    if real is float:
        if depthwise_blocks(cp, &db):
            return run_depthwise_blocked(cp, &db, out)
    if cp.KH * cp.KW > DEPTHWISE_MAX_TAPS or cp.p.stride_w > DEPTHWISE_MAX_STRIDE \
            or cp.p.stride_h > DEPTHWISE_MAX_STRIDE:
        return run_gemm_path(cp, out)
    depthwise_layout(cp, &lay)
    lay.row_f32 = depthwise_row_f32()
    lay.small_f32 = depthwise_small_f32(cp) if real is float else NULL
    lay.even_f32 = depthwise_even_f32()
    depthwise_flat(cp, &lay)
    work_len = lay.plane_len + lay.span
    nt = <int>min(<Py_ssize_t>max(nt, 1), planes)
    bufs = <real*>malloc(nt * work_len * sizeof(real))
    if bufs == NULL:
        return JC_ERR_OOM
    if nt <= 1:
        depthwise_planes(cp, &lay, out, 0, planes, bufs)
    else:
        per_part = (planes + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            depthwise_planes(cp, &lay, out, part * per_part, min(planes, (part + 1) * per_part),
                             bufs + part * work_len)
    free(bufs)
    return JC_OK


# ---------------------------------------------------------------- direct 3x3

cdef extern from "conv_direct.h" nogil:
    int JC_DIRECT3X3_ISA
    int JC_DIRECT3X3_AVX2_ISA
    void jc_direct3x3_f32(const float* xpad, Py_ssize_t C, Py_ssize_t Hp, Py_ssize_t Wp,
                          const float* wpack, Py_ssize_t O,
                          float* out, Py_ssize_t OH, Py_ssize_t OW,
                          const float* bias, int relu)
    void jc_direct3x3_pool2_f32(const float* xpad, Py_ssize_t C, Py_ssize_t Hp, Py_ssize_t Wp,
                                const float* wpack, Py_ssize_t O,
                                float* pooled, Py_ssize_t OH, Py_ssize_t OW,
                                const float* bias, int relu)
    void jc_direct3x3_f32_avx2(const float* xpad, Py_ssize_t C, Py_ssize_t Hp, Py_ssize_t Wp,
                               const float* wpack, Py_ssize_t O,
                               float* out, Py_ssize_t OH, Py_ssize_t OW,
                               const float* bias, int relu)
    void jc_direct3x3_pool2_f32_avx2(const float* xpad, Py_ssize_t C, Py_ssize_t Hp,
                                     Py_ssize_t Wp, const float* wpack, Py_ssize_t O,
                                     float* pooled, Py_ssize_t OH, Py_ssize_t OW,
                                     const float* bias, int relu)
    enum:
        JC_DIRECT3X3_BLOCK_O
        JC_DIRECT3X3_BLOCK_PX

# Above this many input channels im2col + GEMM amortises its copies.
cdef Py_ssize_t DIRECT3X3_MAX_CHANNELS = 64

# One direct kernel: the convolution, or it then pooled (the same signature).
ctypedef void (*direct3x3_fn)(const float* xpad, Py_ssize_t C, Py_ssize_t Hp, Py_ssize_t Wp,
                              const float* wpack, Py_ssize_t O,
                              float* out, Py_ssize_t OH, Py_ssize_t OW,
                              const float* bias, int relu) noexcept nogil

ctypedef struct Direct3x3Kernels:
    direct3x3_fn conv
    direct3x3_fn conv_pool2

cdef Direct3x3Kernels DIRECT3X3_AVX512 = Direct3x3Kernels(jc_direct3x3_f32,
                                                          jc_direct3x3_pool2_f32)
cdef Direct3x3Kernels DIRECT3X3_AVX2 = Direct3x3Kernels(jc_direct3x3_f32_avx2,
                                                        jc_direct3x3_pool2_f32_avx2)


cdef inline bint is_same_3x3_f32(const ConvProblem* cp) noexcept nogil:
    """A float32, ungrouped 3x3 convolution with stride 1, dilation 1 and padding 1."""
    return cp.x.dtype == DT_FLOAT32 and cp.G == 1 \
        and cp.KH == 3 and cp.KW == 3 and cp.p.stride_h == 1 and cp.p.stride_w == 1 \
        and cp.p.dilation_h == 1 and cp.p.dilation_w == 1 \
        and cp.p.pad_h == 1 and cp.p.pad_w == 1


cdef inline const Direct3x3Kernels* use_direct3x3(const ConvProblem* cp) noexcept nogil:
    """The direct kernels at jc_isa()'s level for float32 3x3 "same" convolutions
    with few channels and O a multiple of 8, or NULL (im2col + GEMM)."""
    cdef int level = jc_isa()
    if not (is_same_3x3_f32(cp) and cp.O % JC_DIRECT3X3_BLOCK_O == 0
            and cp.C <= DIRECT3X3_MAX_CHANNELS):
        return NULL
    if level >= JC_DIRECT3X3_ISA:
        return &DIRECT3X3_AVX512
    if level >= JC_DIRECT3X3_AVX2_ISA:
        return &DIRECT3X3_AVX2
    return NULL


cdef void pack_weight_blocks(const ConvProblem* cp, float* wpack) noexcept nogil:
    """(O, C, KH, KW), any strides -> (O / 8, C, KH KW, 8): each block's 8 channels
    adjacent (the direct kernels' layout)."""
    cdef Py_ssize_t o, c, tap
    cdef Py_ssize_t B = JC_DIRECT3X3_BLOCK_O, taps = cp.KH * cp.KW
    for o in range(cp.O):
        for c in range(cp.C):
            for tap in range(taps):
                wpack[(((o // B) * cp.C + c) * taps + tap) * B + o % B] = \
                    (<const float*>(cp.w.data + o * cp.w.strides[0] + c * cp.w.strides[1]
                                    + (tap // cp.KW) * cp.w.strides[2]
                                    + (tap % cp.KW) * cp.w.strides[3]))[0]


cdef void pad_image(const ConvProblem* cp, Py_ssize_t n, float* xpad,
                    Py_ssize_t Hp, Py_ssize_t Wp) noexcept nogil:
    """Copy image ``n`` into the interior of ``xpad`` (borders stay zero)."""
    cdef Py_ssize_t c, h, w
    cdef const char* src
    cdef float* dst
    cdef bint unit = cp.x.strides[3] == sizeof(float)
    for c in range(cp.C):
        for h in range(cp.H):
            src = cp.x.data + n * cp.x.strides[0] + c * cp.x.strides[1] + h * cp.x.strides[2]
            dst = xpad + (c * Hp + h + 1) * Wp + 1
            if unit:
                memcpy(dst, src, cp.W * sizeof(float))
            else:
                for w in range(cp.W):
                    dst[w] = (<const float*>(src + w * cp.x.strides[3]))[0]


cdef inline bint epilogue_in_kernel(const ConvProblem* cp) noexcept nogil:
    """Whether the direct kernel applies the whole epilogue in registers: a
    contiguous bias (or none), then ReLU or nothing, and no residual."""
    return cp.ep.residual == NULL \
        and (cp.ep.addend == NULL or cp.ep.addend_row_stride == sizeof(float)) \
        and (cp.ep.activation == ACT_NONE or cp.ep.activation == ACT_RELU)


cdef void direct3x3_block(const Direct3x3Kernels* kernels, const ConvProblem* cp, float* out,
                          const float* wpack, const float* xpad, Py_ssize_t n,
                          Py_ssize_t ob_first, Py_ssize_t ob_last,
                          Py_ssize_t Hp, Py_ssize_t Wp, bint pool) noexcept nogil:
    """Output-channel blocks ``[ob_first, ob_last)`` of image ``n`` from its padded
    copy; ``pool``: ``out`` holds the 2x2 max pool of the output instead."""
    cdef Py_ssize_t B = JC_DIRECT3X3_BLOCK_O
    cdef Py_ssize_t o_first = ob_first * B, o_last = ob_last * B
    cdef TileEpilogue t
    cdef bint in_registers = epilogue_in_kernel(cp)
    cdef const float* bias = <const float*>cp.ep.addend if in_registers else NULL
    cdef bint relu = in_registers and cp.ep.activation == ACT_RELU
    cdef Py_ssize_t pooled_plane = (cp.OH // 2) * (cp.OW // 2)
    cdef float* image
    if bias != NULL:
        bias += o_first
    if pool:
        image = out + n * cp.O * pooled_plane
        kernels.conv_pool2(xpad, cp.C, Hp, Wp, wpack + ob_first * cp.C * 9 * B,
                           o_last - o_first, image + o_first * pooled_plane, cp.OH, cp.OW,
                           bias, relu)
        return
    image = out + n * cp.O * cp.P
    kernels.conv(xpad, cp.C, Hp, Wp, wpack + ob_first * cp.C * 9 * B, o_last - o_first,
                 image + o_first * cp.P, cp.OH, cp.OW, bias, relu)
    if not in_registers:
        # the general epilogue, while these channels are still in cache
        task_epilogue(cp, n, 0, &t)
        if not epilogue_is_empty(&t):
            apply_tile_epilogue(image, cp.O, cp.P, cp.P, &t, o_first, o_last)


cdef void direct3x3_images(const Direct3x3Kernels* kernels, const ConvProblem* cp, float* out,
                           const float* wpack,
                           float* xpad, Py_ssize_t first, Py_ssize_t step,
                           Py_ssize_t Hp, Py_ssize_t Wp, bint pool) noexcept nogil:
    """Images first, first + step, ..., all their channels, padded one at a time."""
    cdef Py_ssize_t n = first
    while n < cp.N:
        pad_image(cp, n, xpad, Hp, Wp)
        direct3x3_block(kernels, cp, out, wpack, xpad, n, 0, cp.O // JC_DIRECT3X3_BLOCK_O,
                        Hp, Wp, pool)
        n += step


cdef void direct3x3_units(const Direct3x3Kernels* kernels, const ConvProblem* cp, float* out,
                          const float* wpack,
                          const float* xpads, Py_ssize_t pad_len,
                          Py_ssize_t first, Py_ssize_t last,
                          Py_ssize_t Hp, Py_ssize_t Wp, bint pool) noexcept nogil:
    """Units ``[first, last)`` of (image, channel block) in image-major order,
    from every image already padded into ``xpads``."""
    cdef Py_ssize_t blocks = cp.O // JC_DIRECT3X3_BLOCK_O
    cdef Py_ssize_t unit = first, n, ob_first, ob_last
    while unit < last:
        n = unit // blocks
        ob_first = unit % blocks
        ob_last = min(blocks, ob_first + (last - unit))
        direct3x3_block(kernels, cp, out, wpack, xpads + n * pad_len, n, ob_first, ob_last,
                        Hp, Wp, pool)
        unit += ob_last - ob_first


cdef inline int threads_for_units(const ConvProblem* cp, Py_ssize_t units) noexcept nogil:
    """Threads for a convolution's work, at most one per unit of it (and at least one)."""
    cdef int nt = threads_for(cp.N * cp.O * cp.P * cp.K)
    if nt > units:
        nt = <int>units
    return max(nt, 1)


cdef Status run_direct3x3(const Direct3x3Kernels* kernels, ConvProblem* cp, float* out,
                          bint pool) noexcept nogil:
    """The direct kernel over every image; ``pool``: ``out`` gets the 2x2
    max pool of the result (the caller checked epilogue_in_kernel)."""
    cdef Py_ssize_t Hp = cp.H + 2
    cdef Py_ssize_t Wp = ((cp.OW + JC_DIRECT3X3_BLOCK_PX - 1) // JC_DIRECT3X3_BLOCK_PX) \
        * JC_DIRECT3X3_BLOCK_PX + 2
    cdef Py_ssize_t pad_len = cp.C * Hp * Wp
    cdef Py_ssize_t units = cp.N * (cp.O // JC_DIRECT3X3_BLOCK_O)
    cdef int nt = threads_for_units(cp, units)
    cdef bint split_images
    cdef Py_ssize_t n, per_part
    cdef int part
    cdef float* wpack
    cdef float* xpad
    # Enough images: one per thread at a time, each padded by its thread.
    # Fewer images than threads (batch 1): all are padded first and the
    # threads share out (image, 8-channel block) units.
    split_images = cp.N >= nt
    wpack = <float*>malloc(cp.O * cp.C * 9 * sizeof(float))
    # zeroed once: each image rewrites only the interior, the padding stays 0
    xpad = <float*>calloc((nt if split_images else cp.N) * pad_len, sizeof(float))
    if wpack == NULL or xpad == NULL:
        free(wpack)
        free(xpad)
        return JC_ERR_OOM
    pack_weight_blocks(cp, wpack)
    if nt == 1:
        direct3x3_images(kernels, cp, out, wpack, xpad, 0, 1, Hp, Wp, pool)
    elif split_images:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            direct3x3_images(kernels, cp, out, wpack, xpad + part * pad_len, part, nt, Hp, Wp,
                             pool)
    else:
        for n in range(cp.N):
            pad_image(cp, n, xpad + n * pad_len, Hp, Wp)
        per_part = (units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            direct3x3_units(kernels, cp, out, wpack, xpad, pad_len, part * per_part,
                            min(units, (part + 1) * per_part), Hp, Wp, pool)
    free(wpack)
    free(xpad)
    return JC_OK


# ---------------------------------------------------------------- direct strided

cdef extern from "conv_direct_strided.h" nogil:
    int JC_DIRECT_STRIDED_ISA
    int JC_DIRECT_STRIDED_AVX2_ISA
    void jc_direct_strided_f32(const float* xph, Py_ssize_t C, Py_ssize_t chan_len,
                               const Py_ssize_t* offs, Py_ssize_t taps, Py_ssize_t row_step,
                               const float* wpack, Py_ssize_t O,
                               float* out, Py_ssize_t OH, Py_ssize_t OW,
                               const float* bias, int relu)
    void jc_direct_strided_f32_avx2(const float* xph, Py_ssize_t C, Py_ssize_t chan_len,
                                    const Py_ssize_t* offs, Py_ssize_t taps,
                                    Py_ssize_t row_step, const float* wpack, Py_ssize_t O,
                                    float* out, Py_ssize_t OH, Py_ssize_t OW,
                                    const float* bias, int relu)
    enum:
        JC_DS_BLOCK_O
        JC_DS_BLOCK_PX

ctypedef void (*direct_strided_fn)(const float* xph, Py_ssize_t C, Py_ssize_t chan_len,
                                   const Py_ssize_t* offs, Py_ssize_t taps, Py_ssize_t row_step,
                                   const float* wpack, Py_ssize_t O,
                                   float* out, Py_ssize_t OH, Py_ssize_t OW,
                                   const float* bias, int relu) noexcept nogil

# Kernels up to 7x7 (resnet's stem) keep their tap offsets on the stack.
cdef enum:
    DIRECT_STRIDED_MAX_TAPS = 49
# Output rows narrower than this leave most lanes of the kernel's 16-pixel
# vectors empty (a 7-wide row fills 7 of 16): those stay on im2col + GEMM.
cdef Py_ssize_t DIRECT_STRIDED_MIN_OW = 14
# Up to this many input channels (stems: 3) the patch matrix costs as much as
# its GEMM and the direct kernel wins; from 32 channels on, im2col + GEMM runs
# near the FMA peak and the direct kernel's partly empty vectors lose
# (docs/performance.md, "Direct strided kernel").
cdef Py_ssize_t DIRECT_STRIDED_MAX_CHANNELS = 16
# False: those convolutions take im2col + GEMM as before the kernel existed
# (set by set_direct_strided, for A/B measurements in one process)
cdef bint direct_strided_enabled = True


cdef inline direct_strided_fn use_direct_strided(const ConvProblem* cp) noexcept nogil:
    """The direct stride-2 kernel at jc_isa()'s level for a float32, ungrouped,
    undilated convolution with stride 2, at most DIRECT_STRIDED_MAX_CHANNELS
    input channels, O a multiple of 8 and output rows of at least
    DIRECT_STRIDED_MIN_OW pixels, or NULL (im2col + GEMM)."""
    cdef int level = jc_isa()
    if not (direct_strided_enabled and cp.x.dtype == DT_FLOAT32 and cp.G == 1
            and cp.KH * cp.KW <= DIRECT_STRIDED_MAX_TAPS
            and cp.p.stride_h == 2 and cp.p.stride_w == 2
            and cp.p.dilation_h == 1 and cp.p.dilation_w == 1
            and cp.C <= DIRECT_STRIDED_MAX_CHANNELS
            and cp.O % JC_DS_BLOCK_O == 0 and cp.OW >= DIRECT_STRIDED_MIN_OW):
        return NULL
    if level >= JC_DIRECT_STRIDED_ISA:
        return jc_direct_strided_f32
    if level >= JC_DIRECT_STRIDED_AVX2_ISA:
        return jc_direct_strided_f32_avx2
    return NULL


ctypedef struct StridedLayout:
    Py_ssize_t S, Hp, Wh          # stride (= column phases), padded rows, phase length
    Py_ssize_t chan_len, image_len, row_step
    Py_ssize_t k_lo[2]            # phase f holds input columns at [k_lo[f], k_hi[f])
    Py_ssize_t k_hi[2]
    Py_ssize_t offs[DIRECT_STRIDED_MAX_TAPS]


cdef void strided_layout(const ConvProblem* cp, StridedLayout* lay) noexcept nogil:
    """conv_direct_strided.h's padded, phase-split image layout for ``cp``."""
    cdef Py_ssize_t S = cp.p.stride_w, f, i, j
    cdef Py_ssize_t cols = (cp.OW + JC_DS_BLOCK_PX - 1) // JC_DS_BLOCK_PX * JC_DS_BLOCK_PX
    lay.S = S
    lay.Hp = max(cp.p.stride_h * (cp.OH - 1) + cp.KH, cp.p.pad_h + cp.H)
    lay.Wh = cols + (cp.KW - 1) // S
    lay.chan_len = lay.Hp * S * lay.Wh
    lay.image_len = cp.C * lay.chan_len
    lay.row_step = cp.p.stride_h * S * lay.Wh
    for f in range(S):
        valid_range(lay.Wh, cp.W, S, cp.p.pad_w, f, &lay.k_lo[f], &lay.k_hi[f])
    for i in range(cp.KH):
        for j in range(cp.KW):
            lay.offs[i * cp.KW + j] = (i * S + j % S) * lay.Wh + j // S


cdef void pack_strided(const ConvProblem* cp, const StridedLayout* lay, Py_ssize_t n,
                       Py_ssize_t c_first, Py_ssize_t c_last, float* xph) noexcept nogil:
    """Channels [c_first, c_last) of image ``n`` into ``xph`` (the image's
    layout): only the positions that hold input are written, so a buffer zeroed
    once keeps its padding."""
    cdef Py_ssize_t c, h, f, k
    cdef Py_ssize_t S = lay.S, pw = cp.p.pad_w, xs3 = cp.x.strides[3]
    cdef const char* src
    cdef float* row
    for c in range(c_first, c_last):
        for h in range(cp.H):
            src = cp.x.data + n * cp.x.strides[0] + c * cp.x.strides[1] + h * cp.x.strides[2]
            row = xph + c * lay.chan_len + (h + cp.p.pad_h) * S * lay.Wh
            for f in range(S):
                if S == 2 and xs3 == sizeof(float):
                    # a constant stride of 2 elements: gcc vectorises the even/odd split
                    deinterleave2(<const float*>src + f - pw, row + f * lay.Wh,
                                  lay.k_lo[f], lay.k_hi[f])
                    continue
                for k in range(lay.k_lo[f], lay.k_hi[f]):
                    row[f * lay.Wh + k] = (<const float*>(src + (f + k * S - pw) * xs3))[0]


cdef void direct_strided_block(direct_strided_fn kernel, const ConvProblem* cp,
                               const StridedLayout* lay, float* out, const float* wpack,
                               const float* xph, Py_ssize_t n,
                               Py_ssize_t ob_first, Py_ssize_t ob_last) noexcept nogil:
    """Output-channel blocks ``[ob_first, ob_last)`` of image ``n`` from its packed copy,
    then the epilogue the kernel does not apply in registers."""
    cdef Py_ssize_t B = JC_DS_BLOCK_O, taps = cp.KH * cp.KW
    cdef Py_ssize_t o_first = ob_first * B, o_last = ob_last * B
    cdef TileEpilogue t
    cdef bint in_registers = epilogue_in_kernel(cp)
    cdef const float* bias = <const float*>cp.ep.addend if in_registers else NULL
    cdef float* image = out + n * cp.O * cp.P
    if bias != NULL:
        bias += o_first
    kernel(xph, cp.C, lay.chan_len, lay.offs, taps, lay.row_step,
           wpack + ob_first * cp.C * taps * B, o_last - o_first, image + o_first * cp.P,
           cp.OH, cp.OW, bias, in_registers and cp.ep.activation == ACT_RELU)
    if not in_registers:
        # the general epilogue, while these channels are still in cache
        task_epilogue(cp, n, 0, &t)
        if not epilogue_is_empty(&t):
            apply_tile_epilogue(image, cp.O, cp.P, cp.P, &t, o_first, o_last)


cdef void direct_strided_units(direct_strided_fn kernel, const ConvProblem* cp,
                               const StridedLayout* lay, float* out, const float* wpack,
                               float* xph, bint packed,
                               Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Units ``[first, last)`` of (image, channel block) in image-major order.
    ``packed``: ``xph`` holds every image already; else one image's buffer, each
    image packed into it as its first unit comes (the caller gives whole images)."""
    cdef Py_ssize_t blocks = cp.O // JC_DS_BLOCK_O
    cdef Py_ssize_t unit = first, n, ob_first, ob_last
    while unit < last:
        n = unit // blocks
        ob_first = unit % blocks
        ob_last = min(blocks, ob_first + (last - unit))
        if packed:
            direct_strided_block(kernel, cp, lay, out, wpack, xph + n * lay.image_len, n,
                                 ob_first, ob_last)
        else:
            pack_strided(cp, lay, n, 0, cp.C, xph)
            direct_strided_block(kernel, cp, lay, out, wpack, xph, n, ob_first, ob_last)
        unit += ob_last - ob_first


cdef Status run_direct_strided(direct_strided_fn kernel, ConvProblem* cp,
                               float* out) noexcept nogil:
    """The direct strided kernel over every image.  Units are (image, 8-channel
    block): with at least as many images as threads each thread takes whole
    images and packs them itself; with fewer (batch 1) every image is packed
    first (channels split over the threads) and the threads share out the
    units.  Each output element is the kernel's one FMA chain whichever thread
    computes it."""
    cdef StridedLayout lay
    cdef Py_ssize_t blocks = cp.O // JC_DS_BLOCK_O
    cdef Py_ssize_t units = cp.N * blocks
    cdef int nt = threads_for_units(cp, units)
    cdef bint split_images = cp.N >= nt
    cdef Py_ssize_t per_part, n, c_per
    cdef int part
    cdef float* wpack
    cdef float* xph
    strided_layout(cp, &lay)
    wpack = <float*>malloc(cp.O * cp.C * cp.KH * cp.KW * sizeof(float))
    xph = <float*>calloc((nt if split_images else cp.N) * lay.image_len, sizeof(float))
    if wpack == NULL or xph == NULL:
        free(wpack)
        free(xph)
        return JC_ERR_OOM
    pack_weight_blocks(cp, wpack)
    if nt == 1:
        direct_strided_units(kernel, cp, &lay, out, wpack, xph, False, 0, units)
    elif split_images:
        per_part = (cp.N + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            direct_strided_units(kernel, cp, &lay, out, wpack, xph + part * lay.image_len,
                                 False, min(cp.N, part * per_part) * blocks,
                                 min(cp.N, (part + 1) * per_part) * blocks)
    else:
        c_per = (cp.C + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            for n in range(cp.N):
                pack_strided(cp, &lay, n, min(cp.C, part * c_per),
                             min(cp.C, (part + 1) * c_per), xph + n * lay.image_len)
        per_part = (units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            direct_strided_units(kernel, cp, &lay, out, wpack, xph, True,
                                 min(units, part * per_part), min(units, (part + 1) * per_part))
    free(wpack)
    free(xph)
    return JC_OK


# ---------------------------------------------------------------- direct NCHWc

cdef extern from "conv_nchwc.h" nogil:
    int JC_NCHWC_ISA
    int JC_NCHWC_AVX2_ISA
    void jc_nchwc_f32(const float* x, Py_ssize_t C, Py_ssize_t chan_len,
                      const Py_ssize_t* toff, Py_ssize_t taps, const Py_ssize_t* poff,
                      Py_ssize_t P, const float* w, Py_ssize_t wblock, Py_ssize_t nch,
                      const float* bias, int relu, float* out)
    void jc_nchwc_f32_avx2(const float* x, Py_ssize_t C, Py_ssize_t chan_len,
                           const Py_ssize_t* toff, Py_ssize_t taps, const Py_ssize_t* poff,
                           Py_ssize_t P, const float* w, Py_ssize_t wblock, Py_ssize_t nch,
                           const float* bias, int relu, float* out)
    void jc_nchwc_pack_weight_f32(const float* w, Py_ssize_t ld, Py_ssize_t O, Py_ssize_t L,
                                  float* out)
    void jc_nchwc_pack_weight_f32_avx2(const float* w, Py_ssize_t ld, Py_ssize_t O,
                                       Py_ssize_t L, float* out)
    enum:
        JC_NCHWC_BLOCK
        JC_NCHWC_GROUP

ctypedef void (*nchwc_fn)(const float* x, Py_ssize_t C, Py_ssize_t chan_len,
                          const Py_ssize_t* toff, Py_ssize_t taps, const Py_ssize_t* poff,
                          Py_ssize_t P, const float* w, Py_ssize_t wblock, Py_ssize_t nch,
                          const float* bias, int relu, float* out) noexcept nogil

cdef enum:
    NCHWC_TAPS = 9

# Where the NCHWc kernel beat what ran before (im2col + GEMM; Winograd and the
# direct 3x3 kernel keep their shapes), measured at 1 thread with its weight
# packed at freeze (benchmarks/bench_nchwc_ab.py --crossover; docs/performance.md
# "Direct NCHWc kernel"): the largest output map (OH * OW) it runs, by input
# channels (from NCHWC_MIN_CHANNELS, or NCHWC_WIDE_CHANNELS and more) and stride.
# It won on every map measured, 2x2 to 28x28 (1.3-4x with 256+ input channels,
# 1.02-1.3x with 64..255 on 8x8..14x14 at stride 1 and 14x14..28x28 at stride 2),
# so the table stops at the largest maps measured.  The same table at AVX-512 and
# AVX2 (where it won 1.1-3.4x on the sweep's rows), so both levels take the same
# path and give the same bits.
cdef Py_ssize_t NCHWC_MIN_CHANNELS = 64
cdef Py_ssize_t NCHWC_WIDE_CHANNELS = 256
# [input channels >= NCHWC_WIDE_CHANNELS][stride - 1]
cdef Py_ssize_t NCHWC_MAX_PIXELS[2][2]
NCHWC_MAX_PIXELS[0][0] = 14 * 14
NCHWC_MAX_PIXELS[0][1] = 28 * 28
NCHWC_MAX_PIXELS[1][0] = 28 * 28
NCHWC_MAX_PIXELS[1][1] = 28 * 28
# NCHWC_AUTO: the table above decides; NCHWC_OFF: those convolutions take the
# path they took before the kernel existed; NCHWC_ANY_MAP: any map size (set by
# set_nchwc, for A/B measurements of the table in one process)
cdef enum:
    NCHWC_OFF, NCHWC_AUTO, NCHWC_ANY_MAP
cdef int nchwc_mode = NCHWC_AUTO
_NCHWC_MODES = {"off": NCHWC_OFF, "auto": NCHWC_AUTO, "any_map": NCHWC_ANY_MAP}


cdef inline nchwc_fn use_nchwc(const ConvProblem* cp) noexcept nogil:
    """The NCHWc kernel at jc_isa()'s level for a float32, ungrouped, undilated 3x3
    convolution with stride 1 or 2, at least NCHWC_MIN_CHANNELS input channels
    and a small output map (the table above), or NULL."""
    cdef int level = jc_isa()
    if not (nchwc_mode != NCHWC_OFF and cp.x.dtype == DT_FLOAT32 and cp.G == 1
            and cp.KH == 3 and cp.KW == 3 and cp.p.stride_h == cp.p.stride_w
            and (cp.p.stride_h == 1 or cp.p.stride_h == 2)
            and cp.p.dilation_h == 1 and cp.p.dilation_w == 1
            and cp.C >= NCHWC_MIN_CHANNELS
            and (nchwc_mode == NCHWC_ANY_MAP
                 or cp.P <= NCHWC_MAX_PIXELS[cp.C >= NCHWC_WIDE_CHANNELS][cp.p.stride_h - 1])):
        return NULL
    if level >= JC_NCHWC_ISA:
        return jc_nchwc_f32
    if level >= JC_NCHWC_AVX2_ISA:
        return jc_nchwc_f32_avx2
    return NULL


ctypedef struct NchwcLayout:
    Py_ssize_t Hp, Wp, chan_len, image_len   # the padded copy of one image
    Py_ssize_t wblock                        # floats of one packed 16-channel block
    Py_ssize_t groups                        # JC_NCHWC_GROUP-channel units per image
    Py_ssize_t toff[NCHWC_TAPS]


cdef void nchwc_layout(const ConvProblem* cp, NchwcLayout* lay) noexcept nogil:
    """conv_nchwc.h's padded image and tap offsets for ``cp``: rows and columns
    the taps of the last output pixel reach, nothing beyond."""
    cdef Py_ssize_t S = cp.p.stride_h, i, j
    lay.Hp = S * (cp.OH - 1) + cp.KH
    lay.Wp = S * (cp.OW - 1) + cp.KW
    lay.chan_len = lay.Hp * lay.Wp
    lay.image_len = cp.C * lay.chan_len
    lay.wblock = cp.C * NCHWC_TAPS * JC_NCHWC_BLOCK
    lay.groups = (cp.O + JC_NCHWC_GROUP - 1) // JC_NCHWC_GROUP
    for i in range(cp.KH):
        for j in range(cp.KW):
            lay.toff[i * cp.KW + j] = i * lay.Wp + j


cdef void nchwc_pack_weight(nchwc_fn kernel, const ConvProblem* cp,
                            float* wpack) noexcept nogil:
    """(O, C, 3, 3), any strides -> (ceil(O / 16), C, 9, 16), zero past O:
    passes/pack_nchwc_weights.py's nchwc_weight.  Rows of C 9 contiguous floats
    (a C-contiguous weight) go through register transposes at ``kernel``'s level."""
    cdef Py_ssize_t o, c, tap, B = JC_NCHWC_BLOCK, f = sizeof(float)
    cdef Py_ssize_t blocks = (cp.O + B - 1) // B
    if cp.w.strides[3] == f and cp.w.strides[2] == 3 * f and cp.w.strides[1] == 9 * f \
            and cp.w.strides[0] % f == 0:
        if kernel == jc_nchwc_f32:
            jc_nchwc_pack_weight_f32(<const float*>cp.w.data, cp.w.strides[0] // f, cp.O,
                                     cp.C * NCHWC_TAPS, wpack)
        else:
            jc_nchwc_pack_weight_f32_avx2(<const float*>cp.w.data, cp.w.strides[0] // f, cp.O,
                                          cp.C * NCHWC_TAPS, wpack)
        return
    memset(wpack, 0, blocks * B * cp.C * NCHWC_TAPS * sizeof(float))
    for o in range(cp.O):
        for c in range(cp.C):
            for tap in range(NCHWC_TAPS):
                wpack[(((o // B) * cp.C + c) * NCHWC_TAPS + tap) * B + o % B] = \
                    (<const float*>(cp.w.data + o * cp.w.strides[0] + c * cp.w.strides[1]
                                    + (tap // 3) * cp.w.strides[2]
                                    + (tap % 3) * cp.w.strides[3]))[0]


cdef void nchwc_pad(const ConvProblem* cp, const NchwcLayout* lay, Py_ssize_t n,
                    Py_ssize_t c_first, Py_ssize_t c_last, float* xpad) noexcept nogil:
    """Channels [c_first, c_last) of image ``n`` into the interior of ``xpad``
    (the image's layout, zeroed once: the padding is never written)."""
    cdef Py_ssize_t c, h, k, ph = cp.p.pad_h, pw = cp.p.pad_w
    cdef Py_ssize_t cols = min(cp.W, lay.Wp - pw), rows = min(cp.H, lay.Hp - ph)
    cdef const char* src
    cdef float* dst
    for c in range(c_first, c_last):
        for h in range(rows):
            src = cp.x.data + n * cp.x.strides[0] + c * cp.x.strides[1] + h * cp.x.strides[2]
            dst = xpad + c * lay.chan_len + (h + ph) * lay.Wp + pw
            if cp.x.strides[3] == sizeof(float):
                if cols > 0:
                    memcpy(dst, src, cols * sizeof(float))
            else:
                for k in range(cols):
                    dst[k] = (<const float*>(src + k * cp.x.strides[3]))[0]


cdef void nchwc_units(nchwc_fn kernel, const ConvProblem* cp, const NchwcLayout* lay,
                      float* out, const float* wpack, const float* bias,
                      const Py_ssize_t* poff, float* xpad, bint padded,
                      Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Units ``[first, last)`` of (image, 64-channel group) in image-major order.
    ``padded``: ``xpad`` holds every image already; else one image's buffer, each
    image copied into it as its first unit comes (the caller gives whole images)."""
    cdef Py_ssize_t unit = first, n, g, o0, nch
    cdef const float* x
    cdef float* image
    cdef TileEpilogue t
    cdef bint in_registers = epilogue_in_kernel(cp)
    while unit < last:
        n = unit // lay.groups
        g = unit % lay.groups
        if padded:
            x = xpad + n * lay.image_len
        else:
            if g == 0 or unit == first:
                nchwc_pad(cp, lay, n, 0, cp.C, xpad)
            x = xpad
        o0 = g * JC_NCHWC_GROUP
        nch = min(<Py_ssize_t>JC_NCHWC_GROUP, cp.O - o0)
        image = out + n * cp.O * cp.P
        kernel(x, cp.C, lay.chan_len, lay.toff, NCHWC_TAPS, poff, cp.P,
               wpack + (o0 // JC_NCHWC_BLOCK) * lay.wblock, lay.wblock, nch,
               (bias + o0) if bias != NULL else NULL,
               in_registers and cp.ep.activation == ACT_RELU, image + o0 * cp.P)
        if not in_registers:
            # the general epilogue, while these channels are still in cache
            task_epilogue(cp, n, 0, &t)
            if not epilogue_is_empty(&t):
                apply_tile_epilogue(image, cp.O, cp.P, cp.P, &t, o0, o0 + nch)
        unit += 1


cdef Status run_nchwc(nchwc_fn kernel, ConvProblem* cp, float* out) noexcept nogil:
    """The NCHWc kernel over every image.  Units are (image, 64-channel group):
    with at least as many images as threads each thread takes whole images and
    pads them itself; with fewer (batch 1) every image is padded first
    (channels split over the threads) and the threads share out the groups.
    Each output element is the kernel's one FMA chain whichever thread computes
    it.  The weight is the packed one given (``cp.nchwc_weight``) or packed here."""
    cdef NchwcLayout lay
    cdef Py_ssize_t units, per_part, n, c_per, o, oh, ow
    cdef Py_ssize_t B = JC_NCHWC_BLOCK, S = cp.p.stride_h
    cdef int nt, part
    cdef bint split_images, in_registers = epilogue_in_kernel(cp)
    cdef float* wpack = NULL
    cdef float* bias = NULL
    cdef float* xpad
    cdef Py_ssize_t* poff
    cdef const float* weight = cp.nchwc_weight
    nchwc_layout(cp, &lay)
    units = cp.N * lay.groups
    nt = threads_for_units(cp, units)
    split_images = cp.N >= nt
    if weight == NULL:
        wpack = <float*>malloc((cp.O + B - 1) // B * lay.wblock * sizeof(float))
    if in_registers and cp.ep.addend != NULL:
        bias = <float*>calloc(lay.groups * JC_NCHWC_GROUP, sizeof(float))
    poff = <Py_ssize_t*>malloc(cp.P * sizeof(Py_ssize_t))
    xpad = <float*>calloc((nt if split_images else cp.N) * lay.image_len, sizeof(float))
    if (weight == NULL and wpack == NULL) or (in_registers and cp.ep.addend != NULL
                                              and bias == NULL) or poff == NULL or xpad == NULL:
        free(wpack)
        free(bias)
        free(poff)
        free(xpad)
        return JC_ERR_OOM
    if weight == NULL:
        nchwc_pack_weight(kernel, cp, wpack)
        weight = wpack
    if bias != NULL:
        for o in range(cp.O):
            bias[o] = (<const float*>(cp.ep.addend + o * cp.ep.addend_row_stride))[0]
    for oh in range(cp.OH):
        for ow in range(cp.OW):
            poff[oh * cp.OW + ow] = S * (oh * lay.Wp + ow)
    if nt == 1:
        nchwc_units(kernel, cp, &lay, out, weight, bias, poff, xpad, False, 0, units)
    elif split_images:
        per_part = (cp.N + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            nchwc_units(kernel, cp, &lay, out, weight, bias, poff, xpad + part * lay.image_len,
                        False, min(cp.N, part * per_part) * lay.groups,
                        min(cp.N, (part + 1) * per_part) * lay.groups)
    else:
        c_per = (cp.C + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            for n in range(cp.N):
                nchwc_pad(cp, &lay, n, min(cp.C, part * c_per), min(cp.C, (part + 1) * c_per),
                          xpad + n * lay.image_len)
        per_part = (units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            nchwc_units(kernel, cp, &lay, out, weight, bias, poff, xpad, True,
                        min(units, part * per_part), min(units, (part + 1) * per_part))
    free(wpack)
    free(bias)
    free(poff)
    free(xpad)
    return JC_OK


# ---------------------------------------------------------------- Winograd 3x3

cdef extern from "conv_winograd.h" nogil:
    int JC_WINOGRAD_ISA
    void jc_winograd_pack_weight(const float* w, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                                 Py_ssize_t s3, Py_ssize_t O, Py_ssize_t C, Py_ssize_t Cp,
                                 float* U)
    void jc_winograd_pack_image(const float* x, Py_ssize_t cs, Py_ssize_t ys, Py_ssize_t ws,
                                Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                                float* xt, Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t Cp)
    void jc_winograd3x3_rows_f32(const float* xt, Py_ssize_t Wp, Py_ssize_t Cp,
                                 Py_ssize_t TW, const float* U, Py_ssize_t O,
                                 float* V, float* M, const float* bias, int relu,
                                 int pool, float* out, Py_ssize_t OH, Py_ssize_t OW,
                                 Py_ssize_t th, Py_ssize_t rows)

cdef extern from "conv_winograd_avx2.h" nogil:
    int JC_WINOGRAD_AVX2_ISA
    void jc_winograd_pack_weight_avx2(const float* w, Py_ssize_t s0, Py_ssize_t s1,
                                      Py_ssize_t s2, Py_ssize_t s3, Py_ssize_t O, Py_ssize_t C,
                                      Py_ssize_t Cp, float* U)
    void jc_winograd_pack_image_avx2(const float* x, Py_ssize_t cs, Py_ssize_t ys,
                                     Py_ssize_t ws, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                                     float* xt, Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t Cp)
    void jc_winograd3x3_rows_f32_avx2(const float* xt, Py_ssize_t Wp, Py_ssize_t Cp,
                                      Py_ssize_t TW, const float* U, Py_ssize_t O,
                                      float* V, float* M, const float* bias, int relu,
                                      int pool, float* out, Py_ssize_t OH, Py_ssize_t OW,
                                      Py_ssize_t th, Py_ssize_t rows)

# One Winograd kernel set: the three entry points of one ISA level (the same
# signatures at every level).
ctypedef struct WinogradKernels:
    void (*pack_weight)(const float* w, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                        Py_ssize_t s3, Py_ssize_t O, Py_ssize_t C, Py_ssize_t Cp,
                        float* U) noexcept nogil
    void (*pack_image)(const float* x, Py_ssize_t cs, Py_ssize_t ys, Py_ssize_t ws,
                       Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                       float* xt, Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t Cp) noexcept nogil
    void (*rows)(const float* xt, Py_ssize_t Wp, Py_ssize_t Cp,
                 Py_ssize_t TW, const float* U, Py_ssize_t O,
                 float* V, float* M, const float* bias, int relu,
                 int pool, float* out, Py_ssize_t OH, Py_ssize_t OW,
                 Py_ssize_t th, Py_ssize_t rows) noexcept nogil

cdef WinogradKernels WINOGRAD_AVX512 = WinogradKernels(
    jc_winograd_pack_weight, jc_winograd_pack_image, jc_winograd3x3_rows_f32)
cdef WinogradKernels WINOGRAD_AVX2 = WinogradKernels(
    jc_winograd_pack_weight_avx2, jc_winograd_pack_image_avx2, jc_winograd3x3_rows_f32_avx2)

# Where it was measured faster (docs/performance.md): against the direct
# kernel with 16..64 input channels, but not 8 channels padded to 16 -- so
# whole zmm (16-float) groups only; against im2col + BLAS up to 256 channels,
# but not 512 (U, 16 C O floats, is 16 MB and is re-read per block of tile
# rows).
cdef Py_ssize_t WINOGRAD_MIN_CHANNELS = 16
cdef Py_ssize_t WINOGRAD_DIRECT_CHANNELS = 64
cdef Py_ssize_t WINOGRAD_MAX_CHANNELS = 256


cdef inline bint strides_in_floats(const View* v) noexcept nogil:
    """Every stride a whole number of floats that fits a 32-bit gather index x 16."""
    cdef int d
    for d in range(v.ndim):
        if v.strides[d] % <Py_ssize_t>sizeof(float) != 0 \
                or v.strides[d] > INT_MAX // 64 or v.strides[d] < -(INT_MAX // 64):
            return False
    return True


# The AVX2 kernel, against what avx2 runs otherwise (1 thread, best of 3-7,
# alternating; docs/performance.md "AVX2 kernels").  Against the AVX2 direct
# kernel (C_in <= 64): 1.03-2.1x on every shape tried from 2x2 to 56x56, except
# 16 -> 512 channels at 28x28 (0.90-0.97x; 16 -> 384 still won 1.4x).  Against
# im2col + BLAS (C_in 80..256): 1.2-2.6x with 32 or more tiles per call (1.56x
# for 256 channels at 7x7, batch 2), but 0.5-1.0x with 4..16 (128 or 256
# channels at 4x4..8x8, batch 1), where transforming the weight costs as much
# as the products save.
cdef Py_ssize_t WINOGRAD_AVX2_NARROW_MAX_OUT = 256
cdef Py_ssize_t WINOGRAD_AVX2_MIN_TILES = 32


cdef inline bint winograd_avx2_faster(const ConvProblem* cp) noexcept nogil:
    """Whether the AVX2 Winograd kernel beats what avx2 runs otherwise (above)."""
    if cp.C <= WINOGRAD_DIRECT_CHANNELS:
        return cp.C > WINOGRAD_MIN_CHANNELS or cp.O <= WINOGRAD_AVX2_NARROW_MAX_OUT
    return cp.C <= WINOGRAD_MAX_CHANNELS and cp.O <= WINOGRAD_MAX_CHANNELS \
        and cp.N * ((cp.OH + 1) // 2) * ((cp.OW + 1) // 2) >= WINOGRAD_AVX2_MIN_TILES


cdef inline const WinogradKernels* use_winograd3x3(const ConvProblem* cp) noexcept nogil:
    """The Winograd kernels at jc_isa()'s level for float32 3x3 "same"
    convolutions whose channels fill whole zmm groups, where Winograd beats the
    path they would take otherwise at that level (see the limits above), or NULL."""
    cdef int level = jc_isa()
    if not (is_same_3x3_f32(cp)
            and cp.O % 16 == 0 and cp.C % 16 == 0 and cp.C >= WINOGRAD_MIN_CHANNELS
            and strides_in_floats(&cp.x) and strides_in_floats(&cp.w)):
        return NULL
    if level >= JC_WINOGRAD_ISA:
        if cp.C <= WINOGRAD_DIRECT_CHANNELS \
                or (cp.C <= WINOGRAD_MAX_CHANNELS and cp.O <= WINOGRAD_MAX_CHANNELS):
            return &WINOGRAD_AVX512
        return NULL
    if level >= JC_WINOGRAD_AVX2_ISA and winograd_avx2_faster(cp):
        return &WINOGRAD_AVX2
    return NULL


# Tiles per GEMM block of tile rows: two of the AVX-512 kernel's 8-tile register
# blocks (the AVX2 kernel's 6 + 6 + 4).
cdef Py_ssize_t WINOGRAD_BLOCK_TILES = 16


ctypedef struct WinogradShape:
    Py_ssize_t TH, TW           # tiles covering the output
    Py_ssize_t Hp, Wp, image_len    # the padded channels-last image copy
    Py_ssize_t rows             # tile rows per block (enough for WINOGRAD_BLOCK_TILES tiles)
    Py_ssize_t V_len, M_len     # one block's workspace


cdef void winograd_image(const WinogradKernels* k, const ConvProblem* cp,
                         const WinogradShape* ws, Py_ssize_t n, float* xt) noexcept nogil:
    """Image ``n`` into its padded channels-last copy ``xt``."""
    cdef Py_ssize_t f = sizeof(float)
    k.pack_image(<const float*>(cp.x.data + n * cp.x.strides[0]),
                 cp.x.strides[1] // f, cp.x.strides[2] // f, cp.x.strides[3] // f,
                 cp.C, cp.H, cp.W, xt, ws.Hp, ws.Wp, cp.C)


cdef void winograd_rows(const WinogradKernels* k, const ConvProblem* cp,
                        const WinogradShape* ws, const float* U,
                        const float* xt, float* VM, float* out, Py_ssize_t n,
                        Py_ssize_t th_first, Py_ssize_t th_last, bint pool) noexcept nogil:
    """Tile rows ``[th_first, th_last)`` of image ``n``, in blocks of up to
    ``ws.rows``; ``VM``: the caller's V and M workspace.  Every output is one
    tile's transforms and one FMA chain over the channels, whatever block holds
    it, so where the rows are cut does not change a bit.  Without ``pool``, an
    epilogue the kernel cannot apply in registers runs on these rows' outputs
    once they are written (it is elementwise)."""
    cdef bint in_registers = epilogue_in_kernel(cp)
    cdef const float* bias = <const float*>cp.ep.addend if in_registers else NULL
    cdef bint relu = in_registers and cp.ep.activation == ACT_RELU
    cdef Py_ssize_t plane = (cp.OH // 2) * (cp.OW // 2) if pool else cp.P
    cdef float* image = out + n * cp.O * plane
    cdef Py_ssize_t th = th_first, count, p0, p1
    cdef TileEpilogue t
    while th < th_last:
        count = min(ws.rows, th_last - th)
        k.rows(xt, ws.Wp, cp.C, ws.TW, U, cp.O, VM, VM + ws.V_len, bias, relu, pool, image,
               cp.OH, cp.OW, th, count)
        th += count
    if not pool and not in_registers:
        p0 = min(cp.OH, 2 * th_first) * cp.OW
        p1 = min(cp.OH, 2 * th_last) * cp.OW
        task_epilogue(cp, n, 0, &t)
        if t.residual != NULL:
            t.residual = t.residual + p0 * t.residual_col_stride
        if not epilogue_is_empty(&t) and p1 > p0:
            apply_tile_epilogue(image + p0, cp.O, p1 - p0, cp.P, &t, 0, cp.O)


cdef const float* winograd_pack_weight(const WinogradKernels* k, const ConvProblem* cp,
                                       float* U) noexcept nogil:
    """The weight's transform: the one the caller gave, else computed into ``U``."""
    cdef Py_ssize_t f = sizeof(float)
    if cp.winograd_U != NULL:
        return cp.winograd_U
    k.pack_weight(<const float*>cp.w.data, cp.w.strides[0] // f, cp.w.strides[1] // f,
                  cp.w.strides[2] // f, cp.w.strides[3] // f, cp.O, cp.C, cp.C, U)
    return U


cdef void winograd_units(const WinogradKernels* k, const ConvProblem* cp,
                         const WinogradShape* ws, float* U, float* xt,
                         float* VM, float* out, Py_ssize_t first, Py_ssize_t last,
                         bint pool) noexcept nogil:
    """(image, tile row) units ``[first, last)``, with this thread's
    own weight and image copies: packing them here costs less than reading
    another core's (a batch-1 CNN layer is ~10 us)."""
    cdef Py_ssize_t unit = first, n, th_first, th_last
    cdef const float* weight = winograd_pack_weight(k, cp, U)
    while unit < last:
        n = unit // ws.TH
        th_first = unit % ws.TH
        th_last = min(ws.TH, th_first + (last - unit))
        winograd_image(k, cp, ws, n, xt)
        winograd_rows(k, cp, ws, weight, xt, VM, out, n, th_first, th_last, pool)
        unit += th_last - th_first


cdef Status run_winograd3x3(const WinogradKernels* k, ConvProblem* cp, float* out,
                            bint pool) noexcept nogil:
    """The Winograd kernels ``k`` over every image; ``pool`` as run_direct3x3.  Enough
    images: threads take one image at a time, sharing one packed weight.
    Fewer images than threads (batch 1): threads split the (image, tile row)
    units in contiguous ranges, each cut into blocks of ``ws.rows`` tile rows
    (a 7-row map at 2 threads: 4 and 3 rows, where whole 3-row blocks gave 6 and 1)."""
    cdef WinogradShape ws
    cdef int nt, part
    cdef Py_ssize_t n, units, per_part, U_len, VM_len
    cdef bint split_images
    cdef float* U = NULL
    cdef const float* weight
    cdef float* images
    cdef float* work
    ws.TH = (cp.OH + 1) // 2
    ws.TW = (cp.OW + 1) // 2
    ws.Hp = 2 * ws.TH + 2
    ws.Wp = 2 * ws.TW + 2
    ws.image_len = ws.Hp * ws.Wp * cp.C
    ws.rows = min(ws.TH, max(1, (WINOGRAD_BLOCK_TILES + ws.TW - 1) // ws.TW))
    ws.V_len = 16 * ws.rows * ws.TW * cp.C
    ws.M_len = 16 * ws.rows * ws.TW * cp.O
    U_len = 16 * cp.C * cp.O
    VM_len = ws.V_len + ws.M_len
    units = cp.N * ws.TH
    nt = threads_for_units(cp, units)
    split_images = cp.N >= nt
    if cp.winograd_U == NULL:
        U = <float*>malloc((1 if split_images else nt) * U_len * sizeof(float))
    images = <float*>malloc(nt * ws.image_len * sizeof(float))
    work = <float*>malloc(nt * VM_len * sizeof(float))
    if (U == NULL and cp.winograd_U == NULL) or images == NULL or work == NULL:
        free(U)
        free(images)
        free(work)
        return JC_ERR_OOM
    if nt == 1:
        winograd_units(k, cp, &ws, U, images, work, out, 0, units, pool)
    elif split_images:
        weight = winograd_pack_weight(k, cp, U)
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            n = part
            while n < cp.N:
                winograd_image(k, cp, &ws, n, images + part * ws.image_len)
                winograd_rows(k, cp, &ws, weight, images + part * ws.image_len, work + part * VM_len,
                              out, n, 0, ws.TH, pool)
                n = n + nt
    else:
        per_part = (units + nt - 1) // nt
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            winograd_units(k, cp, &ws, (U + part * U_len) if U != NULL else NULL,
                           images + part * ws.image_len,
                           work + part * VM_len, out, part * per_part,
                           min(units, (part + 1) * per_part), pool)
    free(U)
    free(images)
    free(work)
    return JC_OK


# ---------------------------------------------------------------- kernel

cdef Status run_conv(ConvProblem* cp, real* out) noexcept nogil:
    cdef const Direct3x3Kernels* direct
    cdef const WinogradKernels* winograd
    cdef direct_strided_fn strided
    cdef nchwc_fn nchwc
    if cp.N == 0 or cp.O == 0:
        return JC_OK
    if cp.Cg == 1:
        return run_depthwise(cp, out)
    if real is float:
        winograd = use_winograd3x3(cp)
        if winograd != NULL:
            return run_winograd3x3(winograd, cp, out, False)
        direct = use_direct3x3(cp)
        if direct != NULL:
            return run_direct3x3(direct, cp, out, False)
        nchwc = use_nchwc(cp)
        if nchwc != NULL:
            return run_nchwc(nchwc, cp, out)
        strided = use_direct_strided(cp)
        if strided != NULL:
            return run_direct_strided(strided, cp, out)
    return run_gemm_path(cp, out)


cdef Status conv2d_kernel(const View* x, const View* weight, View* out,
                          const Conv2dParams* params,
                          const Epilogue* ep) noexcept nogil:
    cdef ConvProblem cp
    cdef Status status = prepare(x, weight, out, params, ep, &cp)
    if status != JC_OK:
        return status
    if x.dtype == DT_FLOAT32:
        return run_conv(&cp, <float*>out.data)
    return run_conv(&cp, <double*>out.data)


cdef Status conv2d_winograd_kernel(const View* x, const View* weight,
                                   const View* winograd_weight, View* out,
                                   const Conv2dParams* params,
                                   const Epilogue* ep) noexcept nogil:
    cdef ConvProblem cp
    cdef Status status = prepare(x, weight, out, params, ep, &cp)
    cdef const View* u = winograd_weight
    if status != JC_OK:
        return status
    if x.dtype != DT_FLOAT32:
        return run_conv(&cp, <double*>out.data)
    if u != NULL:
        if u.dtype != DT_FLOAT32:
            return JC_ERR_DTYPE
        if u.ndim != 3 or u.shape[0] != 16 or u.shape[1] != cp.C or u.shape[2] != cp.O \
                or u.strides[2] != sizeof(float) or u.strides[1] != cp.O * sizeof(float) \
                or u.strides[0] != cp.C * cp.O * sizeof(float):
            return JC_ERR_SHAPE
        cp.winograd_U = <const float*>u.data
    return run_conv(&cp, <float*>out.data)


cdef Status conv2d_nchwc_kernel(const View* x, const View* weight, const View* nchwc_weight,
                                View* out, const Conv2dParams* params,
                                const Epilogue* ep) noexcept nogil:
    cdef ConvProblem cp
    cdef Status status = prepare(x, weight, out, params, ep, &cp)
    cdef const View* v = nchwc_weight
    if status != JC_OK:
        return status
    if x.dtype != DT_FLOAT32:
        return run_conv(&cp, <double*>out.data)
    if v != NULL:
        if v.dtype != DT_FLOAT32:
            return JC_ERR_DTYPE
        if not nchwc_weight_fits(v, cp.O, cp.C, cp.KH, cp.KW):
            return JC_ERR_SHAPE
        cp.nchwc_weight = <const float*>v.data
    return run_conv(&cp, <float*>out.data)


cdef inline bint nchwc_weight_fits(const View* v, Py_ssize_t O, Py_ssize_t C, Py_ssize_t KH,
                                   Py_ssize_t KW) noexcept nogil:
    """Whether ``v`` is a C-contiguous (ceil(O / 16), C, KH, KW, 16) array."""
    cdef Py_ssize_t expect[5]
    cdef Py_ssize_t stride = sizeof(float)
    cdef int d
    expect[0] = (O + JC_NCHWC_BLOCK - 1) // JC_NCHWC_BLOCK
    expect[1] = C
    expect[2] = KH
    expect[3] = KW
    expect[4] = JC_NCHWC_BLOCK
    if v.ndim != 5:
        return False
    for d in range(4, -1, -1):
        if v.shape[d] != expect[d] or (v.shape[d] > 1 and v.strides[d] != stride):
            return False
        stride *= v.shape[d]
    return True


cdef Status conv2d_pool2_kernel(const View* x, const View* weight, View* pooled,
                                const Conv2dParams* params,
                                const Epilogue* ep) noexcept nogil:
    cdef ConvProblem cp
    cdef View full
    cdef Status status
    cdef const WinogradKernels* winograd
    cdef const Direct3x3Kernels* direct
    cdef int nd = pooled.ndim
    if nd != 3 and nd != 4:
        return JC_ERR_SHAPE
    if pooled.dtype != DT_FLOAT32 or not is_dense_output(pooled):
        return JC_ERR_UNSUPPORTED
    # the unpooled output, described but never allocated: prepare() checks it
    full = pooled[0]
    full.data = NULL
    full.shape[nd - 2] = conv_output_size(x.shape[nd - 2], weight.shape[2], params.stride_h,
                                          params.pad_h, params.dilation_h)
    full.shape[nd - 1] = conv_output_size(x.shape[nd - 1], weight.shape[3], params.stride_w,
                                          params.pad_w, params.dilation_w)
    if full.shape[nd - 2] // 2 != pooled.shape[nd - 2] or full.shape[nd - 1] // 2 != pooled.shape[nd - 1]:
        return JC_ERR_SHAPE
    set_contiguous_strides(&full)
    status = prepare(x, weight, &full, params, ep, &cp)
    if status != JC_OK:
        return status
    winograd = use_winograd3x3(&cp)
    direct = use_direct3x3(&cp)
    if not ((winograd != NULL or direct != NULL) and epilogue_in_kernel(&cp)) \
            or cp.OH < 2 or cp.OW < 2:
        return JC_ERR_UNSUPPORTED
    if cp.N == 0 or cp.O == 0:
        return JC_OK
    if winograd != NULL:
        return run_winograd3x3(winograd, &cp, <float*>pooled.data, True)
    return run_direct3x3(direct, &cp, <float*>pooled.data, True)


# ---------------------------------------------------------------- Python

def _pair(value, str name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"conv2d: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv2d_output_shape(x_shape, weight_shape, stride=1, padding=0, dilation=1):
    """The output shape of :func:`conv2d` (a spatial size may come out <= 0).

    Parameters
    ----------
    x_shape : tuple
        (N, C, H, W) or (C, H, W).
    weight_shape : tuple
        (C_out, C_in / groups, KH, KW).
    stride, padding, dilation : int or pair of ints

    Returns
    -------
    tuple
    """
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    if len(x_shape) not in (3, 4) or len(weight_shape) != 4:
        raise ValueError(f"conv2d: expected a 3-D or 4-D input and a 4-D weight, "
                         f"got shapes {tuple(x_shape)} and {tuple(weight_shape)}")
    lead = tuple(x_shape[:len(x_shape) - 3])
    H, W = x_shape[len(x_shape) - 2], x_shape[len(x_shape) - 1]
    oh = (H + 2 * ph - dh * (weight_shape[2] - 1) - 1) // sh + 1 if sh > 0 else 0
    ow = (W + 2 * pw - dw * (weight_shape[3] - 1) - 1) // sw + 1 if sw > 0 else 0
    return lead + (weight_shape[0], oh, ow)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, int groups=1,
           activation="none", residual=None, residual_after_activation=False):
    """2-D convolution (ATen ``conv2d`` semantics) with a fused epilogue.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W) or (C_in, H, W)
        float32 or float64, any strides.
    weight : ndarray, shape (C_out, C_in / groups, KH, KW)
    bias : ndarray, shape (C_out,), optional
    stride, padding, dilation : int or pair of ints
    groups : int
    activation : {"none", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "relu6",
                  "hardswish", "hardsigmoid"}
    residual : ndarray, optional
        The output's shape; added before the activation, or after it when
        ``residual_after_activation``.

    Returns
    -------
    ndarray, shape (N, C_out, OH, OW)

    Raises
    ------
    ValueError
        For inputs of the wrong rank.
    jitcore.KernelError
        For mismatched channels, dtypes, or an empty output window.
    """
    cdef cnp.ndarray xx = np.asarray(x)
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef Conv2dParams params
    cdef EpilogueArgs extra = EpilogueArgs(bias, activation, residual, residual_after_activation)
    params.stride_h, params.stride_w = _pair(stride, "stride")
    params.pad_h, params.pad_w = _pair(padding, "padding")
    params.dilation_h, params.dilation_w = _pair(dilation, "dilation")
    params.groups = groups
    shape = conv2d_output_shape((<object>xx).shape, (<object>ww).shape, stride, padding, dilation)
    cdef cnp.ndarray out = np.empty(tuple(max(s, 0) for s in shape), dtype=xx.dtype)
    cdef View vx = view_of(xx), vw = view_of(ww), vo = view_of(out)
    cdef Status status
    with nogil:
        status = conv2d_kernel(&vx, &vw, &vo, &params, &extra.ep)
    raise_for_status(status, "conv2d",
                     f"input: {(<object>xx).shape} {xx.dtype}, weight: {(<object>ww).shape} "
                     f"{ww.dtype}, stride={stride}, padding={padding}, dilation={dilation}, "
                     f"groups={groups}")
    return out


def winograd_isa(x, weight):
    """The ISA level of the Winograd kernel ``conv2d(x, weight, padding=1)`` runs.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, 3, 3)

    Returns
    -------
    str or None
        ``'avx512'`` or ``'avx2'``, or None when that convolution takes another
        path at this process's level (``jitcore._runtime.cpu.isa()``).
    """
    cdef cnp.ndarray xx = np.asarray(x)
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef Conv2dParams params
    cdef EpilogueArgs extra = EpilogueArgs(None, "none", None, False)
    cdef ConvProblem cp
    cdef const WinogradKernels* kernels
    params.stride_h = params.stride_w = params.dilation_h = params.dilation_w = 1
    params.pad_h = params.pad_w = 1
    params.groups = 1
    shape = conv2d_output_shape((<object>xx).shape, (<object>ww).shape, 1, 1, 1)
    cdef cnp.ndarray out = np.empty(tuple(max(s, 0) for s in shape), dtype=xx.dtype)
    cdef View vx = view_of(xx), vw = view_of(ww), vo = view_of(out)
    raise_for_status(prepare(&vx, &vw, &vo, &params, &extra.ep, &cp), "winograd_isa", "")
    kernels = use_winograd3x3(&cp)
    if kernels == &WINOGRAD_AVX512:
        return "avx512"
    if kernels == &WINOGRAD_AVX2:
        return "avx2"
    return None


def direct_strided_isa(x, weight, stride=2, padding=0):
    """The ISA level of the direct strided kernel ``conv2d(x, weight, stride=stride,
    padding=padding)`` runs.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, KH, KW)
    stride, padding : int or pair of ints

    Returns
    -------
    str or None
        ``'avx512'`` or ``'avx2'``, or None when that convolution takes another
        path at this process's level (``jitcore._runtime.cpu.isa()``).
    """
    cdef cnp.ndarray xx = np.asarray(x)
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef Conv2dParams params
    cdef EpilogueArgs extra = EpilogueArgs(None, "none", None, False)
    cdef ConvProblem cp
    cdef direct_strided_fn kernel
    params.stride_h, params.stride_w = _pair(stride, "stride")
    params.pad_h, params.pad_w = _pair(padding, "padding")
    params.dilation_h = params.dilation_w = 1
    params.groups = 1
    shape = conv2d_output_shape((<object>xx).shape, (<object>ww).shape, stride, padding, 1)
    cdef cnp.ndarray out = np.empty(tuple(max(s, 0) for s in shape), dtype=xx.dtype)
    cdef View vx = view_of(xx), vw = view_of(ww), vo = view_of(out)
    raise_for_status(prepare(&vx, &vw, &vo, &params, &extra.ep, &cp), "direct_strided_isa", "")
    kernel = use_direct_strided(&cp)
    if kernel == jc_direct_strided_f32:
        return "avx512"
    if kernel == jc_direct_strided_f32_avx2:
        return "avx2"
    return None


def set_direct_strided(bint enabled):
    """Let the direct strided kernel run (the default) or send its convolutions to
    im2col + GEMM, process-wide, for A/B measurements in one process
    (``benchmarks/bench_strided_ab.py``).

    Parameters
    ----------
    enabled : bool

    Returns
    -------
    bool
        The previous setting.
    """
    global direct_strided_enabled
    previous = direct_strided_enabled
    direct_strided_enabled = enabled
    return previous


def nchwc_isa(x, weight, stride=1, padding=1):
    """The ISA level of the NCHWc kernel ``conv2d(x, weight, stride=stride,
    padding=padding)`` runs.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, KH, KW)
    stride, padding : int or pair of ints

    Returns
    -------
    str or None
        ``'avx512'`` or ``'avx2'``, or None when that convolution takes another
        path at this process's level (``jitcore._runtime.cpu.isa()``).
    """
    cdef cnp.ndarray xx = np.asarray(x)
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef Conv2dParams params
    cdef EpilogueArgs extra = EpilogueArgs(None, "none", None, False)
    cdef ConvProblem cp
    cdef nchwc_fn kernel
    params.stride_h, params.stride_w = _pair(stride, "stride")
    params.pad_h, params.pad_w = _pair(padding, "padding")
    params.dilation_h = params.dilation_w = 1
    params.groups = 1
    shape = conv2d_output_shape((<object>xx).shape, (<object>ww).shape, stride, padding, 1)
    cdef cnp.ndarray out = np.empty(tuple(max(s, 0) for s in shape), dtype=xx.dtype)
    cdef View vx = view_of(xx), vw = view_of(ww), vo = view_of(out)
    raise_for_status(prepare(&vx, &vw, &vo, &params, &extra.ep, &cp), "nchwc_isa", "")
    if use_winograd3x3(&cp) != NULL or use_direct3x3(&cp) != NULL:
        return None
    kernel = use_nchwc(&cp)
    if kernel == jc_nchwc_f32:
        return "avx512"
    if kernel == jc_nchwc_f32_avx2:
        return "avx2"
    return None


def set_nchwc(str mode):
    """Where the NCHWc kernel runs, process-wide, for A/B measurements in one
    process (``benchmarks/bench_nchwc_ab.py``).

    Parameters
    ----------
    mode : {"auto", "off", "any_map"}
        ``"auto"`` (the default): on the maps of its dispatch table
        (:func:`nchwc_limits`); ``"off"``: nowhere, its convolutions take the
        path they took before it; ``"any_map"``: on every map size, to measure
        the table's crossover.

    Returns
    -------
    str
        The previous mode.

    Raises
    ------
    ValueError
        For another mode.
    """
    global nchwc_mode
    if mode not in _NCHWC_MODES:
        raise ValueError(f"set_nchwc: mode must be one of {', '.join(_NCHWC_MODES)}, "
                         f"got {mode!r}")
    previous = next(name for name, code in _NCHWC_MODES.items() if code == nchwc_mode)
    nchwc_mode = _NCHWC_MODES[mode]
    return previous


def nchwc_limits():
    """The NCHWc kernel's dispatch table (``use_nchwc``), for the packing pass.

    Returns
    -------
    dict
        ``min_channels``: the fewest input channels it runs; ``max_pixels``:
        (at least ``wide_channels`` input channels, stride 1 or 2) -> the
        largest output map (OH * OW) it runs.
    """
    return {"min_channels": NCHWC_MIN_CHANNELS, "wide_channels": NCHWC_WIDE_CHANNELS,
            "max_pixels": {(False, 1): NCHWC_MAX_PIXELS[0][0], (False, 2): NCHWC_MAX_PIXELS[0][1],
                           (True, 1): NCHWC_MAX_PIXELS[1][0], (True, 2): NCHWC_MAX_PIXELS[1][1]}}
