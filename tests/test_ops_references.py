"""Every op's reference and dtype/shape rule, checked on sample calls.

Oracles: the rule must agree with what the reference returns; the reference
must agree with PyTorch's ATen op of the same name (where installed) and, for
elementwise math, with Python's ``math``/``operator`` applied element by element.
"""

import copy
import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import jitcore.ops as ops
from jitcore._runtime.types import (
    AnyType, DictType, FloatType, IntType, ListType, TensorType, TupleType,
)
from jitcore._runtime.op_string import HANDLERS as STRING_HANDLERS
from jitcore.ops.binding import type_of
from jitcore.ops.registry import accepts
from jitcore.errors import ScriptRaisedError
from jitcore.ops.dtypes import dtype_of

from _op_samples import sample_args

ALL = [op.qualified_name for op in ops.all_ops()]
# ops whose reference only raises (checked by test_raise_exception_reference_raises)
_RAISING = {"prim::RaiseException"}
DTYPES = ["float32", "float64"]
# ops whose output rank/dims depend on tensor values or list contents the type cannot carry
_SHAPE_FROM_VALUES = {"aten::cat", "aten::stack", "aten::index.Tensor", "aten::einsum",
                      "aten::lstm.input", "jc::lstm_packed"}   # an LSTM's hx is a Tensor[]
# a list's or dict's type has one item type for all its items
_SHAPE_FROM_VALUES |= {n for n in ALL if ops.get(n).schema.arguments and isinstance(
    ops.get(n).schema.arguments[0].type, (DictType, ListType))}


def _samples(name, dtype):
    samples = sample_args(name, dtype)
    assert samples, f"no sample arguments for {name}: add them to tests/_op_samples.py"
    return samples


def test_every_op_has_samples():
    missing = [n for n in ALL if not sample_args(n, "float32")]
    assert not missing


def _type_of(value, declared):
    # lists are typed as the schema declares them (an empty list has no element type),
    # and so is what an Any argument takes (a tuple is no list of one type)
    return declared if isinstance(value, list) or declared == AnyType.get() else type_of(value)


def _output_types(out, returns):
    outs = (out,) if len(returns) == 1 else out
    # an empty list has no element type of its own, and Any takes values (a dict, a
    # tuple) that have none as op inputs: take the declared type
    return tuple(r.type if (isinstance(o, list) and not o) or r.type == AnyType.get()
                 else _typed(o, r.type) for o, r in zip(outs, returns))


def _typed(value, declared):
    try:
        return type_of(value)
    except TypeError:       # a list of (key, value) tuples: typed by its first item
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            return ListType(TupleType([type_of(item) for item in value[0]]))
        return declared


def _input_types(args, schema):
    # inputs beyond the declared arguments (``...``) are typed by their values
    declared = [_type_of(a, p.type) for a, p in zip(args, schema.arguments)]
    return declared + [type_of(a) for a in args[len(schema.arguments):]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in ALL if n not in _RAISING])
def test_infer_agrees_with_reference(name, dtype):
    op = ops.get(name)
    for args in _samples(name, dtype):
        types = _input_types(args, op.schema)    # before the reference writes a list or dict
        out = op.reference(*args)
        if op.schema.is_varret:
            assert isinstance(out, tuple), f"{name}: a '-> ...' reference returns one value per output"
            continue
        actual = _output_types(out, op.schema.returns)
        consts = [ops.UNKNOWN if isinstance(a, np.ndarray) else a for a in args]
        inferred = op.infer(types, consts)
        assert len(inferred) == len(actual) == len(op.schema.returns)
        for got, want in zip(inferred, actual):
            if isinstance(want, TensorType) and name not in _SHAPE_FROM_VALUES:
                assert got == want, f"{name}{args!r}: rule says {got}, reference gives {want}"
            else:   # a declared Any says nothing the rule could contradict
                assert want == AnyType.get() or accepts(got, want), f"{name}: {want} is not a {got}"
        # with no constant known the rule must still be sound (unknowns become None)
        blind = op.infer(types, [ops.UNKNOWN] * len(args))
        for got, want in zip(blind, actual):
            assert want == AnyType.get() or accepts(got, want), \
                f"{name} without constants: {want} is not a {got}"


# ------------------------------------------------------------ torch oracle

def _to_torch(torch, value, arg):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())   # a copy is contiguous and keeps 0-d arrays 0-d
    if isinstance(value, list):
        return [_to_torch(torch, v, None) for v in value]
    if arg is not None and arg.is_dtype and value is not None:
        return getattr(torch, dtype_of(value).name)
    return value


def _torch_op(torch, name):
    kind, _, overload = name.partition(".")
    packet = getattr(torch.ops.aten, kind.split("::")[1], None)
    try:
        return getattr(packet, overload or "default")
    except (AttributeError, RuntimeError):
        return None


