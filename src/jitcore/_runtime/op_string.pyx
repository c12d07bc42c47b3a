"""Handlers of the string ops (``ops/defs/strings.py``): Python's str operators,
methods and conversions.

A string register (``R_STR``) points to an immutable, reference-counted
``Str`` of code points (``registers.pxd``), so length, indexing and slicing
are O(1) and comparison is Python's code-point order; every result is a new
``Str``.  The handlers run without the GIL; only what needs Python's own
tables or number formatting takes it: ``lower``/``upper`` of non-ASCII text
(full case mapping: ``"ß".upper() == "SS"``), ``str(float)`` (repr's
shortest round-trip digits), ``int(s)``/``float(s)`` (Python's grammar:
underscores, signs, whitespace, ``"inf"``) and ``format``.
"""

import builtins

from libc.stdint cimport uint32_t
from libc.stdio cimport snprintf
from libc.string cimport memcpy

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, Seq, Str, R_NONE, R_INT, R_FLOAT, R_BOOL, R_STR, R_LIST,
    reg_set_int, reg_set_bool, reg_take_str, str_new, str_compare, seq_new, seq_push,
    seq_decref, reg_from_object, reg_to_object, reg_clear,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport int_arg
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_OOM

cdef extern from "Python.h":
    # Unicode database lookups: pure tables, safe without the GIL
    bint Py_UNICODE_ISSPACE(uint32_t ch) nogil
    bint Py_UNICODE_ISALPHA(uint32_t ch) nogil
    bint Py_UNICODE_ISDIGIT(uint32_t ch) nogil

cdef enum:
    C_EQ = 0
    C_NE
    C_LT
    C_LE
    C_GT
    C_GE

cdef enum:
    F_FIND = 0
    F_COUNT
    F_STARTSWITH
    F_ENDSWITH
    F_CONTAINS

cdef enum:
    STRIP_BOTH = 0
    STRIP_LEFT
    STRIP_RIGHT

cdef enum:
    IS_DIGIT = 0
    IS_ALPHA
    IS_SPACE


# ------------------------------------------------------------------ helpers

cdef inline int _str(Frame* f, const Instr* ins, int k, Str** out) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a string")
    out[0] = r.text
    return JC_OK


cdef inline int _result(Frame* f, Py_ssize_t length, Str** out) noexcept nogil:
    """A new string of ``length`` code points for the caller to fill and then give to
    output 0 with ``reg_take_str`` (last: the output's register may hold an input)."""
    out[0] = str_new(length)
    if out[0] == NULL:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a string")
    return JC_OK


cdef int _substring(Frame* f, const Instr* ins, const uint32_t* data, Py_ssize_t n) noexcept nogil:
    cdef Str* out = NULL
    if _result(f, n, &out) != JC_OK:
        return JC_ERR_OOM
    if n:
        memcpy(out.data, data, n * sizeof(uint32_t))
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef inline bint _match(const Str* s, Py_ssize_t at, const Str* sub) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(sub.length):
        if s.data[at + k] != sub.data[k]:
            return False
    return True


cdef inline Py_ssize_t _clamp(long long index, Py_ssize_t n) noexcept nogil:
    """A slice bound as Python reads it: negative from the end, clipped to [0, n]."""
    if index < 0:
        index += n
        if index < 0:
            index = 0
    return index if index < n else n


cdef inline bint _is_ascii(const Str* s) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(s.length):
        if s.data[k] > 127:
            return False
    return True


cdef inline bint _in(uint32_t c, const Str* chars) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(chars.length):
        if chars.data[k] == c:
            return True
    return False


cdef int _fail_from_python(Frame* f, int status, object message) noexcept:
    """frame_fail with a message made in Python (GIL held)."""
    return frame_fail(f, status, str(message).encode("utf-8", "replace"))


# ------------------------------------------------------------------ operators

