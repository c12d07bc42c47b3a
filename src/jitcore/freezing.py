"""``freeze`` and ``optimize_for_inference``: a module's forward as one self-contained graph.

Freezing inlines every submodule call, replaces every ``prim::GetAttr`` of a
parameter, buffer or plain attribute by a constant (arrays are copied, so the
frozen module does not change when the original is trained further), and
runs the ``"freeze"`` pipeline: ``training`` branches fold away, dropout
disappears, batch norm folds into the preceding conv2d/linear.
``optimize_for_inference`` adds every inference-only rewrite (fusion).

The result is a new :class:`~jitcore.modules.ScriptModule` with no parameters
or submodules, whose ``forward`` graph still takes ``self`` first (unused), so
it is called, printed and saved like any other compiled module.  Its other
methods are the module's entry points (``@jitcore.export`` methods: those no
other method calls) and the ``preserved_attrs`` methods, each frozen the same
way, as torch's ``freeze(module, preserved_attrs)`` keeps them.  A
:class:`~jitcore.modules.ScriptFunction` has no attributes to fold: freezing
it inlines its calls and runs the same pipeline, giving a new ScriptFunction.
"""

import numpy as np

from jitcore._runtime.ir import constant_type
from jitcore._runtime.types import DictType, FloatType, ListType
from jitcore.errors import JitcoreError
from jitcore.modules import Method, ScriptFunction, ScriptModule
from jitcore.ops import OutputAlias
from jitcore.ops.registry import output_alias, written_positions
from jitcore.passes import pipeline
from jitcore.passes.inline import inline_calls

__all__ = ["freeze", "optimize_for_inference"]


def _attribute_value(value, self_value, module):
    """``(True, object)`` for a GetAttr chain rooted at ``self``, else ``(False, None)``."""
    if value is self_value:
        return True, module
    node = value.node
    if node.kind != "prim::GetAttr":
        return False, None
    found, parent = _attribute_value(node.input(0), self_value, module)
    if not found:
        return False, None
    name = node.attr("name")
    if not hasattr(parent, name):
        raise JitcoreError(f"cannot freeze: {type(parent).__name__} has no attribute {name!r}")
    return True, getattr(parent, name)


def _viewed_root(value):
    """The value ``value`` is a view of (through view ops), or ``value`` itself."""
    while output_alias(value.node.kind) is OutputAlias.VIEW and value.node.inputs:
        value = value.node.inputs[0]
    return value


def _as_constant(obj):
    """``obj`` normalised for a ``prim::Constant`` (arrays copied), or raises TypeError."""
    if isinstance(obj, np.ndarray):
        return np.array(obj, copy=True)
    return constant_type(obj)[0]


def _insert_data(graph, obj, jit_type, source_range):
    """The value ``obj`` of a list or dict attribute typed ``jit_type``, built in ``graph``.

    A list of numbers, bools or strings is one constant (script refuses to compile a
    write to a module's list, so nothing writes it); nested lists and dicts are built by
    ``prim::ListConstruct``/``prim::DictConstruct`` of their items.
    """
    if isinstance(jit_type, DictType):
        inputs = [_insert_data(graph, item, t, source_range)
                  for key, value in obj.items() for item, t in ((key, jit_type.key), (value, jit_type.value))]
        return graph.insert("prim::DictConstruct", inputs, output_types=[jit_type],
                            source_range=source_range).output()
    if isinstance(jit_type, ListType) and isinstance(jit_type.elem, (ListType, DictType)):
        inputs = [_insert_data(graph, item, jit_type.elem, source_range) for item in obj]
        return graph.insert("prim::ListConstruct", inputs, output_types=[jit_type],
                            source_range=source_range).output()
    if isinstance(jit_type, ListType) and jit_type.elem == FloatType.get():
        obj = [float(v) for v in obj]      # a List[float] attribute may hold ints, as Python allows
    elif jit_type == FloatType.get():
        obj = float(obj)
    return graph.insert_constant(obj, jit_type, source_range=source_range)


def _fold_attributes(graph, module):
    """Replace GetAttr chains that yield constants-to-be by constants; returns the names kept."""
    self_value = graph.inputs[0]
    for node in graph.walk():
        if node.kind == "prim::SetAttr":
            raise JitcoreError(f"cannot freeze {module.original_name}: forward assigns the "
                               f"attribute {node.attr('name')!r}; frozen attributes are constants")
        for position in written_positions(node.kind):
            written = _viewed_root(node.inputs[position])
            if written.node.kind == "prim::GetAttr":
                raise JitcoreError(f"cannot freeze {module.original_name}: forward writes the "
                                   f"attribute {written.node.attr('name')!r} in place "
                                   f"({node.kind}); frozen attributes are constants")
    for node in graph.walk():
        if node.kind != "prim::GetAttr" or node.is_destroyed:
            continue
        found, obj = _attribute_value(node.output(), self_value, module)
        if not found or hasattr(obj, "_jit_method_graph"):
            continue   # a submodule: its GetAttr dies once its uses are folded
        try:
            with graph.inserting_before(node):
                if isinstance(node.output().type, (ListType, DictType)):
                    constant = _insert_data(graph, obj, node.output().type, node.source_range)
                else:
                    constant = graph.insert_constant(_as_constant(obj), source_range=node.source_range)
        except TypeError as e:
            raise JitcoreError(f"cannot freeze attribute {node.attr('name')!r} of "
                               f"{module.original_name}: {e}") from None
        if not constant.type.is_subtype_of(node.output().type):
            raise JitcoreError(f"cannot freeze attribute {node.attr('name')!r}: its value has type "
                               f"{constant.type}, the graph expects {node.output().type}")
        node.output().replace_all_uses_with(constant)
        node.destroy()


