"""jitcore.ops.namespace: ops as attributes, eagerly, traced and scripted."""

import numpy as np
import pytest

import jitcore
from jitcore.errors import SchemaMatchError
from jitcore.ops.namespace import OpNamespace, aten


def _tanh_times(x):
    # script's op namespaces take every argument, as ``.code`` prints them
    return aten.mul(aten.tanh(x), x)


def test_an_attribute_runs_the_op_eagerly_traced_and_scripted():
    x = np.linspace(-2, 2, 7)
    want = _tanh_times(x)
    np.testing.assert_allclose(want, np.tanh(x) * x)
    for compiled in (jitcore.trace(_tanh_times, (x,)), jitcore.script(_tanh_times)):
        assert "aten::tanh" in str(compiled.graph)
        np.testing.assert_allclose(compiled(x), want, rtol=1e-12)


def test_an_unknown_op_or_bad_arguments_raise_the_dispatcher_error():
    with pytest.raises(SchemaMatchError):
        aten.no_such_op(np.ones(2))
    assert repr(OpNamespace("prim")) == "<op namespace 'prim'>"