cdef int h_str_compare(Frame* f, const Instr* ins) noexcept nogil:
    """aten::eq/ne/lt/le/gt/ge.str: Python's order, by code point."""
    cdef Str* a = NULL
    cdef Str* b = NULL
    cdef int c
    if _str(f, ins, 0, &a) != JC_OK or _str(f, ins, 1, &b) != JC_OK:
        return JC_ERR_TYPE
    c = str_compare(a, b)
    reg_set_bool(OUT(f, ins, 0), (c == 0 if ins.imm == C_EQ else c != 0 if ins.imm == C_NE else
                                  c < 0 if ins.imm == C_LT else c <= 0 if ins.imm == C_LE else
                                  c > 0 if ins.imm == C_GT else c >= 0))
    return JC_OK


cdef int h_str_concat(Frame* f, const Instr* ins) noexcept nogil:
    """aten::add.str: ``a + b``."""
    cdef Str* a = NULL
    cdef Str* b = NULL
    cdef Str* out = NULL
    cdef Py_ssize_t na
    if _str(f, ins, 0, &a) != JC_OK or _str(f, ins, 1, &b) != JC_OK:
        return JC_ERR_TYPE
    na = a.length
    # filled before reg_take_str: the output register may hold an input
    out = str_new(na + b.length)
    if out == NULL:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a string")
    if na:
        memcpy(out.data, a.data, na * sizeof(uint32_t))
    if b.length:
        memcpy(out.data + na, b.data, b.length * sizeof(uint32_t))
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef int h_str_repeat(Frame* f, const Instr* ins) noexcept nogil:
    """aten::mul.str: ``s * n`` (empty for n <= 0)."""
    cdef Str* a = NULL
    cdef Str* out = NULL
    cdef long long n = 0, k
    if _str(f, ins, 0, &a) != JC_OK or int_arg(f, ins, 1, &n) != JC_OK:
        return JC_ERR_TYPE
    if n < 0:
        n = 0
    if a.length and n > (<long long>1 << 40) // a.length:
        return frame_fail(f, JC_ERR_VALUE, b"str * int: the result is too long")
    out = str_new(a.length * n)
    if out == NULL:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a string")
    for k in range(n):
        memcpy(out.data + k * a.length, a.data, a.length * sizeof(uint32_t))
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef int h_str_len(Frame* f, const Instr* ins) noexcept nogil:
    cdef Str* a = NULL
    if _str(f, ins, 0, &a) != JC_OK:
        return JC_ERR_TYPE
    reg_set_int(OUT(f, ins, 0), a.length)
    return JC_OK


cdef int h_str_getitem(Frame* f, const Instr* ins) noexcept nogil:
    """aten::__getitem__.str: ``s[i]``, one code point (negative from the end)."""
    cdef Str* a = NULL
    cdef long long i = 0
    if _str(f, ins, 0, &a) != JC_OK or int_arg(f, ins, 1, &i) != JC_OK:
        return JC_ERR_TYPE
    if i < 0:
        i += a.length
    if i < 0 or i >= a.length:
        return frame_fail(f, JC_ERR_INDEX, b"IndexError: string index out of range")
    return _substring(f, ins, a.data + i, 1)


cdef int h_str_slice(Frame* f, const Instr* ins) noexcept nogil:
    """aten::slice.str: ``s[start:end:step]`` as Python slices (None bounds: the ends)."""
    cdef Str* a = NULL
    cdef Str* out = NULL
    cdef long long step = 1, start, end
    cdef Py_ssize_t n, count, k
    cdef Reg* lo = IN(f, ins, 1)
    cdef Reg* hi = IN(f, ins, 2)
    if _str(f, ins, 0, &a) != JC_OK or int_arg(f, ins, 3, &step) != JC_OK:
        return JC_ERR_TYPE
    if (lo.tag != R_NONE and lo.tag != R_INT) or (hi.tag != R_NONE and hi.tag != R_INT):
        return frame_fail(f, JC_ERR_TYPE, b"slice bounds must be int or None")
    if step == 0:
        return frame_fail(f, JC_ERR_VALUE, b"ValueError: slice step cannot be zero")
    n = a.length
    if step > 0:
        start = 0 if lo.tag == R_NONE else _clamp(lo.i, n)
        end = n if hi.tag == R_NONE else _clamp(hi.i, n)
        count = (end - start + step - 1) // step if end > start else 0
    else:
        # a negative step walks from start down to (not including) end, both in [-1, n-1]
        if lo.tag == R_NONE:
            start = n - 1
        else:
            start = lo.i + n if lo.i < 0 else lo.i
            start = -1 if start < 0 else (n - 1 if start >= n else start)
        if hi.tag == R_NONE:
            end = -1
        else:
            end = hi.i + n if hi.i < 0 else hi.i
            end = -1 if end < 0 else (n - 1 if end >= n else end)
        count = (start - end + (-step) - 1) // (-step) if start > end else 0
    if step == 1:
        return _substring(f, ins, a.data + start, count)
    if _result(f, count, &out) != JC_OK:
        return JC_ERR_OOM
    for k in range(count):
        out.data[k] = a.data[start + k * step]
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


