"""Handlers of the dict ops (``ops/defs/dicts.py``): Python's dict methods and operators.

A dict register (``R_DICT``) points to a reference-counted ``Seq`` of its keys
and values interleaved (key 0, value 0, key 1, ...), in insertion order, shared
by every register naming the dict, so a write is seen through each, as in
Python.  A key is found by comparing it with each key in turn (``reg_equal``:
numbers by value, strings by their characters).  A Code's constant dicts are
``frozen`` and never written.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, Seq, R_DICT, R_LIST, R_TUPLE, reg_clear, reg_copy, reg_set_int, reg_set_bool,
    reg_set_none, seq_push, seq_replace, seq_remove, seq_clear, reg_set_seq,
    reg_equal,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_OOM

cdef enum:
    GET_NONE = 0        # d.get(k): None when missing
    GET_DEFAULT = 1     # d.get(k, default) / d.pop(k, default): the default
    POP_RAISE = 0       # d.pop(k): KeyError when missing


cdef inline int _dict(Frame* f, const Instr* ins, int k, Seq** out) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_DICT:
        return frame_fail(f, JC_ERR_TYPE, b"expected a dict")
    out[0] = r.seq
    return JC_OK


cdef inline int _writable(Frame* f, const Instr* ins, int k, Seq** out) noexcept nogil:
    cdef int status = _dict(f, ins, k, out)
    if status == JC_OK and out[0].frozen:
        return frame_fail(f, JC_ERR_VALUE, b"cannot modify a constant dict (module state or "
                          b"a folded literal); copy it first with d.copy()")
    return status


cdef inline Py_ssize_t _find(Seq* d, const Reg* key) noexcept nogil:
    """The position of ``key``'s entry (its key's index in the Seq), or -1."""
    cdef Py_ssize_t k
    for k in range(0, d.size, 2):
        if reg_equal(&d.items[k], key):
            return k
    return -1


cdef inline int _missing(Frame* f) noexcept nogil:
    return frame_fail(f, JC_ERR_INDEX, b"KeyError: the key is not in the dict")


cdef int _put(Seq* d, const Reg* key, const Reg* value) noexcept nogil:
    """``d[key] = value``: replace the value in place, or append a new entry."""
    cdef Py_ssize_t at = _find(d, key)
    cdef int status
    if at >= 0:
        seq_replace(d, at + 1, value)
        return JC_OK
    status = seq_push(d, key)
    if status == JC_OK:
        status = seq_push(d, value)
    return status


cdef inline int _new(Frame* f, const Instr* ins, int tag, Py_ssize_t size, Seq** out) noexcept nogil:
    out[0] = reg_set_seq(OUT(f, ins, 0), tag, size)
    return JC_OK if out[0] != NULL else JC_ERR_OOM


# ------------------------------------------------------------------ handlers

cdef int h_dict_construct(Frame* f, const Instr* ins) noexcept nogil:
    """prim::DictConstruct(k0, v0, k1, v1, ...): a later equal key replaces the value."""
    cdef Seq* d = NULL
    cdef int k, status = _new(f, ins, R_DICT, 0, &d)
    if status != JC_OK:
        return status
    for k in range(0, ins.n_in - 1, 2):
        status = _put(d, IN(f, ins, k), IN(f, ins, k + 1))
        if status != JC_OK:
            return status
    return JC_OK


cdef int h_dict_getitem(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef Py_ssize_t at
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    at = _find(d, IN(f, ins, 1))
    if at < 0:
        return _missing(f)
    reg_copy(OUT(f, ins, 0), &d.items[at + 1])
    return JC_OK


cdef int h_dict_set_item(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef int status = _writable(f, ins, 0, &d)
    if status != JC_OK:
        return status
    return _put(d, IN(f, ins, 1), IN(f, ins, 2))


cdef int h_dict_contains(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    reg_set_bool(OUT(f, ins, 0), _find(d, IN(f, ins, 1)) >= 0)
    return JC_OK


cdef int h_dict_len(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    reg_set_int(OUT(f, ins, 0), d.size // 2)
    return JC_OK


cdef int h_dict_get(Frame* f, const Instr* ins) noexcept nogil:
    """d.get(k) (imm GET_NONE) / d.get(k, default) (imm GET_DEFAULT)."""
    cdef Seq* d = NULL
    cdef Py_ssize_t at
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    at = _find(d, IN(f, ins, 1))
    if at >= 0:
        reg_copy(OUT(f, ins, 0), &d.items[at + 1])
    elif ins.imm == GET_DEFAULT:
        reg_copy(OUT(f, ins, 0), IN(f, ins, 2))
    else:
        reg_set_none(OUT(f, ins, 0))
    return JC_OK


cdef int _listing(Frame* f, const Instr* ins, int part) noexcept nogil:
    """d.keys() (part 0), d.values() (part 1) or d.items() (part 2) as a new list."""
    cdef Seq* d = NULL
    cdef Seq* out = NULL
    cdef Seq* pair
    cdef Py_ssize_t k
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    status = _new(f, ins, R_LIST, d.size // 2, &out)
    if status != JC_OK:
        return status
    for k in range(d.size // 2):
        if part < 2:
            reg_copy(&out.items[k], &d.items[2 * k + part])
            continue
        pair = reg_set_seq(&out.items[k], R_TUPLE, 2)
        if pair == NULL:
            return JC_ERR_OOM
        reg_copy(&pair.items[0], &d.items[2 * k])
        reg_copy(&pair.items[1], &d.items[2 * k + 1])
    return JC_OK


cdef int h_dict_keys(Frame* f, const Instr* ins) noexcept nogil:
    return _listing(f, ins, 0)


cdef int h_dict_values(Frame* f, const Instr* ins) noexcept nogil:
    return _listing(f, ins, 1)


cdef int h_dict_items(Frame* f, const Instr* ins) noexcept nogil:
    return _listing(f, ins, 2)


cdef int h_dict_pop(Frame* f, const Instr* ins) noexcept nogil:
    """d.pop(k) (imm POP_RAISE) / d.pop(k, default) (imm GET_DEFAULT)."""
    cdef Seq* d = NULL
    cdef Py_ssize_t at
    cdef int status = _writable(f, ins, 0, &d)
    if status != JC_OK:
        return status
    at = _find(d, IN(f, ins, 1))
    if at < 0:
        if ins.imm != GET_DEFAULT:
            return _missing(f)
        reg_copy(OUT(f, ins, 0), IN(f, ins, 2))
        return JC_OK
    reg_copy(OUT(f, ins, 0), &d.items[at + 1])
    seq_remove(d, at, 2)
    return JC_OK


cdef int h_dict_delete(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef Py_ssize_t at
    cdef int status = _writable(f, ins, 0, &d)
    if status != JC_OK:
        return status
    at = _find(d, IN(f, ins, 1))
    if at < 0:
        return _missing(f)
    seq_remove(d, at, 2)
    return JC_OK


cdef int h_dict_clear(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef int status = _writable(f, ins, 0, &d)
    if status != JC_OK:
        return status
    seq_clear(d)
    return JC_OK


cdef int h_dict_setdefault(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef Py_ssize_t at
    cdef int status = _writable(f, ins, 0, &d)
    if status != JC_OK:
        return status
    at = _find(d, IN(f, ins, 1))
    if at < 0:
        status = _put(d, IN(f, ins, 1), IN(f, ins, 2))
        if status != JC_OK:
            return status
        at = d.size - 2
    reg_copy(OUT(f, ins, 0), &d.items[at + 1])
    return JC_OK


cdef int h_dict_update(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef Seq* other = NULL
    cdef Py_ssize_t k, n
    cdef int status = _writable(f, ins, 0, &d)
    if status == JC_OK:
        status = _dict(f, ins, 1, &other)
    if status != JC_OK:
        return status
    n = other.size              # d.update(d) changes nothing
    for k in range(0, n, 2):
        status = _put(d, &other.items[k], &other.items[k + 1])
        if status != JC_OK:
            return status
    return JC_OK


cdef int h_dict_copy(Frame* f, const Instr* ins) noexcept nogil:
    cdef Seq* d = NULL
    cdef Seq* out = NULL
    cdef Py_ssize_t k
    cdef int status = _dict(f, ins, 0, &d)
    if status != JC_OK:
        return status
    status = _new(f, ins, R_DICT, d.size, &out)
    if status != JC_OK:
        return status
    for k in range(d.size):
        reg_copy(&out.items[k], &d.items[k])
    return JC_OK


HANDLERS = {h.name: h for h in (
    handler("dict_construct", h_dict_construct), handler("dict_getitem", h_dict_getitem),
    handler("dict_set_item", h_dict_set_item), handler("dict_contains", h_dict_contains),
    handler("dict_len", h_dict_len),
    handler("dict_get", h_dict_get, {"none": GET_NONE, "default": GET_DEFAULT}),
    handler("dict_keys", h_dict_keys), handler("dict_values", h_dict_values),
    handler("dict_items", h_dict_items),
    handler("dict_pop", h_dict_pop, {"raise": POP_RAISE, "default": GET_DEFAULT}),
    handler("dict_delete", h_dict_delete), handler("dict_clear", h_dict_clear),
    handler("dict_setdefault", h_dict_setdefault), handler("dict_update", h_dict_update),
    handler("dict_copy", h_dict_copy),
)}
