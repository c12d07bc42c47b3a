"""jitcore.threads: the thread count, the policy for concurrent callers, threading_info."""

import os
import subprocess
import sys

import numpy as np
import pytest

from jitcore import threads
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import blas as blas_kernels

BIG_REGION = 10 ** 7          # elements: far above the parallel grain


@pytest.fixture
def restore_threads():
    before = threads.get_num_threads()
    yield
    threads.set_num_threads(before)


class _CallsInFlight:
    """Count k calls as in flight for the duration of a ``with`` block."""

    def __init__(self, k):
        self.k = k

    def __enter__(self):
        for _ in range(self.k):
            openmp_helpers.enter_call_for_python()

    def __exit__(self, *exc):
        for _ in range(self.k):
            openmp_helpers.leave_call_for_python()


def test_set_num_threads_round_trips(restore_threads):
    threads.set_num_threads(1)
    assert threads.get_num_threads() == 1
    threads.set_num_threads(3)
    assert threads.get_num_threads() == 3


@pytest.mark.parametrize("bad, error, message", [
    (0, ValueError, "positive int, got 0"),
    (-2, ValueError, "positive int, got -2"),
    (2.0, TypeError, "positive int, got float 2.0"),
    (True, TypeError, "positive int, got bool True"),
    ("4", TypeError, "positive int, got str '4'"),
])
def test_set_num_threads_rejects_nonsense(bad, error, message, restore_threads):
    with pytest.raises(error, match=message):
        threads.set_num_threads(bad)


def test_one_caller_gets_all_threads_concurrent_callers_share_them(restore_threads):
    threads.set_num_threads(4)
    assert openmp_helpers.calls_in_flight() == 0
    assert openmp_helpers.region_threads(BIG_REGION) == 4
    with _CallsInFlight(1):
        assert openmp_helpers.region_threads(BIG_REGION) == 4
    with _CallsInFlight(2):
        assert openmp_helpers.calls_in_flight() == 2
        assert openmp_helpers.region_threads(BIG_REGION) == 2
    with _CallsInFlight(3):
        assert openmp_helpers.region_threads(BIG_REGION) == 1
    assert openmp_helpers.calls_in_flight() == 0
    assert openmp_helpers.region_threads(BIG_REGION) == 4


def test_small_regions_stay_serial(restore_threads):
    threads.set_num_threads(4)
    grain = openmp_helpers.get_parallel_grain()
    assert openmp_helpers.region_threads(grain) == 1
    assert openmp_helpers.region_threads(2 * grain) == 2       # two chunks of work, two threads
    assert openmp_helpers.region_threads(100 * grain) == 4


def test_unbalanced_leave_is_an_error():
    with pytest.raises(RuntimeError, match="without a matching"):
        openmp_helpers.leave_call_for_python()
    assert openmp_helpers.calls_in_flight() == 0


def _kernels_openblas():
    blas = threads._kernels_openblas()
    if blas is None:
        pytest.skip("SciPy's BLAS is not an OpenBLAS jitcore can reach")
    return blas


def _numpy_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    kernels = threads._kernels_blas_path()
    return {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas" and not threads._same_file(lib["filepath"], kernels)}


def test_kernels_blas_stays_serial_at_any_thread_count(restore_threads):
    blas = _kernels_openblas()
    for n in (2, 1, 2):
        threads.set_num_threads(n)
        assert blas.get_num_threads() == 1
        assert threads.threading_info()[0]["kernels_blas_threads"] == 1


def test_kernels_blas_is_pinned_again_before_a_product(restore_threads):
    # threadpoolctl.threadpool_limits(2, "blas") raises every BLAS, the
    # kernels' one included; the next product takes it back to one thread.
    blas = _kernels_openblas()
    threads.set_num_threads(2)
    blas.set_num_threads(2)
    assert openmp_helpers.kernels_blas_threads() == 2
    a = np.random.default_rng(0).standard_normal((64, 48)).astype(np.float32)
    np.testing.assert_allclose(blas_kernels.gemm_arrays(a.T, a), a.T @ a, rtol=1e-4, atol=1e-4)
    assert blas.get_num_threads() == 1


def test_other_blas_pools_follow_set_num_threads(restore_threads):
    for n in (1, 2):
        threads.set_num_threads(n)
        others = _numpy_blas_threads()
        if not others:
            pytest.skip("no BLAS besides the kernels' is loaded")
        assert set(others.values()) == {n}


def test_threading_info_lists_jitcore_openmp_and_blas(restore_threads):
    threads.set_num_threads(1)
    info = threads.threading_info()
    first = info[0]
    assert first["user_api"] == "jitcore" and first["num_threads"] == 1
    assert first["calls_in_flight"] == 0 and first["fork_state"] == "none"
    assert first["parallel_grain"] == openmp_helpers.get_parallel_grain()
    pytest.importorskip("threadpoolctl")
    apis = {entry["user_api"] for entry in info[1:]}
    assert "blas" in apis
    if openmp_helpers.openmp_enabled():
        assert "openmp" in apis
    assert {e["num_threads"] for e in info[1:] if e["user_api"] == "blas"} == {1}


_REPORT_WAIT_POLICY = (
    "import os, jitcore.threads as t; "
    "print(t.threading_info()[0]['wait_policy']); print(os.environ.get('GOMP_SPINCOUNT'))")


def _wait_policy_in_fresh_process(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(env_overrides)
    out = subprocess.run([sys.executable, "-c", _REPORT_WAIT_POLICY], env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    return out.stdout.split("\n")[:2]


def test_default_spin_count_is_set_only_when_the_user_chose_no_wait_policy():
    policy, spincount = _wait_policy_in_fresh_process()
    if policy.startswith("runtime default"):
        pytest.skip("OpenMP was loaded before jitcore.threads in this build: " + policy)
    assert policy == f"jitcore default (GOMP_SPINCOUNT={threads.DEFAULT_GOMP_SPINCOUNT})"
    assert spincount == threads.DEFAULT_GOMP_SPINCOUNT
    policy, spincount = _wait_policy_in_fresh_process(OMP_WAIT_POLICY="PASSIVE")
    assert policy == "user (OMP_WAIT_POLICY=PASSIVE)" and spincount == "None"
    policy, spincount = _wait_policy_in_fresh_process(GOMP_SPINCOUNT="123")
    assert policy == "user (GOMP_SPINCOUNT=123)" and spincount == "123"
