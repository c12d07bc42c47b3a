"""conv_transpose1d/2d, upsample_* and pixel_(un)shuffle handlers and kernels against the
registry's NumPy references (float32 and float64), at one and two threads."""

import numpy as np
import pytest

from jitcore import ops
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

RNG = np.random.default_rng(15)
DTYPES = [np.float32, np.float64]


def _constant(name, value):
    if value is None:
        return f"  {name} : NoneType = prim::Constant()"
    if isinstance(value, bool):
        return f"  {name} : bool = prim::Constant[value={int(value)}]()"
    if isinstance(value, int):
        return f"  {name} : int = prim::Constant[value={value}]()"
    if isinstance(value, float):
        return f"  {name} : float = prim::Constant[value={value!r}]()"
    kind = "float" if any(isinstance(v, float) for v in value) else "int"
    return f"  {name} : {kind}[] = prim::Constant[value={list(value)}]()"


def _compiled(name, args):
    """The op as a compiled graph (the node names the kind, its argument types pick the
    overload): tensors are graph inputs, every other argument a constant."""
    inputs, lines, names = [], [], []
    for k, value in enumerate(args):
        if isinstance(value, np.ndarray):
            inputs.append(f"%t{k} : Tensor")
            names.append(f"%t{k}")
        else:
            lines.append(_constant(f"%c{k}", value))
            names.append(f"%c{k}")
    text = (f"graph({', '.join(inputs)}):\n" + "\n".join(lines)
            + f"\n  %y : Tensor = {name.partition('.')[0]}({', '.join(names)})\n  return (%y)")
    run = compile_graph(parse_graph(text), fallback=False)
    return lambda: run(*[a for a in args if isinstance(a, np.ndarray)])


def _check(name, args, dtype):
    expected = ops.get(name).reference(*args)
    got = _compiled(name, args)()
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got.shape, expected.shape)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=f"{name}{args[2:]}")
    return got


def _t(dtype, *shape):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.fixture
def threads():
    """Run a body at a given OpenMP thread count, restoring it afterwards."""
    from jitcore._runtime import openmp_helpers
    before = openmp_helpers.get_num_threads()
    yield openmp_helpers.set_num_threads
    openmp_helpers.set_num_threads(before)


# ------------------------------------------------------------ transposed conv

TRANSPOSED_2D = [
    # stride, padding, output_padding, groups, dilation, kernel
    ([1, 1], [0, 0], [0, 0], 1, [1, 1], (3, 3)),
    ([2, 2], [0, 0], [0, 0], 1, [1, 1], (2, 2)),
    ([2, 2], [1, 1], [1, 1], 1, [1, 1], (3, 3)),
    ([2, 1], [1, 0], [1, 0], 2, [1, 2], (3, 2)),
    ([3, 2], [2, 1], [2, 0], 1, [2, 3], (3, 3)),
    ([1, 1], [1, 1], [0, 0], 4, [1, 1], (1, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation,kernel", TRANSPOSED_2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_the_reference(dtype, stride, padding, output_padding, groups,
                                               dilation, kernel, bias):
    x = _t(dtype, 2, 8, 5, 6)
    w = _t(dtype, 8, 3, *kernel)
    b = _t(dtype, 3 * groups) if bias else None
    _check("aten::conv_transpose2d.input",
           [x, w, b, stride, padding, output_padding, groups, dilation], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation,kernel", [
    ([1], [0], [0], 1, [1], 3), ([2], [1], [1], 1, [1], 4), ([4], [0], [0], 2, [1], 4),
    ([2], [3], [0], 1, [3], 3)])
def test_conv_transpose1d_matches_the_reference(dtype, stride, padding, output_padding, groups,
                                               dilation, kernel):
    x = _t(dtype, 2, 4, 9)
    w = _t(dtype, 4, 3, kernel)
    _check("aten::conv_transpose1d",
           [x, w, _t(dtype, 3 * groups), stride, padding, output_padding, groups, dilation], dtype)
    _check("aten::conv_transpose1d",
           [x[0], w, None, stride, padding, output_padding, groups, dilation], dtype)


def test_conv_transpose2d_takes_strided_and_unbatched_inputs_and_promotes():
    x = _t(np.float64, 2, 6, 7, 10)[:, ::2, :, ::2]          # channels and columns strided
    w = _t(np.float32, 3, 2, 3, 3)
    w_strided = _t(np.float32, 3, 2, 3, 6)[..., ::2]        # trailing weight dims do not collapse
    for weight in (w, w_strided):
        _check("aten::conv_transpose2d.input",
               [x, weight, None, [2, 2], [1, 1], [0, 0], 1, [1, 1]], np.float64)
    _check("aten::conv_transpose2d.input",
           [x[1].astype(np.float32), w, _t(np.float32, 2), [1, 2], [0, 0], [0, 1], 1, [1, 1]],
           np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 32, 24, 24), (4, 8, 9, 7)])