# not callable through torch.ops.aten: prim:: ops in TorchScript, or lists of a type variable
_NOT_IN_TORCH = {"aten::__is__", "aten::__isnot__", "aten::min.int", "aten::max.int",
                 "aten::min.float", "aten::max.float", "aten::len.t", "aten::__getitem__.t",
                 # a vararg op torch.ops cannot call; ours is str.format, TorchScript's "{}" only
                 "aten::format",
                 # jitcore's own: `sub in s` and `s * n` of strings have no ATen op
                 "aten::__contains__.str_str", "aten::mul.str",
                 # Python's ~ of an int; TorchScript has no ~ of a number
                 "aten::bitwise_not.int",
                 # "implemented directly in the interpreter": torch.ops cannot call it
                 "aten::warn",
                 # random values: no two generators agree (tests/test_runtime_op_creation.py,
                 # tests/test_runtime_op_inplace.py)
                 "aten::rand", "aten::bernoulli_.float",
                 # unspecified values in torch (and NumPy); jitcore's are zeros
                 "aten::empty", "aten::empty_like"}
# jitcore's own fused ops (jc::) have no ATen counterpart; the fusion tests check
# them against the unfused ops instead.
_NOT_IN_TORCH |= {n for n in ALL if n.startswith("jc::")}
# prim:: ops are TorchScript's interpreter instructions, not ATen ops
_NOT_IN_TORCH |= {n for n in ALL if n.startswith("prim::")}
# torch.ops cannot convert a Python list or dict to TorchScript's List[t] / Dict(K, t) of a
# type variable
_NOT_IN_TORCH |= {n for n in ALL if any(
    isinstance(a.type, DictType) or isinstance(a.type, ListType) and a.type.elem == AnyType.get()
    for a in ops.get(n).schema.arguments)}


# The string ops follow Python, not TorchScript, whose str is UTF-8 bytes (len, indexing,
# slicing and case mapping by byte), whose find/count take end=-1 as the end and whose
# int(s)/str(x) are C++'s; Python is their oracle (tests/test_runtime_strings.py).
_PYTHON_SEMANTICS = {n for n in ALL if ops.get(n).handler
                     and ops.get(n).handler[0] in STRING_HANDLERS}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in ALL if n not in _NOT_IN_TORCH | _PYTHON_SEMANTICS])
def test_reference_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    op = ops.get(name)
    torch_op = _torch_op(torch, name)
    assert torch_op is not None, f"torch has no {name}"
    tol = 1e-5 if dtype == "float32" else 1e-10
    for args in _samples(name, dtype):
        # a copy: an in-place op's reference writes its first argument
        ours = op.reference(*copy.deepcopy(args))
        params = op.schema.arguments
        theirs = torch_op(*[_to_torch(torch, a, p) for a, p in zip(args, params) if not p.kwarg_only],
                          **{p.name: _to_torch(torch, a, p) for a, p in zip(args, params)
                             if p.kwarg_only})
        if isinstance(ours, list):      # a Tensor[] result (split, unbind): item by item
            ours = tuple(ours)
        ours_t = ours if isinstance(ours, tuple) else (ours,)
        theirs_t = tuple(theirs) if isinstance(theirs, (tuple, list)) and isinstance(ours, tuple) \
            else (theirs,)
        assert len(ours_t) == len(theirs_t), f"{name}{args!r}: {len(ours_t)} results, torch {len(theirs_t)}"
        for a, b in zip(ours_t, theirs_t):
            b = b.numpy() if isinstance(b, torch.Tensor) else b
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                       rtol=tol, atol=tol, err_msg=f"{name}{args!r}")


def test_schemas_use_aten_argument_names():
    torch = pytest.importorskip("torch")
    for op in ops.all_ops():
        if op.qualified_name in _NOT_IN_TORCH:
            continue
        theirs = {s.overload_name: s for s in torch._C._jit_get_schemas_for_operator(op.kind)}
        schema = theirs.get(op.schema.overload_name)
        assert schema is not None, f"ATen has no {op.qualified_name}"
        ours = [a.name for a in op.schema.arguments]
        names = [a.name for a in schema.arguments]
        assert ours == [n for n in names if n in ours] and ours[:1] == names[:1], (
            f"{op.schema} vs ATen {schema}")


# ------------------------------------------------- element-by-element oracle

