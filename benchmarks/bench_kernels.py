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


def conv_relu_pool(x, w, b):
    return F.max_pool2d(F.relu(F.conv2d(x, w, b, 1, 1)), 2)


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


def fused_chain(x):
    """Issue 7's benchmark expression (one jc::FusedElementwise node once scripted)."""
    return np.tanh(x * 0.5 + 1.0) * x + 3.0


class FusedChain(_KernelSetup):
    """Issue 7's chain on (1024, 1024): one tiled instruction beside NumPy's five passes."""

    params = [DTYPES]
    param_names = ["dtype"]

    def setup(self, dtype):
        self._prepare(fused_chain, (_random((1024, 1024), dtype),))

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


def _conv_inputs(shape, dtype):
    """Input, 3×3 weight and bias for a parameter ``"NxCxHxW->C_out"``."""
    dims, out_channels = shape.split("->")
    n, c, h, w = (int(d) for d in dims.split("x"))
    out_channels = int(out_channels)
    return (_random((n, c, h, w), dtype, 0), _random((out_channels, c, 3, 3), dtype, 1),
            _random(out_channels, dtype, 2))


class Conv2d(_KernelSetup):
    """3×3 'same' convolutions: a CNN stem, a mid layer at batch 16, a wide ResNet layer."""

    params = [["1x3x32x32->16", "16x16x32x32->32", "1x64x56x56->64"], DTYPES]
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        self._prepare(conv2d_same, _conv_inputs(shape, dtype))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        # NumPy has no convolution: the eager jitcore.nn.functional.conv2d is the baseline.
        conv2d_same(*self.args)


class ConvReluPool(_KernelSetup):
    """conv 3×3 → ReLU → MaxPool2d(2), the small CNN's two steps at batch 16: one
    ``jc::conv2d_act_pool`` node after optimisation (pooled in the conv's registers)."""

    params = [["16x3x32x32->16", "16x16x16x16->32"], DTYPES]
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        self._prepare(conv_relu_pool, _conv_inputs(shape, dtype))

    def time_jitcore(self, *params):
        self.compiled(*self.args)

    def time_numpy(self, *params):
        # NumPy has no convolution: the eager jitcore.nn.functional ops are the baseline.
        conv_relu_pool(*self.args)


# ---------------------------------------------------------------------------
# Side-by-side ratios in one process (not an asv benchmark): the figures of
# issues 3 and 7.  Run ``python benchmarks/bench_kernels.py`` from the
# repository root; every row is a median over many calls, interleaved with
# its peers so that machine load hits them alike.

def _median_us(fns, repeats):
    """Median µs per call of each of ``fns``, calls interleaved round-robin."""
    import time
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - start)
    return [float(np.median(s)) * 1e6 for s in samples]


def _torch_variant(expr, *arrays):
    try:
        import torch
    except ImportError:
        return None
    tensors = [torch.from_numpy(a) for a in arrays]
    return lambda: expr(torch, *tensors)


def _rows():
    """(name, jitcore callable, numpy callable, torch callable or None, floor or None)."""
    import jitcore
    x = _random((1024, 1024), "float32", 0)
    out = np.empty_like(x)
    # a scripted function, as compare.py's `elementwise` row calls it: its
    # profiling executor specialises the graph and fuses the chain
    scripted = jitcore.script(fused_chain)
    yield ("fused tanh(x*0.5+1)*x+3, 1024² f32", lambda: scripted(x), lambda: fused_chain(x),
           _torch_variant(lambda t, a: t.tanh(a * 0.5 + 1.0) * a + 3.0, x),
           lambda: np.copyto(out, x))
    a, b = _random(4_000_000, "float32", 1), _random(4_000_000, "float32", 2)
    for name, fn, args, texpr in (
            ("add", add, (a, b), lambda t, p, q: p + q),
            ("mul", mul, (a, b), lambda t, p, q: p * q),
            ("tanh", tanh, (a,), lambda t, p: t.tanh(p)),
            ("exp", exp, (a,), lambda t, p: t.exp(p)),
            ("sum", sum_all, (a,), lambda t, p: p.sum())):
        compiled = runtime_function(fn, *args)
        yield (f"{name}, 4M f32", lambda c=compiled, v=args: c(*v), lambda f=fn, v=args: f(*v),
               _torch_variant(texpr, *args), None)


def print_ratios(threads=(1, 2), repeats=200):
    """Print jitcore's time beside NumPy's, torch's and the copy floor at each thread count."""
    import jitcore
    try:
        import torch
    except ImportError:
        torch = None
    rows = list(_rows())
    for n in threads:
        jitcore.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        print(f"threads={n}  (median µs; ratio = peer time / jitcore time, >1: jitcore faster)")
        for name, ours, numpy_fn, torch_fn, floor in rows:
            fns = [ours, numpy_fn] + [f for f in (torch_fn, floor) if f is not None]
            for fn in fns:     # warm up: plans, caches, page faults of the first outputs
                fn()
            times = _median_us(fns, repeats)
            line = f"  {name:38s} jitcore {times[0]:8.0f}  numpy {times[1]:8.0f} ({times[1] / times[0]:4.2f}x)"
            k = 2
            if torch_fn is not None:
                line += f"  torch {times[k]:8.0f} ({times[k] / times[0]:4.2f}x)"
                k += 1
            if floor is not None:
                line += f"  copyto {times[k]:6.0f} (jitcore = {times[0] / times[k]:4.2f}x copy)"
            print(line, flush=True)


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    print_ratios(tuple(options.threads), options.repeats)
