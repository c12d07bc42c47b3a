"""Translate NumPy call spellings (``np.sum(x, axis=1, keepdims=True)``, ``x.reshape(2, -1)``)
into registry op calls (``aten::sum(self, dim, keepdim)``, ``aten::reshape(self, shape)``).

The registry says which op a NumPy function or ndarray method stands for
(``for_callable``, ``for_method``) and how NumPy spells its arguments
(``numpy_spelling``: ``axis`` is ``dim``, ``ddof=0`` is ``correction=0``); the
conventions that are not a renaming (``axis=None`` for "every axis") are applied
here, once, for the tracer and the script compiler.
"""

import inspect

import numpy as np

from jitcore.ops.dispatch import call
from jitcore.ops.registry import for_callable, for_method, numpy_spelling

__all__ = ["numpy_function_call", "method_call"]

_EXTREMA_WITH_A_NUMBER = {"aten::maximum": "aten::clamp_min", "aten::minimum": "aten::clamp_max"}


def _bound_arguments(func, args, kwargs):
    """``func``'s parameters as explicitly passed: ``[(name, value)]`` in signature order."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        # C functions without a signature (np.where): positional only.
        if kwargs:
            raise TypeError(f"jitcore.trace: pass the arguments of np.{func.__name__} "
                            "positionally") from None
        return [(None, value) for value in args]
    bound = signature.bind(*args, **kwargs)
    pairs = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            # a ufunc's x1, x2 (NumPy 2 gives ufuncs signatures): positional by definition
            pairs.append((None, value))
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            pairs.extend((None, v) for v in value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            pairs.extend(value.items())
        else:
            pairs.append((name, value))
    return pairs


def numpy_function_call(kind, func, args, kwargs):
    """Record ``func(*args, **kwargs)`` (a NumPy function) as op ``kind``.

    Raises
    ------
    TypeError
        If an argument has no counterpart in the op (``out=``, ``where=``), naming it.
    """
    pairs = _bound_arguments(func, args, kwargs)
    spelling = numpy_spelling(kind)
    positional, keywords = [], {}
    for index, (name, value) in enumerate(pairs):
        if name is None or (index == 0 and not keywords):
            if keywords:
                raise TypeError(f"jitcore.trace: np.{func.__name__} got a positional argument "
                                "after keyword ones")
            positional.append(_as_list(value))
            continue
        aten_name = spelling.names.get(name, name)
        if aten_name not in spelling.arguments:
            if value is None or value is np._NoValue or (name == "order" and value in ("C", "K", "A")):
                continue  # NumPy's default; nothing to record
            raise TypeError(f"jitcore.trace cannot record np.{func.__name__}(..., {name}=...): "
                            f"{kind} has no such argument")
        keywords[aten_name] = _as_list(value)
    for name, value in spelling.defaults.items():
        keywords.setdefault(name, value)
    return _call_with_conventions(kind, spelling, positional, keywords)


def _as_list(value):
    """A tuple argument (``axis=(0, 1)``, ``shape=(3, 4)``) as the list a schema takes."""
    return list(value) if isinstance(value, tuple) else value


def _is_number(operand):
    """A Python int or float, or a traced/scripted value of type int or float (not bool)."""
    if isinstance(operand, (int, float)) and not isinstance(operand, bool):
        return True
    jit_type = getattr(operand, "jit_type", None)
    return getattr(jit_type, "kind", None) in ("int", "float")


def _call_with_conventions(kind, spelling, positional, keywords):
    """Call ``kind`` after mapping NumPy conventions that differ from ATen's."""
    if "keepdims" in spelling.names:    # a reduction: axis=None is every axis
        if len(positional) > 1:
            keywords.setdefault("dim", _as_list(positional.pop(1)))
        if keywords.get("dim") is None:
            keywords.pop("dim", None)
            if keywords.get("keepdim"):
                keywords["dim"] = list(range(positional[0].ndim))
    elif kind == "aten::permute":
        dims = keywords.pop("dims", None) if len(positional) < 2 else positional.pop(1)
        keywords["dims"] = list(range(positional[0].ndim))[::-1] if dims is None else list(dims)
    elif kind in _EXTREMA_WITH_A_NUMBER and len(positional) == 2 and not keywords:
        # np.maximum(x, 0.0): ATen's maximum takes tensors only, and clamp_min(x, 0.0)
        # is the same op (NumPy's result dtype and NaN propagation: its reference is np.clip)
        numbers = [_is_number(p) for p in positional]
        if numbers.count(True) == 1:
            number = positional[numbers.index(True)]
            return call(_EXTREMA_WITH_A_NUMBER[kind], positional[numbers.index(False)], number)
    return call(kind, *positional, **keywords)


def method_call(array, name):
    """A callable recording ``array.<name>(...)``, or None if no op stands for the method."""
    special = _SPECIAL_METHODS.get(name)
    if special is not None:
        return lambda *args, **kwargs: special(array, *args, **kwargs)
    kind = for_method(name)
    func = getattr(np, name, None)
    if kind is None and callable(func):
        kind = for_callable(func)
    if kind is None:
        return None
    if not callable(func):
        return lambda *args, **kwargs: call(kind, array, *args, **kwargs)
    return lambda *args, **kwargs: numpy_function_call(kind, func, (array,) + args, kwargs)


def _shape_arguments(values):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean ``[2, 3]``."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return list(values[0])
    return list(values)


def _reshape(array, *shape, order="C"):
    if order != "C":
        raise TypeError(f"jitcore.trace records C-order reshapes only, got order={order!r}")
    return call(for_method("reshape"), array, _shape_arguments(shape))


def _transpose(array, *axes):
    dims = _shape_arguments(axes) or list(range(array.ndim))[::-1]
    return call(for_method("transpose"), array, dims)


def _astype(array, dtype, order="K", casting="unsafe", subok=True, copy=True):
    # NumPy copies unless told not to, also to the same dtype; ATen's ``to`` does not
    return call(for_method("astype"), array, dtype, copy=bool(copy))


def _ravel(array, order="C"):
    return call(for_method("flatten"), array, 0, -1)


def _flatten(array, order="C"):
    # ndarray.flatten always returns a copy; ATen's flatten (ravel) a view when it can
    return call(for_method("copy"), _ravel(array, order))


def _copy(array, order="C"):
    return call(for_method("copy"), array)


def _baked_python_value(method):
    def baked(array, *args):
        from jitcore.errors import TracerWarning
        from jitcore.frontend.user_location import warn_at_user_code
        warn_at_user_code(f"Converting a traced array to a Python value (ndarray.{method}) "
                          "might cause the trace to be incorrect: the value is treated as a "
                          "constant and the trace might not generalize to other inputs!",
                          TracerWarning)
        return getattr(array.data, method)(*args)
    return baked


_SPECIAL_METHODS = {
    "reshape": _reshape, "transpose": _transpose, "astype": _astype, "flatten": _flatten,
    "ravel": _ravel, "copy": _copy,
    "item": _baked_python_value("item"), "tolist": _baked_python_value("tolist"),
}
