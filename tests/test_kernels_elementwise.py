"""Elementwise kernels against NumPy: every op, dtypes, broadcasting, strides, threads."""
import math

import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import elementwise as ew

FLOATS = [np.float32, np.float64]
RTOL = {np.float32: 2e-6, np.float64: 1e-13}

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (NumPy reference, sample domain)
UNARY_REFERENCES = {
    "neg": (np.negative, "any"), "abs": (np.abs, "any"), "sign": (np.sign, "any"),
    "square": (np.square, "any"), "relu": (lambda x: np.maximum(x, 0), "any"),
    "positive": (np.positive, "any"), "exp": (np.exp, "any"), "expm1": (np.expm1, "any"),
    "log": (np.log, "positive"), "log10": (np.log10, "positive"), "log1p": (np.log1p, "positive"), "log2": (np.log2, "positive"),
    "sqrt": (np.sqrt, "positive"), "rsqrt": (lambda x: 1 / np.sqrt(x), "positive"),
    "sin": (np.sin, "any"), "cos": (np.cos, "any"), "tan": (np.tan, "any"),
    "tanh": (np.tanh, "any"), "sigmoid": (_sigmoid, "any"),
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2.0))), "any"),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))), "any"),
    "silu": (lambda x: x * _sigmoid(x), "any"), "erf": (_erf, "any"),
    "floor": (np.floor, "any"), "ceil": (np.ceil, "any"), "round": (np.round, "halves"),
    "trunc": (np.trunc, "any"), "reciprocal": (np.reciprocal, "positive"),
    "softplus": (lambda x: np.logaddexp(0, x), "any"),
    "logical_not": (np.logical_not, "any"), "isnan": (np.isnan, "nan"),
    "atan": (np.arctan, "any"),
    "hardsigmoid": (lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0), "any"),
    "hardswish": (lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0), "any"),
    "mish": (lambda x: x * np.tanh(np.logaddexp(0.0, x)), "any"),
}

BINARY_REFERENCES = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "remainder": np.remainder, "floor_divide": np.floor_divide, "eq": np.equal,
    "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor, "atan2": np.arctan2,
    "trunc_divide": lambda a, b: np.trunc(np.true_divide(a, b)),
}

BROADCAST_SHAPES = [
    ((), ()), ((5,), ()), ((), (4,)), ((3, 4), (4,)), ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)), ((0, 3), (3,)), ((1, 0), (2, 1)), ((2, 1, 3, 1, 2), (4, 1, 1, 1)),
]


@pytest.fixture
def threads():
    """Restore the thread count and parallel grain after a test changes them."""
    n, grain = openmp_helpers.get_num_threads(), openmp_helpers.get_parallel_grain()
    yield
    openmp_helpers.set_num_threads(n)
    openmp_helpers.set_parallel_grain(grain)


def _sample(rng, shape, dtype, domain="any"):
    x = np.asarray(rng.standard_normal(shape) * 3)
    if domain == "positive":
        x = np.abs(x) + 0.1
    elif domain == "halves":
        x = np.round(x * 2) / 2          # exact .5 ties exercise half-to-even
    elif domain == "nan":
        x.reshape(-1)[::3] = np.nan
    return x.astype(dtype)


def _layouts(x):
    """The same values as C-contiguous, transposed, negative-stride and sliced views."""
    yield x
    if x.ndim >= 2:
        yield np.ascontiguousarray(x.T).T
    if x.ndim >= 1:
        yield np.ascontiguousarray(x[::-1])[::-1]
        big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        big[..., ::2] = x
        yield big[..., ::2]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", sorted(UNARY_REFERENCES))
