"""Parameter initialisation, with PyTorch's formulas and a seedable NumPy generator.

Every function fills an ndarray in place and returns it, as ``torch.nn.init`` does.
Randomness comes from ``generator`` when given, else from the module-level default
generator that :func:`manual_seed` reseeds, so ``manual_seed(0); nn.Linear(4, 2)`` is
reproducible.
"""

import math

import numpy as np

from jitcore._runtime.kernels import dropout

__all__ = [
    "manual_seed", "default_generator", "calculate_gain", "uniform_", "normal_", "constant_",
    "zeros_", "ones_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "trunc_normal_",
]

_default = np.random.default_rng()


def manual_seed(seed):
    """Reseed jitcore's random streams, as ``torch.manual_seed`` does.

    Two streams: the NumPy generator layer constructors and init functions
    draw from, and the compiled runtime's training-mode dropout stream, which
    restarts so that the same calls after the same seed draw the same masks.

    Parameters
    ----------
    seed : int

    Returns
    -------
    numpy.random.Generator
        The new default generator.
    """
    global _default
    _default = np.random.default_rng(seed)
    dropout.seed(seed)
    return _default


def default_generator():
    """The generator used when no ``generator`` is passed."""
    return _default


def _rng(generator):
    return _default if generator is None else generator


def _fill(array, values):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"init functions fill an ndarray in place, got {type(array).__name__}")
    array[...] = values
    return array


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(array):
    if array.ndim < 2:
        raise ValueError("fan in and fan out can not be computed for an array with fewer "
                         f"than 2 dimensions (got shape {array.shape})")
    receptive_field = int(np.prod(array.shape[2:])) if array.ndim > 2 else 1
    return array.shape[1] * receptive_field, array.shape[0] * receptive_field


def uniform_(array, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(array, _rng(generator).uniform(a, b, size=array.shape))


def normal_(array, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std**2)."""
    return _fill(array, _rng(generator).normal(mean, std, size=array.shape))


def trunc_normal_(array, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``array`` from N(mean, std²) truncated to ``[a, b]`` (torch's bounds are
    absolute values, not multiples of ``std``), by redrawing the samples outside."""
    if not a < b:
        raise ValueError(f"trunc_normal_: a must be below b, got a={a}, b={b}")
    # the share of draws that land inside: redrawing is quick unless it is tiny (torch
    # inverts the CDF instead, with erfinv, which NumPy lacks)
    inside = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2.0)))
                    - math.erf((a - mean) / (std * math.sqrt(2.0))))
    if inside < 1e-3:
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds {inside:.1e} of N({mean}, {std}^2); "
                         "choose bounds nearer the mean")
    rng = _rng(generator)
    values = rng.normal(mean, std, size=array.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, size=int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(array, values)


def constant_(array, val):
    """Fill with ``val``."""
    return _fill(array, val)


def zeros_(array):
    """Fill with zeros."""
    return _fill(array, 0)


def ones_(array):
    """Fill with ones."""
    return _fill(array, 1)


def xavier_uniform_(array, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(array, -bound, bound, generator)


def xavier_normal_(array, gain=1.0, generator=None):
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(array, 0.0, std, generator)


def _kaiming_std(array, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``."""
    bound = math.sqrt(3.0) * _kaiming_std(array, a, mode, nonlinearity)
    return uniform_(array, -bound, bound, generator)


def kaiming_normal_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``."""
    return normal_(array, 0.0, _kaiming_std(array, a, mode, nonlinearity), generator)