def _check_self_contained(graph, module, name):
    left = sorted({n.attr("name") for n in graph.walk()
                   if n.kind in ("prim::GetAttr", "prim::CallMethod")})
    if left:
        raise JitcoreError(f"cannot freeze {module.original_name}: {name} still reads "
                           f"{', '.join(left)} from a module after inlining (a call that could "
                           "not be inlined, or a module-typed value that escapes)")


def _frozen_function(function, level):
    graph = inline_calls(function.graph, None, function.functions)
    pipeline.run(graph, level)
    graph.lint()
    # the function table still serves what inlining leaves: ignored Python calls; the
    # inputs are the same, so calls bind as the original's do
    return ScriptFunction(function.name, graph, function.functions, function.call_signature())


def _kept_methods(module, preserved_attrs):
    """forward, the methods no other method of ``module`` calls on ``self``, and ``preserved_attrs``."""
    called = set()
    for name in module.methods:
        graph = module._jit_method_graph(name)
        self_value = graph.inputs[0]
        called.update(n.attr("name") for n in graph.walk()
                      if n.kind == "prim::CallMethod" and n.input(0) is self_value)
    unknown = [name for name in preserved_attrs if name not in module.methods]
    if unknown:
        raise JitcoreError(f"freeze: {module.original_name} has no compiled method "
                           f"{unknown[0]!r} to preserve (compiled: {', '.join(module.methods)})")
    entry_points = [name for name in module.methods if name not in called]
    return [name for name in module.methods
            if name == "forward" or name in entry_points or name in preserved_attrs]


def _frozen_method(module, name, level, functions):
    graph = inline_calls(module._jit_method_graph(name), module, functions)
    _fold_attributes(graph, module)
    pipeline.run(graph, level, functions=functions)
    _check_self_contained(graph, module, name)
    graph.lint()
    return Method(name, graph, signature=module.call_signature(name), takes_self=True)


def _frozen(module, level, preserved_attrs=()):
    if isinstance(module, ScriptFunction):
        return _frozen_function(module, level)
    if not isinstance(module, ScriptModule):
        raise TypeError(f"freeze expects a ScriptModule or ScriptFunction (from jitcore.trace "
                        f"or jitcore.script), got {type(module).__name__}")
    if module.training:
        raise JitcoreError(f"freeze: {module.original_name} is in training mode; call .eval() "
                           "first (freezing folds the training=False paths)")
    functions = getattr(module, "functions", None)
    methods = {name: _frozen_method(module, name, level, functions)
               for name in _kept_methods(module, tuple(preserved_attrs or ()))}
    # the function table still serves what inlining leaves: ignored Python calls
    frozen = ScriptModule(module.original_name, module._class_type, methods,
                          dict(functions or {}))
    object.__setattr__(frozen, "training", False)
    return frozen


def freeze(module, preserved_attrs=None):
    """A frozen copy of ``module``: parameters and attributes inlined as constants.

    Parameters
    ----------
    module : ScriptModule or ScriptFunction
        A traced or scripted module in eval mode, or a compiled function.
    preserved_attrs : list of str, optional
        Names of compiled methods to keep besides ``forward`` and the entry
        points (``@jitcore.export`` methods), which are always kept.

    Returns
    -------
    ScriptModule or ScriptFunction
        Of the same kind as ``module``.  A module keeps ``forward``, its exported
        methods and ``preserved_attrs``, each with no ``prim::GetAttr`` of
        parameters, ``training`` branches and dropout folded away, batch norm
        folded into the preceding conv2d/linear.  Same outputs within float
        tolerance.

    Raises
    ------
    TypeError
        If ``module`` is neither a ScriptModule nor a ScriptFunction.
    JitcoreError
        If it is in training mode, a kept method assigns attributes, or
        ``preserved_attrs`` names a method the module does not have.
    """
    return _frozen(module, "freeze", preserved_attrs)


def optimize_for_inference(module, other_methods=None):
    """:func:`freeze` plus every inference rewrite: GEMM epilogue and elementwise fusion.

    ``other_methods`` (torch's name) are kept as ``preserved_attrs`` are by
    :func:`freeze`; see there for the other parameters and errors.
    """
    return _frozen(module, "inference", other_methods)
