"""Binding Python call arguments to an op overload (``bind``), for the frontends.

``bind("aten::add", (x, 1.0), {})`` picks the first overload of ``aten::add``
that accepts the values, converts them to what the schema declares, fills the
defaults and returns ``(opdef, full_args)`` with one entry per schema argument.

How a Python value is seen:

- an object with a ``jit_type`` attribute (a tracer or script value) is its
  JitType and is passed through unchanged;
- an ndarray is a Tensor; a NumPy scalar is a 0-d Tensor where the schema wants
  a Tensor, else the Python number it holds; an object ndarray of Python numbers
  (what ``np.arange(t)`` makes of a traced number ``t``, whose value NumPy reads)
  is the numeric array NumPy makes of those numbers;
- ``bool``/``int``/``float``/``str``/``None`` are themselves (an int is accepted
  for a ``float``; a ``bool`` is not an ``int``); a list or tuple is a list;
- a ``ScalarType`` argument also takes a dtype-like (``np.float32``,
  ``"float32"``) and receives its code.
"""

import numpy as np

from jitcore._runtime.types import (
    AnyType, BoolType, DictType, FloatType, IntType, ListType, NoneType, NumberType, OptionalType, StrType,
    TensorType,
)
from jitcore.errors import SchemaMatchError

from . import registry
from .dtypes import CODES, code_of

__all__ = ["bind", "describe", "type_of", "numeric_array"]


class _Mismatch(Exception):
    """One overload does not accept one argument; the message says why."""


def describe(value):
    """A short description of a Python value for error messages."""
    jit_type = getattr(value, "jit_type", None)
    if jit_type is not None:
        return f"a value of type {jit_type}"
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype} and shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def numeric_array(value):
    """``value`` itself, or for an object ndarray of Python numbers the numeric array they make.

    NumPy's creation functions do not dispatch on the traced numbers they are given
    (``np.arange(0, x.shape[1])`` in a trace): they read their values (the tracer
    warns that the value is baked in) and return an object array of Python numbers.

    Raises
    ------
    TypeError
        For an object array holding anything but numbers (traced arrays, None).
    """
    if not isinstance(value, np.ndarray) or value.dtype != object:
        return value
    items = value.ravel().tolist()
    if not all(isinstance(v, (bool, int, float)) for v in items):
        kinds = sorted({type(v).__name__ for v in items
                        if not isinstance(v, (bool, int, float))})
        raise TypeError(f"an ndarray of dtype object (of {', '.join(kinds)}) cannot be an op "
                        "input: NumPy made it from values it cannot compute with; pass plain "
                        "numbers, or call a registered function on the traced values")
    return np.array(items).reshape(value.shape) if items else np.zeros(value.shape)


def type_of(value):
    """The JitType a Python value has as an op input (what a tracer records for a constant).

    Raises
    ------
    TypeError
        For a value jitcore cannot pass to an op (an object without ``jit_type``, a dict
        whose keys are not all str or all int).
    """
    jit_type = getattr(value, "jit_type", None)
    if jit_type is not None:
        return jit_type
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return TensorType.from_array(numeric_array(value))
    for python_type, jit in ((bool, BoolType), (int, IntType), (float, FloatType),
                             (str, StrType), (type(None), NoneType)):
        if isinstance(value, python_type):
            return jit.get()
    if isinstance(value, dict):
        keys = {type_of(k) for k in value}
        if not value or len(keys) != 1 or not keys <= {StrType.get(), IntType.get()}:
            raise TypeError(f"{describe(value)} cannot be an op input: a dict's keys must be "
                            "all str or all int")
        return DictType(keys.pop(), type_of(list(value.values())).elem)
    if isinstance(value, (list, tuple)):
        elems = {type_of(v) for v in value}
        if len(elems) == 1:
            return ListType(elems.pop())
        if elems and all(isinstance(e, TensorType) for e in elems):
            return ListType(_common_tensor_type(elems))
        if not elems:
            return ListType(AnyType.get())
        raise TypeError(f"a list of mixed types ({', '.join(sorted(map(str, elems)))}) "
                        "cannot be an op input")
    raise TypeError(f"{describe(value)} cannot be an op input")


def _common_tensor_type(types):
    """The most precise TensorType every one of ``types`` is: shared dtype, rank and dims."""
    dtypes = {t.dtype for t in types}
    shapes = {t.shape for t in types}
    ranks = {None if shape is None else len(shape) for shape in shapes}
    dtype = dtypes.pop() if len(dtypes) == 1 else None
    if len(ranks) != 1 or None in ranks:
        return TensorType(dtype, None)
    dims = tuple(d.pop() if len(d) == 1 else None for d in map(set, zip(*shapes)))
    return TensorType(dtype, dims)


