"""Translate NumPy call spellings (``np.sum(x, axis=1, keepdims=True)``, ``x.reshape(2, -1)``)
into registry op calls (``aten::sum(self, dim, keepdim)``, ``aten::reshape(self, shape)``).

The registry says which op a NumPy function or ndarray method stands for
(``for_callable``, ``for_method``) and how NumPy spells its arguments where the
names alone do not tell (``numpy_spelling``: ``axis`` is ``dim``, ``ddof=0`` is
``correction=0``).  Every other NumPy parameter is matched from the function's
signature (:func:`argument_names`): by name where the schema has the same one,
else, for a required parameter, by position (``np.swapaxes(a, axis1, axis2)`` is
``transpose(self, dim0, dim1)``), so a call binds the same whether the user
passes an argument by position or by keyword.  The conventions that are not a renaming (``axis=None``
for "every axis") are applied here, once, for the tracer and the script compiler.
"""

import functools
import inspect

import numpy as np

from jitcore._runtime.types import IntType, ListType, OptionalType, TensorType
from jitcore.ops.dispatch import call
from jitcore.ops.registry import for_callable, for_method, numpy_spelling, overloads

__all__ = ["numpy_function_call", "method_call", "argument_names"]

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


_BY_POSITION_OR_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@functools.lru_cache(maxsize=None)
def argument_names(kind, func):
    """NumPy parameter name -> schema argument name, for ``func`` standing for ``kind``.

    The registry's ``numpy_names`` first, then the same name, then position: the
    k-th positional-or-keyword parameter of ``func``, when it is required (no
    default), is the k-th positional argument of the kind's longest overload,
    unless either is already matched.  Optional parameters match by name only, so
    that ``np.sort``'s ``kind`` never becomes ``descending``.  Parameters with no
    counterpart (``out``, ``subok``) are left out.
    """
    spelling = numpy_spelling(kind)
    try:
        parameters = [p for p in inspect.signature(func).parameters.values()
                      if p.kind in _BY_POSITION_OR_NAME]
    except (TypeError, ValueError):
        return {}   # no signature: positional only
    # the registry's names also cover parameters a **kwargs passes on (np.pad's
    # constant_values)
    names = dict(spelling.names)
    for p in parameters:
        if p.name in spelling.arguments and p.name not in names:
            names[p.name] = p.name
    schema_positional = max(([a.name for a in op.schema.arguments if not a.kwarg_only]
                             for op in overloads(kind)), key=len, default=[])
    claimed = set(names.values())
    numpy_positional = [p for p in parameters if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    for parameter, schema_name in zip(numpy_positional, schema_positional):
        numpy_name = parameter.name
        required = parameter.default is inspect.Parameter.empty
        if required and numpy_name not in names and schema_name not in claimed:
            names[numpy_name] = schema_name
            claimed.add(schema_name)
    return names


# Values of NumPy parameters without a schema argument that ask for what jitcore does
# anyway: C order, a stable sort (jitcore's sorts are all stable), a new array.
_MEANS_THE_DEFAULT = {"order": ("C", "K", "A"), "kind": ("stable", "mergesort"), "copy": (True,),
                      "optimize": (False,)}


@functools.lru_cache(maxsize=None)
def _optional_arguments(kind):
    """The schema arguments of ``kind`` that take None in some overload."""
    return frozenset(a.name for op in overloads(kind) for a in op.schema.arguments
                     if isinstance(a.type, OptionalType))


# NumPy parameters that are shapes: an int among them is a 1-d shape.
_SHAPE_PARAMETERS = ("shape", "newshape")


def _is_int(value):
    """A Python int, or a traced or compiled int (``n`` in ``np.zeros(n)``)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or getattr(value, "jit_type", None) == IntType.get()


def numpy_function_call(kind, func, args, kwargs):
    """Record ``func(*args, **kwargs)`` (a NumPy function) as op ``kind``.

    Raises
    ------
    TypeError
        If an argument has no counterpart in the op (``out=``, ``where=``), naming it.
    """
    pairs = _bound_arguments(func, args, kwargs)
    out = dict(pairs).get("out")
    if out is not None:
        # np.add(a, b, out=c): the result written into c (aten::copy_), c returned
        target = out[0] if isinstance(out, tuple) and len(out) == 1 else out
        if getattr(target, "jit_type", None) is None:
            raise TypeError(f"np.{func.__name__}(..., out=...) takes an array of the compiled "
                            f"code; write `out[...] = np.{func.__name__}(...)`")
        result = numpy_function_call(kind, func, args, {k: v for k, v in kwargs.items()
                                                        if k != "out"})
        return call("aten::copy_", target, result)
    spelling = numpy_spelling(kind)
    names = argument_names(kind, func)
    positional, keywords = [], {}
    for index, (name, value) in enumerate(pairs):
        if name in _SHAPE_PARAMETERS and _is_int(value):
            value = (value,)     # NumPy takes one int for a 1-d shape: np.zeros(4)
        if name is None or (index == 0 and not keywords):
            if keywords:
                raise TypeError(f"jitcore.trace: np.{func.__name__} got a positional argument "
                                "after keyword ones")
            positional.append(_as_list(value))
            continue
        aten_name = names.get(name)
        if aten_name is None:
            if value is None or value is np._NoValue or value in _MEANS_THE_DEFAULT.get(name, ()):
                continue  # NumPy's default, or what jitcore always does; nothing to record
            if name == "out":
                raise TypeError(f"np.{func.__name__}(..., out=...) is not supported; write the "
                                f"result in place with `out[...] = np.{func.__name__}(...)`")
            raise TypeError(f"jitcore.trace cannot record np.{func.__name__}(..., {name}=...): "
                            f"{kind} has no such argument")
        if value is None and aten_name not in _optional_arguments(kind) and kind not in _CONVENTIONS:
            continue  # NumPy's None for "not given": the schema's default (conventions read it)
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


def _flattened(positional, keywords):
    """``axis=None`` means the flattened array (np.cumsum, np.sort): flatten, then dim 0."""
    if keywords.get("dim") is None:
        positional[0] = call("aten::reshape", positional[0], [-1])
        keywords["dim"] = 0


def _as_int_list(keywords, name, all_dims_of=None):
    """An int for an ``int[]`` argument as a one-item list; missing: every dim of ``all_dims_of``."""
    value = keywords.get(name)
    if value is None and all_dims_of is not None:
        keywords[name] = list(range(all_dims_of.ndim))
    elif value is not None and not isinstance(value, list):
        keywords[name] = [value]


def _split(positional, keywords):
    # np.split's indices_or_sections: an int is a number of sections, a list cut indices
    if isinstance(keywords.get("sections"), list):
        keywords["indices"] = keywords.pop("sections")
    return call("aten::tensor_split", *positional, **keywords)


def _scan(kind):
    def convention(positional, keywords):
        _flattened(positional, keywords)
        return call(kind, *positional, **keywords)
    return convention


def _sort(positional, keywords):
    # np.sort returns the values only
    _flattened(positional, keywords)
    return call("aten::sort", *positional, **keywords)[0]


def _argsort(positional, keywords):
    _flattened(positional, keywords)
    return call("aten::argsort", *positional, **keywords)


def _flip(positional, keywords):
    _as_int_list(keywords, "dims", all_dims_of=positional[0])
    return call("aten::flip", *positional, **keywords)


def _tile(positional, keywords):
    _as_int_list(keywords, "dims")
    return call("aten::tile", *positional, **keywords)


def _norm(positional, keywords):
    """np.linalg.norm as a vector norm: ord=None (and 'fro') is the 2-norm of the
    flattened dims; a numeric ord of a matrix is a matrix norm, which jitcore lacks."""
    x = positional[0]
    order = keywords.pop("ord", None)
    dims = keywords.get("dim")
    if dims is not None and not isinstance(dims, list):
        dims = keywords["dim"] = [dims]
    over = x.ndim if dims is None else len(dims)
    if order == "fro" and over == 2:
        order = None
    if order is not None and over != 1:
        raise TypeError(f"jitcore records np.linalg.norm as a vector norm: ord={order!r} over "
                        f"{over} axes is a matrix norm, which it does not support (use ord=None "
                        "for the Frobenius norm)")
    if order is not None:
        keywords["ord"] = order
    if dims is None:
        keywords.pop("dim", None)
    return call("aten::linalg_vector_norm", *positional, **keywords)


def _einsum(positional, keywords):
    # np.einsum(equation, *operands): ATen takes the operands as one list
    return call("aten::einsum", positional[0], list(positional[1:]), **keywords)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


def _numpy_pad(positional, keywords):
    """np.pad: ``pad_width`` (one int, one pair, or a pair per axis from the first), known
    when compiling, as aten::pad's list of pairs from the last axis.  A reflect or edge
    padding of every axis pads a view with one more leading axis (the kernel pads at most
    the trailing three axes of a 2- to 4-d array, as torch's)."""
    x = positional[0]
    mode = keywords.pop("mode", "constant")
    if mode not in _PAD_MODES:
        raise TypeError(f"np.pad(..., mode={mode!r}) is not supported; jitcore pads with "
                        f"mode {', '.join(map(repr, _PAD_MODES))}")
    pairs = _pad_pairs(keywords.get("pad"), _rank(x))
    rank = len(pairs)
    value = keywords.get("value")
    if value is not None and not _is_number(value):
        raise TypeError("np.pad's constant_values must be one number in jitcore")
    while pairs and pairs[0] == [0, 0]:
        pairs.pop(0)                 # leading axes left alone
    pad = [amount for pair in reversed(pairs) for amount in pair]
    if mode == "constant" or rank > len(pairs):
        return call("aten::pad", x, pad, _PAD_MODES[mode], value)
    padded = call("aten::pad", call("aten::unsqueeze", x, 0), pad, _PAD_MODES[mode], None)
    return call("aten::squeeze", padded, 0)


def _pad_pairs(width, rank):
    """np.pad's ``pad_width`` as a ``[before, after]`` pair per axis of a rank-``rank`` array."""
    try:
        widths = np.asarray(width)
    except (TypeError, ValueError):
        widths = np.asarray(None)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise TypeError(f"np.pad's pad_width must be ints known when compiling (an int, a "
                        f"(before, after) pair, or a pair per axis), got {width!r}")
    if (widths < 0).any():
        raise ValueError(f"np.pad: pad_width cannot contain negative values, got {width!r}")
    if widths.ndim < 2 or widths.shape[0] == 1:
        if rank is None:
            raise TypeError("np.pad with one width for every axis needs the array's rank "
                            "known when compiling; give a (before, after) pair per axis")
        widths = np.broadcast_to(widths.reshape(-1), (rank, 2))
    if widths.shape != (rank if rank is not None else widths.shape[0], 2):
        raise ValueError(f"np.pad: pad_width {width!r} does not fit a {rank}-d array")
    return widths.tolist()


def _array(copies):
    """np.array / np.asarray: of an array, a copy (np.array) or the array itself when no
    dtype conversion is asked (np.asarray); of a list of arrays, np.stack; otherwise the
    conversion of numbers and nested lists (jc::array)."""
    def convention(positional, keywords):
        data = positional[0] if positional else keywords.pop("data")
        dtype = keywords.get("dtype")
        jit_type = getattr(data, "jit_type", None)
        if (isinstance(jit_type, ListType) and isinstance(jit_type.elem, TensorType)) or (
                isinstance(data, (list, tuple)) and data and all(
                    isinstance(getattr(item, "jit_type", None), TensorType) for item in data)):
            data, copies_now = call("aten::stack", data, 0), False
        elif isinstance(jit_type, TensorType):
            copies_now = copies
        else:
            return call("jc::array" if copies else "jc::asarray", data, dtype=dtype)
        if dtype is None:
            return call("aten::clone", data) if copies_now else data
        return call(for_method("astype"), data, dtype, copy=copies_now)
    return convention


def _random(positional, keywords):
    """np.random.random(size) / random_sample(size): one int is a 1-d size, as in NumPy;
    no size (a Python float in NumPy) has no array to compile."""
    size = positional.pop(0) if positional else keywords.pop("size", None)
    if size is None:
        raise TypeError("np.random.random() without a size draws a Python float; compiled "
                        "code draws arrays: pass a size (np.random.random(1)[0] for one value)")
    return call("aten::rand", [size] if _is_int(size) else _as_list(size), **keywords)


_CONVENTIONS = {
    "aten::rand": _random,
    "jc::array": _array(copies=True), "jc::asarray": _array(copies=False),
    "aten::pad": _numpy_pad,
    "aten::einsum": _einsum,
    "aten::tensor_split": _split, "aten::cumsum": _scan("aten::cumsum"),
    "aten::cumprod": _scan("aten::cumprod"), "aten::sort": _sort, "aten::argsort": _argsort,
    "aten::flip": _flip, "aten::tile": _tile, "aten::linalg_vector_norm": _norm,
}


def _call_with_conventions(kind, spelling, positional, keywords):
    """Call ``kind`` after mapping NumPy conventions that differ from ATen's."""
    convention = _CONVENTIONS.get(kind)
    if convention is not None:
        return convention(positional, keywords)
    if "keepdims" in spelling.names:    # a reduction: axis=None is every axis
        if len(positional) > 1:
            keywords.setdefault("dim", _as_list(positional.pop(1)))
        if keywords.get("dim") is None:
            keywords.pop("dim", None)
            if keywords.get("keepdim"):
                keywords["dim"] = list(range(positional[0].ndim))
    elif kind == "aten::permute":
        dims = keywords.pop("dims", None) if len(positional) < 2 else positional.pop(1)
        if dims is None and _rank(positional[0]) is None:
            return call("aten::numpy_T", positional[0])     # every axis reversed, any rank
        if dims is None:
            dims = list(range(positional[0].ndim))[::-1]
        elif not isinstance(getattr(dims, "jit_type", None), ListType):
            dims = list(dims)       # a tuple; a List[int] value of the program stays one
        keywords["dims"] = dims
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
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean ``[2, 3]``; so does
    ``reshape(shape)`` of a ``List[int]`` value computed by the program."""
    if len(values) == 1:
        if isinstance(values[0], (tuple, list)):
            return list(values[0])
        if isinstance(getattr(values[0], "jit_type", None), ListType):
            return values[0]
    return list(values)


def _reshape(array, *shape, order="C"):
    if order != "C":
        raise TypeError(f"jitcore.trace records C-order reshapes only, got order={order!r}")
    return call(for_method("reshape"), array, _shape_arguments(shape))


def _transpose(array, *axes):
    dims = _shape_arguments(axes)
    if not isinstance(dims, list):          # a List[int] value of the program
        return call(for_method("transpose"), array, dims)
    if not dims and _rank(array) is None:
        return call("aten::numpy_T", array)     # every axis reversed, any rank
    return call(for_method("transpose"), array, dims or list(range(array.ndim))[::-1])


def _rank(array):
    """The rank of an array, a traced array or a compiled value; None where a compiled
    value's rank is not known when compiling."""
    jit_type = getattr(array, "jit_type", None)
    if jit_type is None:
        return np.ndim(array)
    return getattr(jit_type, "rank", None)


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
