"""``for`` and ``while`` loops: ``prim::Loop`` with loop-carried variables, or unrolling.

``prim::Loop(%max_trip_count, %initial_cond, %carried...)`` has one body block with
inputs ``(%i, %carried...)`` and outputs ``(%cond, %carried...)``.  The carried values
are the variables the body assigns that exist before the loop (found by scanning the
body), plus the return flags when the body contains a ``return``.  A carried variable
keeps its type; if the body changes it (``x = None`` before, an array after), the body is
compiled again with the unified type, once.

Loops over values whose length is known when compiling (tuples, ``ModuleList``,
``Sequential``) are unrolled, as TorchScript does, since their items may have
different types.
"""

import ast

from jitcore._runtime.types import DictType, IntType, ListType, NoneType, StrType, TensorType

from .dicts import dict_keys
from .environment import (
    ALWAYS, DIVERGE, EXIT, MAYBE, NEVER, RETURNED, RETVAL, STOP, Undefined, unify_types,
)
from .errors import compile_error, describe_type
from .operators import binary_op
from .values import IterableCall, PythonConstant, RangeValue, ScriptValue, TupleOfValues

__all__ = ["LoopCompiler", "MAX_TRIP_COUNT"]

#: The trip count of a ``while`` loop (TorchScript's: no bound).
MAX_TRIP_COUNT = 9223372036854775807


