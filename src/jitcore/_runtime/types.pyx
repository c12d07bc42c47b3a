"""Types of IR values, printed and parsed in TorchScript's spelling.

``Tensor`` optionally carries a dtype and a shape (``Float(1, 4)``, ``Float(*, *)``,
``Long()`` for 0-d, bare ``Float`` for a float32 tensor of unknown rank).  Scalar
types are singletons (``IntType.get()``).  ``is_subtype_of`` is the relation the
linter and the schema matcher use: refined tensors are subtypes of ``Tensor``,
numbers of ``Scalar``, ``T`` and ``NoneType`` of ``Optional[T]``.
"""

# dtype name (NumPy) <-> TorchScript scalar-type name.  The order is the one
# the runtime uses for its dtype codes.
DTYPES = ("float32", "float64", "int64", "int32", "bool")
_TORCH_NAME = {"float32": "Float", "float64": "Double", "int64": "Long",
               "int32": "Int", "bool": "Bool"}
_FROM_TORCH_NAME = {v: k for k, v in _TORCH_NAME.items()}


def dtype_name(dtype):
    """Normalise a dtype-like (``np.float32``, ``'float32'``, ``np.dtype``) to its name.

    Raises
    ------
    TypeError
        If the dtype is not one jitcore supports.
    """
    import numpy as np
    if dtype is None:
        return None
    name = dtype if isinstance(dtype, str) and dtype in _TORCH_NAME else np.dtype(dtype).name
    if name not in _TORCH_NAME:
        raise TypeError(f"unsupported dtype {name!r}; jitcore supports {', '.join(DTYPES)}")
    return name


cdef class JitType:
    """Base class of IR types; compare with ``==`` and ``is_subtype_of``."""

    def __eq__(self, other):
        return isinstance(other, JitType) and (<JitType>other)._key == self._key

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        return f"<jitcore type {self}>"

    def __str__(self):
        return self.kind

    cpdef bint is_subtype_of(self, JitType other):
        if other.kind == "Any" or self._key == other._key:
            return True
        if other.kind == "Optional":
            if self.kind == "NoneType":
                return True
            return self.is_subtype_of((<OptionalType>other).elem)
        if other.kind == "Scalar":
            return self.kind in ("int", "float", "bool", "Scalar")
        if other.kind == "Union":
            for m in (<UnionType>other).members:
                if self.is_subtype_of(m):
                    return True
        return False


cdef dict _SINGLETONS = {}


cdef JitType _singleton(str kind):
    cdef JitType t = _SINGLETONS.get(kind)
    if t is None:
        t = JitType.__new__(JitType)
        t.kind = kind
        t._key = (kind,)
        _SINGLETONS[kind] = t
    return t


class IntType:
    """``int``: a 64-bit integer scalar."""
    @staticmethod
    def get():
        return _singleton("int")


class FloatType:
    """``float``: a double-precision scalar."""
    @staticmethod
    def get():
        return _singleton("float")


class BoolType:
    """``bool``."""
    @staticmethod
    def get():
        return _singleton("bool")


class StrType:
    """``str``."""
    @staticmethod
    def get():
        return _singleton("str")


class NoneType:
    """``NoneType``: the type of ``None``."""
    @staticmethod
    def get():
        return _singleton("NoneType")


class NumberType:
    """``Scalar``: int, float or bool (schema arguments such as ``alpha``)."""
    @staticmethod
    def get():
        return _singleton("Scalar")


class AnyType:
    """``Any``: every type is a subtype of it."""
    @staticmethod
    def get():
        return _singleton("Any")


