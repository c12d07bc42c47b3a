"""Handlers of neural-network ops: softmax, log_softmax, layer_norm, batch_norm (inference).

Convolution, pooling and embedding kernels exist (kernels/conv, pooling,
embedding) but have no handler yet: graphs using them run on the reference
interpreter (see jitcore.executor).
"""

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc_like, tensor_release, tensor_contiguous,
)
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, int_list_arg, double_arg, set_output, is_float_dtype,
    optional_tensor,
)
from jitcore._runtime.kernels.view cimport View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_SHAPE
from jitcore._runtime.kernels.softmax cimport softmax_kernel, log_softmax_kernel
from jitcore._runtime.kernels.normalization cimport batch_norm_kernel, layer_norm_kernel

cdef enum NnOp:
    N_SOFTMAX = 0
    N_LOG_SOFTMAX
    N_LAYER_NORM
    N_BATCH_NORM


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
    status = tensor_contiguous(&src, &x.t)
    if status != JC_OK:
        return status
    status = tensor_alloc_like(&out, &src.view, src.view.dtype)
    if status == JC_OK:
        if ins.imm == N_SOFTMAX:
            status = softmax_kernel(&src.view, <int>dim, &out.view)
        else:
            status = log_softmax_kernel(&src.view, <int>dim, &out.view)
        if status != JC_OK:
            tensor_release(&out)
    tensor_release(&src)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_norm(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* weight
    cdef const View* bias
    cdef const View* mean
    cdef const View* var
    cdef bint bad = False
    cdef double eps
    cdef long long training
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int n, status
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
        if training or mean == NULL or var == NULL:
            return frame_fail(f, JC_ERR_SHAPE, b"only inference batch_norm with running statistics is supported")
        status = tensor_alloc_like(&out, x, x.dtype)
        if status == JC_OK:
            status = batch_norm_kernel(x, mean, var, weight, bias, eps, &out.view)
    if status != JC_OK:
        if out.storage != NULL:
            tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


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
    elif name == "aten::batch_norm":
        # training mode needs batch statistics and updates: not an inference kernel
        if consts[5] != (False,):
            return 0
        out.fn = h_norm
        out.imm = N_BATCH_NORM
    else:
        return 0
    return 1
