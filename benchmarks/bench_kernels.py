"""asv: per-kernel throughput of jitcore's runtime beside the same NumPy call.

Each kernel is a one-op function, scripted and lowered to the Cython runtime
(``peers.runtime``); ``time_numpy`` runs the NumPy expression it replaces, so the asv
report shows both.  A kernel the runtime does not have yet is skipped, not faked.
"""

import numpy as np

from jitcore.nn import functional as F

try:   # asv imports this file as benchmarks.bench_kernels
    from .peers.runtime import runtime_function
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.runtime import runtime_function

DTYPES = ["float32", "float64"]


def add(x, y):
    return x + y


def mul(x, y):
    return x * y


def tanh(x):
    return np.tanh(x)


def exp(x):
    return np.exp(x)


def sum_all(x):
    return x.sum()


def sum_last_axis(x):
    return x.sum(axis=-1)


def mean_first_axis(x):
    return x.mean(axis=0)


def max_last_axis(x):
    return x.max(axis=-1)


def matmul(a, b):
    return a @ b


def conv2d_same(x, w, b):
    return F.conv2d(x, w, b, 1, 1)


def _random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


class _KernelSetup:
    """Shared setup: ``self.args`` (inputs), ``self.numpy_fn`` and ``self.compiled``.

    It defines no benchmark itself (run_quick.py and asv would run it on its own);
    each subclass names its ``time_jitcore`` / ``time_numpy`` pair.
    """

    def _prepare(self, fn, args):
        self.numpy_fn, self.args = fn, args
        self.compiled = runtime_function(fn, *args)


class Elementwise(_KernelSetup):
    """Unary and binary elementwise kernels at a cache-resident and a memory-bound size."""

    params = [["add", "mul", "tanh", "exp"], [1_000, 4_000_000], DTYPES]
    param_names = ["op", "numel", "dtype"]
    _OPS = {"add": (add, 2), "mul": (mul, 2), "tanh": (tanh, 1), "exp": (exp, 1)}

    def setup(self, op, numel, dtype):
        fn, arity = self._OPS[op]
        self._prepare(fn, tuple(_random(numel, dtype, seed) for seed in range(arity)))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        self.numpy_fn(*self.args)


class Reductions(_KernelSetup):
    """Reductions of a (1000, 1000) array over all, the last and the first axis."""

    params = [["sum_all", "sum_last_axis", "mean_first_axis", "max_last_axis"], DTYPES]
    param_names = ["op", "dtype"]
    _OPS = {"sum_all": sum_all, "sum_last_axis": sum_last_axis,
            "mean_first_axis": mean_first_axis, "max_last_axis": max_last_axis}

    def setup(self, op, dtype):
        self._prepare(self._OPS[op], (_random((1000, 1000), dtype),))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        self.numpy_fn(*self.args)


class Matmul(_KernelSetup):
    """Square matrix products through the BLAS kernels."""

    params = [[64, 256, 512], DTYPES]
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        self._prepare(matmul, (_random((n, n), dtype, 0), _random((n, n), dtype, 1)))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        self.numpy_fn(*self.args)


class Conv2d(_KernelSetup):
    """3×3 'same' convolutions: a CNN stem, a mid layer at batch 16, a wide ResNet layer."""

    params = [["1x3x32x32->16", "16x16x32x32->32", "1x64x56x56->64"], DTYPES]
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        dims, out_channels = shape.split("->")
        n, c, h, w = (int(d) for d in dims.split("x"))
        out_channels = int(out_channels)
        self._prepare(conv2d_same, (_random((n, c, h, w), dtype, 0),
                                    _random((out_channels, c, 3, 3), dtype, 1),
                                    _random(out_channels, dtype, 2)))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        # NumPy has no convolution: the eager jitcore.nn.functional.conv2d is the baseline.
        conv2d_same(*self.args)
