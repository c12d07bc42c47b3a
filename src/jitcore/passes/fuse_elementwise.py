"""Fuse chains of elementwise ops into one ``jc::FusedElementwise`` node holding the chain.

``y = tanh(x * 0.5 + 1.0) * x + 3.0`` is five ops; each would read and write a
whole array.  The fused node's ``Subgraph`` attribute holds the five ops; the
runtime runs it tile by tile, so the data crosses memory once.

Grouping (TorchScript's fuser, simplified): nodes are visited last first; a
fusible node starts a group, which then absorbs the producer of any of its
inputs when that producer is fusible, sits in the same block and has no
users outside the group.  Absorbing only such producers keeps the group a
single-output DAG that can run at the position of its last node.

Fusible: the elementwise ops that are a step of the runtime's chain kernel
(:func:`.chain_program.chain_step`, read from the registry) whose tensor inputs and
output are all float32 or all float64, whose other inputs are scalars, and
(where shapes are known) whose output has the group's output shape — the
runtime chain walks one output shape; inputs may broadcast into it (scalars,
bias rows).  Scalar constants are copied into the subgraph; every other input
(tensors, tensor constants such as a frozen bias, non-constant scalars)
becomes a node input, in first-use order.  The fused node carries its chain
program as attributes (:func:`.chain_program.attach_program`), which lowering
reads.
"""

from jitcore._runtime.ir import Graph
from jitcore._runtime.op_fused import MAX_CHAIN_INPUTS, MAX_CHAIN_STEPS
from jitcore._runtime.types import TensorType

from .alias_analysis import AliasDb
from .chain_program import attach_program, chain_step
from .graph_queries import constant_value, has_side_effects, tensor_type

__all__ = ["fuse_elementwise", "FUSED_KIND", "MAX_GROUP_NODES", "MAX_GROUP_INPUTS"]

FUSED_KIND = "jc::FusedElementwise"

#: The limits of one chain: the runtime's chain kernel's, the one place that knows them.
MAX_GROUP_NODES = MAX_CHAIN_STEPS
MAX_GROUP_INPUTS = MAX_CHAIN_INPUTS

_FLOATS = ("float32", "float64")


def _is_fusible(node, aliases):
    # a group runs at its last node's position: a member reading an array written in place
    # could move past the write
    if len(node.outputs) != 1 or has_side_effects(node) or chain_step(node) is None \
            or aliases.touches_written(node):
        return False
    out = tensor_type(node.outputs[0])
    if out is None or out.dtype not in _FLOATS:
        return False
    for v in node.inputs:
        t = v.type
        if isinstance(t, TensorType):
            if t.dtype != out.dtype:
                return False
        elif t.kind not in ("int", "float", "bool", "Scalar", "str", "NoneType"):
            return False
        elif t.kind == "str" and v.node.kind != "prim::Constant":
            return False
    return True


def _fits_shape(node, shape):
    """The node's output has the group's output shape (or one of them is unknown)."""
    t = tensor_type(node.outputs[0])
    if shape is None or t.shape is None:
        return True
    return t.shape == shape


def _external_inputs(members):
    inside = {v for m in members for v in m.outputs}
    out = []
    for m in members:
        for v in m.inputs:
            if v not in inside and v not in out and not _is_scalar_constant(v):
                out.append(v)
    return out


def _is_scalar_constant(value):
    return value.node.kind == "prim::Constant" and not isinstance(value.type, TensorType)


def _grow(root, aliases):
    """The nodes fused with ``root``, in program order."""
    members = [root]
    member_set = {root}
    shape = tensor_type(root.outputs[0]).shape
    grew = True
    while grew and len(members) < MAX_GROUP_NODES:
        grew = False
        for m in list(members):
            for v in m.inputs:
                p = v.node
                if p in member_set or p.owning_block is not root.owning_block or \
                        not _is_fusible(p, aliases):
                    continue
                if any(u.user not in member_set for u in v.uses) or not _fits_shape(p, shape):
                    continue
                candidate = [p] + members
                if len(_external_inputs(candidate)) > MAX_GROUP_INPUTS:
                    continue
                members, grew = candidate, True
                member_set.add(p)
                break
            if grew:
                break
    members.sort(key=_position)
    return members


def _position(node):
    index, cur = 0, node
    while cur.prev is not None and cur.prev.kind != "prim::Param":
        cur = cur.prev
        index += 1
    return index


def _subgraph(members, inputs):
    sub = Graph()
    env = {v: sub.add_input(None, v.type) for v in inputs}
    for m in members:
        for v in m.inputs:
            if v not in env:
                env[v] = sub.insert_constant(constant_value(v), v.type)
        clone = sub.insert_node(sub.clone_node(m, env.__getitem__))
        env.update(zip(m.outputs, clone.outputs))
    sub.register_output(env[members[-1].outputs[0]])
    return sub


def _fuse_group(graph, members):
    root = members[-1]
    inputs = _external_inputs(members)
    with graph.inserting_before(root):
        fused = graph.insert(FUSED_KIND, inputs, attrs={"Subgraph": _subgraph(members, inputs)},
                             output_types=[root.outputs[0].type], source_range=root.source_range)
    attach_program(fused)
    out = root.outputs[0]
    name = out.debug_name if out.has_debug_name() else None
    out.replace_all_uses_with(fused.output())
    for m in reversed(members):
        m.destroy()
    if name is not None:
        fused.output().set_debug_name(name)


def _fuse_block(graph, block, aliases):
    changed = False
    for node in reversed(block.nodes):
        if node.is_destroyed:
            continue
        for inner in node.blocks:
            changed |= _fuse_block(graph, inner, aliases)
        if not _is_fusible(node, aliases):
            continue
        members = _grow(node, aliases)
        if len(members) >= 2:
            _fuse_group(graph, members)
            changed = True
    return changed


def fuse_elementwise(graph):
    """Replace elementwise chains of ``graph`` by ``jc::FusedElementwise`` nodes in place.

    Returns
    -------
    bool
        Whether a group was made.  Groups have at least two ops.
    """
    return _fuse_block(graph, graph.block, AliasDb(graph))
