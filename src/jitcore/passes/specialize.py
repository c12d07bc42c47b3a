"""Specialise a graph to concrete inputs: what ``graph_for(*inputs)`` returns.

The copy gets its calls inlined, its tensor inputs typed with the inputs'
dtypes and shapes, its module attributes typed from the module's arrays, the
modules' ``training`` flags replaced by their current values,
every type recomputed by shape propagation, and the ``"inference"`` pipeline
with shape-dependent rewrites enabled.  It is a pure function of the graph,
the module state and the inputs' signatures, so it does not depend on which
calls came before.
"""

import numpy as np

from jitcore._runtime.types import TensorType

from .inline import inline
from .pipeline import run
from .shape_propagation import propagate_shapes

__all__ = ["specialize", "input_types_of", "fold_training_flags"]


def input_types_of(inputs):
    """The IR type of each input: ``Float(2, 3)`` for an ndarray, None (unchanged) otherwise."""
    return [TensorType.from_array(x) if isinstance(x, np.ndarray) else None for x in inputs]


def _attribute_owner(value, self_value, self_object):
    if value is self_value:
        return self_object
    node = value.node
    if node.kind == "prim::GetAttr":
        parent = _attribute_owner(node.input(0), self_value, self_object)
        return None if parent is None else getattr(parent, node.attr("name"), None)
    return None


def _type_module_arrays(graph, self_object):
    """Give each ``prim::GetAttr`` that reads an ndarray of ``self_object`` the array's type."""
    self_value = graph.inputs[0]
    for node in graph.walk():
        if node.kind != "prim::GetAttr":
            continue
        array = _attribute_owner(node.output(), self_value, self_object)
        if isinstance(array, np.ndarray):
            exact = TensorType.from_array(array)
            if exact.is_subtype_of(node.output().type):
                node.output().set_type(exact)


def fold_training_flags(graph, self_object):
    """Replace each read of a module's ``training`` flag by its current value.

    Scripted layers branch on ``self.training`` (dropout, batch norm); with the
    flag constant the pipeline folds those branches as freezing does, and the
    runtime gets inference kernels.  A plan built on the folded graph is only
    valid while the flags keep their values: ``ScriptModule.train()``/``eval()``
    make every executor of a module drop its plans (see ``jitcore.executor``).
    """
    self_value = graph.inputs[0]
    for node in list(graph.walk()):
        if node.kind != "prim::GetAttr" or node.attr("name") != "training":
            continue
        owner = _attribute_owner(node.input(0), self_value, self_object)
        flag = getattr(owner, "training", None)
        if not isinstance(flag, bool):
            continue
        with graph.inserting_before(node):
            constant = graph.insert_constant(flag, source_range=node.source_range)
        node.output().replace_all_uses_with(constant)
        node.destroy()


def specialize(graph, inputs, *, self_object=None, functions=None, level="inference"):
    """A copy of ``graph`` specialised and optimised for ``inputs``.

    Parameters
    ----------
    graph : Graph
        A function graph, or a method graph whose first input is ``self``.
    inputs : sequence
        The call's arguments (without ``self``).
    self_object : object, optional
        The module ``self`` denotes (method graphs only).
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction`` nodes.
    level : str
        The pipeline level (see :mod:`jitcore.passes.pipeline`).

    Returns
    -------
    Graph
        Its tensor values carry concrete dtypes and shapes where the op rules
        can tell; elementwise chains and GEMM epilogues are fused.
    """
    specialised = graph.copy()
    skip = 1 if self_object is not None else 0
    if len(inputs) != len(specialised.inputs) - skip:
        raise TypeError(f"specialize: the graph takes {len(specialised.inputs) - skip} inputs, "
                        f"got {len(inputs)}")
    inline(specialised, self_object, functions)
    if self_object is not None:
        _type_module_arrays(specialised, self_object)
        fold_training_flags(specialised, self_object)
    propagate_shapes(specialised, [None] * skip + input_types_of(inputs))
    run(specialised, level, exact_shapes=True)
    return specialised
