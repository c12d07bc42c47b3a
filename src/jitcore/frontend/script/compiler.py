"""Compiling a function's statements into a graph whose control flow stays structured.

``if`` becomes ``prim::If`` with two blocks, ``for``/``while`` become ``prim::Loop``;
variables assigned in branches or loop bodies become block outputs (SSA form).

Early exits (``return`` anywhere, ``break``, ``continue``) are lowered as TorchScript's
exit transform does: a statement that *may* exit sets flag variables (``$exit``,
``$stop``, ``$ret`` and the value ``$retval``), and the statements after it run in the
false branch of ``prim::If($exit)``; a loop's condition output is ``not $stop``.  The
flags are ordinary variables joined at every ``if``, and a flag whose value is the same
constant on both sides is folded, so ``if c: return a else: return b`` is one
``prim::If`` with one output, exactly as TorchScript prints it.
"""

import ast

from jitcore._runtime.types import DictType, IntType, ListType, NoneType, StrType, TensorType
from jitcore.passes.graph_queries import defined_inside

from .annotations import type_from_annotation
from jitcore.decorators import is_ignored

from .environment import (
    ALWAYS, DIVERGE, EXIT, MAYBE, NEVER, RETURNED, RETVAL, STOP, Scope, Undefined, unify_types,
)
from .errors import compile_error, describe_type
from .expressions import ExpressionCompiler
from .dicts import dict_delete, dict_getitem, dict_literal, dict_set_item, is_dict, new_dict
from .lists import list_delete, list_method, list_set_item
from .strings import numbered_fields
from .loops import LoopCompiler
from .modules import ModuleValue, constant_attribute_names
from .builtins import isinstance_narrowing
from .indexing import index_target
from .operators import binary_op, inplace_op
from .values import ScriptValue, TupleOfValues

__all__ = ["FunctionCompiler"]

_UNSUPPORTED_STATEMENTS = {
    ast.Try: "try/except is not supported in jitcore.script; check conditions with if and "
             "raise explicitly",
    ast.With: "with statements are not supported in jitcore.script; do the setup outside the "
              "compiled function",
    ast.AsyncWith: "async with is not supported in jitcore.script",
    ast.AsyncFor: "async for is not supported in jitcore.script; use a for loop",
    ast.Global: "global statements are not supported in jitcore.script; pass the value as an "
                "argument or make it a module attribute",
    ast.Nonlocal: "nonlocal statements are not supported in jitcore.script (closures over "
                  "mutable state); pass the value as an argument and return the new one",
    ast.FunctionDef: "nested function definitions are not supported in jitcore.script; define "
                     "the function at module level and call it",
    ast.AsyncFunctionDef: "nested async functions are not supported in jitcore.script",
    ast.ClassDef: "class definitions inside a scripted function are not supported; define "
                  "the class at module level",
    ast.Import: "import statements are not supported inside jitcore.script functions; import "
                "at module level",
    ast.ImportFrom: "import statements are not supported inside jitcore.script functions; "
                    "import at module level",
}
if hasattr(ast, "Match"):
    _UNSUPPORTED_STATEMENTS[ast.Match] = ("match statements are not supported in jitcore.script; "
                                          "use if/elif")
if hasattr(ast, "TryStar"):
    _UNSUPPORTED_STATEMENTS[ast.TryStar] = _UNSUPPORTED_STATEMENTS[ast.Try]

_EXCEPTIONS = {e.__name__ for e in (AssertionError, ValueError, RuntimeError, TypeError,
                                     IndexError, KeyError, NotImplementedError,
                                     ZeroDivisionError, Exception)}


_OPERATOR_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
                     ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&",
                     ast.BitOr: "|", ast.BitXor: "^"}


def combine(a, b):
    """The exit state of an ``if`` whose branches leave as ``a`` and ``b``."""
    if a == DIVERGE:
        return b
    if b == DIVERGE:
        return a
    return a if a == b else MAYBE


