"""Handlers of neural-network ops: softmax, log_softmax, layer_norm, batch_norm,
group_norm, instance_norm, dropout, scaled_dot_product_attention, embedding, prelu, pad,
the 1-D pools and adaptive_max_pool2d.  Convolution and 2-D pooling handlers live in
``op_conv``.
"""
from libc.math cimport sqrt

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc, tensor_alloc_like, tensor_release, tensor_contiguous, tensor_share,
)
from jitcore._runtime.handler_table cimport handler, constant_argument
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, int_list_arg, int_pair_arg, double_arg, is_float_dtype,
    optional_tensor, promote_types, cast_operands, release_operands, finish_output, set_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_SHAPE, JC_ERR_VALUE, JC_ERR_INDEX, DT_BOOL,
    DT_FLOAT64, DT_INT64,
)
from jitcore._runtime.kernels.embedding cimport embedding_kernel
from jitcore._runtime.kernels.attention cimport attention_kernel
from jitcore._runtime.kernels.softmax cimport softmax_kernel, log_softmax_kernel
from jitcore._runtime.kernels.normalization cimport (
    batch_norm_kernel, batch_statistics_kernel, layer_norm_kernel, group_norm_kernel,
)
from jitcore._runtime.kernels.pooling cimport (
    Pool2dParams, pool_output_size, max_pool2d_kernel, avg_pool2d_kernel,
    adaptive_avg_pool2d_kernel, adaptive_max_pool2d_kernel,
)
from jitcore._runtime.kernels.padding cimport (
    pad_kernel, PAD_CONSTANT, PAD_REFLECT, PAD_REPLICATE,
)
from jitcore._runtime.kernels.prelu cimport prelu_kernel
from jitcore._runtime.kernels.dropout cimport dropout_kernel, next_dropout_seed

cdef enum NnOp:
    N_SOFTMAX = 0
    N_LOG_SOFTMAX
    N_LAYER_NORM
    N_BATCH_NORM
    N_ATTENTION
    N_EMBEDDING
    N_DROPOUT
    N_GROUP_NORM
    N_INSTANCE_NORM
    N_MAX_POOL1D
    N_AVG_POOL1D
    N_ADAPTIVE_AVG_POOL1D


cdef int contiguous_input_and_output(const Tensor* x, Tensor* src, Tensor* out) noexcept nogil:
    """``src``: ``x`` as a C-contiguous tensor (shared when it is one); ``out``: a new
    tensor of its shape and dtype.  On failure neither holds anything."""
    cdef int status
    out.storage = NULL
    status = tensor_contiguous(src, x)
    if status != JC_OK:
        return status
    status = tensor_alloc_like(out, &src.view, src.view.dtype)
    if status != JC_OK:
        tensor_release(src)
    return status


