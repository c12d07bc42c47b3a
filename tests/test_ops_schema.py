"""Schema parsing: the ATen spellings, printing back, and errors for malformed schemas."""

import pytest

import jitcore.ops as ops
from jitcore._runtime.types import (
    BoolType, IntType, ListType, NumberType, OptionalType, TensorType,
)
from jitcore.errors import SchemaError
from jitcore.ops import NO_DEFAULT, parse_schema

EXAMPLES = [
    "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    "aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor",
    "aten::size.int(Tensor self, int dim) -> int",
    "aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
    "aten::cat(Tensor[] tensors, int dim=0) -> Tensor",
    "aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor",
    "aten::gelu(Tensor self, *, str approximate='none') -> Tensor",
    "aten::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, "
    "Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor",
    "prim::Nothing() -> ()",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples_print_back(text):
    assert str(parse_schema(text)) == text


def test_add_tensor_fields():
    s = parse_schema(EXAMPLES[0])
    assert (s.name, s.overload_name, s.qualified_name) == ("aten::add", "Tensor", "aten::add.Tensor")
    self_, other, alpha = s.arguments
    assert self_ == ops.Argument("self", TensorType.get(), NO_DEFAULT, False, None)
    assert other.type == TensorType.get() and not other.has_default
    assert alpha == ops.Argument("alpha", NumberType.get(), 1, True, None)
    assert [r.type for r in s.returns] == [TensorType.get()]


def test_sum_dim_types_and_defaults():
    s = parse_schema(EXAMPLES[1])
    dim, keepdim, dtype = s.arguments[1:]
    assert dim.type == OptionalType(ListType(IntType.get())) and dim.fixed_size == 1
    assert keepdim.type == BoolType.get() and keepdim.default is False
    assert dtype.type == OptionalType(IntType.get()) and dtype.is_dtype and dtype.kwarg_only
    assert dtype.default is None


def test_fixed_size_list_and_scalar_default():
    s = ops.get("aten::conv2d").schema
    stride = s.argument("stride")
    assert stride.fixed_size == 2 and stride.default == 1
    assert stride.type_spelling() == "int[2]"


def test_multiple_returns_are_named():
    s = parse_schema(EXAMPLES[3])
    assert [(r.name, r.type) for r in s.returns] == [("values", TensorType.get()),
                                                     ("indices", TensorType.get())]
    assert s.overload_name == "dim" and s.name == "aten::max"


def test_no_overload_name():
    s = parse_schema(EXAMPLES[4])
    assert s.overload_name == "" and s.qualified_name == "aten::cat"
    assert s.arguments[0].type == ListType(TensorType.get())


@pytest.mark.parametrize("op", ops.all_ops(), ids=lambda op: op.qualified_name)
def test_every_registered_schema_round_trips(op):
    text = str(op.schema)
    assert parse_schema(text) == op.schema
    assert str(parse_schema(text)) == text


@pytest.mark.parametrize("text, offset", [
    ("add(Tensor self) -> Tensor", 3),                              # no namespace
    ("aten::add(Tensor self -> Tensor", 22),                        # unclosed
    ("aten::add(Tensr self) -> Tensor", 10),                        # unknown type
    ("aten::add(Tensor self, Tensor self) -> Tensor", 30),          # duplicate name
    ("aten::add(Tensor self, int x=1.5) -> Tensor", 29),            # default of wrong type
    ("aten::add(Tensor self, int x=1, int y) -> Tensor", 32),       # required after default
    ("aten::add(Tensor self, *, *, int y) -> Tensor", 26),          # two stars
    ("aten::add(Tensor self) Tensor", 23),                          # missing ->
    ("aten::add(Tensor self) -> Tensor junk", 33),                  # trailing text
    ("aten::add(int[0] x) -> Tensor", 14),                          # zero size
    ("aten::add(int[][] x) -> Tensor", 10),                         # list of lists
    ("aten::add(str s='abc) -> Tensor", 16),                        # unterminated string
    ("aten::add(Tensor self, int x=) -> Tensor", 29),               # missing default
])
def test_malformed_schemas_name_the_offset(text, offset):
    with pytest.raises(SchemaError, match=f"at offset {offset} "):
        parse_schema(text)


def test_non_string_schema():
    with pytest.raises(SchemaError, match="must be a str"):
        parse_schema(None)