def test_unary_float_ops_match_numpy(op, dtype):
    ref, domain = UNARY_REFERENCES[op]
    rng = np.random.default_rng(0)
    for shape in [(), (0,), (7,), (3, 5), (2, 3, 4)]:
        x = _sample(rng, shape, dtype, domain)
        expected = ref(x.astype(np.float64))
        for view in _layouts(x):
            got = ew.unary(op, view)
            assert got.shape == x.shape
            if expected.dtype == np.bool_:
                np.testing.assert_array_equal(got, expected)
            else:
                assert got.dtype == dtype
                np.testing.assert_allclose(got, expected.astype(dtype), rtol=RTOL[dtype] * 4,
                                           atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("op", ["neg", "abs", "sign", "square", "relu", "positive",
                                "floor", "ceil", "round", "trunc", "logical_not"])
def test_unary_integer_ops_match_numpy(op, dtype):
    info = np.iinfo(dtype)
    x = np.array([0, 1, -1, 7, -12, info.max, info.min], dtype=dtype)
    ref = {"relu": lambda v: np.maximum(v, 0)}.get(op, getattr(np, op, None))
    if op == "neg":
        ref = np.negative
    with np.errstate(over="ignore"):
        expected = ref(x)
    np.testing.assert_array_equal(ew.unary(op, x), expected)


@pytest.mark.parametrize("op", ["exp", "tanh", "log"])
def test_float_only_unary_ops_reject_integers(op):
    with pytest.raises(KernelError, match="dtype"):
        ew.unary(op, np.arange(3))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", sorted(BINARY_REFERENCES))
def test_binary_float_ops_broadcast_like_numpy(op, dtype):
    rng = np.random.default_rng(1)
    for sa, sb in BROADCAST_SHAPES:
        a = _sample(rng, sa, dtype)
        b = _sample(rng, sb, dtype)
        if op == "pow":
            a = np.abs(a) + 0.5
        for va in _layouts(a):
            for vb in _layouts(b):
                got = ew.binary(op, va, vb)
                expected = BINARY_REFERENCES[op](a, b)
                assert got.shape == expected.shape and got.dtype == expected.dtype
                np.testing.assert_allclose(got, expected, rtol=RTOL[dtype] * 4)


def test_maximum_minimum_propagate_nan():
    a = np.array([np.nan, 1.0, 2.0, np.nan])
    b = np.array([0.0, np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(ew.binary("maximum", a, b), np.maximum(a, b))
    np.testing.assert_array_equal(ew.binary("minimum", a, b), np.minimum(a, b))


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_floor_divide_and_remainder_follow_numpy_signs(dtype):
    a = np.array([7, -7, 7, -7, 0.5, -0.0, 5, 1e10], dtype=dtype)
    b = np.array([2, 2, -2, -2, 0.1, 3, 0, 3e-3], dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(ew.binary("floor_divide", a, b), np.floor_divide(a, b))
        np.testing.assert_array_equal(ew.binary("remainder", a, b), np.remainder(a, b))


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_trunc_divide_rounds_the_quotient_toward_zero_as_torch(dtype):
    # torch.div(rounding_mode="trunc") of floats: trunc(a / b), the quotient rounded once
    a = np.array([7, -7, 7, -7, 0.5, -0.5, 5, -5, 0.0, np.inf, np.nan, 1e10, -1e-30], dtype=dtype)
    b = np.array([2, 2, -2, -2, 0.1, 3, 0, 0, 0, 3, 1, 3e-3, 7], dtype=dtype)
    got = ew.binary("trunc_divide", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(got, np.trunc(a / b))
    assert np.signbit(got[5]) and np.signbit(got[12])          # -0.5 / 3 truncates to -0.0
    torch = pytest.importorskip("torch")
    expected = torch.div(torch.from_numpy(a), torch.from_numpy(b), rounding_mode="trunc").numpy()
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_trunc_divide_is_cs_quotient_with_numpys_zero_and_overflow(dtype):
    info = np.iinfo(dtype)
    a = np.array([[7], [-7], [0], [info.max], [info.min], [5]], dtype=dtype)
    b = np.array([2, -2, 3, -1, 0], dtype=dtype)
    got = ew.binary("trunc_divide", a, b)

    def quotient(x, y):             # Python ints: toward zero; / 0 gives 0; MIN / -1 wraps
        if y == 0:
            return 0
        q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        return (q - info.min) % (1 << info.bits) + info.min
    expected = np.array([[quotient(int(x), int(y)) for y in b] for x in a[:, 0]], dtype=dtype)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum", "remainder",
                                "floor_divide", "pow", "eq", "ne", "lt", "le", "gt", "ge",
                                "logical_and", "logical_or", "logical_xor"])
def test_binary_integer_ops_match_numpy_including_zero_and_overflow(op, dtype):
    info = np.iinfo(dtype)
    a = np.array([[7], [-7], [0], [info.max], [info.min], [5]], dtype=dtype)
    b = np.array([2, -2, 0, -1, 3], dtype=dtype)
    if op == "pow":
        b = np.abs(b)
    with np.errstate(all="ignore"):
        expected = BINARY_REFERENCES[op](a, b)
    np.testing.assert_array_equal(ew.binary(op, a, b), expected)


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "minimum", "eq", "ne", "lt", "ge",
                                "logical_and", "logical_or", "logical_xor"])
def test_binary_bool_ops_match_numpy(op):
    a = np.array([[True], [False]])
    b = np.array([True, False, True])
    np.testing.assert_array_equal(ew.binary(op, a, b), BINARY_REFERENCES[op](a, b))


@pytest.mark.parametrize("op,dtype", [("div", np.int64), ("sub", np.bool_), ("pow", np.bool_)])
def test_binary_ops_without_a_loop_raise_dtype_errors(op, dtype):
    with pytest.raises(KernelError, match="dtype"):
        ew.binary(op, np.ones(3, dtype), np.ones(3, dtype))


def test_mismatched_input_dtypes_raise():
    with pytest.raises(KernelError, match="dtype"):
        ew.binary("add", np.ones(3, np.float32), np.ones(3, np.float64))


def test_incompatible_shapes_raise_shape_error():
    with pytest.raises(KernelError, match="incompatible shapes"):
        ew.binary("add", np.ones((2, 3)), np.ones((4,)))


def test_unknown_op_and_dtype_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown binary op 'plus'"):
        ew.binary("plus", np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="unsupported dtype"):
        ew.unary("neg", np.ones(2, np.complex128))


def test_misaligned_strides_are_rejected_not_misread():
    packed = np.zeros(4, dtype=[("a", "f8"), ("b", "f4")])["a"]     # stride 12
    with pytest.raises(KernelError, match="unsupported"):
        ew.unary("neg", packed)


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES + [((2, 3), (3,), (4, 1, 1))])
def test_broadcast_shape_matches_numpy(shapes):
    arrays = [np.empty(s) for s in shapes]
    assert ew.broadcast_shape(*arrays) == np.broadcast_shapes(*shapes)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.int32, np.bool_])
