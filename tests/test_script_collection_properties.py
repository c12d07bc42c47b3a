"""Property tests of list and dict semantics in jitcore.script: hypothesis writes random
programs of list operations (append, extend, insert, pop, remove, index, count, reverse,
item assignment, del, slicing, ``+``, ``*``, ``in``, ``len``) and of dict operations (set,
get, del, pop, setdefault, update, ``in``, ``len``, keys/values/items in insertion order);
each program is compiled and its result compared with the same program run by Python.
Derandomized, with few examples, so the module runs in a few seconds."""

from typing import Dict, List, Tuple

from hypothesis import given, settings, strategies as st

from jitcore.frontend.script.source_text import script_source

_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
_ITEM = st.integers(-3, 3)
_INDEX = st.integers(-5, 5)

_LIST_OPS = st.lists(st.one_of(
    st.tuples(st.just("append"), _ITEM),
    st.tuples(st.just("extend"), st.lists(_ITEM, max_size=3)),
    st.tuples(st.just("insert"), _INDEX, _ITEM),
    st.tuples(st.just("pop"), _INDEX),
    st.tuples(st.just("remove"), _ITEM),
    st.tuples(st.just("index"), _ITEM),
    st.tuples(st.just("count"), _ITEM),
    st.tuples(st.just("reverse"),),
    st.tuples(st.just("setitem"), _INDEX, _ITEM),
    st.tuples(st.just("delitem"), _INDEX),
    st.tuples(st.just("slice"), st.none() | _INDEX, st.none() | _INDEX,
              st.sampled_from([None, 1, 2, -1, -2])),
    st.tuples(st.just("concat"),),
    st.tuples(st.just("repeat"), st.integers(0, 2)),
    st.tuples(st.just("contains"), _ITEM),
    st.tuples(st.just("len"),),
), max_size=10)


def _list_statement(op):
    """One operation on ``xs`` as Python source; results go to ``out``; out-of-range
    indices and missing items are guarded so that every program runs to its end."""
    name, args = op[0], op[1:]
    in_range = "-len(xs) <= {0} < len(xs)".format(*args) if name in ("setitem", "delitem",
                                                                      "pop") else ""
    if name in ("append", "extend", "insert"):
        return f"xs.{name}({', '.join(map(repr, args))})"
    if name == "pop":
        return f"if {in_range}:\n        out.append(xs.pop({args[0]}))"
    if name == "remove":
        return f"if {args[0]} in xs:\n        xs.remove({args[0]})"
    if name == "index":
        return f"if {args[0]} in xs:\n        out.append(xs.index({args[0]}))"
    if name == "count":
        return f"out.append(xs.count({args[0]}))"
    if name == "reverse":
        return "xs.reverse()"
    if name == "setitem":
        return f"if {in_range}:\n        xs[{args[0]}] = {args[1]}"
    if name == "delitem":
        return f"if {in_range}:\n        del xs[{args[0]}]"
    if name == "slice":
        bounds = ":".join("" if a is None else str(a) for a in args)
        return f"xs = xs[{bounds}]"
    if name == "concat":
        return "xs = xs + ys"
    if name == "repeat":
        return f"xs = xs * {args[0]}"
    if name == "contains":
        return f"out.append(int({args[0]} in xs))"
    return "out.append(len(xs))"


def _run_both(source, *args):
    namespace = {"List": List, "Dict": Dict, "Tuple": Tuple}
    exec(compile(source, "<program>", "exec"), namespace)        # the Python oracle
    want = namespace["program"](*[list(a) if isinstance(a, list) else a for a in args])
    got = script_source(source)(*[list(a) if isinstance(a, list) else a for a in args])
    return got, want


@_SETTINGS
@given(ops=_LIST_OPS, start=st.lists(_ITEM, max_size=5), other=st.lists(_ITEM, max_size=3))
def test_random_list_programs_match_python_lists(ops, start, other):
    lines = ["def program(xs: List[int], ys: List[int]) -> Tuple[List[int], List[int]]:",
             "    out: List[int] = []"]
    lines += ["    " + _list_statement(op) for op in ops]
    lines.append("    return xs, out")
    source = "\n".join(lines)
    got, want = _run_both(source, start, other)
    assert got == want, source


_KEY = st.sampled_from(["a", "b", "c", "d"])

_DICT_OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), _KEY, _ITEM),
    st.tuples(st.just("get"), _KEY),
    st.tuples(st.just("del"), _KEY),
    st.tuples(st.just("pop"), _KEY),
    st.tuples(st.just("setdefault"), _KEY, _ITEM),
    st.tuples(st.just("update"), st.dictionaries(_KEY, _ITEM, max_size=2)),
    st.tuples(st.just("contains"), _KEY),
    st.tuples(st.just("len"),),
    st.tuples(st.just("augment"), _KEY, _ITEM),
    st.tuples(st.just("clear"),),
), max_size=10)


def _dict_statement(op):
    name, args = op[0], op[1:]
    if name == "set":
        return f"d[{args[0]!r}] = {args[1]}"
    if name == "get":
        return f"out.append(d.get({args[0]!r}, -9))"
    if name == "del":
        return f"if {args[0]!r} in d:\n        del d[{args[0]!r}]"
    if name == "pop":
        return f"out.append(d.pop({args[0]!r}, -8))"
    if name == "setdefault":
        return f"out.append(d.setdefault({args[0]!r}, {args[1]}))"
    if name == "update":
        items = ", ".join(f"{k!r}: {v}" for k, v in args[0].items())
        return f"d.update({{{items}}})" if items else "d.update(d)"
    if name == "contains":
        return f"out.append(int({args[0]!r} in d))"
    if name == "augment":
        return f"if {args[0]!r} in d:\n        d[{args[0]!r}] += {args[1]}"
    if name == "clear":
        return "d.clear()"
    return "out.append(len(d))"


@_SETTINGS
@given(ops=_DICT_OPS)
def test_random_dict_programs_match_python_dicts_in_insertion_order(ops):
    lines = ["def program(n: int) -> Tuple[List[str], List[int], List[int], Dict[str, int]]:",
             "    d: Dict[str, int] = {'c': n}",
             "    out: List[int] = []"]
    lines += ["    " + _dict_statement(op) for op in ops]
    lines += ["    keys: List[str] = []",
              "    for k, v in d.items():",
              "        keys.append(k)",
              "        out.append(v)",
              "    return keys + list(d.keys()), out, list(d.values()), d"]
    source = "\n".join(lines)
    got, want = _run_both(source, 1)
    assert got == want, source
    assert list(got[3].items()) == list(want[3].items()), source     # the same order
