"""Memory planning: slot assignment from live ranges, and the per-frame arena at run time."""

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore._runtime import allocator
from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore._runtime.memory_planning import LiveRange, assign_slots
from jitcore.ir import parse_graph
from jitcore.reference_interpreter import run_graph

# ------------------------------------------------------------ assign_slots


def _overlap(a, b):
    return a.start <= b.end and b.start <= a.end


def test_disjoint_ranges_share_a_slot():
    sizes, slot = assign_slots([LiveRange("a", 0, 1, 100), LiveRange("b", 2, 3, 100)])
    assert sizes == [100]
    assert slot == {"a": 0, "b": 0}


def test_a_value_never_takes_the_slot_of_an_operand_dying_at_its_definition():
    # b is defined by instruction 1, which still reads a (released after 1)
    sizes, slot = assign_slots([LiveRange("a", 0, 1, 64), LiveRange("b", 1, 2, 64)])
    assert slot["a"] != slot["b"]
    assert sizes == [64, 64]


def test_best_fit_picks_the_smallest_free_slot_that_fits():
    ranges = [LiveRange("big", 0, 1, 1000), LiveRange("small", 0, 1, 10),
              LiveRange("x", 2, 3, 8)]
    sizes, slot = assign_slots(ranges)
    assert slot["x"] == slot["small"]
    assert sorted(sizes) == [10, 1000]


def test_a_free_slot_grows_rather_than_a_new_one_opening():
    sizes, slot = assign_slots([LiveRange("a", 0, 0, 10), LiveRange("b", 1, 1, 50)])
    assert sizes == [50]
    assert slot["a"] == slot["b"] == 0


def test_invalid_ranges_are_rejected():
    with pytest.raises(ValueError, match="ends"):
        LiveRange("a", 3, 2, 8)
    with pytest.raises(ValueError, match="negative"):
        LiveRange("a", 0, 2, -1)


def test_random_ranges_never_share_a_slot_while_both_live():
    rng = np.random.default_rng(7)
    for _ in range(200):
        ranges = []
        for k in range(int(rng.integers(1, 25))):
            start = int(rng.integers(0, 40))
            ranges.append(LiveRange(k, start, start + int(rng.integers(0, 10)),
                                    int(rng.integers(0, 5000))))
        sizes, slot = assign_slots(ranges)
        for a in ranges:
            assert sizes[slot[a.key]] >= a.nbytes
            for b in ranges:
                if a.key < b.key and slot[a.key] == slot[b.key]:
                    assert not _overlap(a, b), (a, b)
        assert sum(sizes) <= sum(r.nbytes for r in ranges)


# ------------------------------------------------------------ the arena at run time

CHAIN = """graph(%x : Float(16, 16)):
  %a : Float(16, 16) = aten::relu(%x)
  %b : Float(16, 16) = aten::exp(%a)
  %c : Float(16, 16) = aten::neg(%b)
  %d : Float(16, 16) = aten::tanh(%c)
  %e : Float(16, 16) = aten::sigmoid(%d)
  %f : Float(16, 16) = aten::neg(%e)
  return (%f)"""


def _intermediate_bytes(code):
    plan = code.memory_plan()
    return sum(plan["value_bytes"].values()), plan


def test_a_chain_reuses_two_slots_for_five_intermediates():
    code = lower(parse_graph(CHAIN))
    total, plan = _intermediate_bytes(code)
    assert len(plan["planned"]) == 5            # every instruction but the output's
    assert total == 5 * 16 * 16 * 4
    assert plan["arena_bytes"] == 2 * 16 * 16 * 4
    assert plan["arena_bytes"] < total


def test_planned_chain_matches_the_reference_interpreter():
    g = parse_graph(CHAIN)
    x = np.random.default_rng(0).standard_normal((16, 16)).astype(np.float32)
    got = execute(lower(g), [x])[0]
    np.testing.assert_allclose(got, run_graph(g, [x])[0], rtol=1e-6)


def test_steady_calls_allocate_only_their_output():
    code = lower(parse_graph(CHAIN))
    x = np.ones((16, 16), np.float32)
    for _ in range(3):
        execute(code, [x])
    before = allocator.allocator_stats()
    for _ in range(40):
        execute(code, [x])
    after = allocator.allocator_stats()
    assert after["requests"] - before["requests"] == 40          # the output, nothing else
    assert after["system_allocations"] == before["system_allocations"]


