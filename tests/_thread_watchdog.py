"""Run callables on threads with a deadline: a hang fails the test instead of stalling CI."""

import faulthandler
import sys
import threading
import time


def run_on_threads(work, n_threads, timeout):
    """Call ``work(i)`` on ``n_threads`` threads at once; return their results in order.

    All threads start together (a barrier) so that the calls overlap.  An
    exception in any thread is re-raised here; a thread still running after
    ``timeout`` seconds fails the test with every thread's stack printed.

    Parameters
    ----------
    work : callable
        ``work(thread_index) -> result``.
    n_threads : int
    timeout : float
        Seconds for all threads together.
    """
    barrier = threading.Barrier(n_threads)
    results = [None] * n_threads
    errors = []

    def body(i):
        try:
            barrier.wait(timeout)
            results[i] = work(i)
        except BaseException as e:      # re-raised in the test's thread
            errors.append((i, e))

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n_threads)]
    # A stack dump shortly before the deadline shows where a deadlock sits.
    faulthandler.dump_traceback_later(timeout * 0.95, exit=False, file=sys.stderr)
    try:
        deadline = time.monotonic() + timeout
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
    finally:
        faulthandler.cancel_dump_traceback_later()
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    if stuck:
        raise AssertionError(f"threads {stuck} still running after {timeout} s (deadlock?)")
    if errors:
        i, e = errors[0]
        raise AssertionError(f"thread {i} failed: {type(e).__name__}: {e}") from e
    return results
