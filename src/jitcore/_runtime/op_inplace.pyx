"""Handlers of the ops that write an array in place: ``x += y``, ``x[...] = v``, ``x.fill(v)``.

NumPy's rules, which every name of the array then sees (the output register
is the written array itself, sharing its storage):

* ``x op= y`` computes ``x op y`` as the functional op would (promotion,
  broadcasting), then casts the result into ``x`` with ``casting="same_kind"``
  (``int_array += 0.5`` is an error, ``float32 += float64`` rounds); the result
  must have ``x``'s shape: ``y`` broadcasts to ``x``, never ``x`` to ``y``.
* ``x[...] = v`` (``aten::copy_``, ``aten::fill_``) casts ``v`` unsafely, as
  ``ndarray.__setitem__`` does, and broadcasts it to ``x``'s shape after
  dropping leading size-1 dimensions.
* A source that shares memory with the destination is read completely before
  anything is written (``x[1:] = x[:-1]`` shifts, as in NumPy).
* Read-only arrays and the compiled code's constants are never written.
"""

from libc.math cimport isnan, isinf

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_TENSOR, R_INT, R_FLOAT, R_BOOL, reg_is_number
from jitcore._runtime.tensor cimport (
    Tensor, Storage, STORAGE_READONLY, STORAGE_CONSTANT, tensor_alloc_like, tensor_release,
    tensor_share, view_copy,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    OpImpl, ScalarBox, scalar_view, set_output, is_float_dtype, double_arg,
)
from jitcore._runtime.op_elementwise cimport binary_result, kernel_immediate
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_VALUE, DT_BOOL, DT_INT32, DT_INT64,
)
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.kernels.dropout cimport bernoulli_kernel, next_dropout_seed
from jitcore._runtime.kernels.view cimport view_is_contiguous

cdef extern from "<stdint.h>":
    const long long INT32_MIN
    const long long INT32_MAX


# ------------------------------------------------------------------ checks

cdef int writable(Frame* f, const Reg* dst) noexcept nogil:
    """JC_OK when ``dst`` is an array this code may write."""
    if dst.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"only an array can be updated in place")
    if dst.t.storage.flags & STORAGE_READONLY:
        return frame_fail(f, JC_ERR_VALUE, b"assignment destination is read-only "
                          b"(the array's WRITEABLE flag is False)")
    if dst.t.storage.flags & STORAGE_CONSTANT:
        return frame_fail(f, JC_ERR_VALUE, b"cannot write into a constant of the compiled code "
                          b"(a frozen parameter or a literal array): copy it first, "
                          b"e.g. x = x.copy()")
    return JC_OK


cdef bint same_kind(int src, int dst) noexcept nogil:
    """NumPy's ``can_cast(src, dst, casting="same_kind")`` over jitcore's dtypes."""
    if src == dst or src == DT_BOOL or is_float_dtype(dst):
        return True
    if is_float_dtype(src):
        return False
    return dst != DT_BOOL          # int -> int of any width; int -> bool is not


cdef int fits_into(Frame* f, const View* src, const View* dst, View* aligned) noexcept nogil:
    """``aligned`` = ``src`` without the leading size-1 dims it has beyond ``dst``'s rank;
    JC_ERR_SHAPE unless it broadcasts to ``dst``'s shape."""
    cdef int k, off
    aligned[0] = src[0]
    while aligned.ndim > dst.ndim and aligned.shape[0] == 1:
        for k in range(aligned.ndim - 1):
            aligned.shape[k] = aligned.shape[k + 1]
            aligned.strides[k] = aligned.strides[k + 1]
        aligned.ndim -= 1
    off = dst.ndim - aligned.ndim
    if off < 0:
        return frame_fail(f, JC_ERR_SHAPE, b"the value has more dimensions than the array "
                          b"it is written into")
    for k in range(aligned.ndim):
        if aligned.shape[k] != 1 and aligned.shape[k] != dst.shape[off + k]:
            return frame_fail(f, JC_ERR_SHAPE, b"the value does not broadcast to the shape "
                              b"of the array it is written into")
    return JC_OK


cdef int write_view(Frame* f, Tensor* dst, const View* src, Storage* src_storage) noexcept nogil:
    """``dst[...] = src`` (unsafe cast, broadcast); ``src_storage`` is the source's memory,
    NULL for a scalar."""
    cdef View aligned
    cdef Tensor copy
    cdef int status = fits_into(f, src, &dst.view, &aligned)
    if status != JC_OK:
        return status
    copy.storage = NULL
    if src_storage != NULL and src_storage == dst.storage:
        # read all of an overlapping source before writing any of it
        status = tensor_alloc_like(&copy, &aligned, aligned.dtype)
        if status == JC_OK:
            status = view_copy(&aligned, &copy.view)
        if status != JC_OK:
            tensor_release(&copy)
            return status
        aligned = copy.view
    if aligned.dtype == dst.view.dtype:
        status = view_copy(&aligned, &dst.view)
    else:
        status = run_cast(&aligned, &dst.view)
    tensor_release(&copy)
    return status