def test_outputs_never_alias_the_arena_of_a_later_call():
    # %v is a view of an arena value; it leaves as a copy, so call 2 cannot change call 1's result
    g = parse_graph("""graph(%x : Float(4, 4)):
  %shape : int[] = prim::Constant[value=[16]]()
  %a : Float(4, 4) = aten::exp(%x)
  %v : Float(16) = aten::reshape(%a, %shape)
  return (%v)""")
    code = lower(g)
    assert code.memory_plan()["planned"]
    x1 = np.zeros((4, 4), np.float32)
    x2 = np.ones((4, 4), np.float32)
    y1 = execute(code, [x1])[0]
    y2 = execute(code, [x2])[0]
    np.testing.assert_array_equal(y1, np.ones(16, np.float32))
    np.testing.assert_allclose(y2, np.full(16, np.e, np.float32), rtol=1e-6)
    assert not np.shares_memory(y1, y2)


def test_a_view_that_outlives_its_register_keeps_the_slot_busy():
    # %a dies at the reshape, but %v (its view) lives on: %c, planned into %a's
    # slot, must not overwrite it while %v is still read
    g = parse_graph("""graph(%x : Float(4, 4)):
  %shape : int[] = prim::Constant[value=[16]]()
  %one : int = prim::Constant[value=1]()
  %a : Float(4, 4) = aten::exp(%x)
  %v : Float(16) = aten::reshape(%a, %shape)
  %b : Float(16) = aten::neg(%v)
  %c : Float(16) = aten::neg(%b)
  %d : Float(16) = aten::add(%c, %v, %one)
  return (%d)""")
    x = np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32)
    got = execute(lower(g), [x])[0]
    np.testing.assert_allclose(got, 2 * np.exp(x).reshape(16), rtol=1e-6)


def _deep_mlp():
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 32), nn.ReLU(),
                          nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    return model, x


def test_mlp_arena_is_smaller_than_its_intermediates():
    model, x = _deep_mlp()
    traced = jitcore.trace(model, (x,))
    np.testing.assert_allclose(traced(x), model(x), rtol=1e-5, atol=1e-6)
    plan = traced.executor("forward").dispatcher.last_plan
    total, layout = _intermediate_bytes(plan.code)
    assert len(layout["planned"]) >= 3
    assert layout["arena_bytes"] < total


def test_mlp_steady_calls_allocate_only_the_output():
    model, x = _deep_mlp()
    frozen = jitcore.optimize_for_inference(jitcore.trace(model, (x,)))
    expected = model(x)
    for _ in range(3):
        frozen(x)
    before = allocator.allocator_stats()
    for _ in range(30):
        frozen(x)
    after = allocator.allocator_stats()
    assert after["requests"] - before["requests"] == 30     # one output block per call
    assert after["system_allocations"] == before["system_allocations"]
    results = [frozen(x) for _ in range(10)]
    for y in results:           # every result intact after the later calls
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_dynamic_shape_graphs_are_not_planned():
    g = parse_graph("""graph(%x : Float(*, 4)):
  %a : Float(*, 4) = aten::relu(%x)
  %b : Float(*, 4) = aten::neg(%a)
  return (%b)""")
    code = lower(g)
    assert code.memory_plan()["arena_bytes"] == 0
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(execute(code, [x])[0], -x)


PLANNED_CONTROL_FLOW = """graph(%x : Float(2, 3), %n : int):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %true : bool = prim::Constant[value=1]()
  %c : bool = aten::gt(%n, %zero)
  %y : Float(2, 3) = prim::If(%c)
    block0():
      %a : Float(2, 3) = aten::relu(%x)
      %a2 : Float(2, 3) = aten::exp(%a)
      -> (%a2)
    block1():
      %b : Float(2, 3) = aten::neg(%x)
      -> (%b)
  %z : Float(2, 3) = prim::Loop(%n, %true, %y)
    block0(%i : int, %acc : Float(2, 3)):
      %s : Float(2, 3) = aten::add(%acc, %x, %one)
      %u : Float(2, 3) = aten::tanh(%s)
      %t : Float(2, 3) = aten::mul(%u, %i)
      -> (%true, %t)
  %w : Float(2, 3) = aten::sigmoid(%z)
  %out : Float(2, 3) = aten::neg(%w)
  return (%out)"""


@pytest.mark.parametrize("n", [0, 1, 4])
def test_planned_branches_and_loops_match_the_reference(n):
    g = parse_graph(PLANNED_CONTROL_FLOW)
    code = lower(g)
    assert code.memory_plan()["planned"]
    x = np.random.default_rng(n).standard_normal((2, 3)).astype(np.float32)
    expected = run_graph(g, [x, n])[0]
    for _ in range(3):      # later calls reuse the frame's arena
        np.testing.assert_allclose(execute(code, [x, n])[0], expected, rtol=1e-6, atol=1e-7)
