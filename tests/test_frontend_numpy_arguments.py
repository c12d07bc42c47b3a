"""NumPy call spellings recorded as registry ops, by position and by keyword, in trace and script."""

import inspect

import numpy as np
import pytest

import jitcore
from jitcore.frontend.numpy_arguments import argument_names, numpy_function_call
from jitcore.ops import registry


def _array(*shape):
    return np.random.default_rng(0).standard_normal(shape)


def swapaxes_positional(x):
    return np.swapaxes(x, 0, 1)


def swapaxes_keywords(x):
    return np.swapaxes(x, axis1=1, axis2=0)


def swapaxes_method(x):
    return x.swapaxes(0, 1)


def broadcast_to_positional(x):
    return np.broadcast_to(x[0], (3, 4))


def broadcast_to_keyword(x):
    return np.broadcast_to(x[0], shape=(3, 4))


def arange_start_stop(x):
    return x[0] + np.arange(0, x.shape[1])


def arange_start_stop_step(x):
    return np.arange(1, x.shape[1] + 3, 2) * 1.0


def dot_method(x, y):
    return x.dot(y)


def var_keywords(x):
    return np.var(x, axis=1, ddof=1, keepdims=True)


def sum_method_axis_tuple(x):
    return x.sum(axis=(0, 1))


_CASES = [
    (swapaxes_positional, 1), (swapaxes_keywords, 1), (swapaxes_method, 1),
    (broadcast_to_positional, 1), (broadcast_to_keyword, 1), (dot_method, 2),
    (var_keywords, 1), (sum_method_axis_tuple, 1),
]


