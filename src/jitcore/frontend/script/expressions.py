"""Compiling Python expressions into IR values (or compile-time sugared values).

``ExpressionCompiler.expr(node)`` returns a :class:`SugaredValue`; ``value(node)`` an
IR value.  Names resolve to local variables first, then to the function's closure
and globals, where modules, functions, builtins and constants are looked up statically.
"""

import ast
import builtins as python_builtins
import contextlib
import types

import numpy as np

from jitcore import ops
from jitcore._runtime.ir import Block
from jitcore._runtime.types import (
    BoolType, IntType, JitType, ListType, NoneType, OptionalType, StrType, TensorType, TupleType,
)
from jitcore.decorators import compiled_overload
from jitcore.ops.effects import Effect, OutputAlias
from jitcore.modules import ScriptFunction
from jitcore.language import annotate
from jitcore.nn.module import Module

from .annotations import is_named_tuple_class, type_from_annotation, type_from_python_object
from .builtins import builtin_for
from .emitter import Emitter, python_constant
from .indexing import index_array
from .environment import Undefined, unify_types
from .errors import compile_error, describe_type
from .library_calls import array_method, library_function
from .strings import is_str, str_contains, str_getitem, str_method, str_slice
from .dicts import dict_contains, dict_getitem, dict_literal, dict_method, is_dict, new_dict
from .lists import list_contains, list_method, list_slice
from .named_tuples import NamedTupleValue, named_tuple_constructor, named_tuple_field
from .operators import binary_op, compare_op, is_tensor, truth_value, unary_op
from .values import (
    BuiltinValue, CompiledFunctionValue, FunctionValue, ModuleClassValue, OpNamespace, OpsRoot,
    PythonConstant,
    PythonModuleValue, ScriptValue, SugaredValue, TupleOfValues,
)

__all__ = ["ExpressionCompiler"]

# Builtins whose generator-expression argument is consumed at once (see consume_generator).
_GENERATOR_CONSUMERS = (all, any, tuple)
# Builtins that read every item of their argument: a generator expression given to them is
# the list comprehension of the same items (Python evaluates every item too).
_LIST_CONSUMERS = (sum, min, max, sorted, list)

_UNSUPPORTED_EXPRESSIONS = {
    ast.Lambda: "lambdas are not supported in jitcore.script; define a function with def",
    ast.GeneratorExp: "generator expressions are supported in jitcore.script only where they "
                      "are consumed at once (all(...), any(...), tuple(...), `a, b = (...)`); "
                      "use a list comprehension",
    ast.SetComp: "sets are not supported in jitcore.script; use a list",
    ast.Set: "sets are not supported in jitcore.script; use a list",
    ast.Yield: "generators (yield) are not supported in jitcore.script; return a list",
    ast.YieldFrom: "generators (yield from) are not supported in jitcore.script; return a list",
    ast.Await: "await is not supported in jitcore.script",
    ast.NamedExpr: "assignment expressions (:=) are not supported in jitcore.script; assign "
                   "in a separate statement",
    ast.Starred: "star-unpacking (*args) is not supported in jitcore.script; pass the "
                 "arguments one by one",
}

# Reads of a list that take its items out: they give no other name to the list itself.
_ITEM_READS = frozenset({"aten::__getitem__", "prim::ListUnpack", "aten::len"})

# Attributes of arrays that are values rather than methods.
_ARRAY_PROPERTIES = {"shape": "aten::size", "ndim": "aten::dim", "size": "aten::numel",
                     "dtype": "prim::dtype"}