def test_where_broadcasts_like_numpy(dtype):
    rng = np.random.default_rng(2)
    cond = rng.random((3, 1, 5)) > 0.5
    a = (rng.standard_normal((4, 5)) * 5).astype(dtype)
    b = (rng.standard_normal((5,)) * 5).astype(dtype)
    np.testing.assert_array_equal(ew.ternary("where", cond, a, b), np.where(cond, a, b))
    np.testing.assert_array_equal(ew.ternary("where", cond[::-1], a[:, ::-1], b[::-1]),
                                  np.where(cond[::-1], a[:, ::-1], b[::-1]))


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.int32])
def test_clamp_with_tensor_and_scalar_bounds_matches_clip(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 6)) * 5).astype(dtype)
    lo = (rng.standard_normal((6,)) - 1).astype(dtype)
    hi = np.array(2, dtype=dtype)
    np.testing.assert_array_equal(ew.ternary("clamp", x, lo, hi), np.clip(x, lo, hi))
    np.testing.assert_array_equal(ew.ternary("clamp", x.T, lo[:, None], hi), np.clip(x.T, lo[:, None], hi))


def test_where_requires_a_bool_condition():
    with pytest.raises(KernelError, match="dtype"):
        ew.ternary("where", np.ones(3), np.ones(3), np.ones(3))


@pytest.mark.parametrize("dtype", FLOATS)
def test_parametric_ops_match_numpy(dtype):
    x = np.random.default_rng(4).standard_normal((5, 7)).astype(dtype)[:, ::-2]
    rt = RTOL[dtype] * 4
    np.testing.assert_allclose(ew.unary_param("leaky_relu", x, 0.1), np.where(x > 0, x, x * dtype(0.1)), rtol=rt)
    np.testing.assert_array_equal(ew.unary_param("hardtanh", x, -0.5, 0.5), np.clip(x, dtype(-0.5), dtype(0.5)))
    np.testing.assert_allclose(ew.unary_param("pow_scalar", np.abs(x), 1.5), np.abs(x) ** dtype(1.5), rtol=rt)
    np.testing.assert_allclose(ew.unary_param("elu", x, 1.3), np.where(x > 0, x, dtype(1.3) * np.expm1(x)), rtol=rt)
    np.testing.assert_array_equal(ew.unary_param("affine", x, 0.5, 1.0), x * dtype(0.5) + dtype(1.0))
    with pytest.raises(KernelError, match="dtype"):
        ew.unary_param("elu", np.arange(3), 1.0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op, alpha", [("leaky_relu", 0.01), ("elu", 1.3)])
def test_vector_and_strided_activation_loops_agree_bit_for_bit(dtype, op, alpha):
    """The contiguous runs take vecloops.h's clones, strided ones param_value: same bits,
    special values included (NaN stays NaN, -0 stays -0, -inf goes to -inf / -alpha)."""
    special = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-40, -1e-40, 100.0, -100.0], dtype)
    x = np.concatenate([special, np.random.default_rng(8).standard_normal(1031).astype(dtype)])
    contiguous = ew.unary_param(op, x, alpha)
    strided = ew.unary_param(op, np.repeat(x, 2)[::2], alpha)
    assert contiguous.tobytes() == strided.tobytes()
    below = dtype(alpha) * (x if op == "leaky_relu" else np.expm1(x))
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(contiguous, np.where(x > 0, x, below), rtol=RTOL[dtype] * 4)
    assert np.signbit(contiguous[1]) and np.isnan(contiguous[0])


