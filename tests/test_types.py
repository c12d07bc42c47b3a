"""IR types: spelling, parsing, equality and subtyping."""

import numpy as np
import pytest

from jitcore._runtime.types import (
    AnyType, BoolType, ClassType, DictType, FloatType, IntType, ListType, NoneType, NumberType,
    OptionalType, StrType, TensorType, TupleType, TypeParseError, dtype_name, parse_type,
    UnionType,
)

SPELLINGS = [
    "Tensor", "Float(1, 4)", "Double(*, 3)", "Long()", "Int(2)", "Bool(0, 5)", "Float",
    "Tensor(2, *)", "int", "float", "bool", "str", "NoneType", "Scalar", "Any",
    "int[]", "Tensor[]", "float?", "Tensor?[]", "(int, Tensor)", "()", "(Float(1), int?)[]",
    "Dict(str, Tensor)", "__jitcore__.Net", "__jitcore__.nn.Linear",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_spelling_round_trips(text):
    assert str(parse_type(text)) == text


def test_torchscript_spellings_are_accepted():
    # TorchScript prints strides (1:4) and keyword details; we keep dims only.
    assert parse_type("Float(1:4, 4:1)") == TensorType("float32", (1, 4))
    assert parse_type("Float(1, 4, strides=[4, 1], requires_grad=0, device=cpu)") == TensorType(
        "float32", (1, 4))
    assert parse_type("List[Optional[int]]") == ListType(OptionalType(IntType.get()))
    assert parse_type("Tuple[int, float]") == TupleType([IntType.get(), FloatType.get()])
    assert parse_type("Dict[str, Tensor]") == DictType(StrType.get(), TensorType.get())


@pytest.mark.parametrize("bad, fragment", [
    ("Flot(1)", "unknown type 'Flot'"),
    ("Float(1, x)", "expected a dimension"),
    ("(int, ", "expected a type"),
    ("int]", "unexpected"),
    ("List[int", "expected ']'"),
    ("Optional[int, int]", "Optional takes one element type"),
])
def test_parse_errors_name_the_problem(bad, fragment):
    with pytest.raises(TypeParseError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        parse_type(bad)


def test_tensor_type_refinement_and_subtyping():
    t = TensorType("float32", (1, 4))
    assert t.is_subtype_of(TensorType.get())
    assert t.is_subtype_of(TensorType("float32", (None, 4)))
    assert t.is_subtype_of(TensorType(None, (1, 4)))
    assert not t.is_subtype_of(TensorType("float64"))
    assert not t.is_subtype_of(TensorType("float32", (1, 4, 1)))
    assert not TensorType.get().is_subtype_of(t)
    assert t.is_complete() and not TensorType("float32", (None, 4)).is_complete()
    assert t.rank == 2 and TensorType.get().rank is None
    assert TensorType.from_array(np.zeros((2, 3), np.int64)) == TensorType("int64", (2, 3))
    assert t.with_dtype(np.float64) == TensorType("float64", (1, 4))
    assert str(t.with_rank(3)) == "Float(*, *, *)"


def test_scalar_optional_list_tuple_subtyping():
    i, f, b = IntType.get(), FloatType.get(), BoolType.get()
    for s in (i, f, b):
        assert s.is_subtype_of(NumberType.get())
        assert s.is_subtype_of(OptionalType(s))
        assert s.is_subtype_of(AnyType.get())
    assert not StrType.get().is_subtype_of(NumberType.get())
    assert NoneType.get().is_subtype_of(OptionalType(TensorType.get()))
    assert not NoneType.get().is_subtype_of(TensorType.get())
    assert OptionalType(TensorType("float32")).is_subtype_of(OptionalType(TensorType.get()))
    assert ListType(TensorType("float32", (2,))).is_subtype_of(ListType(TensorType.get()))
    assert not ListType(i).is_subtype_of(ListType(f))  # lists are invariant
    assert TupleType([t for t in (i, TensorType("float32"))]).is_subtype_of(
        TupleType([NumberType.get(), TensorType.get()]))
    assert not TupleType([i]).is_subtype_of(TupleType([i, i]))


def test_equality_and_hashing():
    assert TensorType("float32", (1, 4)) == parse_type("Float(1, 4)")
    assert len({TensorType("float32", (1, 4)), parse_type("Float(1, 4)"), TensorType.get()}) == 2
    assert IntType.get() is IntType.get()
    assert ClassType("__jitcore__.A") != ClassType("__jitcore__.B")


def test_dtype_names():
    assert dtype_name(np.float32) == "float32"
    assert dtype_name("bool") == "bool"
    with pytest.raises(TypeError, match="unsupported dtype 'complex64'"):
        dtype_name(np.complex64)
    with pytest.raises(ValueError, match="dimensions must be >= 0"):
        TensorType("float32", (-1,))


def test_union_types_flatten_spell_and_subtype():
    i, f, t = IntType.get(), FloatType.get(), TensorType.get()
    u = UnionType([i, UnionType([f, i])])
    assert u.members == (i, f) and str(u) == "Union[int, float]"
    assert parse_type("Union[int, float]") == u
    assert i.is_subtype_of(u) and f.is_subtype_of(u) and not t.is_subtype_of(u)
    assert u.is_subtype_of(UnionType([f, t, i])) and not u.is_subtype_of(i)
    assert u.is_subtype_of(OptionalType(u))
    with pytest.raises(TypeError, match="two or more"):
        UnionType([i, i])
