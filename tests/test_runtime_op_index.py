"""``aten::index.Tensor`` in the runtime (``_runtime/op_index.pyx``) against NumPy's indexing."""

import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

RNG = np.random.default_rng(23)


def _graph(pattern):
    """A graph indexing %x with a list whose entries are None ('_') or inputs %i0, %i1, ..."""
    inputs, entries, lines = [], [], []
    for k, entry in enumerate(pattern):
        if entry == "_":
            lines.append(f"  %n{k} : NoneType = prim::Constant()")
            entries.append(f"%n{k}")
        else:
            inputs.append(f"%i{len(inputs)} : Tensor")
            entries.append(f"%i{len(inputs) - 1}")
    head = ",\n      ".join(["%x : Tensor"] + inputs)
    body = "\n".join(lines)
    return parse_graph(f"""graph({head}):
{body}
  %list : Tensor?[] = prim::ListConstruct({", ".join(entries)})
  %y : Tensor = aten::index(%x, %list)
  return (%y)""")


def _numpy_key(pattern, indices):
    it = iter(indices)
    return tuple(slice(None) if entry == "_" else next(it) for entry in pattern)


CASES = {
    "rows": ("i", [np.array([3, 0, -1, 3])]),
    "rows_2d_index": ("i", [np.array([[0, 1], [4, -2]])]),
    "middle_dim": ("_i", [np.array([5, 0, 2])]),
    "int32_index": ("_i", [np.array([1, -6], np.int32)]),
    "two_adjacent_broadcast": ("ii", [np.array([[0], [4]]), np.array([1, 2, 3])]),
    "separated_put_first": ("i_i", [np.array([0, 2]), np.array([6, -1])]),
    "all_dims": ("iii", [np.array([1, 2]), np.array([0, 5]), np.array([6, 0])]),
    "zero_d_index": ("_i", [np.array(4)]),
    "empty_index": ("i", [np.zeros(0, np.int64)]),
    "bool_rows": ("b", [np.array([True, False, True, False, True])]),
    "bool_two_dims": ("_b", ["mask67"]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_index_matches_numpy(name, dtype):
    pattern, indices = CASES[name]
    x = (RNG.standard_normal((5, 6, 7)) * 10).astype(dtype)
    indices = [RNG.standard_normal((6, 7)) > 0 if isinstance(i, str) else i for i in indices]
    run = compile_graph(_graph(pattern.replace("b", "i")), fallback=False)
    got = run(x, *indices)
    want = x[_numpy_key(pattern, indices)]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_strided_input_and_index():
    x = RNG.standard_normal((7, 9)).astype(np.float32).T[::2]     # (5, 7), non-contiguous
    index = np.array([6, 1, 3, 0, 2, 5])[::2]                       # a strided index array
    run = compile_graph(_graph("_i"), fallback=False)
    np.testing.assert_array_equal(run(x, index), x[:, index])


@pytest.mark.parametrize("pattern, indices, error, message", [
    ("i", [np.array([5])], KernelError, "index out of range"),
    ("i", [np.array([-6])], KernelError, "index out of range"),
    ("ii", [np.array([0, 1]), np.array([0, 1, 2])], KernelError, "cannot be broadcast"),
    ("i", [np.array([0.5])], TypeError, "must be integer"),
    ("i", [np.array([True, False])], KernelError, "does not match"),
    ("iiii", [np.array([0])] * 4, KernelError, "too many indices"),
])
def test_bad_indices_raise_clear_errors(pattern, indices, error, message):
    x = np.zeros((5, 6, 7), np.float32)
    run = compile_graph(_graph(pattern), fallback=False)
    with pytest.raises(error, match=message):
        run(x, *indices)


def test_traced_fancy_indexing_runs_compiled():
    import jitcore

    def gather_columns(x, columns):
        return x[:, columns] * 2.0

    x = RNG.standard_normal((4, 8)).astype(np.float32)
    columns = np.array([7, 0, 3])
    traced = jitcore.trace(gather_columns, (x, columns))
    np.testing.assert_array_equal(traced(x, columns), gather_columns(x, columns))
    assert traced.executor.dispatcher.last_plan.code is not None
