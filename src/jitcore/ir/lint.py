"""``Graph.lint()``: check every IR invariant and name the first one broken.

What is checked, in one walk over the graph:

* structure: each node's block links are consistent, no node sits in two
  blocks, no destroyed node is reachable, every value belongs to this graph;
* producers: each output knows its node and index, block inputs are outputs
  of the block's ``prim::Param`` node;
* uses: every input appears in its value's use list and every use names an
  input that really reads the value (no stale or duplicate uses);
* scope: a value is used only after its definition, in its own block or a
  block nested inside it (never from a sibling branch or after a loop body);
* names: debug names are unique within the graph;
* types: registered ops (``prim::ListConstruct`` too) accept their input types
  (``jitcore.ops.match``) and produce the schema's number of outputs; the
  special nodes (:mod:`jitcore.ops.structural`) have
  the shape TorchScript gives them (``prim::If`` a bool and two blocks whose
  outputs match the node's, ``prim::Loop`` trip count, condition and carried
  values, ``prim::Constant`` a value matching its type).
"""

import numpy as np

from jitcore._runtime.ir import Block, Graph, Node, Use
from jitcore._runtime.types import BoolType, IntType, NoneType, TensorType
from jitcore._runtime.ir import constant_type
from jitcore.errors import LintError


def _fail(message, node=None):
    where = ""
    if node is not None:
        outs = ", ".join("%" + v.debug_name for v in node.outputs)
        ins = ", ".join("%" + v.debug_name for v in node.inputs)
        where = f"\n  in node: {outs + ' = ' if outs else ''}{node.kind}({ins})"
        if node.source_range is not None:
            where += f"  # {node.source_range}"
    raise LintError(message + where)


def lint_graph(graph):
    """Raise ``LintError`` if ``graph`` breaks an IR invariant; return None otherwise."""
    if not isinstance(graph, Graph):
        raise TypeError(f"lint_graph expects a Graph, got {type(graph).__name__}")
    _Linter(graph).run()


class _Linter:
    def __init__(self, graph):
        self.graph = graph
        self.seen_nodes = set()
        self.names = {}

    def run(self):
        g = self.graph
        if g.block.owning_node is not None:
            _fail("the graph's top block has an owning node")
        scope = [set()]
        self.check_block(g.block, scope)

    # -------------------------------------------------------------- blocks
    def check_block(self, block, scope):
        scope.append(set())
        param, ret = block.param_node, block.return_node
        if param.owning_block is not block or ret.owning_block is not block:
            _fail("a block's prim::Param/prim::Return node belongs to another block")
        for i, v in enumerate(param.outputs):
            self.check_output(v, param, i)
            scope[-1].add(v)
        prev = param
        node = param.next
        while node is not ret:
            if node is None:
                _fail("a block's node list is broken (it does not reach prim::Return)")
            if node.prev is not prev:
                _fail("a node's prev link does not point at the node before it", node)
            if node.owning_block is not block:
                _fail("a node is linked into a block that is not its owning block", node)
            if node.is_destroyed:
                _fail("a destroyed node is still in a block", node)
            if id(node) in self.seen_nodes:
                _fail("a node appears in two blocks (or twice in one)", node)
            self.seen_nodes.add(id(node))
            self.check_node(node, scope)
            prev = node
            node = node.next
        if ret.prev is not prev:
            _fail("a block's prim::Return node has a stale prev link")
        self.check_inputs(ret, scope)
        scope.pop()

    # --------------------------------------------------------------- nodes
    def check_node(self, node, scope):
        if node.kind in ("prim::Param", "prim::Return"):
            _fail(f"{node.kind} may only delimit a block", node)
        self.check_inputs(node, scope)
        for i, v in enumerate(node.outputs):
            self.check_output(v, node, i)
        for b in node.blocks:
            if b.owning_node is not node:
                _fail("a nested block does not point back at its node", node)
            self.check_block(b, scope)
        for v in node.outputs:
            scope[-1].add(v)
        self.check_kind(node)

    def check_inputs(self, node, scope):
        for i, v in enumerate(node.inputs):
            if v.owning_graph is not self.graph:
                _fail(f"input {i} (%{v.debug_name}) belongs to another graph", node)
            if not any(v in level for level in scope):
                producer = v.node
                if producer.is_destroyed or producer.owning_block is None:
                    _fail(f"input {i} (%{v.debug_name}) is produced by a node no longer in the graph", node)
                _fail(f"input {i} (%{v.debug_name}) is used before its definition or outside its scope",
                      node)
            if Use(node, i) not in v.uses:
                _fail(f"input {i} (%{v.debug_name}) is missing from that value's use list", node)

    def check_output(self, value, node, index):
        if value.owning_graph is not self.graph:
            _fail(f"output {index} belongs to another graph", node)
        if value.node is not node or value.offset != index:
            _fail(f"output {index} (%{value.debug_name}) does not name its producer correctly", node)
        if value.has_debug_name():
            name = value.debug_name
            if name in self.names and self.names[name] is not value:
                _fail(f"two values share the debug name %{name}", node)
            self.names[name] = value
            if self.graph.value_by_name(name) is not value:
                _fail(f"the graph's name table does not map %{name} to its value", node)
        counts = {}
        for use in value.uses:
            key = (id(use.user), use.offset)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] > 1:
                _fail(f"%{value.debug_name} has a duplicate use ({use.user.kind}, {use.offset})", node)
            if use.offset >= len(use.user.inputs) or use.user.inputs[use.offset] is not value:
                _fail(f"%{value.debug_name} has a stale use ({use.user.kind}, input {use.offset})", node)
            if use.user.is_destroyed:
                _fail(f"%{value.debug_name} is used by a destroyed {use.user.kind} node", node)

    # --------------------------------------------------------------- kinds
    def check_kind(self, node):
        kind = node.kind
        check = _PRIM_CHECKS.get(kind)
        if check is not None:
            check(node)
            return
        from jitcore import ops
        if ops.is_structural(kind):
            return
        if node.has_attr("Subgraph"):
            _check_subgraph_node(node)
            return
        if not ops.is_registered(kind):
            _fail(f"unknown op {kind!r}: it is neither a special prim:: node nor a registered op",
                  node)
        types = [v.type for v in node.inputs]
        try:
            op = ops.match(kind, types)
        except Exception as e:  # the registry names the candidates and given types
            _fail(f"type mismatch with the schema of {kind}: {e}", node)
        returns = op.schema.returns
        if not op.schema.is_varret and len(returns) != len(node.outputs):
            _fail(f"{op.schema.qualified_name} returns {len(returns)} values but the node has "
                  f"{len(node.outputs)} outputs", node)


