"""List and dict module attributes (frontend/script/module_attributes.py): typed from
jitcore.Attribute, a class annotation or the values; read in script, trace, freeze and
optimize_for_inference, `.code` and archives; a write to one is a compile error.

Each module of ``MODULES`` is scripted, linted and compared with plain Python on several
inputs, also after ``freeze``/``optimize_for_inference``, re-scripted from its ``.code``,
and saved and loaded.  ``ERRORS`` are the negative cases: message and underlined source."""

import copy
from typing import Dict, List

import numpy as np
import pytest

import jitcore
import jitcore.nn as nn
from jitcore.errors import CompileError
from jitcore.frontend.script import script
from jitcore.serialization import load_from_buffer, save_to_bytes

from test_script_errors import _underlined
from test_script_nn_layers import _rescripted

RNG = np.random.default_rng(16)


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------------ positive

class LoopOverSizes(nn.Module):
    """`for s in self.sizes`, `self.sizes[i]`, `len`, `in` on an inferred List[int]."""

    def __init__(self):
        super().__init__()
        self.sizes = [1, 2, 3]

    def forward(self, x, i: int):
        total = 0
        for s in self.sizes:
            total += s
        if 2 in self.sizes and 7 not in self.sizes:
            total += len(self.sizes)
        return x * float(total + self.sizes[i])


class DictOfScales(nn.Module):
    """`self.scales["a"]`, `in`, `len`, `.items()` on an inferred Dict[str, float]."""

    def __init__(self):
        super().__init__()
        self.scales = {"a": 0.5, "b": 2.0, "c": -1.0}

    def forward(self, x, key: str):
        y = x
        if key in self.scales:
            y = y * self.scales[key]
        for name, scale in self.scales.items():
            if name != key:
                y = y + scale
        return y + float(len(self.scales))


class DeclaredByAttribute(nn.Module):
    """`jitcore.Attribute([], List[int])`: an empty list typed by its declaration."""

    def __init__(self, history):
        super().__init__()
        self.history = jitcore.Attribute(history, List[int])
        self.table = jitcore.Attribute({}, Dict[int, str])

    def forward(self, x):
        n = len(self.history) + len(self.table)
        for h in self.history:
            n += h
        return x + float(n)


class DeclaredByAnnotation(nn.Module):
    """Class-level annotations type the attributes (`List[float]` holding ints too)."""

    weights: List[float]
    words: Dict[str, List[int]]

    def __init__(self):
        super().__init__()
        self.weights = [1, 0.5, 2]
        self.words = {"one": [1], "none": [], "two": [2, 2]}

    def forward(self, x, word: str):
        y = x * self.weights[0] + self.weights[1]
        for v in self.words[word]:
            y = y + float(v)
        return y * float(len(self.words[word]))


class NestedLists(nn.Module):
    """A List[List[int]] read row by row, and a copy of one that the method writes."""

    def __init__(self):
        super().__init__()
        self.blocks = [[0, 1], [2], [3, 4, 5]]

    def forward(self, x):
        out: List[np.ndarray] = []
        for block in self.blocks:
            picked = block.copy()
            picked.append(0)
            acc = x[0] * 0.0
            for i in picked:
                acc = acc + x[i]
            out.append(acc)
        return np.stack(out)


class HelperReadsTheList(nn.Module):
    """The list passed to a method that only reads it; a submodule reads its own dict."""

    def __init__(self):
        super().__init__()
        self.dims = [2, 3]
        self.inner = DictOfScales()

    def forward(self, x):
        return self.inner(x, "b") * float(self.product(self.dims))

    def product(self, xs: List[int]) -> int:
        p = 1
        for v in xs:
            p *= v
        return p


class ReadsAChildsList(nn.Module):
    """`self.child.sizes`: a submodule's list read by the parent."""

    def __init__(self):
        super().__init__()
        self.child = LoopOverSizes()

    def forward(self, x):
        return self.child(x, 1) + float(self.child.sizes[-1])


