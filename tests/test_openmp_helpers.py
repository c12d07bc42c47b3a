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