# ------------------------------------------------------------------ searching

cdef int h_str_find(Frame* f, const Instr* ins) noexcept nogil:
    """find / count / startswith / endswith ``(self, sub, start=0, end=None)`` and ``sub in s``,
    within ``s[start:end]`` as Python reads those bounds."""
    cdef Str* s = NULL
    cdef Str* sub = NULL
    cdef long long lo = 0
    cdef Py_ssize_t start, end, k, found = -1, count = 0
    cdef bint beyond = False
    cdef Reg* hi
    if _str(f, ins, 0, &s) != JC_OK or _str(f, ins, 1, &sub) != JC_OK:
        return JC_ERR_TYPE
    start, end = 0, s.length
    if ins.n_in > 2:
        if int_arg(f, ins, 2, &lo) != JC_OK:
            return JC_ERR_TYPE
        # a start past the end finds nothing, not even "" (Python's rule)
        beyond = lo > s.length
        start = _clamp(lo, s.length)
        hi = IN(f, ins, 3)
        if hi.tag == R_INT:
            end = _clamp(hi.i, s.length)
        elif hi.tag != R_NONE:
            return frame_fail(f, JC_ERR_TYPE, b"expected an int or None end")
    if ins.imm == F_STARTSWITH or ins.imm == F_ENDSWITH:
        if beyond or end - start < sub.length:
            reg_set_bool(OUT(f, ins, 0), False)
        else:
            reg_set_bool(OUT(f, ins, 0),
                         _match(s, start if ins.imm == F_STARTSWITH else end - sub.length, sub))
        return JC_OK
    if not beyond and end - start >= sub.length:
        k = start
        while k <= end - sub.length:
            if _match(s, k, sub):
                if found < 0:
                    found = k
                    if ins.imm != F_COUNT:
                        break
                count += 1
                # non-overlapping, as str.count; an empty sub counts every position
                k += sub.length if sub.length else 1
            else:
                k += 1
    if ins.imm == F_COUNT:
        reg_set_int(OUT(f, ins, 0), count)
    elif ins.imm == F_CONTAINS:
        reg_set_bool(OUT(f, ins, 0), found >= 0)
    else:
        reg_set_int(OUT(f, ins, 0), found)
    return JC_OK


# ------------------------------------------------------------------ new strings

cdef int h_str_strip(Frame* f, const Instr* ins) noexcept nogil:
    """strip / lstrip / rstrip ``(self, chars=None)``: None strips Unicode whitespace."""
    cdef Str* s = NULL
    cdef Str* chars = NULL
    cdef Py_ssize_t lo = 0, hi
    if _str(f, ins, 0, &s) != JC_OK:
        return JC_ERR_TYPE
    if ins.n_in > 1 and IN(f, ins, 1).tag != R_NONE:
        if _str(f, ins, 1, &chars) != JC_OK:
            return JC_ERR_TYPE
    hi = s.length
    if ins.imm != STRIP_RIGHT:
        while lo < hi and (_in(s.data[lo], chars) if chars != NULL else Py_UNICODE_ISSPACE(s.data[lo])):
            lo += 1
    if ins.imm != STRIP_LEFT:
        while hi > lo and (_in(s.data[hi - 1], chars) if chars != NULL
                           else Py_UNICODE_ISSPACE(s.data[hi - 1])):
            hi -= 1
    return _substring(f, ins, s.data + lo, hi - lo)


