"""ATen-style function schemas: ``aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor``.

``parse_schema`` turns the text into a :class:`FunctionSchema`; ``str(schema)``
prints it back in the same spelling, so every registered schema round-trips.

Supported argument types are ``Tensor``, ``Scalar``, ``int``, ``float``,
``bool``, ``str``, ``Any`` and ``ScalarType`` (a dtype, carried as TorchScript's
int code, see :mod:`jitcore.ops.dtypes`), with the suffixes ``T[]``, ``T[N]``
(a list of fixed size N: a single value is repeated N times when bound) and
``T?``.  Defaults are Python literals: numbers, ``True``/``False``, ``None``,
quoted strings and lists of those.  ``...`` as the last argument takes any
number of further inputs, and as the returns any number of outputs (the
spelling TorchScript uses for ``prim::`` ops such as ``prim::ListConstruct``).
"""

from __future__ import annotations

import dataclasses
import re

from jitcore._runtime.types import (
    AnyType, BoolType, DictType, FloatType, IntType, JitType, ListType, NoneType, NumberType,
    OptionalType, StrType, TensorType,
)
from jitcore.errors import SchemaError

from .sentinel import Sentinel

__all__ = ["Argument", "FunctionSchema", "NO_DEFAULT", "parse_schema"]


#: Sentinel ``Argument.default`` of an argument that must be passed.
NO_DEFAULT = Sentinel("NO_DEFAULT", truth_value=True)

# Schema spelling of each base type.  ``ScalarType`` is an ``int`` whose value
# is a dtype code; Argument.is_dtype records it so that it prints back.
_BASE_TYPES = {
    "Tensor": TensorType.get(),
    "Scalar": NumberType.get(),
    "int": IntType.get(),
    "float": FloatType.get(),
    "bool": BoolType.get(),
    "str": StrType.get(),
    "Any": AnyType.get(),
    "ScalarType": IntType.get(),
}
_BASE_SPELLING = {t: name for name, t in _BASE_TYPES.items() if name != "ScalarType"}


@dataclasses.dataclass(frozen=True)
class Argument:
    """One argument (or named return) of a schema.

    Parameters
    ----------
    name : str
        The argument name (``""`` for an unnamed return).
    type : JitType
        Its IR type (``Tensor``, ``int[]``, ``Tensor?`` …).
    default : object
        The Python default value, or :data:`NO_DEFAULT`.
    kwarg_only : bool
        True for arguments after ``*``.
    fixed_size : int or None
        N for ``T[N]``; a single value is accepted and repeated N times.
    is_dtype : bool
        True when the schema spells the int as ``ScalarType`` (a dtype code).
    """

    name: str
    type: JitType
    default: object = NO_DEFAULT
    kwarg_only: bool = False
    fixed_size: int | None = None
    is_dtype: bool = False

    @property
    def has_default(self):
        return self.default is not NO_DEFAULT

    def type_spelling(self):
        """The type as the schema spells it (``int[2]``, ``ScalarType?``)."""
        return _spell(self.type, self.fixed_size, self.is_dtype)

    def __str__(self):
        text = self.type_spelling()
        if self.name:
            text += " " + self.name
        if self.has_default:
            text += "=" + _format_default(self.default)
        return text


@dataclasses.dataclass(frozen=True)
class FunctionSchema:
    """A parsed op schema.

    Attributes
    ----------
    name : str
        ``"aten::add"`` (the node kind).
    overload_name : str
        ``"Tensor"``, or ``""`` for the default overload.
    arguments : tuple of Argument
    returns : tuple of Argument
    is_vararg : bool
        True when ``...`` ends the arguments: any number of further inputs of
        any type follow the declared ones (``prim::ListConstruct(...)``).
    is_varret : bool
        True when the returns are ``...``: the node decides how many outputs
        it has (``prim::TupleUnpack(Any tup) -> ...``).
    """

    name: str
    overload_name: str
    arguments: tuple
    returns: tuple
    is_vararg: bool = False
    is_varret: bool = False

    @property
    def qualified_name(self):
        """``name.overload_name``, or ``name`` for the default overload."""
        return f"{self.name}.{self.overload_name}" if self.overload_name else self.name

    @property
    def namespace(self):
        return self.name.split("::", 1)[0]

    def argument(self, name):
        """The argument called ``name``; raises KeyError if there is none."""
        for a in self.arguments:
            if a.name == name:
                return a
        raise KeyError(f"{self.qualified_name} has no argument {name!r}")

    def __str__(self):
        parts = []
        star_written = False
        for a in self.arguments:
            if a.kwarg_only and not star_written:
                parts.append("*")
                star_written = True
            parts.append(str(a))
        if self.is_vararg:
            parts.append("...")
        if self.is_varret:
            ret = "..."
        elif len(self.returns) == 1 and not self.returns[0].name:
            ret = str(self.returns[0])
        else:
            ret = "(" + ", ".join(str(r) for r in self.returns) + ")"
        return f"{self.qualified_name}({', '.join(parts)}) -> {ret}"


