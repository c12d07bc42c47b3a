# Type information for the IR's types (Cython: jitcore/_runtime/types.pyx).
from typing import Any, Sequence

import numpy.typing as npt

DTYPES: tuple[str, ...]

def dtype_name(dtype: npt.DTypeLike | None) -> str | None: ...

class JitType:
    kind: str
    def is_subtype_of(self, other: JitType) -> bool: ...

class IntType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class FloatType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class BoolType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class StrType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class NoneType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class NumberType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class AnyType:
    """A factory: ``get()`` returns the one JitType of this kind."""
    @staticmethod
    def get() -> JitType: ...

class TensorType(JitType):
    dtype: str | None
    shape: tuple[int | None, ...] | None
    def __init__(self, dtype: npt.DTypeLike | None = ..., shape: Sequence[int | None] | None = ...) -> None: ...
    @staticmethod
    def get() -> TensorType: ...
    @staticmethod
    def from_array(array: npt.NDArray[Any]) -> TensorType: ...
    @property
    def rank(self) -> int | None: ...
    def with_dtype(self, dtype: npt.DTypeLike | None) -> TensorType: ...
    def with_shape(self, shape: Sequence[int | None] | None) -> TensorType: ...
    def with_rank(self, rank: int) -> TensorType: ...
    def unrefined(self) -> TensorType: ...
    def is_complete(self) -> bool: ...

class ListType(JitType):
    elem: JitType
    def __init__(self, elem: JitType) -> None: ...
    @staticmethod
    def of_ints() -> ListType: ...
    @staticmethod
    def of_tensors() -> ListType: ...

class OptionalType(JitType):
    elem: JitType
    def __init__(self, elem: JitType) -> None: ...

class UnionType(JitType):
    members: tuple[JitType, ...]
    def __init__(self, members: Sequence[JitType]) -> None: ...

class TupleType(JitType):
    elems: tuple[JitType, ...]
    def __init__(self, elems: Sequence[JitType]) -> None: ...

class DictType(JitType):
    key: JitType
    value: JitType
    def __init__(self, key: JitType, value: JitType) -> None: ...

class ClassType(JitType):
    name: str
    def __init__(self, name: str) -> None: ...

class TypeParseError(ValueError): ...

def parse_type(text: str) -> JitType: ...
