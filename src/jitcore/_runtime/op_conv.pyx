"""Handlers of convolution, pooling and resampling: conv2d, jc::conv2d_act, jc::conv2d_act_pool,
max/avg/adaptive_avg pool2d, conv_transpose1d/2d, upsample (nearest, linear; 1-D and 2-D;
nearest 3-D), pixel_shuffle and pixel_unshuffle, conv1d (conv2d's kernel over a unit height).

conv2d's bias, and ``jc::conv2d_act``'s residual and activation, go through
the kernel's fused epilogue (``kernels/epilogue.pxd``): one pass over the
output while it is still in cache.  The activation of ``jc::conv2d_act`` is
a constant string resolved at lowering into the instruction's immediate.
``jc::conv2d_act_pool`` (the conv, its activation, then a 2x2 stride-2 max
pool) runs as one pass in the direct 3x3 kernel where that applies, else as
the convolution into a temporary and the pool.
Mixed float operands are promoted to one dtype (NumPy's rule) first.
The 1-D resampling ops run the 2-D kernels over a unit height.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport R_NONE, R_INT, R_FLOAT, R_LIST, R_TUPLE, Reg
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_alloc_like, tensor_release
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.kernels.strided cimport collapse_dims
from jitcore._runtime.handler_table cimport handler, constant_argument, argument_position
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, double_arg, int_list_arg, optional_tensor, int_pair_arg,
    promote_types, is_float_dtype, broadcast_view, cast_operands, release_operands, finish_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE, JC_ERR_UNSUPPORTED,
)
from jitcore._runtime.kernels.epilogue cimport Epilogue, ACT_NONE, activation_code
from jitcore._runtime.kernels.conv cimport (
    Conv2dParams, conv2d_kernel, conv2d_pool2_kernel, conv2d_winograd_kernel, conv_output_size,
    conv2d_nchwc_kernel,
)
from jitcore._runtime.kernels.conv_transpose cimport (
    ConvTranspose2dParams, conv_transpose2d_kernel, conv_transpose_output_size,
)
from jitcore._runtime.kernels.resampling cimport (
    InterpolateParams, INTERP_NEAREST, INTERP_LINEAR, interpolate2d_kernel, pixel_shuffle_kernel,
    interpolate_nearest3d_kernel,
)
from jitcore._runtime.kernels.pooling cimport (
    Pool2dParams, pool_output_size, max_pool2d_kernel, avg_pool2d_kernel,
    adaptive_avg_pool2d_kernel,
)

cdef enum ConvOp:
    C_CONV2D = 0
    C_CONV2D_ACT            # jc::conv2d_act: activation << 8, residual_after_activation << 16
    C_CONV2D_ACT_POOL       # jc::conv2d_act_pool: activation << 8
    C_CONV2D_WINOGRAD       # jc::conv2d_winograd: as C_CONV2D_ACT
    C_MAX_POOL
    C_AVG_POOL
    C_ADAPTIVE_AVG_POOL
    C_CONV_TRANSPOSE        # spatial dims << 8
    C_UPSAMPLE              # spatial dims << 8, mode << 12, .vec << 16, align_corners arg << 17
    C_PIXEL_SHUFFLE         # upscale << 8
    C_CONV2D_NCHWC          # jc::conv2d_nchwc: as C_CONV2D_ACT


cdef int h_conv2d(Frame* f, const Instr* ins) noexcept nogil:
    # conv2d(input, weight, bias, stride, padding, dilation, groups[, residual, activation, after
    #        [, winograd_weight or nchwc_weight]])
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* w = tensor_arg(f, ins, 1)
    cdef const View* bias
    cdef const View* residual = NULL
    cdef const View* winograd = NULL
    cdef const View* nchwc = NULL
    cdef const View* operands[4]      # x, weight, bias, residual (NULL: absent)
    cdef const View* cast[4]
    cdef Tensor copies[4]
    cdef View rview
    cdef bint bad = False
    cdef Py_ssize_t stride[2], pad[2], dil[2], shape[MAX_DIMS], conv_h, conv_w
    cdef long long groups
    cdef Conv2dParams p
    cdef Epilogue ep
    cdef Tensor out
    cdef int dt, status, batched, k
    if x == NULL or w == NULL:
        return JC_ERR_TYPE
    bias = optional_tensor(f, ins, 2, &bad)
    if (ins.imm & 0xff) in (C_CONV2D_ACT, C_CONV2D_WINOGRAD, C_CONV2D_NCHWC):
        residual = optional_tensor(f, ins, 7, &bad)
    if (ins.imm & 0xff) == C_CONV2D_WINOGRAD:
        winograd = optional_tensor(f, ins, 10, &bad)
    if (ins.imm & 0xff) == C_CONV2D_NCHWC:
        nchwc = optional_tensor(f, ins, 10, &bad)
    if bad:
        return JC_ERR_TYPE
    if (int_pair_arg(f, ins, 3, stride, False) != JC_OK or int_pair_arg(f, ins, 4, pad, False) != JC_OK
            or int_pair_arg(f, ins, 5, dil, False) != JC_OK or int_arg(f, ins, 6, &groups) != JC_OK):
        return JC_ERR_TYPE
    if x.ndim != 3 and x.ndim != 4:
        return frame_fail(f, JC_ERR_SHAPE, b"conv2d takes a 3-D or 4-D input")
    if w.ndim != 4:
        return frame_fail(f, JC_ERR_SHAPE, b"conv2d takes a 4-D weight")
    if groups < 1 or stride[0] < 1 or stride[1] < 1 or dil[0] < 1 or dil[1] < 1 or pad[0] < 0 or pad[1] < 0:
        return frame_fail(f, JC_ERR_VALUE, b"bad stride, padding, dilation or groups")
    batched = x.ndim == 4
    if x.shape[batched] != w.shape[1] * groups or w.shape[0] % groups != 0:
        return frame_fail(f, JC_ERR_SHAPE, b"input channels do not match weight.shape[1] * groups")
    dt = promote_types(x.dtype, w.dtype)
    if bias != NULL:
        dt = promote_types(dt, bias.dtype)
        if bias.ndim != 1 or bias.shape[0] != w.shape[0]:
            return frame_fail(f, JC_ERR_SHAPE, b"the bias must be 1-D with one value per output channel")
    if not is_float_dtype(dt):
        return frame_fail(f, JC_ERR_DTYPE, b"conv2d takes float32 or float64 tensors")
    p.stride_h = stride[0]
    p.stride_w = stride[1]
    p.pad_h = pad[0]
    p.pad_w = pad[1]
    p.dilation_h = dil[0]
    p.dilation_w = dil[1]
    p.groups = groups
    k = 0
    if batched:
        shape[0] = x.shape[0]
        k = 1
    shape[k] = w.shape[0]
    shape[k + 1] = conv_output_size(x.shape[k + 1], w.shape[2], stride[0], pad[0], dil[0])
    shape[k + 2] = conv_output_size(x.shape[k + 2], w.shape[3], stride[1], pad[1], dil[1])
    if shape[k + 1] <= 0 or shape[k + 2] <= 0:
        return frame_fail(f, JC_ERR_SHAPE, b"the kernel is larger than the padded input")
    conv_h, conv_w = shape[k + 1], shape[k + 2]
    if (ins.imm & 0xff) == C_CONV2D_ACT_POOL:
        if conv_h < 2 or conv_w < 2:
            return frame_fail(f, JC_ERR_SHAPE, b"the pooling window is larger than the padded input")
        shape[k + 1] = conv_h // 2
        shape[k + 2] = conv_w // 2
    operands[0] = x
    operands[1] = w
    operands[2] = bias
    operands[3] = residual
    out.storage = NULL
    status = cast_operands(4, operands, dt, copies, cast)
    if status == JC_OK:
        status = tensor_alloc(&out, dt, x.ndim, shape)
    if status == JC_OK and cast[3] != NULL:
        status = broadcast_view(f, cast[3], &out.view, &rview)
    if status == JC_OK:
        ep.bias = cast[2]
        ep.activation = (ins.imm >> 8) & 0xff
        ep.residual = &rview if cast[3] != NULL else NULL
        ep.residual_after_activation = (ins.imm >> 16) & 1
        if (ins.imm & 0xff) == C_CONV2D_ACT_POOL:
            status = conv2d_pool2_kernel(cast[0], cast[1], &out.view, &p, &ep)
            if status == JC_ERR_UNSUPPORTED:
                status = conv_then_pool(cast[0], cast[1], &out.view, conv_h, conv_w, &p, &ep)
        elif winograd != NULL:
            status = conv2d_winograd_kernel(cast[0], cast[1], winograd, &out.view, &p, &ep)
            if status == JC_ERR_SHAPE or status == JC_ERR_DTYPE:
                # the handler checked every other shape and dtype above
                status = frame_fail(f, status, b"jc::conv2d_winograd: winograd_weight must be "
                                    b"float32 (16, C_in, C_out), C-contiguous")
        elif nchwc != NULL:
            status = conv2d_nchwc_kernel(cast[0], cast[1], nchwc, &out.view, &p, &ep)
            if status == JC_ERR_SHAPE or status == JC_ERR_DTYPE:
                status = frame_fail(f, status, b"jc::conv2d_nchwc: nchwc_weight must be float32 "
                                    b"(ceil(C_out / 16), C_in, KH, KW, 16), C-contiguous")
        else:
            status = conv2d_kernel(cast[0], cast[1], &out.view, &p, &ep)
    release_operands(4, copies)
    return finish_output(f, ins, status, &out)


cdef int conv_then_pool(const View* x, const View* w, View* pooled, Py_ssize_t conv_h,
                        Py_ssize_t conv_w, const Conv2dParams* p, const Epilogue* ep) noexcept nogil:
    """jc::conv2d_act_pool where the one-pass kernel does not apply: the
    convolution (``conv_h`` x ``conv_w``) into a temporary, then its 2x2 stride-2 max pool."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Pool2dParams pool
    cdef Tensor full
    cdef int d, status, nd = pooled.ndim
    for d in range(nd - 2):
        shape[d] = pooled.shape[d]
    shape[nd - 2] = conv_h
    shape[nd - 1] = conv_w
    pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2
    pool.pad_h = pool.pad_w = 0
    pool.dilation_h = pool.dilation_w = 1
    pool.ceil_mode = False
    pool.count_include_pad = True
    full.storage = NULL
    status = tensor_alloc(&full, pooled.dtype, nd, shape)
    if status == JC_OK:
        status = conv2d_kernel(x, w, &full.view, p, ep)
    if status == JC_OK:
        status = max_pool2d_kernel(&full.view, pooled, &pool)
    tensor_release(&full)
    return status