_MATH = {
    "aten::exp": math.exp, "aten::expm1": math.expm1,
    "aten::sin": math.sin, "aten::cos": math.cos, "aten::tan": math.tan, "aten::atan": math.atan,
    "aten::tanh": math.tanh, "aten::erf": math.erf, "aten::floor": math.floor,
    "aten::ceil": math.ceil, "aten::trunc": math.trunc, "aten::neg": operator.neg,
    "aten::abs": abs, "aten::square": lambda v: v * v,
    "aten::sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "aten::silu": lambda v: v / (1 + math.exp(-v)),
    "aten::relu": lambda v: max(v, 0.0),
    "aten::gelu": lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2))),
    "aten::mish": lambda v: v * math.tanh(math.log1p(math.exp(v))),
    "aten::hardswish": lambda v: v * min(max(v + 3, 0), 6) / 6,
}
_MATH_POSITIVE = {"aten::log": math.log, "aten::log1p": math.log1p, "aten::log2": math.log2, "aten::log10": math.log10,
                  "aten::sqrt": math.sqrt, "aten::rsqrt": lambda v: 1 / math.sqrt(v),
                  "aten::reciprocal": lambda v: 1 / v}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_MATH) + sorted(_MATH_POSITIVE))
def test_unary_math_matches_python_math(name, dtype):
    rng = np.random.default_rng(0)
    low = 0.1 if name in _MATH_POSITIVE else -4.0
    x = rng.uniform(low, 4.0, size=(4, 5)).astype(dtype)
    fn = {**_MATH, **_MATH_POSITIVE}[name]
    op, args = ops.bind(name, (x,), {})
    got = op.reference(*args)
    want = np.array([fn(float(v)) for v in x.ravel()]).reshape(x.shape)
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == "float32" else 1e-12, atol=1e-7)


_BINARY = {"aten::add": operator.add, "aten::sub": operator.sub, "aten::mul": operator.mul,
           "aten::div": operator.truediv, "aten::maximum": max, "aten::minimum": min}


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(_BINARY)), dtype=st.sampled_from(DTYPES),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       data=st.data())
def test_binary_arithmetic_broadcasts_like_python(name, dtype, shapes, data):
    elements = st.floats(-100, 100, width=32).filter(lambda v: abs(v) > 1e-3)
    a = data.draw(hnp.arrays(dtype, shapes.input_shapes[0], elements=elements))
    b = data.draw(hnp.arrays(dtype, shapes.input_shapes[1], elements=elements))
    got = ops.call(name, a, b)
    aa, bb = np.broadcast_arrays(a, b)
    want = np.array([_BINARY[name](float(x), float(y)) for x, y in zip(aa.ravel(), bb.ravel())])
    assert got.shape == shapes.result_shape and got.dtype == dtype
    np.testing.assert_allclose(got.ravel(), want.astype(dtype), rtol=1e-6, atol=1e-6)


def test_python_scalars_do_not_upcast_float32():
    x = np.ones((2, 3), np.float32)
    for kind in ("aten::add", "aten::mul", "aten::div", "aten::pow", "aten::leaky_relu"):
        assert ops.call(kind, x, 2.5).dtype == np.float32, kind
    op, args = ops.bind("aten::add", (x, 2.5), {})
    assert op.infer([TensorType.from_array(x), FloatType.get(), IntType.get()],
                    [ops.UNKNOWN, 2.5, 1]) == (TensorType("float32", (2, 3)),)
    # an int tensor with a float scalar becomes float64, as in NumPy
    assert ops.call("aten::add", np.ones(3, np.int32), 0.5).dtype == np.float64


def test_conv2d_matches_explicit_loops():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((6, 2, 3, 2))
    b = rng.standard_normal(6)
    stride, pad, dil, groups = (2, 1), (1, 0), (1, 2), 2
    got = ops.call("aten::conv2d", x, w, b, stride, pad, dil, groups)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    ho = (6 + 2 - 1 * 2 - 1) // 2 + 1
    wo = (5 - 2 * 1 - 1) // 1 + 1
    want = np.zeros((2, 6, ho, wo))
    for n, o, i, j in np.ndindex(want.shape):
        g = o // 3
        for c, p, q in np.ndindex(2, 3, 2):
            want[n, o, i, j] += xp[n, g * 2 + c, i * 2 + p, j + q * 2] * w[o, c, p, q]
        want[n, o, i, j] += b[o]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_large_inputs(dtype):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]], dtype)
    p = ops.call("aten::softmax", x, 1)
    logp = ops.call("aten::log_softmax", x, 1)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(logp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(logp), p, rtol=1e-5)
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-6)
    assert p.dtype == logp.dtype == dtype


def test_dropout_is_identity_at_inference():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ops.call("aten::dropout", x, 0.5, False), x)
    with pytest.raises(ValueError, match="probability"):
        ops.call("aten::dropout", x, 1.5, False)


@pytest.mark.parametrize("args", [["boom"], []])
def test_raise_exception_reference_raises(args):
    with pytest.raises(ScriptRaisedError, match="boom" if args else "Exception"):
        ops.get("prim::RaiseException").reference(*args)
