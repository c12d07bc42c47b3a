"""The runtime must be built with OpenMP (opt out with JITCORE_ALLOW_NO_OPENMP=1)."""

import os

import pytest

from jitcore._runtime import openmp_helpers


def test_runtime_was_built_with_openmp():
    if os.environ.get("JITCORE_ALLOW_NO_OPENMP") == "1":
        pytest.skip("JITCORE_ALLOW_NO_OPENMP=1: a build without OpenMP is accepted")
    assert openmp_helpers.openmp_enabled(), (
        "jitcore's runtime was compiled without OpenMP; reinstall with an OpenMP-capable "
        "compiler or set JITCORE_ALLOW_NO_OPENMP=1 to accept a serial build")


def test_parallel_region_uses_the_requested_threads():
    if not openmp_helpers.openmp_enabled():
        pytest.skip("serial build")
    ids = openmp_helpers._parallel_thread_ids(2)
    assert sorted(ids) == [0, 1]


def test_thread_count_setting_round_trips_and_rejects_nonsense():
    old = openmp_helpers.get_num_threads()
    try:
        openmp_helpers.set_num_threads(1)
        assert openmp_helpers.get_num_threads() == 1
        with pytest.raises(ValueError, match="positive thread count, got 0"):
            openmp_helpers.set_num_threads(0)
    finally:
        openmp_helpers.set_num_threads(old)


def test_parallel_grain_setting():
    old = openmp_helpers.get_parallel_grain()
    try:
        openmp_helpers.set_parallel_grain(10)
        assert openmp_helpers.get_parallel_grain() == 10
        with pytest.raises(ValueError, match="must be positive"):
            openmp_helpers.set_parallel_grain(0)
    finally:
        openmp_helpers.set_parallel_grain(old)


def test_kernels_called_inside_a_region_run_serial():
    # A GEMM per image or per attention head runs inside its caller's region;
    # the threads are already taken, so it must not ask for a nested team.
    if not openmp_helpers.openmp_enabled():
        pytest.skip("serial build")
    old = openmp_helpers.get_num_threads()
    try:
        openmp_helpers.set_num_threads(2)
        big = 100 * openmp_helpers.get_parallel_grain()
        assert openmp_helpers.region_threads(big) == 2
        assert openmp_helpers._region_threads_inside_region(big) == [1, 1]
    finally:
        openmp_helpers.set_num_threads(old)


def test_contention_guard_keeps_the_faster_mode_and_follows_a_change(two_threads):
    # synthetic call times: the pool is twice as fast, then (calls 300-599,
    # another process on the second core) ten times slower than serial, then fast again
    pool = [1.0] * 300 + [20.0] * 300 + [1.0] * 300
    serial = [2.0] * 900
    modes = openmp_helpers._simulate_guard(pool, serial)
    quiet, busy, after = modes[:300], modes[300:600], modes[600 + 256:]
    assert quiet.count(1) <= 6                   # serial only as probes, backing off
    assert busy[:2] == [0, 0] and busy[2] == 1   # two slow pool calls make it look at once
    assert busy[2:].count(0) <= 12               # then serial; the pool probed (2 calls a probe)
    assert after.count(1) <= 3                   # within 256 calls a probe finds the pool fast
    assert -1 not in modes


def test_contention_guard_ignores_isolated_spikes(two_threads):
    # the pool is faster, but every 15th call stalls (a GC pause, page faults):
    # such a call is not contention, so serial runs only as the backed-off probes
    pool = [8.0 if i % 15 == 14 else 1.0 for i in range(2000)]
    serial = [1.5] * 2000
    modes = openmp_helpers._simulate_guard(pool, serial)
    assert modes[:7] == [0] * 7                  # the first probe is the 8th call
    assert modes.count(1) <= 12                  # probes at 8, 16, 32, ... 256 calls apart
    assert modes[-300:].count(1) <= 2


def test_contention_guard_times_only_single_callers_and_can_be_turned_off(two_threads):
    assert openmp_helpers.contention_guard_enabled()
    try:
        openmp_helpers.set_contention_guard(False)
        assert openmp_helpers._simulate_guard([1.0] * 5, [2.0] * 5) == [-1] * 5
    finally:
        openmp_helpers.set_contention_guard(True)
    openmp_helpers.set_num_threads(1)
    assert openmp_helpers._simulate_guard([1.0] * 5, [2.0] * 5) == [-1] * 5


def test_guarded_calls_give_the_same_bits_in_either_mode(two_threads):
    import numpy as np
    import jitcore
    rng = np.random.default_rng(4)
    w = rng.standard_normal((256, 512)).astype(np.float32)
    x = rng.standard_normal((64, 512)).astype(np.float32)
    fn = jitcore.trace(lambda x, w: np.tanh(x @ w.T) * 2.0 + x.sum(), (x, w))
    first = fn(x, w)
    # enough calls for the guard to probe the serial mode several times
    results = [fn(x, w) for _ in range(40)]
    for r in results:
        np.testing.assert_array_equal(r, first)
    plan = fn.executor.dispatcher.last_plan
    state = plan.code.thread_guard()
    assert state["calls"] >= 40 and state["serial_seconds"] > 0 and state["pool_seconds"] > 0


@pytest.mark.parametrize("how", ["daemon", "interrupt"])
def test_exit_with_calls_in_flight_does_not_crash(how):
    import os
    import subprocess
    import sys
    probe = os.path.join(os.path.dirname(__file__), "_exit_probe.py")
    # the crash was a race (7 of 8 runs): three runs make a miss unlikely
    for _ in range(3):
        done = subprocess.run([sys.executable, probe, how], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
        assert "exiting with 2 calls in flight" in done.stdout
        if how == "interrupt":
            assert "interrupted" in done.stdout


def test_calls_that_start_after_exit_began_never_run():
    import subprocess
    import sys
    # after the exit hook, a new call parks its (daemon) thread: the process
    # still ends, promptly, and the call's result never appears
    code = """if 1:
        import threading, time, numpy as np, jitcore
        from jitcore._runtime import openmp_helpers
        f = jitcore.trace(lambda x: x * 2.0, (np.ones(3),))
        assert openmp_helpers.wait_for_calls_at_exit(1.0) == 0
        threading.Thread(target=lambda: print("ran", f(np.ones(3))), daemon=True).start()
        time.sleep(0.3)
        print("done")
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["done"]
