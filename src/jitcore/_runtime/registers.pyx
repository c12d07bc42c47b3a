"""Register values of the interpreter and their conversion to and from Python."""

from cpython.ref cimport PyObject
from libc.stdlib cimport malloc, calloc, free

from jitcore._runtime.tensor cimport (
    Tensor, tensor_share, tensor_release, tensor_from_object, tensor_to_array,
)

import numpy as np

cdef extern from *:
    """
    #define jc_seq_inc(p) __atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
    #define jc_seq_dec(p) __atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)
    """
    Py_ssize_t jc_seq_inc(Py_ssize_t* p) noexcept nogil
    Py_ssize_t jc_seq_dec(Py_ssize_t* p) noexcept nogil


cdef void reg_clear(Reg* r) noexcept nogil:
    if r.tag == R_TENSOR:
        tensor_release(&r.t)
    elif r.tag == R_LIST or r.tag == R_TUPLE:
        seq_decref(r.seq)
        r.seq = NULL
    r.tag = R_EMPTY


cdef void reg_copy(Reg* dst, const Reg* src) noexcept nogil:
    if dst == src:
        return
    reg_clear(dst)
    dst.tag = src.tag
    if src.tag == R_TENSOR:
        tensor_share(&dst.t, &src.t)
    elif src.tag == R_LIST or src.tag == R_TUPLE:
        dst.seq = src.seq
        # Constant sequences are shared by every frame, on any thread.
        jc_seq_inc(&src.seq.refcount)
    elif src.tag == R_FLOAT:
        dst.f = src.f
    elif src.tag == R_STR:
        dst.obj = src.obj
    else:
        dst.i = src.i


cdef void reg_set_int(Reg* r, long long v) noexcept nogil:
    reg_clear(r)
    r.tag = R_INT
    r.i = v


cdef void reg_set_float(Reg* r, double v) noexcept nogil:
    reg_clear(r)
    r.tag = R_FLOAT
    r.f = v


cdef void reg_set_bool(Reg* r, bint v) noexcept nogil:
    reg_clear(r)
    r.tag = R_BOOL
    r.i = 1 if v else 0


cdef void reg_set_none(Reg* r) noexcept nogil:
    reg_clear(r)
    r.tag = R_NONE


cdef void reg_take_tensor(Reg* r, Tensor* t) noexcept nogil:
    reg_clear(r)
    r.tag = R_TENSOR
    r.t = t[0]


cdef Seq* seq_new(Py_ssize_t size) noexcept nogil:
    cdef Seq* s = <Seq*>malloc(sizeof(Seq))
    if s == NULL:
        return NULL
    # calloc: every item starts as R_EMPTY (tag 0)
    s.items = <Reg*>calloc(size if size > 0 else 1, sizeof(Reg))
    if s.items == NULL:
        free(s)
        return NULL
    s.refcount = 1
    s.size = size
    return s


cdef void seq_decref(Seq* s) noexcept nogil:
    cdef Py_ssize_t k
    if s == NULL or jc_seq_dec(&s.refcount) != 0:
        return
    for k in range(s.size):
        reg_clear(&s.items[k])
    free(s.items)
    free(s)


cdef double reg_as_double(const Reg* r) noexcept nogil:
    return r.f if r.tag == R_FLOAT else <double>r.i


cdef bint reg_is_number(const Reg* r) noexcept nogil:
    return r.tag == R_INT or r.tag == R_FLOAT or r.tag == R_BOOL


cdef int reg_from_object(Reg* r, object value, str what) except -1:
    """Fill an empty register from a Python value (GIL held)."""
    cdef Seq* s
    cdef Py_ssize_t k
    if type(value) is np.ndarray:
        tensor_from_object(&r.t, value, what)
        r.tag = R_TENSOR
    elif value is None:
        r.tag = R_NONE
    elif isinstance(value, (bool, np.bool_)):
        r.tag = R_BOOL
        r.i = 1 if value else 0
    elif isinstance(value, (int, np.integer)):
        r.tag = R_INT
        r.i = value
    elif isinstance(value, (float, np.floating)):
        r.tag = R_FLOAT
        r.f = value
    elif isinstance(value, (list, tuple)):
        s = seq_new(len(value))
        if s == NULL:
            raise MemoryError(f"{what}: cannot allocate a list of {len(value)} items")
        r.tag = R_LIST if isinstance(value, list) else R_TUPLE
        r.seq = s
        for k in range(len(value)):
            reg_from_object(&s.items[k], value[k], f"{what}[{k}]")
    elif isinstance(value, str):
        raise TypeError(f"{what}: strings are not runtime values")
    else:
        tensor_from_object(&r.t, value, what)
        r.tag = R_TENSOR
    return 0


cdef object reg_to_object(const Reg* r):
    """The Python value of a register (tensors become ndarrays without a copy)."""
    if r.tag == R_TENSOR:
        return tensor_to_array(&r.t)
    if r.tag == R_INT:
        return r.i
    if r.tag == R_FLOAT:
        return r.f
    if r.tag == R_BOOL:
        return bool(r.i)
    if r.tag == R_NONE:
        return None
    if r.tag == R_LIST:
        return [reg_to_object(&r.seq.items[k]) for k in range(r.seq.size)]
    if r.tag == R_TUPLE:
        return tuple(reg_to_object(&r.seq.items[k]) for k in range(r.seq.size))
    if r.tag == R_STR:
        return <object>r.obj
    raise RuntimeError("internal error: reading an empty register")
