"""``_runtime/op_elementwise``: the registry's ``kernel`` fields drive the unary and binary handlers."""
import math

import numpy as np
import pytest
import scipy.special

import jitcore
from jitcore import ops
from jitcore.ops import Effect
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes import fuse_elementwise
from jitcore._runtime.kernels import elementwise as ew
from jitcore._runtime.lowering import supported_ops

# Kernels no op names directly: the gelu and softplus handlers pick them from
# their scalar arguments; positive and isnan serve other handlers.
INTERNAL_KERNELS = {"gelu", "gelu_tanh", "softplus", "positive", "isnan"}
# binary kernels a handler picks by a constant argument (aten::div's rounding_mode)
MODE_KERNELS = {"trunc_divide"}
KERNELS = {**ew.UNARY_OPS, **ew.BINARY_OPS}


def test_every_kernel_field_names_a_kernel_and_the_op_lowers():
    supported = set(supported_ops())
    named = [op for op in ops.all_ops() if op.kernel is not None]
    assert len(named) >= 60
    for op in named:
        assert op.kernel in KERNELS, op.qualified_name
        assert op.qualified_name in supported, op.qualified_name


def test_unary_and_binary_kernel_names_are_distinct():
    assert set(ew.UNARY_OPS) & set(ew.BINARY_OPS) == set()


def test_every_binary_kernel_is_an_ops_kernel():
    named = {op.kernel for op in ops.all_ops()}
    assert set(ew.BINARY_OPS) - MODE_KERNELS - named == set()


def test_an_op_named_like_a_binary_kernel_has_that_kernel():
    # every tensor overload of aten::<kernel>: registering one without kernel= would not lower
    for op in ops.all_ops():
        if (op.kind.startswith("aten::") and op.kind[6:] in ew.BINARY_OPS
                and any(str(a.type) == "Tensor" for a in op.schema.arguments)):
            if op.handler == ("div_mode", None):
                continue        # aten::div.*_mode: the kernel of its constant rounding_mode
            assert op.kernel == op.kind[6:], op.qualified_name


def test_logical_not_names_its_kernel():
    assert ops.get("aten::logical_not").kernel == "logical_not"


def test_every_unary_kernel_is_an_ops_kernel():
    named = {op.kernel for op in ops.all_ops()}
    assert set(ew.UNARY_OPS) - INTERNAL_KERNELS - named == set()


def test_a_one_tensor_op_named_like_a_kernel_has_that_kernel():
    # registering aten::<kernel>(Tensor self) without kernel= would silently not lower/fuse
    for op in ops.all_ops():
        args = op.schema.arguments
        if (op.kind.startswith("aten::") and op.kind[6:] in ew.UNARY_OPS and len(args) == 1
                and op.schema.overload_name == "" and op.kind[6:] not in INTERNAL_KERNELS):
            assert op.kernel == op.kind[6:], op.qualified_name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfc_is_accurate_where_one_minus_erf_cannot(dtype):
    tail = 10.0 if dtype == "float32" else 26.5
    x = np.concatenate([np.linspace(-6, 27, 40001), [tail, 0.0, -0.0, np.inf, -np.inf, np.nan]])
    x = x.astype(dtype)
    src = f"""graph(%x : {'Float' if dtype == 'float32' else 'Double'}({x.size})):
  %y : Tensor = aten::erfc(%x)
  return (%y)"""
    got = compile_graph(parse_graph(src), fallback=False)(x)
    want = scipy.special.erfc(x)
    assert got.dtype == want.dtype
    # float32 is erfc in float64 rounded once, as scipy computes it; float64 is
    # libm's erfc (math.erfc's), which beats scipy's cephes erfc in the far
    # tail (508 ulp there) and does not flush its subnormal results to 0
    exact = np.array([math.erfc(v) for v in x.astype(np.float64)]).astype(dtype)
    np.testing.assert_array_max_ulp(got, exact, maxulp=0 if dtype == "float64" else 1)
    normal = ~(np.abs(want) < np.finfo(dtype).tiny)
    np.testing.assert_allclose(got[normal], want[normal], rtol=1e-12 if dtype == "float64" else 0)
    # the tail: erfc(10) ~ 2e-45 in float32, erfc(26.5) ~ 1e-307 in float64, both nonzero
    assert got[x == tail][0] > 0


