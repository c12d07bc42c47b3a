"""Handlers of matrix products: linear, matmul, mm, bmm, addmm (BLAS kernels).

The handler computes the result shape (checking the contracted dimensions,
so a mismatch names both sizes), promotes mixed float operands to one dtype,
allocates the output and lets the kernel do the rest; linear's bias goes
through the kernel's fused epilogue instead of a second pass.
"""

from libc.stdio cimport snprintf

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR
from jitcore._runtime.tensor cimport Tensor, tensor_alloc
from jitcore._runtime.handler_table cimport handler, constant_argument
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, double_arg, promote_types, is_float_dtype,
    optional_tensor, broadcast_view, cast_operands, release_operands, finish_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE,
)
from jitcore._runtime.kernels.broadcast cimport broadcast_into
from jitcore._runtime.kernels.epilogue cimport Epilogue, ACT_NONE, activation_code
from jitcore._runtime.kernels.linalg cimport (
    matmul_kernel, mm_kernel, bmm_kernel, linear_kernel, addmm_kernel,
)

cdef enum LinalgOp:
    L_LINEAR = 0
    L_MATMUL
    L_MM
    L_BMM
    L_ADDMM
    L_LINEAR_ACT        # jc::linear_act: activation << 8, residual_after_activation << 16


cdef int mismatch(Frame* f, Py_ssize_t k1, Py_ssize_t k2) noexcept nogil:
    snprintf(f.message, sizeof(f.message),
             b"the contracted dimensions differ (%zd vs %zd)", k1, k2)
    return JC_ERR_SHAPE


cdef int result_shape(Frame* f, int op, const View* a, const View* b, int* ndim,
                      Py_ssize_t* shape) noexcept nogil:
    cdef int k, status
    cdef View batch_a, batch_b
    if op == L_LINEAR:
        if b.ndim != 2 or a.ndim < 1:
            return frame_fail(f, JC_ERR_SHAPE, b"linear needs a 2-D weight and an input of rank >= 1")
        if a.shape[a.ndim - 1] != b.shape[1]:
            return mismatch(f, a.shape[a.ndim - 1], b.shape[1])
        ndim[0] = a.ndim
        for k in range(a.ndim - 1):
            shape[k] = a.shape[k]
        shape[a.ndim - 1] = b.shape[0]
        return JC_OK
    if op == L_MM or op == L_BMM or op == L_ADDMM:
        k = 3 if op == L_BMM else 2
        if a.ndim != k or b.ndim != k:
            return frame_fail(f, JC_ERR_SHAPE, b"bmm needs 3-D operands" if op == L_BMM else b"mm needs 2-D operands")
        if op == L_BMM and a.shape[0] != b.shape[0]:
            return frame_fail(f, JC_ERR_SHAPE, b"bmm batch sizes differ")
        if a.shape[k - 1] != b.shape[k - 2]:
            return mismatch(f, a.shape[k - 1], b.shape[k - 2])
        ndim[0] = k
        if op == L_BMM:
            shape[0] = a.shape[0]
        shape[k - 2] = a.shape[k - 2]
        shape[k - 1] = b.shape[k - 1]
        return JC_OK
    # matmul: np.matmul's rules
    if a.ndim == 0 or b.ndim == 0:
        return frame_fail(f, JC_ERR_SHAPE, b"matmul does not accept 0-d operands")
    if a.shape[a.ndim - 1] != b.shape[b.ndim - 2 if b.ndim > 1 else 0]:
        return mismatch(f, a.shape[a.ndim - 1], b.shape[b.ndim - 2 if b.ndim > 1 else 0])
    # broadcast the batch dims
    batch_a = a[0]
    batch_a.ndim = a.ndim - 2 if a.ndim > 2 else 0
    batch_b = b[0]
    batch_b.ndim = b.ndim - 2 if b.ndim > 2 else 0
    ndim[0] = 0
    status = broadcast_into(&batch_a, ndim, shape)
    if status == JC_OK:
        status = broadcast_into(&batch_b, ndim, shape)
    if status != JC_OK:
        return frame_fail(f, JC_ERR_SHAPE, b"matmul batch dimensions do not broadcast")
    if a.ndim > 1:
        shape[ndim[0]] = a.shape[a.ndim - 2]
        ndim[0] += 1
    if b.ndim > 1:
        shape[ndim[0]] = b.shape[b.ndim - 1]
        ndim[0] += 1
    return JC_OK