cdef int h_str_case(Frame* f, const Instr* ins) noexcept nogil:
    """lower / upper (imm 0 / 1): ASCII here, other text by Python's full case mapping."""
    cdef Str* s = NULL
    cdef Str* out = NULL
    cdef Py_ssize_t k
    cdef uint32_t c
    if _str(f, ins, 0, &s) != JC_OK:
        return JC_ERR_TYPE
    if not _is_ascii(s):
        return _case_with_python(f, ins)
    if _result(f, s.length, &out) != JC_OK:
        return JC_ERR_OOM
    for k in range(s.length):
        c = s.data[k]
        if ins.imm == 0 and 65 <= c <= 90:
            c += 32
        elif ins.imm == 1 and 97 <= c <= 122:
            c -= 32
        out.data[k] = c
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef int _case_with_python(Frame* f, const Instr* ins) noexcept with gil:
    # one code point may map to several ("ß".upper() == "SS"): Python's tables know how
    text = reg_to_object(IN(f, ins, 0))
    return _set_from_python(f, ins, text.lower() if ins.imm == 0 else text.upper())


cdef int _set_from_python(Frame* f, const Instr* ins, object value, int k=0) noexcept:
    """Output ``k`` becomes ``value`` (GIL held)."""
    cdef Reg* out = OUT(f, ins, k)
    reg_clear(out)
    try:
        reg_from_object(out, value, "result")
    except MemoryError:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a string")
    except Exception as e:
        return _fail_from_python(f, JC_ERR_VALUE, e)
    return JC_OK


cdef int h_str_is(Frame* f, const Instr* ins) noexcept nogil:
    """isdigit / isalpha / isspace: every code point is one, and there is at least one."""
    cdef Str* s = NULL
    cdef Py_ssize_t k
    cdef bint yes
    if _str(f, ins, 0, &s) != JC_OK:
        return JC_ERR_TYPE
    yes = s.length > 0
    for k in range(s.length):
        if ins.imm == IS_DIGIT:
            yes = Py_UNICODE_ISDIGIT(s.data[k])
        elif ins.imm == IS_ALPHA:
            yes = Py_UNICODE_ISALPHA(s.data[k])
        else:
            yes = Py_UNICODE_ISSPACE(s.data[k])
        if not yes:
            break
    reg_set_bool(OUT(f, ins, 0), yes)
    return JC_OK


cdef int h_str_replace(Frame* f, const Instr* ins) noexcept nogil:
    """aten::replace ``(self, old, new, max=-1)``: the first ``max`` occurrences (all when
    negative), left to right; an empty ``old`` matches before each code point and at the end."""
    cdef Str* s = NULL
    cdef Str* old = NULL
    cdef Str* new = NULL
    cdef Str* out = NULL
    cdef long long limit = -1
    cdef Py_ssize_t n = 0, k, j, size
    if (_str(f, ins, 0, &s) != JC_OK or _str(f, ins, 1, &old) != JC_OK
            or _str(f, ins, 2, &new) != JC_OK):
        return JC_ERR_TYPE
    if ins.n_in > 3 and int_arg(f, ins, 3, &limit) != JC_OK:
        return JC_ERR_TYPE
    # count the replacements first, then fill a string of the exact size
    k = 0
    while k <= s.length - old.length and (limit < 0 or n < limit):
        if _match(s, k, old):
            n += 1
            k += old.length if old.length else 1
        else:
            k += 1
    size = s.length + n * (new.length - old.length)
    if _result(f, size, &out) != JC_OK:
        return JC_ERR_OOM
    k = j = 0
    while k < s.length or (old.length == 0 and n > 0):
        if n > 0 and k <= s.length - old.length and _match(s, k, old):
            memcpy(out.data + j, new.data, new.length * sizeof(uint32_t))
            j += new.length
            n -= 1
            if old.length:
                k += old.length
                continue
            if k == s.length:
                break
        out.data[j] = s.data[k]
        j += 1
        k += 1
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef int _push_part(Seq* parts, const uint32_t* data, Py_ssize_t n) noexcept nogil:
    """Append a new string of ``data[:n]`` to ``parts``; JC_OK or JC_ERR_OOM."""
    cdef Reg item
    cdef int status
    item.tag = R_STR
    item.text = str_new(n)
    if item.text == NULL:
        return JC_ERR_OOM
    if n:
        memcpy(item.text.data, data, n * sizeof(uint32_t))
    status = seq_push(parts, &item)     # the list takes its own reference
    reg_clear(&item)
    return status


