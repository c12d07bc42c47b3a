"""Handlers of neural-network ops: softmax, log_softmax, layer_norm, batch_norm, dropout,
scaled_dot_product_attention,

embedding.  Convolution and pooling handlers live in ``op_conv``.
"""
from libc.math cimport sqrt

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc, tensor_alloc_like, tensor_release, tensor_contiguous, tensor_share,
)
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, int_list_arg, double_arg, is_float_dtype,
    optional_tensor, promote_types, cast_operands, release_operands, finish_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_SHAPE, JC_ERR_VALUE, JC_ERR_INDEX, DT_BOOL,
    DT_FLOAT64,
)
from jitcore._runtime.kernels.embedding cimport embedding_kernel
from jitcore._runtime.kernels.attention cimport attention_kernel
from jitcore._runtime.kernels.softmax cimport softmax_kernel, log_softmax_kernel
from jitcore._runtime.kernels.normalization cimport (
    batch_norm_kernel, batch_statistics_kernel, layer_norm_kernel,
)
from jitcore._runtime.kernels.dropout cimport dropout_kernel, next_dropout_seed

cdef enum NnOp:
    N_SOFTMAX = 0
    N_LOG_SOFTMAX
    N_LAYER_NORM
    N_BATCH_NORM
    N_ATTENTION
    N_EMBEDDING
    N_DROPOUT


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
    """dropout(input, p, train) whose train is not a constant False (op_shape
    lowers that case to the input itself)."""
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


cdef int resolve_nn(str name, list consts, OpImpl* out) except -1:
    """Fill ``out`` for an nn op; 1 if handled here."""
    out.fimm = 0.0
    if name == "aten::softmax.int":
        out.fn = h_softmax
        out.imm = N_SOFTMAX
    elif name == "aten::log_softmax.int":
        out.fn = h_softmax
        out.imm = N_LOG_SOFTMAX
    elif name == "aten::layer_norm":
        out.fn = h_norm
        out.imm = N_LAYER_NORM
    elif name == "aten::dropout":
        out.fn = h_dropout
        out.imm = N_DROPOUT
    elif name == "aten::batch_norm":
        out.fn = h_norm
        out.imm = N_BATCH_NORM
    elif name == "aten::scaled_dot_product_attention":
        out.fn = h_attention
        out.imm = N_ATTENTION
    elif name == "aten::embedding":
        out.fn = h_embedding
        out.imm = N_EMBEDDING
    else:
        return 0
    return 1
