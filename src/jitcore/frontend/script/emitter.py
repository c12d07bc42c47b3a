"""Emitting IR nodes for a function being compiled: constants, registry ops, prim nodes.

:class:`Emitter` is the base of the function compiler.  It owns the graph and the
current source range, binds calls to registry ops through ``jitcore.ops.bind`` (so
keyword arguments and defaults come from the schema), derives output types with
``OpDef.infer`` and is also the *tracer* that NumPy and ``jitcore.nn.functional``
calls report their op to while the compiler runs them on script values
(``record(opdef, full_args)``, the protocol of ``jitcore.ops.dispatch``).
"""

import contextlib

from jitcore import ops
from jitcore._runtime.types import AnyType, IntType, ListType, OptionalType, TensorType, TupleType
from jitcore.errors import SchemaMatchError
from jitcore.ops.dispatch import set_tracer
from jitcore.ops.shapes import UNKNOWN

from .errors import compile_error, describe_type
from .values import NOT_CONSTANT, PythonConstant, ScriptValue, SugaredValue, TupleOfValues

__all__ = ["Emitter"]


class Emitter:
    """Node emission helpers shared by the expression and statement compilers."""

    def __init__(self, graph):
        self.graph = graph
        self._recording_range = None
        # Values whose content is never read (prim::Uninitialized and loop inputs fed by one):
        # when joined with a real value they take its type.
        self.dont_care = set()
        # Lists whose item type the first append decides (a comprehension's result).
        self.untyped_lists = set()

    # ------------------------------------------------------------ basic nodes
    def constant(self, value, where=None):
        """A ``prim::Constant`` for a Python value (TypeError if it cannot be a constant)."""
        return self.graph.insert_constant(value, source_range=where)

    def node(self, kind, inputs, output_types, where, attrs=None):
        """Insert a node; returns the node."""
        return self.graph.insert(kind, list(inputs), attrs=attrs, num_outputs=len(output_types),
                                 output_types=list(output_types), source_range=where)

    def uninitialized(self, jit_type, where=None):
        value = self.node("prim::Uninitialized", [], [jit_type], where).output()
        self.dont_care.add(value)
        return value

    def tuple_construct(self, values, where):
        types = [v.type for v in values]
        return self.node("prim::TupleConstruct", values, [TupleType(types)], where).output()

    def list_construct(self, values, elem_type, where):
        for v in values:
            if not v.type.is_subtype_of(elem_type):
                raise compile_error(f"list items must all be {describe_type(elem_type)}, "
                                    f"got an item of type {describe_type(v.type)}", where)
        return self.node("prim::ListConstruct", values, [ListType(elem_type)], where).output()

    def constant_int(self, sugared, where, what):
        """The Python int a sugared value holds at compile time (error naming ``what`` otherwise)."""
        value = python_constant(sugared)
        if isinstance(value, bool) or not isinstance(value, int):
            raise compile_error(f"{what} must be an integer constant", where)
        return value

    # ------------------------------------------------------------- registry ops
    def emit_op_call(self, kind, args, kwargs, where, result_type=None):
        """Bind ``kind(*args, **kwargs)`` to an overload and emit it; returns a sugared value.

        Constant arguments are passed to ``bind`` as Python values, so that the schema's
        conversions apply (an ``int`` literal for a ``float`` argument, a dtype for a
        ``ScalarType``); every other argument is a :class:`ScriptValue` with its type.
        """
        py_args = [self._bind_argument(a, where) for a in args]
        py_kwargs = {k: self._bind_argument(v, where) for k, v in kwargs.items()}
        try:
            opdef, full_args = ops.bind(kind, py_args, py_kwargs)
        except SchemaMatchError as e:
            raise compile_error(str(e), where) from None
        return self.emit_bound(opdef, full_args, where, result_type)

    def emit_node_call(self, kind, args, kwargs, where):
        """``ops.aten.add(x, 3, 1)`` as ``.code`` prints a node: every input positionally, in
        schema order (keyword-only ones included), attributes as keyword arguments."""
        inputs = [a.as_value(self, where) for a in args]
        attrs = {}
        for name, sugared in kwargs.items():
            value = python_constant(sugared)
            if value is NOT_CONSTANT:
                raise compile_error(f"attribute {name!r} of {kind} must be a constant", where)
            attrs[name] = list(value) if isinstance(value, tuple) else value
        if kind == "prim::unchecked_cast" and len(inputs) == 1:
            # what `.code` prints for a refinement: Optional[T] narrowed to T (a value the
            # compiler narrowed already, by the test before it, is the narrow value itself)
            if not isinstance(inputs[0].type, OptionalType):
                return ScriptValue(inputs[0])
            return ScriptValue(self.node(kind, inputs, [inputs[0].type.elem], where).output())
        if kind == "prim::PythonOp":
            # `.code` prints an @jitcore.ignore call this way; it re-scripts when the
            # function is in scope under the printed name
            return self.python_op_from_code(args, attrs, where)
        if kind.startswith("prim::"):
            raise compile_error(f"{kind} cannot be called through the ops namespace", where)
        opdef = self._match_positional(kind, inputs, where)
        # an empty literal passed where the schema says which list: a constant of that type
        # (a list of a type variable, Any[], takes the literal's own type, and it may be
        # written: it stays the new object the literal makes)
        inputs = [self.graph.insert_constant([], type=a.type, source_range=where)
                  if _is_empty_list(v) and isinstance(a.type, ListType)
                  and a.type.elem != AnyType.get()
                  and (v.node.kind == "prim::Constant" or self.literal_unchanged(v)) else v
                  for v, a in zip(inputs, opdef.schema.arguments)]
        result = self.emit_bound(opdef, [ScriptValue(v) for v in inputs], where)
        if attrs:
            first = result.items[0] if isinstance(result, TupleOfValues) else result
            for name, value in attrs.items():
                first.value.node.set_attr(name, value)
        return result

    def _match_positional(self, kind, inputs, where):
        """The overload of ``kind`` taking ``inputs`` in schema order; an empty list literal
        matches any list argument (its element type comes from the schema) when no
        overload takes the list at its own type (``annotate(List[float], [])``, appended
        to since, is a float[] for ``ops.aten.sum``)."""
        for empty_matches_any_list in (False, True):
            for opdef in ops.overloads(kind):
                formals = opdef.schema.arguments
                if len(formals) == len(inputs) and all(
                        isinstance(a.type, ListType) if empty_matches_any_list and
                        _is_empty_list(v) else ops.registry.accepts(a.type, v.type, a.fixed_size)
                        for v, a in zip(inputs, formals)):
                    return opdef
        try:
            return ops.match(kind, [v.type for v in inputs])
        except SchemaMatchError as e:
            raise compile_error(str(e), where) from None

    def _bind_argument(self, sugared, where):
        if isinstance(sugared, ScriptValue):
            value = sugared.constant()
            return sugared if value is NOT_CONSTANT else value
        if isinstance(sugared, PythonConstant):
            return sugared.value
        if isinstance(sugared, TupleOfValues):
            return [self._bind_argument(item, where) for item in sugared.items]
        if isinstance(sugared, SugaredValue):
            return ScriptValue(sugared.as_value(self, where))
        return sugared

    def emit_bound(self, opdef, full_args, where, result_type=None):
        """Emit a node for a bound op call; returns a ScriptValue (or a tuple of them)."""
        schema_args = opdef.schema.arguments
        inputs = [self._argument_value(v, a.type, where) for v, a in zip(full_args, schema_args)]
        constants = [_constant_of(v) for v in inputs]
        try:
            types = opdef.infer([v.type for v in inputs], constants)
        except (ValueError, IndexError, TypeError) as e:
            raise compile_error(str(e), where) from None
        types = [_plain(t) for t in types]
        if result_type is not None and len(types) == 1:
            types = [result_type]
        node = self.node(opdef.kind, inputs, types, where)
        outputs = [ScriptValue(v) for v in node.outputs]
        return outputs[0] if len(outputs) == 1 else TupleOfValues(outputs)

    def _argument_value(self, value, formal, where):
        if isinstance(value, ScriptValue):
            return value.value
        if isinstance(value, (list, tuple)) and any(isinstance(v, ScriptValue) for v in value):
            elem = formal.elem if isinstance(formal, ListType) else (
                formal.elem.elem if isinstance(formal, OptionalType) else AnyType.get())
            if elem == AnyType.get():
                elem = value[0].jit_type if isinstance(value[0], ScriptValue) else IntType.get()
            items = [self._argument_value(v, elem, where) for v in value]
            return self.list_construct(items, elem, where)
        try:
            return self.constant(list(value) if isinstance(value, tuple) else value, where)
        except TypeError as e:
            raise compile_error(str(e), where) from None

    # ------------------------------------------------ the tracer protocol
    @contextlib.contextmanager
    def recording(self, where):
        """While library code runs on script values, its ops are recorded here at ``where``."""
        previous_range = self._recording_range
        self._recording_range = where
        previous = set_tracer(self)
        try:
            yield
        finally:
            set_tracer(previous)
            self._recording_range = previous_range

    def record(self, opdef, full_args):
        """``jitcore.ops.dispatch`` hands ops here when called on :class:`ScriptValue` args."""
        result = self.emit_bound(opdef, full_args, self._recording_range)
        # library code unpacks multi-output ops as Python tuples
        return tuple(result.items) if isinstance(result, TupleOfValues) else result


def python_constant(sugared):
    """The compile-time Python value of a sugared value, or NOT_CONSTANT."""
    if isinstance(sugared, PythonConstant):
        return sugared.value
    if isinstance(sugared, ScriptValue):
        return sugared.constant()
    if isinstance(sugared, TupleOfValues):
        items = [python_constant(i) for i in sugared.items]
        return NOT_CONSTANT if any(i is NOT_CONSTANT for i in items) else tuple(items)
    return NOT_CONSTANT


def _is_empty_list(value):
    node = value.node
    if node.kind == "prim::ListConstruct":
        return not node.inputs
    return node.kind == "prim::Constant" and node.has_attr("value") and node.attr("value") == []


def _constant_of(value):
    node = value.node
    if node.kind == "prim::Constant":
        return node.attr("value") if node.has_attr("value") else None
    return UNKNOWN


def _plain(jit_type):
    """Script graphs carry unrefined tensor types, as TorchScript's scripted graphs do."""
    if isinstance(jit_type, TensorType):
        return TensorType.get()
    return jit_type

