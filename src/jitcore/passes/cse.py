"""Common subexpression elimination: compute each pure expression once.

Two nodes are the same expression when they have the same kind, read the
same values and carry equal attributes (constants compare by type and value,
so ``1``, ``1.0`` and ``True`` stay distinct).  Scoping follows the blocks: an
expression computed before a ``prim::If``/``prim::Loop`` is reused inside its
blocks, but one computed inside a block is never reused outside it or in a
sibling block, where it may not have run.

Only pure nodes are merged (``graph_queries.is_pure``: never one with an
effect, a random op or a new mutable list or dict), never a node with nested
blocks, and ``prim::GetAttr`` only when the graph writes no attribute.
"""

from collections import ChainMap

import numpy as np

from .alias_analysis import AliasDb
from .graph_queries import is_pure

__all__ = ["eliminate_common_subexpressions"]

# Arrays up to this many elements are compared by content; larger ones by identity.
_CONTENT_KEY_LIMIT = 4096


def _attr_key(value):
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, (int, str)):
        return (type(value).__name__, value)
    if isinstance(value, list):
        return ("list", tuple(_attr_key(v) for v in value))
    if isinstance(value, np.ndarray):
        if value.size <= _CONTENT_KEY_LIMIT:
            return ("array", value.dtype.str, value.shape, value.tobytes())
        return ("array-id", id(value))
    return ("object", id(value))


def _expression_key(node):
    attrs = tuple((name, _attr_key(node.attr(name))) for name in sorted(node.attr_names()))
    types = tuple(str(v.type) for v in node.outputs)
    return (node.kind, tuple(id(v) for v in node.inputs), attrs, types)


def _mergeable(node, attributes_written, aliases):
    if node.blocks or not is_pure(node, aliases):
        return False
    return not (attributes_written and node.kind == "prim::GetAttr")


def _cse_block(block, seen, attributes_written, aliases):
    changed = False
    for node in block.nodes:
        for inner in node.blocks:
            changed |= _cse_block(inner, seen.new_child(), attributes_written, aliases)
        if not _mergeable(node, attributes_written, aliases):
            continue
        key = _expression_key(node)
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = node
            continue
        for old, new in zip(node.outputs, earlier.outputs):
            old.replace_all_uses_with(new)
        node.destroy()
        changed = True
    return changed


def eliminate_common_subexpressions(graph):
    """Merge repeated pure expressions of ``graph`` in place; returns whether any was merged."""
    attributes_written = any(n.kind == "prim::SetAttr" for n in graph.walk())
    return _cse_block(graph.block, ChainMap(), attributes_written, AliasDb(graph))