cdef class TensorType(JitType):
    """An array, optionally refined with a dtype and a shape.

    Parameters
    ----------
    dtype : str or numpy dtype, optional
        One of ``float32, float64, int64, int32, bool``; None when unknown.
    shape : sequence of (int or None), optional
        The dimensions (None for an unknown one); None when the rank is unknown.
    """

    def __init__(self, dtype=None, shape=None):
        self.kind = "Tensor"
        self.dtype = dtype_name(dtype)
        if shape is not None:
            shape = tuple(None if d is None else int(d) for d in shape)
            for d in shape:
                if d is not None and d < 0:
                    raise ValueError(f"tensor dimensions must be >= 0, got {shape}")
        self.shape = shape
        self._key = ("Tensor", self.dtype, self.shape)

    @staticmethod
    def get():
        """The unrefined ``Tensor`` type."""
        return _TENSOR

    @staticmethod
    def from_array(array):
        """The complete type of an ndarray: its dtype and shape."""
        return TensorType(array.dtype, array.shape)

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)

    def with_dtype(self, dtype):
        return TensorType(dtype, self.shape)

    def with_shape(self, shape):
        return TensorType(self.dtype, shape)

    def with_rank(self, int rank):
        return TensorType(self.dtype, (None,) * rank)

    def unrefined(self):
        return _TENSOR

    def is_complete(self):
        """True when dtype and every dimension are known."""
        return self.dtype is not None and self.shape is not None and None not in self.shape

    def __str__(self):
        if self.shape is None:
            return "Tensor" if self.dtype is None else _TORCH_NAME[self.dtype]
        name = "Tensor" if self.dtype is None else _TORCH_NAME[self.dtype]
        return name + "(" + ", ".join("*" if d is None else str(d) for d in self.shape) + ")"

    cpdef bint is_subtype_of(self, JitType other):
        cdef TensorType o
        if isinstance(other, TensorType):
            o = <TensorType>other
            if o.dtype is not None and o.dtype != self.dtype:
                return False
            if o.shape is None:
                return True
            if self.shape is None or len(self.shape) != len(o.shape):
                return False
            for i in range(len(o.shape)):
                if o.shape[i] is not None and self.shape[i] != o.shape[i]:
                    return False
            return True
        return JitType.is_subtype_of(self, other)


cdef TensorType _TENSOR = TensorType()


cdef class ListType(JitType):
    """``T[]``: a list of one element type."""

    def __init__(self, JitType elem):
        self.kind = "List"
        self.elem = elem
        self._key = ("List", elem._key)

    @staticmethod
    def of_ints():
        return ListType(_singleton("int"))

    @staticmethod
    def of_tensors():
        return ListType(_TENSOR)

    def __str__(self):
        inner = str(self.elem)
        if isinstance(self.elem, (TupleType, DictType)):
            return f"{inner}[]"
        return inner + "[]"

    cpdef bint is_subtype_of(self, JitType other):
        if isinstance(other, ListType):
            # Lists are invariant, except that a list of refined tensors is a
            # list of tensors (as in TorchScript).
            if self.elem == (<ListType>other).elem:
                return True
            return (isinstance(self.elem, TensorType)
                    and isinstance((<ListType>other).elem, TensorType)
                    and self.elem.is_subtype_of((<ListType>other).elem))
        return JitType.is_subtype_of(self, other)


cdef class OptionalType(JitType):
    """``T?``: a value of type T or None."""

    def __init__(self, JitType elem):
        self.kind = "Optional"
        self.elem = elem
        self._key = ("Optional", elem._key)

    def __str__(self):
        return f"{self.elem}?"

    cpdef bint is_subtype_of(self, JitType other):
        if isinstance(other, OptionalType):
            return self.elem.is_subtype_of((<OptionalType>other).elem)
        return JitType.is_subtype_of(self, other)


cdef class UnionType(JitType):
    """``Union[T1, T2, ...]``: a value of one of the member types (TorchScript's Union).

    Nested unions flatten and repeated members drop, as in ``typing.Union``; ``None``
    is not a member (``Optional[Union[...]]`` says a value may be None).
    """

    def __init__(self, members):
        flat = []
        for m in members:
            if not isinstance(m, JitType):
                raise TypeError(f"union members must be JitType, got {m!r}")
            for inner in ((<UnionType>m).members if isinstance(m, UnionType) else (m,)):
                if inner not in flat:
                    flat.append(inner)
        if len(flat) < 2:
            raise TypeError(f"a union needs two or more member types, got {flat!r}")
        self.kind = "Union"
        self.members = tuple(flat)
        self._key = ("Union",) + tuple((<JitType>m)._key for m in self.members)

    def __str__(self):
        return "Union[" + ", ".join(str(m) for m in self.members) + "]"

    cpdef bint is_subtype_of(self, JitType other):
        # every member must be one: Union[int, float] is a Scalar, a Union[int, float, str]
        if other.kind == "Any" or self._key == other._key:
            return True
        for m in self.members:
            if not (<JitType>m).is_subtype_of(other):
                return False
        return True


