"""Compile graphs into callables: the execution engine behind ScriptFunction/ScriptModule calls.

Two entry points:

* :func:`compile_method` -- what every ``ScriptFunction``/``ScriptModule`` call
  runs through: a :class:`CompiledMethod` with a bounded, thread-safe cache of
  plans keyed by the input signature (dtype, rank, shape).  A new signature is
  specialised (:func:`jitcore.passes.specialize`: inlined, typed, optimised,
  fused), lowered and cached; beyond :data:`MAX_SPECIALISED_PLANS` signatures
  a dynamic-shape plan (the optimised graph without shapes) serves every
  further signature of that dtype and rank, so a varying batch size never
  causes more than that many compilations.  Module attributes (parameters,
  buffers, scalars) read by ``prim::GetAttr`` chains from ``self`` become extra
  inputs fetched at each call, so ``load_state_dict`` after compiling takes
  effect.  The per-call path (signature check against the last plan, frame,
  run, outputs) is Cython: :mod:`jitcore._runtime.call_path`.  See
  ``docs/executor.md``.
* :func:`compile_graph` -- one graph lowered as it is, with argument checks
  against its declared input types (tests, benchmarks, tools).

Fallback: when a graph uses an op the runtime has no kernel for, lowering
raises :class:`~jitcore.errors.CompileError` and the plan runs the graph with
the pure-Python reference interpreter (``jitcore.reference_interpreter``):
slower, never wrong.  The reason is kept in ``fallback_reason``.
"""

import re
import threading
import warnings
import weakref

import numpy as np

from jitcore import passes
from jitcore._runtime.call_path import SLOT_KINDS, Dispatcher, Plan, array_semantics
from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore._runtime.types import (
    BoolType, FloatType, IntType, ListType, NoneType, NumberType, OptionalType, TensorType,
    TupleType,
)
from jitcore.errors import CompileError
from jitcore.passes.inline import inline
from jitcore.passes.specialize import fold_training_flags
from jitcore.reference_interpreter import ReferenceProgram

__all__ = ["Executable", "compile_graph", "CompiledMethod", "compile_method",
           "MAX_SPECIALISED_PLANS", "parameter_names", "refuse_array_semantics"]


def parameter_names(inputs):
    """The names the user gave the parameters that ``inputs`` (graph input values) stand for.

    Graph inputs carry SSA names: scripting renames a reassigned parameter ``x``
    to ``x.1``.  A Python identifier has no dot, so the user's name is the debug
    name without its ``.N`` suffix (what ``.code`` prints, the same rule as
    :mod:`jitcore.ir.python_printer`); clashes (a traced ``*args``) become
    ``name_1``, ``name_2``, unnamed inputs ``arg<k>``.  Messages and keyword
    binding use these, never the SSA names.
    """
    names, taken = [], set()
    for k, value in enumerate(inputs):
        base = re.sub(r"\.\d+$", "", value.debug_name) if value.has_debug_name() else ""
        base = base if base.isidentifier() else f"arg{k}"
        name, suffix = base, 0
        while name in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        taken.add(name)
        names.append(name)
    return names


def compile_graph(graph, *, functions=None, fallback=True, name="forward"):
    """Lower ``graph`` and return an :class:`Executable`.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction`` nodes.
    fallback : bool
        Run unsupported graphs with the reference interpreter (default) instead
        of raising :class:`~jitcore.errors.CompileError`.
    name : str
        The function name used in argument error messages.
    """
    return Executable(graph, functions=functions, fallback=fallback, name=name)


