"""Handlers of convolution and pooling: conv2d, jc::conv2d_act, jc::conv2d_act_pool,
max/avg/adaptive_avg pool2d.

conv2d's bias, and ``jc::conv2d_act``'s residual and activation, go through
the kernel's fused epilogue (``kernels/epilogue.pxd``): one pass over the
output while it is still in cache.  The activation of ``jc::conv2d_act`` is
a constant string resolved at lowering into the instruction's immediate.
``jc::conv2d_act_pool`` (the conv, its activation, then a 2x2 stride-2 max
pool) runs as one pass in the direct 3x3 kernel where that applies, else as
the convolution into a temporary and the pool.
Mixed float operands are promoted to one dtype (NumPy's rule) first.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport R_NONE
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_release
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, optional_tensor, int_pair_arg,
    promote_types, is_float_dtype, broadcast_view, cast_operands, release_operands, finish_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE, JC_ERR_UNSUPPORTED,
)
from jitcore._runtime.kernels.epilogue cimport Epilogue, ACT_NONE, activation_code
from jitcore._runtime.kernels.conv cimport (
    Conv2dParams, conv2d_kernel, conv2d_pool2_kernel, conv_output_size,
)
from jitcore._runtime.kernels.pooling cimport (
    Pool2dParams, pool_output_size, max_pool2d_kernel, avg_pool2d_kernel,
    adaptive_avg_pool2d_kernel,
)

cdef enum ConvOp:
    C_CONV2D = 0
    C_CONV2D_ACT            # jc::conv2d_act: activation << 8, residual_after_activation << 16
    C_CONV2D_ACT_POOL       # jc::conv2d_act_pool: activation << 8
    C_MAX_POOL
    C_AVG_POOL
    C_ADAPTIVE_AVG_POOL


cdef int h_conv2d(Frame* f, const Instr* ins) noexcept nogil:
    # conv2d(input, weight, bias, stride, padding, dilation, groups[, residual, activation, after])
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* w = tensor_arg(f, ins, 1)
    cdef const View* bias
    cdef const View* residual = NULL
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
    if (ins.imm & 0xff) == C_CONV2D_ACT:
        residual = optional_tensor(f, ins, 7, &bad)
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


cdef int resolve_conv(str name, list consts, OpImpl* out) except -1:
    """Fill ``out`` for a convolution or pooling op; 1 if handled here."""
    out.fimm = 0.0
    if name == "aten::conv2d":
        out.fn = h_conv2d
        out.imm = C_CONV2D
    elif name == "jc::conv2d_act":
        # the activation and its order must be constants to become immediates
        if consts[8] is None or consts[9] is None or not isinstance(consts[8][0], str):
            return 0
        out.fn = h_conv2d
        out.imm = (C_CONV2D_ACT | (activation_code(consts[8][0]) << 8)
                   | ((1 if consts[9][0] else 0) << 16))
    elif name == "jc::conv2d_act_pool":
        if consts[7] is None or not isinstance(consts[7][0], str):
            return 0
        out.fn = h_conv2d
        out.imm = C_CONV2D_ACT_POOL | (activation_code(consts[7][0]) << 8)
    elif name == "aten::max_pool2d":
        out.fn = h_pool2d
        out.imm = C_MAX_POOL
    elif name == "aten::avg_pool2d":
        if consts[6] is not None and consts[6][0] is not None:
            return 0
        out.fn = h_pool2d
        out.imm = C_AVG_POOL
    elif name == "aten::adaptive_avg_pool2d":
        out.fn = h_pool2d
        out.imm = C_ADAPTIVE_AVG_POOL
    else:
        return 0
    return 1
