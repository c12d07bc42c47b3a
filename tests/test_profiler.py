"""jitcore.profile (jitcore.profiler and its recorder, jitcore._runtime.profiling)."""

import json
import threading
import time

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore.ir import parse_graph
from jitcore.profiler import CALL_EVENT

STRAIGHT = """graph(%x : Float(2, 3), %y : Float(2, 3)):
  %one : int = prim::Constant[value=1]()
  %a : Float(2, 3) = aten::add(%x, %y, %one)
  %b : Float(2, 3) = aten::relu(%a)
  %c : Float(2, 3) = aten::mul(%b, %x)
  return (%c)
"""

LOOP = """graph(%x : Float(4), %n : int):
  %go : bool = prim::Constant[value=1]()
  %half : float = prim::Constant[value=0.5]()
  %y : Float(4) = prim::Loop(%n, %go, %x)
    block0(%i : int, %acc : Float(4)):
      %m : Float(4) = aten::mul(%acc, %half)
      %t : Float(4) = aten::tanh(%m)
      -> (%go, %t)
  return (%y)
"""

IF = """graph(%x : Float(4), %c : bool):
  %y : Float(4) = prim::If(%c)
    block0():
      %a : Float(4) = aten::exp(%x)
      -> (%a)
    block1():
      %b : Float(4) = aten::neg(%x)
      %d : Float(4) = aten::abs(%b)
      -> (%d)
  return (%y)
"""


def _ops(prof):
    """The recorded ops without their overload names (``aten::add.Tensor`` -> ``aten::add``)."""
    return [e.name.split(".")[0] for e in prof.events if e.name != CALL_EVENT]


def _executed_instructions(code):
    return [d["op"] for d in code.instructions() if d["opcode"] in ("kernel", "call")]


def test_one_event_per_executed_node_inside_one_call_event():
    code = lower(parse_graph(STRAIGHT))
    x = np.ones((2, 3), np.float32)
    with jitcore.profile() as prof:
        execute(code, [x, x])
    call, *nodes = prof.events
    assert call.name == CALL_EVENT and call.depth == 0
    assert [e.name for e in nodes] == _executed_instructions(code)
    assert _ops(prof) == ["aten::add", "aten::relu", "aten::mul"]
    for e in nodes:
        assert e.depth == 1 and e.thread == threading.get_ident()
        assert call.start_us <= e.start_us <= e.end_us <= call.end_us
    assert [e.input_shapes for e in nodes] == [((2, 3), (2, 3), None), ((2, 3),), ((2, 3), (2, 3))]
    assert call.self_us == pytest.approx(call.duration_us - sum(e.duration_us for e in nodes))
    assert call.call[0] == 1 and all(e.call is None for e in nodes)


@pytest.mark.parametrize("trips", [0, 1, 5])
def test_a_loop_records_each_iteration(trips):
    code = lower(parse_graph(LOOP))
    with jitcore.profile() as prof:
        execute(code, [np.ones(4), trips])
    assert _ops(prof) == ["aten::mul", "aten::tanh"] * trips


@pytest.mark.parametrize("condition, expected", [(True, ["aten::exp"]), (False, ["aten::neg", "aten::abs"])])
def test_an_if_records_the_branch_taken(condition, expected):
    code = lower(parse_graph(IF))
    with jitcore.profile() as prof:
        execute(code, [np.ones(4), condition])
    assert _ops(prof) == expected


def test_nothing_is_recorded_outside_the_block_and_profiles_do_not_nest():
    code = lower(parse_graph(STRAIGHT))
    x = np.ones((2, 3), np.float32)
    with jitcore.profile() as prof:
        with pytest.raises(RuntimeError, match="do not nest"):
            with jitcore.profile():
                pass
    execute(code, [x, x])
    assert prof.events == []
    with prof:                      # entering again adds to the same profile
        execute(code, [x, x])
    with prof:
        execute(code, [x, x])
    assert _ops(prof) == ["aten::add", "aten::relu", "aten::mul"] * 2


class _MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return self.fc2(nn.functional.relu(self.fc1(x)))


def _traced(width=16, batch=4):
    nn.init.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((batch, width)).astype(np.float32)
    model = jitcore.trace(_MLP(width).eval(), (x,))
    model(x)            # the plan is built before profiling
    return model, x