cdef class TupleType(JitType):
    """``(T1, T2, ...)``: a fixed-size heterogeneous tuple."""

    def __init__(self, elems):
        self.kind = "Tuple"
        self.elems = tuple(elems)
        for e in self.elems:
            if not isinstance(e, JitType):
                raise TypeError(f"tuple element types must be JitType, got {e!r}")
        self._key = ("Tuple",) + tuple((<JitType>e)._key for e in self.elems)

    def __str__(self):
        return "(" + ", ".join(str(e) for e in self.elems) + ")"

    cpdef bint is_subtype_of(self, JitType other):
        if isinstance(other, TupleType):
            oe = (<TupleType>other).elems
            if len(oe) != len(self.elems):
                return False
            for i in range(len(oe)):
                if not (<JitType>self.elems[i]).is_subtype_of(oe[i]):
                    return False
            return True
        return JitType.is_subtype_of(self, other)


cdef class DictType(JitType):
    """``Dict(K, V)``."""

    def __init__(self, JitType key, JitType value):
        self.kind = "Dict"
        self.key = key
        self.value = value
        self._key = ("Dict", key._key, value._key)

    def __str__(self):
        return f"Dict({self.key}, {self.value})"


cdef class ClassType(JitType):
    """A module or class type, named by its qualified name (``__jitcore__.Net``)."""

    def __init__(self, str name):
        self.kind = "Class"
        self.name = name
        self._key = ("Class", name)

    def __str__(self):
        return self.name


# ---------------------------------------------------------------- parsing

class TypeParseError(ValueError):
    """A type spelling could not be parsed; ``pos`` is the offending offset."""

    def __init__(self, message, text, pos):
        super().__init__(f"{message} at offset {pos} in type {text!r}")
        self.text = text
        self.pos = pos


_SIMPLE = {"int": "int", "float": "float", "bool": "bool", "str": "str",
           "NoneType": "NoneType", "None": "NoneType", "Scalar": "Scalar",
           "number": "Scalar", "Any": "Any"}


cdef inline Py_ssize_t _skip_ws(str text, Py_ssize_t pos):
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


cdef tuple _ident(str text, Py_ssize_t pos):
    cdef Py_ssize_t start = pos
    while pos < len(text) and (text[pos].isalnum() or text[pos] in "_."):
        pos += 1
    return text[start:pos], pos


cdef tuple _expect(str text, Py_ssize_t pos, str token):
    pos = _skip_ws(text, pos)
    if not text.startswith(token, pos):
        found = text[pos:pos + 1] or "end of text"
        raise TypeParseError(f"expected {token!r} but found {found!r}", text, pos)
    return None, pos + len(token)


