"""Matrix products with a fused epilogue (jitcore._runtime.kernels.linalg)."""
import numpy as np
import pytest
from scipy.special import erf

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import linalg

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "none": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "gelu": lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "silu": lambda x: x * sigmoid(x),
    "sigmoid": sigmoid,
    "tanh": np.tanh,
}


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape, b_shape", [
    ((4, 5), (5, 3)),
    ((5,), (5, 3)),
    ((4, 5), (5,)),
    ((5,), (5,)),
    ((2, 4, 5), (5, 3)),
    ((5,), (2, 5, 3)),
    ((2, 1, 4, 5), (3, 5, 2)),
    ((1, 4, 5), (3, 5, 2)),
    ((0, 4, 5), (5, 3)),
    ((4, 0), (0, 3)),
    ((2, 4, 5), (2, 5, 0)),
])
def test_matmul_matches_numpy_across_ranks_and_broadcasting(dtype, a_shape, b_shape):
    rng = np.random.default_rng(0)
    a, b = randn(rng, a_shape, dtype), randn(rng, b_shape, dtype)
    got = linalg.matmul(a, b)
    want = np.matmul(a, b)
    assert got.shape == want.shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_reads_transposed_sliced_and_broadcast_operands(dtype):
    rng = np.random.default_rng(1)
    a = randn(rng, (3, 6, 8), dtype).transpose(0, 2, 1)[:, ::2]      # (3, 4, 6), strided
    b = randn(rng, (6, 10), dtype)[:, 1::3]                          # (6, 3), strided columns
    np.testing.assert_allclose(linalg.matmul(a, b), a @ b, **TOL[dtype])
    b_batched = np.broadcast_to(randn(rng, (1, 6, 3), dtype), (3, 6, 3))  # zero batch stride
    np.testing.assert_allclose(linalg.matmul(a, b_batched), a @ b_batched, **TOL[dtype])
    v = randn(rng, (12,), dtype)[::2]
    np.testing.assert_allclose(linalg.matmul(a, v), a @ v, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_linear_fused_bias_and_activation(dtype, activation):
    rng = np.random.default_rng(2)
    x, w, b = randn(rng, (2, 3, 7), dtype), randn(rng, (5, 7), dtype), randn(rng, (5,), dtype)
    got = linalg.linear(x, w, b, activation=activation)
    want = ACTIVATIONS[activation]((x @ w.T + b).astype(np.float64))
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_without_bias_and_on_a_vector(dtype):
    rng = np.random.default_rng(3)
    w = randn(rng, (4, 6), dtype)
    x = randn(rng, (6,), dtype)
    np.testing.assert_allclose(linalg.linear(x, w), w @ x, **TOL[dtype])
    x2 = randn(rng, (6, 9), dtype).T        # transposed input cannot fold its rows by stride
    np.testing.assert_allclose(linalg.linear(x2, w), x2 @ w.T, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("after", [False, True])
def test_residual_before_or_after_the_activation(dtype, after):
    rng = np.random.default_rng(4)
    x, w, b = randn(rng, (3, 4, 6), dtype), randn(rng, (5, 6), dtype), randn(rng, (5,), dtype)
    r = randn(rng, (5, 4, 3), dtype).T                  # a transposed residual
    got = linalg.linear(x, w, b, activation="relu", residual=r, residual_after_activation=after)
    y = x @ w.T + b
    want = np.maximum(y, 0) + r if after else np.maximum(y + r, 0)
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_bias_and_epilogue_on_batched_products(dtype):
    rng = np.random.default_rng(5)
    a, b = randn(rng, (2, 3, 4), dtype), randn(rng, (2, 4, 5), dtype)
    bias = randn(rng, (5,), dtype)
    r = randn(rng, (2, 3, 5), dtype)
    got = linalg.bmm(a, b, bias=bias, activation="tanh", residual=r)
    np.testing.assert_allclose(got, np.tanh(a @ b + bias + r), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("input_shape", [(4, 3), (3,), (1, 3), (4, 1), ()])
def test_addmm_broadcasts_input_and_scales(dtype, input_shape):
    rng = np.random.default_rng(6)
    inp = randn(rng, input_shape, dtype)
    a, b = randn(rng, (4, 6), dtype), randn(rng, (6, 3), dtype)
    got = linalg.addmm(inp, a, b, beta=0.5, alpha=-2.0, activation="silu")
    y = 0.5 * inp + -2.0 * (a @ b)
    np.testing.assert_allclose(got, y * sigmoid(y), **TOL[dtype])


def test_addmm_with_beta_zero_ignores_nan_input():
    a, b = np.ones((2, 3)), np.ones((3, 2))
    got = linalg.addmm(np.full((2, 2), np.nan), a, b, beta=0.0)
    np.testing.assert_array_equal(got, np.full((2, 2), 3.0))


def test_relu_epilogue_keeps_nan():
    got = linalg.matmul(np.ones((1, 2)), np.eye(2), bias=np.array([np.nan, -3.0]),
                        activation="relu")
    assert np.isnan(got[0, 0]) and got[0, 1] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_tiled_epilogue_agrees_at_one_and_two_threads(dtype):
    rng = np.random.default_rng(7)
    # 1100 rows of 128 columns span several epilogue tiles
    x, w, b = randn(rng, (1100, 64), dtype), randn(rng, (128, 64), dtype), randn(rng, (128,), dtype)
    r = randn(rng, (1100, 128), dtype)
    results = []
    before = openmp_helpers.get_num_threads()
    try:
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(linalg.linear(x, w, b, activation="gelu", residual=r))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    y = (x @ w.T + b).astype(np.float64) + r
    np.testing.assert_allclose(results[0], ACTIVATIONS["gelu"](y), **TOL[dtype])


def test_mm_and_bmm_require_their_ranks():
    with pytest.raises(KernelError, match="mm: incompatible shapes"):
        linalg.mm(np.ones((2, 3, 4)), np.ones((4, 2)))
    with pytest.raises(KernelError, match="bmm: incompatible shapes"):
        linalg.bmm(np.ones((2, 3, 4)), np.ones((3, 4, 2)))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((2, 3), (4, 2)), ((3,), (4,)), ((2, 3, 4), (3, 4, 2)), ((), (3,)),
])
def test_matmul_mismatched_shapes_raise(a_shape, b_shape):
    with pytest.raises(KernelError, match="matmul: incompatible shapes"):
        linalg.matmul(np.ones(a_shape), np.ones(b_shape))


def test_epilogue_operands_are_validated():
    a, b = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(KernelError, match="incompatible shapes"):
        linalg.matmul(a, b, bias=np.ones(3))
    with pytest.raises(KernelError, match="incompatible shapes"):
        linalg.matmul(a, b, residual=np.ones((4, 2)))
    with pytest.raises(KernelError, match="dtypes"):
        linalg.matmul(a, b, bias=np.ones(4, np.float32))
    with pytest.raises(KernelError, match="addmm: incompatible shapes"):
        linalg.addmm(np.ones((3, 4)), a, b)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        linalg.matmul(a, b, activation="swish")


def test_mixed_and_integer_dtypes_raise():
    with pytest.raises(KernelError, match="dtypes"):
        linalg.matmul(np.ones((2, 2), np.float32), np.ones((2, 2)))
    with pytest.raises(KernelError, match="dtypes"):
        linalg.matmul(np.ones((2, 2), np.int64), np.ones((2, 2), np.int64))


def test_against_torch_linear_gelu():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, w, b = randn(rng, (8, 16), np.float32), randn(rng, (12, 16), np.float32), randn(rng, (12,), np.float32)
    want = torch.nn.functional.gelu(torch.nn.functional.linear(
        torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)), approximate="tanh")
    got = linalg.linear(x, w, b, activation="gelu_tanh")
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)
