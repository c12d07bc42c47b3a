"""NamedTuples in script: ``Pair(a, b)``, ``Pair(first=a, second=b)``, ``p.first``.

As in TorchScript, a ``typing.NamedTuple`` class is a tuple type whose fields have
names: constructing one is ``prim::TupleConstruct`` of its fields (keywords and the
class's defaults bound as Python binds them, each checked against the field's
annotation), and ``p.first`` is ``prim::TupleIndex`` of the field's position.  The
field names are known while compiling: a value made by the constructor or given as an
argument annotated with the class carries them (:class:`NamedTupleValue`), through
assignments; the IR type is the plain tuple of the field types, so a NamedTuple
leaves compiled code (a result, a saved archive) as a tuple.
"""

from jitcore._runtime.types import AnyType, IntType

from .annotations import annotation_object, is_named_tuple_class, named_tuple_field_types, \
    type_from_python_object
from .errors import compile_error, describe_type
from .values import BuiltinValue, ScriptValue

__all__ = ["NamedTupleValue", "named_tuple_constructor", "named_tuple_field", "argument_value"]


class NamedTupleValue(ScriptValue):
    """A tuple value whose fields have the names of the NamedTuple class ``cls``."""

    def __init__(self, value, cls):
        super().__init__(value)
        self.cls = cls


def named_tuple_constructor(cls):
    """The compile-time callable ``cls(...)`` of a NamedTuple class ``cls``."""
    def construct(ctx, args, kwargs, where):
        fields = _bind(cls, args, kwargs, where)
        values = []
        for name, annotation, field in zip(cls._fields, named_tuple_field_types(cls), fields):
            value = field.as_value(ctx, where)
            expected = type_from_python_object(annotation)
            if expected is not None and expected != AnyType.get():
                if value.type == IntType.get() and expected.kind == "float":
                    value = ctx.emit_op_call("aten::Float", [ScriptValue(value)], {}, where).value
                elif not value.type.is_subtype_of(expected):
                    raise compile_error(f"{cls.__name__}: field {name!r} is "
                                        f"{describe_type(expected)} but got "
                                        f"{describe_type(value.type)}", where)
            values.append(value)
        return NamedTupleValue(ctx.tuple_construct(values, where), cls)
    return BuiltinValue(cls.__name__, construct, python_object=cls)


def _bind(cls, args, kwargs, where):
    names, defaults = cls._fields, getattr(cls, "_field_defaults", {})
    if len(args) > len(names):
        raise compile_error(f"{cls.__name__} takes {len(names)} fields but {len(args)} were "
                            "given", where)
    bound = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in names:
            raise compile_error(f"{cls.__name__} has no field {name!r}", where)
        if name in bound:
            raise compile_error(f"{cls.__name__} got field {name!r} twice", where)
        bound[name] = value
    fields = []
    for name in names:
        if name in bound:
            fields.append(bound[name])
        elif name in defaults:
            fields.append(_constant_field(defaults[name], cls, name, where))
        else:
            raise compile_error(f"{cls.__name__} is missing the field {name!r}", where)
    return fields


class _Constant:
    """A field default (a Python constant), made an IR constant where it is used."""

    def __init__(self, value, what, where):
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise compile_error(f"{what}: a default that is a {type(value).__name__} cannot "
                                "be a constant of compiled code", where)
        self.value = value

    def as_value(self, ctx, where):
        return ctx.constant(self.value, where)


def _constant_field(value, cls, name, where):
    return _Constant(value, f"{cls.__name__}.{name}", where)


def named_tuple_field(ctx, base, name, where):
    """``base.<name>`` of a :class:`NamedTupleValue`: the field at its position."""
    if name not in base.cls._fields:
        raise compile_error(f"{base.cls.__name__} has no field {name!r}", where)
    position = base.cls._fields.index(name)
    index = ctx.constant(position, where)
    node = ctx.node("prim::TupleIndex", [base.value, index], [base.value.type.elems[position]],
                    where)
    return ScriptValue(node.output())


def argument_value(value, annotation, source, globals_):
    """The sugared value of a function argument: a :class:`NamedTupleValue` when annotated
    with a NamedTuple class (``def f(p: Pair)``), so ``p.first`` compiles."""
    if annotation is not None:
        cls = annotation_object(annotation, source, globals_)
        if is_named_tuple_class(cls):
            return NamedTupleValue(value, cls)
    return ScriptValue(value)
