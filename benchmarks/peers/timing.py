"""Per-call latency (median and p90) and multi-threaded throughput of a zero-argument call."""

import gc
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Timing", "TimingPlan", "summarize", "measure_latency", "measure_throughput"]


@dataclass(frozen=True)
class Timing:
    """Latency statistics per call, in microseconds.

    Attributes
    ----------
    median_us, p90_us : float
    samples : int
        How many timed samples the statistics come from.
    calls_per_sample : int
        Consecutive calls in one sample (more than one only for calls so short that the
        clock's own cost would show).
    """

    median_us: float
    p90_us: float
    samples: int
    calls_per_sample: int


@dataclass(frozen=True)
class TimingPlan:
    """How long to measure: warm-up calls, sample count bounds and a time budget."""

    warmup: int = 5
    min_samples: int = 7
    max_samples: int = 2000
    budget_s: float = 1.0
    sample_target_s: float = 50e-6
    settle_s: float = 0.25

    @classmethod
    def quick(cls):
        """A few calls only (CI): enough to prove the path works, not to compare."""
        return cls(warmup=1, min_samples=3, max_samples=3, budget_s=0.0, settle_s=0.0)


def summarize(sample_seconds, calls_per_sample):
    """Median and p90 per call of samples that each timed ``calls_per_sample`` calls."""
    per_call_us = np.asarray(sample_seconds, dtype=np.float64) * 1e6 / calls_per_sample
    if per_call_us.size == 0:
        raise ValueError("no samples to summarize")
    median, p90 = np.percentile(per_call_us, [50, 90])
    return Timing(float(median), float(p90), int(per_call_us.size), int(calls_per_sample))


def measure_latency(call, plan=TimingPlan()):
    """Time ``call()`` and return its :class:`Timing`.

    First the machine settles for ``plan.settle_s`` (idle): thread pools of the
    backend measured before -- OpenBLAS's workers, ONNX Runtime's -- spin-wait for a
    while after their last call and would otherwise take a core from this one.  The
    warm-up calls then estimate the cost of one call; a sample times enough consecutive
    calls to last ``plan.sample_target_s``, and samples are taken until ``plan.budget_s``
    has passed (at least ``min_samples``, at most ``max_samples``) -- by the clock, not
    by the warm-up's estimate, which a slow first call would make too pessimistic.  The
    garbage collector is paused while sampling, as ``timeit`` does.
    """
    if plan.settle_s > 0:
        time.sleep(plan.settle_s)
    start = time.perf_counter()
    for _ in range(max(plan.warmup, 1)):
        call()
    estimate = (time.perf_counter() - start) / max(plan.warmup, 1)
    calls_per_sample = max(1, int(plan.sample_target_s / max(estimate, 1e-9)))
    samples = []
    clock = time.perf_counter
    stop = clock() + plan.budget_s
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while len(samples) < plan.max_samples:
            t0 = clock()
            for _ in range(calls_per_sample):
                call()
            t1 = clock()
            samples.append(t1 - t0)
            if t1 > stop and len(samples) >= plan.min_samples:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return summarize(samples, calls_per_sample)


def measure_throughput(call, callers, duration_s):
    """Calls per second of ``callers`` Python threads calling ``call()`` for ``duration_s``.

    All threads start together (a barrier) and stop at the same deadline; the rate is the
    total number of completed calls over the time until the last thread finished.

    Raises
    ------
    Exception
        The first exception a calling thread raised.
    """
    barrier = threading.Barrier(callers + 1)
    counts = [0] * callers
    errors = []
    deadline = [0.0]

    def worker(slot):
        barrier.wait()
        n, clock, stop = 0, time.perf_counter, deadline[0]
        try:
            while clock() < stop:
                call()
                n += 1
        except BaseException as exc:   # re-raised in the main thread
            errors.append(exc)
        counts[slot] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    deadline[0] = start + duration_s
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return sum(counts) / elapsed
