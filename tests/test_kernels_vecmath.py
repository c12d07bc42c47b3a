"""vecmath.h's branch-free exp/expm1/log/tanh/sigmoid/erf: ulp error bounds over dense sweeps.

The references are NumPy in float64 (for float32 results) and in long double
(for float64 results, where long double is wider than double).  The bounds
asserted here are the ones documented in vecmath.h.
"""
import math

import numpy as np
import pytest

from jitcore._runtime.kernels import elementwise as ew

LONG_DOUBLE_IS_WIDER = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_erf64 = np.vectorize(math.erf, otypes=[np.float64])

# op -> (reference on the wider type, documented float32 bound, float64 bound or None)
OPS = {
    "exp": (np.exp, 1, 1),
    "expm1": (np.expm1, 2, 2),
    "log": (np.log, 1, 1),
    "tanh": (np.tanh, 3, 3),
    "sigmoid": (_sigmoid, 3, 3),
    "erf": (_erf64, 3, None),
}


def _sweep(dtype, n_random=200_000):
    """Every binade densely (random bit patterns), plus special and edge values."""
    rng = np.random.default_rng(0)
    itype = np.uint32 if dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(itype).max, n_random, dtype=itype, endpoint=True)
    x = bits.view(dtype)
    x = x[np.isfinite(x)]
    info = np.finfo(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, -info.tiny,
                        info.smallest_subnormal, info.max, -info.max, 1.0, -1.0,
                        88.72283, 88.7229, -103.97, -87.3, 709.78, -745.1, 1e-30, -1e-30],
                       dtype=np.float64)
    with np.errstate(over="ignore"):
        special = special.astype(dtype)
    dense = np.linspace(-20, 20, 400_001, dtype=dtype)
    return np.concatenate([x, special, dense, dense * dtype(1e-3)])


def _ulp_error(got, exact, dtype):
    """|got - exact| in units of the last place of exact rounded to dtype."""
    with np.errstate(over="ignore", invalid="ignore"):
        ref = exact.astype(dtype)
        spacing = np.spacing(np.abs(ref)).astype(exact.dtype)
        err = np.abs(got.astype(exact.dtype) - exact) / spacing
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return np.where(same, 0.0, err)


@pytest.mark.parametrize("op", sorted(OPS))
def test_float32_error_within_documented_ulps(op):
    ref, bound32, _ = OPS[op]
    x = _sweep(np.float32)
    with np.errstate(all="ignore"):
        exact = ref(x.astype(np.float64))
    got = ew.unary(op, x)
    err = _ulp_error(got, exact, np.float32)
    worst = int(np.argmax(err))
    assert err.max() <= bound32, f"{op}({x[worst]!r}) = {got[worst]!r}, exact {exact[worst]!r}"
    # Specials: NaN propagates, the infinities and signed zeros map exactly.
    assert np.array_equal(np.isnan(got), np.isnan(exact))


@pytest.mark.skipif(not LONG_DOUBLE_IS_WIDER, reason="needs a long double wider than double")
@pytest.mark.parametrize("op", sorted(op for op in OPS if OPS[op][2] is not None))
def test_float64_error_within_documented_ulps(op):
    ref, _, bound64 = OPS[op]
    x = _sweep(np.float64)
    with np.errstate(all="ignore"):
        exact = ref(x.astype(np.longdouble))
    got = ew.unary(op, x)
    err = _ulp_error(got, exact, np.float64)
    worst = int(np.argmax(err))
    assert err.max() <= bound64, f"{op}({x[worst]!r}) = {got[worst]!r}, exact {exact[worst]!r}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["exp", "expm1", "log", "tanh", "sigmoid", "silu", "gelu", "gelu_tanh", "erf"])
def test_vector_and_scalar_paths_give_identical_bits(op, dtype):
    # Contiguous input takes the SIMD loop, a strided view the scalar path.
    x = np.random.default_rng(1).standard_normal(4099).astype(dtype) * 4
    if op == "log":
        x = np.abs(x)
    strided = np.repeat(x, 2)[::2]
    assert ew.unary(op, x).tobytes() == ew.unary(op, strided).tobytes()
    inplace_src = x.copy()
    assert ew.unary(op, inplace_src).tobytes() == ew.unary(op, x).tobytes()


def test_signed_zero_and_limits():
    z = np.array([0.0, -0.0, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(np.signbit(ew.unary("tanh", z)), [False, True, False, True])
    np.testing.assert_array_equal(ew.unary("tanh", z), [0, -0.0, 1, -1])
    np.testing.assert_array_equal(ew.unary("exp", z), [1, 1, np.inf, 0])
    np.testing.assert_array_equal(ew.unary("expm1", z), [0, -0.0, np.inf, -1])
    np.testing.assert_array_equal(ew.unary("sigmoid", z), [0.5, 0.5, 1, 0])
    np.testing.assert_array_equal(ew.unary("erf", z), [0, -0.0, 1, -1])
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(ew.unary("log", np.array([0, -1, np.inf], np.float32)),
                                      np.log(np.array([0, -1, np.inf], np.float32)))


def test_float32_tanh_within_bound_on_every_256th_bit_pattern():
    # 2**24 inputs spread evenly over all float32 bit patterns (both signs,
    # denormals, every binade, inf and NaN): the FMA tanh's documented bound
    # holds beyond the random sweep.
    x = (np.arange(2**24, dtype=np.uint32) * np.uint32(256) + np.uint32(97)).view(np.float32)
    with np.errstate(invalid="ignore"):
        exact = np.tanh(x.astype(np.float64))
    err = _ulp_error(ew.unary("tanh", x), exact, np.float32)
    worst = int(np.argmax(err))
    assert err.max() <= OPS["tanh"][1], f"tanh({x[worst]!r}): {err[worst]:.2f} ulp"