class FunctionCompiler(LoopCompiler, ExpressionCompiler):
    """Compiles one function (or method) into ``self.graph``.

    Parameters
    ----------
    unit : CompilationUnit
        Where called functions and methods are compiled and kept.
    source : FunctionSource
    graph : Graph
    """

    def __init__(self, unit, source, graph):
        super().__init__(graph)
        self.unit = unit
        self.source = source
        self.fn = source.fn
        self.globals = getattr(self.fn, "__globals__", {}) if self.fn is not None else {}
        self.scope = Scope()
        self.loop_depth = 0
        self.return_annotation = None

    def closure_values(self):
        """The values of the function's free variables (closure cells)."""
        fn = self.fn
        if fn is None or not getattr(fn, "__closure__", None):
            return {}
        values = {}
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                values[name] = cell.cell_contents
            except ValueError:
                continue
        return values

    def python_op_from_code(self, args, attrs, where):
        """``ops.prim.PythonOp(x, name="helper")`` (as ``.code`` prints an ignored call): the
        call of the ``@jitcore.ignore`` function ``helper`` of this function's globals."""
        name = attrs.get("name")
        fn = self.globals.get(name) if isinstance(name, str) else None
        if fn is None or not is_ignored(fn):
            raise compile_error(f"prim::PythonOp calls {name!r}, which is not an @jitcore.ignore "
                                "function in scope here; define or import it under that name",
                                where)
        return self.unit.call_function(self, fn, list(args), {}, where)

    def call_function(self, fn, args, kwargs, where):
        """A call of a Python function: compiled once, emitted as ``prim::CallFunction``."""
        return self.unit.call_function(self, fn, args, kwargs, where)

    # ------------------------------------------------------------ the body
    def compile_body(self, statements, declared_return=None):
        """Emit the function body and register its return value as the graph output."""
        self.return_annotation = declared_return
        false = self.constant(False)
        self.scope.bind(EXIT, ScriptValue(false))
        self.scope.bind(RETURNED, ScriptValue(false))
        body = _without_docstring(statements)
        if not body or not isinstance(body[-1], (ast.Return, ast.Raise)):
            implicit = ast.Return(value=None)
            last = body[-1] if body else self.source.definition
            ast.copy_location(implicit, last)
            implicit.end_lineno, implicit.end_col_offset = last.lineno, last.col_offset + 1
            body = body + [implicit]
        state = self.emit_block(body)
        if state == DIVERGE or self.scope.lookup(RETVAL) is None:
            result = self.uninitialized(declared_return or NoneType.get())
        else:
            result = self.scope.lookup(RETVAL).as_value(self, None)
        if declared_return is not None and not result.type.is_subtype_of(declared_return) \
                and result not in self.dont_care:
            raise compile_error(f"{self.source.name} is annotated to return "
                                f"{describe_type(declared_return)} but returns "
                                f"{describe_type(result.type)}",
                                self.source.range_of(self.source.definition))
        self.graph.register_output(result)

    # ----------------------------------------------------------- statements
    def emit_block(self, statements):
        """Emit statements in order; returns how the block leaves (NEVER/MAYBE/ALWAYS/DIVERGE)."""
        for i, statement in enumerate(statements):
            state = self.emit_statement(statement)
            if state in (ALWAYS, DIVERGE):
                return state
            if state == MAYBE and i + 1 < len(statements):
                rest = statements[i + 1:]
                return self.emit_guarded(lambda: self.emit_block(rest), self.where(rest[0]))
            if state == MAYBE:
                return MAYBE
        return NEVER

    def emit_guarded(self, emit_rest, where):
        """Run ``emit_rest`` only if no exit happened: ``prim::If($exit)`` with the rest in block1."""
        flag = self.scope.lookup(EXIT).as_value(self, where)
        return self.emit_if(flag, lambda: ALWAYS, emit_rest, where)

    def emit_statement(self, node):
        handler = getattr(self, "_stmt_" + type(node).__name__, None)
        if handler is None:
            message = _UNSUPPORTED_STATEMENTS.get(
                type(node), f"{type(node).__name__} statements are not supported in jitcore.script")
            raise compile_error(message, self.source.first_line_range(node))
        return handler(node)

    def _stmt_Pass(self, node):
        return NEVER

    def _stmt_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return NEVER  # a string statement is a comment
        self.expr(node.value)
        return NEVER

    def _stmt_Assign(self, node):
        if isinstance(node.value, ast.GeneratorExp) and all(
                isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
            # `a, b = (f(t) for t in (x, y))` is consumed at once: evaluating it eagerly,
            # as a list comprehension, gives the same values
            value = self._expr_ListComp(node.value)
        else:
            value = self.expr(node.value)
        for target in node.targets:
            self.assign_target(target, value, self.where(node))
        return NEVER

    def _stmt_AnnAssign(self, node):
        where = self.where(node)
        if not isinstance(node.target, ast.Name):
            raise compile_error("annotated assignments are supported on plain names only", where)
        declared = type_from_annotation(node.annotation, self.source, self.globals)
        if node.value is None:
            raise compile_error(f"the annotated variable {node.target.id!r} needs a value in "
                                "jitcore.script", where)
        value = self._annotated_value(node.value, declared, where)
        if not value.type.is_subtype_of(declared):
            raise compile_error(f"variable {node.target.id!r} is annotated as "
                                f"{describe_type(declared)} but is assigned a value of type "
                                f"{describe_type(value.type)}", where)
        # the variable keeps the declared (wider) type where paths join: see join()
        self.scope.declared[node.target.id] = declared
        self.bind_name(node.target.id, ScriptValue(value), where)
        return NEVER

    def _annotated_value(self, node, declared, where):
        """The value of ``node`` assigned to a name annotated ``declared``: an empty list or
        dict literal, also as an item of a list or dict display, takes the annotation's
        type (``d: Dict[str, List[int]] = {"a": []}``), as TorchScript's type hints do."""
        if isinstance(node, ast.List) and not node.elts:
            if not hasattr(declared, "elem"):
                raise compile_error(f"an empty list cannot be {describe_type(declared)}", where)
            return self.list_construct([], declared.elem, where)
        if isinstance(node, ast.Dict) and not node.keys:
            if not isinstance(declared, DictType):
                raise compile_error(f"an empty dict cannot be {describe_type(declared)}", where)
            return new_dict(self, declared.key, declared.value, where)
        if isinstance(node, ast.List) and isinstance(declared, ListType) \
                and any(_is_empty_display(e) for e in node.elts):
            items = [self._annotated_value(e, declared.elem, where) for e in node.elts]
            return self.list_construct(items, declared.elem, where)
        if isinstance(node, ast.Dict) and isinstance(declared, DictType) \
                and None not in node.keys and any(_is_empty_display(v) for v in node.values):
            pairs = [(self.value(k), self._annotated_value(v, declared.value, where))
                     for k, v in zip(node.keys, node.values)]
            return dict_literal(self, pairs, where)
        return self.value(node)

    def _stmt_AugAssign(self, node):
        where = self.where(node)
        base = self._subscript_base(node.target)
        if base is not None and isinstance(base.type, TensorType):
            self._update_array_item(base, node.target, node.op, node.value, where)
            return NEVER
        if base is not None and not isinstance(node.target.slice, ast.Slice):
            # xs[i] += v  is  xs[i] = xs[i] + v, with xs and i evaluated once
            index = self.expr(node.target.slice)
            if is_dict(base):
                current = dict_getitem(self, base, index, where).value
            else:
                current = self.emit_op_call("aten::__getitem__", [ScriptValue(base), index], {},
                                            where, result_type=base.type.elem).value
            result = self._augmented(node.op, current, node.value, where)
            self._set_item(base, index, ScriptValue(result), where)
            return NEVER
        if isinstance(node.target, ast.Attribute):
            current = self.value(node.target)
            if isinstance(current.type, TensorType):
                # self.buf += x writes the module's array in place; the store is a no-op
                inplace_op(self, node.op, current, self.value(node.value), where)
                return NEVER
        if not isinstance(node.target, ast.Name):
            what = ("list slices (xs[a:b] += ...)" if isinstance(node.target, ast.Subscript)
                    else "attributes (self.x += ...)")
            raise compile_error(f"in-place updates of {what} are not supported in jitcore.script; "
                                "compute a new value and assign it to a variable", where)
        current = self.value(ast.copy_location(ast.Name(id=node.target.id, ctx=ast.Load()),
                                               node.target))
        result = self._augmented(node.op, current, node.value, where)
        if result is not current:
            self.bind_name(node.target.id, ScriptValue(result), where)
        return NEVER

    def _augmented(self, op, current, value_node, where):
        """``current <op>= value`` as Python's ``__iadd__`` & co.: arrays (NumPy) and lists
        (``+=``, ``*=``) change in place, so every other name for them, a list item or
        another list holding them included, sees the change; numbers and strings give a
        new value.  Returns the value the target is then bound to."""
        if isinstance(current.type, ListType) and isinstance(op, (ast.Add, ast.Mult)):
            if isinstance(op, ast.Add):
                list_method(ScriptValue(current), "extend").call(
                    self, [self.expr(value_node)], {}, where)
            else:
                repeated = binary_op(self, op, current, self.value(value_node), where)
                self.emit_op_call("aten::clear", [ScriptValue(current)], {}, where)
                self.emit_op_call("aten::extend", [ScriptValue(current), ScriptValue(repeated)],
                                  {}, where)
            return current
        if isinstance(current.type, TensorType):
            return inplace_op(self, op, current, self.value(value_node), where)
        return binary_op(self, op, current, self.value(value_node), where)

    def assign_target(self, target, value, where):
        """Bind an assignment target (name, tuple/list of targets) to a sugared value."""
        if isinstance(target, ast.Name):
            self.bind_name(target.id, value, where)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(t, ast.Starred) for t in target.elts):
                raise compile_error("starred assignment (a, *rest = ...) is not supported in "
                                    "jitcore.script", self.where(target))
            if isinstance(value, TupleOfValues):
                items = value.items
                if len(items) != len(target.elts):
                    raise compile_error(f"cannot unpack {len(items)} values into "
                                        f"{len(target.elts)} targets", where)
            elif hasattr(value, "unpacked"):        # a value that takes any number of targets
                items = value.unpacked(self, len(target.elts), where)
            else:
                items = [ScriptValue(v) for v in self.unpack(
                    value.as_value(self, where), len(target.elts), where)]
            for t, item in zip(target.elts, items):
                self.assign_target(t, item, where)
            return
        base = self._subscript_base(target)
        if base is not None and isinstance(base.type, TensorType):
            self._assign_array_item(base, target, value, where)
            return
        if base is not None and not isinstance(target.slice, ast.Slice):
            self._set_item(base, self.expr(target.slice), value, where)
            return
        if isinstance(target, ast.Subscript):
            raise compile_error("item assignment (x[i] = v) is supported on lists, dicts and "
                                "arrays in jitcore.script, not on this value (or not with a "
                                "slice, on a list)", self.where(target))
        if isinstance(target, ast.Attribute):
            raise compile_error("assigning attributes (self.x = v) is not supported in "
                                "jitcore.script; return the new value instead", self.where(target))
        raise compile_error(f"cannot assign to {type(target).__name__}", self.where(target))

    def _assign_array_item(self, array, target, value, where):
        """``x[index] = value``: cast and broadcast into ``x`` as NumPy's item assignment."""
        indices, view = index_target(self, ScriptValue(array), target.slice, where)
        value = value.as_value(self, where)
        is_number = value.type.kind in ("int", "float", "bool")
        if not (isinstance(value.type, TensorType) or is_number):
            raise compile_error(f"cannot assign {describe_type(value.type)} into an array "
                                "item; assign an array or a number", where)
        if indices is None:
            kind = "aten::fill_" if is_number else "aten::copy_"
            self.emit_op_call(kind, [view, ScriptValue(value)], {}, where)
            return
        if is_number:
            # index_put_ takes its values as an array: a 0-d one, cast into x as NumPy does
            no_dims = self.list_construct([], IntType.get(), where)
            value = self.emit_op_call("aten::full", [ScriptValue(no_dims), ScriptValue(value)],
                                      {}, where).value
        self.emit_op_call("aten::index_put_", [ScriptValue(array), ScriptValue(indices),
                                               ScriptValue(value)], {}, where)

    def _update_array_item(self, array, target, op, value_node, where):
        """``x[index] <op>= value``: NumPy's ``x[index] = x[index].__i<op>__(value)``; with
        basic indexing that updates the view of ``x`` in place and the store is a no-op."""
        indices, view = index_target(self, ScriptValue(array), target.slice, where)
        if indices is None:
            inplace_op(self, op, view.value, self.value(value_node), where)
            return
        current = self.emit_op_call("aten::index", [ScriptValue(array), ScriptValue(indices)],
                                    {}, where).value
        updated = inplace_op(self, op, current, self.value(value_node), where)
        self.emit_op_call("aten::index_put_", [ScriptValue(array), ScriptValue(indices),
                                               ScriptValue(updated)], {}, where)

    def _set_item(self, container, index, value, where):
        setter = dict_set_item if is_dict(container) else list_set_item
        setter(self, container, index, value, where)

    def _subscript_base(self, target):
        """The value ``x`` of a target ``x[...]`` when it is an array, a list or a dict, else None.

        ``x`` is evaluated here, once; for a target that is not a subscript of a name,
        attribute or subscript nothing is evaluated, so the caller's error names the
        right thing.
        """
        if not isinstance(target, ast.Subscript):
            return None
        if not isinstance(target.value, (ast.Name, ast.Subscript, ast.Attribute)):
            return None
        base = self.expr(target.value)
        if isinstance(base, ScriptValue) and (isinstance(base.value.type, (TensorType, ListType))
                                              or is_dict(base.value)):
            return base.value
        return None

    def _stmt_Delete(self, node):
        for target in node.targets:
            where = self.where(target)
            base = self._subscript_base(target)
            if base is not None and not isinstance(base.type, TensorType) and \
                    not isinstance(target.slice, ast.Slice):
                deleter = dict_delete if is_dict(base) else list_delete
                deleter(self, base, self.expr(target.slice), where)
                continue
            raise compile_error("del is supported on list items only in jitcore.script "
                                "(del xs[i]); let a variable go out of use instead", where)
        return NEVER

    def bind_name(self, name, value, where):
        if isinstance(value, TupleOfValues) and all(
                isinstance(i, ScriptValue) for i in value.items):
            value = ScriptValue(value.as_value(self, where))
        declared = self.scope.declared_type(name)
        if declared is not None and isinstance(value, ScriptValue):
            if not value.value.type.is_subtype_of(declared):
                raise compile_error(f"variable {name!r} is declared as {describe_type(declared)} "
                                    f"but is assigned a value of type "
                                    f"{describe_type(value.value.type)}", where)
        if isinstance(value, ScriptValue) and not value.value.has_debug_name() \
                and not name.startswith("$") and value.value.node.kind != "prim::Constant":
            value.value.set_debug_name(name)
        self.scope.bind(name, value)

    # ------------------------------------------------------------------- if
    def _stmt_If(self, node):
        where = self.where(node)
        cond = self.condition(node.test)
        if isinstance(cond, bool):
            # a condition known when compiling (isinstance, `is None` on a non-Optional):
            # only the branch that runs is compiled, as TorchScript does
            return self.emit_block(node.body if cond else node.orelse)
        then_refined, else_refined = self.refinements(node.test)
        return self.emit_if(cond, lambda: self._branch(node.body, then_refined),
                            lambda: self._branch(node.orelse, else_refined), where,
                            refinements=(then_refined, else_refined))

    def _branch(self, statements, refinements):
        self.apply_refinements(refinements)
        return self.emit_block(statements)

    def apply_refinements(self, refinements):
        """Rebind narrowed variables to ``prim::unchecked_cast`` values of the narrow type."""
        for name, jit_type in refinements.items():
            bound = self.scope.lookup(name)
            if isinstance(bound, ScriptValue):
                cast = self.node("prim::unchecked_cast", [bound.value], [jit_type], None).output()
                self.scope.refine(name, ScriptValue(cast))

    def refinements(self, test):
        """Types narrowed by ``x is None`` / ``x is not None`` / ``isinstance(x, T)`` (also
        inside ``and``, ``or``, ``not``) in the true and false branches."""
        then_refined, else_refined = {}, {}
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(
                test.left, ast.Name) and isinstance(test.comparators[0], ast.Constant) \
                and test.comparators[0].value is None:
            bound = self.scope.lookup(test.left.id)
            t = bound.value.type if isinstance(bound, ScriptValue) else None
            if t is not None and t.kind == "Optional":
                if isinstance(test.ops[0], ast.IsNot):
                    then_refined[test.left.id] = t.elem
                elif isinstance(test.ops[0], ast.Is):
                    else_refined[test.left.id] = t.elem
        elif (narrowing := isinstance_narrowing(self, test)) is not None:
            name, when_true, when_false = narrowing
            for refined, narrowed in ((then_refined, when_true), (else_refined, when_false)):
                if narrowed is not None:
                    refined[name] = narrowed
        elif isinstance(test, ast.BoolOp):
            # every operand of a true `and` is true; every operand of a false `or` is false
            index = 0 if isinstance(test.op, ast.And) else 1
            for operand in test.values:
                (then_refined, else_refined)[index].update(self.refinements(operand)[index])
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            else_refined, then_refined = self.refinements(test.operand)
        return then_refined, else_refined

    def emit_if(self, cond, emit_then, emit_else, where, refinements=None):
        """Emit ``prim::If(cond)``; each ``emit_*`` emits its branch and returns its exit state.

        ``refinements`` (types narrowed in the true and false branch) also hold after the
        ``if`` when the other branch always leaves (``if x is None: return``).
        """
        node = self.node("prim::If", [cond], [], where)
        scopes, states, blocks = [], [], []
        parent = self.scope
        for emit in (emit_then, emit_else):
            block = node.add_block()
            self.scope = parent.child()
            try:
                with self.graph.inserting_at_end(block):
                    states.append(emit())
            finally:
                scopes.append(self.scope)
                self.scope = parent
            blocks.append(block)
        self.join(node, blocks, scopes, states, where)
        if refinements is not None:
            left = [state in (ALWAYS, DIVERGE) for state in states]
            if left[0] and not left[1]:
                self.apply_refinements(refinements[1])
            elif left[1] and not left[0]:
                self.apply_refinements(refinements[0])
        return combine(*states)

    def emit_if_expression(self, cond, then_value, else_value, where):
        """``then_value() if cond else else_value()`` as a one-output ``prim::If``; returns the value."""
        node = self.node("prim::If", [cond], [], where)
        results = []
        for fn in (then_value, else_value):
            block = node.add_block()
            with self.graph.inserting_at_end(block):
                results.append(fn())
        joined = unify_types(results[0].type, results[1].type)
        if joined is None:
            raise compile_error(f"the two sides of a conditional have different types: "
                                f"{describe_type(results[0].type)} and "
                                f"{describe_type(results[1].type)}", where)
        for block, value in zip(node.blocks, results):
            block.register_output(value)
        return node.add_output(joined)

    def join(self, node, blocks, scopes, states, where):
        """Turn the variables the branches bound into ``node``'s outputs (SSA join)."""
        parent = self.scope
        if states[0] == DIVERGE and states[1] == DIVERGE:
            return
        names = list(dict.fromkeys(list(scopes[0].assigned) + list(scopes[1].assigned)))
        for name in names:
            sides = []
            for scope, state in zip(scopes, states):
                if state == DIVERGE:
                    sides.append(None)
                    continue
                # a branch that does not assign the name keeps its refinement there:
                # `if x is None: x = 0` leaves an int on both paths
                bound = scope.assigned[name] if name in scope.assigned else scope.lookup(name)
                if bound is None or isinstance(bound, Undefined):
                    if state == ALWAYS or name.startswith("$"):
                        # the path has left, or an exit variable ($retval) that is read only
                        # after an exit happened: the value on this path is never read
                        sides.append(None)
                        continue
                    which = "false" if scope is scopes[1] else "true"
                    parent.bind(name, Undefined(name, f"{name!r} is not defined in the {which} "
                                                      f"branch of the if"
                                                      + (f" at line {where.line}" if where else "")
                                                      + "; assign it in both branches"))
                    break
                sides.append(bound)
            else:
                self._join_name(node, blocks, name, sides, where)

    def _join_name(self, node, blocks, name, sides, where):
        present = [s for s in sides if s is not None]
        if not present:
            return
        if not all(isinstance(s, ScriptValue) for s in present):
            first = present[0]
            if all(s is first for s in present):
                self.scope.bind(name, first)
                return
            raise compile_error(f"{name!r} is assigned different modules or functions in the "
                                "branches of an if; jitcore.script needs one static value", where)
        values = [s.value for s in present]
        if len(present) == 2 and values[0] is values[1] and not defined_inside(values[0], node):
            self.scope.bind(name, present[0])
            return
        constants = {_constant_key(v) for v in values}
        if len(present) == 2 and len(constants) == 1 and None not in constants:
            value = values[0].node.attr("value") if values[0].node.has_attr("value") else None
            self.scope.bind(name, ScriptValue(self.constant(value, where)))
            return
        real = [v for v in values if v not in self.dont_care]
        joined = real[0].type if real else values[0].type
        for v in real[1:]:
            unified = unify_types(joined, v.type)
            if unified is None:
                raise compile_error(f"variable {name!r} is {describe_type(real[0].type)} in one "
                                    f"branch of the if and {describe_type(v.type)} in the other; "
                                    "a variable keeps one type in jitcore.script", where)
            joined = unified
        declared = self.scope.declared_type(name)
        if declared is not None:
            joined = declared
        output = node.add_output(joined)
        if not real:
            self.dont_care.add(output)
        for block, side in zip(blocks, sides):
            if side is None:
                with self.graph.inserting_at_end(block):
                    value = self.uninitialized(joined)
            else:
                value = side.value
                if value in self.dont_care and value.node.kind == "prim::Uninitialized":
                    value.set_type(joined)
            block.register_output(value)
        if not name.startswith("$"):
            output.set_debug_name(name)
        self.scope.bind(name, ScriptValue(output))

    # ------------------------------------------------------------ exits
    def _stmt_Return(self, node):
        where = self.where(node)
        if node.value is None:
            value = self.constant(None, where)
        else:
            value = self.value(node.value)
        true = ScriptValue(self.constant(True, where))
        self.scope.bind(RETVAL, ScriptValue(value))
        self.scope.bind(RETURNED, true)
        self.scope.bind(EXIT, true)
        if self.loop_depth:
            self.scope.bind(STOP, true)
        return ALWAYS

    def _stmt_Break(self, node):
        true = ScriptValue(self.constant(True, self.where(node)))
        self.scope.bind(EXIT, true)
        self.scope.bind(STOP, true)
        return ALWAYS

    def _stmt_Continue(self, node):
        self.scope.bind(EXIT, ScriptValue(self.constant(True, self.where(node))))
        return ALWAYS

    def _stmt_Raise(self, node):
        where = self.where(node)
        if node.exc is None:
            raise compile_error("a bare raise (re-raise) is not supported in jitcore.script; raise "
                                "an exception explicitly", where)
        if node.cause is not None:
            raise compile_error("raise ... from ... is not supported in jitcore.script; raise the "
                                "exception alone", where)
        exc = node.exc
        name, message = None, ""
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name):
            name = exc.func.id
            if len(exc.args) > 1 or exc.keywords:
                raise compile_error("exceptions in jitcore.script take one message argument",
                                    where)
            message = exc.args[0] if exc.args else ""
        elif isinstance(exc, ast.Name):
            name = exc.id
        if name not in _EXCEPTIONS:
            raise compile_error(f"raise supports the builtin exceptions "
                                f"{', '.join(sorted(_EXCEPTIONS))}; got {ast.unparse(exc)}", where)
        self.emit_raise(name, message, where)
        return DIVERGE

    def emit_raise(self, exception, message, where):
        """Emit ``prim::RaiseException(msg)[exception=...]``; ``message`` is an AST node or a string."""
        value = (self.constant(message, where) if isinstance(message, str)
                 else self.message_value(message))
        self.node("prim::RaiseException", [value], [], where, attrs={"exception": exception})

    def message_value(self, node):
        """The value of an exception message: a string constant, or ``aten::format`` of an
        f-string or of ``"...".format(...)`` with the values it shows (filled in when the
        exception is raised, as Python fills them in).  ``self.<constant>`` parts of an
        f-string are filled in when compiling."""
        where = self.where(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self.constant(node.value, where)
        if isinstance(node, ast.JoinedStr):
            pieces, values = [], []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    pieces.append(str(part.value).replace("{", "{{").replace("}", "}}"))
                    continue
                spec = self._format_spec(part)
                known = self._constant_module_attribute(part.value)
                if known is not None and not spec:
                    pieces.append(str(known).replace("{", "{{").replace("}", "}}"))
                    continue
                pieces.append("{" + spec + "}")
                values.append(part.value)
            return self._format("".join(pieces), values, where)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
                and isinstance(node.func.value.value, str)):
            if (any(k.arg is None for k in node.keywords)
                    or any(isinstance(a, ast.Starred) for a in node.args)):
                raise compile_error("str.format in jitcore.script takes its arguments written "
                                    "out (no *args or **kwargs)", where)
            text = node.func.value.value
            if node.keywords:
                text = numbered_fields(text, len(node.args), [k.arg for k in node.keywords],
                                       where)
            return self._format(text, node.args + [k.value for k in node.keywords], where)
        raise compile_error("an exception message in jitcore.script is a string, an f-string "
                            "or \"...\".format(...)", where)

    def _format_spec(self, part):
        """The ``!r:>8`` of an f-string field, which str.format reads the same way."""
        conversion = "" if part.conversion == -1 else "!" + chr(part.conversion)
        if part.format_spec is None:
            return conversion
        if not all(isinstance(p, ast.Constant) for p in part.format_spec.values):
            raise compile_error("a format spec computed from values ({x:{width}}) is not "
                                "supported in jitcore.script", self.where(part))
        return conversion + ":" + "".join(str(p.value) for p in part.format_spec.values)

    def _format(self, text, value_nodes, where):
        if not value_nodes:
            return self.constant(text.format(), where)
        values = [self.expr(v).as_value(self, self.where(v)) for v in value_nodes]
        return self.node("aten::format", [self.constant(text, where)] + values, [StrType.get()],
                         where).output()

    def _constant_module_attribute(self, node):
        """The value of ``self.<name>`` when ``<name>`` is a module constant (``__constants__``,
        ``Final``), read without emitting IR; None for any other expression."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        owner = self.scope.lookup(node.value.id)
        if not isinstance(owner, ModuleValue):
            return None
        module = owner.module
        if node.attr not in constant_attribute_names(type(module)):
            return None
        return getattr(module, node.attr, None)

    def _stmt_Assert(self, node):
        where = self.where(node)
        cond = self.condition(node.test)
        message = node.msg if node.msg is not None else ast.unparse(node.test)
        if cond is True:
            return NEVER
        if cond is False:
            self.emit_raise("AssertionError", message, where)
            return DIVERGE
        # `assert x is not None` narrows x after it, as in TorchScript
        self.emit_if(cond, lambda: NEVER,
                     lambda: (self.emit_raise("AssertionError", message, where), DIVERGE)[1],
                     where, refinements=self.refinements(node.test))
        return NEVER


def _is_empty_display(node):
    return isinstance(node, ast.List) and not node.elts or isinstance(node, ast.Dict) \
        and not node.keys


def _without_docstring(statements):
    if statements and isinstance(statements[0], ast.Expr) and isinstance(
            statements[0].value, ast.Constant) and isinstance(statements[0].value.value, str):
        return list(statements[1:])
    return list(statements)


def _constant_key(value):
    node = value.node
    if node.kind != "prim::Constant":
        return None
    attr = node.attr("value") if node.has_attr("value") else None
    if isinstance(attr, list):
        attr = tuple(attr)
    return (str(value.type), type(attr).__name__, attr)