def test_erfc_is_traced_from_scipy_and_integers_compute_in_float64():
    def f(x):
        return scipy.special.erfc(x)
    traced = jitcore.trace(f, (np.arange(4, dtype=np.int64),))
    assert any(n.kind == "aten::erfc" for n in traced.graph.nodes)
    got = traced(np.arange(4, dtype=np.int64))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [math.erfc(v) for v in range(4)], rtol=1e-15)


def test_integer_floor_keeps_its_dtype_as_the_registry_says():
    def f(x):
        return np.floor(x)
    traced = jitcore.trace(f, (np.arange(5, dtype=np.int64),))
    got = traced(np.arange(5, dtype=np.int64))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.arange(5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfc_fuses_like_erf_with_the_same_bits(dtype):
    t = f"{'Float' if dtype == 'float32' else 'Double'}(20, 30)"
    src = f"""graph(%x : {t}):
  %s : float = prim::Constant[value=0.5]()
  %a : {t} = aten::mul(%x, %s)
  %b : {t} = aten::erfc(%a)
  %c : {t} = aten::erf(%b)
  return (%c)"""
    fused = parse_graph(src)
    assert fuse_elementwise(fused)
    assert [n.kind for n in fused.nodes if n.kind != "prim::Constant"] == ["jc::FusedElementwise"]
    x = np.random.default_rng(6).standard_normal((20, 30)).astype(dtype) * 4
    got = compile_graph(fused, fallback=False)(x)
    np.testing.assert_array_equal(got, compile_graph(parse_graph(src), fallback=False)(x))


def _binary_kernel_ops():
    """(kind, has_alpha) of the functional ops with a binary kernel and a Tensor, Tensor
    overload (their in-place forms: tests/test_runtime_op_inplace.py)."""
    found = {}
    for op in ops.all_ops():
        args = op.schema.arguments
        if op.kernel in ew.BINARY_OPS and op.effect is Effect.PURE and all(str(a.type) == "Tensor" for a in args[:2]):
            found[op.kind] = len(args) == 3
    return sorted(found.items())


def _binary_graph(kind, has_alpha):
    alpha = "  %alpha : int = prim::Constant[value=1]()\n" if has_alpha else ""
    extra = ", %alpha" if has_alpha else ""
    return (f"graph(%a : Tensor, %b : Tensor):\n{alpha}"
            f"  %y : Tensor = {kind}(%a, %b{extra})\n  return (%y)\n")


BINARY_SAMPLES = {
    "float32": np.array([[1.5, -2.0, 0.0, np.nan, np.inf, -0.0, 7.25]], np.float32),
    "float64": np.array([[1.5, -2.0, 0.0, np.nan, -np.inf, -0.0, 1e300]], np.float64),
    "int64": np.array([[3, -7, 0, 2, -1, 5, 2**62]], np.int64),
    "int32": np.array([[3, -7, 0, 2, -1, 5, 2**31 - 1]], np.int32),
    "bool": np.array([[True, False, True, False, True, True, False]]),
}


@pytest.mark.parametrize("kind,has_alpha", _binary_kernel_ops())
@pytest.mark.parametrize("dtype", sorted(BINARY_SAMPLES))
def test_binary_kernel_ops_match_their_references_in_dtype_and_value(kind, has_alpha, dtype):
    # the ints and result columns of binary_ops.h against the registry's
    # reference: integer operands of div and atan2 in float64, comparisons
    # and logical ops bool, the rest in the operands' dtype
    a = BINARY_SAMPLES[dtype]
    b = np.roll(BINARY_SAMPLES[dtype], 3).reshape(7, 1)[:3]     # broadcast to (3, 7)
    if kind == "aten::pow" and dtype.startswith("int"):
        b = np.abs(b) % 5       # NumPy refuses negative integer powers
    reference = next(op for op in ops.all_ops() if op.kind == kind and op.kernel in ew.BINARY_OPS
                     and all(str(a.type) == "Tensor" for a in op.schema.arguments[:2]))
    with np.errstate(all="ignore"):
        try:
            want = reference.reference(a, b, 1) if has_alpha else reference.reference(a, b)
        except TypeError:
            want = None     # NumPy has no loop (bool - bool, bool ** bool...)
    run = compile_graph(parse_graph(_binary_graph(kind, has_alpha)), fallback=False)
    if want is None or want.dtype.name not in BINARY_SAMPLES:
        # NumPy has no loop, or computes in a dtype the runtime lacks (bool // bool is int8)
        with pytest.raises(jitcore.KernelError):
            run(a, b)
        return
    got = run(a, b)
    assert got.dtype == want.dtype
    if got.dtype.kind == "f":
        # libm's atan2 and pow are not NumPy's to the last ulp
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(got.dtype).eps, atol=0)
    else:
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------ bitwise ops

