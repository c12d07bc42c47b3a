"""asv: thread scaling — intra-op threads on big calls, and concurrent Python callers.

``IntraOpThreads`` runs one call with 1 and 2 intra-op threads (``set_num_threads``);
a second thread should pay only on big work (issue 3: the 4M-element chain ≥ 1.7×; DESIGN
§4: batch-64 MLP and batch-16 CNN ~1.5–1.9×), and must never cost: the traced (unfrozen)
models' matrix products once ran on BLAS's own pool beside OpenMP's and took twice as long
with 2 threads (docs/threading.md).  ``ConcurrentCallers`` makes the same
number of calls from 1 or 2 Python threads with 1 intra-op thread each: with the GIL
released during calls, 2 callers should take about half the time (issue 8: ≥ 1.8×).
``ConcurrentNumpyControl`` splits the same number of GIL-free NumPy matmuls the same
way: on a machine whose second core is busy with other work it does not scale either,
so compare the two speed-ups, not the jitcore one alone.
"""

import argparse
import threading
import time

import numpy as np

try:   # asv imports this file as benchmarks.bench_threads
    from .peers.jitcore_backends import compile_case
    from .peers.models import make_case
    from .peers.thread_control import jitcore_set_num_threads
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.jitcore_backends import compile_case
    from peers.models import make_case
    from peers.thread_control import jitcore_set_num_threads

CALLS_PER_RUN = 40


def _thread_setter():
    setter = jitcore_set_num_threads()
    if setter is None:
        raise NotImplementedError("jitcore has no set_num_threads in this checkout")
    return setter


class IntraOpThreads:
    """One call of a big model with 1 or 2 intra-op threads."""

    params = [["mlp-b64", "cnn-b1", "cnn-b16", "encoder-b1", "elementwise"], [1, 2]]
    param_names = ["model", "threads"]

    def setup(self, model, threads):
        self.set_threads = _thread_setter()
        self.case = make_case(model)
        self.compiled = compile_case(self.case)
        self.set_threads(threads)
        self.compiled(*self.case.inputs)

    def teardown(self, model, threads):
        self.set_threads(1)

    def time_call(self, model, threads):
        self.compiled(*self.case.inputs)


def _split_over_threads(work, count, callers):
    """Run ``work(share)`` on ``callers`` threads, ``count // callers`` calls each."""
    share = count // callers
    threads = [threading.Thread(target=work, args=(share,)) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class ConcurrentCallers:
    """``CALLS_PER_RUN`` calls of the MLP (batch 1), split over 1 or 2 Python threads."""

    params = [[1, 2]]
    param_names = ["callers"]

    def setup(self, callers):
        self.set_threads = _thread_setter()
        self.set_threads(1)
        self.case = make_case("mlp-b1")
        self.compiled = compile_case(self.case)
        self.compiled(*self.case.inputs)

    def _calls(self, count):
        for _ in range(count):
            self.compiled(*self.case.inputs)

    def time_calls(self, callers):
        _split_over_threads(self._calls, CALLS_PER_RUN, callers)


class ConcurrentNumpyControl:
    """The machine's own scaling: ``CALLS_PER_RUN`` 256x256 float32 NumPy matmuls (GIL-free)."""

    params = [[1, 2]]
    param_names = ["callers"]

    def setup(self, callers):
        self.a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        try:
            import threadpoolctl
        except ImportError:
            raise NotImplementedError("threadpoolctl is needed to pin NumPy's BLAS to 1 thread")
        self._limits = threadpoolctl.threadpool_limits(1)

    def teardown(self, callers):
        self._limits.restore_original_limits()

    def _calls(self, count):
        for _ in range(count):
            self.a @ self.a

    def time_calls(self, callers):
        _split_over_threads(self._calls, CALLS_PER_RUN, callers)


def _warm(model, inputs, seconds):
    """Call ``model`` for ``seconds``: on our VMs an idle second vCPU takes ~1.5 ms to
    wake until the host's halt polling has adapted to the calls (~100 calls at 2 threads)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        model(*inputs)


def _interleaved_medians(models, rounds, calls, warmup):
    """Median µs per call of each model, traced and ``optimize_for_inference``, at 1 and 2
    intra-op threads; the four variants take turns, each warmed up then timed call by call,
    so that a change in the machine's load hits all of them alike."""
    import jitcore
    set_threads = _thread_setter()
    for name in models:
        case = make_case(name)
        variants = {"traced": compile_case(case),
                    "ofi": jitcore.optimize_for_inference(compile_case(case))}
        samples = {}
        for _round in range(rounds):
            for label, model in variants.items():
                for threads in (1, 2):
                    set_threads(threads)
                    _warm(model, case.inputs, warmup)
                    for _call in range(calls):
                        start = time.perf_counter()
                        model(*case.inputs)
                        samples.setdefault((label, threads), []).append(
                            (time.perf_counter() - start) * 1e6)
        med = {key: float(np.median(values)) for key, values in samples.items()}
        print(f"{name:11s}" + "".join(
            f"  {label}@1 {med[label, 1]:8.1f}  @2 {med[label, 2]:8.1f} (@2/@1 "
            f"{med[label, 2] / med[label, 1]:.2f})" for label in variants), flush=True)
    set_threads(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="1- vs 2-thread medians, interleaved.")
    parser.add_argument("--models", default="mlp-b1,mlp-b64,cnn-b1,cnn-b16,encoder-b1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=0.3, help="seconds per block")
    args = parser.parse_args()
    _interleaved_medians(args.models.split(","), args.rounds, args.calls, args.warmup)
