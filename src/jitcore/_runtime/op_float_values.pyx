"""Handlers of isnan, isinf, isfinite, nan_to_num and round(decimals) (``kernels/float_values.pyx``).

Integer and bool tensors need no arithmetic: they are never NaN or inf (isnan and isinf False,
isfinite True), nan_to_num and round to decimals >= 0 copy them, as NumPy does.
"""
from libc.math cimport pow, INFINITY

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport R_NONE
from jitcore._runtime.tensor cimport Tensor, tensor_alloc_like, view_copy
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    tensor_arg, int_arg, double_arg, is_float_dtype, finish_output,
)
from jitcore._runtime.kernels.view cimport (
    View, JC_OK, JC_ERR_VALUE, DT_BOOL, DT_FLOAT32, view_numel,
)
from jitcore._runtime.kernels.float_values cimport (
    float_values_kernel, FV_ISINF, FV_ISFINITE, FV_ISNAN, FV_NAN_TO_NUM, FV_ROUND,
)

# the largest finite float32 and float64 (nan_to_num's default replacements of +-inf)
cdef double FLOAT32_MAX = 3.4028234663852886e38
cdef double FLOAT64_MAX = 1.7976931348623157e308


cdef int fill_bool(View* v, char value) noexcept nogil:
    cdef Py_ssize_t k, n = view_numel(v)
    for k in range(n):
        v.data[k] = value
    return JC_OK


cdef int optional_double(Frame* f, const Instr* ins, int k, double fallback, double* out) noexcept nogil:
    if IN(f, ins, k).tag == R_NONE:
        out[0] = fallback
        return JC_OK
    return double_arg(f, ins, k, out)


cdef int h_float_values(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef int op = <int>ins.imm, status
    cdef double a = 0.0, b = 0.0, c = 0.0, biggest
    cdef long long decimals
    cdef bint predicate = op == FV_ISINF or op == FV_ISFINITE or op == FV_ISNAN
    cdef Tensor out
    if x == NULL:
        return JC_ERR_TYPE
    if op == FV_NAN_TO_NUM:
        biggest = FLOAT32_MAX if x.dtype == DT_FLOAT32 else FLOAT64_MAX
        if (optional_double(f, ins, 1, 0.0, &a) != JC_OK or optional_double(f, ins, 2, biggest, &b) != JC_OK
                or optional_double(f, ins, 3, -biggest, &c) != JC_OK):
            return JC_ERR_TYPE
    elif op == FV_ROUND:
        if int_arg(f, ins, 1, &decimals) != JC_OK:
            return JC_ERR_TYPE
        if not is_float_dtype(x.dtype) and decimals < 0:
            return frame_fail(f, JC_ERR_VALUE,
                              b"round: negative decimals are supported for float tensors only")
        a = pow(10.0, <double>(decimals if decimals >= 0 else -decimals))
        b = 1.0 if decimals < 0 else 0.0
    status = tensor_alloc_like(&out, x, DT_BOOL if predicate else x.dtype)
    if status == JC_OK:
        if is_float_dtype(x.dtype):
            status = float_values_kernel(x, op, a, b, c, &out.view)
        elif predicate:
            status = fill_bool(&out.view, 1 if op == FV_ISFINITE else 0)
        else:
            status = view_copy(x, &out.view)
    return finish_output(f, ins, status, &out)


HANDLERS = {h.name: h for h in (
    handler("float_values", h_float_values, {
        "isnan": FV_ISNAN, "isinf": FV_ISINF, "isfinite": FV_ISFINITE,
        "nan_to_num": FV_NAN_TO_NUM, "round": FV_ROUND}),
)}