class Executable:
    """A compiled graph: ``executable(*args)`` runs it.

    Attributes
    ----------
    graph : Graph
    code : Code or None
        The lowered program (None when falling back).
    fallback_reason : str or None
        Why the reference interpreter runs this graph, if it does.
    """

    def __init__(self, graph, *, functions=None, fallback=True, name="forward"):
        self.graph = graph
        self.name = name
        self.fallback_reason = None
        self._reference = None
        self._checks = [_argument_check(name, i, v, label) for i, (v, label)
                        in enumerate(zip(graph.inputs, parameter_names(graph.inputs)))]
        self._n_outputs = len(graph.outputs)
        # Fully known tensor inputs: (dtype, shape) to compare in one pass per call.
        self._exact = [(c.dtype, c.shape) if isinstance(c, _TensorCheck) and c.dtype is not None
                       and c.shape is not None and None not in c.shape else None
                       for c in self._checks]
        self._all_exact = all(e is not None for e in self._exact)
        try:
            self.code = lower(graph, functions)
        except CompileError as e:
            if not fallback:
                raise
            self.code = None
            self.fallback_reason = str(e)
            self._reference = ReferenceProgram(graph, functions=functions)

    def __call__(self, *args):
        if len(args) != len(self._checks):
            raise TypeError(f"{self.name}() takes {len(self._checks)} arguments "
                            f"({', '.join(c.label for c in self._checks)}), got {len(args)}")
        if not self._fast_signature(args):
            args = [check(arg) for check, arg in zip(self._checks, args)]
        if self.code is not None:
            outs = execute(self.code, args)
        else:
            outs = self._reference(*args)
        return outs[0] if self._n_outputs == 1 else tuple(outs)

    def _fast_signature(self, args):
        """True when every argument is an ndarray of exactly the declared dtype and shape.

        The common call of a specialised graph; anything else goes through the
        per-argument checks, which also build the error messages.
        """
        if not self._all_exact:
            return False
        for arg, (dtype, shape) in zip(args, self._exact):
            if type(arg) is not np.ndarray or arg.dtype is not dtype or arg.shape != shape:
                return False
        return True

    def dump(self):
        """The lowered program's listing (or the fallback reason)."""
        if self.code is None:
            return f"reference interpreter fallback: {self.fallback_reason}"
        return self.code.dump()

    def __repr__(self):
        how = "interpreter" if self.code is not None else "reference fallback"
        return f"<Executable {self.name}({len(self._checks)} args) via {how}>"


# -------------------------------------------------------------- argument checks

def refuse_array_semantics(arg, where, name):
    """Raise ``TypeError`` if ``arg`` is an ndarray subclass whose semantics compiled code
    would drop (``np.ma.MaskedArray``, ``np.matrix``); see ``dispatch.array_semantics``.

    ``where`` is the function's name, ``name`` the argument's as the user wrote it.
    """
    if type(arg) is np.ndarray or not isinstance(arg, np.ndarray):
        return
    reason = array_semantics(type(arg))
    if reason is not None:
        kind = f"{type(arg).__module__}.{type(arg).__qualname__}"
        raise TypeError(f"{where}(): argument {name!r} is a {kind}, and compiled code would "
                        f"silently drop {reason}; pass {name}.data or np.asarray({name}) "
                        "explicitly if the plain array is what you mean")


class _Check:
    """Validates (and normalises) one argument; ``label`` names it in messages."""

    def __init__(self, fn_name, index, value, label):
        self.label = label
        self.fn_name = fn_name
        self.where = f"{fn_name}() argument '{self.label}' (position {index + 1})"
        self.type = value.type

    def __call__(self, arg):
        return arg


class _TensorCheck(_Check):
    def __init__(self, fn_name, index, value, label):
        super().__init__(fn_name, index, value, label)
        t = value.type
        self.dtype = None if t.dtype is None else np.dtype(t.dtype)
        self.shape = None if t.shape is None else tuple(t.shape)

    def __call__(self, arg):
        refuse_array_semantics(arg, self.fn_name, self.label)
        if not isinstance(arg, np.ndarray):
            if isinstance(arg, (bool, int, float, str, list, tuple, dict)) or arg is None:
                raise TypeError(f"{self.where}: expected a tensor (ndarray), got "
                                f"{type(arg).__name__}")
            try:
                arg = np.asarray(arg)
            except Exception as e:
                raise TypeError(f"{self.where}: expected a tensor (ndarray), got "
                                f"{type(arg).__name__}") from e
        if self.dtype is not None and arg.dtype != self.dtype:
            # byte order is not part of the type: a big-endian float32 is a float32
            if arg.dtype.newbyteorder("=") != self.dtype:
                raise TypeError(f"{self.where}: expected dtype {self.dtype}, got {arg.dtype}")
        if self.shape is not None:
            if arg.ndim != len(self.shape):
                raise ValueError(f"{self.where}: expected a tensor of rank {len(self.shape)} "
                                 f"{_shape_text(self.shape)}, got rank {arg.ndim} "
                                 f"with shape {arg.shape}")
            for want, got in zip(self.shape, arg.shape):
                if want is not None and want != got:
                    raise ValueError(f"{self.where}: expected shape {_shape_text(self.shape)}, "
                                     f"got {arg.shape}")
        return arg