def test_conv_transpose2d_is_bit_identical_at_one_and_two_threads(threads, dtype, shape):
    # batch 1: GEMM panels and col2im channels split; batch 4: (image, group) tasks split
    x = _t(dtype, *shape)
    w = _t(dtype, shape[1], 24, 3, 3)
    run = _compiled("aten::conv_transpose2d.input",
                    [x, w, _t(dtype, 24), [2, 2], [1, 1], [1, 1], 1, [1, 1]])
    results = []
    for n in (1, 2):
        threads(n)
        results.append(run())
    np.testing.assert_array_equal(results[0], results[1])


def test_bad_conv_transpose_arguments_raise_a_kernel_error_naming_the_op():
    x, w = _t(np.float32, 1, 4, 5, 5), _t(np.float32, 4, 2, 3, 3)
    with pytest.raises(KernelError, match="conv_transpose2d.*channels do not match"):
        _compiled("aten::conv_transpose2d.input",
                  [x[:, :3], w, None, [1, 1], [0, 0], [0, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match="output_padding must be smaller"):
        _compiled("aten::conv_transpose2d.input",
                  [x, w, None, [2, 2], [0, 0], [2, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match="groups must be positive and divide"):
        _compiled("aten::conv_transpose2d.input",
                  [x, w, None, [1, 1], [0, 0], [0, 0], 3, [1, 1]])()
    with pytest.raises(KernelError, match="bias must be 1-D"):
        _compiled("aten::conv_transpose2d.input",
                  [x, w, _t(np.float32, 3), [1, 1], [0, 0], [0, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match="output would be empty"):
        _compiled("aten::conv_transpose2d.input",
                  [x[..., :1, :1], w, None, [1, 1], [3, 3], [0, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match="too large"):
        _compiled("aten::conv_transpose2d.input",
                  [x, w, None, [1 << 62, 1], [0, 0], [0, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match=r"3-D \(C, H, W\) or 4-D"):
        _compiled("aten::conv_transpose2d.input",
                  [x[0, 0], w, None, [1, 1], [0, 0], [0, 0], 1, [1, 1]])()
    with pytest.raises(KernelError, match="float32 or float64"):
        _compiled("aten::conv_transpose2d.input",
                  [x.astype(np.int64), w.astype(np.int64), None, [1, 1], [0, 0], [0, 0], 1,
                   [1, 1]])()

# ------------------------------------------------------------ interpolation


UPSAMPLE_2D = [
    # output_size, scale_factors (the .vec overload)
    ([10, 12], None), ([7, 9], None), ([3, 2], None), ([1, 1], None), ([5, 6], None),
    (None, [2.0, 2.0]), (None, [1.7, 0.6]), (None, [3.0, 2.5]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size,scale_factors", UPSAMPLE_2D)
def test_upsample2d_matches_the_reference(dtype, output_size, scale_factors):
    x = _t(dtype, 2, 3, 5, 6)
    _check("aten::upsample_nearest2d.vec", [x, output_size, scale_factors], dtype)
    for align_corners in (False, True):
        _check("aten::upsample_bilinear2d.vec", [x, output_size, align_corners, scale_factors],
               dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_upsample_overloads_with_sizes_and_scales_match_the_reference(dtype):
    x = _t(dtype, 2, 3, 5, 6)
    _check("aten::upsample_nearest2d", [x, [8, 13], 1.6, 2.2], dtype)
    _check("aten::upsample_nearest2d", [x, [8, 13], None, None], dtype)
    _check("aten::upsample_bilinear2d", [x, [8, 13], False, 1.6, 2.2], dtype)
    _check("aten::upsample_bilinear2d", [x, [8, 13], True, None, None], dtype)
    x1 = x[:, :, 0]
    for size, scale in (([13], 2.2), ([4], None), ([12], None)):
        _check("aten::upsample_nearest1d", [x1, size, scale], dtype)
        _check("aten::upsample_linear1d", [x1, size, False, scale], dtype)
        _check("aten::upsample_linear1d", [x1, size, True, scale], dtype)
    for size, factors in (([11], None), (None, [2.5]), (None, [0.5])):
        _check("aten::upsample_nearest1d.vec", [x1, size, factors], dtype)
        _check("aten::upsample_linear1d.vec", [x1, size, False, factors], dtype)


def test_upsample_of_strided_input_matches_the_reference():
    x = _t(np.float32, 2, 6, 10, 12)[:, ::2, ::2, ::-2]
    _check("aten::upsample_bilinear2d.vec", [x, [9, 11], False, None], np.float32)
    _check("aten::upsample_nearest2d.vec", [x, None, [2.0, 1.5]], np.float32)
    _check("aten::upsample_linear1d.vec", [x[:, :, 0], None, True, [2.0]], np.float32)


@pytest.mark.parametrize("name,extra", [("aten::upsample_nearest2d.vec", []),
                                        ("aten::upsample_bilinear2d.vec", [False])])
def test_upsample_is_bit_identical_at_one_and_two_threads(threads, name, extra):
    x = _t(np.float32, 2, 32, 24, 20)
    run = _compiled(name, [x, None] + extra + [[2.0, 2.0]])
    results = []
    for n in (1, 2):
        threads(n)
        results.append(run())
    np.testing.assert_array_equal(results[0], results[1])


def test_bad_upsample_arguments_raise_a_kernel_error_naming_the_op():
    x = _t(np.float32, 1, 2, 4, 4)
    with pytest.raises(KernelError, match="upsample_bilinear2d.*4-D"):
        _compiled("aten::upsample_bilinear2d.vec", [x[0], [8, 8], False, None])()
    with pytest.raises(KernelError, match="exactly one of output_size and scale_factors"):
        _compiled("aten::upsample_nearest2d.vec", [x, [8, 8], [2.0, 2.0]])()
    with pytest.raises(KernelError, match="one output size or scale factor per spatial"):
        _compiled("aten::upsample_nearest2d.vec", [x, [8], None])()
    with pytest.raises(KernelError, match="output size must be positive"):
        _compiled("aten::upsample_nearest2d.vec", [x, None, [0.1, 2.0]])()
    with pytest.raises(KernelError, match="float32 or float64"):
        _compiled("aten::upsample_nearest2d.vec", [x.astype(np.int64), [8, 8], None])()

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size,scale_factors", [
    ([8, 10, 12], None), ([3, 7, 5], None), ([4, 5, 6], None), (None, [2.0, 2.0, 2.0]),
    (None, [1.7, 0.6, 2.5]),
])
def test_upsample_nearest3d_matches_the_reference_and_torch_exactly(dtype, output_size, scale_factors):
    x = _t(dtype, 2, 3, 4, 5, 6)
    got = _check("aten::upsample_nearest3d.vec", [x, output_size, scale_factors], dtype)
    expected = ops.get("aten::upsample_nearest3d.vec").reference(x, output_size, scale_factors)
    np.testing.assert_array_equal(got, expected)           # nearest copies values
    torch = pytest.importorskip("torch")
    oracle = torch.nn.functional.interpolate(torch.from_numpy(x), size=output_size, scale_factor=scale_factors,
                                             mode="nearest").numpy()
    np.testing.assert_array_equal(got, oracle)


def test_upsample_nearest3d_with_scales_strides_and_threads(threads):
    x = _t(np.float32, 2, 6, 6, 10, 12)[:, ::2, ::-1, ::2, 1::2]
    _check("aten::upsample_nearest3d", [x, [9, 11, 13], 1.6, 2.2, None], np.float32)
    _check("aten::upsample_nearest3d", [x, [9, 11, 13], None, None, None], np.float32)
    big = _t(np.float32, 2, 16, 8, 24, 20)
    run = _compiled("aten::upsample_nearest3d.vec", [big, None, [2.0, 2.0, 2.0]])
    results = []
    for n in (1, 2):
        threads(n)
        results.append(run())
    np.testing.assert_array_equal(results[0], results[1])
    with pytest.raises(KernelError, match="upsample_nearest3d.*5-D"):
        _compiled("aten::upsample_nearest3d.vec", [big[0], [8, 8, 8], None])()
    with pytest.raises(KernelError, match="one output size or scale factor per spatial"):
        _compiled("aten::upsample_nearest3d.vec", [big, [8, 8], None])()

# ------------------------------------------------------------ pixel shuffle


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle_and_unshuffle_match_the_reference_exactly(dtype):
    for shape, r in (((2, 8, 3, 4), 2), ((9, 2, 2), 3), ((2, 3, 4, 2, 3), 2), ((1, 5, 2, 2), 1)):
        x = _t(dtype, *shape)
        got = _check("aten::pixel_shuffle", [x, r], dtype)
        np.testing.assert_array_equal(got, ops.get("aten::pixel_shuffle").reference(x, r))
    for shape, r in (((2, 2, 4, 6), 2), ((1, 6, 9), 3), ((2, 3, 1, 4, 2), 2)):
        x = _t(dtype, *shape)
        got = _check("aten::pixel_unshuffle", [x, r], dtype)
        np.testing.assert_array_equal(got, ops.get("aten::pixel_unshuffle").reference(x, r))
    # leading dims that do not collapse, and strided planes
    x = _t(dtype, 3, 4, 8, 6, 6)[::2, ::3, :, ::2, ::-1]
    _check("aten::pixel_shuffle", [x, 2], dtype)
    _check("aten::pixel_unshuffle", [x, 3], dtype)


def test_pixel_shuffle_round_trips_and_is_bit_identical_at_one_and_two_threads(threads):
    x = _t(np.float32, 2, 64, 40, 40)
    shuffle = _compiled("aten::pixel_shuffle", [x, 4])
    results = []
    for n in (1, 2):
        threads(n)
        results.append(shuffle())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(_compiled("aten::pixel_unshuffle", [results[0], 4])(), x)


def test_bad_pixel_shuffle_arguments_raise_a_kernel_error_naming_the_op():
    with pytest.raises(KernelError, match="pixel_shuffle.*divisible by upscale_factor"):
        _compiled("aten::pixel_shuffle", [_t(np.float32, 1, 6, 2, 2), 2])()
    with pytest.raises(KernelError, match="pixel_unshuffle.*divisible by downscale_factor"):
        _compiled("aten::pixel_unshuffle", [_t(np.float32, 1, 1, 5, 4), 2])()
    with pytest.raises(KernelError, match="at least 3 dimensions"):
        _compiled("aten::pixel_shuffle", [_t(np.float32, 4, 4), 2])()
    with pytest.raises(KernelError, match="factor must be positive"):
        _compiled("aten::pixel_shuffle", [_t(np.float32, 1, 4, 2, 2), 0])()
    with pytest.raises(KernelError, match="factor is too large"):
        _compiled("aten::pixel_shuffle", [_t(np.float32, 1, 4, 2, 2), 1 << 32])()


@pytest.mark.parametrize("dtype", DTYPES)
def test_scales_that_overflow_take_the_last_source_position_as_the_reference(dtype):
    # 1 / 1e-40 is inf in float32 (nearest) and in the data's dtype for float32 (linear)
    x = _t(dtype, 1, 2, 4, 5)
    for scales in ((1e-40, 1e-40), (1e-320, 2.0)):
        _check("aten::upsample_nearest2d", [x, [6, 7], *scales], dtype)
        _check("aten::upsample_bilinear2d", [x, [6, 7], False, *scales], dtype)


def test_a_scale_factor_too_large_is_an_error_not_a_crash():
    x = _t(np.float32, 1, 1, 4, 4)
    with pytest.raises(ValueError, match="too large"):
        ops.get("aten::upsample_nearest2d.vec").reference(x, None, [1e300, 1.0])
    with pytest.raises(KernelError, match="output too large"):
        _compiled("aten::upsample_nearest2d.vec", [x, None, [1e300, 1.0]])()


def test_a_1d_transposed_conv_takes_one_value_per_int1_argument():
    x, w = _t(np.float32, 1, 2, 5), _t(np.float32, 2, 2, 3)
    with pytest.raises(KernelError, match="expected one int"):
        _compiled("aten::conv_transpose1d", [x, w, None, [2, 3], [0], [0], 1, [1]])()
