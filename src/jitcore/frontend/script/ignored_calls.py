"""Calls of ``@jitcore.ignore`` functions and methods: a ``prim::PythonOp`` node.

TorchScript leaves an ignored function as Python: the call compiles to a node that
runs the callable, with the GIL, when the program reaches it.  Here that node is
``prim::PythonOp[name="helper"](%x)``.  The callable itself is not in the IR (the
IR text stays printable and parseable); ``name`` keys the compilation unit's
function table, the same table ``prim::CallFunction`` resolves its graphs in, so
the executor, both interpreters and ``save`` (which refuses it) all see it.

The argument and return types come from the callable's annotations; an
unannotated parameter or return is an array, as in TorchScript.
"""

import inspect

from jitcore._runtime.types import TensorType
from jitcore.errors import CompileError

from .annotations import type_from_annotation
from .call_arguments import bind_call
from .source import parse_function
from .values import ScriptValue

__all__ = ["PYTHON_OP", "ignored_call"]

PYTHON_OP = "prim::PythonOp"


class _Parameter:
    """What ``bind_call`` needs of a formal parameter: its type."""

    __slots__ = ("type",)

    def __init__(self, jit_type):
        self.type = jit_type


def ignored_call(unit, ctx, fn, target, display_name, args, kwargs, where, skip_self):
    """Emit ``prim::PythonOp`` calling ``target`` (``fn``, or ``fn`` bound to a module).

    Parameters
    ----------
    unit : CompilationUnit
        Its ``functions`` table receives ``target`` under a unique name.
    ctx : FunctionCompiler
        The function being compiled (where the node goes).
    fn : function
        The ignored function as defined (annotations, defaults).
    target : callable
        What runs: ``fn`` itself or the bound method.
    display_name : str
        ``helper`` or ``Model.helper``: the node's ``name`` (made unique in the table).
    args, kwargs
        The call's sugared arguments.
    where : SourceRange
    skip_self : bool
        ``fn`` is a method: its first parameter is bound already.

    Returns
    -------
    ScriptValue
        The call's result, of the declared return type.
    """
    params, result_type = _signature_types(fn, skip_self)
    inputs = bind_call(ctx, fn, params, args, kwargs, where, skip_self=skip_self)
    name = unit.python_function_name(target, display_name)
    node = ctx.node(PYTHON_OP, inputs, [result_type], where, attrs={"name": name})
    return ScriptValue(node.output())


def _signature_types(fn, skip_self):
    """``([_Parameter], return type)`` from ``fn``'s annotations (arrays where absent)."""
    try:
        source = parse_function(fn)
    except CompileError:
        # no source (a C function, a lambda in a REPL): every argument and the result are arrays
        count = len(inspect.signature(fn).parameters) - (1 if skip_self else 0)
        return [_Parameter(TensorType.get()) for _ in range(count)], TensorType.get()
    definition = source.definition
    globals_ = getattr(fn, "__globals__", {})

    def annotated(node):
        return TensorType.get() if node is None else type_from_annotation(node, source, globals_)

    formals = definition.args.posonlyargs + definition.args.args
    formals = formals[1:] if skip_self else formals
    return [_Parameter(annotated(a.annotation)) for a in formals], annotated(definition.returns)
