"""The nogil interpreter: control flow against the reference interpreter, errors, threads."""

import threading

import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore.ir import parse_graph
from jitcore._runtime import openmp_helpers
from jitcore._runtime.interpreter import execute
from jitcore._runtime.lowering import lower
from jitcore.reference_interpreter import run_graph

CONTROL_FLOW = """graph(%x : Float(2, 3), %n : int):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %true : bool = prim::Constant[value=1]()
  %c : bool = aten::gt(%n, %zero)
  %y : Tensor = prim::If(%c)
    block0():
      %a : Tensor = aten::relu(%x)
      -> (%a)
    block1():
      %b : Tensor = aten::neg(%x)
      -> (%b)
  %z : Tensor = prim::Loop(%n, %true, %y)
    block0(%i : int, %acc : Tensor):
      %s : Tensor = aten::add(%acc, %x, %one)
      %t : Tensor = aten::mul(%s, %i)
      -> (%true, %t)
  return (%z)"""

WHILE_LOOP = """graph(%x : Double(4)):
  %big : int = prim::Constant[value=9223372036854775807]()
  %limit : float = prim::Constant[value=100.0]()
  %two : float = prim::Constant[value=2.0]()
  %none : NoneType = prim::Constant()
  %s0 : Tensor = aten::sum(%x, %none)
  %v0 : float = aten::Float(%s0)
  %go : bool = aten::lt(%v0, %limit)
  %r : Tensor = prim::Loop(%big, %go, %x)
    block0(%i : int, %acc : Tensor):
      %d : Tensor = aten::mul(%acc, %two)
      %s : Tensor = aten::sum(%d, %none)
      %v : float = aten::Float(%s)
      %more : bool = aten::lt(%v, %limit)
      -> (%more, %d)
  return (%r)"""


@pytest.mark.parametrize("n", [0, 1, 4])
def test_if_and_for_loop_match_the_reference(n):
    g = parse_graph(CONTROL_FLOW)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    got = execute(lower(g), [x, n])[0]
    np.testing.assert_array_equal(got, run_graph(g, [x, n])[0])


def test_while_loop_matches_the_reference():
    g = parse_graph(WHILE_LOOP)
    x = np.array([0.5, 1.0, 1.5, 2.0])
    got = execute(lower(g), [x])[0]
    np.testing.assert_array_equal(got, run_graph(g, [x])[0])
    assert got.sum() >= 100


def test_dump_lists_jumps_releases_and_sources():
    text = lower(parse_graph(CONTROL_FLOW)).dump()
    assert "jump_if_false" in text and "loop_test" in text and "loop_next" in text
    assert "aten::relu(" in text and "; release" in text
    assert "const r0:%zero = 0" in text


def test_values_used_in_a_loop_live_until_the_loop_exits():
    code = lower(parse_graph(CONTROL_FLOW))
    instrs = code.instructions()
    x_reg = instrs[2]["inputs"][0]       # relu(%x)
    released_at = [d["pc"] for d in instrs if x_reg in d["release"]]
    loop_next = max(d["pc"] for d in instrs if d["opcode"] == "loop_next")
    assert released_at == [loop_next + 1]


def test_mismatched_matmul_names_the_op_shapes_and_source():
    g = parse_graph("""graph(%a : Tensor, %b : Tensor):
  %y : Tensor = aten::matmul(%a, %b)
  return (%y)""")
    from jitcore.ir import SourceRange
    g.nodes[0].source_range = SourceRange("model.py", 7, 4, 7, 12, "y = a @ b")
    with pytest.raises(KernelError) as info:
        execute(lower(g), [np.ones((2, 3)), np.ones((4, 5))])
    message = str(info.value)
    assert "aten::matmul" in message and "Double(2, 3)" in message and "Double(4, 5)" in message
    assert "model.py" in message and "3 vs 4" in message