@pytest.mark.parametrize("fn, n_inputs", _CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_numpy_spellings_trace_as_numpy_computes(fn, n_inputs):
    inputs = (_array(3, 4), _array(4, 2))[:n_inputs]
    traced = jitcore.trace(fn, inputs)
    np.testing.assert_allclose(traced(*inputs), fn(*inputs), rtol=1e-12)


@pytest.mark.parametrize("fn, n_inputs", _CASES + [(arange_start_stop, 1),
                                                    (arange_start_stop_step, 1)],
                         ids=lambda c: getattr(c, "__name__", ""))
def test_numpy_spellings_script_as_numpy_computes(fn, n_inputs):
    inputs = (_array(3, 4), _array(4, 2))[:n_inputs]
    scripted = jitcore.script(fn)
    np.testing.assert_allclose(scripted(*inputs), fn(*inputs), rtol=1e-12)


@pytest.mark.parametrize("args", [(5,), (0, 5), (1, 9, 3)])
def test_arange_positional_arguments_bind_to_its_overloads(args):
    # np.arange(0, n) names its second argument `stop`: ATen's `end`
    np.testing.assert_array_equal(numpy_function_call("aten::arange", np.arange, args, {}),
                                  np.arange(*args))


def test_an_argument_without_counterpart_is_named():
    with pytest.raises(TypeError, match=r"np.sum\(\.\.\., initial=\.\.\.\): aten::sum"):
        numpy_function_call("aten::sum", np.sum, (_array(3),), {"initial": 1.0})


# NumPy parameters that have no meaning for jitcore (output buffers, memory
# layout, array-likes) or that jitcore does not support yet: the recorder skips
# them at their default and names them otherwise.
_NUMPY_ONLY = {"out", "order", "subok", "like", "device", "dtype", "initial", "where", "copy",
               "casting", "signature", "mean", "kwargs", "kind", "optimize"}
_NOT_SUPPORTED_YET = {("aten::all", "axis"), ("aten::all", "keepdims"), ("aten::any", "axis"),
                      ("aten::any", "keepdims"),
                      ("aten::numel", "axis"), ("aten::matmul", "axes"),
                      ("aten::matmul", "axis"), ("aten::matmul", "keepdims"),
                      ("aten::full_like", "shape"), ("aten::ones_like", "shape"),
                      ("aten::zeros_like", "shape"), ("aten::empty_like", "shape"), ("aten::take", "axis"),
                      ("aten::take", "mode"), ("jc::array", "ndmin"), ("jc::array", "ndmax")}


def _numpy_parameters(fn):
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []   # positional only: nothing to rename
    # the first parameter is always passed positionally, as the op's first argument
    return [p.name for p in parameters[1:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _numpy_callables():
    for op in registry.all_ops():
        for fn in op.aliases:
            if isinstance(fn, np.ufunc) or (getattr(fn, "__module__", "") or "").startswith("numpy"):
                yield op.kind, fn
    for method, kind in registry.methods().items():
        fn = getattr(np, method, None)
        if callable(fn):
            yield kind, fn


def test_every_numpy_parameter_names_an_argument_of_its_op():
    missing = set()
    for kind, fn in _numpy_callables():
        names = argument_names(kind, fn)
        for name in _numpy_parameters(fn):
            if name in _NUMPY_ONLY or (kind, name) in _NOT_SUPPORTED_YET:
                continue
            if names.get(name) not in registry.numpy_spelling(kind).arguments:
                missing.add((kind, fn.__name__, name))
    assert not missing, sorted(missing)


def test_required_numpy_parameters_match_by_position_optional_ones_by_name():
    # np.swapaxes(a, axis1, axis2) is transpose(self, dim0, dim1), whatever the names
    assert argument_names("aten::transpose", np.swapaxes) == {"a": "self", "axis1": "dim0",
                                                              "axis2": "dim1"}
    assert argument_names("aten::matmul", np.dot)["b"] == "other"
    # np.sort's optional `kind` is not aten::sort's third positional argument (descending)
    assert "kind" not in argument_names("aten::sort", np.sort)
    assert argument_names("aten::sort", np.sort)["axis"] == "dim"


def test_method_and_alias_entries_name_registered_kinds():
    for method, kind in registry.methods().items():
        assert registry.is_registered(kind), (method, kind)
    for kind, fn in _numpy_callables():
        assert registry.is_registered(kind), (fn, kind)



def _pad_calls(x):
    return (np.pad(x, ((0, 0), (1, 2), (2, 1)), mode="reflect"),
            np.pad(x, ((1, 0), (1, 2), (0, 1)), "edge"),
            np.pad(x, ((1, 1), (0, 0), (3, 1)), constant_values=-1.5),
            np.pad(x, ((2, 1), (1, 1), (1, 2)), mode="reflect"))


def _pad_every_axis(x):
    return np.pad(x, 1), np.pad(x, (2, 1), mode="edge")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_np_pad_traced_and_scripted_matches_numpy(dtype):
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(dtype)
    want = _pad_calls(x)
    for compiled in (jitcore.trace(_pad_calls, (x,)), jitcore.script(_pad_calls)):
        for got, expected in zip(compiled(x), want):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
    # one width for every axis needs the rank: a trace knows it
    for got, expected in zip(jitcore.trace(_pad_every_axis, (x,))(x), _pad_every_axis(x)):
        np.testing.assert_array_equal(got, expected)


def _pad_wrap(x):
    return np.pad(x, 1, mode="wrap")


def _pad_negative(x):
    return np.pad(x, ((0, 0), (-1, 1)))


def _pad_width_from_the_input(x):
    return np.pad(x, ((0, 0), (x.shape[0], 1)))


@pytest.mark.parametrize("fn, message", [
    (_pad_wrap, "mode='wrap'.* is not supported"),
    (_pad_negative, "pad_width cannot contain negative values"),
    (_pad_width_from_the_input, "pad_width must be ints known when compiling"),
])
def test_np_pad_refusals_name_the_problem(fn, message):
    x = np.ones((2, 3))
    with pytest.raises((TypeError, ValueError), match=message):
        jitcore.trace(fn, (x,))
    with pytest.raises(jitcore.CompileError, match=message):
        jitcore.script(fn)