class LoopCompiler:
    """Loop half of the statement compiler (mixed into :class:`compiler.FunctionCompiler`)."""

    def _stmt_While(self, node):
        where = self.where(node)
        if node.orelse:
            raise compile_error("while ... else is not supported in jitcore.script; use a flag "
                                "variable", self.where(node.orelse[0]))
        cond = self.condition(node.test)
        if cond is False:
            return NEVER
        initial = self.constant(True, where) if cond is True else cond
        trip = self.constant(MAX_TRIP_COUNT, where)
        may_return = self.emit_loop(trip, initial, None, node.body, where, while_test=node.test)
        return MAYBE if may_return else NEVER

    def _stmt_For(self, node):
        where = self.where(node)
        if node.orelse:
            raise compile_error("for ... else is not supported in jitcore.script; use a flag "
                                "variable", self.where(node.orelse[0]))
        iterable = self.expr(node.iter)
        items = self.static_items(iterable, where) if not isinstance(
            iterable, (RangeValue, IterableCall)) else None
        if isinstance(iterable, IterableCall):
            items = self._static_iterable_call(iterable, where)
        if items is not None:
            return self._unrolled(node, items, where)
        trip, item_at = self._iteration(iterable, where)
        true = self.constant(True, where)

        def bind_item(index):
            self.assign_target(node.target, item_at(index), where)
        may_return = self.emit_loop(trip, true, bind_item, node.body, where,
                                    loop_variable=_target_names(node.target))
        return MAYBE if may_return else NEVER

    # ------------------------------------------------------------ iteration
    def _iteration(self, iterable, where):
        """``(trip count value, item_at(i) -> sugared)`` for a dynamic iterable."""
        if isinstance(iterable, RangeValue):
            return self._range_iteration(iterable, where)
        if isinstance(iterable, IterableCall):
            return self._call_iteration(iterable, where)
        value = iterable.as_value(self, where)
        if isinstance(value.type, DictType):
            value = dict_keys(self, value, where)   # a dict iterates its keys, in order
        t = value.type
        if isinstance(t, ListType) or t == StrType.get():
            # a string iterates its code points, each a string of one
            length = self.emit_op_call("aten::len", [ScriptValue(value)], {}, where).value

            def item(i):
                return self.emit_op_call("aten::__getitem__", [ScriptValue(value), ScriptValue(i)],
                                         {}, where, result_type=t if t == StrType.get() else t.elem)
            return length, item
        if isinstance(t, TensorType):
            length = self.emit_op_call("aten::size", [ScriptValue(value), PythonConstant(0)], {},
                                       where).value

            def row(i):
                return self.emit_op_call("aten::select", [ScriptValue(value), PythonConstant(0),
                                                          ScriptValue(i)], {}, where)
            return length, row
        raise compile_error(f"cannot iterate over a value of type {describe_type(t)} in "
                            "jitcore.script", where)

    def _range_iteration(self, r, where):
        if r.start is None:
            return r.stop, lambda i: ScriptValue(i)
        if isinstance(r.step, int) and r.step == 1:
            trip = binary_op(self, ast.Sub(), r.stop, r.start, where)
            return trip, lambda i: ScriptValue(binary_op(self, ast.Add(), r.start, i, where))
        if isinstance(r.step, int):
            # len(range(a, b, s)) = max(0, (b - a + s - sign(s)) // s)
            step = self.constant(r.step, where)
            span = binary_op(self, ast.Sub(), r.stop, r.start, where)
            span = binary_op(self, ast.Add(), span, self.constant(
                r.step - (1 if r.step > 0 else -1), where), where)
            trip = binary_op(self, ast.FloorDiv(), span, step, where)
        else:
            step, trip = r.step, r.length(self, where)

        def item(i):
            offset = binary_op(self, ast.Mult(), i, step, where)
            return ScriptValue(binary_op(self, ast.Add(), r.start, offset, where))
        return trip, item

    def _call_iteration(self, call, where):
        parts = [self._iteration(p if not isinstance(p, ScriptValue) else p, where)
                 for p in call.parts]
        trip = parts[0][0]
        for other, _ in parts[1:]:
            trip = self.emit_op_call("aten::min", [ScriptValue(trip), ScriptValue(other)], {},
                                     where).value
        if call.kind == "zip":
            return trip, lambda i: TupleOfValues([item_at(i) for _, item_at in parts])

        def enumerated(i):
            index = i if call.start == 0 else binary_op(self, ast.Add(), i, self.constant(
                call.start, where), where)
            return TupleOfValues([ScriptValue(index), parts[0][1](i)])
        return trip, enumerated

    def _static_iterable_call(self, call, where):
        lists = [self.static_items(p, where) if not isinstance(p, RangeValue) else None
                 for p in call.parts]
        if any(items is None for items in lists):
            return None
        if call.kind == "zip":
            return [TupleOfValues(list(group)) for group in zip(*lists)]
        return [TupleOfValues([ScriptValue(self.constant(call.start + k, where)), item])
                for k, item in enumerate(lists[0])]

    # ------------------------------------------------------------ unrolling
    def _unrolled(self, node, items, where):
        jump = _find_jump(node.body)
        if jump is not None:
            raise compile_error(f"{type(jump).__name__.lower()} in a loop over a tuple or module "
                                "list is not supported (the loop is unrolled when compiling); "
                                "use a flag variable", self.where(jump))

        def emit_from(k):
            for j in range(k, len(items)):
                self.assign_target(node.target, items[j], where)
                state = self.emit_block(node.body)
                if state in (ALWAYS, DIVERGE):
                    return state
                if state == MAYBE and j + 1 < len(items):
                    return self.emit_guarded(lambda: emit_from(j + 1), where)
                if state == MAYBE:
                    return MAYBE
            return NEVER
        state = emit_from(0)
        for name in _target_names(node.target):
            self.scope.bind(name, Undefined(name, f"the loop variable {name!r} is not available "
                                                  "after the loop in jitcore.script"))
        return state

    # ---------------------------------------------------------------- loops
    def emit_loop(self, trip, initial_cond, bind_item, body, where, while_test=None,
                  loop_variable=()):
        """Emit a ``prim::Loop``; returns True if the body may ``return`` from the function."""
        may_return = _contains(body, ast.Return)
        names = [n for n in _assigned_names(body) if isinstance(self.scope.lookup(n), ScriptValue)]
        if may_return:
            if self.scope.lookup(RETVAL) is None:
                self.scope.bind(RETVAL, ScriptValue(self.uninitialized(NoneType.get(), where)))
            names += [RETURNED, RETVAL]
        initial = [self.scope.lookup(n).value for n in names]
        types = [self.scope.declared_type(n) or v.type for n, v in zip(names, initial)]
        for attempt in range(2):
            loop, outputs, body_types = self._loop_attempt(trip, initial_cond, initial, names,
                                                           types, bind_item, body, where,
                                                           while_test)
            changed = []
            for k, (name, before, after) in enumerate(zip(names, types, body_types)):
                if after is None or after.is_subtype_of(before):
                    continue
                if initial[k] in self.dont_care:
                    changed.append((k, after))
                    continue
                unified = unify_types(before, after)
                if unified is None or attempt == 1:
                    raise compile_error(f"variable {name!r} is {describe_type(before)} before the "
                                        f"loop and {describe_type(after)} after an iteration; a "
                                        "variable keeps one type in jitcore.script", where)
                changed.append((k, unified))
            if not changed:
                break
            loop.destroy()
            for k, t in changed:
                types[k] = t
                if initial[k] in self.dont_care and initial[k].node.kind == "prim::Uninitialized":
                    initial[k].set_type(t)
        for name, value, after in zip(names, outputs, body_types):
            if not name.startswith("$"):
                value.set_debug_name(name)
            self.scope.bind(name, ScriptValue(value))
            # still a placeholder only if no path of the body gave it a value: a
            # ``return`` in a nested loop makes the outer loop's return value real
            if after is None:
                self.dont_care.add(value)
        if may_return:
            self.scope.bind(EXIT, self.scope.lookup(RETURNED))
            if self.loop_depth:
                self.scope.bind(STOP, self.scope.lookup(RETURNED))
        self._forget_body_names(body, names, loop_variable, where)
        return may_return

    def _loop_attempt(self, trip, initial_cond, initial, names, types, bind_item, body, where,
                      while_test):
        loop = self.node("prim::Loop", [trip, initial_cond] + initial, types, where)
        block = loop.add_block()
        counter = block.add_input(None, IntType.get())
        parent = self.scope
        self.scope = parent.child()
        self.loop_depth += 1
        try:
            with self.graph.inserting_at_end(block):
                for name, t, before in zip(names, types, initial):
                    carried = block.add_input(None if name.startswith("$") else name, t)
                    if before in self.dont_care:
                        self.dont_care.add(carried)
                    self.scope.bind(name, ScriptValue(carried))
                false = ScriptValue(self.constant(False, where))
                self.scope.bind(EXIT, false)
                self.scope.bind(STOP, false)
                if bind_item is not None:
                    bind_item(counter)
                self.emit_block(body)
                cond = self._continue_condition(while_test, where)
                block.register_output(cond)
                body_types = []
                for name in names:
                    bound = self.scope.lookup(name)
                    if isinstance(bound, Undefined) or not isinstance(bound, ScriptValue):
                        raise compile_error(f"{name!r} must keep a value in every path of the loop "
                                            "body", where)
                    block.register_output(bound.value)
                    body_types.append(None if bound.value in self.dont_care else bound.value.type)
        finally:
            self.scope = parent
            self.loop_depth -= 1
        return loop, list(loop.outputs), body_types

    def _continue_condition(self, while_test, where):
        stop = self.scope.lookup(STOP).value
        stop_constant = stop.node.attr("value") if stop.node.kind == "prim::Constant" else None
        if while_test is None:
            if stop_constant is not None:
                return self.constant(not stop_constant, where)
            return self.emit_op_call("aten::__not__", [ScriptValue(stop)], {}, where).value
        if stop_constant is False:
            return self._while_test(while_test)
        return self.emit_if_expression(stop, lambda: self.constant(False, where),
                                       lambda: self._while_test(while_test), where)

    def _while_test(self, test):
        cond = self.condition(test)
        return self.constant(cond, self.where(test)) if isinstance(cond, bool) else cond

    def _forget_body_names(self, body, carried, loop_variable, where):
        for name in _assigned_names(body):
            if name not in carried and not isinstance(self.scope.lookup(name), ScriptValue):
                self.scope.bind(name, Undefined(
                    name, f"{name!r} is assigned only inside the loop at line {where.line}; "
                          "assign it before the loop to use it after"))
        for name in loop_variable:
            self.scope.bind(name, Undefined(name, f"the loop variable {name!r} is not available "
                                                  "after the loop in jitcore.script"))


def _target_names(target):
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _bound_names(target):
    """The variables an assignment target binds: ``a, (b, c)`` binds a, b, c; ``xs[i]`` none."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for t in target.elts for name in _bound_names(t)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []


def _assigned_names(statements):
    """Names assigned anywhere in ``statements`` (nested blocks included), in order."""
    names = []
    for statement in statements:
        for node in ast.walk(statement):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [node.target]
            for target in targets:
                for name in _bound_names(target):
                    if name not in names:
                        names.append(name)
    return names


def _contains(statements, node_type):
    return any(isinstance(n, node_type) for s in statements for n in ast.walk(s))


def _find_jump(statements):
    """A break/continue that belongs to this loop (not to a nested one), or None."""
    for statement in statements:
        if isinstance(statement, (ast.Break, ast.Continue)):
            return statement
        if isinstance(statement, (ast.For, ast.While)):
            continue
        for field in ("body", "orelse"):
            found = _find_jump(getattr(statement, field, []) or [])
            if found is not None:
                return found
    return None