def test_raise_exception_raises_the_named_type():
    g = parse_graph("""graph(%n : int):
  %zero : int = prim::Constant[value=0]()
  %msg : str = prim::Constant[value="n must be positive"]()
  %c : bool = aten::le(%n, %zero)
   = prim::If(%c)
    block0():
       = prim::RaiseException[exception="ValueError"](%msg)
      -> ()
    block1():
      -> ()
  return (%n)""")
    code = lower(g)
    assert execute(code, [3]) == [3]
    with pytest.raises(ValueError, match="n must be positive"):
        execute(code, [-1])


def test_call_function_runs_the_callee_code():
    callee = parse_graph("""graph(%a : Tensor):
  %y : Tensor = aten::tanh(%a)
  return (%y)""")
    g = parse_graph("""graph(%x : Tensor):
  %y : Tensor = prim::CallFunction[name="f"](%x)
  %z : Tensor = prim::CallFunction[name="f"](%y)
  return (%z)""")
    x = np.linspace(-2, 2, 5)
    got = execute(lower(g, {"f": callee}), [x])[0]
    np.testing.assert_allclose(got, np.tanh(np.tanh(x)))


def test_one_and_two_openmp_threads_agree():
    g = parse_graph("""graph(%x : Float(512, 512)):
  %e : Tensor = aten::exp(%x)
  %t : Tensor = aten::tanh(%e)
  %none : NoneType = prim::Constant()
  %s : Tensor = aten::sum(%t, %none)
  return (%t, %s)""")
    code = lower(g)
    x = np.random.default_rng(3).standard_normal((512, 512)).astype(np.float32)
    old = openmp_helpers.get_num_threads()
    try:
        openmp_helpers.set_num_threads(1)
        one = execute(code, [x])
        openmp_helpers.set_num_threads(2)
        two = execute(code, [x])
    finally:
        openmp_helpers.set_num_threads(old)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_four_python_threads_share_one_code():
    g = parse_graph(CONTROL_FLOW)
    code = lower(g)
    rng = np.random.default_rng(5)
    inputs = [(rng.standard_normal((2, 3)).astype(np.float32), k % 4) for k in range(16)]
    expected = [run_graph(g, list(args))[0] for args in inputs]
    failures = []

    def work(offset):
        for rep in range(200):
            k = (offset + rep) % len(inputs)
            got = execute(code, list(inputs[k]))[0]
            if not np.array_equal(got, expected[k]):
                failures.append((offset, rep))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert code.pooled_frames() >= 1


def test_unsupported_op_makes_lowering_raise_compile_error():
    from jitcore.errors import CompileError
    # every registered op has a handler (test_runtime_ops.UNHANDLED_OPS is
    # empty), so the op here is one the registry does not know
    g = parse_graph("""graph(%x : Tensor):
  %y : Tensor = aten::not_a_registered_op(%x)
  return (%y)""")
    with pytest.raises(CompileError, match="aten::not_a_registered_op: unknown op"):
        lower(g)


def test_ctrl_c_stops_a_long_scripted_loop_promptly(tmp_path):
    import subprocess
    import sys
    # 10**9 iterations run ~60 s; SIGINT must end the call with KeyboardInterrupt
    # at the loop's next poll (measured 2-20 ms after the signal)
    code = """if 1:
        import os, signal, threading, time, jitcore

        # a child of a shell job inherits SIGINT ignored, and Python then keeps
        # it ignored: install the handler a terminal session has
        signal.signal(signal.SIGINT, signal.default_int_handler)

        @jitcore.script
        def spin(n: int) -> int:
            acc = 0
            for i in range(n):
                acc = acc + i % 7
            return acc

        assert spin(10) == 24
        sent = []
        def interrupt():
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
        threading.Timer(0.3, interrupt).start()
        try:
            spin(10**9)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted after", time.perf_counter() - sent[0])
        assert spin(10) == 24   # the interpreter is still usable
    """
    script = tmp_path / "spin.py"       # script needs the source in a file
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    words = done.stdout.split()
    assert words[:2] == ["interrupted", "after"], done.stdout
    assert float(words[2]) < 1.0
