"""IR types from Python annotations (``np.ndarray``, ``int``, ``Optional[int]``, ``List[Tensor]``).

An annotation is evaluated in the function's globals, as Python itself does at
``def`` time, and the resulting object is mapped to a :class:`JitType`.  The bare
names ``Tensor`` (what ``.code`` prints) and ``ndarray`` need no import.
"""

import ast
import types
import typing

import numpy as np

from jitcore._runtime.types import (
    AnyType, BoolType, DictType, FloatType, IntType, ListType, NoneType, OptionalType, StrType,
    TensorType, TupleType, UnionType,
)

from .errors import compile_error

__all__ = ["type_from_annotation", "type_from_python_object", "annotation_object", "is_final",
           "final_inner",
           "is_named_tuple_class", "named_tuple_field_types"]

_SCALARS = {int: IntType.get(), float: FloatType.get(), bool: BoolType.get(), str: StrType.get()}
_SUPPORTED = ("supported annotations are np.ndarray, int, float, bool, str, None, Optional[T], "
              "Union[...], List[T], Tuple[...], Dict[K, V] and NamedTuple classes")
# Names that denote an array type even when not imported in the user's module.
_ARRAY_NAMES = {"Tensor", "ndarray", "np.ndarray", "numpy.ndarray", "jitcore.Tensor"}


def type_from_annotation(node, source, globals_):
    """The JitType an annotation AST node denotes.

    Raises
    ------
    CompileError
        If the annotation cannot be evaluated or names a type jitcore.script does not support.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            raise compile_error(f"cannot parse the string annotation {node.value!r}",
                                source.range_of(node)) from None
        return _type_from_node(node, source, globals_, source.range_of(node))
    return _type_from_node(node, source, globals_, source.range_of(node))


def annotation_object(node, source, globals_):
    """The Python object an annotation AST node evaluates to (a string annotation parsed
    first), as Python evaluates it at ``def`` time."""
    where = source.range_of(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            raise compile_error(f"cannot parse the string annotation {node.value!r}",
                                where) from None
    try:
        return eval(compile(ast.Expression(node), "<annotation>", "eval"), dict(globals_))
    except Exception as e:
        raise compile_error(f"cannot evaluate the annotation {ast.unparse(node)!r} ({e}); "
                            f"{_SUPPORTED}", where) from None


def _type_from_node(node, source, globals_, where):
    if ast.unparse(node) in _ARRAY_NAMES:
        return TensorType.get()
    obj = annotation_object(node, source, globals_)
    jit_type = type_from_python_object(obj)
    if jit_type is None:
        raise compile_error(f"unsupported annotation {ast.unparse(node)!r}; supported "
                            "annotations are np.ndarray, int, float, bool, str, None, "
                            f"{_SUPPORTED}", where)
    return jit_type


def type_from_python_object(obj):
    """The JitType of an evaluated annotation object, or None if it has none."""
    if obj is None or obj is type(None):
        return NoneType.get()
    if obj in _SCALARS:
        return _SCALARS[obj]
    if obj is np.ndarray or getattr(obj, "__jitcore_tensor_type__", False):
        return TensorType.get()
    if obj is typing.Any:
        return AnyType.get()
    origin = typing.get_origin(obj)
    args = typing.get_args(obj)
    if origin is typing.Union or _is_union_type(origin):
        non_none = [a for a in args if a is not type(None)]
        members = [type_from_python_object(a) for a in non_none]
        if not members or any(m is None for m in members):
            return None
        inner = members[0] if len(members) == 1 else UnionType(members)
        return OptionalType(inner) if len(non_none) < len(args) else inner
    if origin is list and len(args) == 1:
        inner = type_from_python_object(args[0])
        return None if inner is None else ListType(inner)
    if origin is tuple and args and args[-1] is not Ellipsis:
        inner = [type_from_python_object(a) for a in args]
        return None if any(t is None for t in inner) else TupleType(inner)
    if origin is dict and len(args) == 2:
        key, value = type_from_python_object(args[0]), type_from_python_object(args[1])
        if key is None or value is None:
            return None
        return DictType(key, value)
    if origin is typing.Final:
        return type_from_python_object(args[0]) if args else None
    if origin is np.ndarray:
        return TensorType.get()
    if is_named_tuple_class(obj):
        # a NamedTuple is the tuple of its fields' types (TorchScript's NamedTuple, unnamed)
        fields = [type_from_python_object(t) for t in named_tuple_field_types(obj)]
        return None if any(t is None for t in fields) else TupleType(fields)
    return None


def is_named_tuple_class(obj):
    """True for a ``typing.NamedTuple`` (or ``collections.namedtuple``) class."""
    return isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")


def named_tuple_field_types(cls):
    """The annotation of each field of a NamedTuple class (``Any`` where it has none)."""
    annotations = typing.get_type_hints(cls) if getattr(cls, "__annotations__", None) else {}
    return [annotations.get(name, typing.Any) for name in cls._fields]


def _is_union_type(origin):
    return origin is getattr(types, "UnionType", object())


def is_final(annotation):
    """True if a class-level annotation object is ``typing.Final`` or ``Final[T]``."""
    return annotation is typing.Final or typing.get_origin(annotation) is typing.Final


def final_inner(annotation):
    """The ``T`` of ``Final[T]`` (None for bare ``Final``)."""
    args = typing.get_args(annotation)
    return args[0] if args else None