cdef int h_pool2d(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef int op = ins.imm & 0xff
    cdef Py_ssize_t kernel[2], stride[2], pad[2], dil[2], shape[MAX_DIMS]
    cdef long long ceil_mode = 0, include_pad = 1
    cdef Pool2dParams p
    cdef Tensor out
    cdef int k, status
    if x == NULL:
        return JC_ERR_TYPE
    out.storage = NULL
    if x.ndim != 3 and x.ndim != 4:
        return frame_fail(f, JC_ERR_SHAPE, b"2-D pooling takes a 3-D or 4-D input")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"2-D pooling takes float32 or float64 tensors")
    for k in range(x.ndim - 2):
        shape[k] = x.shape[k]
    k = x.ndim - 2
    if op == C_ADAPTIVE_AVG_POOL:
        if int_pair_arg(f, ins, 1, kernel, False) != JC_OK:
            return JC_ERR_TYPE
        if kernel[0] < 1 or kernel[1] < 1:
            return frame_fail(f, JC_ERR_VALUE, b"output_size must be positive")
        shape[k] = kernel[0]
        shape[k + 1] = kernel[1]
        status = tensor_alloc(&out, x.dtype, x.ndim, shape)
        if status == JC_OK:
            status = adaptive_avg_pool2d_kernel(x, &out.view)
    else:
        # max_pool2d(self, kernel, stride, padding, dilation, ceil_mode)
        # avg_pool2d(self, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        kernel[0] = kernel[1] = 0
        if int_pair_arg(f, ins, 1, kernel, False) != JC_OK:
            return JC_ERR_TYPE
        stride[0] = kernel[0]
        stride[1] = kernel[1]
        dil[0] = dil[1] = 1
        if int_pair_arg(f, ins, 2, stride, True) != JC_OK or int_pair_arg(f, ins, 3, pad, False) != JC_OK:
            return JC_ERR_TYPE
        if op == C_MAX_POOL:
            if int_pair_arg(f, ins, 4, dil, False) != JC_OK or int_arg(f, ins, 5, &ceil_mode) != JC_OK:
                return JC_ERR_TYPE
        else:
            if int_arg(f, ins, 4, &ceil_mode) != JC_OK or int_arg(f, ins, 5, &include_pad) != JC_OK:
                return JC_ERR_TYPE
            if IN(f, ins, 6).tag != R_NONE:
                return frame_fail(f, JC_ERR_VALUE, b"avg_pool2d's divisor_override is not supported")
        p.kernel_h = kernel[0]
        p.kernel_w = kernel[1]
        p.stride_h = stride[0]
        p.stride_w = stride[1]
        p.pad_h = pad[0]
        p.pad_w = pad[1]
        p.dilation_h = dil[0]
        p.dilation_w = dil[1]
        p.ceil_mode = ceil_mode != 0
        p.count_include_pad = include_pad != 0
        if kernel[0] < 1 or kernel[1] < 1 or stride[0] < 1 or stride[1] < 1 or dil[0] < 1 or dil[1] < 1:
            return frame_fail(f, JC_ERR_VALUE, b"kernel size, stride and dilation must be positive")
        shape[k] = pool_output_size(x.shape[k], kernel[0], stride[0], pad[0], dil[0], p.ceil_mode)
        shape[k + 1] = pool_output_size(x.shape[k + 1], kernel[1], stride[1], pad[1], dil[1], p.ceil_mode)
        if shape[k] <= 0 or shape[k + 1] <= 0:
            return frame_fail(f, JC_ERR_SHAPE, b"the pooling window is larger than the padded input")
        status = tensor_alloc(&out, x.dtype, x.ndim, shape)
        if status == JC_OK:
            if op == C_MAX_POOL:
                status = max_pool2d_kernel(x, &out.view, &p)
            else:
                status = avg_pool2d_kernel(x, &out.view, &p)
    return finish_output(f, ins, status, &out)


