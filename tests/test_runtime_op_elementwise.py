"""``_runtime/op_elementwise``: the registry's ``kernel`` fields drive the unary handlers."""
import math

import numpy as np
import pytest
import scipy.special

import jitcore
from jitcore import ops
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes import fuse_elementwise
from jitcore._runtime.kernels import elementwise as ew
from jitcore._runtime.lowering import supported_ops

# Kernels no op names directly: the gelu and softplus handlers pick them from
# their scalar arguments; positive and isnan serve other handlers.
INTERNAL_KERNELS = {"gelu", "gelu_tanh", "softplus", "positive", "isnan", "logical_not"}


def test_every_kernel_field_names_a_kernel_and_the_op_lowers():
    supported = set(supported_ops())
    named = [op for op in ops.all_ops() if op.kernel is not None]
    assert len(named) >= 30
    for op in named:
        assert op.kernel in ew.UNARY_OPS, op.qualified_name
        assert op.qualified_name in supported, op.qualified_name


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
