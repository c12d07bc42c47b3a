"""In-place ops of archive code (``torch.relu_``, ``torch.add_``) as the values compiled code works with.

torch's modules update tensors in place (``nn.ReLU(inplace=True)``, ``out += identity``);
jitcore's arrays are values.  The dialect compiles ``torch.op_(a, ...)`` as
``a = torch.op(a, ...)`` (the rewriter rebinds the name ``a``), which is what
torch computes whenever nothing reads the old tensor again through another name.
``check_in_place`` proves that on each method's graph with every call inlined: the
updated value, every value it is a view of and every view of those must have no
reader after the op (nor, inside a loop, anywhere in that loop), and must not be
module state.  Otherwise loading fails, naming the op and its line.
"""

from jitcore.frontend.script.errors import compile_error
from jitcore.ops.effects import OutputAlias
from jitcore.ops.registry import output_alias
from jitcore.passes.inline import inline_calls

__all__ = ["check_in_place", "inlined_methods"]


def inlined_methods(module):
    """``{name: graph}`` of every method of ``module`` with every call inlined (copies)."""
    return {name: inline_calls(module._jit_method(name).graph, module, functions=module.functions)
            for name in module.methods}


def check_in_place(methods, sites):
    """Raise CompileError if a functionalised in-place op of the methods could be observed.

    Parameters
    ----------
    methods : dict of str to Graph
        The compiled archive's methods with every call inlined (``inlined_methods``); read only.
    sites : set of (SourceRange, str)
        Where in-place ops were compiled as their functional kind, and that kind.
    """
    if not sites:
        return
    for graph in methods.values():
        nodes = graph.walk()
        order = {id(node): index for index, node in enumerate(nodes)}
        for node in nodes:
            if (node.source_range, node.kind) in sites:
                _check_site(node, order)


def _check_site(node, order):
    family = _alias_family(node.inputs[0])
    loops = [_inside(loop) for loop in _enclosing_loops(node)]
    for value in family:
        if value.node.kind == "prim::GetAttr":
            _refuse(node, "updates module state (a parameter or buffer)")
        for use in value.uses:
            user = use.user
            if user is node:
                continue
            if _exclusive(node, user):
                continue                    # the other branch of an if: never runs after the op
            position = order[id(user)] if id(user) in order else _return_position(user, order)
            if position > order[id(node)] or any(id(user) in inside for inside in loops):
                _refuse(node, f"updates a tensor that {user.kind} reads afterwards")


def _blocks_up(node):
    """The blocks enclosing ``node``, innermost first."""
    blocks = []
    block = node.owning_block
    while block is not None:
        blocks.append(block)
        owner = block.owning_node
        block = None if owner is None else owner.owning_block
    return blocks


def _exclusive(a, b):
    """Whether ``a`` and ``b`` lie in different branches of one ``prim::If`` (at most one of them runs)."""
    above_b = {id(block): block for block in _blocks_up(b)}
    for block in _blocks_up(a):
        owner = block.owning_node
        if owner is None or owner.kind != "prim::If":
            continue
        other = [other for other in owner.blocks if other is not block]
        if any(id(o) in above_b for o in other):
            return True
    return False


def _return_position(user, order):
    """Where a block's return node (not listed by ``walk``) reads: after every node of the block's owner."""
    owner = user.owning_block.owning_node if user.owning_block is not None else None
    if owner is None:
        return float("inf")                  # the graph's own return: after everything
    return max([order[id(owner)]] + [order[i] for i in _inside(owner) if i in order]) + 0.5


def _refuse(node, why):
    kind = node.kind
    raise compile_error(f"{kind}_ (in place) {why}; jitcore computes values, not updates, so it cannot run "
                        f"this archive as torch does", node.source_range)


def _alias_family(value):
    """``value``, the values it is a view of, and every view of those (through VIEW ops)."""
    root = value
    while output_alias(root.node.kind) is OutputAlias.VIEW and root.node.inputs:
        root = root.node.inputs[0]
    family, pending = [], [root]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in family):
            continue
        family.append(current)
        for use in current.uses:
            if use.offset == 0 and output_alias(use.user.kind) is OutputAlias.VIEW:
                pending.extend(use.user.outputs)
    return family


def _enclosing_loops(node):
    loops = []
    block = node.owning_block
    while block is not None and block.owning_node is not None:
        owner = block.owning_node
        if owner.kind == "prim::Loop":
            loops.append(owner)
        block = owner.owning_block
    return loops


def _inside(loop):
    found = set()
    pending = [loop]
    while pending:
        for block in pending.pop().blocks:
            for inner in block.nodes:
                found.add(id(inner))
                pending.append(inner)
    return found
