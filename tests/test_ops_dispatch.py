"""``jitcore.ops.call``: eager execution, and handing ops to an active tracer."""

import threading

import numpy as np
import pytest

import jitcore.ops as ops
from jitcore._runtime.types import TensorType
from jitcore.errors import SchemaMatchError
from jitcore.ops.binding import type_of
from jitcore.ops.dispatch import Traceable, current_tracer, set_tracer


class FakeValue(Traceable):
    """A traced value: carries a type, as tracer values do."""

    def __init__(self, jit_type):
        self.jit_type = jit_type


class RecordingTracer:
    def __init__(self):
        self.records = []

    def record(self, opdef, full_args):
        self.records.append((opdef.qualified_name, full_args))
        # a tracer knows the Python values of constants; traced values stay UNKNOWN
        constants = [ops.UNKNOWN if isinstance(a, (Traceable, np.ndarray)) else a for a in full_args]
        (out_type,) = opdef.infer([type_of(a) for a in full_args], constants)
        return FakeValue(out_type)


@pytest.fixture
def tracer():
    t = RecordingTracer()
    previous = set_tracer(t)
    yield t
    set_tracer(previous)


def test_eager_call_runs_reference():
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(ops.call("aten::relu", x), [0.0, 2.0])
    np.testing.assert_array_equal(ops.call("aten::add", x, x, alpha=2), [-3.0, 6.0])
    assert ops.call("aten::add", 2, 3) == 5
    assert current_tracer() is None


def test_tracer_records_when_an_argument_is_traceable(tracer):
    v = FakeValue(TensorType("float32", (2, 3)))
    out = ops.call("aten::add", v, np.ones((3,), np.float32))
    assert isinstance(out, FakeValue) and out.jit_type == TensorType("float32", (2, 3))
    name, args = tracer.records[0]
    assert name == "aten::add.Tensor" and args[0] is v and args[2] == 1


def test_traceable_inside_a_list_is_found(tracer):
    v = FakeValue(TensorType("float32", (2, 3)))
    ops.call("aten::cat", [np.ones((1, 3), np.float32), v], dim=0)
    assert tracer.records[-1][0] == "aten::cat"


def test_active_tracer_without_traceables_runs_eagerly(tracer):
    out = ops.call("aten::mul", np.full(2, 3.0), 2.0)
    np.testing.assert_array_equal(out, [6.0, 6.0])
    assert tracer.records == []


def test_tracer_is_thread_local(tracer):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(current_tracer()))
    thread.start()
    thread.join()
    assert seen == [None] and current_tracer() is tracer


def test_set_tracer_validates_and_returns_previous(tracer):
    with pytest.raises(TypeError, match="record"):
        set_tracer(object())
    assert set_tracer(None) is tracer
    assert set_tracer(tracer) is None


def test_type_of_python_values():
    assert str(type_of([1, 2])) == "int[]" and str(type_of(np.float32(1))) == "Float()"
    # a list of tensors keeps what its items share: dtype and rank (split's pieces)
    assert str(type_of([np.ones(2), np.ones(3)])) == "Double(*)[]"
    assert str(type_of([np.ones(2), np.ones((2, 2), np.float32)])) == "Tensor[]"
    with pytest.raises(TypeError, match="mixed types"):
        type_of([1, "a"])
    with pytest.raises(TypeError, match="cannot be an op input"):
        type_of({})


def test_bad_arguments_raise_before_tracing(tracer):
    with pytest.raises(SchemaMatchError, match="aten::relu"):
        ops.call("aten::relu", FakeValue(TensorType.get()), 3)
    assert tracer.records == []
