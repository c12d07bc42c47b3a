"""The op registry: every op jitcore knows, looked up by name, overload or Python callable.

Each op is one :class:`OpDef`: its schema, its NumPy reference (the test
oracle and the constant folder), its dtype/shape rule, the Python callables
it stands for, its effect (pure, random, mutating ...) and whether its output
may alias an input.  The tracer, the script compiler, the IR printer and
linter, the passes and the docs all read this table; adding an op means one
``register`` call in ``jitcore/ops/defs/``.  The few special nodes that are
not ops (``prim::If``, ``prim::GetAttr``, calls ...) are listed in
:mod:`jitcore.ops.structural`; :func:`effect` and :func:`output_alias` answer
for both.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from jitcore._runtime.handlers import HANDLERS
from jitcore._runtime.types import AnyType, DictType, JitType, ListType, OptionalType
from jitcore.errors import SchemaError, SchemaMatchError

from .effects import Effect, OutputAlias
from .schema import FunctionSchema, parse_schema
from .shapes import UNKNOWN
from .structural import STRUCTURAL_KINDS

__all__ = [
    "OpDef", "register", "get", "overloads", "is_registered", "is_structural", "all_ops",
    "match", "accepts", "for_callable", "kinds_for_callable", "effect", "output_alias",
    "deterministic_if", "written_positions", "for_method", "methods", "numpy_spelling",
    "NumpySpelling", "UNKNOWN",
]


def _as_bound(argument, value):
    """A constant as the op receives it: one int for an ``int[N]`` argument is N of it."""
    if argument.fixed_size and isinstance(value, int) and not isinstance(value, bool):
        return [value] * argument.fixed_size
    return value


@dataclasses.dataclass(frozen=True)
class OpDef:
    """One registered op overload.

    Attributes
    ----------
    schema : FunctionSchema
    reference : callable
        The NumPy implementation, called with every argument positionally in
        schema order (defaults filled); returns an ndarray, a Python scalar or
        a tuple of those (one per schema return).
    rule : callable or None
        ``rule(input_types, constant_values) -> tuple of JitType``; None means
        the schema's declared return types.
    aliases : tuple
        Python callables that stand for this op (``np.tanh``, ``operator.add``).
    effect : Effect
        What running it does besides computing its outputs (see :class:`Effect`).
    writes : tuple of str
        For ``Effect.MUTATES``, the names of the arguments it writes.
    output_alias : OutputAlias
        Whether an output may share memory with an input (see :class:`OutputAlias`).
    deterministic_if : callable or None
        For ``Effect.RANDOM``: ``deterministic_if(*constant_values) -> bool``, one
        value per schema argument (:data:`UNKNOWN` where not a constant), True
        when the op is not random for those arguments (dropout in eval mode).
    doc : str
        One line for the op table in ``docs/ops.md``.
    kernel : str or None
        The runtime's elementwise kernel that computes this op, a key of
        ``jitcore._runtime.kernels.elementwise.UNARY_OPS`` (``"tanh"``); the
        lowering and the chain fuser read it.  None for ops run otherwise.
    chain_step : callable or None
        For an op whose elementwise kernel depends on its other arguments
        (gelu's ``approximate``, leaky_relu's slope): ``chain_step(*args)``,
        called with the constant values of the arguments after the first
        (:data:`~jitcore.ops.shapes.UNKNOWN` where one is not a constant),
        returns ``(kernel, params)`` -- a unary or parametrised kernel and its
        float parameters -- or None when no kernel computes the op for those
        arguments.  The chain fuser reads it (``passes/chain_program.py``).
    handler : tuple of (str, object) or None
        The runtime handler that runs the op and its parameter, which picks the
        op among those the handler serves: ``("reduce", "sum")``, or
        ``("size", None)`` for a handler of one op; a key of
        ``jitcore._runtime.handlers.HANDLERS`` and one of that handler's
        ``parameters``.  Lowering resolves the op's node through it.  An op
        with a ``kernel`` runs it with the ``"kernel"`` handler unless it names
        another.  None for the ops still resolved by name (``op_conv``, the
        container prims).
    methods : tuple of str
        The ndarray methods that stand for this op (``x.sum()``, ``x.dot(y)``).
    numpy_names : tuple of (str, str)
        ``(NumPy parameter, schema argument)`` pairs where the NumPy spelling of
        a call differs from the schema (``("axis", "dim")``), whether the caller
        passes the argument by keyword or by position.
    numpy_defaults : tuple of (str, object)
        ``(schema argument, value)`` pairs for arguments NumPy leaves out and
        whose NumPy meaning differs from the schema default (``("correction", 0)``
        for ``np.var``'s ``ddof=0``).
    """

    schema: FunctionSchema
    reference: Callable
    rule: Callable | None = None
    aliases: tuple = ()
    effect: Effect = Effect.PURE
    writes: tuple = ()
    output_alias: OutputAlias = OutputAlias.NONE
    deterministic_if: Callable | None = None
    doc: str = ""
    kernel: str | None = None
    chain_step: Callable | None = None
    handler: tuple | None = None
    methods: tuple = ()
    numpy_names: tuple = ()
    numpy_defaults: tuple = ()

    @property
    def kind(self):
        """The node kind, e.g. ``"aten::add"``."""
        return self.schema.name

    @property
    def qualified_name(self):
        return self.schema.qualified_name

    def infer(self, input_types, constant_values=None):
        """The output types of this op for the given input types.

        Parameters
        ----------
        input_types : sequence of JitType
            One per schema argument, in schema order.
        constant_values : sequence, optional
            The Python value of each input that is a known constant, else
            :data:`UNKNOWN` (the default for every input).

        Returns
        -------
        tuple of JitType
            One per schema return; unknown dtypes and dims are None.

        Raises
        ------
        SchemaMatchError
            If the number of inputs is wrong.
        ValueError, IndexError
            If the shapes are known to be invalid for the op (message names the op).
        """
        input_types = tuple(input_types)
        n = len(self.schema.arguments)
        if len(input_types) != n and not (self.schema.is_vararg and len(input_types) > n):
            raise SchemaMatchError(f"{self.qualified_name} takes {n} inputs, "
                                   f"got {len(input_types)} types")
        constants = ((UNKNOWN,) * len(input_types) if constant_values is None
                     else tuple(_as_bound(a, c) for a, c in zip(self.schema.arguments,
                                                              constant_values)))
        if self.rule is None:
            return tuple(r.type for r in self.schema.returns)
        try:
            out = self.rule(input_types, constants)
        except (ValueError, IndexError) as e:
            raise type(e)(f"{self.qualified_name}: {e}") from None
        return out if isinstance(out, tuple) else (out,)

    def chain_step_of(self, constants):
        """``chain_step`` for a node's constant inputs, or None when the op has none.

        Parameters
        ----------
        constants : sequence
            One entry per node input, ``(value,)`` for a constant and None
            otherwise (:data:`UNKNOWN` for ``chain_step``); the first input (the
            tensor) is skipped and the arguments past the inputs take their defaults.

        Returns
        -------
        tuple or None
            ``(kernel, params)`` as ``chain_step`` returns it.
        """
        if self.chain_step is None:
            return None
        values = [UNKNOWN if c is None else c[0] for c in list(constants)[1:]]
        values += [a.default for a in self.schema.arguments[len(values) + 1:]]
        return self.chain_step(*values)

    def __call__(self, *args):
        """Run the reference on a full argument list (see ``bind``)."""
        return self.reference(*args)


_BY_NAME: dict[str, OpDef] = {}       # qualified name -> OpDef
_BY_KIND: dict[str, list] = {}        # kind -> overloads in registration order
_BY_CALLABLE: dict[int, list] = {}    # id(callable) -> kinds, first registered first
_CALLABLES_KEEPALIVE: list = []       # keeps id() keys valid
# kind -> (effect, output alias, deterministic_if): the passes ask per node, so one lookup
_PROPERTIES: dict[str, tuple] = {kind: (eff, alias, None)
                                  for kind, (eff, alias) in STRUCTURAL_KINDS.items()}
_UNREGISTERED = (Effect.PURE, OutputAlias.NONE, None)
_BY_METHOD: dict[str, str] = {}       # ndarray method name -> kind
_NUMPY_SPELLINGS: dict[str, "NumpySpelling"] = {}   # kind -> merged over its overloads


def register(schema, *, reference, infer=None, aliases=(), effect=Effect.PURE, writes=(),
             output_alias=OutputAlias.NONE, deterministic_if=None, doc="",
             kernel=None, chain_step=None, handler=None, methods=(), numpy_names=None,
             numpy_defaults=None) -> OpDef:
    """Register one op overload.

    Parameters
    ----------
    schema : str
        ATen-style schema text.
    reference : callable
        NumPy implementation (see :class:`OpDef`).
    infer : callable, optional
        The dtype/shape rule; by default the schema's return types.
    aliases : iterable of callables
        Python callables this op stands for (for ``for_callable``).
    effect : Effect, default Effect.PURE
    writes : iterable of str
        The arguments an ``Effect.MUTATES`` op writes (required for it, refused otherwise).
    output_alias : OutputAlias, default OutputAlias.NONE
    deterministic_if : callable, optional
        Only for ``Effect.RANDOM`` (see :class:`OpDef`).
    doc : str
        One line describing the op.
    kernel : str, optional
        The elementwise kernel that computes the op (see :class:`OpDef`).
    chain_step : callable, optional
        The kernel and parameters for given constant arguments (see :class:`OpDef`).
    handler : str or tuple of (str, object), optional
        The runtime handler and its parameter (see :class:`OpDef`); a str is a
        handler that takes no parameter.  By default ``"kernel"`` for an op
        with a ``kernel``.
    methods : iterable of str
        ndarray method names that stand for the op (``"sum"``).
    numpy_names : dict, optional
        NumPy parameter name -> schema argument name, where they differ.
    numpy_defaults : dict, optional
        Schema argument name -> the value a NumPy call means when it leaves it out.

    Returns
    -------
    OpDef

    Raises
    ------
    SchemaError
        If the schema is malformed, its qualified name is already registered or
        a special node's kind, the effect fields contradict each other or the
        kind's other overloads, a method name already stands for another kind,
        ``numpy_names``/``numpy_defaults`` name an argument the schema lacks, or
        ``handler`` is not a runtime handler or not one of its parameters.
    """
    parsed = parse_schema(schema)
    qname = parsed.qualified_name
    if qname in _BY_NAME:
        raise SchemaError(f"op {qname} is already registered as {_BY_NAME[qname].schema}")
    if parsed.name in STRUCTURAL_KINDS:
        raise SchemaError(f"{parsed.name} is a special node (jitcore.ops.structural), not an op")
    if not callable(reference):
        raise SchemaError(f"{qname}: reference must be callable, got {reference!r}")
    if handler is None and kernel is not None:
        handler = "kernel"
    op = OpDef(parsed, reference, infer, tuple(aliases), Effect(effect), tuple(writes),
               OutputAlias(output_alias), deterministic_if, doc, kernel, chain_step,
               _handler_of(qname, handler), tuple(methods),
               tuple((numpy_names or {}).items()), tuple((numpy_defaults or {}).items()))
    _check_effect(op)
    _check_numpy_spelling(op)
    for method in op.methods:
        _BY_METHOD[method] = parsed.name
    _NUMPY_SPELLINGS.pop(parsed.name, None)
    _BY_NAME[qname] = op
    _BY_KIND.setdefault(parsed.name, []).append(op)
    _PROPERTIES[parsed.name] = (op.effect, op.output_alias, op.deterministic_if)
    for fn in op.aliases:
        kinds = _BY_CALLABLE.setdefault(id(fn), [])
        if parsed.name not in kinds:
            kinds.append(parsed.name)
            _CALLABLES_KEEPALIVE.append(fn)
    return op


def _handler_of(qname, handler):
    """``handler=`` as ``(name, parameter)``, checked against the runtime's handler table."""
    if handler is None:
        return None
    name, param = (handler, None) if isinstance(handler, str) else tuple(handler)
    if name not in HANDLERS:
        raise SchemaError(f"{qname}: handler={name!r} is not a runtime handler; the handlers "
                          f"are {', '.join(sorted(HANDLERS))}")
    parameters = HANDLERS[name].parameters
    if param not in (parameters if parameters is not None else (None,)):
        expected = ("no parameter" if parameters is None else
                    "one of " + ", ".join(sorted(map(repr, parameters))))
        raise SchemaError(f"{qname}: handler {name!r} takes {expected}, got {param!r}")
    return (name, param)


def _check_effect(op):
    qname = op.qualified_name
    names = {a.name for a in op.schema.arguments}
    if (op.effect is Effect.MUTATES) != bool(op.writes):
        raise SchemaError(f"{qname}: an op that mutates names the arguments it writes "
                          f"(writes=...), and only such an op does")
    unknown = [w for w in op.writes if w not in names]
    if unknown:
        raise SchemaError(f"{qname} writes {unknown[0]!r}, which is not one of its arguments")
    if op.deterministic_if is not None and op.effect is not Effect.RANDOM:
        raise SchemaError(f"{qname}: deterministic_if is only for Effect.RANDOM ops")
    known = _PROPERTIES.get(op.schema.name)
    if known is not None and known != (op.effect, op.output_alias, op.deterministic_if):
        raise SchemaError(f"{qname}: effect and output alias must agree with the kind's other "
                          f"overloads ({known[0]}, {known[1]})")


def _check_numpy_spelling(op):
    qname = op.qualified_name
    names = {a.name for a in op.schema.arguments}
    targets = [name for _, name in op.numpy_names] + [name for name, _ in op.numpy_defaults]
    unknown = [name for name in targets if name not in names]
    if unknown:
        raise SchemaError(f"{qname}: numpy_names/numpy_defaults name {unknown[0]!r}, which is "
                          "not one of its arguments")
    for method in op.methods:
        if _BY_METHOD.get(method, op.kind) != op.kind:
            raise SchemaError(f"{qname}: ndarray.{method} already stands for "
                              f"{_BY_METHOD[method]}")


@dataclasses.dataclass(frozen=True)
class NumpySpelling:
    """How NumPy spells the calls of one kind, merged over its overloads.

    Attributes
    ----------
    arguments : frozenset of str
        Every schema argument name of the kind's overloads.
    names : dict
        NumPy parameter name -> schema argument name (``"axis"`` -> ``"dim"``).
    defaults : dict
        Schema argument name -> the value NumPy means when the call leaves it out.
    """

    arguments: frozenset
    names: dict
    defaults: dict


def numpy_spelling(kind) -> NumpySpelling:
    """The :class:`NumpySpelling` of a registered kind (empty maps for an unknown kind)."""
    spelling = _NUMPY_SPELLINGS.get(kind)
    if spelling is None:
        ops = _BY_KIND.get(kind, ())
        spelling = NumpySpelling(
            frozenset(a.name for op in ops for a in op.schema.arguments),
            {k: v for op in ops for k, v in op.numpy_names},
            {k: v for op in ops for k, v in op.numpy_defaults})
        _NUMPY_SPELLINGS[kind] = spelling
    return spelling


def for_method(name) -> str | None:
    """The kind an ndarray method stands for (``"sum"`` -> ``"aten::sum"``), or None."""
    return _BY_METHOD.get(name)


def methods() -> dict:
    """Every ndarray method name the registry knows -> the kind it stands for."""
    return dict(_BY_METHOD)


def effect(kind) -> Effect:
    """The effect of a node kind: a registered op's or a special node's; PURE for any other kind.

    Any other kind is a ``jc::`` fusion of pure ops (it carries its subgraph).
    """
    return _PROPERTIES.get(kind, _UNREGISTERED)[0]


def output_alias(kind) -> OutputAlias:
    """Whether a node kind's outputs may alias its inputs (``OutputAlias.NONE`` for unknown kinds)."""
    return _PROPERTIES.get(kind, _UNREGISTERED)[1]


def written_positions(kind) -> tuple:
    """The input positions a node of ``kind`` writes in place (``Effect.MUTATES``), else ().

    Read from the ``writes`` of the kind's overloads; a special node that mutates
    (``prim::SetAttr``) writes its first input, the module.
    """
    if effect(kind) is not Effect.MUTATES:
        return ()
    if kind in STRUCTURAL_KINDS:
        return (0,)
    positions = set()
    for op in _BY_KIND.get(kind, ()):
        names = [a.name for a in op.schema.arguments]
        positions.update(names.index(w) for w in op.writes)
    return tuple(sorted(positions))


def deterministic_if(kind):
    """The predicate that says when a random kind is deterministic after all, or None."""
    return _PROPERTIES.get(kind, _UNREGISTERED)[2]


def is_structural(kind) -> bool:
    """True for the special nodes that are not ops (``prim::If``, ``prim::GetAttr``, calls ...)."""
    return kind in STRUCTURAL_KINDS


def get(qualified_name) -> OpDef:
    """The op with this qualified name (``"aten::add.Tensor"``, ``"aten::relu"``).

    Raises
    ------
    KeyError
        If no such op is registered (the message suggests overloads of the kind).
    """
    try:
        return _BY_NAME[qualified_name]
    except KeyError:
        kind = qualified_name.split(".", 1)[0] if "::" in qualified_name else qualified_name
        hint = ", ".join(o.qualified_name for o in _BY_KIND.get(kind, []))
        raise KeyError(f"no op {qualified_name!r} is registered"
                       + (f"; overloads of {kind}: {hint}" if hint else "")) from None


def overloads(kind) -> list:
    """Every overload of a kind (``"aten::add"``), in registration order; [] if none."""
    return list(_BY_KIND.get(kind, ()))


def is_registered(kind) -> bool:
    """True if a kind (``"aten::add"``) or qualified name (``"aten::add.Tensor"``) is registered."""
    return kind in _BY_KIND or kind in _BY_NAME


def all_ops() -> list:
    """Every registered OpDef, sorted by qualified name."""
    return [_BY_NAME[k] for k in sorted(_BY_NAME)]


def accepts(formal: JitType, actual: JitType, fixed_size=None) -> bool:
    """Whether a value of type ``actual`` may be passed for an argument of type ``formal``.

    This is ``is_subtype_of`` plus the two conversions schemas rely on: an
    ``int`` for an ``int[N]`` (repeated N times) and any list for ``Any[]``.
    """
    if actual.is_subtype_of(formal):
        return True
    if isinstance(formal, OptionalType):
        return accepts(formal.elem, actual, fixed_size)
    if isinstance(formal, ListType):
        if fixed_size is not None and actual.is_subtype_of(formal.elem):
            return True
        if isinstance(actual, ListType):
            return formal.elem == AnyType.get() or accepts(formal.elem, actual.elem)
    if isinstance(formal, DictType) and isinstance(actual, DictType):
        return actual.key == formal.key and (formal.value == AnyType.get()
                                             or accepts(formal.value, actual.value))
    return False


def match(kind, input_types) -> OpDef:
    """The first overload of ``kind`` whose arguments accept ``input_types`` (all, in schema order).

    Raises
    ------
    SchemaMatchError
        If no overload fits; the message lists the candidates and the given types.
    """
    candidates = _candidates(kind)
    input_types = tuple(input_types)
    for op in candidates:
        args = op.schema.arguments
        count_fits = (len(args) == len(input_types)
                      or (op.schema.is_vararg and len(args) < len(input_types)))
        if count_fits and all(accepts(a.type, t, a.fixed_size) for a, t in zip(args, input_types)):
            return op
    given = "(" + ", ".join(str(t) for t in input_types) + ")"
    raise SchemaMatchError(f"no overload of {kind} accepts the input types {given}; candidates:\n"
                           + "\n".join(f"  {op.schema}" for op in candidates))


def _candidates(kind):
    ops = _BY_KIND.get(kind)
    if not ops:
        raise SchemaMatchError(f"unknown op {kind!r}")
    return ops


def for_callable(fn) -> str | None:
    """The kind a Python callable stands for (``np.tanh`` -> ``"aten::tanh"``), or None.

    A callable that stands for several kinds (``operator.floordiv`` is
    ``aten::floor_divide`` on tensors and ``aten::floordiv`` on ints) returns the
    first registered; ``kinds_for_callable`` returns them all.
    """
    kinds = _BY_CALLABLE.get(id(fn))
    return kinds[0] if kinds else None


def kinds_for_callable(fn) -> list:
    """Every kind a Python callable stands for, in registration order."""
    return list(_BY_CALLABLE.get(id(fn), ()))

