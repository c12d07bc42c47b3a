"""``jc::FusedElementwise`` lowered to one tiled instruction (``_runtime/op_fused``).

The oracle is the reference interpreter on the same fused graph (it runs the
subgraph op by op with NumPy), and NumPy on the original expression.
"""

import numpy as np
import pytest

import jitcore
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes import fuse_elementwise
from jitcore.reference_interpreter import run_graph
from jitcore._runtime.op_fused import chain_program

from test_passes_fuse_elementwise import BENCHMARK     # issue 7's y = tanh(x*0.5+1)*x+3

TT = {"float32": "Float", "float64": "Double"}
TOL = {"float32": 2e-6, "float64": 1e-13}

# a linear layer's epilogue on a bias row: gelu(x + bias) * 2 - x, clamped
BIAS_CHAIN = """graph(%x : {t}, %bias : {tb}):
  %alpha : int = prim::Constant[value=1]()
  %two : float = prim::Constant[value=2.0]()
  %none : str = prim::Constant[value="none"]()
  %lo : float = prim::Constant[value=-1.5]()
  %hi : float = prim::Constant[value=4.0]()
  %a : {t} = aten::add(%x, %bias, %alpha)
  %b : {t} = aten::gelu(%a, %none)
  %c : {t} = aten::mul(%b, %two)
  %d : {t} = aten::sub(%c, %x, %alpha)
  %y : {t} = aten::clamp(%d, %lo, %hi)
  return (%y)
"""


def _fused(src):
    graph = parse_graph(src)
    assert fuse_elementwise(graph)
    graph.lint()
    (node,) = [n for n in graph.nodes if n.kind == "jc::FusedElementwise"]
    return graph, node


def _type(dtype, shape):
    return f"{TT[dtype]}({', '.join(map(str, shape))})"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 5), (1024, 37), (3000,), (2, 3, 700)])
def test_benchmark_chain_runs_as_one_instruction(dtype, shape):
    graph, node = _fused(BENCHMARK.format(t=_type(dtype, shape)))
    ninputs, consts, steps = chain_program(node)
    assert ninputs == 1 and sorted(consts) == [0.5, 1.0, 3.0] and len(steps) == 5
    code = compile_graph(graph, fallback=False)
    assert code.code.n_instructions == 1
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    got = code(x)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, run_graph(graph, [x])[0], rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(got, np.tanh(x * 0.5 + 1.0) * x + 3.0, rtol=TOL[dtype] * 4,
                               atol=TOL[dtype] * 4)


def test_temporaries_are_reused_once_dead_and_never_written_in_place():
    # five ops, at most one intermediate alive at a time: two buffers alternate
    _, node = _fused(BENCHMARK.format(t="Float(8)"))
    _, consts, steps = chain_program(node)
    base = 1 + len(consts)
    assert {dst for _, _, dst, _, _ in steps} == {base, base + 1}
    assert all(dst not in srcs for _, _, dst, srcs, _ in steps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias_shape", [(37,), (1, 37), (5, 1, 37)])
def test_bias_row_and_param_steps(dtype, bias_shape):
    out_shape = (5, 64, 37) if len(bias_shape) == 3 else (64, 37)
    graph, node = _fused(BIAS_CHAIN.format(t=_type(dtype, out_shape), tb=_type(dtype, bias_shape)))
    assert chain_program(node) is not None
    rng = np.random.default_rng(1)
    x = rng.standard_normal(out_shape).astype(dtype) * 3
    bias = rng.standard_normal(bias_shape).astype(dtype)
    got = compile_graph(graph, fallback=False)(x, bias)
    np.testing.assert_allclose(got, run_graph(graph, [x, bias])[0], rtol=TOL[dtype] * 4,
                               atol=TOL[dtype] * 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layouts_the_tile_kernel_refuses_run_op_by_op(dtype):
    # a transposed input and a column broadcast (inner dimension) are not tileable
    graph, _ = _fused(BIAS_CHAIN.format(t=_type(dtype, (40, 30)), tb=_type(dtype, (40, 1))))
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 40)).astype(dtype).T
    col = rng.standard_normal((40, 1)).astype(dtype)
    got = compile_graph(graph, fallback=False)(x, col)
    np.testing.assert_allclose(got, run_graph(graph, [x, col])[0], rtol=TOL[dtype] * 4,
                               atol=TOL[dtype] * 4)