# ------------------------------------------------------------- resampling

cdef inline void with_unit_dim(const View* v, int at, View* out) noexcept nogil:
    """``v`` with a unit dimension inserted before dim ``at``: an unbatched input gets its
    batch, a 1-D op's input its height, so that the 2-D (N, C, H, W) kernels take them."""
    cdef int d
    out[0] = v[0]
    out.ndim = v.ndim + 1
    for d in range(v.ndim, at, -1):
        out.shape[d] = v.shape[d - 1]
        out.strides[d] = v.strides[d - 1]
    out.shape[at] = 1
    out.strides[at] = 0


cdef inline void as_nchw(const View* v, int spatial, View* out) noexcept nogil:
    """A (C, *spatial) or (N, C, *spatial) view of 1 or 2 spatial dims as (N, C, H, W)."""
    cdef View batched
    if v.ndim == spatial + 1:
        with_unit_dim(v, 0, &batched)
    else:
        batched = v[0]
    if spatial == 1:
        with_unit_dim(&batched, 2, out)
    else:
        out[0] = batched


cdef int one_int_arg(Frame* f, const Instr* ins, int k, Py_ssize_t* value) noexcept nogil:
    """Read an ``int[1]``: one int, or a list of one."""
    cdef Py_ssize_t values[MAX_DIMS]
    cdef int n, status = int_list_arg(f, ins, k, values, &n)
    if status != JC_OK:
        return status
    if n != 1:
        return frame_fail(f, JC_ERR_VALUE, b"expected one int (a 1-D op's int[1] argument)")
    value[0] = values[0]
    return JC_OK


