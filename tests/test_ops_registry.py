"""Registry lookups, overload matching, binding Python arguments, callable aliases, docs."""

import operator
from pathlib import Path

import numpy as np
import pytest

import jitcore.ops as ops
from jitcore._runtime.types import (
    BoolType, FloatType, IntType, ListType, NoneType, NumberType, OptionalType, TensorType,
)
from jitcore.errors import SchemaError, SchemaMatchError
from jitcore.ops import docgen, registry
from jitcore.ops.dtypes import code_of, dtype_of

F32 = TensorType("float32", (2, 3))


def test_lookup_by_name_and_kind():
    op = ops.get("aten::add.Tensor")
    assert op.kind == "aten::add" and op.qualified_name == "aten::add.Tensor"
    assert op in ops.overloads("aten::add")
    assert [o.schema.overload_name for o in ops.overloads("aten::add")][:2] == ["Tensor", "Scalar"]
    assert ops.is_registered("aten::add") and ops.is_registered("aten::add.int")
    assert not ops.is_registered("aten::nope")
    assert ops.overloads("aten::nope") == []
    names = [o.qualified_name for o in ops.all_ops()]
    assert names == sorted(names) and len(names) == len(set(names))


def test_get_unknown_suggests_overloads():
    with pytest.raises(KeyError, match="aten::add.Tensor"):
        ops.get("aten::add.Bogus")


def test_duplicate_registration_is_rejected():
    with pytest.raises(SchemaError, match="already registered"):
        ops.register("aten::relu(Tensor self) -> Tensor", reference=np.abs)


def test_register_and_use_a_new_op(monkeypatch):
    # registry tables are module state: restore them after the test
    for table in ("_BY_NAME", "_BY_KIND", "_BY_CALLABLE", "_PROPERTIES", "_BY_METHOD",
                  "_NUMPY_SPELLINGS"):
        monkeypatch.setattr(registry, table, {k: list(v) if isinstance(v, list) else v
                                              for k, v in getattr(registry, table).items()})
    op = ops.register("jc::scale(Tensor self, float factor=2.0) -> Tensor",
                      reference=lambda x, f: x * f)
    assert ops.get("jc::scale") is op
    np.testing.assert_array_equal(ops.call("jc::scale", np.ones(2)), [2.0, 2.0])
    assert op.infer([F32, FloatType.get()]) == (TensorType.get(),)


