"""The objects ``jitcore.script`` returns: ``ScriptFunction`` / ``ScriptModule`` that also know
the graphs of the functions their graphs call (``prim::CallFunction[name=...]``).

``jitcore.modules.ScriptFunction`` and ``ScriptModule`` run a graph alone; a scripted
graph may call other compiled functions, so these subclasses carry the compilation
unit's function table to the interpreter and to inlining.
"""

from jitcore.modules import ScriptFunction, ScriptModule, _check_call_inputs, _single_or_tuple

__all__ = ["ScriptedFunction", "ScriptedModule"]


def _run(graph, inputs, functions):
    from jitcore.reference_interpreter import run_graph
    return run_graph(graph, list(inputs), functions=functions)


class ScriptedFunction(ScriptFunction):
    """A scripted function: its graph plus ``functions``, the graphs it calls by name."""

    def __init__(self, name, graph, functions):
        super().__init__(name, graph)
        self.functions = dict(functions)

    @property
    def inlined_graph(self):
        from jitcore.frontend.inlining import inline_calls
        return inline_calls(self.graph, functions=self.functions)

    def __call__(self, *args):
        _check_call_inputs(self.graph.inputs, args, self.name)
        return _single_or_tuple(_run(self.graph, args, self.functions))


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

    @property
    def inlined_graph(self):
        from jitcore.frontend.inlining import inline_calls
        return inline_calls(self.graph, self, functions=self.functions)

    def _run_method(self, name, args):
        graph = self._jit_method_graph(name)
        _check_call_inputs(graph.inputs[1:], args, f"{self.original_name}.{name}")
        return _single_or_tuple(_run(graph, [self, *args], self.functions))