class _ScalarCheck(_Check):
    _ACCEPTS = {"int": (int, np.integer), "float": (float, int, np.floating, np.integer),
                "bool": (bool, np.bool_), "Scalar": (bool, int, float, np.number, np.bool_)}

    def __call__(self, arg):
        kind = str(self.type)
        accepted = self._ACCEPTS[kind]
        ok = isinstance(arg, accepted) and not (kind in ("int", "float") and isinstance(arg, (bool, np.bool_)))
        if not ok:
            raise TypeError(f"{self.where}: expected {kind}, got {type(arg).__name__}")
        return arg


def _argument_check(fn_name, index, value, label):
    t = value.type
    if isinstance(t, TensorType):
        return _TensorCheck(fn_name, index, value, label)
    if t in (IntType.get(), FloatType.get(), BoolType.get(), NumberType.get()):
        return _ScalarCheck(fn_name, index, value, label)
    return _Check(fn_name, index, value, label)


def _shape_text(shape):
    return "(" + ", ".join("*" if d is None else str(d) for d in shape) + ")"


# ------------------------------------------------------------- compiled methods

#: Signatures (dtype, rank, shape of every argument) that get a plan of their own.
MAX_SPECIALISED_PLANS = 8


def compile_method(graph, *, self_object=None, functions=None, name="forward",
                   validate=None, complete=None, optimize=True, max_plans=MAX_SPECIALISED_PLANS,
                   result_class=None):
    """A :class:`CompiledMethod` for a function graph or a method graph of ``self_object``.

    Parameters
    ----------
    graph : Graph
        A function graph, or a method graph whose first input is ``self``.
    self_object : ScriptModule, optional
        What ``self`` denotes (method graphs only).
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction`` nodes.
    name : str
        The name used in error messages.
    validate : callable, optional
        ``validate(args)`` raises a clear error for bad arguments; it runs on
        every call that does not match the last plan's signature.
    complete : callable, optional
        ``complete(args) -> args``: the full argument tuple of a positional call
        that omits arguments with defaults (it raises the ``TypeError`` of a
        call that omits others).  The compiled code takes every argument.
    optimize : bool
        Build plans from the optimised graphs of :mod:`jitcore.passes`
        (default); False lowers the inlined graph as it is.
    max_plans : int
        How many signatures get a specialised plan.
    result_class : type, optional
        A NamedTuple class calls make their tuple result into (the return annotation's).
    """
    compiled = CompiledMethod(graph, self_object=self_object, functions=functions, name=name,
                              validate=validate, complete=complete, optimize=optimize,
                              max_plans=max_plans)
    compiled.dispatcher.result_class = result_class
    return compiled


# Every CompiledMethod of a module: plans fold the modules' ``training`` flags
# (``passes.specialize``), so a change of any flag must drop them all.
_MODULE_METHODS = weakref.WeakSet()
_MODULE_METHODS_LOCK = threading.Lock()


def forget_module_plans():
    """Drop the cached plans of every compiled module method.

    ``ScriptModule.train()``/``eval()`` call this when a ``training`` flag
    changes; the next call of each method specialises again with the new flags.
    Calls already running keep the plan they started with.
    """
    with _MODULE_METHODS_LOCK:
        methods = list(_MODULE_METHODS)
    for method in methods:
        method.forget_plans()