cdef int h_conv_transpose(Frame* f, const Instr* ins) noexcept nogil:
    # conv_transpose{1,2}d(input, weight, bias, stride, padding, output_padding, groups, dilation)
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* w = tensor_arg(f, ins, 1)
    cdef const View* bias
    cdef const View* operands[3]
    cdef const View* cast[3]
    cdef Tensor copies[3]
    cdef View x4, w4, out4
    cdef bint bad = False
    cdef int spatial = (ins.imm >> 8) & 0xf
    cdef Py_ssize_t stride[2], pad[2], out_pad[2], dil[2], shape[MAX_DIMS]
    cdef long long groups
    cdef ConvTranspose2dParams p
    cdef Tensor out
    cdef int dt, status, d, k
    if x == NULL or w == NULL:
        return JC_ERR_TYPE
    bias = optional_tensor(f, ins, 2, &bad)
    if bad:
        return JC_ERR_TYPE
    if spatial == 1:
        # the width's values; the unit height is stride 1, no padding, dilation 1
        status = one_int_arg(f, ins, 3, &stride[1])
        if status == JC_OK:
            status = one_int_arg(f, ins, 4, &pad[1])
        if status == JC_OK:
            status = one_int_arg(f, ins, 5, &out_pad[1])
        if status == JC_OK:
            status = one_int_arg(f, ins, 7, &dil[1])
        if status != JC_OK:
            return status
        stride[0], pad[0], out_pad[0], dil[0] = 1, 0, 0, 1
    elif (int_pair_arg(f, ins, 3, stride, False) != JC_OK
            or int_pair_arg(f, ins, 4, pad, False) != JC_OK
            or int_pair_arg(f, ins, 5, out_pad, False) != JC_OK
            or int_pair_arg(f, ins, 7, dil, False) != JC_OK):
        return JC_ERR_TYPE
    if int_arg(f, ins, 6, &groups) != JC_OK:
        return JC_ERR_TYPE
    if x.ndim != spatial + 1 and x.ndim != spatial + 2:
        return frame_fail(f, JC_ERR_SHAPE, b"conv_transpose1d takes a 2-D (C, L) or 3-D (N, C, L) input"
                          if spatial == 1 else
                          b"conv_transpose2d takes a 3-D (C, H, W) or 4-D (N, C, H, W) input")
    if w.ndim != spatial + 2:
        return frame_fail(f, JC_ERR_SHAPE, b"conv_transpose1d takes a 3-D weight (C_in, C_out/groups, K)"
                          if spatial == 1 else
                          b"conv_transpose2d takes a 4-D weight (C_in, C_out/groups, KH, KW)")
    for d in range(2):
        if stride[d] < 1 or dil[d] < 1 or pad[d] < 0 or out_pad[d] < 0:
            return frame_fail(f, JC_ERR_VALUE, b"conv_transpose: stride and dilation must be "
                              b"positive, padding and output_padding non-negative")
        if stride[d] > 1 << 30 or pad[d] > 1 << 30 or dil[d] > 1 << 30:
            return frame_fail(f, JC_ERR_VALUE, b"conv_transpose: stride, padding or dilation "
                              b"too large (the output size would overflow)")
        if out_pad[d] >= stride[d] and out_pad[d] >= dil[d]:
            return frame_fail(f, JC_ERR_VALUE, b"conv_transpose: output_padding must be smaller "
                              b"than either stride or dilation")
    if groups < 1 or w.shape[0] % groups != 0:
        return frame_fail(f, JC_ERR_VALUE, b"conv_transpose: groups must be positive and divide "
                          b"the weight's input channels (weight.shape[0])")
    k = x.ndim - spatial - 1
    if x.shape[k] != w.shape[0]:
        return frame_fail(f, JC_ERR_SHAPE, b"conv_transpose: the input's channels do not match "
                          b"weight.shape[0] (the weight is (C_in, C_out/groups, kernel...))")
    dt = promote_types(x.dtype, w.dtype)
    if bias != NULL:
        dt = promote_types(dt, bias.dtype)
        if bias.ndim != 1 or bias.shape[0] != w.shape[1] * groups:
            return frame_fail(f, JC_ERR_SHAPE, b"conv_transpose: the bias must be 1-D with "
                              b"weight.shape[1] * groups values")
    if not is_float_dtype(dt):
        return frame_fail(f, JC_ERR_DTYPE, b"conv_transpose takes float32 or float64 tensors")
    for d in range(k):
        shape[d] = x.shape[d]
    shape[k] = w.shape[1] * groups
    for d in range(spatial):
        shape[k + 1 + d] = conv_transpose_output_size(
            x.shape[k + 1 + d], w.shape[2 + d], stride[2 - spatial + d], pad[2 - spatial + d],
            out_pad[2 - spatial + d], dil[2 - spatial + d])
        if shape[k + 1 + d] < 1:
            return frame_fail(f, JC_ERR_SHAPE, b"conv_transpose: the output would be empty "
                              b"(padding too large for the input and kernel)")
    p.stride_h, p.stride_w = stride[0], stride[1]
    p.pad_h, p.pad_w = pad[0], pad[1]
    p.dilation_h, p.dilation_w = dil[0], dil[1]
    p.groups = groups
    operands[0] = x
    operands[1] = w
    operands[2] = bias
    out.storage = NULL
    status = cast_operands(3, operands, dt, copies, cast)
    if status == JC_OK:
        status = tensor_alloc(&out, dt, x.ndim, shape)
    if status == JC_OK:
        as_nchw(cast[0], spatial, &x4)
        as_nchw(cast[1], spatial, &w4)      # (C_in, C_out/groups, [1,] K...)
        as_nchw(&out.view, spatial, &out4)
        status = conv_transpose2d_kernel(&x4, &w4, cast[2], &out4, &p)
    release_operands(3, copies)
    return finish_output(f, ins, status, &out)


