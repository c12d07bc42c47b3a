"""jitcore.nn.init: the fill functions torchvision's constructors call."""

import math

import numpy as np
import pytest

from jitcore.nn import init


def test_trunc_normal_fills_in_place_within_the_bounds_with_the_truncated_moments():
    weight = np.empty((400, 500), dtype=np.float32)
    out = init.trunc_normal_(weight, mean=0.0, std=1.0, a=-2.0, b=2.0,
                             generator=np.random.default_rng(0))
    assert out is weight and weight.dtype == np.float32
    assert weight.min() >= -2.0 and weight.max() <= 2.0
    # N(0, 1) truncated to [-2, 2]: mean 0, variance 1 - 2 b phi(b) / (Phi(b) - Phi(-b))
    phi = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2.0 / math.sqrt(2.0))
    assert abs(weight.mean()) < 0.01
    assert weight.std() == pytest.approx(math.sqrt(1 - 4 * phi / mass), abs=0.005)


def test_trunc_normal_bounds_are_absolute_as_torch_s():
    # torchvision's GoogLeNet: std 0.01 within [-2, 2], i.e. no truncation in practice
    weight = np.empty(100_000)
    init.trunc_normal_(weight, std=0.01, a=-2, b=2, generator=np.random.default_rng(1))
    assert weight.std() == pytest.approx(0.01, rel=0.02)
    narrow = init.trunc_normal_(np.empty(10_000), mean=1.0, std=1.0, a=0.5, b=1.0,
                                generator=np.random.default_rng(2))
    assert narrow.min() >= 0.5 and narrow.max() <= 1.0


def test_trunc_normal_is_reproducible_from_its_generator():
    a = init.trunc_normal_(np.empty(50), generator=np.random.default_rng(3))
    b = init.trunc_normal_(np.empty(50), generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_trunc_normal_refuses_empty_or_unreachable_bounds():
    with pytest.raises(ValueError, match="a must be below b"):
        init.trunc_normal_(np.empty(3), a=1.0, b=1.0)
    with pytest.raises(ValueError, match="choose bounds nearer the mean"):
        init.trunc_normal_(np.empty(3), a=8.0, b=9.0)