def _spell(t, fixed_size, is_dtype):
    if isinstance(t, OptionalType):
        return _spell(t.elem, fixed_size, is_dtype) + "?"
    if isinstance(t, ListType):
        return _spell(t.elem, None, is_dtype) + (f"[{fixed_size}]" if fixed_size else "[]")
    if is_dtype and t == IntType.get():
        return "ScalarType"
    if isinstance(t, DictType):
        return f"Dict({_spell(t.key, None, False)}, {_spell(t.value, None, False)})"
    return _BASE_SPELLING[t]


def _format_default(value):
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_default(v) for v in value) + "]"
    return repr(value)


# ------------------------------------------------------------------- parser

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"\d*")
_NUMBER = re.compile(r"-?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\.\d+|\d+)")


class _Parser:
    """A recursive-descent parser over one schema string; errors name the offset."""

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, message, pos=None):
        pos = self.pos if pos is None else pos
        found = self.text[pos:pos + 12] or "end of text"
        return SchemaError(f"{message} at offset {pos} (found {found!r}) in schema {self.text!r}")

    def skip_ws(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token):
        self.skip_ws()
        return self.text.startswith(token, self.pos)

    def accept(self, token):
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token, what=None):
        if not self.accept(token):
            raise self.error(f"expected {what or repr(token)}")

    def ident(self, what):
        self.skip_ws()
        m = _IDENT.match(self.text, self.pos)
        if not m:
            raise self.error(f"expected {what}")
        self.pos = m.end()
        return m.group()

    # schema := ns '::' name ['.' overload] '(' arguments [', ...'] ')' '->' (returns | '...')
    def schema(self):
        ns = self.ident("a namespace such as 'aten'")
        self.expect("::")
        name = self.ident("an op name")
        overload = ""
        if self.text.startswith(".", self.pos):
            self.pos += 1
            overload = self.ident("an overload name after '.'")
        self.expect("(")
        arguments = self.arguments()
        is_vararg = self.accept("...")
        self.expect(")")
        self.expect("->")
        is_varret = self.accept("...")
        returns = [] if is_varret else self.returns()
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.error("unexpected text after the returns")
        return FunctionSchema(f"{ns}::{name}", overload, tuple(arguments), tuple(returns),
                              is_vararg, is_varret)

    def arguments(self):
        args = []
        kwarg_only = False
        if self.peek(")") or self.peek("..."):
            return args
        while True:
            self.skip_ws()
            start = self.pos
            if self.peek("..."):
                if kwarg_only:
                    raise self.error("'...' after '*'", start)
                return args
            if self.accept("*"):
                if kwarg_only:
                    raise self.error("a second '*'", start)
                kwarg_only = True
            else:
                args.append(self.argument(kwarg_only, args))
            if not self.accept(","):
                return args

    def dict_type(self):
        """``Dict(K, V)`` after its name: TorchScript's spelling of a dict type."""
        self.expect("(", "'(' after Dict")
        self.skip_ws()
        key, _, _ = self.type()
        self.skip_ws()
        self.expect(",", "',' between the key and value types of Dict")
        self.skip_ws()
        value, _, _ = self.type()
        self.skip_ws()
        self.expect(")", "')' closing Dict(")
        return DictType(key, value)

    def argument(self, kwarg_only, previous):
        self.skip_ws()
        type_start = self.pos
        t, fixed_size, is_dtype = self.type()
        self.skip_ws()
        name_start = self.pos
        name = self.ident("an argument name")
        if any(p.name == name for p in previous):
            raise self.error(f"duplicate argument name {name!r}", name_start)
        default = NO_DEFAULT
        if self.accept("="):
            self.skip_ws()
            default_start = self.pos
            default = self.default()
            _check_default(self, t, fixed_size, default, default_start)
        elif not kwarg_only and any(p.has_default and not p.kwarg_only for p in previous):
            raise self.error(f"argument {name!r} without a default follows one with a default",
                             type_start)
        return Argument(name, t, default, kwarg_only, fixed_size, is_dtype)

    def type(self):
        start = self.pos
        base = self.ident("a type")
        if base == "Dict":
            t = self.dict_type()
        elif base not in _BASE_TYPES:
            raise self.error(f"unknown type {base!r} (known: {', '.join(_BASE_TYPES)}, Dict)",
                             start)
        else:
            t = _BASE_TYPES[base]
        fixed_size = None
        while True:
            if self.text.startswith("[", self.pos):
                self.pos += 1
                m = _DIGITS.match(self.text, self.pos)
                self.pos = m.end()
                if isinstance(t, ListType) or (isinstance(t, OptionalType)
                                               and isinstance(t.elem, ListType)):
                    raise self.error("lists of lists are not supported", start)
                if m.group():
                    fixed_size = int(m.group())
                    if fixed_size < 1:
                        raise self.error("a fixed list size must be at least 1", m.start())
                self.expect("]", "']' closing the list type")
                t = ListType(t)
            elif self.text.startswith("?", self.pos):
                self.pos += 1
                if isinstance(t, OptionalType):
                    raise self.error("'??' is not a type", self.pos - 1)
                t = OptionalType(t)
            else:
                return t, fixed_size, base == "ScalarType"

    def default(self):
        self.skip_ws()
        text, pos = self.text, self.pos
        if self.accept("["):
            items = []
            if not self.accept("]"):
                while True:
                    items.append(self.default())
                    if self.accept("]"):
                        break
                    self.expect(",", "',' or ']' in a list default")
            return items
        if pos < len(text) and text[pos] in "'\"":
            end = text.find(text[pos], pos + 1)
            if end < 0:
                raise self.error("unterminated string default")
            self.pos = end + 1
            return text[pos + 1:end]
        m = _NUMBER.match(text, pos)
        if m:
            self.pos = m.end()
            literal = m.group()
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        word = _IDENT.match(text, pos)
        if word and word.group() in ("True", "False", "None"):
            self.pos = word.end()
            return {"True": True, "False": False, "None": None}[word.group()]
        raise self.error("expected a default value (number, True, False, None, string or list)")

    def returns(self):
        if self.accept("("):
            rets = []
            if not self.accept(")"):
                while True:
                    rets.append(self.return_value())
                    if self.accept(")"):
                        break
                    self.expect(",", "',' or ')' in the returns")
            return rets
        # a bare return has no name: only ``(Tensor values, ...)`` names them
        return [self.return_value(named=False)]

    def return_value(self, named=True):
        self.skip_ws()
        t, fixed_size, is_dtype = self.type()
        self.skip_ws()
        name = ""
        if named and _IDENT.match(self.text, self.pos):
            name = self.ident("a return name")
        return Argument(name, t, NO_DEFAULT, False, fixed_size, is_dtype)


