"""The string handlers (_runtime/op_string.pyx) and string registers (registers.pyx's Str)
against Python: each op on its samples as inputs and as constants, property tests of
split/join/strip/slicing/find/replace, four threads sharing one compiled function, and
string values crossing the call boundary (arguments, results, lists and dicts of them)."""

import threading

import pytest
from hypothesis import given, settings, strategies as st

import jitcore.ops as ops
from jitcore._runtime.op_string import HANDLERS
from jitcore._runtime.types import ListType, OptionalType, StrType
from jitcore.errors import JitcoreError
from jitcore.executor import compile_graph
from jitcore.ir import Graph, parse_graph
from jitcore.ops.binding import type_of

from _op_samples import sample_args

STRING_OPS = sorted(op.qualified_name for op in ops.all_ops()
                    if op.handler and op.handler[0] in HANDLERS)


def _graph(op, args, as_constants):
    g = Graph()
    values = []
    formals = list(op.schema.arguments)
    for k, a in enumerate(args):
        formal = formals[k] if k < len(formals) else None       # format's values: varargs
        t = type_of(a)
        if a is None and formal is not None and isinstance(formal.type, OptionalType):
            t = formal.type
        if isinstance(a, list) and not a:
            t = ListType(StrType.get())
        values.append(g.insert_constant(a, type=t) if as_constants else g.add_input(None, t))
    out_types = list(op.infer([v.type for v in values], [ops.UNKNOWN] * len(values)))
    node = g.insert(op.kind, values, num_outputs=len(out_types), output_types=out_types)
    for value in node.outputs:
        g.register_output(value)
    return g


@pytest.mark.parametrize("as_constants", [False, True], ids=["inputs", "constants"])
@pytest.mark.parametrize("name", STRING_OPS)
def test_op_matches_python(name, as_constants):
    op = ops.get(name)
    for args in sample_args(name, "float32"):
        run = compile_graph(_graph(op, args, as_constants), fallback=False)
        got = run() if as_constants else run(*args)
        want = op.reference(*args)
        assert type(got) is type(want) and got == want, (name, args, got, want)


def test_every_string_op_is_tested_here():
    assert len(STRING_OPS) >= 30


def _op(name, *args):
    return compile_graph(_graph(ops.get(name), list(args), False), fallback=False)(*args)


TEXT = st.text(alphabet=st.sampled_from("ab ,\t\u00e9\u3000\U0001d11eX"), max_size=12)
SEPARATOR = st.sampled_from([None, ",", " ", "ab", "\u00e9"])


@settings(max_examples=60, deadline=None)
@given(TEXT, SEPARATOR, st.integers(-1, 3))
def test_split_is_pythons(s, sep, maxsplit):
    assert _op("aten::split.str", s, sep, maxsplit) == s.split(sep, maxsplit)


@settings(max_examples=40, deadline=None)
@given(st.lists(TEXT, max_size=4), TEXT)
def test_join_is_pythons(items, sep):
    assert _op("aten::join", sep, items) == sep.join(items)


@settings(max_examples=60, deadline=None)
@given(TEXT, st.sampled_from([None, "a", " ,", "\u3000X"]))
def test_strips_are_pythons(s, chars):
    for name in ("strip", "lstrip", "rstrip"):
        assert _op(f"aten::{name}", s, chars) == getattr(s, name)(chars)


BOUND = st.one_of(st.none(), st.integers(-15, 15))


@settings(max_examples=80, deadline=None)
@given(TEXT, BOUND, BOUND, st.sampled_from([1, 2, 3, -1, -2]))
def test_slicing_is_pythons(s, start, stop, step):
    assert _op("aten::slice.str", s, start, stop, step) == s[start:stop:step]


@settings(max_examples=60, deadline=None)
@given(TEXT, st.sampled_from(["", "a", "ab", " ", "\U0001d11e"]), st.integers(-15, 15), BOUND)
def test_searches_are_pythons(s, sub, start, end):
    for name in ("find", "count", "startswith", "endswith"):
        assert _op(f"aten::{name}", s, sub, start, end) == getattr(s, name)(sub, start, end), name


@settings(max_examples=60, deadline=None)
@given(TEXT, st.sampled_from(["", "a", "ab", "\u00e9"]), st.sampled_from(["", "-", "XYZ"]),
       st.integers(-1, 3))
def test_replace_is_pythons(s, old, new, count):
    assert _op("aten::replace", s, old, new, count) == s.replace(old, new, count)


@pytest.mark.parametrize("x", [0.0, -0.0, 1.0, 0.1, 1e16, 1e20, 1.5e-7, 123456789.125,
                               float("inf"), float("-inf"), float("nan"), 2.0 ** 70])
def test_str_of_a_float_is_pythons(x):
    assert _op("aten::str", x) == str(x)


@pytest.mark.parametrize("x", [0, -1, 2 ** 63 - 1, -2 ** 63, True, False, None, "é"])
def test_str_of_other_values_is_pythons(x):
    assert _op("aten::str", x) == str(x)


@pytest.mark.parametrize("name, text", [("aten::Int.str", "12x"), ("aten::Int.str", ""),
                                        ("aten::Float.str", "1..2"),
                                        ("aten::Int.str", "99999999999999999999")])
def test_a_bad_number_string_is_a_jitcore_error_naming_it(name, text):
    with pytest.raises(JitcoreError, match=repr(text)):
        _op(name, text)


def test_bad_format_is_a_jitcore_error():
    with pytest.raises(JitcoreError, match="IndexError"):
        _op("aten::format", "{} {}", 1)


def test_strings_cross_the_call_boundary_in_lists_and_dicts():
    g = parse_graph("""graph(%words : str[], %counts : Dict(str, int), %sep : str):
  %joined : str = aten::join(%sep, %words)
  %n : int = aten::len(%joined)
  %key : str = aten::upper(%joined)
   = aten::_set_item(%counts, %key, %n)
  %copy : str = aten::str(%key)
  return (%joined, %counts, %copy)""")
    run = compile_graph(g, fallback=False)
    counts = {"é": 1}
    assert run(["a", "é", "𝄞"], counts, " ") == ("a é 𝄞", {"é": 1, "A É 𝄞": 5}, "A É 𝄞")


def test_four_threads_share_one_compiled_function():
    g = parse_graph("""graph(%s : str, %n : int):
  %none : NoneType = prim::Constant()
  %max : int = prim::Constant[value=-1]()
  %sep : str = prim::Constant[value="-"]()
  %r : str = aten::mul(%s, %n)
  %parts : str[] = aten::split(%r, %none, %max)
  %joined : str = aten::join(%sep, %parts)
  %u : str = aten::upper(%joined)
  return (%u, %parts)""")
    run = compile_graph(g, fallback=False)
    want = run("héllo wörld ", 50)
    results = []

    def work():
        results.extend(run("héllo wörld ", 50) for _ in range(100))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 400 and all(r == want for r in results)
    assert want[0] == "-".join(["HÉLLO", "WÖRLD"] * 50)