cdef int float_list_arg(Frame* f, const Instr* ins, int k, double* values, int* n) noexcept nogil:
    """Read a ``float[]`` (ints are taken as floats) into ``values``."""
    cdef Reg* r = IN(f, ins, k)
    cdef Py_ssize_t j
    if r.tag != R_LIST and r.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list of floats")
    if r.seq.size > MAX_DIMS:
        return frame_fail(f, JC_ERR_VALUE, b"more than 8 dimensions")
    for j in range(r.seq.size):
        if r.seq.items[j].tag == R_FLOAT:
            values[j] = r.seq.items[j].f
        elif r.seq.items[j].tag == R_INT:
            values[j] = <double>r.seq.items[j].i
        else:
            return frame_fail(f, JC_ERR_TYPE, b"expected a list of floats")
    n[0] = <int>r.seq.size
    return JC_OK


cdef int optional_scale(Frame* f, const Instr* ins, int k, double* scale) noexcept nogil:
    """A ``float?`` scale: 0 (not given) for None."""
    scale[0] = 0.0
    if IN(f, ins, k).tag == R_NONE:
        return JC_OK
    return double_arg(f, ins, k, scale)


cdef int h_upsample(Frame* f, const Instr* ins) noexcept nogil:
    # upsample_<mode><n>d(self, output_size, [align_corners,] scales...)
    # upsample_<mode><n>d.vec(input, output_size?, [align_corners,] scale_factors?)
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef int spatial = (ins.imm >> 8) & 0xf
    cdef int mode = (ins.imm >> 12) & 0xf
    cdef bint vec = (ins.imm >> 16) & 1
    cdef bint has_align = (ins.imm >> 17) & 1
    cdef int scales_at = 3 if has_align else 2
    cdef Py_ssize_t sizes[MAX_DIMS], shape[5]
    cdef double scales[MAX_DIMS], scaled
    cdef long long align = 0
    cdef int n_sizes = 0, n_scales = 0, d, status
    cdef bint sizes_given, scales_given
    cdef InterpolateParams p
    cdef View x4, out4
    cdef Tensor out
    if x == NULL:
        return JC_ERR_TYPE
    if x.ndim != spatial + 2:
        return frame_fail(f, JC_ERR_SHAPE, b"upsample (1-D) takes a 3-D (N, C, L) input"
                          if spatial == 1 else b"upsample (2-D) takes a 4-D (N, C, H, W) input"
                          if spatial == 2 else b"upsample (3-D) takes a 5-D (N, C, D, H, W) input")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"upsample takes float32 or float64 tensors")
    if has_align and int_arg(f, ins, 2, &align) != JC_OK:
        return JC_ERR_TYPE
    scales[0] = scales[1] = scales[2] = 0.0
    sizes_given = IN(f, ins, 1).tag != R_NONE
    if sizes_given and int_list_arg(f, ins, 1, sizes, &n_sizes) != JC_OK:
        return JC_ERR_TYPE
    if vec:
        scales_given = IN(f, ins, scales_at).tag != R_NONE
        if scales_given and float_list_arg(f, ins, scales_at, scales, &n_scales) != JC_OK:
            return JC_ERR_TYPE
        if sizes_given == scales_given:
            return frame_fail(f, JC_ERR_VALUE, b"upsample: give exactly one of output_size and "
                              b"scale_factors")
        if (sizes_given and n_sizes != spatial) or (scales_given and n_scales != spatial):
            return frame_fail(f, JC_ERR_VALUE, b"upsample: expected one output size or scale "
                              b"factor per spatial dimension")
        if scales_given:
            for d in range(spatial):
                scaled = <double>x.shape[2 + d] * scales[d]
                if not (scaled < 9.0e15):       # exact in a double; inf and NaN too
                    return frame_fail(f, JC_ERR_VALUE, b"upsample: the scale factor makes "
                                      b"the output too large")
                sizes[d] = <Py_ssize_t>scaled if scaled >= 0 else 0
    else:
        if not sizes_given or n_sizes != spatial:
            return frame_fail(f, JC_ERR_VALUE, b"upsample: expected one output size per spatial "
                              b"dimension")
        for d in range(spatial):
            if optional_scale(f, ins, scales_at + d, &scales[d]) != JC_OK:
                return JC_ERR_TYPE
    for d in range(spatial):
        if sizes[d] < 1:
            return frame_fail(f, JC_ERR_VALUE, b"upsample: the output size must be positive")
        if x.shape[2 + d] < 1:
            return frame_fail(f, JC_ERR_SHAPE, b"upsample: the input's spatial size must be "
                              b"non-empty")
    shape[0] = x.shape[0]
    shape[1] = x.shape[1]
    for d in range(spatial):
        shape[2 + d] = sizes[d]
    p.mode = mode
    p.align_corners = align != 0
    p.one_dim = spatial == 1
    if spatial == 1:
        p.scale_h = 0.0
        p.scale_w = scales[0]
    else:
        p.scale_h = scales[0]
        p.scale_w = scales[1]
    out.storage = NULL
    status = tensor_alloc(&out, x.dtype, spatial + 2, shape)
    if status == JC_OK and spatial == 3:
        status = interpolate_nearest3d_kernel(x, &out.view, scales[0], scales[1], scales[2])
    elif status == JC_OK:
        as_nchw(x, spatial, &x4)
        as_nchw(&out.view, spatial, &out4)
        status = interpolate2d_kernel(&x4, &out4, &p)
    return finish_output(f, ins, status, &out)


