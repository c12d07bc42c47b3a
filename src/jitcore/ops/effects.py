"""What running an op does besides computing its outputs, and whether an output shares an input's memory.

These are the two properties the optimiser needs to move, merge, fold or
remove a node safely; every op declares them in its registry entry
(``register(..., effect=..., output_alias=...)``) and the special nodes that
are not ops (``prim::If``, ``prim::GetAttr``, calls ...) declare them in
:mod:`jitcore.ops.structural`.
"""

import enum

__all__ = ["Effect", "OutputAlias", "REMOVABLE_EFFECTS"]


class Effect(enum.Enum):
    """What an op does besides computing its outputs from its inputs."""

    #: Nothing: the same inputs give the same outputs; may be folded, merged, moved or removed.
    PURE = "pure"
    #: The result is random (``aten::dropout`` in training): never folded, merged or duplicated,
    #: removed when unused.  ``OpDef.deterministic_if`` may say when it is not random after all.
    RANDOM = "random"
    #: Each run makes a new mutable object (a list, a dict): removed when unused, never merged,
    #: folded or moved, since two runs must not share it.
    NEW_OBJECT = "new_object"
    #: Writes one of its arguments in place; ``OpDef.writes`` names which.  Never removed or moved.
    MUTATES = "mutates"
    #: Observable by the caller (raise, print, Python code): never removed, merged or moved.
    SIDE_EFFECT = "side_effect"
    #: Runs another graph (``prim::CallMethod``/``CallFunction``) and has whatever effect the
    #: callee has; treated as ``SIDE_EFFECT`` unless the caller knows the callee is pure.
    CALLS = "calls"


#: Effects of nodes that dead code elimination may remove when their outputs are unused.
REMOVABLE_EFFECTS = frozenset({Effect.PURE, Effect.RANDOM, Effect.NEW_OBJECT})


class OutputAlias(enum.Enum):
    """Whether an op's outputs may share memory with its inputs at run time."""

    #: Every output is a new value.
    NONE = "none"
    #: The output may be a view of the first input (``reshape``, ``transpose``, ``select``),
    #: or the first input itself (``contiguous``, ``to`` when nothing changes).
    VIEW = "view"
    #: Outputs hold or are the inputs themselves (containers, unpacking, indexing into a
    #: container, casts, control flow and calls, which return what their blocks or callee return).
    CONTAINS = "contains"
    #: The output is module state (``prim::GetAttr``): an input of the compiled code.
    ATTRIBUTE = "attribute"
