"""``.code``: print a graph as a readable Python function, like TorchScript's ``.code``.

Conventions of the printed code (the names ``jitcore.script`` binds when it
compiles this text back):

* ops are called through a namespace object ``ops``: ``aten::add`` prints as
  ``ops.aten.add(x, 3, 1)``, ``jc::gelu_tanh`` as ``ops.jc.gelu_tanh(...)``,
  arguments in the node's input order; a node's non-graph attributes, if any,
  follow as keyword arguments (``ops.aten.foo(x, name="a")``);
* structure prints as Python: ``prim::If`` as ``if``/``else`` assigning the
  outputs in each branch, ``prim::Loop`` as ``for i in range(n):`` when both its
  conditions are the constant ``True``, otherwise as ``while`` with an explicit
  condition variable (and counter if the trip count or counter is used);
  loop-carried values are one variable assigned before the loop and at the end
  of the body with one tuple assignment (``a, b = b, a`` swaps correctly);
  ``prim::GetAttr`` ``self.layer1``, ``prim::SetAttr`` ``self.x = v``,
  ``prim::CallMethod`` ``(self.layer1).forward(x)``, ``prim::CallFunction[name="f"]``
  ``f(x)``, ``prim::ListConstruct`` ``[a, b]``, ``prim::TupleConstruct`` ``(a, b)``,
  ``prim::TupleUnpack``/``prim::ListUnpack`` ``a, b = t``, ``prim::TupleIndex``
  ``t[0]``, ``prim::RaiseException`` ``raise Exception(msg)``, ``prim::Print``
  ``print(...)``, ``prim::Uninitialized`` ``uninitialized(Tensor)``;
* constants are inlined as Python literals (``float("inf")`` for infinities and
  NaN); tensor and graph constants print as ``CONSTANTS.c0``, ``CONSTANTS.c1``, ...
  and are appended, in that order, to the ``constants`` list when one is passed;
* a value used once, in the same block, by the next statement that runs is
  inlined into its use, so evaluation order never changes (TorchScript's rule);
  other values get a variable: their debug name without the ``.N`` suffix
  (``x.1`` -> ``x``; ``x_1``, ``x_2`` on clashes), or ``_0``, ``_1`` for unnamed values;
* types print as annotations ``Tensor``, ``int``, ``List[int]``, ``Optional[Tensor]``,
  ``Tuple[int, Tensor]``, ``Dict[str, Tensor]``; a first input of class type (or
  any first input when ``self_type`` is given) prints as ``self``.
"""

import inspect
import keyword
import math
import re

from jitcore._runtime.types import (
    ClassType, DictType, ListType, OptionalType, StrType, TensorType, TupleType, UnionType,
)
from jitcore.ir.printer import quote_string

__all__ = ["graph_to_code", "python_type"]

INDENT = "  "
#: The trip count TorchScript uses for ``while`` loops (no bound).
MAX_TRIP_COUNT = 2 ** 63 - 1
#: Names the printed code relies on; variables never take them.
RESERVED_NAMES = frozenset({
    "ops", "self", "CONSTANTS", "Tensor", "List", "Optional", "Tuple", "Dict", "Any",
    "number", "range", "print", "Exception", "uninitialized", "float", "int", "bool", "str",
    "None", "True", "False",
})
_PARAM, _RETURN, _CONSTANT = "prim::Param", "prim::Return", "prim::Constant"


# the Python class that stands for each type kind in `isinstance(x, C)`
_PYTHON_CLASS = {"List": "list", "Tuple": "tuple", "Dict": "dict"}


def _narrows_optional(node):
    """True for ``prim::unchecked_cast`` of ``Optional[T]`` to ``T`` (what ``.code`` prints
    as ``ops.prim.unchecked_cast(x)``: the type follows from the input's)."""
    t = node.inputs[0].type
    return isinstance(t, OptionalType) and t.elem == node.output().type


