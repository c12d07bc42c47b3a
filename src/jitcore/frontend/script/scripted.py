"""The objects ``jitcore.script`` returns: ``ScriptFunction`` / ``ScriptModule`` made from a
compilation unit, whose graphs may call the unit's other functions (``prim::CallFunction``).

The base classes carry the function table (``functions``) to the runtime, the reference
interpreter and inlining; these subclasses only build themselves from a unit.
"""

from jitcore.modules import ScriptFunction, ScriptModule

__all__ = ["ScriptedFunction", "ScriptedModule"]


class ScriptedFunction(ScriptFunction):
    """A scripted function: its graph plus ``functions``, the graphs it calls by name."""

    def __init__(self, name, graph, functions):
        super().__init__(name, graph, functions)


class ScriptedModule(ScriptModule):
    """A scripted module tree; every node shares the unit's function table."""

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
            for attr, value in vars(original).items() if original is not None else ():
                if type(value) in (int, float, bool, str) and attr not in vars(mirror):
                    object.__setattr__(mirror, attr, value)
        return root
