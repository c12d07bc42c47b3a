"""The caching allocator: alignment, size classes, reuse."""

import sys

import numpy as np
import pytest

from jitcore._runtime import allocator
from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore.ir import parse_graph


def test_blocks_are_64_byte_aligned():
    for size in (0, 1, 63, 64, 65, 1000, 4096, 100_003):
        assert allocator._alloc_free_cycle(size, 3)


def test_size_classes_round_up_by_at_most_a_quarter():
    for n in [1, 64, 65, 200, 257, 511, 513, 1000, 12345, 10**6, 10**8]:
        r = allocator.rounded_size(n)
        assert r >= n and r % 64 == 0
        if n > 256:
            assert r <= n * 1.25 + 64


def test_freed_blocks_are_reused():
    allocator._alloc_free_cycle(5000, 4)
    before = allocator.allocator_stats()
    allocator._alloc_free_cycle(5000, 4)
    after = allocator.allocator_stats()
    assert after["cache_hits"] - before["cache_hits"] >= 4
    assert after["system_allocations"] == before["system_allocations"]


def test_steady_calls_do_not_malloc_intermediates():
    g = parse_graph("""graph(%x : Float(8, 8)):
  %a : Tensor = aten::relu(%x)
  %b : Tensor = aten::exp(%a)
  %c : Tensor = aten::mul(%b, %a)
  %none : NoneType = prim::Constant()
  %d : Tensor = aten::sum(%c, %none)
  return (%d)""")
    code = lower(g)
    x = np.ones((8, 8), np.float32)
    for _ in range(3):
        execute(code, [x])
    before = allocator.allocator_stats()
    for _ in range(50):
        execute(code, [x])
    after = allocator.allocator_stats()
    assert after["requests"] - before["requests"] >= 50 * 4
    assert after["system_allocations"] == before["system_allocations"]


def test_huge_page_policy_is_advised_on_linux():
    policy = allocator.huge_page_policy()
    assert policy["advised"] == sys.platform.startswith("linux")
    assert policy["min_bytes"] == 4 << 20 and policy["alignment"] == 2 << 20


@pytest.mark.skipif(not allocator.huge_page_policy()["advised"], reason="huge pages are advised on Linux only")
def test_large_blocks_are_aligned_to_the_huge_page_size():
    allocator.clear_pool()     # fresh blocks from the system, not cached ones
    for nbytes in (4 << 20, 16_000_000, 33 << 20):
        assert allocator._block_address(nbytes) % (2 << 20) == 0
    allocator.clear_pool()


def test_large_outputs_are_reused_across_calls():
    # 4M float32 elements: a 16 MB output, above the huge-page threshold; a
    # steady stream of such calls must not go back to the system per call.
    g = parse_graph("""graph(%x : Float(4000000), %y : Float(4000000)):
  %one : int = prim::Constant[value=1]()
  %z : Tensor = aten::add(%x, %y, %one)
  return (%z)""")
    code = lower(g)
    x = np.ones(4_000_000, np.float32)
    execute(code, [x, x])
    before = allocator.allocator_stats()
    for _ in range(5):
        (out,) = execute(code, [x, x])
        assert out[0] == 2.0 and out[-1] == 2.0
        del out
    after = allocator.allocator_stats()
    assert after["cache_hits"] - before["cache_hits"] >= 5
    assert after["system_allocations"] == before["system_allocations"]


def test_pool_limit_and_clear():
    # the shared pool only: other live threads (earlier tests' idle workers) may keep
    # blocks in their own caches, which clear_pool leaves to them
    old = allocator.set_pool_limit(0)
    try:
        allocator._alloc_free_cycle(4096, 2)
        assert allocator.allocator_stats()["bytes_in_shared_pool"] == 0
    finally:
        allocator.set_pool_limit(old)
    allocator._alloc_free_cycle(4096, 2)
    allocator.clear_pool()
    assert allocator.allocator_stats()["bytes_in_shared_pool"] == 0


def _on_thread(fn):
    import threading
    errors = []

    def run():
        try:
            fn()
        except BaseException as e:      # surfaced below
            errors.append(e)
    th = threading.Thread(target=run)
    th.start()
    th.join(timeout=60)
    assert not th.is_alive()
    if errors:
        raise errors[0]


def test_requests_on_other_threads_are_counted_exactly():
    before = allocator.allocator_stats()
    for _ in range(3):
        _on_thread(lambda: allocator._alloc_free_cycle(3000, 5))
    after = allocator.allocator_stats()
    # each cycle also allocates its pointer table: 6 requests per cycle
    assert after["requests"] - before["requests"] == 3 * 6


def test_a_finished_threads_cached_blocks_serve_later_threads():
    import time
    pooled = allocator.allocator_stats()["bytes_in_pool"]
    _on_thread(lambda: allocator._alloc_free_cycle(20_000, 3))     # cached, then returned at exit
    # Thread.join() returns before the thread's TLS destructor hands its cache back
    deadline = time.monotonic() + 30
    while allocator.allocator_stats()["bytes_in_pool"] < pooled + 3 * 20_000:
        assert time.monotonic() < deadline, "the finished thread's blocks never reached the pool"
        time.sleep(0.001)
    before = allocator.allocator_stats()
    _on_thread(lambda: allocator._alloc_free_cycle(20_000, 3))
    after = allocator.allocator_stats()
    assert after["system_allocations"] == before["system_allocations"]
    assert after["cache_hits"] - before["cache_hits"] >= 3


def test_many_threads_allocate_and_free_concurrently():
    import threading
    ok = []
    before = allocator.allocator_stats()

    def work(size):
        aligned = all(allocator._alloc_free_cycle(size, 8) for _ in range(200))
        ok.append(aligned)

    threads = [threading.Thread(target=work, args=(size,)) for size in (64, 1000, 5000, 70_000)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert ok == [True] * 4
    after = allocator.allocator_stats()
    assert after["requests"] - before["requests"] == 4 * 200 * 9