def python_type(t):
    """The Python annotation spelling of an IR type (``List[int]``, ``Optional[Tensor]``)."""
    if isinstance(t, TensorType):
        return "Tensor"
    if isinstance(t, ListType):
        return f"List[{python_type(t.elem)}]"
    if isinstance(t, OptionalType):
        return f"Optional[{python_type(t.elem)}]"
    if isinstance(t, TupleType):
        return "Tuple[" + ", ".join(python_type(e) for e in t.elems) + "]"
    if isinstance(t, UnionType):
        return "Union[" + ", ".join(python_type(m) for m in t.members) + "]"
    if isinstance(t, DictType):
        return f"Dict[{python_type(t.key)}, {python_type(t.value)}]"
    if isinstance(t, ClassType):
        return t.name
    return {"NoneType": "None", "Scalar": "number"}.get(str(t), str(t))


def graph_to_code(graph, name="forward", *, self_type=None, constants=None, defaults=None):
    """Print ``graph`` as the Python function ``name`` (TorchScript's ``.code``).

    Parameters
    ----------
    graph : jitcore.ir.Graph
    name : str, default "forward"
    self_type : JitType, optional
        When given, the first graph input is the module (``self``) and this is
        its type; without it, a first input of class type is taken as ``self``.
    constants : list, optional
        Receives the tensor (and graph) constants the code refers to as
        ``CONSTANTS.c<i>``, in index order.
    defaults : sequence, optional
        The default value of each input after ``self`` (``inspect.Parameter.empty``
        where none), printed as Python literals (``k: int = 2``) where they are ones.

    Returns
    -------
    str
        The source text, ending in a newline.

    Examples
    --------
    For the TorchScript tutorial's scripted ``fun``::

        def fun(x: Tensor) -> Tensor:
          if ops.aten.eq(ops.aten.size(x, 0), 1):
            _0 = ops.aten.add(x, 3, 1)
          else:
            _0 = ops.aten.add(x, 20, 1)
          return _0
    """
    return _CodePrinter(graph, constants).function(name, self_type, defaults)