cdef int h_pixel_shuffle(Frame* f, const Instr* ins) noexcept nogil:
    # pixel_shuffle(self, upscale_factor) / pixel_unshuffle(self, downscale_factor)
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef bint upscale = (ins.imm >> 8) & 1
    cdef long long r
    cdef Py_ssize_t shape[MAX_DIMS], batch, batch_stride
    cdef Py_ssize_t c, h, w
    cdef int nd, d, status = JC_OK
    cdef Tensor copy, out
    cdef const View* src
    cdef View x4, out4
    if x == NULL:
        return JC_ERR_TYPE
    if int_arg(f, ins, 1, &r) != JC_OK:
        return JC_ERR_TYPE
    nd = x.ndim
    if nd < 3:
        return frame_fail(f, JC_ERR_SHAPE, b"pixel_shuffle/pixel_unshuffle take an input of at "
                          b"least 3 dimensions (*, C, H, W)")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"pixel_shuffle takes float32 or float64 tensors")
    if r < 1:
        return frame_fail(f, JC_ERR_VALUE, b"pixel_shuffle: the factor must be positive")
    if r > 1 << 20:     # r * r and the output's sizes must not overflow
        return frame_fail(f, JC_ERR_VALUE, b"pixel_shuffle: the factor is too large")
    c, h, w = x.shape[nd - 3], x.shape[nd - 2], x.shape[nd - 1]
    for d in range(nd - 3):
        shape[d] = x.shape[d]
    if upscale:
        if c % (r * r) != 0:
            return frame_fail(f, JC_ERR_SHAPE, b"pixel_shuffle: the channels must be divisible "
                              b"by upscale_factor ** 2")
        shape[nd - 3], shape[nd - 2], shape[nd - 1] = c // (r * r), h * r, w * r
    else:
        if h % r != 0 or w % r != 0:
            return frame_fail(f, JC_ERR_SHAPE, b"pixel_unshuffle: height and width must be "
                              b"divisible by downscale_factor")
        shape[nd - 3], shape[nd - 2], shape[nd - 1] = c * r * r, h // r, w // r
    copy.storage = NULL
    out.storage = NULL
    src = x
    if not collapse_dims(x, 0, nd - 3, &batch, &batch_stride):
        # leading dims that do not walk memory with one stride: a contiguous copy first
        status = tensor_alloc_like(&copy, x, x.dtype)
        if status == JC_OK:
            status = run_cast(x, &copy.view)
        src = &copy.view
        collapse_dims(src, 0, nd - 3, &batch, &batch_stride)
    if status == JC_OK:
        status = tensor_alloc(&out, x.dtype, nd, shape)
    if status == JC_OK:
        x4.data = src.data
        x4.dtype = src.dtype
        x4.ndim = 4
        x4.shape[0] = batch
        x4.strides[0] = batch_stride
        out4 = x4
        out4.data = out.view.data
        out4.shape[0] = batch
        out4.strides[0] = out.view.strides[nd - 3] * shape[nd - 3]
        for d in range(3):
            x4.shape[1 + d] = src.shape[nd - 3 + d]
            x4.strides[1 + d] = src.strides[nd - 3 + d]
            out4.shape[1 + d] = shape[nd - 3 + d]
            out4.strides[1 + d] = out.view.strides[nd - 3 + d]
        status = pixel_shuffle_kernel(&x4, &out4, r, upscale)
    tensor_release(&copy)
    return finish_output(f, ins, status, &out)


