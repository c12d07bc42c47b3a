from jitcore._runtime.ir import (
    Block as Block,
    Graph as Graph,
    IRError as IRError,
    Node as Node,
    SourceRange as SourceRange,
    Use as Use,
    Value as Value,
    constant_type as constant_type,
)
from jitcore._runtime.types import (
    AnyType as AnyType,
    BoolType as BoolType,
    ClassType as ClassType,
    DictType as DictType,
    FloatType as FloatType,
    IntType as IntType,
    JitType as JitType,
    ListType as ListType,
    NoneType as NoneType,
    NumberType as NumberType,
    OptionalType as OptionalType,
    StrType as StrType,
    TensorType as TensorType,
    TupleType as TupleType,
    parse_type as parse_type,
)

def parse_graph(text: str, *, tensor_table: dict[str, object] | None = ...) -> Graph: ...
def print_graph(graph: Graph, *, source_ranges: bool = ..., tensor_table: dict[str, object] | None = ...) -> str: ...

__all__: list[str]
