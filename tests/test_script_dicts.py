"""Dicts in jitcore.script (frontend/script/dicts.py): each function is scripted, linted and run
against plain Python, also optimised, and its ``.code`` re-scripts to the same results."""

from collections import OrderedDict
from typing import Dict, List

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jitcore
from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source
from jitcore.testing import assert_roundtrip

from test_script_lists import _check, arr

pytestmark = pytest.mark.filterwarnings("error:jitcore. optimising:RuntimeWarning")


def literal_and_lookup(x, n: int):
    d = {"a": x, "b": x * 2}
    d["c"] = x + n
    total = x * 0
    for k in d:
        total = total + d[k]
    return total, len(d), "b" in d, "z" not in d


def counting_with_get(n: int) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for i in range(n):
        key = "even" if i % 2 == 0 else "odd"
        counts[key] = counts.get(key, 0) + 1
    counts.setdefault("zero", 0)
    counts.setdefault("even", 100)
    return counts


def ordered_dict_of_features(x, n: int):
    # torchvision's IntermediateLayerGetter / segmentation heads: an OrderedDict result
    out = OrderedDict()
    for i in range(n):
        out["layer%d" % i] = x * i
    sizes = dict(rows=x.shape[0], cols=x.shape[-1])
    copied = dict(out)
    copied["extra"] = x
    # (compiled dicts are dicts in insertion order, as TorchScript's; an OrderedDict
    # result comes back a dict)
    return [float(v.sum()) for v in out.values()], sizes, len(copied), list(copied.keys())


def int_keys_and_items(n: int) -> List[int]:
    squares = {i: i * i for i in range(n) if i != 2}
    out: List[int] = []
    for k, v in squares.items():
        out.append(k + v)
    return out + list(squares.keys()) + list(squares.values())


def pop_delete_clear(n: int) -> List[int]:
    d = {1: 10, 2: 20, 3: 30}
    d[n] = 5
    del d[1]
    first = d.pop(2)
    missing = d.pop(99, -1)
    left = len(d)
    d.clear()
    return [first, missing, left, len(d)]


def insertion_order_survives_updates(n: int) -> List[int]:
    d: Dict[int, int] = {}
    for i in range(n):
        d[n - i] = i
    d[n] = 100          # an existing key keeps its place
    return list(d.keys()) + list(d.values())


def update_and_copy(n: int) -> Dict[str, int]:
    a = {"x": 1, "y": 2}
    b = a.copy()
    b["x"] = n
    a.update({"z": 3, "y": n * 2})
    a["copy_x"] = b["x"]
    return a


def dict_of_arrays(x):
    layers = {"scale": x * 2.0, "shift": x + 1.0}
    return layers["scale"] + layers["shift"]


def aliases_of_a_dict(n: int) -> Dict[str, int]:
    d = {"a": 1}
    e = d
    e["b"] = n
    return d


def augmented_item(n: int) -> Dict[str, int]:
    d = {"total": 0}
    for i in range(n):
        d["total"] += i
    return d


def get_without_default(n: int) -> int:
    d = {1: 5}
    found = d.get(n)
    if found is None:
        return -1
    return found


def truth_of_a_dict(n: int) -> bool:
    d: Dict[int, int] = {}
    if n > 0:
        d[n] = n
    if d:
        return True
    return False


def dict_argument(d: Dict[int, float], k: int) -> float:
    return d[k] * 2.0 if k in d else 0.0


FUNCTIONS = [
    (literal_and_lookup, lambda: [(arr(3), 2), (arr(2, 2), -1)]),
    (counting_with_get, lambda: [(5,), (0,), (1,)]),
    (int_keys_and_items, lambda: [(5,), (0,)]),
    (ordered_dict_of_features, lambda: [(arr(3), 2), (arr(2, 4), 0)]),
    (pop_delete_clear, lambda: [(4,), (3,)]),
    (insertion_order_survives_updates, lambda: [(4,), (1,)]),
    (update_and_copy, lambda: [(7,), (0,)]),
    (dict_of_arrays, lambda: [(arr(3),), (arr(2, 2, dtype=np.float64),)]),
    (aliases_of_a_dict, lambda: [(3,)]),
    (augmented_item, lambda: [(4,), (0,)]),
    (get_without_default, lambda: [(1,), (2,)]),
    (truth_of_a_dict, lambda: [(2,), (0,)]),
    (dict_argument, lambda: [({1: 1.5, 2: 3.0}, 2), ({}, 1)]),
]
IDS = [f.__name__ for f, _ in FUNCTIONS]


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_scripted_matches_python(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    assert_roundtrip(scripted.graph)
    _check(scripted, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_optimized_matches_python(fn, make_inputs):
    _check(jitcore.optimize_for_inference(script(fn)), fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_code_rescripts(fn, make_inputs):
    _check(script_source(script(fn).code), fn, make_inputs)


def missing_key(n: int) -> int:
    d = {1: 2}
    return d[n]


def test_a_missing_key_is_a_key_error_at_run_time():
    with pytest.raises(KeyError):
        missing_key(5)
    with pytest.raises(jitcore.errors.JitcoreError, match="KeyError"):
        script(missing_key)(5)
    assert script(missing_key)(1) == 2


@settings(max_examples=50, deadline=None)
@given(ops_=st.lists(st.tuples(st.sampled_from(["set", "pop", "del", "setdefault"]),
                               st.integers(0, 4), st.integers(-5, 5)), max_size=10))
def test_random_dict_programs_match_python_dicts(ops_):
    lines = ["def program(n: int) -> Dict[int, int]:", "    d: Dict[int, int] = {}"]
    for op, key, value in ops_:
        if op == "set":
            lines.append(f"    d[{key}] = {value}")
        elif op == "pop":
            lines.append(f"    d.pop({key}, 0)")
        elif op == "del":
            lines.append(f"    if {key} in d:\n        del d[{key}]")
        else:
            lines.append(f"    d.setdefault({key}, {value})")
    lines.append("    return d")
    source = "\n".join(lines)
    namespace = {"Dict": Dict}
    exec(compile(source, "<program>", "exec"), namespace)
    got = script_source(source)(0)
    want = namespace["program"](0)
    assert got == want and list(got) == list(want), source
