"""Which ops are chain steps, read from the registry (``passes/chain_program.py``).

The fusion tests (test_passes_fuse_elementwise.py) and the runtime tests of
the tiled chain kernel (test_runtime_op_fused.py) check the values; this
module checks the one table: the registry's ``kernel`` and ``chain_step``
fields against the kernels the chain kernel runs.
"""

import pytest

from jitcore import ops
from jitcore.ops import Effect
from jitcore._runtime.ir import Graph
from jitcore._runtime.kernels import elementwise as ew
from jitcore._runtime.op_fused import (
    CHAIN_BINARY_KERNELS, CHAIN_PARAM_KERNELS, CHAIN_UNARY_KERNELS,
)
from jitcore._runtime.types import TensorType
from jitcore.passes.chain_program import chain_step

FLOAT = TensorType("float32", (4, 5))


def _node_at_defaults(op, tensor_type=FLOAT):
    """A one-node graph of ``op``: tensor arguments are graph inputs, the others
    constants at their defaults (2.0 for a number without one)."""
    graph = Graph()
    values = []
    for argument in op.schema.arguments:
        kind = str(argument.type)
        if kind.startswith("Tensor"):
            values.append(graph.add_input(None, tensor_type))
        elif argument.has_default:
            values.append(graph.insert_constant(argument.default, argument.type))
        else:
            values.append(graph.insert_constant(2.0, argument.type))
    node = graph.insert(op.kind, values, output_types=[tensor_type])
    return node


def _kernel_ops():
    return [op for op in ops.all_ops() if op.kernel is not None and op.effect is Effect.PURE]


def test_an_in_place_update_is_never_a_chain_step():
    for op in ops.all_ops():
        if op.kernel is not None and op.effect is Effect.MUTATES:
            graph = Graph()
            x = graph.add_input("x", TensorType("float32", (3,)))
            node = graph.insert(op.kind, [x, x] + [graph.insert_constant(1)
                                                  for _ in op.schema.arguments[2:]],
                                output_types=[x.type])
            assert chain_step(node) is None, op.qualified_name


@pytest.mark.parametrize("op", _kernel_ops(), ids=lambda op: op.qualified_name)
def test_an_op_naming_a_float_kernel_is_a_chain_step_of_that_kernel(op):
    node = _node_at_defaults(op)
    step = chain_step(node)
    if op.kernel in CHAIN_UNARY_KERNELS or op.kernel in CHAIN_BINARY_KERNELS:
        assert step is not None, f"{op.qualified_name} names kernel {op.kernel} but does not fuse"
        kernel, operands, params = step
        assert kernel == op.kernel and params == ()
        assert operands == list(node.inputs)[:len(operands)]
    else:
        # bool results (comparisons, logical ops) and integer-only (bitwise) kernels
        assert step is None, f"{op.qualified_name} runs {op.kernel}, no float chain step"


@pytest.mark.parametrize("op", [op for op in ops.all_ops() if op.chain_step is not None],
                         ids=lambda op: op.qualified_name)
def test_a_chain_step_field_gives_a_kernel_the_chain_runs_at_the_defaults(op):
    kernel, operands, params = chain_step(_node_at_defaults(op))
    assert kernel in CHAIN_PARAM_KERNELS or kernel in CHAIN_UNARY_KERNELS
    assert len(params) == (2 if kernel in CHAIN_PARAM_KERNELS else 0)


def test_a_kernel_name_means_one_kind_of_step():
    assert not (set(ew.UNARY_OPS) & set(ew.PARAM_OPS))
    assert not (CHAIN_UNARY_KERNELS & CHAIN_BINARY_KERNELS)
    assert CHAIN_BINARY_KERNELS.isdisjoint(ew.BOOL_BINARY_OPS | ew.INT_BINARY_OPS)


def test_only_the_overload_with_the_kernel_fuses():
    # aten::max is a reduction and, as max.other, the binary maximum: the node's
    # overload decides, not its kind
    (other,) = [op for op in ops.overloads("aten::max") if op.qualified_name == "aten::max.other"]
    (whole,) = [op for op in ops.overloads("aten::max") if op.qualified_name == "aten::max"]
    assert chain_step(_node_at_defaults(other))[0] == "maximum"
    assert chain_step(_node_at_defaults(whole)) is None


@pytest.mark.parametrize("kind, constants, expected", [
    ("aten::gelu", ("tanh",), ("gelu_tanh", ())),
    ("aten::gelu", ("erf",), None),
    ("aten::softplus", (2, 20), None),
    ("aten::leaky_relu", (0.2,), ("leaky_relu", (0.2, 0.0))),
    ("aten::elu", (1.5, 1, 1), ("elu", (1.5, 0.0))),
    ("aten::elu", (1.0, 2.0, 1), None),
    ("aten::hardtanh", (-2, 3), ("hardtanh", (-2.0, 3.0))),
    ("aten::clamp", (None, 6), ("hardtanh", (float("-inf"), 6.0))),
    ("aten::clamp", (True, 6), None),
])
def test_chain_steps_follow_the_constant_arguments(kind, constants, expected):
    (op,) = [o for o in ops.overloads(kind) if "Tensor" not in str(o.schema.arguments[-1].type)]
    graph = Graph()
    x = graph.add_input(None, FLOAT)
    values = [graph.insert_constant(c, a.type) for c, a in zip(constants, op.schema.arguments[1:])]
    node = graph.insert(kind, [x] + values, output_types=[FLOAT])
    step = chain_step(node)
    assert (None if step is None else (step[0], step[2])) == expected


def test_a_non_constant_parameter_is_no_chain_step():
    (op,) = ops.overloads("aten::leaky_relu")
    graph = Graph()
    x = graph.add_input(None, FLOAT)
    slope = graph.add_input(None, op.schema.arguments[1].type)
    assert chain_step(graph.insert("aten::leaky_relu", [x, slope], output_types=[FLOAT])) is None
