"""conv2d / jc::conv2d_act / pooling handlers against the registry's NumPy references."""

import numpy as np
import pytest

from jitcore import ops
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

RNG = np.random.default_rng(7)

CONV = """graph(%x : Tensor, %w : Tensor, %b : Tensor):
  %s : int[] = prim::Constant[value={stride}]()
  %p : int[] = prim::Constant[value={padding}]()
  %d : int[] = prim::Constant[value={dilation}]()
  %g : int = prim::Constant[value={groups}]()
  %y : Tensor = aten::conv2d(%x, %w, %b, %s, %p, %d, %g)
  return (%y)"""


def _run(text, *args):
    ex = compile_graph(parse_graph(text), fallback=False)
    return ex(*args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,padding,dilation,groups", [
    ([1, 1], [0, 0], [1, 1], 1), ([2, 1], [1, 2], [1, 1], 1), ([1, 1], [1, 1], [2, 2], 1),
    ([1, 1], [1, 1], [1, 1], 2), ([1, 1], [0, 0], [1, 1], 4),
])
def test_conv2d_with_bias_matches_the_reference(dtype, stride, padding, dilation, groups):
    x = RNG.standard_normal((2, 4, 7, 6)).astype(dtype)
    w = RNG.standard_normal((8, 4 // groups, 3, 3)).astype(dtype)
    b = RNG.standard_normal(8).astype(dtype)
    text = CONV.format(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = ops.get("aten::conv2d").reference(x, w, b, stride, padding, dilation, groups)
    got = _run(text, x, w, b)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


@pytest.mark.parametrize("activation,after", [("relu", False), ("tanh", True), ("none", False)])
def test_conv2d_act_fuses_bias_residual_and_activation(activation, after):
    x = RNG.standard_normal((1, 3, 5, 5))
    w = RNG.standard_normal((4, 3, 3, 3))
    b = RNG.standard_normal(4)
    r = RNG.standard_normal((4, 1, 1))      # broadcast over the spatial dims
    text = f"""graph(%x : Tensor, %w : Tensor, %b : Tensor, %r : Tensor):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %pad : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %a : str = prim::Constant[value="{activation}"]()
  %after : bool = prim::Constant[value={after}]()
  %y : Tensor = jc::conv2d_act(%x, %w, %b, %one, %pad, %one, %g, %r, %a, %after)
  return (%y)"""
    expected = ops.get("jc::conv2d_act").reference(x, w, b, [1, 1], [1, 1], [1, 1], 1, r,
                                                   activation, after)
    np.testing.assert_allclose(_run(text, x, w, b, r), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_matches_the_reference(dtype):
    x = RNG.standard_normal((2, 3, 9, 8)).astype(dtype)
    cases = [
        ("aten::max_pool2d", ([3, 3], [2, 2], [1, 1], [1, 1], False)),
        ("aten::max_pool2d", ([2, 2], [], [0, 0], [1, 1], True)),
        ("aten::avg_pool2d", ([3, 2], [2, 2], [1, 1], True, False, None)),
        ("aten::adaptive_avg_pool2d", ([4, 3],)),
    ]
    for name, args in cases:
        consts = []
        names = []
        for k, value in enumerate(args):
            names.append(f"%c{k}")
            if value is None:
                consts.append(f"  %c{k} : NoneType = prim::Constant()")
            elif isinstance(value, bool):
                consts.append(f"  %c{k} : bool = prim::Constant[value={value}]()")
            else:
                consts.append(f"  %c{k} : int[] = prim::Constant[value={value}]()")
        text = ("graph(%x : Tensor):\n" + "\n".join(consts) +
                f"\n  %y : Tensor = {name}(%x, {', '.join(names)})\n  return (%y)")
        expected = ops.get(name).reference(x, *args)
        np.testing.assert_allclose(_run(text, x), expected, rtol=1e-6, atol=1e-6, err_msg=name)


def test_bad_conv_shapes_raise_a_kernel_error_naming_the_op():
    x = RNG.standard_normal((1, 3, 5, 5))
    w = RNG.standard_normal((4, 2, 3, 3))
    text = CONV.format(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1)
    with pytest.raises(KernelError, match="aten::conv2d.*channels"):
        _run(text, x, w, np.zeros(4))
    with pytest.raises(KernelError, match="aten::conv2d.*larger"):
        _run(text, RNG.standard_normal((1, 2, 2, 2)), w, np.zeros(4))