def _literal(value):
    """``repr(value)`` if it reads back as ``value`` (None, bools, ints, finite floats,
    strings, and tuples or lists of them), else None."""
    if value is None or isinstance(value, (bool, int, str)) or (
            isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        if all(_literal(v) is not None for v in value):
            return repr(value)
    return None


# ------------------------------------------------------------------ inlining

def _is_constant(value):
    return value.node.kind == _CONSTANT


def _can_inline(value):
    node = value.node
    uses = value.uses
    # an unpack of one item prints as the statement `a, = t`, never inside an expression
    return (len(uses) == 1 and len(node.outputs) == 1 and not node.blocks
            and node.kind not in (_PARAM, _CONSTANT, "prim::TupleUnpack", "prim::ListUnpack")
            and uses[0].user.owning_block is node.owning_block
            and uses[0].user.kind != "prim::Loop")


def _previous_statement(node):
    """The closest earlier node that prints as code (constants print nowhere); None at the start."""
    cur = node.prev
    while cur.kind == _CONSTANT:
        cur = cur.prev
    return None if cur.kind == _PARAM else cur


def _find_inlined(block, inlined):
    """Add to ``inlined`` every node of ``block`` (and nested blocks) printed inside its user.

    Walking backwards, a user's inputs are visited right to left; an input is
    inlined only if its producer is the statement printed just before the
    user (or before the inputs inlined so far), so Python's left-to-right
    argument evaluation replays the original order exactly.
    """
    cursor = block.return_node
    while cursor is not None:
        earliest = _inline_inputs(cursor, inlined)
        for inner in cursor.blocks:
            _find_inlined(inner, inlined)
        cursor = _previous_statement(earliest)


def _inline_inputs(user, inlined):
    """Inline what can be inlined into ``user``; return the earliest node printed with it."""
    earliest = user
    for value in reversed(user.inputs):
        if _is_constant(value) or not _can_inline(value):
            continue
        producer = value.node
        if producer is not _previous_statement(earliest):
            continue
        inlined.add(producer)
        earliest = _inline_inputs(producer, inlined)
    return earliest


# ------------------------------------------------------------------ printer

class _CodePrinter:
    def __init__(self, graph, constants):
        self.graph = graph
        self.constants = constants
        self.constant_count = 0
        self.lines = []
        self.names = {}                  # Value -> Python variable name
        self.taken = set(RESERVED_NAMES)
        self.temp_count = 0
        self.inlined = set()
        _find_inlined(graph.block, self.inlined)

    # ---------------------------------------------------------------- names
    def fresh_temp(self):
        while f"_{self.temp_count}" in self.taken:
            self.temp_count += 1
        name = f"_{self.temp_count}"
        self.taken.add(name)
        return name

    def name_of(self, value):
        """The variable holding ``value``; allocated on first use."""
        name = self.names.get(value)
        if name is not None:
            return name
        if not value.has_debug_name():
            name = self.fresh_temp()
        else:
            base = re.sub(r"\.\d+$", "", value.debug_name)
            base = re.sub(r"\W", "_", base)
            if not base or base[0].isdigit() or keyword.iskeyword(base):
                base = "_" + base
            name, suffix = base, 0
            while name in self.taken:
                suffix += 1
                name = f"{base}_{suffix}"
            self.taken.add(name)
        self.names[value] = name
        return name

    def bind(self, value, name):
        self.names[value] = name

    # ------------------------------------------------------------ functions
    def function(self, name, self_type, defaults=None):
        inputs = list(self.graph.inputs)
        params = []
        if inputs and (self_type is not None or isinstance(inputs[0].type, ClassType)):
            self.bind(inputs[0], "self")
            params.append("self")
            inputs = inputs[1:]
        defaults = list(defaults or ())
        defaults += [inspect.Parameter.empty] * (len(inputs) - len(defaults))
        for value, default in zip(inputs, defaults):
            param = f"{self.name_of(value)}: {python_type(value.type)}"
            literal = None if default is inspect.Parameter.empty else _literal(default)
            params.append(param if literal is None else f"{param} = {literal}")
        outputs = self.graph.outputs
        if not outputs:
            result_type = "None"
        elif len(outputs) == 1:
            result_type = python_type(outputs[0].type)
        else:
            result_type = "Tuple[" + ", ".join(python_type(v.type) for v in outputs) + "]"
        self.lines.append(f"def {name}({', '.join(params)}) -> {result_type}:")
        self.block(self.graph.block, 1)
        if outputs:
            values = [self.expr(v) for v in outputs]
            self.emit(1, "return " + (values[0] if len(values) == 1 else self.tuple(values)))
        elif not self.graph.nodes:
            self.emit(1, "pass")
        return "\n".join(self.lines) + "\n"

    def emit(self, level, text):
        self.lines.append(INDENT * level + text)

    def block(self, block, level):
        for node in block.nodes:
            if node.kind != _CONSTANT and node not in self.inlined:
                self.statement(node, level)

    def assign(self, level, targets, values):
        """``a = e`` / ``a, b = e, f``; tuple assignment reads every value before writing."""
        pairs = [(t, v) for t, v in zip(targets, values) if t != v]
        if not pairs:
            return
        lhs = ", ".join(t for t, _ in pairs)
        self.emit(level, f"{lhs} = {', '.join(v for _, v in pairs)}")

    # ----------------------------------------------------------- statements
    def statement(self, node, level):
        if node.kind == "prim::If":
            return self.if_statement(node, level)
        if node.kind == "prim::Loop":
            return self.loop_statement(node, level)
        if node.kind in ("prim::TupleUnpack", "prim::ListUnpack"):
            targets = [self.name_of(v) for v in node.outputs]
            lhs = ", ".join(targets) + ("," if len(targets) == 1 else "")
            return self.emit(level, f"{lhs} = {self.expr(node.input(0))}")
        if node.kind == "prim::RaiseException":
            message = self.expr(node.input(0)) if node.inputs else ""
            exception = node.attr("exception") if node.has_attr("exception") else "Exception"
            return self.emit(level, f"raise {exception}({message})")
        if node.kind == "prim::SetAttr":
            obj, value = node.inputs
            return self.emit(level, f"{_attribute(self.expr(obj), node.attr('name'))} = "
                                    f"{self.expr(value)}")
        text = self.call(node)
        if not node.outputs:
            return self.emit(level, text)
        targets = ", ".join(self.name_of(v) for v in node.outputs)
        self.emit(level, f"{targets} = {text}")

    def if_statement(self, node, level):
        then_block, else_block = node.blocks
        targets = [self.name_of(v) for v in node.outputs]
        self.emit(level, f"if {self.expr(node.input(0))}:")
        self.branch(then_block, targets, level + 1)
        if targets or self.prints_anything(else_block):
            self.emit(level, "else:")
            self.branch(else_block, targets, level + 1)

    def branch(self, block, targets, level):
        start = len(self.lines)
        self.block(block, level)
        self.assign(level, targets, [self.expr(v) for v in block.outputs])
        if len(self.lines) == start:
            self.emit(level, "pass")

    def prints_anything(self, block):
        return any(n.kind != _CONSTANT for n in block.nodes) or bool(block.outputs)

    def loop_statement(self, node, level):
        trip, cond, *initial = node.inputs
        body = node.blocks[0]
        counter, *carried_in = body.inputs
        body_cond, *carried_out = body.outputs
        targets = [self.name_of(v) for v in node.outputs]
        for value, target in zip(carried_in, targets):
            self.bind(value, target)
        self.assign(level, targets, [self.expr(v) for v in initial])
        bounded = not (_is_constant(trip) and self.constant_value(trip) == MAX_TRIP_COUNT)
        unconditional = self.is_true(cond) and self.is_true(body_cond)
        if bounded and unconditional:
            self.emit(level, f"for {self.name_of(counter)} in range({self.expr(trip)}):")
            self.loop_body(body, targets, carried_out, level + 1, None)
            return
        # Anything else is a while loop; the trip count, if any, becomes an
        # explicit counter, the condition a variable updated with the carried values.
        tests = []
        counting = bounded or bool(counter.uses)
        if counting:
            self.emit(level, f"{self.name_of(counter)} = 0")
            if bounded:
                tests.append(f"ops.aten.lt({self.name_of(counter)}, {self.expr(trip)})")
        if not unconditional:
            if _is_constant(cond) or cond.node.kind == _PARAM or len(cond.uses) > 1:
                cond_var = self.fresh_temp()
                self.emit(level, f"{cond_var} = {self.expr(cond)}")
            else:
                # The loop is the initial condition's only reader: its variable
                # can carry the condition on.
                cond_var = self.name_of(cond)
            tests.append(cond_var)
            targets, carried_out = targets + [cond_var], carried_out + [body_cond]
        self.emit(level, f"while {' and '.join(tests) or 'True'}:")
        self.loop_body(body, targets, carried_out, level + 1,
                       self.name_of(counter) if counting else None)

    def loop_body(self, body, targets, outputs, level, counter):
        start = len(self.lines)
        self.block(body, level)
        self.assign(level, targets, [self.expr(v) for v in outputs])
        if counter is not None:
            self.emit(level, f"{counter} = ops.aten.add({counter}, 1)")
        if len(self.lines) == start:
            self.emit(level, "pass")

    # ---------------------------------------------------------- expressions
    def is_true(self, value):
        return _is_constant(value) and self.constant_value(value) is True

    @staticmethod
    def constant_value(value):
        node = value.node
        return node.attr("value") if node.has_attr("value") else None

    def expr(self, value):
        """The Python text that yields ``value`` here: a literal, an inlined call or a name."""
        node = value.node
        if node.kind == _CONSTANT:
            constant = self.constant_value(value)
            if (isinstance(constant, list) and not constant and isinstance(value.type, ListType)
                    and not isinstance(value.type.elem, TensorType)):
                # an empty literal is a list of arrays when scripted (a frozen List[int] attribute)
                return f"annotate({python_type(value.type)}, [])"
            return self.literal(constant)
        if node in self.inlined:
            return self.call(node)
        return self.name_of(value)

    def call(self, node):
        """The expression of a single-output (or no-output) node."""
        kind = node.kind
        args = [self.expr(v) for v in node.inputs]
        if kind == "prim::GetAttr":
            return _attribute(args[0], node.attr("name"))
        if kind == "aten::format":
            return f"{args[0]}.format({', '.join(args[1:])})"
        if kind == "aten::percentFormat":
            return f"{args[0]} % ({''.join(a + ', ' for a in args[1:])})"
        if kind == "prim::CallMethod":
            return f"({args[0]}).{node.attr('name')}({', '.join(args[1:])})"
        if kind == "prim::CallFunction":
            if node.has_attr("name"):
                return f"{node.attr('name')}({', '.join(args)})"
            return f"{args[0]}({', '.join(args[1:])})"
        if kind == "prim::ListConstruct":
            elem = node.output().type.elem
            if not args and not isinstance(elem, TensorType):
                # an empty literal is a list of arrays when scripted: say what this one holds
                return f"annotate({python_type(node.output().type)}, [])"
            return f"[{', '.join(args)}]"
        if kind == "prim::TupleConstruct":
            return self.tuple(args)
        if kind == "prim::DictConstruct":
            t = node.output().type
            if not args and not (t.key == StrType.get() and isinstance(t.value, TensorType)):
                # an empty literal is a Dict[str, Tensor] when scripted: say what this one holds
                return f"annotate({python_type(t)}, {{}})"
            return "{" + ", ".join(f"{k}: {v}" for k, v in zip(args[0::2], args[1::2])) + "}"
        if kind in ("prim::TupleIndex", "aten::__getitem__"):
            return f"{args[0]}[{args[1]}]"
        if kind == "prim::dtype":
            return f"{args[0]}.dtype"
        if kind in ("prim::min", "prim::max"):
            return f"{kind[6:]}({', '.join(args)})"
        if kind == "prim::Print":
            return f"print({', '.join(args)})"
        if kind == "prim::Uninitialized":
            return f"uninitialized({python_type(node.output().type)})"
        if kind == "prim::isinstance" and node.inputs[1].node.kind == _CONSTANT:
            kinds = node.inputs[1].node.attr("value").split(",")
            classes = [_PYTHON_CLASS.get(k, k) for k in kinds]
            return f"isinstance({args[0]}, {self.tuple(classes)})"
        if kind == "prim::unchecked_cast" and not _narrows_optional(node):
            # a Union narrowed to a member: the type is not in the input's
            return f"unchecked_cast({python_type(node.output().type)}, {args[0]})"
        namespace, _, op = kind.partition("::")
        keywords = [f"{k}={self.literal(node.attr(k))}" for k in node.attr_names()]
        return f"ops.{namespace}.{op}({', '.join(args + keywords)})"

    @staticmethod
    def tuple(items):
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def literal(self, value):
        if value is None or isinstance(value, (bool, int)):
            return str(value)
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f'float("{value}")'
        if isinstance(value, str):
            return quote_string(value)
        if isinstance(value, list):
            return "[" + ", ".join(self.literal(v) for v in value) + "]"
        # ndarrays and graphs have no literal: refer to the constant table.
        name = f"CONSTANTS.c{self.constant_count}"
        self.constant_count += 1
        if self.constants is not None:
            self.constants.append(value)
        return name


def _attribute(obj, name):
    """``obj.name``, or ``getattr(obj, "0")`` for a name that is no identifier (a
    ``Sequential``'s children), as TorchScript prints it."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{obj}.{name}"
    quoted = f'"{name}"' if '"' not in name and "\\" not in name else repr(name)
    return f"getattr({obj}, {quoted})"
