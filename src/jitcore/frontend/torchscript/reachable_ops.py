"""Ops jitcore lacks in torch's library code: a load-time error where the model can reach them.

TorchScript compiles every branch of a library function such as
``torch.nn.functional.interpolate`` into the archive, one per ``mode``, each calling
its own op; a model passes the mode as a constant, so the branches of the other modes
are dead for it.  The dialect compiles such a call of an op jitcore lacks to a raise
naming the op (``dialect.missing_op``) and records where; ``check_reachable_ops``
then inlines every method's calls and folds constants (``mode == "bilinear"`` with the
model's constant mode, ``prim::If`` on the result): a recorded raise that survives is
on a path constant propagation cannot rule out, and loading fails naming the op and
its line of the archive's code.
"""

from jitcore.frontend.script.errors import compile_error
from jitcore.passes.constant_propagation import propagate_constants

__all__ = ["check_reachable_ops"]


def check_reachable_ops(methods, sites):
    """Raise CompileError if one of the methods can reach an op recorded in ``sites``.

    Parameters
    ----------
    methods : dict of str to Graph
        The compiled archive's methods with every call inlined
        (``in_place.inlined_methods``); their constants are folded in place.
    sites : dict of SourceRange to (str, str)
        Where a call of an op jitcore lacks was compiled to a raise: the op's
        spelling in the archive's code and its kind (``torch.upsample_bicubic2d``,
        ``aten::upsample_bicubic2d``).
    """
    if not sites:
        return
    for name, graph in methods.items():
        propagate_constants(graph)
        for node in graph.walk():
            if node.kind == "prim::RaiseException" and node.source_range in sites:
                spelling, kind = sites[node.source_range]
                raise compile_error(f"{spelling}: jitcore has no op {kind}, and {name}() reaches this call "
                                    "with the arguments the model passes", node.source_range)
