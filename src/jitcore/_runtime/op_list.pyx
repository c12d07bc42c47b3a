"""Handlers of the list ops (``ops/defs/lists.py``): Python's list methods and operators.

A list register points to a reference-counted ``Seq`` that every register
naming the same list shares (``reg_copy``), so a method that writes the
list in place (append, pop, ``xs[i] = v`` ...) is seen through every name,
as in Python.  The lists of a Code's constants are shared by all frames on
all threads and are ``frozen``: a mutating op refuses them.  Items compare
as Python compares them: numbers by value (``1 == 1.0``), strings by their
characters, None equal to None.
"""

from libc.string cimport memmove, memset

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, Seq, R_NONE, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, R_STR,
    reg_clear, reg_copy, reg_set_int, reg_set_float, reg_set_bool, seq_new, seq_push,
    seq_reserve, seq_decref, seq_replace, seq_remove, seq_clear, reg_set_seq, reg_is_number, reg_as_double, reg_equal, reg_compare,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_OOM

cdef extern from *:
    bint __builtin_add_overflow(long long a, long long b, long long* result) noexcept nogil


# --------------------------------------------------------------- arguments

cdef inline int _list(Frame* f, const Instr* ins, int k, Seq** out) noexcept nogil:
    """The sequence of input ``k`` (a list, or a tuple read as one)."""
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_LIST and r.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list")
    out[0] = r.seq
    return JC_OK


cdef inline int _writable(Frame* f, const Instr* ins, int k, Seq** out) noexcept nogil:
    """The list input ``k`` that the op writes: not a constant, which every call shares."""
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_LIST:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list")
    if r.seq.frozen:
        return frame_fail(f, JC_ERR_VALUE, b"cannot modify a constant list (a literal folded "
                          b"when compiling, or module state); copy it first with list(...)")
    out[0] = r.seq
    return JC_OK


cdef inline int _new_list(Frame* f, const Instr* ins, Py_ssize_t size, Seq** out) noexcept nogil:
    """Make a list of ``size`` empty items the instruction's output."""
    out[0] = reg_set_seq(OUT(f, ins, 0), R_LIST, size)
    return JC_OK if out[0] != NULL else JC_ERR_OOM


cdef inline int _position(Frame* f, long long idx, Py_ssize_t size, Py_ssize_t* out,
                          const char* message) noexcept nogil:
    """A Python index (negative counts from the end) into ``size`` items, or IndexError."""
    if idx < 0:
        idx += size
    if idx < 0 or idx >= size:
        return frame_fail(f, JC_ERR_INDEX, message)
    out[0] = <Py_ssize_t>idx
    return JC_OK


cdef inline int _written_item(Frame* f, const Instr* ins, Seq** s, Py_ssize_t* at,
                             const char* message) noexcept nogil:
    """The list input 0 an op writes and the position its int input 1 names (IndexError
    with ``message`` out of range)."""
    cdef long long idx
    cdef int status = _writable(f, ins, 0, s)
    if status == JC_OK:
        status = _int(f, ins, 1, &idx)
    if status == JC_OK:
        status = _position(f, idx, s[0].size, at, message)
    return status


cdef inline int _int(Frame* f, const Instr* ins, int k, long long* out) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_INT and r.tag != R_BOOL:
        return frame_fail(f, JC_ERR_TYPE, b"expected an int")
    out[0] = r.i
    return JC_OK


cdef inline Py_ssize_t _find(Seq* s, const Reg* item) noexcept nogil:
    """The position of the first item equal to ``item``, or -1."""
    cdef Py_ssize_t k
    for k in range(s.size):
        if reg_equal(&s.items[k], item):
            return k
    return -1


# ------------------------------------------------------- building, reading

cdef int h_construct(Frame* f, const Instr* ins) noexcept nogil:
    """ListConstruct (imm R_LIST) / TupleConstruct (imm R_TUPLE)."""
    cdef Seq* s = reg_set_seq(OUT(f, ins, 0), <int>ins.imm, ins.n_in)
    cdef int k
    if s == NULL:
        return JC_ERR_OOM
    for k in range(ins.n_in):
        reg_copy(&s.items[k], IN(f, ins, k))
    return JC_OK


