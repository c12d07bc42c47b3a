"""The runtime's tensor ops (handlers in op_shape, op_index, op_reduction, op_float_values;
kernels indexing, sorting, scan, float_values) against their NumPy references.

Every op runs each of its sample calls (tests/_op_samples.py) compiled, in float32,
float64 and int64, and must give the reference's dtypes, shapes and values (bit for bit:
these ops copy, compare, or accumulate in NumPy's order); large inputs give the same bits
with one and two threads; bad inputs raise a jitcore error naming the problem.
"""

import numpy as np
import pytest

import jitcore
from jitcore import ops
from jitcore.errors import JitcoreError
from jitcore.executor import compile_graph
from jitcore.ir import Graph
from jitcore._runtime.types import ListType, TensorType

from _op_samples import sample_args

TENSOR_OPS = [
    "aten::split.Tensor", "aten::split.sizes", "aten::split_with_sizes",
    "aten::tensor_split.sections", "aten::tensor_split.indices", "aten::chunk", "aten::unbind.int",
    "aten::tril", "aten::triu", "aten::flip", "aten::fliplr", "aten::flipud", "aten::roll",
    "aten::tile", "aten::repeat", "aten::repeat_interleave.self_int", "aten::masked_fill.Scalar",
    "aten::masked_fill.Tensor", "aten::gather", "aten::take", "aten::take_along_dim",
    "aten::index_select", "aten::cumsum", "aten::cumprod", "aten::sort", "aten::sort.stable",
    "aten::argsort", "aten::argsort.stable", "aten::topk", "aten::linalg_vector_norm",
    "aten::isnan", "aten::isinf", "aten::isfinite", "aten::nan_to_num", "aten::round.decimals",
    "aten::einsum",
]
# ops computed with float arithmetic in an order NumPy does not promise (pairwise sums)
_ROUNDED = {"aten::linalg_vector_norm", "aten::einsum"}


