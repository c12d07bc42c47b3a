"""Handlers of scalar and container ops: int/float/bool arithmetic and
comparisons (Python semantics), tensor <-> number conversions, and lists and
tuples (construct, unpack, index, len).
"""

from libc.stdint cimport uint32_t
from libc.limits cimport LLONG_MIN
from cpython.ref cimport PyObject
from libc.math cimport floor, ceil, sqrt, rint, pow as c_pow, fmod, isnan
cimport libc.math as cmath

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, Seq, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, R_STR, R_DICT,
    reg_clear, reg_copy, reg_set_int, reg_set_float, reg_set_bool, reg_set_none, seq_new,
    reg_is_number, reg_as_double, reg_take_tensor, reg_equal, reg_compare,
)
from jitcore._runtime.tensor cimport Tensor, tensor_alloc
from jitcore._runtime.handler_table cimport handler, constant_argument
from jitcore._runtime.op_support cimport OpImpl, ScalarBox, scalar_view, scalar_dtype
from jitcore._runtime.kernels.view cimport (
    View, JC_OK, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_OOM, JC_ERR_SHAPE, DT_FLOAT32, DT_FLOAT64,
    DT_INT64, DT_INT32, DT_BOOL, view_numel, itemsize_of,
)
from jitcore._runtime.tensor cimport view_copy
from jitcore._runtime.kernels.scalar_math cimport float_floor_divide, float_remainder

cdef extern from *:
    bint __builtin_mul_overflow(long long a, long long b, long long* result) noexcept nogil
    bint __builtin_add_overflow(long long a, long long b, long long* result) noexcept nogil
    bint __builtin_sub_overflow(long long a, long long b, long long* result) noexcept nogil

cdef enum ScalarOp:
    S_ADD = 0
    S_SUB
    S_MUL
    S_DIV           # true division: float
    S_FLOORDIV
    S_REMAINDER
    S_POW           # int ** int -> float, as the registry's schema says
    S_INT_POW       # pow.int_to_int: int ** int -> int, as Python for exponents >= 0
    S_MAX
    S_MIN
    S_EQ
    S_NE
    S_LT
    S_LE
    S_GT
    S_GE
    S_AND
    S_OR
    S_BIT_AND       # int & int (bitwise), as the three below: Python's meaning on int64
    S_BIT_OR
    S_BIT_XOR
    S_LSHIFT        # int << int: overflow beyond int64 and a negative count are errors
    S_RSHIFT        # int >> int: arithmetic (floors), a negative count is an error


cdef int _int_power(Frame* f, long long base, long long exponent, Reg* out) noexcept nogil:
    """``base ** exponent`` of int64s by squaring, failing on a negative exponent (a
    float in Python) and on overflow (Python's ints do not overflow; int64s do)."""
    cdef long long result = 1
    if exponent < 0:
        return frame_fail(f, JC_ERR_VALUE, b"int ** int with a negative exponent is a float "
                                            b"in Python; write float(a) ** b")
    while exponent:
        if exponent & 1:
            if __builtin_mul_overflow(result, base, &result):
                return frame_fail(f, JC_ERR_VALUE, b"int ** int does not fit in int64")
        exponent >>= 1
        if exponent and __builtin_mul_overflow(base, base, &base):
            return frame_fail(f, JC_ERR_VALUE, b"int ** int does not fit in int64")
    reg_set_int(out, result)
    return JC_OK


cdef inline long long py_floordiv(long long a, long long b) noexcept nogil:
    # b != 0, and not (a == LLONG_MIN and b == -1): C's division traps on both
    cdef long long q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


cdef int _int_shift(Frame* f, long long x, long long y, bint left, Reg* out) noexcept nogil:
    cdef long long r
    if y < 0:
        return frame_fail(f, JC_ERR_VALUE, b"negative shift count")
    if not left:
        reg_set_int(out, (-1 if x < 0 else 0) if y >= 64 else x >> y)
        return JC_OK
    if x == 0:
        reg_set_int(out, 0)
        return JC_OK
    # shifted as unsigned (a signed left shift of a negative is undefined in C), then
    # shifted back: a different value means bits fell off int64
    r = <long long>(<unsigned long long>x << y) if y < 64 else 0
    if y >= 64 or (r >> y) != x:
        return frame_fail(f, JC_ERR_VALUE, b"int << int does not fit in int64")
    reg_set_int(out, r)
    return JC_OK