cdef int _set_list(Frame* f, const Instr* ins, Seq* parts, int status) noexcept nogil:
    """Output 0 becomes the list ``parts`` (built apart: an input may share the output's
    register); on failure ``parts`` is dropped."""
    cdef Reg* out
    if status != JC_OK:
        seq_decref(parts)
        return frame_fail(f, status, b"out of memory for a list of strings")
    out = OUT(f, ins, 0)
    reg_clear(out)
    out.tag = R_LIST
    out.seq = parts
    return JC_OK


cdef int h_str_split(Frame* f, const Instr* ins) noexcept nogil:
    """aten::split.str ``(self, separator=None, max=-1)``: Python's str.split (no separator:
    runs of whitespace, no empty parts)."""
    cdef Str* s = NULL
    cdef Str* sep = NULL
    cdef Seq* parts
    cdef long long limit = -1
    cdef Py_ssize_t k = 0, start, splits = 0
    cdef int status = JC_OK
    if _str(f, ins, 0, &s) != JC_OK:
        return JC_ERR_TYPE
    if ins.n_in > 1 and IN(f, ins, 1).tag != R_NONE and _str(f, ins, 1, &sep) != JC_OK:
        return JC_ERR_TYPE
    if ins.n_in > 2 and int_arg(f, ins, 2, &limit) != JC_OK:
        return JC_ERR_TYPE
    if sep != NULL and sep.length == 0:
        return frame_fail(f, JC_ERR_VALUE, b"ValueError: empty separator")
    parts = seq_new(0)
    if parts == NULL:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a list of strings")
    if sep == NULL:
        while status == JC_OK:
            while k < s.length and Py_UNICODE_ISSPACE(s.data[k]):
                k += 1
            if k == s.length:
                break
            start = k
            if limit >= 0 and splits == limit:
                # the rest is the last part, trailing whitespace and all (as Python's)
                status = _push_part(parts, s.data + start, s.length - start)
                break
            while k < s.length and not Py_UNICODE_ISSPACE(s.data[k]):
                k += 1
            splits += 1
            status = _push_part(parts, s.data + start, k - start)
    else:
        start = 0
        while status == JC_OK and k <= s.length - sep.length and (limit < 0 or splits < limit):
            if _match(s, k, sep):
                status = _push_part(parts, s.data + start, k - start)
                splits += 1
                k += sep.length
                start = k
            else:
                k += 1
        if status == JC_OK:
            status = _push_part(parts, s.data + start, s.length - start)
    return _set_list(f, ins, parts, status)


cdef int h_str_join(Frame* f, const Instr* ins) noexcept nogil:
    """aten::join ``(self, values)``: the strings of ``values`` with ``self`` between them."""
    cdef Str* sep = NULL
    cdef Str* out = NULL
    cdef Reg* values = IN(f, ins, 1)
    cdef Py_ssize_t size = 0, k, j = 0
    cdef Str* item
    if _str(f, ins, 0, &sep) != JC_OK:
        return JC_ERR_TYPE
    if values.tag != R_LIST:
        return frame_fail(f, JC_ERR_TYPE, b"str.join expects a list of strings")
    for k in range(values.seq.size):
        if values.seq.items[k].tag != R_STR:
            return frame_fail(f, JC_ERR_TYPE, b"TypeError: str.join expects a list of strings")
        size += values.seq.items[k].text.length + (sep.length if k else 0)
    out = str_new(size)
    if out == NULL:
        return frame_fail(f, JC_ERR_OOM, b"out of memory for a string")
    for k in range(values.seq.size):
        if k and sep.length:
            memcpy(out.data + j, sep.data, sep.length * sizeof(uint32_t))
            j += sep.length
        item = values.seq.items[k].text
        if item.length:
            memcpy(out.data + j, item.data, item.length * sizeof(uint32_t))
            j += item.length
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