class CompiledMethod:
    """A compiled function or method: ``compiled(*args)`` runs it.

    Calls go through a :class:`jitcore._runtime.call_path.Dispatcher`; this
    class is its slow path (argument validation, the plan cache, building
    plans) and the introspection API.

    Attributes
    ----------
    graph : Graph
        The graph as compiled (with ``self`` and method calls, if a method).
    optimisation_errors : list of str
        Messages of optimiser failures (the plan then used the inlined,
        unoptimised graph).
    """

    def __init__(self, graph, *, self_object=None, functions=None, name="forward",
                 validate=None, complete=None, optimize=True, max_plans=MAX_SPECIALISED_PLANS):
        if max_plans < 0:
            raise ValueError(f"max_plans must be >= 0, got {max_plans}")
        self.graph = graph
        self.self_object = self_object
        self.functions = dict(functions or {})
        self.name = name
        self.optimize = optimize
        self.max_plans = max_plans
        self.optimisation_errors = []
        self._validate = validate
        self._complete = complete
        self._skip = 1 if self_object is not None else 0
        self._declared = [v.type for v in graph.inputs[self._skip:]]
        self._plans = {}            # signature key -> specialised Plan
        self._generic = {}          # dtype/rank key -> dynamic-shape Plan
        self.builds = 0             # plans built so far (tests: no retrace storm)
        self._dispatcher = Dispatcher(len(self._declared), self._slow_path, name)
        self._lock = self._dispatcher.lock
        if self_object is not None:
            with _MODULE_METHODS_LOCK:
                _MODULE_METHODS.add(self)

    def __call__(self, *args):
        return self._dispatcher.call_tuple(args)

    @property
    def dispatcher(self):
        """The per-call entry point (calling it is the fastest way in)."""
        return self._dispatcher

    # ------------------------------------------------------------ the cache
    def plans(self):
        """The specialised plans, keyed by signature (a snapshot)."""
        with self._lock:
            return dict(self._plans)

    def generic_plans(self):
        """The dynamic-shape plans, keyed by dtype/rank signature (a snapshot)."""
        with self._lock:
            return dict(self._generic)

    def plan_for(self, *args):
        """The specialised plan for ``args``' signature (built and cached if needed).

        Unlike a call, this specialises even when the cache is full; the plan
        is then returned without being cached.
        """
        args = self._checked(args)
        return self._specialised_plan(args, _signature(self._declared, args, True))

    def graph_for(self, *args):
        """The specialised, optimised graph a plan for ``args`` is lowered from.

        A pure function of the graph, the module's attribute types and the
        arguments' signature: independent of earlier calls.
        """
        return self.plan_for(*args).graph

    def forget_plans(self):
        """Empty the plan cache; the next call builds its plan afresh."""
        with self._lock:
            self._plans.clear()
            self._generic.clear()
            self._publish()
        self._dispatcher.forget_last()

    def _checked(self, args):
        args = tuple(args)
        if self._complete is not None and len(args) != len(self._declared):
            args = self._complete(args)
        if self._validate is not None:
            self._validate(args)
        elif len(args) != len(self._declared):
            raise TypeError(f"{self.name}() takes {len(self._declared)} arguments, got {len(args)}")
        return args

    def _slow_path(self, args):
        """The Dispatcher's miss: validate, find or build the plan, return ``(plan, args)``."""
        if self._complete is not None and len(args) != len(self._declared):
            # a call omitting defaulted arguments: complete, the plan of full calls serves it
            args = self._complete(args)
            plan = self._dispatcher.last_plan
            if plan is not None and plan.code is not None and plan.matches(args):
                return plan, args
        args = self._checked(args)
        key = _signature(self._declared, args, True)
        with self._lock:
            plan = self._plans.get(key)
            full = plan is None and len(self._plans) >= self.max_plans
        if plan is not None and plan.matches(args):
            return plan, args
        if not full:
            return self._specialised_plan(args, key), args
        generic_key = _signature(self._declared, args, False)
        with self._lock:
            plan = self._generic.get(generic_key)
        if plan is None or not plan.matches(args):
            plan = self._build(args, specialise=False)
            with self._lock:
                self._generic[generic_key] = plan
                self._publish()
        return plan, args

    def _publish(self):
        """Hand the Dispatcher the current plans (lock held): its lock-free lookup list."""
        self._dispatcher.publish([*self._plans.values(), *self._generic.values()])

    def _specialised_plan(self, args, key):
        with self._lock:
            plan = self._plans.get(key)
        if plan is not None and plan.matches(args):
            return plan
        plan = self._build(args, specialise=True)
        with self._lock:
            current = self._plans.get(key)
            if current is not None and current.matches(args):
                return current          # another thread built it first
            if current is not None or len(self._plans) < self.max_plans:
                self._plans[key] = plan
                self._publish()
        return plan

    # ------------------------------------------------------------- building
    def _build(self, args, *, specialise):
        graph = self._optimised_graph(args, specialise)
        reads = _attribute_reads(graph, self.self_object) if self._skip else []
        attributes = [source for _, source, _ in reads]
        try:
            code = lower(graph, self.functions,
                         attributes=[values for _, _, values in reads] if self._skip else None)
            reason = reference = None
        except CompileError as e:
            code, reason = None, str(e)
            reference = _reference_runner(graph, self.self_object, self.functions)
        values = [_read(source) for source in attributes] if code is not None else []
        slots = _signature(self._declared, args, specialise, slots=True)
        slots += [_value_slot(v) for v in values]
        if code is None:
            attributes = []
        self.builds += 1
        return Plan(graph, code, slots, attributes, len(self._declared), reference=reference,
                    fallback_reason=reason, specialised=specialise)

    def _optimised_graph(self, args, specialise):
        try:
            if self.optimize and specialise:
                return passes.specialize(self.graph, list(args), self_object=self.self_object,
                                         functions=self.functions)
            graph = self.graph.copy()
            for value in graph.inputs[self._skip:]:
                t = value.type
                if isinstance(t, TensorType) and t.shape is not None:
                    value.set_type(TensorType(t.dtype, (None,) * len(t.shape)))
            inline(graph, self.self_object, self.functions)
            if self._skip:
                fold_training_flags(graph, self.self_object)
            if self.optimize:
                passes.pipeline.run(graph, "inference", functions=self.functions)
            return graph
        except CompileError:
            raise
        except Exception as e:      # an optimiser bug must not break a correct program
            message = f"{type(e).__name__}: {e}"
            self.optimisation_errors.append(message)
            warnings.warn(f"jitcore: optimising {self.name}() failed ({message}); "
                          "running the unoptimised graph", RuntimeWarning, stacklevel=4)
            graph = self.graph.copy()
            inline(graph, self.self_object, self.functions)
            return graph

    def __repr__(self):
        return (f"<CompiledMethod {self.name}({len(self._declared)} args): "
                f"{len(self._plans)} specialised plans, {len(self._generic)} dynamic>")


