"""NamedTuples in jitcore.script (frontend/script/named_tuples.py): construction with positional
fields, keywords and defaults, field access by name, NamedTuple arguments, and the errors."""

from typing import NamedTuple

import numpy as np
import pytest

import jitcore
from jitcore import CompileError
from jitcore.frontend.script.source_text import script_source


class Pair(NamedTuple):
    first: np.ndarray
    second: np.ndarray


class Stats(NamedTuple):
    mean: np.ndarray
    count: int = 1
    scale: float = 1.0


def make_pair(x):
    return Pair(x * 2.0, x + 1.0)


def read_fields(x):
    p = Pair(x, x * 3.0)
    return p.first + p.second


def keywords_and_defaults(x):
    s = Stats(x, scale=2)       # an int for a float field converts, as TorchScript does
    return s.mean * s.scale + float(s.count)


def pair_argument(p: Pair):
    return p.first * p.second


def annotated_result(x) -> Stats:
    return Stats(mean=x.mean(0), count=2)


CASES = [(make_pair, lambda x: (x,)), (read_fields, lambda x: (x,)),
         (keywords_and_defaults, lambda x: (x,)), (pair_argument, lambda x: (Pair(x, x + 1),)),
         (annotated_result, lambda x: (x,))]


def _same(ours, theirs, as_class=False):
    if isinstance(theirs, tuple):
        # the class when the function is annotated to return it, else a plain tuple
        assert type(ours) is (type(theirs) if as_class else tuple), (type(ours), type(theirs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn, make_args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_named_tuple_code_matches_python(fn, make_args):
    x = np.arange(6.0).reshape(2, 3)
    scripted = jitcore.script(fn)
    scripted.graph.lint()
    annotated = fn is annotated_result
    _same(scripted(*make_args(x)), fn(*make_args(x)), as_class=annotated)
    _same(scripted.call_reference(*make_args(x)), fn(*make_args(x)), as_class=annotated)
    # `.code` annotates the result with the tuple type
    _same(script_source(scripted.code)(*make_args(x)), fn(*make_args(x)))


class Summarize(jitcore.nn.Module):
    def forward(self, x) -> Stats:
        return Stats(x.sum(0), x.shape[0], 0.5)


def test_a_module_annotated_to_return_a_named_tuple_returns_the_class():
    x = np.arange(6.0).reshape(3, 2)
    expected = Summarize()(x)
    scripted = jitcore.script(Summarize().eval())
    for model in (scripted, jitcore.freeze(scripted), jitcore.optimize_for_inference(scripted)):
        result = model(x)
        assert type(result) is Stats and result.count == 3 and result.scale == 0.5
        np.testing.assert_array_equal(result.mean, expected.mean)


def test_a_loaded_archive_returns_a_named_tuple_of_the_same_fields(tmp_path):
    # the archive stores the class and field names, never the class: a loaded model
    # returns a collections.namedtuple made from them
    scripted = jitcore.script(annotated_result)
    jitcore.save(scripted, tmp_path / "stats.jc")
    loaded = jitcore.load(tmp_path / "stats.jc")
    x = np.arange(6.0).reshape(2, 3)
    result = loaded(x)
    assert type(result) is not Stats and type(result).__name__ == "Stats"
    assert result._fields == Stats._fields
    _same(tuple(result), tuple(annotated_result(x)))


def missing_field(x):
    return Pair(x)


def unknown_field(x):
    return Pair(x, x).third


def wrong_field_type(x):
    return Stats(x, count=2.5)


@pytest.mark.parametrize("fn, message", [
    (missing_field, "Pair is missing the field 'second'"),
    (unknown_field, "Pair has no field 'third'"),
    (wrong_field_type, "Stats: field 'count' is int but got float"),
])
def test_named_tuple_errors_name_the_field(fn, message):
    with pytest.raises(CompileError, match=message):
        jitcore.script(fn)


def test_isinstance_with_types_not_known_when_compiling_reads_them_at_run_time():
    from jitcore.errors import JitcoreError
    from jitcore.executor import compile_graph
    from jitcore.ir import parse_graph
    text = ("graph(%x : int, %types : str):\n"
            "  %b : bool = prim::isinstance(%x, %types)\n  return (%b)\n")
    compiled = compile_graph(parse_graph(text), fallback=False)
    assert compiled(3, "float,int") is True
    assert compiled(3, "float") is False
    assert compiled(3, "Tensor,int") is True
    with pytest.raises(JitcoreError, match="unknown type kind"):
        compiled(3, "float,integer")


def cast_to_a_wider_type(n: int):
    return unchecked_cast(float, n)     # noqa: F821  (a name only .code spells)


def test_unchecked_cast_only_narrows():
    with pytest.raises(CompileError, match="unchecked_cast\\(\\) narrows a value to one of its "
                                           "types; float is not a int"):
        jitcore.script(cast_to_a_wider_type)