@pytest.mark.parametrize("shape", [(0, 5), ()])
def test_empty_and_zero_d(shape):
    graph, _ = _fused(BENCHMARK.format(t="Float(" + ", ".join(map(str, shape)) + ")"))
    x = np.full(shape, 0.25, dtype=np.float32)
    got = compile_graph(graph, fallback=False)(x)
    assert got.shape == shape
    np.testing.assert_allclose(got, np.tanh(x * 0.5 + 1.0) * x + 3.0, rtol=1e-6)


def test_special_values_follow_numpy():
    graph, _ = _fused(BENCHMARK.format(t="Float(6)"))
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30], dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        want = np.tanh(x * np.float32(0.5) + np.float32(1.0)) * x + np.float32(3.0)
    np.testing.assert_array_equal(compile_graph(graph, fallback=False)(x), want)


def test_bit_identical_at_one_and_two_threads():
    graph, _ = _fused(BENCHMARK.format(t="Float(512, 300)"))
    x = np.random.default_rng(3).standard_normal((512, 300)).astype(np.float32)
    code = compile_graph(graph, fallback=False)
    before = jitcore.get_num_threads()
    try:
        jitcore.set_num_threads(1)
        one = code(x)
        jitcore.set_num_threads(2)
        two = code(x)
    finally:
        jitcore.set_num_threads(before)
    assert one.tobytes() == two.tobytes()


@pytest.mark.parametrize("threads", [1, 2])
def test_the_output_takes_the_input_phase_and_the_bits_do_not_depend_on_it(threads):
    # NumPy's large arrays start 16 bytes into a cache line: the output is
    # allocated at the input's phase and the tiles start line-aligned after a
    # short first tile; the values are the same at every phase
    n = 3 * 4096 + 37
    graph, _ = _fused(BENCHMARK.format(t=f"Float({n})"))
    code = compile_graph(graph, fallback=False)
    buffer = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    before = jitcore.get_num_threads()
    results = []
    try:
        jitcore.set_num_threads(threads)
        for phase in range(16):
            storage = np.empty(n + 32, np.float32)
            start = (-storage.ctypes.data % 64) // 4 + phase
            x = storage[start:start + n]
            x[...] = buffer
            assert x.ctypes.data % 64 == 4 * phase
            y = code(x)
            assert y.ctypes.data % 64 == 4 * phase
            results.append(y.tobytes())
    finally:
        jitcore.set_num_threads(before)
    assert len(set(results)) == 1
    np.testing.assert_allclose(np.frombuffer(results[0], np.float32),
                               np.tanh(buffer * 0.5 + 1.0) * buffer + 3.0,
                               rtol=4 * TOL["float32"], atol=4 * TOL["float32"])


def test_an_op_the_chain_kernel_lacks_is_not_fused():
    # add's alpha != 1 is no chain step, so the pass leaves the chain alone
    graph = parse_graph("""graph(%x : Float(4, 5), %y : Float(4, 5)):
  %alpha : int = prim::Constant[value=2]()
  %a : Float(4, 5) = aten::add(%x, %y, %alpha)
  %b : Float(4, 5) = aten::tanh(%a)
  return (%b)
""")
    assert not fuse_elementwise(graph)


