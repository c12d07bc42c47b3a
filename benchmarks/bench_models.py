"""asv: whole models at batch 1 and a larger batch, jitcore beside the same model in NumPy.

The models are those of ``benchmarks/compare.py`` (``peers.models``): the seed
``Linear(4, 2)``, the MLP, the small CNN, the transformer encoder layer and the scripted RNN
loop.  ``peakmem_`` measures the process's peak memory over a steady stream of calls: it
should not grow with the number of calls.  Both run with 1 intra-op thread (jitcore's
``set_num_threads``, which also limits the BLAS NumPy uses): thread scaling is
``bench_threads.py``'s subject, and a default multi-threaded BLAS on a busy 2-core machine
turns 1 ms calls into 50 ms ones.
"""

try:   # asv imports this file as benchmarks.bench_models
    from .peers.jitcore_backends import compile_case
    from .peers.models import make_case
    from .peers.thread_control import jitcore_set_num_threads
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.jitcore_backends import compile_case
    from peers.models import make_case
    from peers.thread_control import jitcore_set_num_threads

MODELS = ["linear", "mlp-b1", "mlp-b64", "cnn-b1", "cnn-b16", "encoder-b1", "rnn-loop"]
STREAM_CALLS = 200


def _prepare(model):
    """Pin one intra-op thread, build the case and compile it."""
    setter = jitcore_set_num_threads()
    if setter is not None:
        setter(1)
    case = make_case(model)
    return case, compile_case(case)


class Models:
    """One inference per call: compiled by jitcore, and eagerly with NumPy."""

    params = [MODELS]
    param_names = ["model"]

    def setup(self, model):
        self.case, self.compiled = _prepare(model)
        self.compiled(*self.case.inputs)   # first call: plans and caches are built here

    def time_jitcore(self, model):
        self.compiled(*self.case.inputs)

    def time_numpy_eager(self, model):
        self.case.eager()


class SteadyCallStream:
    """Peak memory of many calls of one shape (a leak or per-call growth shows here)."""

    params = [["mlp-b64", "cnn-b1"]]
    param_names = ["model"]

    def setup(self, model):
        self.case, self.compiled = _prepare(model)

    def peakmem_call_stream(self, model):
        for _ in range(STREAM_CALLS):
            self.compiled(*self.case.inputs)


class SmallCnnLayers:
    """Each layer of the small CNN on its own (jitcore's kernels, 1 thread), to see where a
    model's time goes: the conv2d + bias + ReLU epilogue of each stage (batch norm folded
    away, as ``optimize_for_inference`` leaves it) and the 2x2 max pool after it."""

    params = [[1, 16], ["conv1", "pool1", "conv2", "pool2"]]
    param_names = ["batch", "layer"]

    def setup(self, batch, layer):
        import numpy as np
        from jitcore._runtime.kernels import conv, pooling
        setter = jitcore_set_num_threads()
        if setter is not None:
            setter(1)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        w1 = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)
        w2 = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
        b1, b2 = (rng.standard_normal(n).astype(np.float32) for n in (16, 32))
        y1 = conv.conv2d(x, w1, b1, padding=1, activation="relu")
        p1 = pooling.max_pool2d(y1, 2)
        y2 = conv.conv2d(p1, w2, b2, padding=1, activation="relu")
        self.run = {
            "conv1": lambda: conv.conv2d(x, w1, b1, padding=1, activation="relu"),
            "pool1": lambda: pooling.max_pool2d(y1, 2),
            "conv2": lambda: conv.conv2d(p1, w2, b2, padding=1, activation="relu"),
            "pool2": lambda: pooling.max_pool2d(y2, 2),
        }[layer]

    def time_layer(self, batch, layer):
        self.run()
