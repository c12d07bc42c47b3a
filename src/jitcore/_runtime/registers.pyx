"""Register values of the interpreter and their conversion to and from Python."""

from libc.stdint cimport uint32_t
from cpython.ref cimport PyObject
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memmove, memset
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_OOM

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
    elif r.tag == R_LIST or r.tag == R_TUPLE or r.tag == R_DICT:
        seq_decref(r.seq)
        r.seq = NULL
    elif r.tag == R_STR:
        str_decref(r.text)
        r.text = NULL
    r.tag = R_EMPTY


cdef void reg_copy(Reg* dst, const Reg* src) noexcept nogil:
    if dst == src:
        return
    reg_clear(dst)
    dst.tag = src.tag
    if src.tag == R_TENSOR:
        tensor_share(&dst.t, &src.t)
    elif src.tag == R_LIST or src.tag == R_TUPLE or src.tag == R_DICT:
        dst.seq = src.seq
        # Constant sequences are shared by every frame, on any thread.
        jc_seq_inc(&src.seq.refcount)
    elif src.tag == R_FLOAT:
        dst.f = src.f
    elif src.tag == R_STR:
        dst.text = src.text
        jc_seq_inc(&src.text.refcount)
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
    s.capacity = size if size > 0 else 1
    s.frozen = False
    return s


cdef int seq_reserve(Seq* s, Py_ssize_t size) noexcept nogil:
    cdef Py_ssize_t capacity = s.capacity
    cdef Reg* items
    if size <= capacity:
        return JC_OK
    while capacity < size:
        capacity = capacity * 2 if capacity < size else size
    items = <Reg*>realloc(s.items, capacity * sizeof(Reg))
    if items == NULL:
        return JC_ERR_OOM
    # the new items are R_EMPTY (tag 0), as seq_new's are
    memset(&items[s.capacity], 0, (capacity - s.capacity) * sizeof(Reg))
    s.items = items
    s.capacity = capacity
    return JC_OK


cdef int seq_push(Seq* s, const Reg* item) noexcept nogil:
    cdef Reg held
    cdef int status
    # hold a reference first: in `xs.append(xs[0])` the item lives in the array that grows
    memset(&held, 0, sizeof(Reg))
    reg_copy(&held, item)
    status = seq_reserve(s, s.size + 1)
    if status != JC_OK:
        reg_clear(&held)
        return status
    s.items[s.size] = held      # the reference moves into the list
    s.size += 1
    return JC_OK


cdef void seq_replace(Seq* s, Py_ssize_t at, const Reg* item) noexcept nogil:
    cdef Reg held
    memset(&held, 0, sizeof(Reg))
    reg_copy(&held, item)       # `xs[0] = xs[0]`: take the reference before releasing
    reg_clear(&s.items[at])
    s.items[at] = held


cdef void seq_remove(Seq* s, Py_ssize_t at, Py_ssize_t count) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(at, at + count):
        reg_clear(&s.items[k])
    memmove(&s.items[at], &s.items[at + count], (s.size - at - count) * sizeof(Reg))
    s.size -= count
    memset(&s.items[s.size], 0, count * sizeof(Reg))


cdef void seq_clear(Seq* s) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(s.size):
        reg_clear(&s.items[k])
    s.size = 0


cdef Seq* reg_set_seq(Reg* r, int tag, Py_ssize_t size) noexcept nogil:
    cdef Seq* s = seq_new(size)
    if s != NULL:
        reg_clear(r)
        r.tag = tag
        r.seq = s
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


cdef Str* str_new(Py_ssize_t length) noexcept nogil:
    cdef Str* s = <Str*>malloc(sizeof(Str) + (length if length > 0 else 1) * sizeof(uint32_t))
    if s == NULL:
        return NULL
    s.refcount = 1
    s.length = length
    s.data = <uint32_t*>(<char*>s + sizeof(Str))
    return s


cdef void str_decref(Str* s) noexcept nogil:
    if s != NULL and jc_seq_dec(&s.refcount) == 0:
        free(s)