def test_a_fused_node_without_a_chain_program_runs_its_subgraph():
    # as one from a graph written before fused nodes carried their program
    graph, node = _fused(BENCHMARK.format(t="Float(4, 5)"))
    for name in ("chain_steps", "chain_registers", "chain_consts", "chain_params"):
        node.remove_attr(name)
    assert chain_program(node) is None
    x = np.random.default_rng(4).standard_normal((4, 5)).astype(np.float32)
    code = compile_graph(graph, fallback=False)
    np.testing.assert_array_equal(code(x), compile_graph(_fused(BENCHMARK.format(t="Float(4, 5)"))[0],
                                                         fallback=False)(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_chain_with_hard_and_mish_steps(dtype):
    graph, node = _fused(f"""graph(%x : {_type(dtype, (50, 41))}):
  %a : {_type(dtype, (50, 41))} = aten::hardswish(%x)
  %b : {_type(dtype, (50, 41))} = aten::mish(%a)
  %c : {_type(dtype, (50, 41))} = aten::hardsigmoid(%b)
  return (%c)
""")
    assert len(chain_program(node)[2]) == 3
    x = np.random.default_rng(5).standard_normal((50, 41)).astype(dtype) * 4
    got = compile_graph(graph, fallback=False)(x)
    np.testing.assert_allclose(got, run_graph(graph, [x])[0], rtol=TOL[dtype] * 4,
                               atol=TOL[dtype] * 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_python_scalar_input_is_weak_and_feeds_the_chain(dtype):
    t = _type(dtype, (33, 70))
    graph, node = _fused(f"""graph(%x : {t}, %s : float):
  %alpha : int = prim::Constant[value=1]()
  %a : {t} = aten::mul(%x, %s)
  %b : {t} = aten::sigmoid(%a)
  %y : {t} = aten::sub(%b, %s, %alpha)
  return (%y)
""")
    assert chain_program(node)[0] == 2
    x = np.random.default_rng(6).standard_normal((33, 70)).astype(dtype)
    got = compile_graph(graph, fallback=False)(x, 1.7)
    assert got.dtype == dtype       # NEP 50: the float scalar does not widen float32
    np.testing.assert_allclose(got, run_graph(graph, [x, 1.7])[0], rtol=TOL[dtype] * 4,
                               atol=TOL[dtype] * 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_remainder_floor_divide_and_atan2_fuse_with_the_same_bits(dtype):
    t = f"{TT[dtype]}(30, 17)"
    src = f"""graph(%x : {t}, %y : {t}):
  %three : float = prim::Constant[value=3.0]()
  %a : {t} = aten::remainder(%x, %three)
  %b : {t} = aten::atan2(%a, %y)
  %c : {t} = aten::floor_divide(%x, %b)
  %d : {t} = aten::tanh(%c)
  return (%d)
"""
    graph, node = _fused(src)
    assert len(chain_program(node)[2]) == 4
    rng = np.random.default_rng(7)
    x, y = (rng.standard_normal((30, 17)).astype(dtype) * 5 for _ in range(2))
    y[0, :4] = [0.0, -0.0, np.inf, np.nan]
    got = compile_graph(graph, fallback=False)(x, y)
    np.testing.assert_array_equal(got, compile_graph(parse_graph(src), fallback=False)(x, y))


def test_the_chain_attributes_survive_printing_and_parsing():
    graph, node = _fused(BENCHMARK.format(t="Float(8)"))
    parsed = parse_graph(str(graph))
    (parsed_node,) = [n for n in parsed.nodes if n.kind == "jc::FusedElementwise"]
    assert chain_program(parsed_node) == chain_program(node)
    code = compile_graph(parsed, fallback=False)
    assert code.code.n_instructions == 1
    x = np.random.default_rng(8).standard_normal(8).astype(np.float32)
    np.testing.assert_array_equal(code(x), compile_graph(graph, fallback=False)(x))


def _registers_with(changes):
    def edit(registers):
        for index, value in changes.items():
            registers[index] = value
        return registers
    return edit


@pytest.mark.parametrize("attribute, edit, message", [
    ("chain_steps", lambda steps: steps[:1] + ["no_such_kernel"] + steps[2:],
     "no chain step runs kernel 'no_such_kernel'"),
    ("chain_steps", lambda steps: steps + ["relu"], "6 steps need 18 chain_registers"),
    ("chain_steps", lambda steps: [], "0 chain steps"),
    ("chain_registers", _registers_with({12: 0}), "writes register 0"),
    ("chain_registers", _registers_with({12: 4000}), "writes register 4000"),
    ("chain_registers", _registers_with({13: 9}), "reads registers \\[9, 3\\]"),
    ("chain_registers", _registers_with({13: -1, 14: -1}), "reads registers \\[\\]"),
    ("chain_consts", lambda consts: consts * 4, "exceed"),
])
def test_a_malformed_chain_program_is_a_compile_error_naming_the_fault(attribute, edit, message):
    # an archive's graph may carry any attributes: lowering checks every register
    graph, node = _fused(BENCHMARK.format(t="Float(8)"))
    assert node.attr("chain_steps") == ["mul", "add", "tanh", "mul", "add"]
    assert node.attr("chain_registers")[12:] == [4, 5, 3]
    node.set_attr(attribute, edit(list(node.attr(attribute))))
    with pytest.raises(jitcore.CompileError, match="malformed chain program: .*" + message):
        compile_graph(graph, fallback=False)