cdef int scalar_into(Frame* f, const Reg* value, int dtype, ScalarBox* box, View* v) noexcept nogil:
    """A 0-d view of the Python number ``value`` in ``dtype``, refusing what NumPy refuses."""
    if not reg_is_number(value):
        return frame_fail(f, JC_ERR_TYPE, b"the value written must be an array or a number")
    if dtype != DT_BOOL and not is_float_dtype(dtype) and value.tag == R_FLOAT:
        if isnan(value.f):
            return frame_fail(f, JC_ERR_VALUE, b"cannot convert float NaN to integer")
        if isinf(value.f):
            return frame_fail(f, JC_ERR_VALUE, b"cannot convert float infinity to integer")
    if dtype == DT_INT32 and value.tag == R_INT and not INT32_MIN <= value.i <= INT32_MAX:
        return frame_fail(f, JC_ERR_VALUE, b"Python integer out of bounds for int32")
    scalar_view(value, dtype, box, v)
    return JC_OK


cdef int publish_self(Frame* f, const Instr* ins, Reg* dst) noexcept nogil:
    """Output 0 is the written array itself (another reference to its storage)."""
    cdef Tensor out
    tensor_share(&out, &dst.t)
    return set_output(f, ins, 0, &out)


# ---------------------------------------------------------------- handlers

cdef int h_copy_into(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::copy_(self, src)`` and ``aten::fill_(self, value)``: ``self[...] = src``."""
    cdef Reg* dst = IN(f, ins, 0)
    cdef Reg* src = IN(f, ins, 1)
    cdef ScalarBox box
    cdef View sv
    cdef int status = writable(f, dst)
    if status != JC_OK:
        return status
    if src.tag == R_TENSOR:
        status = write_view(f, &dst.t, &src.t.view, src.t.storage)
    else:
        status = scalar_into(f, src, dst.t.view.dtype, &box, &sv)
        if status == JC_OK:
            status = write_view(f, &dst.t, &sv, NULL)
    if status != JC_OK:
        return status
    return publish_self(f, ins, dst)


cdef int h_binary_inplace(Frame* f, const Instr* ins) noexcept nogil:
    """``self op= other``: the functional result, then written into ``self`` (same_kind)."""
    cdef Reg* dst = IN(f, ins, 0)
    cdef Tensor result
    cdef int k, status = writable(f, dst)
    if status != JC_OK:
        return status
    status = binary_result(f, ins, &result)
    if status != JC_OK:
        return status
    if result.view.ndim != dst.t.view.ndim:
        status = frame_fail(f, JC_ERR_SHAPE, b"non-broadcastable output operand: the result "
                            b"of an in-place update must have the array's shape")
    else:
        for k in range(result.view.ndim):
            if result.view.shape[k] != dst.t.view.shape[k]:
                status = frame_fail(f, JC_ERR_SHAPE, b"non-broadcastable output operand: the "
                                    b"result of an in-place update must have the array's shape")
                break
    if status == JC_OK and not same_kind(result.view.dtype, dst.t.view.dtype):
        status = frame_fail(f, JC_ERR_TYPE, b"cannot cast the result to the array's dtype with "
                            b"casting rule 'same_kind' (e.g. a float result into an int array)")
    if status == JC_OK:
        status = write_view(f, &dst.t, &result.view, NULL)
    tensor_release(&result)
    if status != JC_OK:
        return status
    return publish_self(f, ins, dst)


cdef int _binary_kernel(object param, object op, list consts, OpImpl* out) except -1:
    """The functional op's binary kernel (the registry entry's ``kernel``)."""
    kernel_immediate(op, consts, &out.imm)
    return 1


cdef int h_bernoulli_into(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::bernoulli_(self, p)`` (torchvision's stochastic_depth mask): each element 1
    with probability p, else 0, from the runtime's stream (the one dropout and
    ``np.random.random`` draw from), written into ``self``."""
    cdef Reg* dst = IN(f, ins, 0)
    cdef double p
    cdef Tensor drawn
    cdef int status = writable(f, dst)
    if status != JC_OK:
        return status
    if double_arg(f, ins, 1, &p) != JC_OK:
        return frame_fail(f, JC_ERR_TYPE, b"bernoulli_ takes a float probability")
    if not (0.0 <= p <= 1.0):
        return frame_fail(f, JC_ERR_VALUE, b"bernoulli_ probability must be in [0, 1]")
    if not is_float_dtype(dst.t.view.dtype):
        return frame_fail(f, JC_ERR_TYPE, b"bernoulli_ fills float32 or float64 arrays")
    if view_is_contiguous(&dst.t.view):
        status = bernoulli_kernel(p, next_dropout_seed(), &dst.t.view)
    else:
        # a strided view: drawn in C order into a buffer, then written through the view
        status = tensor_alloc_like(&drawn, &dst.t.view, dst.t.view.dtype)
        if status == JC_OK:
            status = bernoulli_kernel(p, next_dropout_seed(), &drawn.view)
            if status == JC_OK:
                status = write_view(f, &dst.t, &drawn.view, drawn.storage)
            tensor_release(&drawn)
    if status != JC_OK:
        return status
    return publish_self(f, ins, dst)


HANDLERS = {h.name: h for h in (
    handler("copy_into", h_copy_into),
    handler("bernoulli_into", h_bernoulli_into),
    handler("binary_inplace", h_binary_inplace, None, _binary_kernel),
)}