def test_numpy_spelling_comes_from_the_entry(monkeypatch):
    for table in ("_BY_NAME", "_BY_KIND", "_PROPERTIES", "_BY_METHOD", "_NUMPY_SPELLINGS"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    ops.register("jc::spread(Tensor self, int dim=0) -> Tensor", reference=lambda x, d: x,
                 methods=("spread",), numpy_names={"axis": "dim"}, numpy_defaults={"dim": 1})
    assert ops.for_method("spread") == "jc::spread"
    spelling = registry.numpy_spelling("jc::spread")
    assert spelling.names == {"axis": "dim"} and spelling.defaults == {"dim": 1}
    assert spelling.arguments == {"self", "dim"}


@pytest.mark.parametrize("fields, message", [
    ({"numpy_names": {"axis": "dims"}}, "'dims', which is not one of its arguments"),
    ({"numpy_defaults": {"correction": 0}}, "'correction', which is not one of its arguments"),
    ({"methods": ("sum",)}, r"ndarray.sum already stands for aten::sum"),
])
def test_numpy_fields_must_name_arguments_and_free_methods(monkeypatch, fields, message):
    for table in ("_BY_NAME", "_BY_KIND", "_PROPERTIES", "_BY_METHOD", "_NUMPY_SPELLINGS"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    with pytest.raises(SchemaError, match=message):
        ops.register("jc::spread(Tensor self, int dim=0) -> Tensor", reference=lambda x, d: x,
                     **fields)


@pytest.mark.parametrize("handler, message", [
    ("sum", r"handler='sum' is not a runtime handler; the handlers are .*reduce"),
    (("reduce", "total"), r"handler 'reduce' takes one of .*'sum'.*, got 'total'"),
    ("reduce", r"handler 'reduce' takes one of .*, got None"),
    (("einsum", "sum"), r"handler 'einsum' takes no parameter, got 'sum'"),
])
def test_a_handler_must_be_a_runtime_handler_and_one_of_its_parameters(monkeypatch, handler,
                                                                        message):
    for table in ("_BY_NAME", "_BY_KIND", "_PROPERTIES"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    with pytest.raises(SchemaError, match=message):
        ops.register("jc::total(Tensor self) -> Tensor", reference=np.sum, handler=handler)


def test_an_entry_keeps_its_handler_and_a_kernel_names_the_kernel_handler():
    assert ops.get("aten::cumsum").handler == ("scan", "cumsum")
    assert ops.get("aten::einsum").handler == ("einsum", None)
    assert ops.get("aten::tanh").handler == ("kernel", None)


def test_chain_step_of_fills_unknown_arguments_and_defaults():
    gelu = ops.get("aten::gelu")
    assert gelu.chain_step_of([None]) == ("gelu", ())                # approximate's default
    assert gelu.chain_step_of([None, ("tanh",)]) == ("gelu_tanh", ())
    assert gelu.chain_step_of([None, None]) is None                  # not a constant
    assert ops.get("aten::tanh").chain_step_of([None]) is None


def test_match_picks_overload_by_type():
    assert ops.match("aten::add", [F32, F32, IntType.get()]).qualified_name == "aten::add.Tensor"
    assert ops.match("aten::add", [F32, FloatType.get(), IntType.get()]).qualified_name == \
        "aten::add.Scalar"
    assert ops.match("aten::add", [IntType.get(), IntType.get()]).qualified_name == "aten::add.int"
    assert ops.match("aten::linear", [F32, F32, NoneType.get()]).qualified_name == "aten::linear"
    # an int for an int[2] and any list for Any[]
    conv = [F32, F32, NoneType.get()] + [IntType.get()] * 4
    assert ops.match("aten::conv2d", conv).qualified_name == "aten::conv2d"
    assert ops.match("aten::len", [ListType(TensorType.get())]).qualified_name == "aten::len.t"


def test_match_error_lists_candidates_and_types():
    with pytest.raises(SchemaMatchError) as info:
        ops.match("aten::add", [F32, BoolType.get(), ListType(IntType.get())])
    message = str(info.value)
    assert "Float(2, 3), bool, int[]" in message
    assert "aten::add.Tensor(Tensor self" in message and "aten::add.int(int a" in message
    with pytest.raises(SchemaMatchError, match="unknown op"):
        ops.match("aten::nope", [])


def test_bind_fills_defaults_and_keywords():
    x = np.ones((2, 3), np.float32)
    op, args = ops.bind("aten::add", (x, x), {})
    assert op.qualified_name == "aten::add.Tensor" and args[2] == 1
    op, args = ops.bind("aten::add", (x, 2.0), {"alpha": 3})
    assert op.qualified_name == "aten::add.Scalar" and args[1:] == [2.0, 3]
    op, args = ops.bind("aten::sum", (x,), {"dim": 1})
    assert op.qualified_name == "aten::sum.dim_IntList" and args[1:] == [[1], False, None]
    op, args = ops.bind("aten::conv2d", (x[None, None], x[None, None]), {"stride": 2})
    assert args[3:] == [[2, 2], [0, 0], [1, 1], 1]
    op, args = ops.bind("aten::to", (x,), {"dtype": np.float64})
    assert args[1] == code_of(np.float64) == 7 and dtype_of(args[1]) == np.float64


def test_bind_converts_numpy_scalars():
    x = np.ones(3, np.float32)
    op, args = ops.bind("aten::add", (x, np.float64(2.0)), {})
    assert op.qualified_name == "aten::add.Tensor" and isinstance(args[1], np.ndarray)
    op, args = ops.bind("aten::leaky_relu", (x, np.float32(0.5)), {})
    assert type(args[1]) is float
    op, args = ops.bind("aten::add", (2, 3), {})
    assert op.qualified_name == "aten::add.int"
    op, args = ops.bind("aten::add", (2.0, 3), {})
    assert op.qualified_name == "aten::add.float" and args == [2.0, 3.0]


def test_bind_uses_jit_type_of_symbolic_values():
    class Symbolic:
        jit_type = TensorType("float32", (None, 4))

    s = Symbolic()
    op, args = ops.bind("aten::linear", (s, s), {})
    assert op.qualified_name == "aten::linear" and args[:2] == [s, s] and args[2] is None
    op, args = ops.bind("aten::cat", ([s, np.ones((1, 4))],), {})
    assert args[0][0] is s


@pytest.mark.parametrize("kind, args, kwargs, words", [
    ("aten::relu", ("x",), {}, ["aten::relu", "'self'", "str 'x'"]),
    ("aten::relu", (), {}, ["missing argument 'self'"]),
    ("aten::relu", (np.ones(2),), {"inplace": True}, ["unexpected keyword argument 'inplace'"]),
    ("aten::add", (np.ones(2), np.ones(2), 1), {}, ["at most 2 positional"]),
    ("aten::conv2d", (np.ones((1, 1, 3, 3)),) * 2, {"stride": [1, 2, 3]},
     ["'stride'", "list of 2 items but got 3"]),
    ("aten::sum", (np.ones(2),), {"dim": [1.5]}, ["'dim'", "item 0", "float 1.5"]),
    ("aten::to", (np.ones(2),), {"dtype": np.complex64}, ["'dtype'", "ScalarType"]),
    ("aten::relu", (np.ones(2, np.complex64),), {}, ["dtype complex64"]),
    ("aten::nope", (), {}, ["unknown op"]),
])
def test_bind_errors_name_op_argument_and_value(kind, args, kwargs, words):
    with pytest.raises(SchemaMatchError) as info:
        ops.bind(kind, args, kwargs)
    for w in words:
        assert w in str(info.value)


def test_optional_and_qualified_bind():
    op, args = ops.bind("aten::clamp", (np.ones(2),), {"max": 0.5})
    assert args[1:] == [None, 0.5]
    op, _ = ops.bind("aten::add.Scalar", (np.ones(2), 1), {})
    assert op.qualified_name == "aten::add.Scalar"
    assert ops.get("aten::clamp").schema.argument("min").type == OptionalType(NumberType.get())


def test_infer_rejects_wrong_arity_and_names_op_on_bad_shapes():
    op = ops.get("aten::mm")
    with pytest.raises(SchemaMatchError, match="takes 2 inputs"):
        op.infer([F32])
    with pytest.raises(ValueError, match="aten::mm: contracted dimensions"):
        op.infer([F32, F32])


def test_for_callable():
    assert ops.for_callable(np.tanh) == "aten::tanh"
    assert ops.for_callable(np.add) == ops.for_callable(operator.add) == "aten::add"
    assert ops.for_callable(np.matmul) == ops.for_callable(operator.matmul) == "aten::matmul"
    assert ops.for_callable(len) == "aten::len"
    assert ops.for_callable(print) is None
    assert ops.kinds_for_callable(operator.floordiv) == ["aten::floor_divide", "aten::floordiv"]


def test_every_alias_resolves_to_its_op():
    for op in ops.all_ops():
        for fn in op.aliases:
            assert op.kind in ops.kinds_for_callable(fn)


def test_for_method_targets_exist():
    assert ops.for_method("reshape") == "aten::reshape"
    assert ops.for_method("no_such_method") is None
    for name, kind in registry.methods().items():
        assert ops.is_registered(kind), (name, kind)
    assert registry.methods()["dot"] == "aten::matmul"


def test_committed_docs_match_the_registry():
    committed = Path(__file__).resolve().parents[1] / "docs" / "ops.md"
    assert committed.read_text(encoding="utf-8") == docgen.render(), \
        "docs/ops.md is stale: run `python -m jitcore.ops.docgen`"
    assert f"{len(ops.all_ops())} op overloads" in docgen.render()


def test_a_single_int_for_a_fixed_size_list_argument_reaches_the_rule_as_the_list():
    # max_pool2d(x, 3, 2) in scripted code: the rule sees kernel [3, 3] and stride [2, 2]
    op = ops.get("aten::max_pool2d")
    x = TensorType("float32", (1, 4, 9, 9))
    ints = [IntType.get()] * 4
    (out,) = op.infer([x, *ints, BoolType.get()], [ops.UNKNOWN, 3, 2, 0, 1, False])
    assert out.shape == (1, 4, 4, 4)