class Permute(nn.Module):
    """torchvision's ``Permute`` (ConvNeXt): the axes a list attribute, np.transpose's."""

    def __init__(self, dims: List[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return np.transpose(x, self.dims) * 2.0


MODULES = [
    (LoopOverSizes, lambda: [(arr(3), 0), (arr(2, 3), 2), (arr(4), -1)]),
    (DictOfScales, lambda: [(arr(3), "a"), (arr(2, 2), "c"), (arr(1), "zz")]),
    (lambda: DeclaredByAttribute([]), lambda: [(arr(3),), (arr(2, 2),)]),
    (lambda: DeclaredByAttribute([4, 5]), lambda: [(arr(3),)]),
    (DeclaredByAnnotation, lambda: [(arr(3), "one"), (arr(2), "two"), (arr(2), "none")]),
    (NestedLists, lambda: [(arr(6, 3),), (arr(7, 2),)]),
    (HelperReadsTheList, lambda: [(arr(3),), (arr(2, 4),)]),
    (ReadsAChildsList, lambda: [(arr(3),), (arr(1, 2),)]),
    (lambda: Permute([0, 2, 3, 1]), lambda: [(arr(1, 2, 3, 4),), (arr(2, 3, 1, 5),)]),
]
IDS = [f"{i}-{getattr(make, '__name__', 'lambda')}" for i, (make, _) in enumerate(MODULES)]


def _same(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    assert actual.dtype == expected.dtype


@pytest.mark.parametrize("make, make_inputs", MODULES, ids=IDS)
def test_scripted_frozen_and_loaded_match_python(make, make_inputs):
    module = make().eval()
    scripted = script(copy.deepcopy(module))
    scripted.graph.lint()
    compiled = {"scripted": scripted, "frozen": jitcore.freeze(scripted),
                "optimized": jitcore.optimize_for_inference(scripted),
                "loaded": load_from_buffer(save_to_bytes(scripted))}
    for inputs in make_inputs():
        expected = module(*inputs)
        for how, model in compiled.items():
            _same(model(*inputs), expected)
        _same(scripted.call_reference(*inputs), expected)


@pytest.mark.parametrize("make, make_inputs", MODULES, ids=IDS)
def test_code_rescripts(make, make_inputs):
    # the scripted code reads self.<attribute>; the frozen code holds the values as literals
    module = make().eval()
    scripted = script(copy.deepcopy(module))
    for compiled in (scripted, jitcore.freeze(scripted), jitcore.optimize_for_inference(scripted)):
        rescripted = _rescripted(compiled, copy.deepcopy(module))
        rescripted.graph.lint()
        for inputs in make_inputs():
            _same(rescripted(*inputs), module(*inputs))


def test_the_graph_reads_typed_attributes():
    graph = str(script(DeclaredByAnnotation()).graph)
    assert 'float[] = prim::GetAttr[name="weights"]' in graph
    assert 'Dict(str, int[]) = prim::GetAttr[name="words"]' in graph
    assert 'Dict(int, str) = prim::GetAttr[name="table"]' in str(script(DeclaredByAttribute([])).graph)


def test_compiled_code_reads_the_current_list_at_each_call():
    module = LoopOverSizes()
    scripted = script(module)
    assert scripted.sizes is module.sizes
    x = arr(3)
    before = scripted(x, 0)
    module.sizes.append(10)
    _same(scripted(x, -1), module(x, -1))
    assert not np.allclose(scripted(x, 0), before)


def test_freezing_folds_a_list_into_a_constant():
    frozen = jitcore.freeze(script(LoopOverSizes().eval()))
    assert "prim::GetAttr" not in str(frozen.graph)
    assert "int[] = prim::Constant[value=[1, 2, 3]]" in str(frozen.graph)


def test_trace_reads_the_attributes_in_python():
    class Traced(nn.Module):
        def __init__(self):
            super().__init__()
            self.sizes = [1, 2]
            self.scales = {"a": 3.0}

        def forward(self, x):
            y = x[:, 0]
            for s in self.sizes:
                y = y + x[:, s]
            return y * self.scales["a"]
    module = Traced()
    x = arr(2, 4)
    traced = jitcore.trace(module, (x,))
    _same(traced(x), module(x))
    _same(load_from_buffer(save_to_bytes(traced))(x), module(x))


# ------------------------------------------------------------------------------ negative

class AppendsToHistory(nn.Module):
    def __init__(self):
        super().__init__()
        self.history = jitcore.Attribute([], List[int])

    def forward(self, x):
        self.history.append(x.shape[0])
        return x


class WritesThroughAnAlias(nn.Module):
    def __init__(self):
        super().__init__()
        self.names = {"a": 1}

    def forward(self, x):
        d = self.names
        d["b"] = 2
        return x


def _appends_one(xs: List[int]) -> int:
    xs.append(1)
    return len(xs)


class HelperWrites(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = [1]

    def forward(self, x):
        return x * float(_appends_one(self.sizes))


class WritesANestedRow(nn.Module):
    def __init__(self):
        super().__init__()
        self.rows = [[1], [2]]

    def forward(self, x):
        row = self.rows[0]
        row.append(2)
        return x


class EmptyWithoutType(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        return x * float(len(self.seen))


class MixedItems(nn.Module):
    def __init__(self):
        super().__init__()
        self.steps = [1, 2.5]

    def forward(self, x):
        return x * self.steps[0]


class DeclaredWrong(nn.Module):
    names: List[str]

    def __init__(self):
        super().__init__()
        self.names = ["a", 2]

    def forward(self, x):
        return x * float(len(self.names))


class FloatKeys(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = {0.5: 1}

    def forward(self, x):
        return x * float(len(self.table))


class ListOfObjects(nn.Module):
    def __init__(self):
        super().__init__()
        self.things = [object()]

    def forward(self, x):
        return x * float(len(self.things))


ERRORS = [
    (AppendsToHistory, "cannot modify module state: this writes the List[int] attribute 'history' that AppendsToHistory.forward reads",
     "self.history.append(x.shape[0])"),
    (WritesThroughAnAlias, "cannot modify module state: this writes the Dict[str, int] attribute 'names' that WritesThroughAnAlias.forward reads",
     'd["b"] = 2'),
    (HelperWrites, "cannot modify module state: this writes the List[int] attribute 'sizes' that HelperWrites.forward reads",
     "xs.append(1)"),
    (WritesANestedRow, "cannot modify module state: this writes the List[List[int]] attribute 'rows' that WritesANestedRow.forward reads",
     "row.append(2)"),
    (EmptyWithoutType, "cannot infer the type of attribute 'seen' of module EmptyWithoutType: "
     "self.seen is an empty list; declare it", "self.seen"),
    (MixedItems, "the items of self.steps have different types (int and float)", "self.steps"),
    (DeclaredWrong, "attribute 'names' of module DeclaredWrong is declared List[str] (by a class "
     "annotation) but self.names[1] is an int (2)", "self.names"),
    (FloatKeys, "the keys of self.table are float, not str or int", "self.table"),
    (ListOfObjects, "self.things[0] is an object, not an int, float, bool, str, list or dict",
     "self.things"),
]


@pytest.mark.parametrize("make, message, underlined", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_compile_error(make, message, underlined):
    with pytest.raises(CompileError) as info:
        script(make())
    error = info.value
    assert message in str(error)
    assert "<--- HERE" in str(error)
    assert error.source_range.filename == __file__
    assert _underlined(error) == underlined


def test_a_write_runs_in_python_but_is_refused_compiled():
    module = AppendsToHistory()
    module(arr(3))
    assert module.history == [3]