cdef int h_scalar_binary(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* b = IN(f, ins, 1)
    cdef Reg* out = OUT(f, ins, 0)
    cdef int op = ins.imm
    cdef bint ints
    cdef long long x, y
    cdef double u, v
    if not reg_is_number(a) or not reg_is_number(b):
        return frame_fail(f, JC_ERR_TYPE, b"expected two numbers")
    ints = a.tag != R_FLOAT and b.tag != R_FLOAT
    x = a.i
    y = b.i
    u = reg_as_double(a)
    v = reg_as_double(b)
    if op >= S_EQ and op <= S_GE:
        if op == S_EQ:
            reg_set_bool(out, x == y if ints else u == v)
        elif op == S_NE:
            reg_set_bool(out, x != y if ints else u != v)
        elif op == S_LT:
            reg_set_bool(out, x < y if ints else u < v)
        elif op == S_LE:
            reg_set_bool(out, x <= y if ints else u <= v)
        elif op == S_GT:
            reg_set_bool(out, x > y if ints else u > v)
        else:
            reg_set_bool(out, x >= y if ints else u >= v)
        return JC_OK
    if op == S_AND:
        reg_set_bool(out, x != 0 and y != 0)
        return JC_OK
    if op == S_OR:
        reg_set_bool(out, x != 0 or y != 0)
        return JC_OK
    if op == S_DIV:
        if v == 0:
            return frame_fail(f, JC_ERR_VALUE, b"division by zero")
        reg_set_float(out, u / v)
        return JC_OK
    if op == S_POW:
        reg_set_float(out, c_pow(u, v))
        return JC_OK
    if op == S_INT_POW:
        return _int_power(f, x, y, out)
    if op >= S_BIT_AND:
        if not ints:
            return frame_fail(f, JC_ERR_TYPE, b"bitwise operators take ints")
        if op == S_BIT_AND:
            reg_set_int(out, x & y)
        elif op == S_BIT_OR:
            reg_set_int(out, x | y)
        elif op == S_BIT_XOR:
            reg_set_int(out, x ^ y)
        else:
            return _int_shift(f, x, y, op == S_LSHIFT, out)
        return JC_OK
    if ints:
        if op == S_ADD or op == S_SUB or op == S_MUL:
            # Python's ints do not wrap: a result beyond int64 is an error, never garbage
            if (__builtin_add_overflow(x, y, &x) if op == S_ADD else
                    __builtin_sub_overflow(x, y, &x) if op == S_SUB else
                    __builtin_mul_overflow(x, y, &x)):
                return frame_fail(f, JC_ERR_VALUE, b"an int result does not fit in int64")
            reg_set_int(out, x)
        elif op == S_MAX:
            reg_set_int(out, x if x >= y else y)
        elif op == S_MIN:
            reg_set_int(out, x if x <= y else y)
        else:
            if y == 0:
                return frame_fail(f, JC_ERR_VALUE, b"integer division or modulo by zero")
            if y == -1:
                # LLONG_MIN // -1 is 2**63 in Python, beyond int64 (and a trap in C)
                if op == S_FLOORDIV and x == LLONG_MIN:
                    return frame_fail(f, JC_ERR_VALUE, b"int // int does not fit in int64")
                reg_set_int(out, <long long>(0 - <unsigned long long>x) if op == S_FLOORDIV
                            else 0)
            elif op == S_FLOORDIV:
                reg_set_int(out, py_floordiv(x, y))
            else:
                reg_set_int(out, x - py_floordiv(x, y) * y)
        return JC_OK
    if op == S_ADD:
        reg_set_float(out, u + v)
    elif op == S_SUB:
        reg_set_float(out, u - v)
    elif op == S_MUL:
        reg_set_float(out, u * v)
    elif op == S_MAX:
        reg_set_float(out, u if u >= v or isnan(u) else v)
    elif op == S_MIN:
        reg_set_float(out, u if u <= v or isnan(u) else v)
    else:
        if v == 0:
            return frame_fail(f, JC_ERR_VALUE, b"float division or modulo by zero")
        # Python's float // and % (CPython's float_divmod, which NumPy's npy_divmod
        # shares): the floor of the exact quotient, 1.0 // 0.1 == 9.0 where
        # floor(1.0 / 0.1) is 10.0
        if op == S_FLOORDIV:
            reg_set_float(out, float_floor_divide[double](u, v))
        else:
            reg_set_float(out, float_remainder[double](u, v))
    return JC_OK


cdef enum ScalarUnary:
    SU_NEG = 0
    SU_NOT
    SU_SQRT
    SU_FLOOR        # float -> int
    SU_CEIL         # float -> int
    SU_TO_INT
    SU_TO_FLOAT
    SU_ROUND        # float -> float, half to even (TorchScript's round.float)
    SU_INVERT       # ~int, as Python: -x - 1


cdef int h_scalar_unary(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* out = OUT(f, ins, 0)
    cdef double u
    if not reg_is_number(a):
        return frame_fail(f, JC_ERR_TYPE, b"expected a number")
    u = reg_as_double(a)
    if ins.imm == SU_NEG:
        if a.tag == R_FLOAT:
            reg_set_float(out, -u)
        else:
            reg_set_int(out, -a.i)
    elif ins.imm == SU_NOT:
        reg_set_bool(out, u == 0)
    elif ins.imm == SU_INVERT:
        if a.tag == R_FLOAT:
            return frame_fail(f, JC_ERR_TYPE, b"~ takes an int")
        reg_set_int(out, ~a.i)
    elif ins.imm == SU_SQRT:
        reg_set_float(out, sqrt(u))
    elif ins.imm == SU_ROUND:
        # rint rounds half to even in the default rounding mode, as Python's round()
        reg_set_float(out, rint(u))
    elif ins.imm == SU_FLOOR or ins.imm == SU_CEIL or ins.imm == SU_TO_INT:
        if a.tag != R_FLOAT:
            reg_set_int(out, a.i)
            return JC_OK
        u = floor(u) if ins.imm == SU_FLOOR else (ceil(u) if ins.imm == SU_CEIL else u)
        # converting a float outside int64 (or NaN) to an integer is undefined in C
        if isnan(u) or u >= 9.2233720368547758e18 or u < -9.2233720368547758e18:
            return frame_fail(f, JC_ERR_VALUE, b"cannot convert float NaN or infinity, or a "
                              b"float outside int64, to int")
        reg_set_int(out, <long long>u)
    else:
        reg_set_float(out, u)
    return JC_OK


# ``math.<name>`` of a float, computed by libm as TorchScript does: a domain
# error gives nan and a pole or overflow +-inf (math.log(0.0) is -inf), where
# Python's math module raises.  The registry registers ``aten::<name>.float``
# for each name (ops/defs/scalar.py).
ctypedef double (*float_function)(double) noexcept nogil

cdef float_function[22] _FLOAT_MATH_FUNCTIONS
_FLOAT_MATH_NAMES = (
    "exp", "log", "log10", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "fabs",
    "lgamma", "gamma",
)
_FLOAT_MATH_FUNCTIONS[:] = [
    cmath.exp, cmath.log, cmath.log10, cmath.log1p, cmath.expm1, cmath.sin,
    cmath.cos, cmath.tan, cmath.asin, cmath.acos, cmath.atan, cmath.sinh, cmath.cosh,
    cmath.tanh, cmath.asinh, cmath.acosh, cmath.atanh, cmath.erf, cmath.erfc, cmath.fabs,
    cmath.lgamma, cmath.tgamma,
]
#: The ``math`` functions of one float the runtime computes (``aten::<name>.float``).
FLOAT_MATH_FUNCTIONS = {name: k for k, name in enumerate(_FLOAT_MATH_NAMES)}


cdef int h_float_math(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::<name>.float`` (imm: the index of the function in _FLOAT_MATH_FUNCTIONS)."""
    cdef Reg* a = IN(f, ins, 0)
    if not reg_is_number(a):
        return frame_fail(f, JC_ERR_TYPE, b"expected a number")
    reg_set_float(OUT(f, ins, 0), _FLOAT_MATH_FUNCTIONS[ins.imm](reg_as_double(a)))
    return JC_OK


cdef int h_float_test(Frame* f, const Instr* ins) noexcept nogil:
    """``math.isnan`` (imm 0), ``math.isinf`` (1), ``math.isfinite`` (2) of a number."""
    cdef Reg* a = IN(f, ins, 0)
    cdef double x
    if not reg_is_number(a):
        return frame_fail(f, JC_ERR_TYPE, b"expected a number")
    x = reg_as_double(a)
    if ins.imm == 0:
        reg_set_bool(OUT(f, ins, 0), isnan(x))
    elif ins.imm == 1:
        reg_set_bool(OUT(f, ins, 0), cmath.isinf(x))
    else:
        reg_set_bool(OUT(f, ins, 0), not (isnan(x) or cmath.isinf(x)))
    return JC_OK


cdef int h_tensor_to_number(Frame* f, const Instr* ins) noexcept nogil:
    """Int/Float/Bool of a one-element tensor (imm: the result tag)."""
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* out = OUT(f, ins, 0)
    cdef char* p
    cdef double d
    cdef long long i
    if a.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor")
    if view_numel(&a.t.view) != 1:
        return frame_fail(f, JC_ERR_VALUE, b"only one-element tensors convert to Python scalars")
    p = a.t.view.data       # every stride is irrelevant for one element
    if a.t.view.dtype == DT_FLOAT32:
        d = (<float*>p)[0]
        i = <long long>d
    elif a.t.view.dtype == DT_FLOAT64:
        d = (<double*>p)[0]
        i = <long long>d
    elif a.t.view.dtype == DT_INT64:
        i = (<long long*>p)[0]
        d = <double>i
    elif a.t.view.dtype == DT_INT32:
        i = (<int*>p)[0]
        d = <double>i
    else:
        i = 1 if p[0] else 0
        d = <double>i
    if ins.imm == R_FLOAT:
        reg_set_float(out, d)
    elif ins.imm == R_BOOL:
        reg_set_bool(out, d != 0)
    else:
        if (a.t.view.dtype == DT_FLOAT32 or a.t.view.dtype == DT_FLOAT64) and d != d:
            return frame_fail(f, JC_ERR_VALUE, b"cannot convert NaN to int")
        reg_set_int(out, i)
    return JC_OK


cdef int h_num_to_tensor(Frame* f, const Instr* ins) noexcept nogil:
    """prim::NumToTensor: a 0-d tensor of a number (np.asarray semantics)."""
    cdef Reg* a = IN(f, ins, 0)
    cdef Tensor t
    cdef ScalarBox box
    cdef View v
    cdef int status, dt
    if not reg_is_number(a):
        return frame_fail(f, JC_ERR_TYPE, b"expected a number")
    dt = scalar_dtype(a.tag)
    status = tensor_alloc(&t, dt, 0, NULL)
    if status != JC_OK:
        return status
    scalar_view(a, dt, &box, &v)
    view_copy(&v, &t.view)
    reg_take_tensor(OUT(f, ins, 0), &t)
    return JC_OK


# ------------------------------------------------------------------ prims

cdef bint _same_array(const Tensor* a, const Tensor* b) noexcept nogil:
    """Two registers name one array: the same memory seen the same way.  Each call input
    has a storage of its own, so one array passed twice is told by its data and view;
    two ndarray objects viewing the same memory the same way count as one (a transpose
    or slice is another array, as in NumPy)."""
    cdef int k
    if a.view.data != b.view.data or a.view.dtype != b.view.dtype or a.view.ndim != b.view.ndim:
        return False
    for k in range(a.view.ndim):
        if a.view.shape[k] != b.view.shape[k] or a.view.strides[k] != b.view.strides[k]:
            return False
    return True


cdef int h_is(Frame* f, const Instr* ins) noexcept nogil:
    """``is`` / ``is not`` (imm 1) against None, or of two arrays (MultiheadAttention's
    ``query is key``)."""
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* b = IN(f, ins, 1)
    cdef bint same
    if a.tag == R_TENSOR and b.tag == R_TENSOR:
        same = _same_array(&a.t, &b.t)
    elif a.tag != R_NONE and b.tag != R_NONE:
        return frame_fail(f, JC_ERR_TYPE, b"'is' is only supported against None and of arrays")
    else:
        same = a.tag == b.tag
    reg_set_bool(OUT(f, ins, 0), same != (ins.imm == 1))
    return JC_OK


cdef int h_identity(Frame* f, const Instr* ins) noexcept nogil:
    reg_copy(OUT(f, ins, 0), IN(f, ins, 0))
    return JC_OK


cdef int h_none(Frame* f, const Instr* ins) noexcept nogil:
    reg_set_none(OUT(f, ins, 0))
    return JC_OK


cdef int h_list_minmax(Frame* f, const Instr* ins) noexcept nogil:
    """prim::min / prim::max of a list (imm: S_MIN / S_MAX) of numbers, strings, tuples or
    lists, in Python's order (the first of equal items, a NaN kept as Python keeps it)."""
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* best
    cdef Py_ssize_t k
    cdef int order
    if a.tag != R_LIST and a.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list")
    if a.seq.size == 0:
        return frame_fail(f, JC_ERR_VALUE, b"min/max of an empty list")
    best = &a.seq.items[0]
    for k in range(1, a.seq.size):
        order = reg_compare(&a.seq.items[k], best)
        if order == -2:
            return frame_fail(f, JC_ERR_TYPE, b"min/max of items that do not compare")
        if (ins.imm == S_MIN and order < 0) or (ins.imm == S_MAX and order > 0):
            best = &a.seq.items[k]
    reg_copy(OUT(f, ins, 0), best)
    return JC_OK


cdef int h_round_ndigits(Frame* f, const Instr* ins) noexcept nogil:
    """``round(x, ndigits)`` of a float: Python's, the float nearest to the correctly
    rounded decimal.  CPython computes it with its exact decimal conversion (dtoa), which
    no C library call reproduces for every ndigits, so this rare op takes the GIL and asks
    Python (a float and an int in, a float out: nothing can raise)."""
    cdef Reg* a = IN(f, ins, 0)
    cdef Reg* n = IN(f, ins, 1)
    cdef double result
    if not reg_is_number(a) or (n.tag != R_INT and n.tag != R_BOOL):
        return frame_fail(f, JC_ERR_TYPE, b"expected a float and an int")
    with gil:
        result = round(reg_as_double(a), n.i)
    reg_set_float(OUT(f, ins, 0), result)
    return JC_OK


cdef int h_isinstance(Frame* f, const Instr* ins) noexcept nogil:
    """``isinstance(x, C)`` of an Optional or Union value: its tag in the mask ``imm``."""
    reg_set_bool(OUT(f, ins, 0), (ins.imm >> IN(f, ins, 0).tag) & 1)
    return JC_OK


# the run-time tag of a value of each type kind ``prim::isinstance`` names
_TAG_OF_KIND = {"int": R_INT, "float": R_FLOAT, "bool": R_BOOL, "Tensor": R_TENSOR,
                "NoneType": R_NONE, "List": R_LIST, "Tuple": R_TUPLE, "str": R_STR,
                "Dict": R_DICT}


cdef int _kind_tag(const uint32_t* name, Py_ssize_t n) noexcept nogil:
    """The register tag of a type kind's name (``int``, ``Tensor``...), or -1."""
    cdef const char* kinds[9]
    cdef int tags[9]
    cdef int k
    cdef Py_ssize_t j
    kinds[:] = [b"int", b"float", b"bool", b"Tensor", b"NoneType", b"List", b"Tuple", b"str", b"Dict"]
    tags[:] = [R_INT, R_FLOAT, R_BOOL, R_TENSOR, R_NONE, R_LIST, R_TUPLE, R_STR, R_DICT]
    for k in range(9):
        j = 0
        while j < n and kinds[k][j] != 0 and <uint32_t>kinds[k][j] == name[j]:
            j += 1
        if j == n and kinds[k][j] == 0:
            return tags[k]
    return -1


cdef int h_isinstance_unknown(Frame* f, const Instr* ins) noexcept nogil:
    """``prim::isinstance`` whose ``types`` ("int,float") is known only at run time."""
    cdef Reg* types = IN(f, ins, 1)
    cdef Py_ssize_t start = 0, end
    cdef long long mask = 0
    cdef int tag
    if types.tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"prim::isinstance expects its types as a string")
    while start <= types.text.length:
        end = start
        while end < types.text.length and types.text.data[end] != 44:    # ','
            end += 1
        tag = _kind_tag(types.text.data + start, end - start)
        if tag < 0:
            return frame_fail(f, JC_ERR_VALUE, b"prim::isinstance: unknown type kind in types")
        mask |= 1LL << tag
        start = end + 1
    reg_set_bool(OUT(f, ins, 0), (mask >> IN(f, ins, 0).tag) & 1)
    return JC_OK


cdef int _isinstance_tags(object param, object op, list consts, OpImpl* out) except -1:
    """The tag mask of the constant ``types`` argument ("int,float"); the compiler always
    makes it a constant, and a program that does not fails when the op runs."""
    types = constant_argument(op, consts, "types")
    if types is None:
        out.fn = h_isinstance_unknown
        return 1
    out.imm = 0
    for kind in types[0].split(","):
        if kind not in _TAG_OF_KIND:
            return 0
        out.imm |= 1 << _TAG_OF_KIND[kind]
    return 1


# ------------------------------------------------------------------ lookup

cdef int _extremum(object param, object op, list consts, OpImpl* out) except -1:
    """prim::min/max of one list is the list's extremum; of several numbers, pairwise."""
    if len(consts) == 1:
        out.fn = h_list_minmax
    return 1


HANDLERS = {h.name: h for h in (
    handler("scalar_binary", h_scalar_binary, {
        "add": S_ADD, "sub": S_SUB, "mul": S_MUL, "div": S_DIV, "floordiv": S_FLOORDIV,
        "remainder": S_REMAINDER, "pow": S_POW, "int_pow": S_INT_POW, "max": S_MAX, "min": S_MIN,
        "eq": S_EQ, "ne": S_NE, "lt": S_LT, "le": S_LE, "gt": S_GT, "ge": S_GE,
        "and": S_AND, "or": S_OR, "bit_and": S_BIT_AND, "bit_or": S_BIT_OR, "bit_xor": S_BIT_XOR,
        "lshift": S_LSHIFT, "rshift": S_RSHIFT}),
    handler("scalar_unary", h_scalar_unary, {
        "neg": SU_NEG, "not": SU_NOT, "sqrt": SU_SQRT, "floor": SU_FLOOR, "ceil": SU_CEIL,
        "to_int": SU_TO_INT, "to_float": SU_TO_FLOAT, "round": SU_ROUND, "invert": SU_INVERT}),
    handler("round_ndigits", h_round_ndigits),
    handler("float_math", h_float_math, FLOAT_MATH_FUNCTIONS),
    handler("float_test", h_float_test, {"isnan": 0, "isinf": 1, "isfinite": 2}),
    handler("to_number", h_tensor_to_number, {"int": R_INT, "float": R_FLOAT, "bool": R_BOOL}),
    handler("num_to_tensor", h_num_to_tensor),
    handler("is_none", h_is, {"is": 0, "isnot": 1}),
    handler("isinstance", h_isinstance, None, _isinstance_tags),
    handler("identity", h_identity),
    handler("none", h_none),
    handler("extremum", h_scalar_binary, {"min": S_MIN, "max": S_MAX}, _extremum),
)}