# ------------------------------------------------------------------ conversions

cdef int h_to_str(Frame* f, const Instr* ins) noexcept nogil:
    """aten::str: Python's ``str(x)`` of an int, a bool, a string or a float."""
    cdef Reg* x = IN(f, ins, 0)
    cdef char buf[32]
    cdef int n, k
    cdef Str* out = NULL
    if x.tag == R_STR:
        return _substring(f, ins, x.text.data, x.text.length)
    if x.tag == R_FLOAT:
        return _float_to_str(f, ins, x.f)
    if x.tag == R_INT:
        n = snprintf(buf, sizeof(buf), b"%lld", x.i)
    elif x.tag == R_BOOL:
        n = snprintf(buf, sizeof(buf), b"%s", <const char*>(b"True" if x.i else b"False"))
    elif x.tag == R_NONE:
        n = snprintf(buf, sizeof(buf), b"None")
    else:
        return frame_fail(f, JC_ERR_TYPE, b"str() expects an int, float, bool, str or None")
    if _result(f, n, &out) != JC_OK:
        return JC_ERR_OOM
    for k in range(n):
        out.data[k] = <unsigned char>buf[k]
    reg_take_str(OUT(f, ins, 0), out)
    return JC_OK


cdef int _float_to_str(Frame* f, const Instr* ins, double x) noexcept with gil:
    # repr's shortest round-trip digits and exponent rules ('1e+20', '1.0', 'inf') are
    # CPython's own dtoa; reimplementing them is not worth it for a conversion this rare
    return _set_from_python(f, ins, repr(x))


cdef int h_str_to_number(Frame* f, const Instr* ins) noexcept nogil:
    """aten::Int.str / aten::Float.str (imm: R_INT / R_FLOAT): Python's ``int(s)``/``float(s)``."""
    if IN(f, ins, 0).tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a string")
    return _parse_number(f, ins)


cdef int _parse_number(Frame* f, const Instr* ins) noexcept with gil:
    # Python's grammar of numbers (signs, underscores, whitespace, 'inf', 'nan')
    text = reg_to_object(IN(f, ins, 0))
    try:
        value = int(text) if ins.imm == R_INT else float(text)
    except ValueError:
        kind = "int" if ins.imm == R_INT else "float"
        return _fail_from_python(f, JC_ERR_VALUE, f"ValueError: {kind}() cannot convert the "
                                 f"string {text!r:.200} to a {kind}")
    if ins.imm == R_INT and not -2 ** 63 <= value < 2 ** 63:
        return _fail_from_python(f, JC_ERR_VALUE, f"int({text!r:.200}) does not fit in int64")
    return _set_from_python(f, ins, value)


cdef int h_str_format(Frame* f, const Instr* ins) noexcept nogil:
    """aten::format ``(self, *values)``: ``self.format(*values)``; aten::percentFormat:
    ``self % tuple(values)``."""
    if IN(f, ins, 0).tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"format expects a format string")
    return _format(f, ins)


cdef int _format(Frame* f, const Instr* ins) noexcept with gil:
    # str.format's mini-language (`{:.3f}`, `{!r}`, `{:>8}`) and repr of floats: Python's
    cdef int k
    text = reg_to_object(IN(f, ins, 0))
    try:
        values = [reg_to_object(IN(f, ins, k)) for k in range(1, ins.n_in)]
        result = text % tuple(values) if ins.imm == 1 else text.format(*values)
    except Exception as e:
        return _fail_from_python(f, JC_ERR_VALUE, f"{type(e).__name__}: cannot format "
                                 f"{text!r:.200}: {e}")
    return _set_from_python(f, ins, result)