BITWISE = {"aten::__and__": np.bitwise_and, "aten::__or__": np.bitwise_or,
           "aten::__xor__": np.bitwise_xor}
BITWISE_SAMPLES = {
    "int64": (np.array([[6, -7, 0, 2**62 + 5, -1]], np.int64),
              np.array([[3], [5], [-2**63]], np.int64)),
    "int32": (np.array([[6, -7, 0, 2**31 - 1, -1]], np.int32),
              np.array([[3], [5], [-2**31]], np.int32)),
    "bool": (np.array([[True, False, True, False, True]]),
             np.array([[True], [False], [True]])),
}


def _bitwise_and(a, b):
    return a & b


def _bitwise_or(a, b):
    return a | b


def _bitwise_xor(a, b):
    return a ^ b


def _bitwise_not(a):
    return ~a


_BITWISE_FUNCTIONS = {"aten::__and__": _bitwise_and, "aten::__or__": _bitwise_or,
                      "aten::__xor__": _bitwise_xor}


@pytest.mark.parametrize("dtype", sorted(BITWISE_SAMPLES))
@pytest.mark.parametrize("kind", sorted(BITWISE))
def test_bitwise_binary_ops_give_numpys_bitwise_result_compiled_traced_and_scripted(kind, dtype):
    a, b = BITWISE_SAMPLES[dtype]
    want = BITWISE[kind](a, b)
    assert want.dtype == a.dtype
    graph = compile_graph(parse_graph(_binary_graph(kind, False)), fallback=False)
    fn = _BITWISE_FUNCTIONS[kind]
    for compiled in (graph, jitcore.trace(fn, (a, b)), jitcore.script(fn)):
        got = compiled(a, b)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", sorted(BITWISE_SAMPLES))
def test_bitwise_not_gives_numpys_invert_compiled_traced_and_scripted(dtype):
    a = BITWISE_SAMPLES[dtype][0]
    want = np.invert(a)
    graph = compile_graph(parse_graph("graph(%a : Tensor):\n  %y : Tensor = aten::bitwise_not(%a)\n"
                                      "  return (%y)\n"), fallback=False)
    for compiled in (graph, jitcore.trace(_bitwise_not, (a,)), jitcore.script(_bitwise_not)):
        got = compiled(a)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind,logical", [("aten::__and__", "aten::logical_and"),
                                          ("aten::__or__", "aten::logical_or"),
                                          ("aten::__xor__", "aten::logical_xor")])