cdef int h_softmax(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* x = IN(f, ins, 0)
    cdef long long dim
    cdef Tensor src, out
    cdef int status
    if x.tag != R_TENSOR or int_arg(f, ins, 1, &dim) != JC_OK:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor and an int dim")
    if ins.n_in > 2 and IN(f, ins, 2).tag != R_NONE:
        return frame_fail(f, JC_ERR_DTYPE, b"softmax with a dtype argument is not supported")
    if not is_float_dtype(x.t.view.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"softmax takes float32 or float64 tensors")
    status = contiguous_input_and_output(&x.t, &src, &out)
    if status != JC_OK:
        return status
    if ins.imm == N_SOFTMAX:
        status = softmax_kernel(&src.view, <int>dim, &out.view)
    else:
        status = log_softmax_kernel(&src.view, <int>dim, &out.view)
    tensor_release(&src)
    return finish_output(f, ins, status, &out)


cdef int h_dropout(Frame* f, const Instr* ins) noexcept nogil:
    """dropout(input, p, train): the input itself when not training."""
    cdef Reg* x = IN(f, ins, 0)
    cdef double p
    cdef long long train
    cdef Tensor src, out
    cdef int status
    if x.tag != R_TENSOR or double_arg(f, ins, 1, &p) != JC_OK or int_arg(f, ins, 2, &train) != JC_OK:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor, a float p and a bool train")
    if not (0.0 <= p <= 1.0):
        return frame_fail(f, JC_ERR_VALUE, b"dropout probability must be in [0, 1]")
    if not train:
        tensor_share(&out, &x.t)
        return finish_output(f, ins, JC_OK, &out)
    if not is_float_dtype(x.t.view.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"dropout takes float32 or float64 tensors")
    status = contiguous_input_and_output(&x.t, &src, &out)
    if status != JC_OK:
        return status
    status = dropout_kernel(&src.view, p, next_dropout_seed(), &out.view)
    tensor_release(&src)
    return finish_output(f, ins, status, &out)


cdef int batch_norm_with_batch_statistics(const View** operands, double eps,
                                          Tensor* out) noexcept nogil:
    """batch_norm of operands (x, weight, bias) with x's per-channel statistics."""
    cdef const View* x = operands[0]
    cdef Tensor mean, var
    cdef int status
    if x.ndim < 2:
        return JC_ERR_SHAPE
    mean.storage = NULL
    var.storage = NULL
    status = tensor_alloc(&mean, x.dtype, 1, &x.shape[1])
    if status == JC_OK:
        status = tensor_alloc(&var, x.dtype, 1, &x.shape[1])
    if status == JC_OK:
        status = batch_statistics_kernel(x, &mean.view, &var.view)
    if status == JC_OK:
        status = batch_norm_kernel(x, &mean.view, &var.view, operands[1], operands[2], eps,
                                   &out.view)
    tensor_release(&mean)
    tensor_release(&var)
    return status


cdef int h_norm(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* weight
    cdef const View* bias
    cdef const View* mean
    cdef const View* var
    cdef const View* operands[5]
    cdef const View* cast[5]
    cdef Tensor copies[5]
    cdef bint bad = False
    cdef double eps
    cdef long long training
    cdef bint batch_stats
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int n, k, dt, status
    cdef Tensor out
    if x == NULL:
        return JC_ERR_TYPE
    out.storage = NULL
    if ins.imm == N_LAYER_NORM:
        # layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)
        if int_list_arg(f, ins, 1, shape, &n) != JC_OK or double_arg(f, ins, 4, &eps) != JC_OK:
            return JC_ERR_TYPE
        weight = optional_tensor(f, ins, 2, &bad)
        bias = optional_tensor(f, ins, 3, &bad)
        if bad:
            return JC_ERR_TYPE
        if n > x.ndim:
            return frame_fail(f, JC_ERR_SHAPE, b"normalized_shape is longer than the input's rank")
        for status in range(n):
            if shape[status] != x.shape[x.ndim - n + status]:
                return frame_fail(f, JC_ERR_SHAPE, b"normalized_shape does not match the input's trailing dims")
        status = tensor_alloc_like(&out, x, x.dtype)
        if status == JC_OK:
            status = layer_norm_kernel(x, n, weight, bias, eps, &out.view)
    else:
        # batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn)
        weight = optional_tensor(f, ins, 1, &bad)
        bias = optional_tensor(f, ins, 2, &bad)
        mean = optional_tensor(f, ins, 3, &bad)
        var = optional_tensor(f, ins, 4, &bad)
        if bad or int_arg(f, ins, 5, &training) != JC_OK or double_arg(f, ins, 7, &eps) != JC_OK:
            return JC_ERR_TYPE
        # training mode (or no running statistics) normalises with the batch's
        # own statistics, as the reference does; running ones are not updated
        batch_stats = training or mean == NULL
        if not batch_stats and var == NULL:
            return frame_fail(f, JC_ERR_VALUE, b"running_mean is given without running_var")
        if batch_stats:
            mean = NULL
            var = NULL
        # mixed float operands (a float64 input to float32 statistics) promote as in NumPy
        operands[0], operands[1], operands[2], operands[3], operands[4] = x, weight, bias, mean, var
        dt = x.dtype
        for k in range(1, 5):
            if operands[k] != NULL:
                dt = promote_types(dt, operands[k].dtype)
        status = cast_operands(5, operands, dt, copies, cast)
        if status == JC_OK:
            status = tensor_alloc_like(&out, cast[0], dt)
        if status == JC_OK:
            if batch_stats:
                status = batch_norm_with_batch_statistics(cast, eps, &out)
                if status == JC_ERR_SHAPE:
                    frame_fail(f, status, b"batch_norm takes an (N, C, ...) input of 2 or more dims")
                elif status == JC_ERR_VALUE:
                    frame_fail(f, status, b"batch statistics need at least one value per channel")
            else:
                status = batch_norm_kernel(cast[0], cast[3], cast[4], cast[1], cast[2], eps,
                                           &out.view)
        release_operands(5, copies)
    return finish_output(f, ins, status, &out)


cdef void alloc_heads_interleaved(Tensor* out, int dtype, const View* q, Py_ssize_t ev,
                                  int* status) noexcept nogil:
    """Allocate attention's (..., H, L, Ev) result with memory laid out as (..., L, H, Ev).

    The layer that follows merges the heads with ``permute(0, 2, 1, 3)`` and a
    reshape; in this layout that permute gives a contiguous tensor, so the
    merge costs no copy.  Rank < 3 (no head dim) is allocated as is.
    """
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t size
    cdef int nd = q.ndim, d
    for d in range(nd - 1):
        shape[d] = q.shape[d]
    shape[nd - 1] = ev
    if nd >= 3:
        shape[nd - 3], shape[nd - 2] = q.shape[nd - 2], q.shape[nd - 3]
    status[0] = tensor_alloc(out, dtype, nd, shape)
    if status[0] != JC_OK or nd < 3:
        return
    # swap the head and length dims of the view back: (..., L, H, Ev) -> (..., H, L, Ev)
    size = out.view.shape[nd - 3]
    out.view.shape[nd - 3] = out.view.shape[nd - 2]
    out.view.shape[nd - 2] = size
    size = out.view.strides[nd - 3]
    out.view.strides[nd - 3] = out.view.strides[nd - 2]
    out.view.strides[nd - 2] = size


cdef int h_attention(Frame* f, const Instr* ins) noexcept nogil:
    # scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal,
    #                              *, scale, enable_gqa)
    cdef const View* q = tensor_arg(f, ins, 0)
    cdef const View* k = tensor_arg(f, ins, 1)
    cdef const View* v = tensor_arg(f, ins, 2)
    cdef const View* mask
    cdef const View* operands[4]      # q, k, v, a float mask (a bool mask is read as is)
    cdef const View* cast[4]
    cdef Tensor copies[4]
    cdef bint bad = False
    cdef double dropout, scale
    cdef long long causal, gqa
    cdef int dt, status
    cdef Tensor out
    if q == NULL or k == NULL or v == NULL:
        return JC_ERR_TYPE
    mask = optional_tensor(f, ins, 3, &bad)
    if bad or double_arg(f, ins, 4, &dropout) != JC_OK or int_arg(f, ins, 5, &causal) != JC_OK \
            or int_arg(f, ins, 7, &gqa) != JC_OK:
        return JC_ERR_TYPE
    if dropout != 0:
        return frame_fail(f, JC_ERR_VALUE, b"dropout_p must be 0 at inference")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        return frame_fail(f, JC_ERR_SHAPE, b"query, key and value need rank >= 2")
    if IN(f, ins, 6).tag == R_NONE:
        scale = 1.0 / sqrt(<double>q.shape[q.ndim - 1])
    elif double_arg(f, ins, 6, &scale) != JC_OK:
        return JC_ERR_TYPE
    # NumPy's promotion of the reference (integers compute in float64)
    dt = promote_types(promote_types(q.dtype, k.dtype), v.dtype)
    if mask != NULL and mask.dtype != DT_BOOL:
        dt = promote_types(dt, mask.dtype)
    if not is_float_dtype(dt):
        dt = DT_FLOAT64
    operands[0] = q
    operands[1] = k
    operands[2] = v
    operands[3] = mask if mask != NULL and mask.dtype != DT_BOOL else NULL
    out.storage = NULL
    status = cast_operands(4, operands, dt, copies, cast)
    if status == JC_OK:
        alloc_heads_interleaved(&out, dt, q, v.shape[v.ndim - 1], &status)
    if status == JC_OK:
        status = attention_kernel(cast[0], cast[1], cast[2], cast[3] if cast[3] != NULL else mask,
                                  causal != 0, scale, gqa != 0, &out.view)
        if status == JC_ERR_SHAPE:
            frame_fail(f, JC_ERR_SHAPE, b"key, value and attn_mask must broadcast to the "
                       b"query's batch dims, with matching E and S")
    release_operands(4, copies)
    return finish_output(f, ins, status, &out)


cdef int h_embedding(Frame* f, const Instr* ins) noexcept nogil:
    # embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse): the last
    # three only matter for training
    cdef const View* weight = tensor_arg(f, ins, 0)
    cdef const View* indices = tensor_arg(f, ins, 1)
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Tensor out
    cdef int d, status
    if weight == NULL or indices == NULL:
        return JC_ERR_TYPE
    if weight.ndim != 2:
        return frame_fail(f, JC_ERR_SHAPE, b"embedding takes a 2-D weight (num_embeddings, dim)")
    if indices.ndim + 1 > MAX_DIMS:
        return frame_fail(f, JC_ERR_SHAPE, b"embedding indices of more than 7 dimensions")
    for d in range(indices.ndim):
        shape[d] = indices.shape[d]
    shape[indices.ndim] = weight.shape[1]
    out.storage = NULL
    status = tensor_alloc(&out, weight.dtype, indices.ndim + 1, shape)
    if status == JC_OK:
        status = embedding_kernel(weight, indices, &out.view)
        if status == JC_ERR_INDEX:
            frame_fail(f, status, b"an index is outside [0, num_embeddings)")
        elif status == JC_ERR_DTYPE:
            frame_fail(f, status, b"embedding indices must be int64 or int32")
    return finish_output(f, ins, status, &out)


cdef int float_operands(int n, const View** operands, Tensor* copies,
                        const View** cast, int* dtype) noexcept nogil:
    """``cast_operands`` to the operands' promoted dtype, made floating (NumPy's float64
    for integers, as the references' ``as_float``)."""
    cdef int k
    dtype[0] = operands[0].dtype
    for k in range(1, n):
        if operands[k] != NULL:
            dtype[0] = promote_types(dtype[0], operands[k].dtype)
    if not is_float_dtype(dtype[0]):
        dtype[0] = DT_FLOAT64
    return cast_operands(n, operands, dtype[0], copies, cast)


cdef int h_group_norm(Frame* f, const Instr* ins) noexcept nogil:
    """group_norm(input, num_groups, weight, bias, eps, cudnn_enabled) and
    instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
    momentum, eps, cudnn_enabled): one group per channel with the input's statistics."""
    cdef Reg* x = IN(f, ins, 0)
    cdef const View* operands[5]
    cdef const View* cast[5]
    cdef Tensor copies[5]
    cdef Tensor src, out
    cdef bint bad = False
    cdef long long groups, use_input_stats = 1
    cdef double eps
    cdef int dt, status
    if x.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected an input tensor")
    operands[3] = operands[4] = NULL
    if ins.imm == N_GROUP_NORM:
        operands[1] = optional_tensor(f, ins, 2, &bad)
        operands[2] = optional_tensor(f, ins, 3, &bad)
        if bad or int_arg(f, ins, 1, &groups) != JC_OK or double_arg(f, ins, 4, &eps) != JC_OK:
            return frame_fail(f, JC_ERR_TYPE, b"group_norm expects (input, int num_groups, "
                              b"weight?, bias?, float eps)")
    else:
        operands[1] = optional_tensor(f, ins, 1, &bad)
        operands[2] = optional_tensor(f, ins, 2, &bad)
        operands[3] = optional_tensor(f, ins, 3, &bad)
        operands[4] = optional_tensor(f, ins, 4, &bad)
        if bad or int_arg(f, ins, 5, &use_input_stats) != JC_OK \
                or double_arg(f, ins, 7, &eps) != JC_OK:
            return frame_fail(f, JC_ERR_TYPE, b"instance_norm expects (input, weight?, bias?, "
                              b"running_mean?, running_var?, bool use_input_stats, float "
                              b"momentum, float eps)")
        if x.t.view.ndim < 3:
            return frame_fail(f, JC_ERR_SHAPE, b"instance_norm takes an (N, C, ...) input with "
                              b"at least one spatial dim")
        groups = x.t.view.shape[1]
        if not use_input_stats and (operands[3] == NULL or operands[4] == NULL):
            return frame_fail(f, JC_ERR_VALUE, b"instance_norm with use_input_stats=False "
                              b"needs running_mean and running_var")
        if use_input_stats:
            operands[3] = operands[4] = NULL
    if x.t.view.ndim < 2:
        return frame_fail(f, JC_ERR_SHAPE, b"group_norm takes an (N, C, ...) input")
    if groups < 1 or x.t.view.shape[1] % groups != 0:
        return frame_fail(f, JC_ERR_VALUE, b"num_groups must divide the input's channels (dim 1)")
    if not (eps >= 0):
        return frame_fail(f, JC_ERR_VALUE, b"eps must be non-negative")
    out.storage = NULL
    status = tensor_contiguous(&src, &x.t)
    if status != JC_OK:
        return status
    # the result has the input's (floating) dtype, as the op's rule says: the
    # parameters are brought to it
    operands[0] = &src.view
    dt = src.view.dtype if is_float_dtype(src.view.dtype) else DT_FLOAT64
    status = cast_operands(5, operands, dt, copies, cast)
    if status == JC_OK:
        status = tensor_alloc_like(&out, cast[0], dt)
    if status == JC_OK:
        if use_input_stats:
            status = group_norm_kernel(cast[0], groups, cast[1], cast[2], eps, &out.view)
        else:
            status = batch_norm_kernel(cast[0], cast[3], cast[4], cast[1], cast[2], eps,
                                       &out.view)
        if status == JC_ERR_SHAPE:
            frame_fail(f, status, b"weight, bias and running statistics must be 1-D with one "
                       b"value per channel")
    release_operands(5, copies)
    tensor_release(&src)
    return finish_output(f, ins, status, &out)


cdef int int1_arg(Frame* f, const Instr* ins, int k, Py_ssize_t* value,
                  bint allow_empty) noexcept nogil:
    """Read an ``int[1]``: one int, or a list of one (an empty list leaves ``value``
    unchanged when ``allow_empty``)."""
    cdef Py_ssize_t values[MAX_DIMS]
    cdef int n
    if int_list_arg(f, ins, k, values, &n) != JC_OK:
        return JC_ERR_TYPE
    if n == 0 and allow_empty:
        return JC_OK
    if n != 1:
        return frame_fail(f, JC_ERR_VALUE, b"expected one int for a 1-D pool")
    value[0] = values[0]
    return JC_OK


cdef void unit_height(const View* v, View* out) noexcept nogil:
    """``v`` (..., L) viewed as (..., 1, L), no copy."""
    cdef int d, nd = v.ndim
    out.data = v.data
    out.dtype = v.dtype
    out.ndim = nd + 1
    for d in range(nd - 1):
        out.shape[d] = v.shape[d]
        out.strides[d] = v.strides[d]
    out.shape[nd - 1] = 1
    out.strides[nd - 1] = v.strides[nd - 1] * v.shape[nd - 1] if nd > 0 else 0
    out.shape[nd] = v.shape[nd - 1]
    out.strides[nd] = v.strides[nd - 1]


cdef int h_pool1d(Frame* f, const Instr* ins) noexcept nogil:
    """max_pool1d(self, kernel, stride, padding, dilation, ceil_mode),
    avg_pool1d(self, kernel, stride, padding, ceil_mode, count_include_pad) and
    adaptive_avg_pool1d(self, output_size): the 2-D kernels over a unit height."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Py_ssize_t kernel = 0, stride, pad = 0, dil = 1, length, shape[MAX_DIMS]
    cdef long long ceil_mode = 0, include_pad = 1
    cdef Pool2dParams p
    cdef View x2, out2
    cdef Tensor out
    cdef int k, status
    if x == NULL:
        return JC_ERR_TYPE
    if x.ndim != 2 and x.ndim != 3:
        return frame_fail(f, JC_ERR_SHAPE, b"1-D pooling takes a 2-D (C, L) or 3-D (N, C, L) input")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"1-D pooling takes float32 or float64 tensors")
    if int1_arg(f, ins, 1, &kernel, False) != JC_OK:
        return JC_ERR_TYPE
    if kernel < 1:
        return frame_fail(f, JC_ERR_VALUE, b"kernel size / output size must be positive")
    for k in range(x.ndim - 1):
        shape[k] = x.shape[k]
    if ins.imm == N_ADAPTIVE_AVG_POOL1D:
        length = kernel
    else:
        stride = kernel
        if int1_arg(f, ins, 2, &stride, True) != JC_OK or int1_arg(f, ins, 3, &pad, False) != JC_OK:
            return JC_ERR_TYPE
        if ins.imm == N_MAX_POOL1D:
            if int1_arg(f, ins, 4, &dil, False) != JC_OK or int_arg(f, ins, 5, &ceil_mode) != JC_OK:
                return JC_ERR_TYPE
        elif int_arg(f, ins, 4, &ceil_mode) != JC_OK or int_arg(f, ins, 5, &include_pad) != JC_OK:
            return JC_ERR_TYPE
        if stride < 1 or dil < 1 or pad < 0:
            return frame_fail(f, JC_ERR_VALUE, b"stride and dilation must be positive, padding "
                              b"non-negative")
        if 2 * pad > dil * (kernel - 1) + 1:
            return frame_fail(f, JC_ERR_VALUE, b"padding must be at most half the kernel size")
        p.kernel_h = p.stride_h = p.dilation_h = 1
        p.pad_h = 0
        p.kernel_w = kernel
        p.stride_w = stride
        p.pad_w = pad
        p.dilation_w = dil
        p.ceil_mode = ceil_mode != 0
        p.count_include_pad = include_pad != 0
        length = pool_output_size(x.shape[x.ndim - 1], kernel, stride, pad, dil, p.ceil_mode)
        if length <= 0:
            return frame_fail(f, JC_ERR_SHAPE, b"the pooling window is larger than the padded input")
    shape[x.ndim - 1] = length
    out.storage = NULL
    status = tensor_alloc(&out, x.dtype, x.ndim, shape)
    if status == JC_OK:
        unit_height(x, &x2)
        unit_height(&out.view, &out2)
        if ins.imm == N_MAX_POOL1D:
            status = max_pool2d_kernel(&x2, &out2, &p)
        elif ins.imm == N_AVG_POOL1D:
            status = avg_pool2d_kernel(&x2, &out2, &p)
        else:
            status = adaptive_avg_pool2d_kernel(&x2, &out2)
            if status == JC_ERR_SHAPE:
                frame_fail(f, status, b"adaptive pooling of an empty input")
    return finish_output(f, ins, status, &out)


cdef int h_adaptive_max_pool2d(Frame* f, const Instr* ins) noexcept nogil:
    """adaptive_max_pool2d(self, output_size) -> (values, indices)."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Py_ssize_t size[2], shape[MAX_DIMS]
    cdef Tensor out, indices
    cdef int k, status
    if x == NULL:
        return JC_ERR_TYPE
    if x.ndim != 3 and x.ndim != 4:
        return frame_fail(f, JC_ERR_SHAPE, b"adaptive_max_pool2d takes a 3-D or 4-D input")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"adaptive_max_pool2d takes float32 or float64 tensors")
    if int_pair_arg(f, ins, 1, size, False) != JC_OK:
        return JC_ERR_TYPE
    if size[0] < 1 or size[1] < 1:
        return frame_fail(f, JC_ERR_VALUE, b"output_size must be positive")
    if x.shape[x.ndim - 2] < 1 or x.shape[x.ndim - 1] < 1:
        return frame_fail(f, JC_ERR_SHAPE, b"adaptive_max_pool2d of an empty plane")
    for k in range(x.ndim - 2):
        shape[k] = x.shape[k]
    shape[x.ndim - 2] = size[0]
    shape[x.ndim - 1] = size[1]
    out.storage = NULL
    indices.storage = NULL
    status = tensor_alloc(&out, x.dtype, x.ndim, shape)
    if status == JC_OK:
        status = tensor_alloc(&indices, DT_INT64, x.ndim, shape)
    if status == JC_OK:
        status = adaptive_max_pool2d_kernel(x, &out.view, &indices.view)
    if status != JC_OK:
        tensor_release(&out)
        tensor_release(&indices)
        return status
    set_output(f, ins, 0, &out)
    return set_output(f, ins, 1, &indices)


cdef int h_prelu(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* x = IN(f, ins, 0)
    cdef const View* weight = tensor_arg(f, ins, 1)
    cdef const View* operands[2]
    cdef const View* cast[2]
    cdef Tensor copies[2]
    cdef Tensor src, out
    cdef int dt, status
    if x.tag != R_TENSOR or weight == NULL:
        return frame_fail(f, JC_ERR_TYPE, b"prelu expects (tensor self, tensor weight)")
    out.storage = NULL
    status = tensor_contiguous(&src, &x.t)
    if status != JC_OK:
        return status
    operands[0] = &src.view
    operands[1] = weight
    status = float_operands(2, operands, copies, cast, &dt)
    if status == JC_OK:
        status = tensor_alloc_like(&out, cast[0], dt)
    if status == JC_OK:
        status = prelu_kernel(cast[0], cast[1], &out.view)
        if status == JC_ERR_SHAPE:
            frame_fail(f, status, b"prelu's weight must be 1-D with 1 value or one per channel "
                       b"(dim 1 of the input)")
    release_operands(2, copies)
    tensor_release(&src)
    return finish_output(f, ins, status, &out)


cdef int h_pad(Frame* f, const Instr* ins) noexcept nogil:
    """pad(self, pad, mode, value) with the mode decided at lowering (``ins.imm``)."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Py_ssize_t amounts[MAX_DIMS], before[MAX_DIMS], shape[MAX_DIMS]
    cdef double value = 0.0
    cdef Tensor out
    cdef int n, k, d, status
    if x == NULL:
        return JC_ERR_TYPE
    if int_list_arg(f, ins, 1, amounts, &n) != JC_OK:
        return JC_ERR_TYPE
    if IN(f, ins, 3).tag != R_NONE and double_arg(f, ins, 3, &value) != JC_OK:
        return JC_ERR_TYPE
    if n % 2 != 0:
        return frame_fail(f, JC_ERR_VALUE, b"pad needs (before, after) pairs")
    if n > 2 * x.ndim:
        return frame_fail(f, JC_ERR_VALUE, b"pad has more than two values per input dim")
    if ins.imm != PAD_CONSTANT and not (2 <= n <= 6 and (x.ndim == n // 2 + 1 or x.ndim == n // 2 + 2)):
        return frame_fail(f, JC_ERR_VALUE, b"reflect/replicate padding of k trailing dims "
                          b"(k = 1, 2, 3) takes a (k+1)-d or (k+2)-d input")
    for d in range(x.ndim):
        before[d] = 0
        shape[d] = x.shape[d]
    for k in range(n // 2):
        d = x.ndim - 1 - k
        before[d] = amounts[2 * k]
        shape[d] += amounts[2 * k] + amounts[2 * k + 1]
        if shape[d] < 0 or (ins.imm != PAD_CONSTANT and shape[d] < 1):
            return frame_fail(f, JC_ERR_SHAPE, b"pad crops away every element of a dim")
    out.storage = NULL
    status = tensor_alloc(&out, x.dtype, x.ndim, shape)
    if status == JC_OK:
        status = pad_kernel(x, before, <int>ins.imm, value, &out.view)
        if status == JC_ERR_VALUE:
            frame_fail(f, status, b"reflect padding must be less than the padded dim's size "
                       b"(and replicate padding needs a non-empty dim)")
    return finish_output(f, ins, status, &out)


_PAD_MODES = {"constant": PAD_CONSTANT, "reflect": PAD_REFLECT, "replicate": PAD_REPLICATE}


cdef int _pad_mode(object param, object op, list consts, OpImpl* out) except -1:
    """The mode picks the kernel's rule: it must be a constant."""
    mode = constant_argument(op, consts, "mode")
    if mode is None or mode[0] not in _PAD_MODES:
        return 0
    out.imm = _PAD_MODES[mode[0]]
    return 1


HANDLERS = {h.name: h for h in (
    handler("softmax", h_softmax, {"softmax": N_SOFTMAX, "log_softmax": N_LOG_SOFTMAX}),
    handler("norm", h_norm, {"layer_norm": N_LAYER_NORM, "batch_norm": N_BATCH_NORM}),
    handler("dropout", h_dropout),
    handler("attention", h_attention),
    handler("embedding", h_embedding),
    handler("group_norm", h_group_norm, {"group_norm": N_GROUP_NORM,
                                         "instance_norm": N_INSTANCE_NORM}),
    handler("pool1d", h_pool1d, {"max": N_MAX_POOL1D, "avg": N_AVG_POOL1D,
                                 "adaptive_avg": N_ADAPTIVE_AVG_POOL1D}),
    handler("adaptive_max_pool2d", h_adaptive_max_pool2d),
    handler("prelu", h_prelu),
    handler("pad", h_pad, None, _pad_mode),
)}
