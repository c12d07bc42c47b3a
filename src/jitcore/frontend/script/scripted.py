"""What ``jitcore.script`` returns: a ``ScriptFunction`` or ``ScriptModule`` made from a
compilation unit, whose graphs may call the unit's other functions (``prim::CallFunction``).

Each compiled method keeps the Python signature it was written with, defaults included,
so calls bind keyword arguments and fill defaults as TorchScript does.
"""

import inspect
import typing

from jitcore.modules import Method, ScriptFunction, ScriptModule

from .module_attributes import is_container_attribute, is_data

__all__ = ["scripted_function", "scripted_module"]


def scripted_function(fn, graph, functions):
    """The compiled ``fn``: ``graph`` with the unit's ``functions`` and ``fn``'s signature."""
    return ScriptFunction(fn.__name__, graph, functions, _resolved(fn, inspect.signature(fn)))


def _resolved(fn, signature):
    """``signature`` with its return annotation resolved when it is a string (postponed
    annotations), so a NamedTuple return class is a class (calls return instances of it)."""
    if not isinstance(signature.return_annotation, str):
        return signature
    try:
        returned = typing.get_type_hints(fn).get("return", signature.return_annotation)
    except Exception:   # an annotation Python cannot evaluate: the compiler judged it already
        return signature
    return signature.replace(return_annotation=returned)


def scripted_module(module, method_graphs, functions):
    """Mirror ``module`` with its compiled methods; the unit's ``functions`` go to every node.

    Parameters
    ----------
    module : jitcore.nn.Module
    method_graphs : dict
        ``id(module) -> {method name: Graph}`` for every module the unit compiled.
    functions : dict
        The unit's function table.

    Scalar attributes (``self.steps``) and lists and dicts of them (``self.sizes``) are
    read with ``prim::GetAttr`` by the graphs, so they are put on the mirror too (the same
    objects, as ``from_module`` mirrors arrays and children).
    """
    methods = {}
    for _, sub in module.named_modules():
        if isinstance(sub, ScriptModule):   # an already compiled (traced) submodule
            methods.setdefault(id(sub), {name: sub._jit_method(name) for name in sub.methods})
        elif id(sub) in method_graphs:
            methods[id(sub)] = {name: Method(name, graph, signature=_signature(sub, name, graph),
                                             takes_self=True)
                                for name, graph in method_graphs[id(sub)].items()}
    root = ScriptModule.from_module(module, methods, dict(functions))
    originals = dict(module.named_modules(remove_duplicate=False))
    for name, mirror in root.named_modules(remove_duplicate=False):
        original = originals.get(name)
        for attr, value in vars(original).items() if original is not None else ():
            copied = type(value) in (int, float, bool, str) or (
                is_container_attribute(value) and is_data(value))
            if copied and attr not in vars(mirror):
                object.__setattr__(mirror, attr, value)
    return root


def _signature(module, method, graph):
    """The signature without ``self`` of the Python method compiled into ``graph``, if it has one."""
    fn = getattr(type(module), method, None)
    if not inspect.isfunction(fn):
        return None
    signature = _resolved(fn, inspect.signature(fn))
    parameters = list(signature.parameters.values())[1:]
    if len(parameters) != len(graph.inputs) - 1:
        return None
    return inspect.Signature(parameters, return_annotation=signature.return_annotation)