# The str methods whose runtime is Python's own (ops/defs/strings.py says why); imm indexes this.
STR_PYTHON_METHODS = ("rsplit", "splitlines", "partition", "rpartition", "rfind", "index",
                      "rindex", "title", "capitalize", "swapcase", "center", "ljust", "rjust",
                      "zfill", "expandtabs", "isalnum", "islower", "isupper", "istitle",
                      "isdecimal", "isnumeric", "isidentifier", "isprintable")


# The builtins of text whose runtime is Python's (chr, ord, hex, oct, bin); imm indexes this.
PYTHON_TEXT_BUILTINS = ("chr", "ord", "hex", "oct", "bin")


cdef int h_str_python_method(Frame* f, const Instr* ins) noexcept nogil:
    """``s.<method>(*args)`` for the methods of ``STR_PYTHON_METHODS``: Python's str method."""
    if IN(f, ins, 0).tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"a str method expects a string")
    return _call_python(f, ins, False)


cdef int h_python_text_builtin(Frame* f, const Instr* ins) noexcept nogil:
    """``chr(i)``, ``ord(c)``, ``hex(i)``, ``oct(i)``, ``bin(i)``: Python's builtins."""
    return _call_python(f, ins, True)


cdef int _call_python(Frame* f, const Instr* ins, bint builtin) noexcept with gil:
    cdef int k, status
    if builtin:
        name = PYTHON_TEXT_BUILTINS[ins.imm]
        fn = getattr(builtins, name)
    else:
        name = "str." + STR_PYTHON_METHODS[ins.imm]
        fn = getattr(str, STR_PYTHON_METHODS[ins.imm])
    try:
        args = [reg_to_object(IN(f, ins, k)) for k in range(ins.n_in)]
        result = fn(*args)
    except Exception as e:
        # index's "substring not found", chr's "arg not in range(0x110000)", ...
        return _fail_from_python(f, JC_ERR_VALUE, f"{type(e).__name__}: {name}: {e}")
    if ins.n_out == 1:
        return _set_from_python(f, ins, result)
    for k in range(ins.n_out):
        status = _set_from_python(f, ins, result[k], k)
        if status != JC_OK:
            return status
    return JC_OK


HANDLERS = {h.name: h for h in (
    handler("str_compare", h_str_compare, {"eq": C_EQ, "ne": C_NE, "lt": C_LT, "le": C_LE,
                                           "gt": C_GT, "ge": C_GE}),
    handler("str_concat", h_str_concat),
    handler("str_repeat", h_str_repeat),
    handler("str_len", h_str_len),
    handler("str_getitem", h_str_getitem),
    handler("str_slice", h_str_slice),
    handler("str_find", h_str_find, {"find": F_FIND, "count": F_COUNT, "startswith": F_STARTSWITH,
                                     "endswith": F_ENDSWITH, "contains": F_CONTAINS}),
    handler("str_strip", h_str_strip, {"strip": STRIP_BOTH, "lstrip": STRIP_LEFT,
                                       "rstrip": STRIP_RIGHT}),
    handler("str_case", h_str_case, {"lower": 0, "upper": 1}),
    handler("str_is", h_str_is, {"isdigit": IS_DIGIT, "isalpha": IS_ALPHA, "isspace": IS_SPACE}),
    handler("str_replace", h_str_replace),
    handler("str_split", h_str_split),
    handler("str_join", h_str_join),
    handler("to_str", h_to_str),
    handler("str_to_number", h_str_to_number, {"int": R_INT, "float": R_FLOAT}),
    handler("str_format", h_str_format, {"format": 0, "percent": 1}),
    handler("str_python_method", h_str_python_method,
            {name: k for k, name in enumerate(STR_PYTHON_METHODS)}),
    handler("python_text_builtin", h_python_text_builtin,
            {name: k for k, name in enumerate(PYTHON_TEXT_BUILTINS)}),
)}
