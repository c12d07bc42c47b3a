"""The special nodes that are not ops: they structure a program rather than compute.

They have no schema (their inputs and outputs follow the program: a ``prim::If``
returns what its blocks return, a ``prim::CallMethod`` what the method does),
so they are not in the registry; this table gives the passes their effect and
output aliasing, the two properties the registry gives for every op.
"""

from .effects import Effect, OutputAlias

__all__ = ["STRUCTURAL_KINDS"]

#: kind -> (effect, output alias) of every special node.
STRUCTURAL_KINDS = {
    # a graph's inputs and outputs: not in any block's node list, never removed or merged
    "prim::Param": (Effect.SIDE_EFFECT, OutputAlias.NONE),
    "prim::Return": (Effect.SIDE_EFFECT, OutputAlias.NONE),
    "prim::Constant": (Effect.PURE, OutputAlias.NONE),
    # control flow: the nodes of their blocks decide their effects
    "prim::If": (Effect.PURE, OutputAlias.CONTAINS),
    "prim::Loop": (Effect.PURE, OutputAlias.CONTAINS),
    "prim::GetAttr": (Effect.PURE, OutputAlias.ATTRIBUTE),
    "prim::SetAttr": (Effect.MUTATES, OutputAlias.NONE),
    "prim::CallMethod": (Effect.CALLS, OutputAlias.CONTAINS),
    "prim::CallFunction": (Effect.CALLS, OutputAlias.CONTAINS),
    # an @jitcore.ignore'd Python function, named by the node: arbitrary Python code
    "prim::PythonOp": (Effect.SIDE_EFFECT, OutputAlias.CONTAINS),
}