def test_bitwise_ops_on_bool_masks_are_their_logical_ops_bit_for_bit(kind, logical):
    rng = np.random.default_rng(11)
    a = rng.random((37, 19)) < 0.5
    b = rng.random((1, 19)) < 0.5
    got = compile_graph(parse_graph(_binary_graph(kind, False)), fallback=False)(a, b)
    want = compile_graph(parse_graph(_binary_graph(logical, False)), fallback=False)(a, b)
    assert got.dtype == np.bool_ and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitwise_ops_refuse_floats_like_numpy(dtype):
    x = np.ones(3, dtype)
    with pytest.raises(TypeError):
        np.bitwise_and(x, x)
    refused = r"does not support this dtype \(operands: (Float|Double)\(3\)"
    for kind in sorted(BITWISE):
        with pytest.raises(jitcore.KernelError, match=kind.split(".")[0] + ".*" + refused):
            compile_graph(parse_graph(_binary_graph(kind, False)), fallback=False)(x, x)
    with pytest.raises(jitcore.KernelError, match="aten::bitwise_not: .*" + refused):
        compile_graph(parse_graph("graph(%a : Tensor):\n  %y : Tensor = aten::bitwise_not(%a)\n"
                                  "  return (%y)\n"), fallback=False)(x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("low, high", [(0.0, 6.0), (-0.0, 0.0), (5.0, 3.0), (float("nan"), 1.0),
                                       (-1.0, float("nan")), (None, 2.5), (-2, None)])
def test_clamp_by_numbers_is_np_clip_to_the_bit(dtype, low, high):
    # number bounds take the branch-free hardtanh loop, NaN bounds the generic one:
    # both must be np.clip's minimum(maximum(x, low), high), NaNs included
    t = {"float32": "Float", "float64": "Double"}[dtype] + "(7, 300)"
    def const(v, name):
        if v is None:
            return f"  %{name} : NoneType = prim::Constant()"
        return f"  %{name} : float = prim::Constant[value={v!r}]()"
    graph = parse_graph(f"""graph(%x : {t}):
{const(low, "lo")}
{const(high, "hi")}
  %y : {t} = aten::clamp(%x, %lo, %hi)
  return (%y)""")
    x = np.random.default_rng(9).standard_normal((7, 300)).astype(dtype) * 5
    x[0, :6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 6.0]
    got = compile_graph(graph, fallback=False)(x)
    expected = np.minimum(np.maximum(x, -np.inf if low is None else low),
                          np.inf if high is None else high).astype(dtype)
    # (equal values; the sign of a zero clamped against a zero bound is NumPy's SIMD
    # loops' choice and not part of the contract)
    np.testing.assert_array_equal(got, expected)


def test_relu6_of_random_signs_runs_the_vector_loop_and_keeps_ints():
    graph = parse_graph("""graph(%x : Tensor):
  %y : Tensor = aten::relu6(%x)
  return (%y)""")
    code = compile_graph(graph, fallback=False)
    x = np.random.default_rng(10).standard_normal((3, 1000)).astype(np.float32) * 8
    np.testing.assert_array_equal(code(x), np.clip(x, 0, 6))
    ints = np.arange(-5, 12, dtype=np.int64)
    got = code(ints)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.clip(ints, 0, 6))


def _div_mode_graph(mode, other="Tensor"):
    spelled = "prim::Constant()" if mode is None else f'prim::Constant[value="{mode}"]()'
    return parse_graph(f"""graph(%a : Tensor, %b : {other}):
  %mode : str? = {spelled}
  %y : Tensor = aten::div(%a, %b, %mode)
  return (%y)""")


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_div_rounding_modes_run_their_kernels_as_the_reference_and_torch(mode, dtype):
    # trunc and floor differ on negative quotients; true division of integers is float64 (NumPy)
    a = np.array([[7, -7, 9, -9, 0, 5]], dtype) * np.array([[1], [3]], dtype)
    b = np.array([2, 2, -4, -4, 3, 5], dtype)
    if dtype.startswith("float"):
        a = a / np.asarray(3, dtype)
    got = compile_graph(_div_mode_graph(mode), fallback=False)(a, b)
    want = ops.get("aten::div.Tensor_mode").reference(a, b, mode)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    scalar = compile_graph(_div_mode_graph(mode, "int"), fallback=False)(a, -4)
    assert scalar.tobytes() == ops.get("aten::div.Scalar_mode").reference(a, -4, mode).tobytes()
    torch = pytest.importorskip("torch")
    if mode is not None:
        expected = torch.div(torch.from_numpy(a), torch.from_numpy(b), rounding_mode=mode).numpy()
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()


def test_div_with_an_unknown_rounding_mode_is_refused_naming_the_modes():
    with pytest.raises(jitcore.JitcoreError, match="rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        compile_graph(_div_mode_graph("round"), fallback=True)(np.ones(3), np.ones(3))