def _expect(cond, message, node):
    if not cond:
        _fail(message, node)


def _check_constant(node):
    _expect(not node.inputs, "prim::Constant takes no inputs", node)
    _expect(len(node.outputs) == 1, "prim::Constant has exactly one output", node)
    out_type = node.output().type
    if not node.has_attr("value"):
        _expect(out_type == NoneType.get(), f"prim::Constant without a value must be NoneType, is {out_type}",
                node)
        return
    value = node.attr("value")
    _, derived = constant_type(value)
    if isinstance(value, np.ndarray):
        _expect(isinstance(out_type, TensorType) and derived.is_subtype_of(out_type),
                f"tensor constant of type {derived} does not match its output type {out_type}", node)
    else:
        _expect(derived.is_subtype_of(out_type),
                f"constant {value!r} has type {derived} but its output is typed {out_type}", node)


def _check_if(node):
    _expect(len(node.inputs) == 1, f"prim::If takes one condition, got {len(node.inputs)} inputs", node)
    _expect(node.input().type == BoolType.get(),
            f"prim::If condition must be bool, got {node.input().type}", node)
    _expect(len(node.blocks) == 2, f"prim::If has two blocks, got {len(node.blocks)}", node)
    for bi, b in enumerate(node.blocks):
        _expect(not b.inputs, f"prim::If block{bi} takes no inputs", node)
        _expect(len(b.outputs) == len(node.outputs),
                f"prim::If block{bi} returns {len(b.outputs)} values for {len(node.outputs)} outputs", node)
        for k, (bo, no) in enumerate(zip(b.outputs, node.outputs)):
            _expect(bo.type.is_subtype_of(no.type),
                    f"prim::If block{bi} output {k} has type {bo.type}, not a subtype of {no.type}", node)


def _check_loop(node):
    ins = node.inputs
    _expect(len(ins) >= 2, "prim::Loop takes a max trip count, a condition and carried values", node)
    _expect(ins[0].type == IntType.get(), f"prim::Loop trip count must be int, got {ins[0].type}", node)
    _expect(ins[1].type == BoolType.get(), f"prim::Loop condition must be bool, got {ins[1].type}", node)
    _expect(len(node.blocks) == 1, f"prim::Loop has one body block, got {len(node.blocks)}", node)
    carried = len(ins) - 2
    body = node.blocks[0]
    _expect(len(node.outputs) == carried,
            f"prim::Loop carries {carried} values but has {len(node.outputs)} outputs", node)
    _expect(len(body.inputs) == carried + 1,
            f"prim::Loop body takes the iteration and {carried} carried values, got {len(body.inputs)} inputs",
            node)
    _expect(len(body.outputs) == carried + 1,
            f"prim::Loop body returns the condition and {carried} carried values, got {len(body.outputs)}",
            node)
    _expect(body.inputs[0].type == IntType.get(), "prim::Loop body's first input (iteration) must be int", node)
    _expect(body.outputs[0].type == BoolType.get(), "prim::Loop body's first output (condition) must be bool",
            node)
    for k in range(carried):
        init, bin_, bout, out = ins[2 + k], body.inputs[1 + k], body.outputs[1 + k], node.outputs[k]
        _expect(init.type.is_subtype_of(bin_.type) and bout.type.is_subtype_of(bin_.type),
                f"prim::Loop carried value {k}: initial {init.type} and body result {bout.type} must be "
                f"subtypes of the body input {bin_.type}", node)
        _expect(bin_.type.is_subtype_of(out.type) or out.type.is_subtype_of(bin_.type),
                f"prim::Loop carried value {k}: output type {out.type} disagrees with {bin_.type}", node)


def _check_named(node):
    _expect(node.has_attr("name") and isinstance(node.attr("name"), str),
            f"{node.kind} needs a str attribute 'name'", node)
    _expect(len(node.inputs) >= 1, f"{node.kind} takes the object as its first input", node)


def _check_subgraph_node(node):
    sub = node.attr("Subgraph")
    _expect(isinstance(sub, Graph), f"{node.kind}: attribute Subgraph must be a Graph", node)
    _expect(len(sub.inputs) == len(node.inputs),
            f"{node.kind}: subgraph takes {len(sub.inputs)} inputs, node passes {len(node.inputs)}", node)
    _expect(len(sub.outputs) == len(node.outputs),
            f"{node.kind}: subgraph returns {len(sub.outputs)} values, node has {len(node.outputs)}", node)
    try:
        lint_graph(sub)
    except LintError as e:
        _fail(f"{node.kind}: its subgraph is broken: {e}", node)


_PRIM_CHECKS = {
    "prim::Constant": _check_constant,
    "prim::If": _check_if,
    "prim::Loop": _check_loop,
    "prim::GetAttr": _check_named,
    "prim::CallMethod": _check_named,
}
