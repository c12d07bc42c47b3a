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


def test_chains_with_ops_the_kernel_lacks_keep_the_generic_path():
    # alpha != 1 is not a chain step: the node is lowered to a call of its subgraph
    graph, node = _fused("""graph(%x : Float(4, 5), %y : Float(4, 5)):
  %alpha : int = prim::Constant[value=2]()
  %a : Float(4, 5) = aten::add(%x, %y, %alpha)
  %b : Float(4, 5) = aten::tanh(%a)
  return (%b)
""")
    assert chain_program(node) is None
    rng = np.random.default_rng(4)
    x, y = (rng.standard_normal((4, 5)).astype(np.float32) for _ in range(2))
    got = compile_graph(graph, fallback=False)(x, y)
    np.testing.assert_allclose(got, np.tanh(x + 2 * y), rtol=1e-6)


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


def test_every_kernel_op_is_a_chain_step_and_every_plain_step_is_its_kernel_op():
    # one table: an op whose registry entry names a unary kernel, or a binary
    # kernel of a float result, fuses with that kernel; bool and integer-only
    # (bitwise) kernels do not
    from jitcore import ops
    from jitcore._runtime import op_fused
    from jitcore._runtime.kernels import elementwise as ew
    named = {op.kind: op.kernel for op in ops.all_ops() if op.kernel is not None}
    unary = op_fused._PLAIN["aten::tanh"][0]
    binary = op_fused._PLAIN["aten::mul"][0]
    tables = {unary: ew.UNARY_OPS, binary: ew.BINARY_OPS}
    for kind, kernel in named.items():
        if kernel in ew.UNARY_OPS and kernel not in op_fused._NOT_PLAIN_UNARY:
            assert op_fused._PLAIN.get(kind) == (unary, ew.UNARY_OPS[kernel]), f"{kind} does not fuse"
        elif kernel in op_fused._ALPHA_KERNELS:
            assert op_fused._ALPHA_BINARY[kind] == ew.BINARY_OPS[kernel]
        elif (kernel in ew.BINARY_OPS and kernel not in ew.BOOL_BINARY_OPS
              and kernel not in ew.INT_BINARY_OPS):
            assert op_fused._PLAIN.get(kind) == (binary, ew.BINARY_OPS[kernel]), f"{kind} does not fuse"
        else:
            assert kind not in op_fused.CHAIN_KINDS, f"{kind} is no float step but fuses"
    for kind, (chain, code) in op_fused._PLAIN.items():
        assert kind in named, f"{kind} fuses but no registered op names its kernel"
        assert tables[chain][named[kind]] == code, kind


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


def test_bitwise_ops_are_no_chain_steps():
    from jitcore._runtime import op_fused
    from jitcore._runtime.kernels import elementwise as ew
    assert ew.INT_BINARY_OPS == {"bitwise_and", "bitwise_or", "bitwise_xor"}
    for kind in ("aten::__and__", "aten::__or__", "aten::__xor__", "aten::bitwise_not",
                 "aten::bitwise_and", "aten::bitwise_or", "aten::bitwise_xor"):
        assert kind not in op_fused.CHAIN_KINDS, kind