def _as_dtype(value, dtype):
    """A float sample array in ``dtype`` (int64: rounded, so that values stay distinct)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return (np.round(value * 10) if dtype == "int64" else value).astype(dtype)
    return value


def _graph(op, args):
    g = Graph()
    inputs, feed = [], []
    for arg in args:
        if isinstance(arg, np.ndarray):
            inputs.append(g.add_input(type=TensorType.from_array(arg)))
            feed.append(arg)
        elif isinstance(arg, list) and arg and isinstance(arg[0], np.ndarray):   # Tensor[]
            items = [g.add_input(type=TensorType.from_array(a)) for a in arg]
            feed.extend(arg)
            inputs.append(g.insert("prim::ListConstruct", items,
                                   output_types=[ListType(TensorType.get())]).output())
        else:
            inputs.append(g.insert_constant(arg))
    types = [v.type for v in inputs]
    out_types = op.infer(types, [ops.UNKNOWN if isinstance(a, np.ndarray) else a for a in args])
    node = g.insert(op.kind, inputs, num_outputs=len(out_types), output_types=list(out_types))
    for value in node.outputs:
        g.register_output(value)
    return g, feed


def _run(name, args):
    op = ops.get(name)
    g, feed = _graph(op, args)
    got = compile_graph(g, fallback=False)(*feed)
    return got, op.reference(*args)


def _assert_same(got, want, exact, what):
    if isinstance(want, (tuple, list)):
        got = got if isinstance(got, (tuple, list)) else (got,)
        assert len(got) == len(want), f"{what}: {len(got)} results, reference {len(want)}"
        for g, w in zip(got, want):
            _assert_same(g, w, exact, what)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, reference {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, reference {want.shape}"
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        single = want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-6 if single else 1e-13,
                                   atol=1e-5 if single else 1e-12, err_msg=what)


def _skip_for_ints(name, args):
    # float-only arguments (nan, inf) and ops whose result is float by definition
    return name in ("aten::nan_to_num", "aten::linalg_vector_norm", "aten::round.decimals",
                    "aten::einsum") or any(
        isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all() for a in args)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("name", TENSOR_OPS)
def test_op_matches_its_reference(name, dtype):
    for args in sample_args(name, "float64" if dtype == "int64" else dtype):
        if dtype == "int64":
            if _skip_for_ints(name, args):
                continue
            args = [_as_dtype(a, dtype) if k == 0 else a for k, a in enumerate(args)]
        got, want = _run(name, args)
        _assert_same(got, want, name not in _ROUNDED, f"{name}{[getattr(a, 'shape', a) for a in args]}")


def test_every_tensor_op_is_tested_here():
    registered = {op.qualified_name for op in ops.all_ops()}
    assert set(TENSOR_OPS) <= registered


# ------------------------------------------------------------- special values


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sort_is_stable_and_puts_nan_last_ascending_first_descending(dtype):
    x = np.array([[2.0, np.nan, 1.0, 2.0, -np.inf, 1.0, np.nan, 0.0]], dtype=dtype)
    for descending in (False, True):
        (values, indices), (want_values, want_indices) = _run("aten::sort", [x, -1, descending])
        np.testing.assert_array_equal(indices, want_indices)
        np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(_run("aten::argsort", [x, -1, False])[0],
                                  [[4, 7, 2, 5, 0, 3, 1, 6]])
    np.testing.assert_array_equal(_run("aten::argsort", [x, -1, True])[0],
                                  [[1, 6, 0, 3, 2, 5, 7, 4]])


def test_sort_and_topk_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, (6, 9)).astype(np.float32)     # many ties: stability shows
    values, indices = _run("aten::sort.stable", [x, True, 1, True])[0]
    tv, ti = torch.sort(torch.from_numpy(x), dim=1, descending=True, stable=True)
    np.testing.assert_array_equal(values, tv.numpy())
    np.testing.assert_array_equal(indices, ti.numpy())
    y = rng.standard_normal((4, 7)).astype(np.float32)
    values, indices = _run("aten::topk", [y, 3, -1, True, True])[0]
    tv, ti = torch.topk(torch.from_numpy(y), 3)
    np.testing.assert_array_equal(values, tv.numpy())
    np.testing.assert_array_equal(indices, ti.numpy())


def test_cumsum_of_ints_accumulates_in_int64_as_numpy():
    x = np.array([[2**31 - 1, 5, 7]], dtype=np.int32)
    got, want = _run("aten::cumsum", [x, 1, None])
    assert got.dtype == want.dtype == np.int64
    np.testing.assert_array_equal(got, np.cumsum(x, axis=1))
    b = np.array([True, False, True])
    np.testing.assert_array_equal(_run("aten::cumsum", [b, 0, None])[0], [1, 1, 2])


def test_views_share_the_input_and_strided_inputs_work():
    x = np.arange(24.0).reshape(4, 6)[:, ::2]       # not contiguous
    pieces, want = _run("aten::split.Tensor", [x, 2, 1])
    _assert_same(pieces, want, True, "split of a strided view")
    flipped = x[::-1]                               # negative strides
    for name, extra in (("aten::tril", [0]), ("aten::roll", [[1], [0]]),
                        ("aten::cumsum", [0, None]), ("aten::sort", [0, False])):
        _assert_same(*_run(name, [flipped] + extra), True, name)


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("name, args", [
    ("aten::tril", lambda x: [x, 1]),
    ("aten::roll", lambda x: [x, [3, -2], [0, 1]]),
    ("aten::tile", lambda x: [x, [2, 2]]),
    ("aten::masked_fill.Scalar", lambda x: [x, x > 0, -1.0]),
    ("aten::gather", lambda x: [x, 1, np.argsort(x, axis=1), False]),
    ("aten::cumsum", lambda x: [x, 1, None]),
    ("aten::sort", lambda x: [x, 1, True]),
    ("aten::isfinite", lambda x: [x]),
    ("aten::round.decimals", lambda x: [x, 3]),
])
def test_one_and_two_threads_give_the_same_bits(name, args):
    x = np.random.default_rng(9).standard_normal((512, 300)).astype(np.float32)
    results = []
    for threads in (1, 2):
        jitcore.set_num_threads(threads)
        try:
            results.append(_run(name, args(x))[0])
        finally:
            jitcore.set_num_threads(2)
    _assert_same(results[0], results[1], True, f"{name} at 1 and 2 threads")


# -------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("name, args, message", [
    ("aten::gather", [np.ones((2, 3)), 1, np.array([[0, 5]]), False], "index out of range"),
    ("aten::index_select", [np.ones((2, 3)), 1, np.array([3])], "index out of range"),
    ("aten::take", [np.ones((2, 3)), np.array([6])], "index out of range"),
    ("aten::masked_fill.Scalar", [np.ones((2, 3)), np.ones((4, 3)) > 0, 1.0], "broadcast"),
    ("aten::masked_fill.Scalar", [np.ones((2, 3)), np.ones((2, 3)), 1.0], "bool mask"),
    ("aten::tril", [np.ones(3), 0], "rank >= 2"),
    ("aten::topk", [np.ones((2, 3)), 4, -1, True, True], "k is out of range"),
    ("aten::split.sizes", [np.ones((5, 2)), [2, 2], 0], "sum to"),
    ("aten::chunk", [np.ones((5, 2)), 0, 0], "positive number of chunks"),
    ("aten::roll", [np.ones((2, 3)), [1, 2], [0]], "differ in length"),
    ("aten::repeat", [np.ones((2, 3)), [2]], "one repetition per dim"),
    ("aten::sort", [np.ones(()), -1, False], "rank >= 1"),
])
def test_bad_inputs_name_the_problem(name, args, message):
    op = ops.get(name)
    g = Graph()
    inputs, feed = [], []
    for arg in args:
        if isinstance(arg, np.ndarray):
            inputs.append(g.add_input(type=TensorType.get()))
            feed.append(arg)
        else:
            inputs.append(g.insert_constant(arg))
    node = g.insert(op.kind, inputs, num_outputs=len(op.schema.returns),
                    output_types=[r.type for r in op.schema.returns])
    for value in node.outputs:
        g.register_output(value)
    # a kernel's error is a jitcore KernelError, a wrong kind of operand a TypeError
    with pytest.raises((JitcoreError, TypeError), match=message):
        compile_graph(g, fallback=False)(*feed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("decimals", [0, 2, -2, 5])
def test_round_decimals_gives_numpys_bits_half_to_even(dtype, decimals):
    x = np.concatenate([np.random.default_rng(2).standard_normal(10000) * 1000,
                        np.arange(-20, 20) / 2, [0.49999997, -0.49999997, -0.0, np.nan, np.inf,
                                                 -np.inf, 2.0**60, -(2.0**60), 8388607.5]]).astype(dtype)
    got, want = _run("aten::round.decimals", [x, decimals])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))     # -0.0 stays -0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_predicates_and_nan_to_num_on_special_values(dtype):
    x = np.array([[0.0, -0.0, np.nan, np.inf], [-np.inf, 1e30, -5.5, np.nan]], dtype=dtype)
    for name, fn in (("aten::isnan", np.isnan), ("aten::isinf", np.isinf),
                     ("aten::isfinite", np.isfinite)):
        np.testing.assert_array_equal(_run(name, [x])[0], fn(x))
        np.testing.assert_array_equal(_run(name, [x.T])[0], fn(x.T))       # strided
    np.testing.assert_array_equal(_run("aten::nan_to_num", [x, None, None, None])[0], np.nan_to_num(x))
