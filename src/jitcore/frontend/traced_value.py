"""The stand-ins a trace runs the user's code on: ``TracedArray`` and ``TracedScalar``.

Each holds the IR value it denotes and the concrete data it has in this run (the trace
computes eagerly with the ops' NumPy references, so Python control flow sees real values).
Every NumPy entry point leads to :func:`jitcore.ops.call`, which hands the op to the tracer:

* ufuncs (``np.tanh(x)``) through ``__array_ufunc__``, other NumPy functions
  (``np.sum(x, axis=1)``) through ``__array_function__``;
* operators (``x + 3``, ``x @ w``) and ndarray methods and properties (``reshape``, ``T``,
  ``sum``, ``astype``, ``x[1:, None]``, ``shape``).

Turning a traced value into a Python value (``bool(x)``, ``int(n)``, ``range(n)``,
``np.asarray(x)``) bakes the current value into the graph, with a TracerWarning at the
user's line.
"""

import operator

import numpy as np

from jitcore.errors import SchemaMatchError, TracerWarning
from jitcore.executor import parameter_names
from jitcore.frontend.indexing import is_array_index, traced_getitem
from jitcore.frontend.numpy_arguments import method_call, numpy_function_call
from jitcore.frontend.user_location import warn_at_user_code
from jitcore.ops.defs.inplace import IN_PLACE_OF
from jitcore.ops.dispatch import Traceable, call
from jitcore.ops.registry import for_callable, kinds_for_callable
from jitcore.passes.output_aliasing import VIEW_KINDS

__all__ = ["TracedArray", "TracedScalar", "concrete"]


def concrete(value):
    """The concrete data behind traced values, also inside lists and tuples."""
    if isinstance(value, (TracedArray, TracedScalar)):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(concrete(v) for v in value)
    return value


# NumPy functions without an array argument (np.arange(n)) never dispatch to the tracer;
# they read a traced number through __float__/__index__, and only NEP 35's like= routes them
_LIKE_HINT = (" A NumPy function given a traced size (np.arange(n), np.zeros((n, 3))) reads "
              "it this way; pass like=x (an array being traced) to record it as an op.")


def _baked(kind, value, why, hint=""):
    warn_at_user_code(
        f"Converting a traced {kind} to a Python {why} might cause the trace to be incorrect. "
        "We can't record the data flow of Python values, so this value will be treated as a "
        "constant in the future. This means that the trace might not generalize to other "
        "inputs!" + hint, TracerWarning)
    return value


def _binary(op, reflected=False):
    """An operator method recorded through the registry op that ``op`` stands for."""
    kind = for_callable(op)

    def method(self, other):
        if isinstance(other, (TracedArray, TracedScalar, np.ndarray, np.generic, int, float,
                              bool)):
            if reflected:
                return call(kind, _as_left_operand(other, self), self)
            return call(kind, self, other)
        return NotImplemented
    method.__name__ = op.__name__
    return method


def _in_place(op, symbol):
    """``x <symbol>= y``: recorded as the in-place op (``aten::add_``), which writes ``x``
    in the compiled graph as eager NumPy does (every other name of ``x`` sees it).

    ``@=`` has no in-place op: it is recorded out of place, as ``x = x @ y``; when
    ``x`` is an input of the trace (or a module attribute), or a view of one, eager
    NumPy would change that array while the graph returns a new one, so the trace
    warns, naming the input.
    """
    out_of_place = _binary(op)
    in_place_kind = IN_PLACE_OF.get(for_callable(op))

    def method(self, other):
        if in_place_kind is not None:
            if not isinstance(other, (TracedArray, TracedScalar, np.ndarray, np.generic, int,
                                      float, bool)):
                return NotImplemented
            return call(in_place_kind, self, other)
        source = _input_viewed_by(self.value)
        if source is not None:
            warn_at_user_code(
                f"jitcore.trace: `{symbol}` on {source} is recorded as an out-of-place "
                f"`{symbol[:-1]}`: the compiled graph returns a new array and leaves "
                f"{source} unchanged, while eager NumPy changes it in place. Write "
                f"`y = x {symbol[:-1]} ...` to say what you mean, or copy the input first.",
                TracerWarning)
        return out_of_place(self, other)
    method.__name__ = f"__i{op.__name__.strip('_')}__"
    return method


