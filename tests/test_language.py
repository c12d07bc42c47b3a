"""jitcore.language: TorchScript's helpers, which mean something to the compiler and nothing to
Python (annotate, is_scripting and is_tracing are exercised in test_script_corpus.py)."""

import typing

import numpy as np
import pytest

import jitcore
from jitcore import nn


class _Scaled(nn.Module):
    scale: jitcore.Final[float]

    def __init__(self):
        super().__init__()
        self.scale = 2.5
        self.steps = jitcore.Attribute(3, int)

    def forward(self, x):
        return x * self.scale + float(self.steps)


def test_final_is_typing_final():
    assert jitcore.Final is typing.Final


def test_attribute_returns_its_value_and_checks_a_plain_type():
    assert jitcore.Attribute(3, int) == 3
    values = np.ones(2)
    assert jitcore.Attribute(values, np.ndarray) is values
    with pytest.raises(TypeError, match="is not of type int"):
        jitcore.Attribute("3", int)


def test_a_final_attribute_is_a_constant_and_an_attribute_an_attribute():
    module = _Scaled()
    scripted = jitcore.script(module)
    x = np.arange(3.0)
    np.testing.assert_array_equal(scripted(x), x * 2.5 + 3.0)
    kinds = {(n.kind, n.attr("name") if n.has_attr("name") else None) for n in scripted.graph.walk()}
    assert ("prim::GetAttr", "steps") in kinds and ("prim::GetAttr", "scale") not in kinds


def test_attribute_records_its_type_only_for_the_assignment_it_is_part_of():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            unused = jitcore.Attribute([], typing.List[str])    # not assigned: declares nothing
            self.a = jitcore.Attribute([], typing.List[float])
            self.b = unused

    module = Two()
    assert module.a == [] and module._attribute_types == {"a": typing.List[float]}
