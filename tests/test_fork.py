"""Compiled calls in processes: a forked child (GNU OpenMP's pool does not survive fork), spawn."""

import ast
import multiprocessing
import os
import select
import subprocess
import sys

import numpy as np
import pytest

import jitcore
from jitcore import threads
from jitcore._runtime import openmp_helpers

CHILD_TIMEOUT = 120.0
# A spawned interpreter imports jitcore afresh; an editable install may rebuild first.
SPAWN_TIMEOUT = 600.0

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@jitcore.script
def scaled_sum(x):
    return (x * 2.0 + 1.0).sum()


def _big_input():
    # Far above the parallel grain, so the parent's call starts the OpenMP pool.
    return np.linspace(-1.0, 1.0, 50 * openmp_helpers.get_parallel_grain(), dtype=np.float32)


def _run_in_forked_child(child_body):
    """Fork; run ``child_body()`` in the child; return what it wrote, or fail on a hang.

    The child reports through a pipe and exits with ``os._exit``; the parent
    waits at most CHILD_TIMEOUT seconds and kills a child that hangs.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child
        os.close(read_end)
        code = 0
        try:
            os.write(write_end, repr(child_body()).encode())
        except BaseException as e:                 # noqa: BLE001  (reported to the parent)
            os.write(write_end, f"error {type(e).__name__}: {e}".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], CHILD_TIMEOUT)
    if not ready:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(read_end)
        pytest.fail(f"the forked child did not answer within {CHILD_TIMEOUT} s (OpenMP hang?)")
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
    return text


def test_call_in_forked_child_after_the_parent_started_the_pool(two_threads):
    x = _big_input()
    expected = scaled_sum(x)
    openmp_helpers._parallel_thread_ids(2)       # the pool certainly exists now

    def child():
        return (float(scaled_sum(x)), openmp_helpers.fork_state(), threads.get_num_threads())

    value, state, n = ast.literal_eval(_run_in_forked_child(child))
    assert value == float(expected)
    assert state == "serial-pool-lost" and n == 1


def test_set_num_threads_in_the_child_cannot_revive_a_lost_pool(two_threads):
    openmp_helpers._parallel_thread_ids(2)
    x = _big_input()

    def child():
        threads.set_num_threads(2)
        return (float(scaled_sum(x)), openmp_helpers.region_threads(10 ** 7))

    value, region = ast.literal_eval(_run_in_forked_child(child))
    assert value == float(scaled_sum(x)) and region == 1


def _spawned_call(x):
    # Runs in a fresh interpreter (spawn): compiles and calls there.
    return float(scaled_sum(x)), threads.get_num_threads(), openmp_helpers.fork_state()


def test_call_in_a_spawned_process_uses_parallel_kernels():
    x = _big_input()
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        value, n, state = pool.apply_async(_spawned_call, (x,)).get(SPAWN_TIMEOUT)
    assert value == float(scaled_sum(x))
    assert state == "none" and n >= 1


def test_forked_child_state_is_reported_in_threading_info():
    def child():
        info = threads.threading_info()[0]
        return (info["fork_state"], info["calls_in_flight"])

    state, in_flight = ast.literal_eval(_run_in_forked_child(child))
    assert state in ("serial-until-set", "serial-pool-lost") and in_flight == 0



_FORK_BEFORE_ANY_PARALLEL_REGION = '''
import os, numpy as np
import jitcore.threads as threads
from jitcore._runtime import openmp_helpers
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
square = compile_graph(parse_graph("""graph(%x : Float(2000000)):
  %s : Tensor = aten::mul(%x, %x)
  return (%s)"""))
pid = os.fork()
if pid == 0:
    before = (openmp_helpers.fork_state(), threads.get_num_threads())
    threads.set_num_threads(2)
    after = (openmp_helpers.fork_state(), openmp_helpers.region_threads(10 ** 7))
    ok = bool((square(np.full(2000000, 3.0, np.float32)) == 9.0).all())
    print(before, after, ok, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
'''


def test_child_forked_before_any_parallel_region_can_opt_back_in():
    # A fresh process that never ran a parallel region: its child starts
    # serial, and set_num_threads there brings the parallel kernels back.
    out = subprocess.run([sys.executable, "-c", _FORK_BEFORE_ANY_PARALLEL_REGION],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip().splitlines()[-1]
    assert line == "('serial-until-set', 1) ('none', 2) True", out.stdout + out.stderr


def test_fork_while_other_threads_allocate_leaves_the_allocator_usable():
    # Threads keep the allocator's pool mutex busy without the GIL (their calls'
    # 400 KB outputs come from the shared pool) while the main thread forks; a
    # child that inherited the mutex locked (or its free lists half-updated) would hang.
    import threading
    from jitcore._runtime import allocator
    stop = threading.Event()
    big = np.ones(100_000, np.float32)
    double = jitcore.trace(lambda x: x * 2.0 + 1.0, big)
    double(big)

    def churn():
        while not stop.is_set():
            double(big)

    workers = [threading.Thread(target=churn) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for _ in range(5):
            out = _run_in_forked_child(lambda: (allocator._alloc_free_cycle(100_000, 8),
                                                float(scaled_sum(np.ones(64, np.float32)))))
            assert out == "(True, 192.0)"
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