def _convert(formal, value, fixed_size=None, is_dtype=False):
    """``value`` converted for an argument of type ``formal``; raises _Mismatch."""
    jit_type = getattr(value, "jit_type", None)
    if jit_type is not None:
        if registry.accepts(formal, jit_type, fixed_size):
            return value
        raise _Mismatch(f"expected {formal} but got {describe(value)}")
    if formal == AnyType.get():
        return value
    if isinstance(formal, OptionalType):
        return None if value is None else _convert(formal.elem, value, fixed_size, is_dtype)
    if isinstance(formal, ListType):
        return _convert_list(formal, value, fixed_size, is_dtype)
    if isinstance(formal, TensorType):
        if isinstance(value, np.generic):
            value = np.asarray(value)
        if isinstance(value, np.ndarray):
            try:
                value = numeric_array(value)
            except TypeError as e:
                raise _Mismatch(str(e)) from None
            if value.dtype.name in CODES:
                return value
            raise _Mismatch(f"expected a Tensor of dtype {', '.join(CODES)} but got "
                            f"{describe(value)}")
    elif isinstance(value, (np.bool_, np.integer, np.floating)):
        return _convert(formal, value.item(), fixed_size, is_dtype)
    elif formal == NumberType.get():
        if isinstance(value, (bool, int, float)):
            return value
    elif formal.kind == "int":
        if is_dtype and not isinstance(value, int):
            try:
                return code_of(value)
            except TypeError:
                pass
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif formal.kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif formal.kind == "bool":
        if isinstance(value, bool):
            return value
    elif formal.kind == "str":
        if isinstance(value, str):
            return value
    raise _Mismatch(f"expected {'ScalarType' if is_dtype else formal} but got {describe(value)}")


def _convert_list(formal, value, fixed_size, is_dtype):
    if not isinstance(value, (list, tuple)):
        if fixed_size is not None:
            # ``stride=2`` for ``int[2] stride`` means [2, 2]
            return [_convert(formal.elem, value, None, is_dtype)] * fixed_size
        raise _Mismatch(f"expected {formal} but got {describe(value)}")
    if fixed_size is not None and fixed_size > 1 and len(value) != fixed_size:
        raise _Mismatch(f"expected a list of {fixed_size} items but got {len(value)}")
    items = []
    for i, item in enumerate(value):
        try:
            items.append(_convert(formal.elem, item, None, is_dtype))
        except _Mismatch as e:
            raise _Mismatch(f"item {i}: {e}") from None
    return items


def _bind_one(op, args, kwargs):
    """Full argument list for one overload; raises _Mismatch naming the argument."""
    params = op.schema.arguments
    positional = [p for p in params if not p.kwarg_only]
    if len(args) > len(positional):
        raise _Mismatch(f"takes at most {len(positional)} positional arguments "
                        f"but {len(args)} were given")
    unknown = set(kwargs) - {p.name for p in params}
    if unknown:
        raise _Mismatch(f"got an unexpected keyword argument {sorted(unknown)[0]!r}")
    full = []
    for i, p in enumerate(params):
        if i < len(args) and not p.kwarg_only:
            if p.name in kwargs:
                raise _Mismatch(f"got multiple values for argument {p.name!r}")
            value = args[i]
        elif p.name in kwargs:
            value = kwargs[p.name]
        elif p.has_default:
            value = p.default
        else:
            raise _Mismatch(f"missing argument {p.name!r}")
        try:
            full.append(_convert(p.type, value, p.fixed_size, p.is_dtype))
        except _Mismatch as e:
            raise _Mismatch(f"argument {p.name!r}: {e}") from None
    return full


def bind(kind, args=(), kwargs=None):
    """Pick the overload of ``kind`` that accepts Python arguments and complete them.

    Parameters
    ----------
    kind : str
        The op kind (``"aten::add"``) or one qualified name (``"aten::add.Tensor"``),
        which then is the only candidate.
    args : sequence
        Positional arguments.
    kwargs : mapping, optional
        Keyword arguments, by schema argument name.

    Returns
    -------
    (OpDef, list)
        The overload and one converted value per schema argument, defaults filled.

    Raises
    ------
    SchemaMatchError
        If no overload accepts the arguments; names the op and, for each
        candidate, the argument that did not fit and what came.
    """
    kwargs = dict(kwargs or {})
    if registry.is_registered(kind) and "." in kind.split("::", 1)[-1]:
        candidates = [registry.get(kind)]
    else:
        candidates = registry.overloads(kind)
    if not candidates:
        raise SchemaMatchError(f"unknown op {kind!r}")
    reasons = []
    for op in candidates:
        try:
            return op, _bind_one(op, tuple(args), kwargs)
        except _Mismatch as e:
            reasons.append(f"  {op.schema}\n    {e}")
    given = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
    raise SchemaMatchError(f"{kind}: no overload accepts ({given}):\n" + "\n".join(reasons))