cdef int h_unpack(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* a = IN(f, ins, 0)
    cdef int k
    if a.tag != R_LIST and a.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list or tuple")
    if a.seq.size != ins.n_out:
        return frame_fail(f, JC_ERR_VALUE, b"wrong number of values to unpack")
    for k in range(ins.n_out):
        reg_copy(OUT(f, ins, k), &a.seq.items[k])
    return JC_OK


cdef int h_getitem(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* idx = IN(f, ins, 1)
    cdef long long i
    if (a.tag != R_LIST and a.tag != R_TUPLE) or (idx.tag != R_INT and idx.tag != R_BOOL):
        return frame_fail(f, JC_ERR_TYPE, b"expected a list and an int index")
    i = idx.i
    if i < 0:
        i += a.seq.size
    if i < 0 or i >= a.seq.size:
        return frame_fail(f, JC_ERR_INDEX, b"list index out of range")
    reg_copy(OUT(f, ins, 0), &a.seq.items[i])
    return JC_OK


cdef int h_len(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* a = IN(f, ins, 0)
    if a.tag != R_LIST and a.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list")
    reg_set_int(OUT(f, ins, 0), a.seq.size)
    return JC_OK


# ------------------------------------------------------------ in-place ops

cdef int h_append(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef int status
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    status = seq_push(s, IN(f, ins, 1))
    if status != JC_OK:
        return status
    reg_copy(OUT(f, ins, 0), IN(f, ins, 0))
    return JC_OK


cdef int h_extend(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Seq* other = NULL
    cdef Py_ssize_t k, n
    cdef int status
    status = _writable(f, ins, 0, &s)
    if status == JC_OK:
        status = _list(f, ins, 1, &other)
    if status != JC_OK:
        return status
    n = other.size              # `xs.extend(xs)` doubles xs once
    status = seq_reserve(s, s.size + n)
    if status != JC_OK:
        return status
    for k in range(n):
        status = seq_push(s, &other.items[k])
        if status != JC_OK:
            return status
    return JC_OK


cdef int h_insert(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef long long idx
    cdef Py_ssize_t n, at
    cdef Reg held
    cdef int status
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    status = _int(f, ins, 1, &idx)
    if status != JC_OK:
        return status
    n = s.size
    # list.insert clamps: past the end appends, before the start prepends
    if idx < 0:
        idx += n
    at = 0 if idx < 0 else (n if idx > n else <Py_ssize_t>idx)
    status = seq_push(s, IN(f, ins, 2))          # grow by one (the item lands at the end) ...
    if status != JC_OK:
        return status
    held = s.items[n]                            # ... then rotate it into place
    memmove(&s.items[at + 1], &s.items[at], (n - at) * sizeof(Reg))
    s.items[at] = held
    return JC_OK


cdef int h_pop(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    cdef long long idx
    cdef Py_ssize_t at
    cdef Reg* out
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    status = _int(f, ins, 1, &idx)
    if status != JC_OK:
        return status
    if s.size == 0:
        return frame_fail(f, JC_ERR_INDEX, b"pop from empty list")
    status = _position(f, idx, s.size, &at, b"pop index out of range")
    if status != JC_OK:
        return status
    out = OUT(f, ins, 0)
    reg_copy(out, &s.items[at])
    seq_remove(s, at, 1)
    return JC_OK


cdef int h_remove(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    cdef Py_ssize_t at
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    at = _find(s, IN(f, ins, 1))
    if at < 0:
        return frame_fail(f, JC_ERR_VALUE, b"list.remove(x): x is not in the list")
    seq_remove(s, at, 1)
    return JC_OK


cdef int h_clear(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    seq_clear(s)
    return JC_OK


cdef int h_reverse(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    cdef Py_ssize_t k
    cdef Reg swap
    status = _writable(f, ins, 0, &s)
    if status != JC_OK:
        return status
    for k in range(s.size // 2):
        swap = s.items[k]
        s.items[k] = s.items[s.size - 1 - k]
        s.items[s.size - 1 - k] = swap
    return JC_OK


cdef int h_set_item(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Py_ssize_t at
    cdef int status = _written_item(f, ins, &s, &at, b"list assignment index out of range")
    if status != JC_OK:
        return status
    seq_replace(s, at, IN(f, ins, 2))
    reg_copy(OUT(f, ins, 0), IN(f, ins, 0))
    return JC_OK


cdef int h_delete(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Py_ssize_t at
    cdef int status = _written_item(f, ins, &s, &at, b"list assignment index out of range")
    if status != JC_OK:
        return status
    seq_remove(s, at, 1)
    return JC_OK


# ------------------------------------------------------------------- reads

cdef int h_index(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    cdef Py_ssize_t at
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    at = _find(s, IN(f, ins, 1))
    if at < 0:
        return frame_fail(f, JC_ERR_VALUE, b"list.index(x): x is not in the list")
    reg_set_int(OUT(f, ins, 0), at)
    return JC_OK


cdef int h_count(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    cdef Py_ssize_t k, n = 0
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    for k in range(s.size):
        if reg_equal(&s.items[k], IN(f, ins, 1)):
            n += 1
    reg_set_int(OUT(f, ins, 0), n)
    return JC_OK


cdef int h_contains(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    cdef Seq* s = NULL
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    reg_set_bool(OUT(f, ins, 0), _find(s, IN(f, ins, 1)) >= 0)
    return JC_OK


cdef int _slice_bound(Frame* f, const Instr* ins, int k, long long step, Py_ssize_t size,
                      bint is_start, Py_ssize_t* out) noexcept nogil:
    """One bound of ``xs[start:end:step]`` as Python's slice.indices computes it."""
    cdef Reg* r = IN(f, ins, k)
    cdef long long v
    cdef int status
    if r.tag == R_NONE:
        if step > 0:
            out[0] = 0 if is_start else size
        else:
            out[0] = size - 1 if is_start else -1
        return JC_OK
    status = _int(f, ins, k, &v)
    if status != JC_OK:
        return status
    if v < 0:
        v += size
        if v < 0:
            v = -1 if step < 0 else 0
    elif v >= size:
        v = size - 1 if step < 0 else size
    out[0] = <Py_ssize_t>v
    return JC_OK


cdef int h_slice(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Seq* out
    cdef long long step
    cdef Py_ssize_t start, stop, n, k
    cdef int status
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    status = _int(f, ins, 3, &step)
    if status != JC_OK:
        return status
    if step == 0:
        return frame_fail(f, JC_ERR_VALUE, b"slice step cannot be zero")
    status = _slice_bound(f, ins, 1, step, s.size, True, &start)
    if status == JC_OK:
        status = _slice_bound(f, ins, 2, step, s.size, False, &stop)
    if status != JC_OK:
        return status
    if step > 0:
        n = (stop - start + step - 1) // step if stop > start else 0
    else:
        n = (start - stop - step - 1) // (-step) if start > stop else 0
    status = _new_list(f, ins, n, &out)
    if status != JC_OK:
        return status
    for k in range(n):
        reg_copy(&out.items[k], &s.items[start + k * step])
    return JC_OK


cdef int h_concat(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* a = NULL
    cdef Seq* b = NULL
    cdef Seq* out
    cdef Py_ssize_t k
    cdef int status
    status = _list(f, ins, 0, &a)
    if status == JC_OK:
        status = _list(f, ins, 1, &b)
    if status != JC_OK:
        return status
    status = _new_list(f, ins, a.size + b.size, &out)
    if status != JC_OK:
        return status
    for k in range(a.size):
        reg_copy(&out.items[k], &a.items[k])
    for k in range(b.size):
        reg_copy(&out.items[a.size + k], &b.items[k])
    return JC_OK


cdef int h_repeat(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Seq* out
    cdef long long times
    cdef Py_ssize_t k, total
    cdef int status
    status = _list(f, ins, 0, &s)
    if status == JC_OK:
        status = _int(f, ins, 1, &times)
    if status != JC_OK:
        return status
    if times < 0:
        times = 0
    if s.size > 0 and times > (<long long>1 << 40) // s.size:
        return frame_fail(f, JC_ERR_VALUE, b"the repeated list would be too long")
    total = s.size * <Py_ssize_t>times
    status = _new_list(f, ins, total, &out)
    if status != JC_OK:
        return status
    for k in range(total):
        reg_copy(&out.items[k], &s.items[k % s.size])
    return JC_OK


cdef int h_copy(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Seq* out
    cdef Py_ssize_t k
    cdef int status
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    status = _new_list(f, ins, s.size, &out)
    if status != JC_OK:
        return status
    for k in range(s.size):
        reg_copy(&out.items[k], &s.items[k])
    return JC_OK


cdef int _merge_sort(Reg* items, Reg* scratch, Py_ssize_t n, bint descending) noexcept nogil:
    """Sort stably (equal items keep their order, as Python's sort); 0, or -1 if not comparable.

    ``reverse=True`` is Python's: the order of ``reverse(sort(reverse(xs)))``,
    so equal items keep their order there too.
    """
    cdef Py_ssize_t width, lo, mid, hi, i, j, k
    cdef int order
    width = 1
    while width < n:
        lo = 0
        while lo < n:
            mid = lo + width if lo + width < n else n
            hi = lo + 2 * width if lo + 2 * width < n else n
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                order = reg_compare(&items[j], &items[i])
                if order == -2:
                    return -1
                # take from the right run only when it strictly precedes: stability
                if (order > 0) if descending else (order < 0):
                    scratch[k] = items[j]
                    j += 1
                else:
                    scratch[k] = items[i]
                    i += 1
                k += 1
            while i < mid:
                scratch[k] = items[i]
                i += 1
                k += 1
            while j < hi:
                scratch[k] = items[j]
                j += 1
                k += 1
            lo = hi
        memmove(items, scratch, n * sizeof(Reg))
        width *= 2
    return 0


cdef int h_sorted(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* s = NULL
    cdef Seq* out
    cdef Seq* scratch
    cdef long long descending
    cdef Py_ssize_t k
    cdef int status, failed
    status = _list(f, ins, 0, &s)
    if status == JC_OK:
        status = _int(f, ins, 1, &descending)
    if status != JC_OK:
        return status
    status = _new_list(f, ins, s.size, &out)
    if status != JC_OK:
        return status
    for k in range(s.size):
        reg_copy(&out.items[k], &s.items[k])
    scratch = seq_new(s.size)
    if scratch == NULL:
        return JC_ERR_OOM
    # the scratch only ever holds bitwise copies of out's items: it owns no references
    failed = _merge_sort(out.items, scratch.items, s.size, descending != 0)
    scratch.size = 0
    seq_decref(scratch)
    if failed:
        return frame_fail(f, JC_ERR_TYPE, b"sorted() needs items that compare: numbers or "
                          b"strings")
    return JC_OK


cdef inline long long _range_length(long long lo, long long hi, long long step) noexcept nogil:
    """``len(range(lo, hi, step))`` for a step that is not zero, without overflow."""
    cdef unsigned long long span
    if step > 0 and lo < hi:
        span = <unsigned long long>hi - <unsigned long long>lo
        return <long long>((span - 1) // <unsigned long long>step + 1)
    if step < 0 and lo > hi:
        span = <unsigned long long>lo - <unsigned long long>hi
        return <long long>((span - 1) // (0ULL - <unsigned long long>step) + 1)
    return 0


cdef inline int _range_arguments(Frame* f, const Instr* ins, long long* start, long long* stop,
                                 long long* step) noexcept nogil:
    """The three int inputs of a range op; ValueError for a zero step, as Python."""
    cdef int status = _int(f, ins, 0, start)
    if status == JC_OK:
        status = _int(f, ins, 1, stop)
    if status == JC_OK:
        status = _int(f, ins, 2, step)
    if status == JC_OK and step[0] == 0:
        return frame_fail(f, JC_ERR_VALUE, b"range() arg 3 must not be zero")
    return status


cdef int h_range_length(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::__range_length(lo, hi, step)``: how many items ``range(lo, hi, step)`` has."""
    cdef long long lo, hi, step
    cdef int status = _range_arguments(f, ins, &lo, &hi, &step)
    if status != JC_OK:
        return status
    reg_set_int(OUT(f, ins, 0), _range_length(lo, hi, step))
    return JC_OK


cdef int h_range_list(Frame* f, const Instr* ins) noexcept nogil:
    """``list(range(start, stop, step))``: a new list of the ints."""
    cdef long long start, stop, step, n, k
    cdef Seq* out
    cdef int status = _range_arguments(f, ins, &start, &stop, &step)
    if status != JC_OK:
        return status
    n = _range_length(start, stop, step)
    status = _new_list(f, ins, n, &out)
    if status != JC_OK:
        return status
    for k in range(n):
        # start + k * step stays between start and stop: no overflow in two's complement
        reg_set_int(&out.items[k], <long long>(<unsigned long long>start
                                              + <unsigned long long>k * <unsigned long long>step))
    return JC_OK


cdef int h_sum(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    """sum(xs): imm 1 for a float total, 0 for an int (bools count as 0/1)."""
    cdef Seq* s = NULL
    cdef Py_ssize_t k
    cdef long long total = 0
    cdef double ftotal = 0.0
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    for k in range(s.size):
        if not reg_is_number(&s.items[k]):
            return frame_fail(f, JC_ERR_TYPE, b"sum() needs a list of numbers")
        if ins.imm:
            ftotal += reg_as_double(&s.items[k])
        elif __builtin_add_overflow(total, s.items[k].i, &total):
            return frame_fail(f, JC_ERR_VALUE, b"sum() overflows a 64-bit int")
    if ins.imm:
        reg_set_float(OUT(f, ins, 0), ftotal)
    else:
        reg_set_int(OUT(f, ins, 0), total)
    return JC_OK


cdef int h_any_all(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    """any(xs) (imm 1) / all(xs) (imm 0) of a list of bools."""
    cdef Seq* s = NULL
    cdef Py_ssize_t k
    status = _list(f, ins, 0, &s)
    if status != JC_OK:
        return status
    for k in range(s.size):
        if (s.items[k].i != 0) == (ins.imm == 1):
            reg_set_bool(OUT(f, ins, 0), ins.imm == 1)
            return JC_OK
    reg_set_bool(OUT(f, ins, 0), ins.imm != 1)
    return JC_OK


cdef int h_list_equal(Frame* f, const Instr* ins) noexcept nogil:
    cdef int status
    """xs == ys (imm 0) / xs != ys (imm 1): same length, items equal in order."""
    cdef Seq* a = NULL
    cdef Seq* b = NULL
    cdef Py_ssize_t k
    cdef bint same
    status = _list(f, ins, 0, &a)
    if status == JC_OK:
        status = _list(f, ins, 1, &b)
    if status != JC_OK:
        return status
    same = a.size == b.size
    k = 0
    while same and k < a.size:
        same = reg_equal(&a.items[k], &b.items[k])
        k += 1
    reg_set_bool(OUT(f, ins, 0), same != (ins.imm == 1))
    return JC_OK


# ---------------------------------------------------------------- handlers

HANDLERS = {h.name: h for h in (
    handler("construct", h_construct, {"list": R_LIST, "tuple": R_TUPLE}),
    handler("unpack", h_unpack), handler("list_getitem", h_getitem), handler("list_len", h_len),
    handler("list_append", h_append), handler("list_extend", h_extend),
    handler("list_insert", h_insert), handler("list_pop", h_pop),
    handler("list_remove", h_remove), handler("list_clear", h_clear),
    handler("list_reverse", h_reverse), handler("list_set_item", h_set_item),
    handler("list_delete", h_delete), handler("list_index", h_index),
    handler("list_count", h_count), handler("list_contains", h_contains),
    handler("list_slice", h_slice), handler("list_concat", h_concat),
    handler("list_repeat", h_repeat), handler("list_copy", h_copy),
    handler("list_sorted", h_sorted),
    handler("range_length", h_range_length), handler("range_list", h_range_list),
    handler("list_sum", h_sum, {"int": 0, "float": 1}),
    handler("list_any_all", h_any_all, {"all": 0, "any": 1}),
    handler("list_equal", h_list_equal, {"eq": 0, "ne": 1}),
)}
