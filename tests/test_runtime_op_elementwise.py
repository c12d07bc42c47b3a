"""``_runtime/op_elementwise``: the registry's ``kernel`` fields drive the unary handlers."""
import math

import numpy as np
import pytest
import scipy.special

import jitcore
from jitcore import ops
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore._runtime.kernels import elementwise as ew
from jitcore._runtime.lowering import supported_ops

# Kernels no op names directly: the gelu and softplus handlers pick them from
# their scalar arguments; positive and isnan serve other handlers.
INTERNAL_KERNELS = {"gelu", "gelu_tanh", "softplus", "positive", "isnan", "logical_not"}


def test_every_kernel_field_names_a_kernel_and_the_op_lowers():
    supported = set(supported_ops())
    named = [op for op in ops.all_ops() if op.kernel is not None]
    assert named
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


def test_integer_floor_keeps_its_dtype_as_the_registry_says():
    def f(x):
        return np.floor(x)
    traced = jitcore.trace(f, (np.arange(5, dtype=np.int64),))
    got = traced(np.arange(5, dtype=np.int64))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.arange(5))
