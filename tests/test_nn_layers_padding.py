"""Padding layers and F.pad: torch's behaviour eager, traced, scripted and saved."""

import numpy as np
import pytest

import jitcore
from jitcore import nn

from _layer_check import check_layer


def _x(*shape, dtype=np.float32):
    return np.random.default_rng(3).standard_normal(shape).astype(dtype)


CASES = [
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ZeroPad2d", (2,), (3, 4, 5)),
    ("ConstantPad1d", ((2, 1), 1.5), (2, 3, 5)),
    ("ConstantPad1d", (3, -0.5), (3, 5)),
    ("ConstantPad2d", ((1, 0, 2, 1), 2.0), (1, 2, 4, 4)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)),
    ("ReflectionPad1d", (2,), (3, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
    ("ReflectionPad2d", (1,), (3, 4, 5)),
    ("ReplicationPad1d", ((4, 2),), (2, 3, 5)),
    ("ReplicationPad2d", ((1, 3, 2, 2),), (1, 2, 3, 4)),
    ("ReplicationPad2d", (2,), (2, 3, 4)),
]


@pytest.mark.parametrize("cls, args, shape", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_padding_layers_match_torch(cls, args, shape, tmp_path):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, cls)(*args).eval()
    check_layer(torch, layer, getattr(torch.nn, cls)(*args), (_x(*shape),), tmp_path,
                rtol=0, atol=0)


def test_functional_pad_traced_and_scripted_with_torch_order():
    x = _x(2, 3, 4, 5, dtype=np.float64)

    def fn(x):
        a = nn.functional.pad(x, (1, 2, 0, 1), mode="reflect")
        b = nn.functional.pad(x, [0, 1, 1, 1, 1, 0], value=-1.0)
        return nn.functional.pad(a, (-1, -1, 1, 0), mode="replicate"), b

    want = fn(x)
    assert want[0].shape == (2, 3, 6, 6) and want[1].shape == (2, 4, 6, 6)
    for compiled in (jitcore.trace(fn, (x,)), jitcore.script(fn)):
        for got, expected in zip(compiled(x), want):
            np.testing.assert_array_equal(got, expected)


def test_pad_keeps_integer_dtypes():
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    traced = jitcore.trace(lambda x: nn.functional.pad(x, (1, 1), value=7.0), (x,))
    got = traced(x)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [[7, 0, 1, 2, 7], [7, 3, 4, 5, 7]])


def test_pad_errors_are_clear():
    x = _x(2, 3, 4)
    with pytest.raises(ValueError, match="padding must be an int or a tuple of 4 ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match="reflect padding .* must be less than the size 4"):
        nn.ReflectionPad1d(4)(x)
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.functional.pad(x, (1, 1), mode="circular")
    with pytest.raises(ValueError, match="takes a 2-d or 3-d input, got a 4-d input"):
        nn.functional.pad(_x(1, 2, 3, 4), (1, 1), mode="replicate")
    traced = jitcore.trace(nn.ReflectionPad1d(2), (x,))
    with pytest.raises(jitcore.KernelError, match="reflect padding must be less than"):
        traced(_x(2, 3, 2))