def _signature(declared, args, specialise, slots=False):
    """Per argument ``(kind, type_num, ndim, shape or None)``: the plan key (a tuple) or slots."""
    out = []
    for t, arg in zip(declared, args):
        if isinstance(arg, np.ndarray):
            out.append((SLOT_KINDS["tensor"], arg.dtype.num, arg.ndim,
                        tuple(arg.shape) if specialise else None))
        elif arg is None:
            out.append((SLOT_KINDS["none"], 0, 0, None))
        else:
            kind = _SCALAR_SLOTS.get(str(t), "any")
            out.append((SLOT_KINDS[kind], 0, 0, None))
    return out if slots else tuple(out)


_SCALAR_SLOTS = {"int": "int", "float": "float", "bool": "bool", "Scalar": "number"}


def _value_slot(value):
    """The slot of an attribute value: its exact type, and an array's dtype and shape."""
    if isinstance(value, np.ndarray):
        return (SLOT_KINDS["tensor"], value.dtype.num, value.ndim, tuple(value.shape))
    if value is None:
        return (SLOT_KINDS["none"], 0, 0, None)
    kind = {bool: "bool", int: "int", float: "float"}.get(type(value), "any")
    return (SLOT_KINDS[kind], 0, 0, None)


def _attribute_reads(graph, self_object):
    """The data attributes a method graph reads from ``self``.

    Returns
    -------
    list of (path, source, values)
        ``path`` the attribute names from ``self``; ``source`` ``(container,
        key)`` to fetch it at call time (the owner's parameter/buffer dict or
        instance dict, else the owner itself for ``getattr``); ``values`` the
        ``prim::GetAttr`` outputs that read it.  Reads of submodules (which
        only lead to further reads) are not listed.
    """
    if not graph.inputs:
        return []
    self_value = graph.inputs[0]
    objects = {self_value: self_object}
    reads = {}
    for node in graph.walk():
        if node.kind != "prim::GetAttr" or node.input(0) not in objects:
            continue
        owner = objects[node.input(0)]
        name = node.attr("name")
        value = getattr(owner, name)
        if _is_module(value):
            objects[node.output()] = value
            continue
        path = _path_of(node, self_value)
        if path not in reads:
            reads[path] = (path, _source_of(owner, name), [])
        reads[path][2].append(node.output())
    return list(reads.values())


def _is_module(value):
    # A jitcore.nn.Module, compiled or not, known by its table of submodules: the
    # executor sits below nn and does not import it.
    return isinstance(getattr(value, "_modules", None), dict)


def _path_of(node, self_value):
    names = []
    while True:
        names.append(node.attr("name"))
        parent = node.input(0)
        if parent is self_value:
            return tuple(reversed(names))
        node = parent.node


def _source_of(owner, name):
    """Where ``owner.name`` lives, so that a call reads its current value with one lookup."""
    state = getattr(owner, "__dict__", {})
    for table in ("_parameters", "_buffers"):
        d = state.get(table)
        if isinstance(d, dict) and name in d:
            return d, name
    if name in state:
        return state, name
    return owner, name


def _read(source):
    container, key = source
    return container[key] if isinstance(container, dict) else getattr(container, key)


def _reference_runner(graph, self_object, functions):
    """``run(args, attribute_values)`` with the reference interpreter (for fallback plans)."""
    program = ReferenceProgram(graph, functions=functions)
    prefix = (self_object,) if self_object is not None else ()

    def run(args, values):
        outs = program(*prefix, *args)
        return outs[0] if len(outs) == 1 else tuple(outs)
    return run