class ExpressionCompiler(Emitter):
    """Expression half of the function compiler (see :class:`compiler.FunctionCompiler`)."""

    # ---------------------------------------------------------------- entry
    def expr(self, node):
        handler = getattr(self, "_expr_" + type(node).__name__, None)
        if handler is None:
            message = _UNSUPPORTED_EXPRESSIONS.get(
                type(node), f"{type(node).__name__} expressions are not supported in jitcore.script")
            raise compile_error(message, self.where(node))
        return handler(node)

    def value(self, node):
        return self.expr(node).as_value(self, self.where(node))

    def where(self, node):
        return self.source.range_of(node)

    # ------------------------------------------------------------ literals
    def _expr_Constant(self, node):
        if node.value is Ellipsis:
            return PythonConstant(Ellipsis)
        if isinstance(node.value, (bytes, complex)):
            raise compile_error(f"{type(node.value).__name__} literals are not supported in "
                                "jitcore.script", self.where(node))
        return ScriptValue(self.constant(node.value, self.where(node)))

    def _expr_JoinedStr(self, node):
        # an f-string: aten::format of its text and the values it shows
        return ScriptValue(self.message_value(node))

    def _expr_Tuple(self, node):
        return TupleOfValues([self.expr(e) for e in node.elts])

    def _expr_List(self, node):
        where = self.where(node)
        values = [self.value(e) for e in node.elts]
        if not values:
            # an empty list literal is a list of tensors, as in TorchScript (annotate otherwise)
            return ScriptValue(self.list_construct([], TensorType.get(), where))
        elem = values[0].type
        for v in values[1:]:
            joined = unify_types(elem, v.type)
            if joined is None:
                raise compile_error(f"list items must have one type; got {describe_type(elem)} "
                                    f"and {describe_type(v.type)}", where)
            elem = joined
        if isinstance(elem, TensorType):
            elem = TensorType.get()
        return ScriptValue(self.list_construct(values, elem, where))

    # --------------------------------------------------------------- names
    def _expr_Name(self, node):
        where = self.where(node)
        bound = self.scope.lookup(node.id)
        if isinstance(bound, Undefined):
            raise compile_error(bound.reason, where)
        if bound is not None:
            return bound
        return self.resolve_global(node.id, where)

    def resolve_global(self, name, where):
        """A name that is not a local: closure cell, module global, then builtin."""
        closure = self.closure_values()
        if name in closure:
            return self.sugar_python_object(closure[name], name, where, captured=True)
        if name in self.globals:
            return self.sugar_python_object(self.globals[name], name, where)
        if hasattr(python_builtins, name):
            return self.sugar_python_object(getattr(python_builtins, name), name, where)
        if name in ("aten", "prim"):
            return OpNamespace(name)
        if name == "annotate":
            # `.code` prints an empty list of a non-array type as annotate(List[int], [])
            return builtin_for(annotate, name, where)
        if name == "uninitialized":
            # `.code` prints prim::Uninitialized as uninitialized(Type)
            return BuiltinValue("uninitialized", _uninitialized)
        if name == "unchecked_cast":
            # `.code` prints a Union narrowed to a member as unchecked_cast(Type, x)
            return BuiltinValue("unchecked_cast", _unchecked_cast, python_object=_unchecked_cast)
        if name == "ops":
            # the root `.code` prints ops through: ops.aten.add(x, 3, 1)
            return OpsRoot()
        forced = compiled_overload(self.globals, name)
        if forced is not None:
            # `.code` prints a call of an overload by its compiled name: `pair__0(n)`
            base, index, declaration = forced
            return BuiltinValue(name, lambda ctx, args, kwargs, where: ctx.unit.call_function(
                ctx, self.globals[base], list(args), kwargs, where, overload=(index, declaration)))
        raise compile_error(f"undefined name {name!r}", where)

    def sugar_python_object(self, obj, name, where, captured=False):
        """The sugared value of a Python object a name refers to at compile time."""
        if isinstance(obj, SugaredValue):
            return obj          # a frontend's own compile-time name (the TorchScript dialect's `torch`)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return ScriptValue(self.constant(obj, where))
        if isinstance(obj, tuple) and all(
                o is None or isinstance(o, (bool, int, float, str)) for o in obj):
            return TupleOfValues([ScriptValue(self.constant(o, where)) for o in obj])
        if isinstance(obj, types.ModuleType):
            return PythonModuleValue(obj)
        if getattr(obj, "_jitcore_op_namespace", None):
            return OpNamespace(obj._jitcore_op_namespace)
        builtin = builtin_for(obj, name, where)
        if builtin is not None:
            return builtin
        library = library_function(obj, name)
        if library is not None:
            return library
        if isinstance(obj, type) and obj in (np.float32, np.float64, np.int64, np.int32,
                                             np.bool_, np.ndarray):
            return PythonConstant(obj)
        if isinstance(obj, (np.ndarray, list, dict, set)) or isinstance(obj, Module):
            what = "array" if isinstance(obj, np.ndarray) else type(obj).__name__
            raise compile_error(f"{name!r} refers to a {what} captured from Python; jitcore.script "
                                "does not capture mutable values (it could change after "
                                "compiling). Pass it as an argument, or make it a module "
                                "attribute", where)
        if is_named_tuple_class(obj):
            return named_tuple_constructor(obj)
        if isinstance(obj, type) and issubclass(obj, Module):
            return ModuleClassValue(obj)
        if isinstance(obj, type) and issubclass(obj, Warning):
            return PythonConstant(obj)      # a warnings.warn category, judged by its handler
        if isinstance(obj, types.FunctionType):
            return FunctionValue(obj)
        if isinstance(obj, ScriptFunction):
            return CompiledFunctionValue(obj)
        if not callable(obj) and type_from_python_object(obj) is not None:
            return PythonConstant(obj)  # a typing construct such as Optional[int]
        if callable(obj) and getattr(obj, "__module__", "").startswith("numpy"):
            raise compile_error(f"the NumPy function {name} has no op in jitcore's registry, so "
                                "jitcore.script cannot compile it", where)
        raise compile_error(f"{name!r} is a Python {type(obj).__name__}, which jitcore.script "
                            "cannot use", where)

    # ----------------------------------------------------------- attributes
    def _expr_Attribute(self, node):
        where = self.where(node)
        base = self.expr(node.value)
        if isinstance(base, ScriptValue):
            return self.value_attribute(base, node.attr, where)
        return base.attr(self, node.attr, where)

    def value_attribute(self, base, name, where):
        if isinstance(base, NamedTupleValue):
            return named_tuple_field(self, base, name, where)
        value = base.value
        if isinstance(value.type, TensorType):
            if name in _ARRAY_PROPERTIES:
                return self.emit_op_call(_ARRAY_PROPERTIES[name], [base], {}, where)
            if name == "T":
                # NumPy's .T reverses every axis: aten::t where the rank is known to be at
                # most 2 (TorchScript's spelling), aten::numpy_T at any other rank
                rank = value.type.rank
                if rank is not None and rank <= 2:
                    return self.emit_op_call("aten::t", [base], {}, where)
                return self.emit_op_call("aten::numpy_T", [base], {}, where)
            method = array_method(base, name, where)
            if method is not None:
                return method
            raise compile_error(f"ndarray attribute or method {name!r} is not supported in "
                                "jitcore.script (no op in the registry stands for it)", where)
        if isinstance(value.type, ListType):
            method = list_method(base, name)
            if method is not None:
                return method
        if is_dict(value):
            method = dict_method(base, name)
            if method is not None:
                return method
        if is_str(value):
            method = str_method(base, name)
            if method is not None:
                return method
        raise compile_error(f"{describe_type(value.type)} has no attribute {name!r} in "
                            "jitcore.script", where)

    # ---------------------------------------------------------------- calls
    def _expr_Call(self, node):
        where = self.where(node)
        func = self.expr(node.func)
        consumer = getattr(func, "python_object", None)
        if node.args and (consumer in (annotate, _unchecked_cast)
                          or getattr(func, "handler", None) is _uninitialized):
            # the first argument is a type annotation, read as annotations are
            declared = type_from_annotation(node.args[0], self.source, self.globals)
            rest = [self.expr(a) for a in node.args[1:]]
            return func.call(self, [PythonConstant(declared)] + rest, {}, where)
        if consumer is python_builtins.isinstance and len(node.args) == 2 and isinstance(
                node.args[1], ast.Subscript):
            # isinstance(x, List[int]): a generic type, read as an annotation
            declared = type_from_annotation(node.args[1], self.source, self.globals)
            return func.call(self, [self.expr(node.args[0]), PythonConstant(declared)], {},
                             where)
        if (consumer in _GENERATOR_CONSUMERS and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.GeneratorExp)):
            return self.consume_generator(consumer, node.args[0], where)
        args = []
        for k, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                raise compile_error(_UNSUPPORTED_EXPRESSIONS[ast.Starred], self.where(a))
            if k == 0 and consumer in _LIST_CONSUMERS and isinstance(a, ast.GeneratorExp):
                a = ast.copy_location(ast.ListComp(elt=a.elt, generators=a.generators), a)
            args.append(self.expr(a))
        kwargs = {}
        for k in node.keywords:
            if k.arg is None:
                raise compile_error("**kwargs unpacking is not supported in jitcore.script; "
                                    "pass keyword arguments by name", self.where(k.value))
            kwargs[k.arg] = self.expr(k.value)
        return func.call(self, args, kwargs, where)

    # ------------------------------------------------------------ operators
    def _expr_BinOp(self, node):
        a, b = self.value(node.left), self.value(node.right)
        return ScriptValue(binary_op(self, node.op, a, b, self.where(node)))

    def _expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        constant = python_constant(operand)
        if isinstance(node.op, ast.Not) and isinstance(operand, PythonConstant) and isinstance(
                constant, bool):
            # `not hasattr(self, "x")`: still known when compiling, so an `if` on it
            # compiles only the branch that runs
            return PythonConstant(not constant)
        if isinstance(node.op, ast.USub) and isinstance(constant, (int, float)) and not isinstance(
                constant, bool):
            return ScriptValue(self.constant(-constant, self.where(node)))
        return ScriptValue(unary_op(self, node.op, operand.as_value(self, self.where(node)),
                                    self.where(node)))

    def _expr_BoolOp(self, node):
        where = self.where(node)
        is_and = isinstance(node.op, ast.And)
        first = self.expr(node.values[0])
        if isinstance(first, PythonConstant) and isinstance(first.value, bool):
            # a leading operand known when compiling (hasattr, isinstance): `False and ...`
            # is False and `True and y` is y, without compiling what does not run
            if first.value != is_and or len(node.values) == 1:
                return first
            rest = node.values[1:]
            return self.expr(rest[0] if len(rest) == 1 else ast.copy_location(
                ast.BoolOp(op=node.op, values=rest), rest[0]))
        result = self._bool_operand(node.values[0], first)
        narrowed = {}
        for index, operand in enumerate(node.values[1:], start=1):
            left = result
            # `n is not None and n > 2`: an operand runs only where the ones before it were
            # true (and) or false (or), with the types that narrows (TorchScript's rule)
            then_refined, else_refined = self.refinements(node.values[index - 1])
            narrowed = {**narrowed, **(then_refined if is_and else else_refined)}

            def right(operand=operand, narrowed=narrowed):
                parent = self.scope
                self.scope = parent.child()
                try:
                    self.apply_refinements(narrowed)
                    return self._bool_operand(operand)
                finally:
                    self.scope = parent

            false = lambda: self.constant(False, where)  # noqa: E731
            true = lambda: self.constant(True, where)  # noqa: E731
            if is_and:
                result = self.emit_if_expression(left, right, false, where)
            else:
                result = self.emit_if_expression(left, true, right, where)
        return ScriptValue(result)

    def _bool_operand(self, node, sugared=None):
        value = self.value(node) if sugared is None else sugared.as_value(self, self.where(node))
        if value.type != BoolType.get():
            raise compile_error(f"the operands of 'and'/'or' must be bool in jitcore.script, got "
                                f"{describe_type(value.type)} (Python would return the operand "
                                "itself); compare explicitly or use bool(...)", self.where(node))
        return value

    def _expr_Compare(self, node):
        where = self.where(node)
        operands = [node.left] + list(node.comparators)
        if len(node.ops) == 1:
            return ScriptValue(self.compare(node.ops[0], operands[0], operands[1], where))
        # a < b < c  is  a < b and b < c, with b evaluated once
        values = [self.value(operands[0])]
        result = None
        for i, op in enumerate(node.ops):
            def step(i=i, op=op):
                if len(values) <= i + 1:
                    values.append(self.value(operands[i + 1]))
                out = self.compare_values(op, values[i], values[i + 1], where)
                if out.type != BoolType.get():
                    raise compile_error("chained comparisons of arrays are ambiguous; combine "
                                        "array comparisons with &", where)
                return out
            if result is None:
                result = step()
            else:
                values.append(self.value(operands[i + 1]))
                result = self.emit_if_expression(result, step,
                                                 lambda: self.constant(False, where), where)
        return ScriptValue(result)

    def compare(self, op, left_node, right_node, where):
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(isinstance(op, ast.NotIn), left_node, right_node, where)
        if isinstance(op, (ast.Is, ast.IsNot)):
            return self.identity_test(op, self.expr(left_node), self.expr(right_node), where)
        return self.compare_values(op, self.value(left_node), self.value(right_node), where)

    def membership(self, negate, left_node, right_node, where):
        """``x in (a, b, c)``: ``x == a or x == b or x == c``, short-circuited as Python does.

        The right side must have a length known when compiling (a tuple, a list literal,
        a constant); ``x`` a scalar (for an array, Python's ``in`` is an elementwise
        test whose truth value is ambiguous).
        """
        left = self.value(left_node)
        if is_tensor(left):
            raise compile_error("'in' with an array on the left is not supported in "
                                "jitcore.script; compare with == and use .any()", where)
        right = self.expr(right_node)
        if isinstance(right, ScriptValue) and is_str(right.value):
            found = str_contains(self, left, right.value, where)
            return unary_op(self, ast.Not(), found, where) if negate else found
        items = self.static_items(right, where)
        if items is None and isinstance(right, ScriptValue) and (
                isinstance(right.value.type, ListType) or is_dict(right.value)):
            contains = dict_contains if is_dict(right.value) else list_contains
            found = contains(self, left, right.value, where)
            return unary_op(self, ast.Not(), found, where) if negate else found
        if items is None:
            raise compile_error("the 'in' operator in jitcore.script needs a tuple or list of "
                                "known length on the right (e.g. `x in (1, 2)`); for other "
                                "lists compare with == in a loop", where)

        def any_equal(k):
            if k == len(items):
                return self.constant(False, where)
            equal = compare_op(self, ast.Eq(), left, items[k].as_value(self, where), where)
            folded = _folded_bool(equal)
            if folded is not None:
                return self.constant(True, where) if folded else any_equal(k + 1)
            if k == len(items) - 1:
                return equal                # `e or False` is `e`
            return self.emit_if_expression(equal, lambda: self.constant(True, where),
                                           lambda: any_equal(k + 1), where)

        found = any_equal(0)
        if not negate:
            return found
        folded = _folded_bool(found)
        if folded is not None:
            return self.constant(not folded, where)
        return unary_op(self, ast.Not(), found, where)

    def compare_values(self, op, a, b, where):
        if isinstance(op, (ast.In, ast.NotIn)):
            raise compile_error("'in' inside a chained comparison is not supported in "
                                "jitcore.script; write it as a separate test", where)
        if isinstance(op, (ast.Is, ast.IsNot)):
            return self.identity_test(op, ScriptValue(a), ScriptValue(b), where)
        return compare_op(self, op, a, b, where)

    def identity_test(self, op, left, right, where):
        """``x is None`` / ``x is not None``: static unless ``x`` is Optional; ``a is b`` of
        two arrays: whether they are one array (the same data seen the same way)."""
        negate = isinstance(op, ast.IsNot)
        if isinstance(left, ScriptValue) and isinstance(right, ScriptValue) and is_tensor(
                left.value) and is_tensor(right.value):
            kind = "aten::__isnot__" if negate else "aten::__is__"
            return self.node(kind, [left.value, right.value], [BoolType.get()], where).output()
        if python_constant(right) is not None and python_constant(left) is None:
            left, right = right, left
        if python_constant(right) is not None or isinstance(right, PythonConstant) and \
                right.value is not None:
            raise compile_error("'is' / 'is not' are supported only against None", where)
        subject = left.as_value(self, where)
        t = subject.type
        if isinstance(t, OptionalType):
            none = self.constant(None, where)
            kind = "aten::__isnot__" if negate else "aten::__is__"
            return self.node(kind, [subject, none], [BoolType.get()], where).output()
        return self.constant((t == NoneType.get()) != negate, where)

    def _expr_IfExp(self, node):
        where = self.where(node)
        cond = self.condition(node.test)
        if isinstance(cond, bool):
            return self.expr(node.body if cond else node.orelse)
        then_refined, else_refined = self.refinements(node.test)
        return ScriptValue(self.emit_if_expression(
            cond, lambda: self._refined_value(node.body, then_refined),
            lambda: self._refined_value(node.orelse, else_refined), where))

    def _refined_value(self, node, refinements):
        """One side of ``a if x is not None else b``: ``x`` narrowed on that side only."""
        parent = self.scope
        self.scope = parent.child()
        try:
            self.apply_refinements(refinements)
            return self.value(node)
        finally:
            self.scope = parent

    # --------------------------------------------------------------- indexing
    def _expr_Subscript(self, node):
        where = self.where(node)
        # x.shape[i] is aten::size(x, i), as TorchScript's x.size(i)
        if (isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
                and not isinstance(node.slice, (ast.Slice, ast.Tuple))):
            base = self.expr(node.value.value)
            if isinstance(base, ScriptValue) and is_tensor(base.value):
                index = self.expr(node.slice)
                return self.emit_op_call("aten::size", [base, index], {}, where)
        base = self.expr(node.value)
        if not isinstance(base, ScriptValue):
            return base.getitem(self, self.expr(node.slice), where)
        t = base.value.type
        if isinstance(t, TensorType):
            return index_array(self, base, node.slice, where)
        if isinstance(t, ListType) and isinstance(node.slice, ast.Slice):
            return list_slice(self, base.value, self.slice_bounds(node.slice), where)
        if is_dict(base.value) and not isinstance(node.slice, ast.Slice):
            return dict_getitem(self, base.value, self.expr(node.slice), where)
        if is_str(base.value):
            if isinstance(node.slice, ast.Slice):
                return str_slice(self, base.value, self.slice_bounds(node.slice), where)
            return str_getitem(self, base.value, self.expr(node.slice), where)
        if isinstance(node.slice, ast.Slice) and isinstance(t, TupleType):
            return self._tuple_slice(base.value, node.slice, where)
        if isinstance(node.slice, ast.Slice):
            raise compile_error(f"slicing a {describe_type(t)} is not supported in jitcore.script; "
                                "index items one at a time", where)
        index = self.expr(node.slice)
        if isinstance(t, ListType):
            index_value = index.as_value(self, where)
            if index_value.type != IntType.get():
                raise compile_error(f"list indices must be int, got {describe_type(index_value.type)}",
                                    where)
            return self.emit_op_call("aten::__getitem__", [base, ScriptValue(index_value)], {},
                                     where, result_type=t.elem)
        if isinstance(t, TupleType):
            position = self.constant_int(index, where, "a tuple index")
            if not -len(t.elems) <= position < len(t.elems):
                raise compile_error(f"tuple index {position} is out of range for a tuple of "
                                    f"{len(t.elems)} items", where)
            position %= len(t.elems)
            return ScriptValue(self.node("prim::TupleIndex", [base.value, self.constant(
                position, where)], [t.elems[position]], where).output())
        raise compile_error(f"a value of type {describe_type(t)} cannot be indexed", where)

    def _tuple_slice(self, tuple_value, bounds, where):
        """``t[a:b:c]`` of a tuple with bounds known when compiling: a tuple of its items
        (a tuple's length and item types are static, so its slices must be too)."""
        constants = []
        for bound in (bounds.lower, bounds.upper, bounds.step):
            value = None if bound is None else python_constant(self.expr(bound))
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise compile_error("a tuple slice in jitcore.script takes bounds known when "
                                    "compiling (int literals or constants)", where)
            constants.append(value)
        if constants[2] == 0:
            raise compile_error("slice step cannot be zero", where)
        positions = range(len(tuple_value.type.elems))[slice(*constants)]
        return TupleOfValues([ScriptValue(self.node(
            "prim::TupleIndex", [tuple_value, self.constant(k, where)],
            [tuple_value.type.elems[k]], where).output()) for k in positions])

    # --------------------------------------------------------------- dicts
    def _expr_Dict(self, node):
        where = self.where(node)
        if any(key is None for key in node.keys):
            raise compile_error("**-unpacking in a dict literal is not supported in "
                                "jitcore.script; use d.update(other)", where)
        pairs = [(self.value(k), self.value(v)) for k, v in zip(node.keys, node.values)]
        return ScriptValue(dict_literal(self, pairs, where))

    def _expr_DictComp(self, node):
        """``{k: v for x in xs if c}``: an empty dict, then the loops that set its items."""
        where = self.where(node)
        if any(g.is_async for g in node.generators):
            raise compile_error("async comprehensions are not supported in jitcore.script", where)
        # the key type must be known before the first item: compile the loops with a
        # str-keyed dict, and re-type it from the first key (see dicts._value for values)
        located = lambda new, old: ast.copy_location(new, old)  # noqa: E731
        target = located(ast.Subscript(value=located(ast.Name(id="$comprehension",
                                                              ctx=ast.Load()), node.key),
                                       slice=node.key, ctx=ast.Store()), node.key)
        store = located(ast.Assign(targets=[target], value=node.value, lineno=node.lineno),
                        node)
        iterable = self.expr(node.generators[0].iter)
        result = new_dict(self, StrType.get(), TensorType.get(), where)
        return ScriptValue(self._comprehension_loop(node, iterable, result, store, where))

    # ----------------------------------------------------- comprehensions
    def _expr_ListComp(self, node):
        where = self.where(node)
        if any(g.is_async for g in node.generators):
            raise compile_error("async comprehensions are not supported in jitcore.script", where)
        generator = node.generators[0]
        iterable = self.expr(generator.iter)
        items = None
        if len(node.generators) == 1 and not generator.ifs:
            items = self.static_items(iterable, where)
        if items is None:
            result = self.list_construct([], TensorType.get(), where)
            located = lambda new, old: ast.copy_location(new, old)  # noqa: E731
            append = located(ast.Expr(value=located(ast.Call(
                func=located(ast.Attribute(value=located(ast.Name(
                    id="$comprehension", ctx=ast.Load()), node.elt), attr="append",
                    ctx=ast.Load()), node.elt),
                args=[node.elt], keywords=[]), node.elt)), node.elt)
            return ScriptValue(self._comprehension_loop(node, iterable, result, append, where))
        values = []
        for item in items:
            with self.comprehension_scope():
                self.assign_target(generator.target, item, where)
                values.append(self.value(node.elt))
        if not values:
            return ScriptValue(self.list_construct([], TensorType.get(), where))
        elem = values[0].type
        for v in values[1:]:
            elem = unify_types(elem, v.type) or elem
        return ScriptValue(self.list_construct(values, TensorType.get() if isinstance(
            elem, TensorType) else elem, where))

    def _comprehension_loop(self, node, iterable, result, store, where):
        """A comprehension as Python runs it: an empty ``result``, then loops that run ``store``.

        ``iterable`` is the first generator's, already evaluated; ``store`` adds one item to
        ``$comprehension`` (the result), whose item type is the type of the first item
        compiled (see ``lists._item``, ``dicts.dict_set_item``).
        """
        self.untyped_lists.add(result)
        located = lambda new, old: ast.copy_location(new, old)  # noqa: E731
        body = [store]
        for k, generator in reversed(list(enumerate(node.generators))):
            for test in reversed(generator.ifs):
                body = [located(ast.If(test=test, body=body, orelse=[]), test)]
            source = located(ast.Name(id="$iterable", ctx=ast.Load()), generator.iter) \
                if k == 0 else generator.iter
            body = [located(ast.For(target=generator.target, iter=source, body=body, orelse=[],
                                    type_comment=None), node)]
        with self.comprehension_scope():
            self.scope.bind("$comprehension", ScriptValue(result))
            self.scope.bind("$iterable", iterable)
            self.emit_block(body)
        self.untyped_lists.discard(result)
        return result

    def _scan_loop(self, deciding, node, generator, iterable, where):
        """``any``/``all`` of a generator over a sequence of run-time length: a loop that
        stops at the first item equal to ``deciding`` (True for any), so the items after it
        are not evaluated, as in Python."""
        located = lambda new, old: ast.copy_location(new, old)  # noqa: E731
        test = node.elt if deciding else located(ast.UnaryOp(op=ast.Not(), operand=node.elt),
                                                 node.elt)
        result = located(ast.Name(id="$scan", ctx=ast.Store()), node)
        body = [located(ast.If(test=test, body=[
            located(ast.Assign(targets=[result], value=located(ast.Constant(value=deciding),
                                                              node), type_comment=None), node),
            located(ast.Break(), node)], orelse=[]), node.elt)]
        for test in reversed(generator.ifs):
            body = [located(ast.If(test=test, body=body, orelse=[]), test)]
        loop = located(ast.For(target=generator.target,
                               iter=located(ast.Name(id="$iterable", ctx=ast.Load()),
                                            generator.iter),
                               body=body, orelse=[], type_comment=None), node)
        with self.comprehension_scope():
            self.scope.bind("$scan", ScriptValue(self.constant(not deciding, where)))
            self.scope.bind("$iterable", iterable)
            self.emit_block([loop])
            return self.scope.lookup("$scan")

    def consume_generator(self, consumer, node, where):
        """``all(...)``, ``any(...)`` or ``tuple(...)`` of a generator expression over a
        sequence of known length.

        ``tuple`` evaluates every item, as Python does.  ``all``/``any`` evaluate item
        ``k + 1`` only in the branch where item ``k`` did not decide the result, so the
        items Python would not evaluate are not evaluated here either.
        """
        generator = node.generators[0] if len(node.generators) == 1 else None
        if generator is None or generator.is_async:
            raise compile_error("only generator expressions with one `for` are supported in "
                                f"{consumer.__name__}() in jitcore.script", where)
        iterable = self.expr(generator.iter)
        items = None if generator.ifs else self.static_items(iterable, where)
        if items is None:
            if consumer is tuple:
                raise compile_error("tuple() of a generator in jitcore.script iterates over a "
                                    "tuple, a ModuleList or a list literal of known length "
                                    "(a tuple's length is static); use a list comprehension",
                                    where)
            return self._scan_loop(consumer is any, node, generator, iterable, where)

        def element(k):
            with self.comprehension_scope():
                self.assign_target(generator.target, items[k], where)
                return self.expr(node.elt)

        if consumer is tuple:
            return TupleOfValues([element(k) for k in range(len(items))])
        deciding = consumer is any          # the item value that ends the scan

        def scan(k):
            if k == len(items):
                return self.constant(not deciding, where)
            value = element(k).as_value(self, where)
            if value.type != BoolType.get():
                raise compile_error(f"{consumer.__name__}() items must be bool in jitcore.script, "
                                    f"got {describe_type(value.type)}; compare explicitly", where)
            folded = _folded_bool(value)
            if folded is not None:
                return self.constant(deciding, where) if folded == deciding else scan(k + 1)
            stop = lambda: self.constant(deciding, where)  # noqa: E731
            go_on = lambda: scan(k + 1)  # noqa: E731
            return self.emit_if_expression(value, stop if deciding else go_on,
                                           go_on if deciding else stop, where)

        return ScriptValue(scan(0))

    def static_items(self, iterable, where):
        """The items of an iterable whose length is known at compile time, else None."""
        if isinstance(iterable, ScriptValue):
            node = iterable.value.node
            if node.kind == "prim::ListConstruct" and self.literal_unchanged(iterable.value):
                return [ScriptValue(v) for v in node.inputs]
            if isinstance(iterable.value.type, TupleType):
                return [ScriptValue(v) for v in self.unpack(iterable.value, len(
                    iterable.value.type.elems), where)]
            return None
        if iterable.static_length() is not None:
            return iterable.iterate(self, where)
        return None

    def literal_unchanged(self, value):
        """True if the items of list literal ``value`` are certainly still its items here.

        Not if anything may have written the list (or may write it and then come back
        here: a loop between its definition and this point), or if it was handed to
        anything that could keep another name for it (a container, a call).
        """
        for use in value.uses:
            kind = use.user.kind
            if kind in _ITEM_READS:
                continue
            if not ops.is_registered(kind) or ops.effect(kind) not in (Effect.PURE, Effect.RANDOM) \
                    or ops.output_alias(kind) is OutputAlias.CONTAINS:
                return False
        point = self.graph.insert_point
        block = point if isinstance(point, Block) else point.owning_block
        home = value.node.owning_block
        while block is not home:
            owner = block.owning_node
            if owner is None or owner.kind == "prim::Loop":
                return False
            block = owner.owning_block
        return True

    def slice_bounds(self, node):
        """``(start, stop, step)`` of a slice of a list: int values, or None where left out."""
        bounds = []
        for part in (node.lower, node.upper, node.step):
            if part is None:
                bounds.append(None)
                continue
            value = self.value(part)
            if value.type not in (IntType.get(), NoneType.get()):
                raise compile_error(f"slice indices must be int or None, got "
                                    f"{describe_type(value.type)}", self.where(part))
            bounds.append(value)
        return tuple(bounds)

    def unpack(self, value, count, where):
        """The items of a tuple or list value (``prim::TupleUnpack`` / ``prim::ListUnpack``)."""
        t = value.type
        if isinstance(t, TupleType):
            if len(t.elems) != count:
                raise compile_error(f"cannot unpack a tuple of {len(t.elems)} items into "
                                    f"{count} targets", where)
            return list(self.node("prim::TupleUnpack", [value], list(t.elems), where).outputs)
        if isinstance(t, ListType):
            return list(self.node("prim::ListUnpack", [value], [t.elem] * count, where).outputs)
        raise compile_error(f"cannot unpack a value of type {describe_type(t)}", where)

    @contextlib.contextmanager
    def comprehension_scope(self):
        """A scope for a comprehension's variable: it is not visible after the comprehension."""
        parent = self.scope
        self.scope = parent.child()
        try:
            yield
        finally:
            self.scope = parent

    # -------------------------------------------------------------- helpers
    def condition(self, node):
        """The test of an if/while/ternary: a Python bool when known at compile time, else an IR bool."""
        sugared = self.expr(node)
        constant = python_constant(sugared)
        if isinstance(constant, bool) and isinstance(sugared, PythonConstant):
            return constant
        value = sugared.as_value(self, self.where(node))
        folded = _folded_bool(value)
        if folded is not None:
            return folded
        return truth_value(self, value, self.where(node))


