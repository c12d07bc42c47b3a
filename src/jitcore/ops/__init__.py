"""The op registry: the single source of truth about ops (schemas, dtype/shape rules,
NumPy references, Python aliases, effects, output aliasing).  Importing this package
registers every op."""

from .schema import Argument, FunctionSchema, NO_DEFAULT, parse_schema
from .effects import Effect, OutputAlias
from .registry import (
    OpDef, UNKNOWN, all_ops, deterministic_if, effect, for_callable, for_method, get,
    is_registered, is_structural, kinds_for_callable, match, output_alias, overloads, register,
)
from .binding import bind
from .dispatch import Traceable, call, current_tracer, set_tracer
from . import defs  # noqa: F401  (registers every op)

__all__ = [
    "parse_schema", "FunctionSchema", "Argument", "OpDef", "register", "get", "overloads",
    "is_registered", "is_structural", "all_ops", "match", "bind", "call", "for_callable",
    "kinds_for_callable", "for_method", "effect", "output_alias", "deterministic_if", "Effect",
    "OutputAlias", "UNKNOWN", "NO_DEFAULT", "Traceable", "set_tracer", "current_tracer",
]
