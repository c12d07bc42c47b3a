"""The IR: graphs, their text format, and the linter.

``Graph``, ``Block``, ``Node`` and ``Value`` are Cython classes from
``jitcore._runtime.ir``; ``parse_graph`` reads the text ``str(graph)`` prints.
"""

from jitcore._runtime.ir import Block, Graph, IRError, Node, SourceRange, Use, Value, constant_type
from jitcore._runtime.types import (
    AnyType, BoolType, ClassType, DictType, FloatType, IntType, JitType, ListType, NoneType,
    NumberType, OptionalType, StrType, TensorType, TupleType, UnionType, parse_type,
)

__all__ = [
    "Graph", "Block", "Node", "Value", "Use", "SourceRange", "IRError", "constant_type",
    "JitType", "TensorType", "IntType", "FloatType", "BoolType", "StrType", "NoneType",
    "NumberType", "AnyType", "ListType", "OptionalType", "TupleType", "DictType", "ClassType",
    "UnionType",
    "parse_type", "parse_graph", "print_graph",
]


def __getattr__(name):
    # The printer and parser are plain Python modules next to this one; they
    # import lazily so ``import jitcore.ir`` stays cheap.
    if name == "parse_graph":
        from jitcore.ir.parser import parse_graph
        return parse_graph
    if name == "print_graph":
        from jitcore.ir.printer import print_graph
        return print_graph
    raise AttributeError(f"module 'jitcore.ir' has no attribute {name!r}")
