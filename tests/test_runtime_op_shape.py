"""``_runtime/op_shape``'s ``aten::unflatten.int`` (h_unflatten) against NumPy's reshape and torch.unflatten.
The other shape handlers are exercised by test_runtime_ops.py and the op samples."""

import numpy as np
import pytest

import jitcore
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph


def _unflatten(dim, sizes):
    items = "\n".join(f"  %s{k} : int = prim::Constant[value={s}]()" for k, s in enumerate(sizes))
    listed = ", ".join(f"%s{k}" for k in range(len(sizes)))
    return compile_graph(parse_graph(f"""graph(%x : Tensor):
  %dim : int = prim::Constant[value={dim}]()
{items}
  %sizes : int[] = prim::ListConstruct({listed})
  %y : Tensor = aten::unflatten(%x, %dim, %sizes)
  return (%y)"""), fallback=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape, dim, sizes, expected", [
    ((2, 12), 1, [3, 4], (2, 3, 4)),
    ((2, 12, 5), -2, [-1, 2, 2], (2, 3, 2, 2, 5)),
    ((6,), 0, [6], (6,)),
    ((4, 0), 1, [0, 3], (4, 0, 3)),
])
def test_unflatten_splits_one_dimension_as_a_view(dtype, shape, dim, sizes, expected):
    x = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    got = _unflatten(dim, sizes)(x)
    assert got.shape == expected and got.dtype == x.dtype
    np.testing.assert_array_equal(got, x.reshape(expected))
    assert got.size == 0 or np.shares_memory(got, x)
    torch = pytest.importorskip("torch")
    assert torch.unflatten(torch.from_numpy(x), dim, sizes).shape == expected


def test_unflatten_of_a_non_contiguous_input_copies():
    x = np.arange(24.0).reshape(4, 6).T            # (6, 4), not C-contiguous
    got = _unflatten(0, [2, 3])(x)
    np.testing.assert_array_equal(got, np.ascontiguousarray(x).reshape(2, 3, 4))


@pytest.mark.parametrize("shape, dim, sizes, message", [
    ((2, 12), 1, [5, -1], "sizes do not divide the dimension"),
    ((2, 12), 1, [3, 5], "do not multiply to the dimension"),
    ((2, 12), 1, [-1, -1], "one -1"),
    ((2, 12), 2, [3, 4], "dimension out of range"),
    ((), 0, [1], "0-d tensor"),
])
def test_unflatten_refuses_sizes_that_do_not_fit(shape, dim, sizes, message):
    with pytest.raises(jitcore.JitcoreError, match=message):
        _unflatten(dim, sizes)(np.zeros(shape))