cdef int h_linalg(Frame* f, const Instr* ins) noexcept nogil:
    cdef int op = ins.imm & 0xff
    cdef bint fused = op == L_LINEAR_ACT
    cdef int first = 1 if op == L_ADDMM else 0
    cdef const View* a = tensor_arg(f, ins, first)
    cdef const View* b = tensor_arg(f, ins, first + 1)
    cdef const View* bias = NULL
    cdef const View* residual = NULL
    cdef const View* operands[4]      # a, b, bias (or addmm's input), residual
    cdef const View* cast[4]
    cdef Tensor copies[4]
    cdef View rview
    cdef bint bad = False
    cdef Tensor out
    cdef Epilogue ep
    cdef double beta = 1, alpha = 1
    cdef int dt, ndim, status
    cdef Py_ssize_t shape[MAX_DIMS]
    if a == NULL or b == NULL:
        return JC_ERR_TYPE
    if fused:
        op = L_LINEAR
        residual = optional_tensor(f, ins, 3, &bad)
        if bad:
            return JC_ERR_TYPE
    if op == L_LINEAR and ins.n_in > 2 and IN(f, ins, 2).tag != R_NONE:
        bias = tensor_arg(f, ins, 2)
        if bias == NULL:
            return JC_ERR_TYPE
    if op == L_ADDMM:
        bias = tensor_arg(f, ins, 0)
        if bias == NULL or double_arg(f, ins, 3, &beta) != JC_OK or double_arg(f, ins, 4, &alpha) != JC_OK:
            return JC_ERR_TYPE
    dt = promote_types(a.dtype, b.dtype)
    if bias != NULL:
        dt = promote_types(dt, bias.dtype)
    if not is_float_dtype(dt):
        return frame_fail(f, JC_ERR_DTYPE, b"matrix products take float32 or float64 tensors")
    status = result_shape(f, op, a, b, &ndim, shape)
    if status != JC_OK:
        return status
    operands[0] = a
    operands[1] = b
    operands[2] = bias
    operands[3] = residual
    out.storage = NULL
    status = cast_operands(4, operands, dt, copies, cast)
    if status == JC_OK:
        status = tensor_alloc(&out, dt, ndim, shape)
    if status == JC_OK and cast[3] != NULL:
        status = broadcast_view(f, cast[3], &out.view, &rview)
    if status == JC_OK:
        ep.bias = cast[2] if op == L_LINEAR else NULL
        ep.activation = (ins.imm >> 8) & 0xff if fused else ACT_NONE
        ep.residual = &rview if cast[3] != NULL else NULL
        ep.residual_after_activation = fused and (ins.imm >> 16) & 1
        if op == L_LINEAR:
            status = linear_kernel(cast[0], cast[1], &out.view, &ep)
        elif op == L_MATMUL:
            status = matmul_kernel(cast[0], cast[1], &out.view, NULL)
        elif op == L_MM:
            status = mm_kernel(cast[0], cast[1], &out.view, NULL)
        elif op == L_BMM:
            status = bmm_kernel(cast[0], cast[1], &out.view, NULL)
        else:
            status = addmm_kernel(cast[2], cast[0], cast[1], beta, alpha, &out.view, NULL)
    release_operands(4, copies)
    return finish_output(f, ins, status, &out)


cdef int _linear_act(object param, object op, list consts, OpImpl* out) except -1:
    """The fused activation and its order must be constants to become immediates."""
    activation = constant_argument(op, consts, "activation")
    after = constant_argument(op, consts, "residual_after_activation")
    if activation is None or after is None or not isinstance(activation[0], str):
        return 0
    out.imm |= (activation_code(activation[0]) << 8) | ((1 if after[0] else 0) << 16)
    return 1


HANDLERS = {h.name: h for h in (
    handler("linalg", h_linalg, {"linear": L_LINEAR, "matmul": L_MATMUL, "mm": L_MM,
                                 "bmm": L_BMM, "addmm": L_ADDMM}),
    handler("linear_act", h_linalg, {None: L_LINEAR_ACT}, _linear_act),
)}
