"""``jitcore.nn.functional``'s torch-namespace functions added for TorchScript archives:
``div(rounding_mode=)`` and ``unflatten``, eager, traced and scripted, each one registry op."""

import numpy as np
import pytest

import jitcore
import jitcore.nn.functional as F


def _heads(x, d):
    q = F.unflatten(x, -1, [2, -1])
    return F.div(q, d, rounding_mode="trunc"), F.div(q, d, rounding_mode="floor"), F.div(q, d)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_div_and_unflatten_eager_traced_and_scripted(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 8)) * 9).astype(dtype)
    d = np.array([3, -3, 2, -2], dtype)
    q = x.reshape(3, 2, 4)
    with np.errstate(divide="ignore"):
        floored = np.floor_divide(q, d)
    truncated = np.where((q % d != 0) & ((q < 0) != (d < 0)), floored + 1, floored)
    expected = (truncated, floored, np.true_divide(q, d))
    traced = jitcore.trace(_heads, (x, d))
    assert [n.kind for n in traced.graph.nodes if n.kind.startswith("aten::")] == [
        "aten::unflatten", "aten::div", "aten::div", "aten::div"]
    for compiled in (_heads, traced, jitcore.script(_heads)):
        for got, want in zip(compiled(x, d), expected):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