def _uninitialized(ctx, args, kwargs, where):
    target = getattr(args[0], "python_object", None) or getattr(args[0], "value", None) \
        if len(args) == 1 else None
    jit_type = target if isinstance(target, JitType) else type_from_python_object(target)
    if jit_type is None or kwargs:
        raise compile_error("uninitialized() takes one type, e.g. uninitialized(Tensor)", where)
    return ScriptValue(ctx.uninitialized(jit_type, where))


def _unchecked_cast(ctx, args, kwargs, where):
    # the type comes read as an annotation (see _expr_Call): a PythonConstant of a JitType
    jit_type = args[0].value if len(args) == 2 and isinstance(args[0], PythonConstant) else None
    if not isinstance(jit_type, JitType) or kwargs:
        raise compile_error("unchecked_cast() takes a type and a value, e.g. "
                            "unchecked_cast(int, x)", where)
    value = args[1].as_value(ctx, where)
    if not jit_type.is_subtype_of(value.type):
        raise compile_error(f"unchecked_cast() narrows a value to one of its types; "
                            f"{describe_type(jit_type)} is not a {describe_type(value.type)}",
                            where)
    return ScriptValue(ctx.node("prim::unchecked_cast", [value], [jit_type], where).output())


def _folded_bool(value):
    """A bool constant produced by a static ``is None`` test, so dead branches are not compiled."""
    node = value.node
    if node.kind == "prim::Constant" and value.type == BoolType.get() and node.has_attr("value"):
        return node.attr("value")
    return None

