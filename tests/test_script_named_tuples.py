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


def _same(ours, theirs):
    if isinstance(theirs, tuple):
        assert type(ours) is tuple and len(ours) == len(theirs)     # a NamedTuple leaves as a tuple
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn, make_args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_named_tuple_code_matches_python(fn, make_args):
    x = np.arange(6.0).reshape(2, 3)
    scripted = jitcore.script(fn)
    scripted.graph.lint()
    _same(scripted(*make_args(x)), fn(*make_args(x)))
    _same(script_source(scripted.code)(*make_args(x)), fn(*make_args(x)))


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