cdef int h_conv1d(Frame* f, const Instr* ins) noexcept nogil:
    # conv1d(input, weight, bias, stride, padding, dilation, groups): (N, C, L) as (N, C, 1, L)
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* w = tensor_arg(f, ins, 1)
    cdef const View* bias
    cdef const View* operands[3]
    cdef const View* cast[3]
    cdef Tensor copies[3]
    cdef View x4, w4, out4
    cdef bint bad = False
    cdef Py_ssize_t stride, pad, dil, shape[3]
    cdef long long groups
    cdef Conv2dParams p
    cdef Epilogue ep
    cdef Tensor out
    cdef int dt, status, batched
    if x == NULL or w == NULL:
        return JC_ERR_TYPE
    bias = optional_tensor(f, ins, 2, &bad)
    if bad:
        return JC_ERR_TYPE
    if (one_int_arg(f, ins, 3, &stride) != JC_OK or one_int_arg(f, ins, 4, &pad) != JC_OK
            or one_int_arg(f, ins, 5, &dil) != JC_OK or int_arg(f, ins, 6, &groups) != JC_OK):
        return JC_ERR_TYPE
    if (x.ndim != 2 and x.ndim != 3) or w.ndim != 3:
        return frame_fail(f, JC_ERR_SHAPE, b"conv1d takes a 2-D or 3-D input and a 3-D weight")
    if groups < 1 or stride < 1 or dil < 1 or pad < 0:
        return frame_fail(f, JC_ERR_VALUE, b"bad stride, padding, dilation or groups")
    batched = x.ndim == 3
    if x.shape[batched] != w.shape[1] * groups or w.shape[0] % groups != 0:
        return frame_fail(f, JC_ERR_SHAPE, b"input channels do not match weight.shape[1] * groups")
    dt = promote_types(x.dtype, w.dtype)
    if bias != NULL:
        dt = promote_types(dt, bias.dtype)
        if bias.ndim != 1 or bias.shape[0] != w.shape[0]:
            return frame_fail(f, JC_ERR_SHAPE, b"the bias must be 1-D with one value per output channel")
    if not is_float_dtype(dt):
        return frame_fail(f, JC_ERR_DTYPE, b"conv1d takes float32 or float64 tensors")
    p.stride_h = 1
    p.stride_w = stride
    p.pad_h = 0
    p.pad_w = pad
    p.dilation_h = 1
    p.dilation_w = dil
    p.groups = groups
    if batched:
        shape[0] = x.shape[0]
    shape[batched] = w.shape[0]
    shape[batched + 1] = conv_output_size(x.shape[batched + 1], w.shape[2], stride, pad, dil)
    if shape[batched + 1] <= 0:
        return frame_fail(f, JC_ERR_SHAPE, b"the kernel is larger than the padded input")
    operands[0] = x
    operands[1] = w
    operands[2] = bias
    out.storage = NULL
    status = cast_operands(3, operands, dt, copies, cast)
    if status == JC_OK:
        status = tensor_alloc(&out, dt, x.ndim, shape)
    if status == JC_OK:
        as_nchw(cast[0], 1, &x4)
        with_unit_dim(cast[1], 2, &w4)          # (C_out, C_in/groups, 1, K)
        as_nchw(&out.view, 1, &out4)
        # the unit height's stride as a dense array has it: the kernels' contiguity checks hold
        x4.strides[2] = x4.strides[3] * x4.shape[3]
        w4.strides[2] = w4.strides[3] * w4.shape[3]
        out4.strides[2] = out4.strides[3] * out4.shape[3]
        ep.bias = cast[2]
        ep.activation = ACT_NONE
        ep.residual = NULL
        ep.residual_after_activation = 0
        status = conv2d_kernel(&x4, &w4, &out4, &p, &ep)
    release_operands(3, copies)
    return finish_output(f, ins, status, &out)


