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


CONV_POOL = """graph(%x : Tensor, %w : Tensor, %b : Tensor?):
  %s : int[] = prim::Constant[value={stride}]()
  %p : int[] = prim::Constant[value={padding}]()
  %d : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %a : str = prim::Constant[value="{activation}"]()
  %y : Tensor = jc::conv2d_act_pool(%x, %w, %b, %s, %p, %d, %g, %a)
  return (%y)"""

UNFUSED_CONV_POOL = """graph(%x : Tensor, %w : Tensor, %b : Tensor?):
  %s : int[] = prim::Constant[value={stride}]()
  %p : int[] = prim::Constant[value={padding}]()
  %d : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %a : str = prim::Constant[value="{activation}"]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %c : Tensor = jc::conv2d_act(%x, %w, %b, %s, %p, %d, %g, %none, %a, %false)
  %k : int[] = prim::Constant[value=[2, 2]]()
  %z : int[] = prim::Constant[value=[0, 0]]()
  %y : Tensor = aten::max_pool2d(%c, %k, %k, %z, %d, %false)
  return (%y)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 32, 32), (1, 16, 16, 16), (3, 5, 9, 7), (5, 17, 33),
                                   (1, 3, 2, 2), (2, 16, 9, 7), (32, 7, 35)])
@pytest.mark.parametrize("activation", ["relu", "none", "tanh"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_act_pool_is_the_conv_then_the_pool_bit_for_bit(dtype, shape, activation, with_bias):
    # float32 3x3 "same" convolutions with relu/none take the one-pass direct
    # or (16..64 channels) Winograd kernel where the CPU has AVX-512; the rest
    # run conv then pool: all
    # give exactly what the two unfused handlers give, odd sizes included
    channels = shape[-3]
    x = RNG.standard_normal(shape).astype(dtype)
    x[..., 0, 0] = np.nan if shape[-1] > 8 else x[..., 0, 0]    # the pool's NaN rule
    w = RNG.standard_normal((16, channels, 3, 3)).astype(dtype)
    b = RNG.standard_normal(16).astype(dtype) if with_bias else None
    params = dict(stride=[1, 1], padding=[1, 1], activation=activation)
    fused = _run(CONV_POOL.format(**params), x, w, b)
    unfused = _run(UNFUSED_CONV_POOL.format(**params), x, w, b)
    assert fused.dtype == dtype and fused.shape == unfused.shape
    np.testing.assert_array_equal(fused, unfused)
    reference = ops.get("jc::conv2d_act_pool").reference(x, w, b, [1, 1], [1, 1], [1, 1], 1,
                                                         activation)
    np.testing.assert_allclose(fused, reference, rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4)


@pytest.mark.parametrize("channels", [8, 16])     # the direct and the Winograd kernel
def test_conv2d_act_pool_other_geometries_and_threads(channels):
    from jitcore._runtime import openmp_helpers
    x = RNG.standard_normal((4, channels, 20, 21)).astype(np.float32)
    w = RNG.standard_normal((16, channels, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(16).astype(np.float32)
    params = dict(stride=[2, 1], padding=[0, 1], activation="relu")   # the conv-then-pool path
    np.testing.assert_array_equal(_run(CONV_POOL.format(**params), x, w, b),
                                  _run(UNFUSED_CONV_POOL.format(**params), x, w, b))
    text = CONV_POOL.format(stride=[1, 1], padding=[1, 1], activation="relu")
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results += [_run(text, x, w, b), _run(text, x[:1], w, b)]    # split images / units
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[2])
    np.testing.assert_array_equal(results[1], results[3])


def test_conv2d_act_pool_rejects_an_output_too_small_to_pool():
    from jitcore.errors import JitcoreError
    text = CONV_POOL.format(stride=[1, 1], padding=[0, 0], activation="relu")
    with pytest.raises(JitcoreError, match="pooling window is larger"):
        _run(text, np.ones((1, 3, 3, 3), np.float32), np.ones((8, 3, 3, 3), np.float32), None)


# ------------------------------------------------------------------------- conv1d

CONV1D = CONV.replace("aten::conv2d", "aten::conv1d")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,padding,dilation,groups,kernel", [
    ([1], [0], [1], 1, 3), ([2], [3], [1], 1, 8), ([1], [2], [2], 2, 3), ([3], [0], [1], 4, 1),
    ([1], [0], [1], 1, 1),
])
def test_conv1d_matches_the_reference_and_torch(dtype, stride, padding, dilation, groups, kernel):
    x = RNG.standard_normal((2, 4, 19)).astype(dtype)
    w = RNG.standard_normal((8, 4 // groups, kernel)).astype(dtype)
    b = RNG.standard_normal(8).astype(dtype)
    text = CONV1D.format(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = ops.get("aten::conv1d").reference(x, w, b, stride, padding, dilation, groups)
    got = _run(text, x, w, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    torch = pytest.importorskip("torch")
    oracle = torch.nn.functional.conv1d(*(torch.from_numpy(a) for a in (x, w, b)), stride=stride,
                                        padding=padding, dilation=dilation, groups=groups).numpy()
    np.testing.assert_allclose(got, oracle, rtol=tol, atol=tol)


def test_conv1d_takes_strided_unbatched_and_mixed_inputs():
    x = RNG.standard_normal((2, 6, 30))[:, ::2, ::3]           # strided (2, 3, 10)
    w = RNG.standard_normal((5, 3, 3)).astype(np.float32)
    text = CONV1D.format(stride=[1], padding=[1], dilation=[1], groups=1)
    b = np.zeros(5)
    np.testing.assert_allclose(_run(text, x, w, b), ops.get("aten::conv1d").reference(x, w, b, 1, 1, 1, 1),
                               rtol=1e-12)
    x0 = np.ascontiguousarray(x[0]).astype(np.float32)
    got = _run(text, x0, w, b.astype(np.float32))
    assert got.shape == (5, 10) and got.dtype == np.float32
    np.testing.assert_allclose(got, ops.get("aten::conv1d").reference(x0, w, b.astype(np.float32), 1, 1, 1, 1),
                               rtol=1e-5, atol=1e-6)


def test_conv1d_is_bit_identical_at_one_and_two_threads():
    from jitcore._runtime import openmp_helpers
    x = RNG.standard_normal((8, 16, 512)).astype(np.float32)
    w = RNG.standard_normal((32, 16, 7)).astype(np.float32)
    text = CONV1D.format(stride=[2], padding=[3], dilation=[1], groups=1)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            openmp_helpers.set_num_threads(n)
            results.append(_run(text, x, w, np.zeros(32, np.float32)))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


def test_bad_conv1d_arguments_raise_a_kernel_error_naming_the_op():
    x, w = RNG.standard_normal((1, 3, 5)), RNG.standard_normal((4, 3, 3))
    text = CONV1D.format(stride=[1], padding=[0], dilation=[1], groups=1)
    with pytest.raises(KernelError, match="aten::conv1d.*channels"):
        _run(text, RNG.standard_normal((1, 2, 5)), w, np.zeros(4))
    with pytest.raises(KernelError, match="aten::conv1d.*larger"):
        _run(text, x[:, :, :2], w, np.zeros(4))
    with pytest.raises(KernelError, match="aten::conv1d.*3-D weight"):
        _run(text, x, w[..., None], np.zeros(4))
    with pytest.raises(TypeError, match="aten::conv1d.*expected one int"):
        _run(CONV1D.format(stride=[1, 1], padding=[0], dilation=[1], groups=1), x, w, np.zeros(4))
    with pytest.raises(KernelError, match="aten::conv1d.*float32 or float64"):
        _run(text, x.astype(np.int64), w.astype(np.int64), np.zeros(4, np.int64))