@pytest.mark.parametrize("op", ["add", "maximum", "lt", "pow", "trunc_divide"])
def test_binary_results_are_bit_identical_at_one_and_two_threads(op, threads):
    rng = np.random.default_rng(5)
    a = rng.random((301, 257)).astype(np.float32)
    b = rng.random((257,)).astype(np.float32)
    openmp_helpers.set_parallel_grain(64)
    results = []
    for n in (1, 2):
        openmp_helpers.set_num_threads(n)
        results.append((ew.binary(op, a, b), ew.binary(op, a.T, b[:, None]),
                        ew.unary("tanh", a[::-1, ::3])))
    for one, two in zip(*results):
        assert one.tobytes() == two.tobytes()
    np.testing.assert_allclose(results[1][0], BINARY_REFERENCES[op](a, b), rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_outputs_past_the_streaming_threshold_match_numpy_exactly(op, dtype, threads):
    # Outputs of stream_min_bytes() or more are written with non-temporal
    # stores (vecstream.h); every layout its loop has a branch for, unaligned
    # operands (the [1:] views) and both thread counts give NumPy's bits.
    itemsize = np.dtype(dtype).itemsize
    cols = 1031
    rows = ew.stream_min_bytes() // (cols * itemsize) + 2
    rng = np.random.default_rng(11)
    a = rng.random((rows, cols)).astype(dtype) + 0.5
    b = rng.random((rows, cols)).astype(dtype) + 0.5
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    scalar = np.asarray(0.75, dtype=dtype)
    cases = [(a, b), (a, scalar), (scalar, b), (a, b[0]), (flat_a[1:], flat_b[1:]),
             (a[:, ::-1], b)]
    reference = BINARY_REFERENCES[op]
    openmp_helpers.set_parallel_grain(4096)
    for n in (1, 2):
        openmp_helpers.set_num_threads(n)
        for x, y in cases:
            out = ew.binary(op, x, y)
            assert out.nbytes >= ew.stream_min_bytes()
            np.testing.assert_array_equal(out, reference(x, y))


def test_threaded_run_covers_every_element(threads):
    openmp_helpers.set_parallel_grain(16)
    openmp_helpers.set_num_threads(2)
    x = np.arange(1001, dtype=np.float64).reshape(7, 11, 13)
    np.testing.assert_array_equal(ew.binary("add", x, x.transpose(0, 1, 2)[:, :, ::-1]),
                                  x + x[:, :, ::-1])


BITWISE_REFERENCES = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
                      "bitwise_xor": np.bitwise_xor}


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("op", sorted(BITWISE_REFERENCES))
def test_bitwise_ops_match_numpy_on_integers_and_bool(op, dtype):
    if dtype is np.bool_:
        a, b = np.array([[True], [False]]), np.array([True, False, True])
    else:
        info = np.iinfo(dtype)
        a = np.array([[7], [-7], [0], [info.max], [info.min], [-1]], dtype=dtype)
        b = np.array([2, -2, 0, info.min, 5], dtype=dtype)
    expected = BITWISE_REFERENCES[op](a, b)
    for va in _layouts(a):
        for vb in _layouts(b):
            got = ew.binary(op, va, vb)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_bitwise_not_matches_numpy_invert(dtype):
    if dtype is np.bool_:
        x = np.array([True, False, False, True])
    else:
        info = np.iinfo(dtype)
        x = np.array([0, 1, -1, 7, -12, info.max, info.min], dtype=dtype)
    for view in _layouts(x):
        got = ew.unary("bitwise_not", view)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, np.invert(x))


@pytest.mark.parametrize("dtype", FLOATS)
def test_bitwise_ops_have_no_float_loops(dtype):
    x = np.ones(3, dtype)
    for op in sorted(BITWISE_REFERENCES):
        with pytest.raises(KernelError, match="dtype"):
            ew.binary(op, x, x)
    with pytest.raises(KernelError, match="dtype"):
        ew.unary("bitwise_not", x)
