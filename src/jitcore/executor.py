"""Compile a Graph into something callable: the entry point of ScriptFunction/ScriptModule calls.

``compile_graph(graph)`` lowers the graph to a :class:`~jitcore._runtime.code.Code`
once; each call checks its arguments against the graph's input types (count,
then dtype and rank/shape of tensors, kind of scalars), and runs the nogil
interpreter.  One :class:`Executable` may be called from any number of
threads at once: every call runs in its own frame, borrowed from the Code's
pool.

Fallback: when the graph uses an op the runtime has no kernel for, lowering
raises :class:`~jitcore.errors.CompileError`; ``compile_graph`` then keeps
the graph and runs it with the pure-Python reference interpreter
(``jitcore.reference_interpreter``) instead: slower, never wrong.  The
reason is kept in ``Executable.fallback_reason`` (None when the Cython
interpreter runs); pass ``fallback=False`` to get the error instead.
"""

import numpy as np

from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore._runtime.types import (
    BoolType, FloatType, IntType, ListType, NoneType, NumberType, OptionalType, TensorType,
    TupleType,
)
from jitcore.errors import CompileError

__all__ = ["Executable", "compile_graph"]


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
        self._checks = [_argument_check(name, i, v) for i, v in enumerate(graph.inputs)]
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
            from jitcore.reference_interpreter import ReferenceProgram
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

class _Check:
    """Validates (and normalises) one argument; ``label`` names it in messages."""

    def __init__(self, fn_name, index, value):
        self.label = value.debug_name if value.has_debug_name() else f"#{index}"
        self.where = f"{fn_name}() argument '{self.label}' (position {index + 1})"
        self.type = value.type

    def __call__(self, arg):
        return arg


class _TensorCheck(_Check):
    def __init__(self, fn_name, index, value):
        super().__init__(fn_name, index, value)
        t = value.type
        self.dtype = None if t.dtype is None else np.dtype(t.dtype)
        self.shape = None if t.shape is None else tuple(t.shape)

    def __call__(self, arg):
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


def _argument_check(fn_name, index, value):
    t = value.type
    if isinstance(t, TensorType):
        return _TensorCheck(fn_name, index, value)
    if t in (IntType.get(), FloatType.get(), BoolType.get(), NumberType.get()):
        return _ScalarCheck(fn_name, index, value)
    return _Check(fn_name, index, value)


def _shape_text(shape):
    return "(" + ", ".join("*" if d is None else str(d) for d in shape) + ")"