def test_chrome_trace_validates(tmp_path):
    model, x = _traced()
    with jitcore.profile() as prof:
        for _ in range(3):
            model(x)
    path = tmp_path / "trace.json"
    assert prof.export_chrome_trace(path) == str(path)
    trace = json.loads(path.read_text())
    assert set(trace) >= {"traceEvents", "displayTimeUnit"}
    complete = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    metadata = [e for e in trace["traceEvents"] if e["ph"] == "M"]
    assert len(complete) == len(prof.events)
    for e in complete:
        assert set(e) >= {"name", "cat", "ph", "ts", "dur", "pid", "tid", "args"}
        assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0 and isinstance(e["tid"], int)
        assert isinstance(e["args"]["input_shapes"], list)
    assert sum(e["name"] == CALL_EVENT for e in complete) == 3
    for e in complete:
        if e["name"] == CALL_EVENT:
            assert e["args"]["calls_in_flight"] == 1 and e["args"]["openmp"] in ("pool", "serial", None)
        else:
            assert "calls_in_flight" not in e["args"]
    # one complete event per node the plan executes, per call
    nodes = [e["name"] for e in complete if e["name"] != CALL_EVENT]
    assert len(nodes) % 3 == 0 and nodes[:len(nodes) // 3] * 3 == nodes
    plan = model.executor().plan_for(x)
    assert nodes[:len(nodes) // 3] == _executed_instructions(plan.code)
    lanes = {e["tid"] for e in complete}
    names = {e["tid"]: e["args"]["name"] for e in metadata if e["name"] == "thread_name"}
    assert set(names) == lanes and names[0] == threading.current_thread().name


def test_the_numbers_add_up_to_the_calls_wall_time():
    """Tolerance: each call event lies within the wall time measured around the Python call
    and, for kernels of ~1 ms, covers at least 50% of it (the rest is the Python call path);
    its nodes are within it and, in the median call, cover at least 80% of it (the rest is the
    interpreter loop and the recorder)."""
    model, x = _traced(width=256, batch=256)
    walls = []
    with jitcore.profile() as prof:
        for _ in range(9):
            start = time.perf_counter()
            model(x)
            walls.append((time.perf_counter() - start) * 1e6)
    calls = [e for e in prof.events if e.name == CALL_EVENT]
    assert len(calls) == 9
    covered = []
    for call, wall in zip(calls, walls):
        nodes = [e for e in prof.events if e.depth == 1 and call.start_us <= e.start_us <= call.end_us]
        inside = sum(e.duration_us for e in nodes)
        assert all(e.end_us <= call.end_us for e in nodes)
        assert inside <= call.duration_us + 1e-3
        assert call.duration_us <= wall + 1.0          # one clock, a microsecond of rounding
        covered.append((inside / call.duration_us, call.duration_us / wall))
    assert np.median([c[0] for c in covered]) >= 0.8
    assert np.median([c[1] for c in covered]) >= 0.5
    table_total = sum(r["total_us"] for r in prof.key_averages() if r["name"] == CALL_EVENT)
    assert table_total == pytest.approx(sum(c.duration_us for c in calls))


def test_concurrent_calls_from_two_threads_land_in_two_lanes():
    model, x = _traced()
    barrier = threading.Barrier(2)

    def caller():
        barrier.wait()
        for _ in range(20):
            model(x)

    threads = [threading.Thread(target=caller, name=f"caller-{k}") for k in range(2)]
    with jitcore.profile() as prof:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lanes = prof.lanes()
    assert sorted(name for _, name in lanes.values()) == ["caller-0", "caller-1"]
    trace = prof.chrome_trace()
    tids = {e["tid"] for e in trace["traceEvents"] if e["ph"] == "X"}
    assert tids == {0, 1}
    for thread in {t.ident for t in threads}:
        mine = [e for e in prof.events if e.thread == thread]
        assert sum(e.name == CALL_EVENT for e in mine) == 20
        # in one lane, the events nest: a call's nodes end before the next call starts
        calls = [e for e in mine if e.name == CALL_EVENT]
        for before, after in zip(calls, calls[1:]):
            assert before.end_us <= after.start_us


def test_table_summarises_per_op():
    model, x = _traced()
    with jitcore.profile() as prof:
        for _ in range(4):
            model(x)
    text = prof.table(sort_by="total")
    lines = text.splitlines()
    assert lines[1].split()[:3] == ["Name", "Self", "%"]
    assert "# Calls" in lines[1]
    assert lines[3].split()[0] == CALL_EVENT            # the largest total: the calls themselves
    assert lines[3].split()[-1] == "4"
    rows = prof.key_averages()
    assert {r["name"] for r in rows} == {e.name for e in prof.events}
    assert sum(r["count"] for r in rows) == len(prof.events)
    by_shape = prof.table(sort_by="count", row_limit=2, group_by_input_shape=True)
    assert "Input shapes" in by_shape and "[4, 16]" in by_shape
    assert len(by_shape.splitlines()) == 2 + 1 + 2 + 2
    with pytest.raises(ValueError, match="sort_by must be one of"):
        prof.table(sort_by="speed")


def test_failing_calls_leave_the_recorder_consistent():
    code = lower(parse_graph("""graph(%a : Tensor, %b : Tensor):
  %y : Tensor = aten::matmul(%a, %b)
  %z : Tensor = aten::relu(%y)
  return (%z)"""))
    with jitcore.profile() as prof:
        with pytest.raises(jitcore.KernelError):
            execute(code, [np.ones((2, 3)), np.ones((4, 5))])
        execute(code, [np.ones((2, 3)), np.ones((3, 5))])
    names = [(e.name.split(".")[0], e.depth) for e in prof.events]
    assert names == [(CALL_EVENT, 0), ("aten::matmul", 1), (CALL_EVENT, 0), ("aten::matmul", 1),
                     ("aten::relu", 1)]


def test_a_call_instruction_nests_its_callee_events():
    inner = parse_graph("""graph(%x : Float(4)):
  %y : Float(4) = aten::relu(%x)
  %z : Float(4) = aten::neg(%y)
  return (%z)
""")
    outer = parse_graph("""graph(%x : Float(4)):
  %y : Float(4) = prim::CallFunction[name="inner"](%x)
  %w : Float(4) = aten::exp(%y)
  return (%w)
""")
    code = lower(outer, {"inner": inner})
    with jitcore.profile() as prof:
        execute(code, [np.ones(4, np.float32)])
    assert [(e.name.split("[")[0].split(".")[0], e.depth) for e in prof.events] == [
        (CALL_EVENT, 0), ("prim::CallFunction", 1), ("aten::relu", 2), ("aten::neg", 2), ("aten::exp", 1)]
    call, function, relu, neg, _ = prof.events
    assert function.start_us <= relu.start_us and neg.end_us <= function.end_us
    assert function.self_us == pytest.approx(function.duration_us - relu.duration_us - neg.duration_us)
