"""The objects ``jitcore.script`` returns: ``ScriptFunction`` / ``ScriptModule`` made from a
compilation unit, whose graphs may call the unit's other functions (``prim::CallFunction``).

The base classes carry the function table (``functions``) to the runtime, the reference
interpreter and inlining; these subclasses only build themselves from a unit.
"""

import inspect
import weakref

from jitcore.modules import ScriptFunction, ScriptModule

__all__ = ["ScriptedFunction", "ScriptedFunctionWithDefaults", "ScriptedModule",
           "ScriptedModuleWithDefaults", "signatures_of", "restore_signatures",
           "function_with_signature"]

# id(mirror) -> {method: Python signature}, and the number of parameters of ``forward``
# (the call's fast-path test).  Kept beside the module, not in it, because a module's
# attributes are what an archive saves; an entry goes when its module does.
_SIGNATURES = {}
_FORWARD_ARITY = {}


def _remember(mirror, signatures):
    key = id(mirror)
    _SIGNATURES[key] = signatures
    if "forward" in signatures:
        _FORWARD_ARITY[key] = len(signatures["forward"].parameters)
    weakref.finalize(mirror, _forget, key)


def _forget(key):
    _SIGNATURES.pop(key, None)
    _FORWARD_ARITY.pop(key, None)


class ScriptedFunction(ScriptFunction):
    """A scripted function: its graph plus ``functions``, the graphs it calls by name."""

    def __init__(self, name, graph, functions):
        super().__init__(name, graph, functions)

    @classmethod
    def from_python(cls, fn, graph, functions):
        """The scripted ``fn``; one with default arguments fills them when called."""
        signature = inspect.signature(fn)
        if not _has_defaults(signature):
            return cls(fn.__name__, graph, functions)
        scripted = ScriptedFunctionWithDefaults(fn.__name__, graph, functions)
        scripted._signature = signature
        return scripted


class ScriptedFunctionWithDefaults(ScriptedFunction):
    """A scripted function with default arguments: calls bind keywords and fill defaults
    from the Python signature, as TorchScript does; a call giving every argument
    positionally goes straight to the compiled code."""

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != len(self._signature.parameters):
            args = self._bind_call(args, kwargs)
        return ScriptFunction.__call__(self, *args)

    def call_signature(self):
        return self._signature

    def call_reference(self, *args, **kwargs):
        return ScriptFunction.call_reference(self, *self._bind_call(args, kwargs))


class ScriptedModule(ScriptModule):
    """A scripted module tree; every node shares the unit's function table.

    ``call_reference`` binds keyword arguments and fills defaults from the Python
    signature of the compiled method; so do calls of a module whose ``forward`` has
    defaults (see :class:`ScriptedModuleWithDefaults`).
    """

    def call_reference(self, *args, method="forward", **kwargs):
        return ScriptModule.call_reference(self, *self._bind_call(method, args, kwargs),
                                           method=method)

    def call_signature(self, method="forward"):
        """The Python signature of the compiled method (defaults included), if recorded."""
        signature = _SIGNATURES.get(id(self), {}).get(method)
        return signature if signature is not None else ScriptModule.call_signature(self, method)

    @classmethod
    def from_unit(cls, module, method_graphs, functions):
        """Mirror ``module`` with its compiled methods; the unit's ``functions`` go to every node.

        Scalar attributes (``self.steps``) are read with ``prim::GetAttr`` by the graphs,
        so they are copied onto the mirror too (``from_module`` mirrors arrays and children).
        """
        method_graphs = dict(method_graphs)
        for _, sub in module.named_modules():
            if isinstance(sub, ScriptModule):   # an already compiled (traced) submodule
                method_graphs.setdefault(id(sub), {m: sub._jit_method_graph(m) for m in sub.methods})
        root = cls.from_module(module, method_graphs)
        originals = dict(module.named_modules(remove_duplicate=False))
        for name, mirror in root.named_modules(remove_duplicate=False):
            object.__setattr__(mirror, "functions", dict(functions))
            original = originals.get(name)
            if original is not None and isinstance(mirror, ScriptedModule):
                _remember(mirror, _signatures(original, mirror))
                if _has_defaults(_SIGNATURES[id(mirror)].get("forward")):
                    # only these pay for binding at each call; the class shares the
                    # layout, so the mirror just changes its call methods
                    mirror.__class__ = ScriptedModuleWithDefaults
            for attr, value in vars(original).items() if original is not None else ():
                if type(value) in (int, float, bool, str) and attr not in vars(mirror):
                    object.__setattr__(mirror, attr, value)
        return root


def _signatures(original, mirror):
    """``{method: signature without self}`` of the Python methods ``mirror`` compiled."""
    signatures = {}
    for method in mirror.methods:
        fn = getattr(type(original), method, None)
        if inspect.isfunction(fn):
            parameters = list(inspect.signature(fn).parameters.values())[1:]
            signatures[method] = inspect.Signature(parameters)
    return signatures


def _has_defaults(signature):
    return signature is not None and any(
        p.default is not inspect.Parameter.empty for p in signature.parameters.values())


class ScriptedModuleWithDefaults(ScriptedModule):
    """A scripted module whose ``forward`` has default arguments: calls fill them, and bind
    keyword arguments, as TorchScript does (``attn(x, x, x)``); a call giving every
    argument positionally goes straight to the compiled code."""

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != _FORWARD_ARITY.get(id(self), len(args)):
            args = self._bind_call("forward", args, kwargs)
        return ScriptModule.__call__(self, *args)

    def forward(self, *args, **kwargs):
        if kwargs or len(args) != _FORWARD_ARITY.get(id(self), len(args)):
            args = self._bind_call("forward", args, kwargs)
        return ScriptModule.forward(self, *args)


# -------------------------------------------------------------- archives (serialization)

def signatures_of(obj):
    """``{method: inspect.Signature}`` that calls of ``obj`` bind with (empty if none).

    A ScriptedFunctionWithDefaults has one (its method is ``forward``); a ScriptedModule
    node has those of its compiled Python methods.
    """
    signature = getattr(obj, "_signature", None)
    if signature is not None:
        return {"forward": signature}
    return dict(_SIGNATURES.get(id(obj), {}))


def restore_signatures(module, signatures):
    """Give a rebuilt ScriptedModule node the call signatures its archive recorded."""
    _remember(module, signatures)
    if _has_defaults(signatures.get("forward")):
        module.__class__ = ScriptedModuleWithDefaults


def function_with_signature(name, graph, functions, signature):
    """A rebuilt scripted function whose calls bind keywords and fill defaults."""
    scripted = ScriptedFunctionWithDefaults(name, graph, functions)
    scripted._signature = signature
    return scripted