def _input_viewed_by(value):
    """``"input 'x'"`` / ``"self.weight"`` if ``value`` is a graph input or attribute read,
    or a view of one; else None."""
    while True:
        node = value.node
        if node.kind == "prim::Param":
            return f"input {parameter_names([value])[0]!r}"
        if node.kind == "prim::GetAttr":
            return f"self.{node.attr('name')}"
        if node.kind not in VIEW_KINDS or not node.inputs:
            return None
        value = node.inputs[0]


def _as_left_operand(scalar, array):
    """A Python scalar as the left operand of a tensor op, with NumPy's (NEP 50) weak typing.

    ``3 - x`` has no ``aten::sub(Scalar, Tensor)`` overload; a 0-d array of the dtype NumPy
    would compute ``3 - x`` in gives the same result through the Tensor overload.
    """
    if isinstance(scalar, (TracedArray, TracedScalar, np.ndarray)):
        return scalar
    return np.asarray(scalar, dtype=np.result_type(array.dtype, scalar))


class TracedArray(Traceable):
    """An ndarray being traced: an IR value plus the data it holds in the tracing run."""

    __slots__ = ("value", "data", "tracer", "__weakref__")
    # ndarray binary operators defer to ours (ndarray + TracedArray -> TracedArray.__radd__).
    __array_priority__ = 1000

    def __init__(self, value, data, tracer):
        self.value = value
        self.data = data
        self.tracer = tracer

    # ------------------------------------------------------------- static facts
    @property
    def jit_type(self):
        """The IR type (read by ``jitcore.ops.bind``)."""
        return self.value.type

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def shape(self):
        """Traced ints, one ``aten::size`` per dimension, so shape arithmetic stays dynamic."""
        return tuple(call("aten::size", self, dim) for dim in range(self.data.ndim))

    @property
    def size(self):
        return call("aten::numel", self)

    @property
    def T(self):
        return call("aten::permute", self, list(range(self.data.ndim))[::-1])

    def __repr__(self):
        return (f"TracedArray(%{self.value.debug_name}, dtype={self.data.dtype}, "
                f"shape={self.data.shape})")

    __hash__ = object.__hash__

    # --------------------------------------------------- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            raise TypeError(f"jitcore.trace cannot record np.{ufunc.__name__}.{method}; "
                            f"call np.{ufunc.__name__} itself or a reduction like np.sum")
        out = kwargs.pop("out", None)
        if out is not None:
            return self._ufunc_into(out, ufunc, inputs, kwargs)
        kind = for_callable(ufunc)
        if kind is None:
            raise TypeError(f"jitcore.trace cannot record np.{ufunc.__name__}: no registered "
                            "op stands for it")
        kwargs.pop("out", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"jitcore.trace cannot record np.{ufunc.__name__} with keyword "
                            f"arguments {sorted(kwargs)}")
        try:
            result = call(kind, *inputs)
        except SchemaMatchError:
            # No Scalar overload (np.maximum(x, 0)): pass Python scalars as 0-d arrays typed
            # as NumPy would (NEP 50), which the Tensor overload computes identically.
            result = call(kind, *(_as_left_operand(v, self) if isinstance(v, (int, float, bool))
                                  else v for v in inputs))
        return result if dtype is None else call("aten::to", result, dtype)

    def _ufunc_into(self, out, ufunc, inputs, kwargs):
        """``np.add(a, b, out=c)``, and ``c += x`` (NumPy's ``c.__iadd__`` is
        ``np.add(c, x, out=(c,))`` and rebinds ``c`` to what it returns).  A traced ``c`` is
        written in place (``c[...] = a + b``); a plain array ``c`` made inside the traced code
        (``acc = np.zeros(4)``: calls of constants alone are not recorded) that is also the
        first operand gets the values as NumPy would, and the trace reads it as the new
        traced value from then on (``acc += x`` rebinds ``acc`` to it, too)."""
        target = out[0] if isinstance(out, tuple) and len(out) == 1 else out
        if not isinstance(target, (TracedArray, np.ndarray)):
            raise TypeError(f"np.{ufunc.__name__}(..., out=...) takes one array, got {out!r}")
        if not isinstance(target, TracedArray) and target is not inputs[0]:
            # NumPy code reading the plain array afterwards would read it untraced
            raise TypeError(f"np.{ufunc.__name__}(..., out=...) into an array the trace does not "
                            f"follow; assign the result instead: "
                            f"`y = np.{ufunc.__name__}(...)`")
        result = self.__array_ufunc__(ufunc, "__call__", *inputs, **kwargs)
        if isinstance(target, TracedArray):
            target[...] = result
            return target
        target[...] = result.data
        self.tracer.supersede(target, result)
        return result

    def __array_function__(self, func, types, args, kwargs):
        kind = for_callable(func)
        if kind is None:
            name = getattr(func, "__qualname__", repr(func))
            raise TypeError(f"jitcore.trace cannot record np.{name}: no registered op stands "
                            "for it (use an equivalent registered function, or jitcore.script)")
        return numpy_function_call(kind, func, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        _baked("array", None, "NumPy array (np.asarray)")
        data = self.data if dtype is None else self.data.astype(dtype)
        return data.copy() if copy else data

    # ------------------------------------------------------ Python conversions
    def __bool__(self):
        return _baked("array", bool(self.data), "boolean")

    def __int__(self):
        return _baked("array", int(self.data), "integer")

    def __float__(self):
        return _baked("array", float(self.data), "float")

    def __index__(self):
        return _baked("array", operator.index(self.data), "index")

    def __len__(self):
        return _baked("array", len(self.data), "integer (len)")

    def __iter__(self):
        # The number of iterations is baked, each item stays traced (as in TorchScript).
        for i in range(_baked("array", len(self.data), "integer (iteration)")):
            yield self[i]

    # --------------------------------------------------------------- operators
    __add__ = _binary(operator.add)
    __radd__ = _binary(operator.add, reflected=True)
    __sub__ = _binary(operator.sub)
    __rsub__ = _binary(operator.sub, reflected=True)
    __mul__ = _binary(operator.mul)
    __rmul__ = _binary(operator.mul, reflected=True)
    __truediv__ = _binary(operator.truediv)
    __rtruediv__ = _binary(operator.truediv, reflected=True)
    __floordiv__ = _binary(operator.floordiv)
    __rfloordiv__ = _binary(operator.floordiv, reflected=True)
    __mod__ = _binary(operator.mod)
    __rmod__ = _binary(operator.mod, reflected=True)
    __pow__ = _binary(operator.pow)
    __rpow__ = _binary(operator.pow, reflected=True)
    __matmul__ = _binary(operator.matmul)
    __rmatmul__ = _binary(operator.matmul, reflected=True)
    __and__ = _binary(operator.and_)
    __rand__ = _binary(operator.and_, reflected=True)
    __or__ = _binary(operator.or_)
    __ror__ = _binary(operator.or_, reflected=True)
    __xor__ = _binary(operator.xor)
    __rxor__ = _binary(operator.xor, reflected=True)
    __eq__ = _binary(operator.eq)
    __ne__ = _binary(operator.ne)
    __lt__ = _binary(operator.lt)
    __le__ = _binary(operator.le)
    __gt__ = _binary(operator.gt)
    __ge__ = _binary(operator.ge)
    __iadd__ = _in_place(operator.add, "+=")
    __isub__ = _in_place(operator.sub, "-=")
    __imul__ = _in_place(operator.mul, "*=")
    __itruediv__ = _in_place(operator.truediv, "/=")
    __ifloordiv__ = _in_place(operator.floordiv, "//=")
    __imod__ = _in_place(operator.mod, "%=")
    __ipow__ = _in_place(operator.pow, "**=")
    __imatmul__ = _in_place(operator.matmul, "@=")
    __iand__ = _in_place(operator.and_, "&=")
    __ior__ = _in_place(operator.or_, "|=")
    __ixor__ = _in_place(operator.xor, "^=")

    def __neg__(self):
        return call(for_callable(operator.neg), self)

    def __pos__(self):
        # NumPy's +x (np.positive) is a new array, not x itself
        return call("aten::clone", self)

    def __abs__(self):
        return call(for_callable(abs), self)

    def __invert__(self):
        return call(for_callable(operator.invert), self)

    def __setitem__(self, key, value):
        """``x[key] = value``, written into ``x`` as NumPy does: through the view of a basic
        index, or with ``index_put_`` through an array index (a mask, indices)."""
        items = key if isinstance(key, tuple) else (key,)
        if any(is_array_index(item) for item in items):
            if len(items) != 1:
                raise TypeError("jitcore.trace records assignment through an array index only "
                                "as the sole index (x[mask] = v); slice first: x[:, 1][mask] = v")
            index = np.asarray(key) if isinstance(key, list) else key
            values = value if isinstance(value, (TracedArray, np.ndarray)) else np.asarray(value)
            call("aten::index_put_", self, [index], values)
            return
        view = traced_getitem(self, key)
        if isinstance(value, (TracedArray, np.ndarray)):
            call("aten::copy_", view, value)
        else:
            call("aten::fill_", view, value)

    def __getitem__(self, key):
        return traced_getitem(self, key)

    # ------------------------------------------------------------- methods
    def __getattr__(self, name):
        bound = method_call(self, name)
        if bound is None:
            raise AttributeError(f"jitcore.trace cannot record ndarray.{name}: no registered op "
                                 "stands for it")
        return bound


class TracedScalar(Traceable):
    """A Python number being traced (a dimension from ``x.shape``, a scalar op result)."""

    __slots__ = ("value", "data", "tracer", "__weakref__")

    def __init__(self, value, data, tracer):
        self.value = value
        self.data = data
        self.tracer = tracer

    @property
    def jit_type(self):
        return self.value.type

    def __repr__(self):
        return repr(self.data)

    def __format__(self, spec):
        return format(self.data, spec)

    def __hash__(self):
        # Consistent with the concrete value, so traced dims can key dicts and sets.
        return hash(self.data)

    def __bool__(self):
        return _baked("number", bool(self.data), "boolean")

    def __int__(self):
        return _baked("number", int(self.data), "integer")

    def __float__(self):
        return _baked("number", float(self.data), "float", _LIKE_HINT)

    def __index__(self):
        return _baked("number", operator.index(self.data), "index", _LIKE_HINT)

    def _scalar_op(op, reflected=False):
        def method(self, other):
            if not isinstance(other, (TracedScalar, int, float, bool)):
                return NotImplemented
            args = (other, self) if reflected else (self, other)
            # ``//`` stands for aten::floor_divide on arrays and aten::floordiv on ints:
            # the first kind with an overload for these operands records the op
            for kind in kinds_for_callable(op):
                try:
                    return call(kind, *args)
                except SchemaMatchError:
                    continue
            # No scalar overload of the op is registered: compute in Python and
            # bake the result, telling the user where.
            _baked("number", None, "number (no scalar op is registered for it)")
            return op(*concrete(args))
        method.__name__ = op.__name__
        return method

    __add__ = _scalar_op(operator.add)
    __radd__ = _scalar_op(operator.add, reflected=True)
    __sub__ = _scalar_op(operator.sub)
    __rsub__ = _scalar_op(operator.sub, reflected=True)
    __mul__ = _scalar_op(operator.mul)
    __rmul__ = _scalar_op(operator.mul, reflected=True)
    __floordiv__ = _scalar_op(operator.floordiv)
    __rfloordiv__ = _scalar_op(operator.floordiv, reflected=True)
    __truediv__ = _scalar_op(operator.truediv)
    __rtruediv__ = _scalar_op(operator.truediv, reflected=True)
    __mod__ = _scalar_op(operator.mod)
    __rmod__ = _scalar_op(operator.mod, reflected=True)
    __eq__ = _scalar_op(operator.eq)
    __ne__ = _scalar_op(operator.ne)
    __lt__ = _scalar_op(operator.lt)
    __le__ = _scalar_op(operator.le)
    __gt__ = _scalar_op(operator.gt)
    __ge__ = _scalar_op(operator.ge)
    del _scalar_op

    def __neg__(self):
        return 0 - self
