"""Per-call latency (median and p90) of zero-argument calls timed side by side, and
multi-threaded throughput."""

import gc
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Timing", "TimingPlan", "summarize", "measure_interleaved", "measure_throughput"]


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
    settle_s: float = 0.15
    rounds: int = 4

    @classmethod
    def quick(cls):
        """A few calls only (CI): enough to prove the path works, not to compare."""
        return cls(warmup=1, min_samples=3, max_samples=3, budget_s=0.0, settle_s=0.0,
                   rounds=1)


def summarize(sample_seconds, calls_per_sample):
    """Median and p90 per call of samples that each timed ``calls_per_sample`` calls."""
    per_call_us = np.asarray(sample_seconds, dtype=np.float64) * 1e6 / calls_per_sample
    if per_call_us.size == 0:
        raise ValueError("no samples to summarize")
    median, p90 = np.percentile(per_call_us, [50, 90])
    return Timing(float(median), float(p90), int(per_call_us.size), int(calls_per_sample))


class _Sampler:
    """The samples of one call, taken in slices (see :func:`measure_interleaved`)."""

    def __init__(self, call, plan):
        self.call, self.plan = call, plan
        self.samples = []
        self.calls_per_sample = 1

    def warm_up(self):
        """Run the warm-up calls; their mean sets how many calls one sample times."""
        start = time.perf_counter()
        for _ in range(max(self.plan.warmup, 1)):
            self.call()
        estimate = (time.perf_counter() - start) / max(self.plan.warmup, 1)
        self.calls_per_sample = max(1, int(self.plan.sample_target_s / max(estimate, 1e-9)))

    def sample_for(self, seconds, at_least):
        """Samples for ``seconds`` of clock time (at least ``at_least``), up to the plan's cap."""
        clock, call, n = time.perf_counter, self.call, self.calls_per_sample
        stop = clock() + seconds
        taken = 0
        while len(self.samples) < self.plan.max_samples:
            t0 = clock()
            for _ in range(n):
                call()
            t1 = clock()
            self.samples.append(t1 - t0)
            taken += 1
            if t1 > stop and taken >= at_least:
                break


def measure_interleaved(calls, plan=TimingPlan()):
    """Time several zero-argument calls side by side; returns one :class:`Timing` each.

    The calls take turns: ``plan.rounds`` rounds, in each of which every call is sampled
    for ``plan.budget_s / plan.rounds`` of clock time -- so a slow phase of the machine
    (this project's VMs run at about half speed for seconds at a time) falls on all of
    them alike instead of on whichever row it happened to meet.  Before each slice the
    machine settles for ``plan.settle_s`` (idle): thread pools of the call timed before
    -- OpenBLAS's workers, ONNX Runtime's -- spin-wait for a while after their last call
    and would otherwise take a core from this one.  A call's first slice starts with its
    warm-up calls, whose mean sets how many consecutive calls one sample times (enough to
    last ``plan.sample_target_s``, so the clock's own cost stays negligible).  Each call
    gets at least ``min_samples`` and at most ``max_samples`` samples in all.  The garbage
    collector is paused while sampling, as ``timeit`` does.
    """
    samplers = [_Sampler(call, plan) for call in calls]
    rounds = max(1, plan.rounds)
    at_least = -(-plan.min_samples // rounds)
    gc_was_enabled = gc.isenabled()
    try:
        for round_index in range(rounds):
            for sampler in samplers:
                if plan.settle_s > 0:
                    time.sleep(plan.settle_s)
                gc.disable()
                if round_index == 0:
                    sampler.warm_up()
                sampler.sample_for(plan.budget_s / rounds, at_least)
                if gc_was_enabled:
                    gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return [summarize(s.samples, s.calls_per_sample) for s in samplers]


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
