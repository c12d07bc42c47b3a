"""The op registry: the single source of truth about ops (schemas, dtype/shape rules,
NumPy references, Python aliases).  Importing this package registers every op."""

from .schema import Argument, FunctionSchema, NO_DEFAULT, parse_schema
from .registry import (
    OpDef, UNKNOWN, all_ops, bind, for_callable, for_method, get, is_registered,
    kinds_for_callable, match, overloads, register,
)
from .dispatch import Traceable, call, current_tracer, set_tracer
from . import defs  # noqa: F401  (registers every op)

__all__ = [
    "parse_schema", "FunctionSchema", "Argument", "OpDef", "register", "get", "overloads",
    "is_registered", "all_ops", "match", "bind", "call", "for_callable", "kinds_for_callable",
    "for_method", "UNKNOWN", "NO_DEFAULT", "Traceable", "set_tracer", "current_tracer",
]