cdef void reg_take_str(Reg* r, Str* s) noexcept nogil:
    reg_clear(r)
    r.tag = R_STR
    r.text = s


cdef int str_compare(const Str* a, const Str* b) noexcept nogil:
    cdef Py_ssize_t n = a.length if a.length < b.length else b.length, k
    if a == b:
        return 0
    for k in range(n):
        if a.data[k] != b.data[k]:
            return -1 if a.data[k] < b.data[k] else 1
    return 0 if a.length == b.length else (-1 if a.length < b.length else 1)


cdef extern from "Python.h":
    uint32_t* PyUnicode_AsUCS4(object s, uint32_t* buffer, Py_ssize_t size, int copy_null) except NULL
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND


cdef Str* str_from_object(object value) except NULL:
    cdef Py_ssize_t n = len(value)
    cdef Str* s = str_new(n)
    if s == NULL:
        raise MemoryError(f"cannot allocate a string of {n} characters")
    if n:
        try:
            PyUnicode_AsUCS4(value, s.data, n, 0)
        except BaseException:
            free(s)
            raise
    return s


cdef object str_to_object(const Str* s):
    # the narrowest representation of the text, as Python makes it
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, s.data, s.length)


cdef bint reg_equal(const Reg* a, const Reg* b) noexcept nogil:
    if reg_is_number(a) and reg_is_number(b):
        if a.tag == R_FLOAT or b.tag == R_FLOAT:
            return reg_as_double(a) == reg_as_double(b)
        return a.i == b.i
    if a.tag == R_STR and b.tag == R_STR:
        return str_compare(a.text, b.text) == 0
    return a.tag == R_NONE and b.tag == R_NONE


cdef int reg_compare(const Reg* a, const Reg* b) noexcept nogil:
    cdef double x, y
    if reg_is_number(a) and reg_is_number(b):
        if a.tag != R_FLOAT and b.tag != R_FLOAT:
            return -1 if a.i < b.i else (1 if a.i > b.i else 0)
        x, y = reg_as_double(a), reg_as_double(b)
        # NaN is neither smaller nor larger, as in Python (a list with NaNs has no sorted order)
        return -1 if x < y else (1 if x > y else 0)
    if a.tag == R_STR and b.tag == R_STR:
        return str_compare(a.text, b.text)
    if (a.tag == R_TUPLE and b.tag == R_TUPLE) or (a.tag == R_LIST and b.tag == R_LIST):
        return _sequence_compare(a.seq, b.seq)
    return -2


cdef int _sequence_compare(const Seq* a, const Seq* b) noexcept nogil:
    """Python's order of two tuples (or two lists): by the first items that differ, else
    the shorter first.  As Python, items that are not equal decide by ``<`` even when
    neither is smaller (NaN): they order as equal, and the items after them do not count."""
    cdef Py_ssize_t k
    cdef int order
    for k in range(a.size if a.size < b.size else b.size):
        order = reg_compare(&a.items[k], &b.items[k])
        if order != 0:
            return order
        if reg_is_number(&a.items[k]) and not reg_equal(&a.items[k], &b.items[k]):
            return 0  # a NaN: Python stops at the first items that are not ==
    return 0 if a.size == b.size else (-1 if a.size < b.size else 1)


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
    elif isinstance(value, dict):
        s = seq_new(2 * len(value))
        if s == NULL:
            raise MemoryError(f"{what}: cannot allocate a dict of {len(value)} items")
        r.tag = R_DICT
        r.seq = s
        for k, (key, item) in enumerate(value.items()):
            reg_from_object(&s.items[2 * k], key, f"{what} key {key!r}")
            reg_from_object(&s.items[2 * k + 1], item, f"{what}[{key!r}]")
    elif isinstance(value, str):
        r.text = str_from_object(value)
        r.tag = R_STR
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
        return str_to_object(r.text)
    if r.tag == R_DICT:
        return {reg_to_object(&r.seq.items[2 * k]): reg_to_object(&r.seq.items[2 * k + 1])
                for k in range(r.seq.size // 2)}
    raise RuntimeError("internal error: reading an empty register")
