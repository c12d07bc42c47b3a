"""The objects ``jitcore.script`` returns: ``ScriptFunction`` / ``ScriptModule`` made from a
compilation unit, whose graphs may call the unit's other functions (``prim::CallFunction``).

The base classes carry the function table (``functions``) to the runtime, the reference
interpreter and inlining; these subclasses only build themselves from a unit.
"""

import inspect
import weakref

from jitcore.modules import ScriptFunction, ScriptModule

__all__ = ["ScriptedFunction", "ScriptedModule"]

# mirror -> {method: Python signature}; kept beside the module, not in it, because a
# module's attributes are what an archive saves
_SIGNATURES = weakref.WeakKeyDictionary()


class ScriptedFunction(ScriptFunction):
    """A scripted function: its graph plus ``functions``, the graphs it calls by name."""

    def __init__(self, name, graph, functions):
        super().__init__(name, graph, functions)


class ScriptedModule(ScriptModule):
    """A scripted module tree; every node shares the unit's function table.

    Calls bind keyword arguments and fill defaults from the Python signature of the
    compiled method, as TorchScript does (``attn(x, x, x)`` for a ``forward`` with
    optional parameters); a call giving every argument positionally goes straight
    to the compiled code.
    """

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._arity("forward"):
            args = self._bind_arguments("forward", args, kwargs)
        return super().__call__(*args)

    def forward(self, *args, **kwargs):
        if kwargs or len(args) != self._arity("forward"):
            args = self._bind_arguments("forward", args, kwargs)
        return super().forward(*args)

    def call_reference(self, *args, method="forward", **kwargs):
        if kwargs or len(args) != self._arity(method):
            args = self._bind_arguments(method, args, kwargs)
        return super().call_reference(*args, method=method)

    def _arity(self, method):
        signature = _SIGNATURES.get(self, {}).get(method)
        return None if signature is None else len(signature.parameters)

    def _bind_arguments(self, method, args, kwargs):
        signature = _SIGNATURES.get(self, {}).get(method)
        if signature is None:
            if kwargs:
                raise TypeError(f"{self.original_name}.{method}() takes positional arguments only")
            return args
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self.original_name}.{method}(): {e}") from None
        bound.apply_defaults()
        return tuple(bound.arguments.values())

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
                _SIGNATURES[mirror] = _signatures(original, mirror)
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
