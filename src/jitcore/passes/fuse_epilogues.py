"""Fuse ``linear``/``conv2d`` with the residual add and activation that follow into one ``jc::`` op.

Patterns (each intermediate used only by the next step, in the same block):

* ``act(op(x, w, b))``                       -> ``op_act(..., residual=None, activation)``
* ``act(op(x, w, b) + r)`` / ``act(r + op(...))`` -> ``residual=r``
* ``act(op(x, w, b)) + r``                   -> ``residual=r, residual_after_activation=True``
* ``op(x, w, b) + r``                        -> ``activation='none'``

where ``op`` is ``aten::linear`` (-> ``jc::linear_act``) or ``aten::conv2d``
(-> ``jc::conv2d_act``), ``act`` one of relu, gelu (erf or tanh form), silu,
sigmoid, tanh, hardswish, hardsigmoid, or a clamp the epilogue has by name
(relu6: ``relu6`` or ``hardtanh(x, 0, 6)``), and the add has ``alpha=1``.  Every value involved must be a
float32/float64 tensor of one dtype and the residual no higher rank than the
result, so the fused op computes exactly the same dtype and shape.  The
activation and flag are constant inputs, so the registry's reference (and
schema) describe the fused node completely; see ``jitcore/ops/defs/fused.py``.
"""

from jitcore import ops
from jitcore._runtime.kernels.conv import EPILOGUE_CLAMPS
from jitcore._runtime.kernels.linalg import EPILOGUE_ACTIVATIONS

from .alias_analysis import AliasDb
from .graph_queries import constant_value, replace_value, rewrite_nodes, tensor_type
from .transpose_linear_weights import transpose_linear_weights

__all__ = ["fuse_epilogues"]

_FUSED_KIND = {"aten::linear": "jc::linear_act", "aten::conv2d": "jc::conv2d_act"}
# gelu's kernel depends on its ``approximate`` argument, so its entry names none
_GELU_FORMS = {"none": "gelu", "tanh": "gelu_tanh"}
_FLOATS = ("float32", "float64")


def _sole_user(value):
    uses = value.uses
    if len(uses) != 1:
        return None
    user = uses[0].user
    if user.owning_block is not value.node.owning_block or len(user.outputs) != 1:
        return None   # a use by a nested block, or by the block's prim::Return
    return user


def _float_dtype(value):
    t = tensor_type(value)
    return t.dtype if t is not None and t.dtype in _FLOATS else None


def _activation_of(node, value):
    """The epilogue name of activation ``node`` applied to ``value``, or None."""
    if node is None or node.inputs[0] is not value or _float_dtype(node.outputs[0]) != _float_dtype(value):
        return None
    if node.kind == "aten::gelu":
        return _GELU_FORMS.get(constant_value(node.inputs[1]))
    kernels = {op.kernel for op in ops.overloads(node.kind)}
    if len(kernels) == 1 and len(node.inputs) == 1:
        kernel = kernels.pop()
        if kernel in EPILOGUE_ACTIVATIONS:
            return kernel
    return _clamp_of(node)


def _clamp_of(node):
    """The epilogue name of a clamp to constant bounds (the ``hardtanh`` chain step of
    ``relu6``, ``hardtanh``), or None."""
    overloads = ops.overloads(node.kind)
    if len(overloads) != 1 or overloads[0].chain_step is None:
        return None
    step = overloads[0].chain_step(*(constant_value(v) for v in node.inputs[1:]))
    if step is None or step[0] != "hardtanh":
        return None
    for name, clamp in EPILOGUE_CLAMPS.items():
        if tuple(step[1]) == clamp:
            return name
    return None


def _residual_of(node, value):
    """The other operand of ``add(value, r)``/``add(r, value)`` (alpha 1) keeping dtype and rank, or None."""
    if node is None or node.kind != "aten::add" or len(node.inputs) != 3:
        return None
    if constant_value(node.inputs[2]) != 1:
        return None
    a, b = node.inputs[0], node.inputs[1]
    other = b if a is value else a if b is value else None
    if other is None or other is value:
        return None
    dtype, ot, vt = _float_dtype(value), tensor_type(other), tensor_type(value)
    if dtype is None or ot is None or ot.dtype != dtype or _float_dtype(node.outputs[0]) != dtype:
        return None
    if ot.rank is None or vt.rank is None or ot.rank > vt.rank:
        return None
    return other


def _match_epilogue(op_node):
    """``(consumed nodes, residual, activation, residual_after_activation)`` or None."""
    current = op_node.outputs[0]
    if _float_dtype(current) is None:
        return None
    consumed, residual, activation, after = [], None, "none", False
    user = _sole_user(current)
    r = _residual_of(user, current)
    if r is not None:
        residual, current = r, user.outputs[0]
        consumed.append(user)
        user = _sole_user(current)
    name = _activation_of(user, current)
    if name is not None:
        activation, current = name, user.outputs[0]
        consumed.append(user)
        if residual is None:
            user = _sole_user(current)
            r = _residual_of(user, current)
            if r is not None:
                residual, after, current = r, True, user.outputs[0]
                consumed.append(user)
    return (consumed, residual, activation, after) if consumed else None


def _fuse(graph, op_node, consumed, residual, activation, after):
    last = consumed[-1]
    with graph.inserting_before(last):
        tail = [residual if residual is not None else graph.insert_constant(None),
                graph.insert_constant(activation), graph.insert_constant(after)]
        fused = graph.insert(_FUSED_KIND[op_node.kind], list(op_node.inputs) + tail,
                             output_types=[last.outputs[0].type], source_range=op_node.source_range)
    if not replace_value(last.outputs[0], fused.output()):
        fused.destroy()
        return False
    for node in reversed(consumed):
        node.destroy()
    op_node.destroy()
    return True


def _fuse_node(graph, node, aliases):
    if node.kind not in _FUSED_KIND:
        return False
    match = _match_epilogue(node)
    # the fused node runs at the last consumed node: its inputs must not be written in between
    if match is None or any(aliases.touches_written(n) for n in [node, *match[0]]):
        return False
    return _fuse(graph, node, *match)


def fuse_epilogues(graph):
    """Rewrite linear/conv2d + residual + activation chains of ``graph`` in place; returns whether any.

    The fused (and plain) linears then get their constant weights in the
    memory order their GEMM reads without repacking (``transpose_linear_weights``):
    both rewrites prepare a frozen graph's products for the epilogue kernels.
    """
    aliases = AliasDb(graph)
    fused = rewrite_nodes(graph.block, lambda node: _fuse_node(graph, node, aliases))
    return transpose_linear_weights(graph) or fused
