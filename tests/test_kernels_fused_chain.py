"""The tiled fused elementwise runner against the same ops run one by one in NumPy."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import elementwise as ew
from jitcore._runtime.kernels import fused_chain as fc


@pytest.fixture
def threads():
    n, grain = openmp_helpers.get_num_threads(), openmp_helpers.get_parallel_grain()
    yield
    openmp_helpers.set_num_threads(n)
    openmp_helpers.set_parallel_grain(grain)


# y = tanh(x * 0.5 + 1.0) * x + 3.0 (issue 7's benchmark), scalars as inputs.
TANH_PROGRAM = [("mul", 3, (0, 1)), ("add", 3, (3, 2)), ("tanh", 3, (3,)),
                ("mul", 3, (3, 0)), ("add", 4, (3, 2)), ("add", 4, (4, 2)), ("add", 4, (4, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (1000,), (3, 1025), (2, 3, 700)])
def test_chain_equals_unfused_kernels_bit_for_bit(dtype, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    half, one = np.array(0.5, dtype), np.array(1.0, dtype)
    got = fc.chain(TANH_PROGRAM, [x, half, one])
    step = ew.binary("add", ew.binary("mul", ew.unary("tanh", ew.binary("add", ew.binary("mul", x, half), one)), x), one)
    expected = ew.binary("add", ew.binary("add", step, one), one)
    assert got.tobytes() == expected.tobytes()
    np.testing.assert_allclose(got, np.tanh(x * dtype(0.5) + 1) * x + 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op1", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("op2", ["add", "mul"])
@pytest.mark.parametrize("layout", ["array-array", "array-scalar", "scalar-array"])
@pytest.mark.parametrize("scalar_first", [False, True])
def test_paired_arithmetic_steps_equal_two_separate_steps(dtype, op1, op2, layout, scalar_first):
    # (a op1 b) op2 c runs as one pass over each tile; the bits must be those
    # of the two unfused kernels (the intermediate rounded to dtype).
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 1111)).astype(dtype)
    y = rng.standard_normal((3, 1111)).astype(dtype) + dtype(2)
    s, c = np.array(1.7, dtype), np.array(-0.3, dtype)
    a, b = {"array-array": (x, y), "array-scalar": (x, s), "scalar-array": (s, y)}[layout]
    second = (3, 4) if scalar_first else (4, 3)
    got = fc.chain([(op1, 4, (0, 1)), (op2, 5, second)], [a, b, np.zeros(1, dtype), c])
    first = ew.binary(op1, a, b)
    expected = ew.binary(op2, c, first) if scalar_first else ew.binary(op2, first, c)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_result_read_after_the_next_step_is_not_paired_away(dtype):
    x = np.random.default_rng(4).standard_normal(5000).astype(dtype)
    half, one = np.array(0.5, dtype), np.array(1.0, dtype)
    # t = x * 0.5 is read by step 2 too, so steps 0 and 1 cannot share a pass
    got = fc.chain([("mul", 3, (0, 1)), ("add", 4, (3, 2)), ("mul", 5, (4, 3))], [x, half, one])
    t = ew.binary("mul", x, half)
    assert got.tobytes() == ew.binary("mul", ew.binary("add", t, one), t).tobytes()


def test_bias_row_broadcast_and_param_steps():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((37, 300)).astype(np.float32)
    bias = rng.standard_normal(300).astype(np.float32)
    program = [("add", 2, (0, 1)), ("leaky_relu", 2, (2,), (0.2,)), ("affine", 2, (2,), (2.0, -1.0)),
               ("gelu", 3, (2,))]
    got = fc.chain(program, [x, bias])
    h = x + bias
    h = np.where(h > 0, h, h * np.float32(0.2)) * np.float32(2) - np.float32(1)
    expected = ew.unary("gelu", h)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_clamp_step_with_tensor_bounds():
    x = np.linspace(-3, 3, 5000).reshape(50, 100)
    lo, hi = np.full(100, -1.0), np.array(0.5)
    got = fc.chain([("clamp", 3, (0, 1, 2))], [x, lo, hi])
    np.testing.assert_array_equal(got, np.clip(x, lo, hi))


def test_bit_identical_at_one_and_two_threads(threads):
    x = np.random.default_rng(2).standard_normal((257, 511)).astype(np.float32)
    openmp_helpers.set_parallel_grain(1024)
    runs = []
    for n in (1, 2):
        openmp_helpers.set_num_threads(n)
        runs.append(fc.chain(TANH_PROGRAM, [x, np.float32(0.5), np.float32(1.0)]))
    assert runs[0].tobytes() == runs[1].tobytes()


def test_layouts_the_chain_cannot_tile_are_refused():
    x = np.ones((4, 6), np.float32)
    with pytest.raises(KernelError, match="unsupported"):
        fc.chain([("add", 2, (0, 1))], [x, np.ones((4, 1), np.float32)])    # column broadcast
    with pytest.raises(KernelError, match="unsupported"):
        fc.chain([("add", 2, (0, 1))], [x.T, x.T])                          # not contiguous
    with pytest.raises(KernelError, match="unsupported"):
        fc.chain([("lt", 2, (0, 1))], [x, x])                               # bool-valued step
    with pytest.raises(KernelError, match="dtype"):
        fc.chain([("add", 2, (0, 1))], [x, x.astype(np.float64)])


def test_malformed_programs_raise():
    x = np.ones(8)
    with pytest.raises(KernelError, match="invalid argument"):
        fc.chain([("add", 1, (0, 5))], [x])                # reads an unwritten register
    with pytest.raises(KernelError, match="invalid argument"):
        fc.chain([("neg", 0, (0,))], [x])                  # overwrites an input
    with pytest.raises(ValueError, match="unknown elementwise op"):
        fc.chain([("frobnicate", 1, (0,))], [x])
