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