def parse_type_prefix(str text, Py_ssize_t pos=0):
    """Parse one type starting at ``pos``; return ``(type, end_pos)``.

    Accepts TorchScript's spellings (``Float(1, 4)``, ``Tensor``, ``int[]``,
    ``int?``, ``(int, Tensor)``, ``Dict(str, Tensor)``, ``__jitcore__.Net``) and
    the Python annotation spellings ``List[T]``, ``Optional[T]``, ``Tuple[...]``,
    ``Dict[K, V]``.  Strides (``1:4``) and keyword details after the dims
    (``strides=[4, 1]``) in TorchScript output are accepted and ignored.
    """
    cdef JitType t
    pos = _skip_ws(text, pos)
    if pos >= len(text):
        raise TypeParseError("expected a type but found end of text", text, pos)
    if text[pos] == "(":
        elems = []
        pos = _skip_ws(text, pos + 1)
        if pos < len(text) and text[pos] == ")":
            pos += 1
        else:
            while True:
                e, pos = parse_type_prefix(text, pos)
                elems.append(e)
                pos = _skip_ws(text, pos)
                if pos < len(text) and text[pos] == ",":
                    pos += 1
                    continue
                _, pos = _expect(text, pos, ")")
                break
        t = TupleType(elems)
    else:
        name, end = _ident(text, pos)
        if not name:
            raise TypeParseError(f"expected a type but found {text[pos]!r}", text, pos)
        pos = end
        if name in _SIMPLE:
            t = _singleton(_SIMPLE[name])
        elif name in ("List", "Optional", "Tuple", "Dict", "Union") and pos < len(text) \
                and text[pos] in "[(":
            close = "]" if text[pos] == "[" else ")"
            pos += 1
            args = []
            while True:
                pos = _skip_ws(text, pos)
                if name == "Tuple" and text.startswith(close, pos) and not args:
                    break
                a, pos = parse_type_prefix(text, pos)
                args.append(a)
                pos = _skip_ws(text, pos)
                if pos < len(text) and text[pos] == ",":
                    pos += 1
                    continue
                break
            _, pos = _expect(text, pos, close)
            if name == "List":
                if len(args) != 1:
                    raise TypeParseError("List takes one element type", text, pos)
                t = ListType(args[0])
            elif name == "Optional":
                if len(args) != 1:
                    raise TypeParseError("Optional takes one element type", text, pos)
                t = OptionalType(args[0])
            elif name == "Tuple":
                t = TupleType(args)
            elif name == "Union":
                if len(args) < 2:
                    raise TypeParseError("Union takes two or more member types", text, pos)
                t = UnionType(args)
            else:
                if len(args) != 2:
                    raise TypeParseError("Dict takes a key and a value type", text, pos)
                t = DictType(args[0], args[1])
        elif name == "Tensor" or name in _FROM_TORCH_NAME:
            dtype = _FROM_TORCH_NAME.get(name)
            shape = None
            if pos < len(text) and text[pos] == "(":
                shape = []
                pos = _skip_ws(text, pos + 1)
                if pos < len(text) and text[pos] == ")":
                    pos += 1
                else:
                    while True:
                        pos = _skip_ws(text, pos)
                        if text.startswith("*", pos):
                            shape.append(None)
                            pos += 1
                        else:
                            start = pos
                            while pos < len(text) and text[pos].isdigit():
                                pos += 1
                            if start == pos:
                                # keyword details (strides=[..], device=cpu): skip to ')'
                                word, wend = _ident(text, pos)
                                if word and wend < len(text) and text[wend] == "=":
                                    depth = 0
                                    while pos < len(text) and not (depth == 0 and text[pos] == ")"):
                                        depth += text[pos] == "["
                                        depth -= text[pos] == "]"
                                        pos += 1
                                    break
                                raise TypeParseError("expected a dimension or '*'", text, pos)
                            shape.append(int(text[start:pos]))
                            if pos < len(text) and text[pos] == ":":   # stride, ignored
                                pos += 1
                                while pos < len(text) and text[pos].isdigit():
                                    pos += 1
                        pos = _skip_ws(text, pos)
                        if pos < len(text) and text[pos] == ",":
                            pos += 1
                            continue
                        break
                    _, pos = _expect(text, pos, ")")
            t = TensorType(dtype, shape)
        elif "." in name:
            t = ClassType(name)
        else:
            raise TypeParseError(f"unknown type {name!r}", text, pos - len(name))
    # suffixes: T[] and T?
    while pos < len(text):
        if text.startswith("[]", pos):
            t = ListType(t)
            pos += 2
        elif text[pos] == "?":
            t = OptionalType(t)
            pos += 1
        else:
            break
    return t, pos


def parse_type(str text):
    """Parse a whole type spelling (see ``parse_type_prefix``)."""
    t, pos = parse_type_prefix(text, 0)
    pos = _skip_ws(text, pos)
    if pos != len(text):
        raise TypeParseError(f"unexpected {text[pos:]!r} after the type", text, pos)
    return t