def _default_fits(t, value):
    """Whether a literal default is a value of type ``t``."""
    if isinstance(t, OptionalType):
        return value is None or _default_fits(t.elem, value)
    if isinstance(t, ListType):
        return isinstance(value, list) and all(_default_fits(t.elem, v) for v in value)
    if t == IntType.get():
        return isinstance(value, int) and not isinstance(value, bool)
    if t == FloatType.get():
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == BoolType.get():
        return isinstance(value, bool)
    if t == NumberType.get():
        return isinstance(value, (int, float))
    if t == StrType.get():
        return isinstance(value, str)
    if t == AnyType.get():
        return True
    return value is None and t == NoneType.get()


def _check_default(parser, t, fixed_size, value, pos):
    # ``int[2] stride=1`` is ATen's shorthand for [1, 1].
    scalar_for_list = (fixed_size is not None and isinstance(t, ListType)
                       and _default_fits(t.elem, value) and not isinstance(value, list))
    if not (scalar_for_list or _default_fits(t, value)):
        raise parser.error(f"default {_format_default(value)} is not a value of type "
                           f"{_spell(t, fixed_size, False)}", pos)


def parse_schema(text):
    """Parse an ATen-style schema.

    Parameters
    ----------
    text : str
        e.g. ``"aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)"``.

    Returns
    -------
    FunctionSchema

    Raises
    ------
    SchemaError
        If the text is malformed; the message names the offset and what was expected.
    """
    if not isinstance(text, str):
        raise SchemaError(f"a schema must be a str, got {type(text).__name__}")
    return _Parser(text).schema()
