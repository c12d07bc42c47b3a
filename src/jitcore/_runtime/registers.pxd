# The interpreter's registers: one tagged value per IR value.  A register
# holds a tensor (by value, with a storage reference), an int, a float, a
# bool, None, or a reference-counted sequence of registers (a list, a tuple, or a
# dict: its keys and values interleaved, in insertion order).
# A string is a reference-counted immutable ``Str`` of code points (UCS4: len,
# indexing and slicing are O(1), comparison is code-point order as Python's);
# a Code's string constants are shared by every frame and thread.
from libc.stdint cimport uint32_t
from cpython.ref cimport PyObject
from jitcore._runtime.tensor cimport Tensor

cdef enum RegTag:
    R_EMPTY = 0      # never written, or released after its last use
    R_NONE
    R_TENSOR
    R_INT
    R_FLOAT
    R_BOOL
    R_LIST
    R_TUPLE
    R_STR
    R_DICT           # a Seq of 2n items: key 0, value 0, key 1, ... in insertion order

cdef struct Seq

cdef struct Str:
    Py_ssize_t refcount  # atomic: constants are shared by every thread
    Py_ssize_t length
    uint32_t* data        # ``length`` code points, in the same allocation, after the struct

cdef struct Reg:
    int tag
    long long i          # R_INT, R_BOOL (0/1)
    double f             # R_FLOAT
    Tensor t             # R_TENSOR
    Seq* seq             # R_LIST, R_TUPLE, R_DICT
    Str* text            # R_STR

cdef struct Seq:
    Py_ssize_t refcount
    Py_ssize_t size
    Py_ssize_t capacity  # items allocated; a list grows in place (append) as Python's does
    bint frozen          # a constant of the Code, shared by every frame: never mutated
    Reg* items

# Release what a register holds and mark it empty.
cdef void reg_clear(Reg* r) noexcept nogil
# ``dst`` (cleared first) becomes a copy of ``src``; tensors and sequences are shared.
cdef void reg_copy(Reg* dst, const Reg* src) noexcept nogil
cdef void reg_set_int(Reg* r, long long v) noexcept nogil
cdef void reg_set_float(Reg* r, double v) noexcept nogil
cdef void reg_set_bool(Reg* r, bint v) noexcept nogil
cdef void reg_set_none(Reg* r) noexcept nogil
# Take ownership of ``t`` (no incref): the register now holds the reference.
cdef void reg_take_tensor(Reg* r, Tensor* t) noexcept nogil
# A new sequence of ``size`` empty registers (NULL when out of memory).
cdef Seq* seq_new(Py_ssize_t size) noexcept nogil
cdef void seq_decref(Seq* s) noexcept nogil
# Room for at least ``size`` items (grown geometrically); JC_OK or JC_ERR_OOM.
cdef int seq_reserve(Seq* s, Py_ssize_t size) noexcept nogil
# Append a copy of ``item`` (shared if a tensor or sequence); JC_OK or JC_ERR_OOM.
cdef int seq_push(Seq* s, const Reg* item) noexcept nogil
# Item ``at`` becomes a copy of ``item`` (which may be that very item).
cdef void seq_replace(Seq* s, Py_ssize_t at, const Reg* item) noexcept nogil
# Drop ``count`` items from ``at`` on, moving the rest down.
cdef void seq_remove(Seq* s, Py_ssize_t at, Py_ssize_t count) noexcept nogil
# Drop every item.
cdef void seq_clear(Seq* s) noexcept nogil
# ``r`` (cleared first) becomes a new sequence of ``size`` empty items tagged ``tag``
# (R_LIST, R_TUPLE, R_DICT); the sequence, or NULL when out of memory (``r`` unchanged).
cdef Seq* reg_set_seq(Reg* r, int tag, Py_ssize_t size) noexcept nogil
# A new string of ``length`` code points (uninitialised), refcount 1; NULL when out of memory.
cdef Str* str_new(Py_ssize_t length) noexcept nogil
cdef void str_decref(Str* s) noexcept nogil
# ``r`` (cleared first) takes ownership of ``s`` (no incref).
cdef void reg_take_str(Reg* r, Str* s) noexcept nogil
# Python's order of two strings: -1, 0, 1 (code points, a prefix first).
cdef int str_compare(const Str* a, const Str* b) noexcept nogil
# A new Str of a Python str / the Python str of a Str (GIL held).
cdef Str* str_from_object(object value) except NULL
cdef object str_to_object(const Str* s)
# A number register as double / as integer (bool and int both count).
cdef double reg_as_double(const Reg* r) noexcept nogil
cdef bint reg_is_number(const Reg* r) noexcept nogil

# Python's ``==`` of two registers holding numbers, bools, None or strings (False otherwise).
cdef bint reg_equal(const Reg* a, const Reg* b) noexcept nogil
# Python's ordering of two numbers or two strings: -1, 0, 1; -2 when they do not compare.
cdef int reg_compare(const Reg* a, const Reg* b) noexcept nogil

# Python <-> register conversion at the call boundary (GIL held).
cdef int reg_from_object(Reg* r, object value, str what) except -1
cdef object reg_to_object(const Reg* r)