cdef int _conv_act(object param, object op, list consts, OpImpl* out) except -1:
    """The fused activation (and whether the residual comes after it) must be constants."""
    activation = constant_argument(op, consts, "activation")
    if activation is None or not isinstance(activation[0], str):
        return 0
    out.imm |= activation_code(activation[0]) << 8
    if argument_position(op, "residual_after_activation") >= 0:
        after = constant_argument(op, consts, "residual_after_activation")
        if after is None:
            return 0
        out.imm |= (1 if after[0] else 0) << 16
    return 1


cdef int _avg_pool(object param, object op, list consts, OpImpl* out) except -1:
    """The kernel divides by the window's size: refuse a constant divisor_override."""
    divisor = constant_argument(op, consts, "divisor_override")
    return not (divisor is not None and divisor[0] is not None)


def _upsample_immediates():
    """``{"nearest1d": imm, "nearest1d.vec": imm, ...}`` for the upsample handler."""
    table = {}
    for mode_name, mode in (("nearest", INTERP_NEAREST), ("linear", INTERP_LINEAR)):
        for spatial in [1, 2, 3] if mode == INTERP_NEAREST else [1, 2]:
            for vec in (0, 1):
                key = f"{mode_name}{spatial}d" + (".vec" if vec else "")
                table[key] = (C_UPSAMPLE | (spatial << 8) | (mode << 12) | (vec << 16)
                              | ((mode == INTERP_LINEAR) << 17))
    return table


HANDLERS = {h.name: h for h in (
    handler("conv2d", h_conv2d, {None: C_CONV2D}),
    handler("conv1d", h_conv1d),
    handler("conv2d_act", h_conv2d, {"residual": C_CONV2D_ACT,
                                     "pool": C_CONV2D_ACT_POOL,
                                     "winograd": C_CONV2D_WINOGRAD,
                                     "nchwc": C_CONV2D_NCHWC}, _conv_act),
    handler("pool2d", h_pool2d, {"max": C_MAX_POOL, "adaptive_avg": C_ADAPTIVE_AVG_POOL}),
    handler("avg_pool2d", h_pool2d, {None: C_AVG_POOL}, _avg_pool),
    handler("conv_transpose", h_conv_transpose, {1: C_CONV_TRANSPOSE | (1 << 8),
                                                 2: C_CONV_TRANSPOSE | (2 << 8)}),
    handler("upsample", h_upsample, _upsample_immediates()),
    handler("pixel_shuffle", h_pixel_shuffle, {"shuffle": C_PIXEL_SHUFFLE | (1 << 8),
                                               "unshuffle": C_PIXEL_SHUFFLE}),
)}
