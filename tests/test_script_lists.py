"""Lists in jitcore.script (frontend/script/lists.py): each function is scripted, linted, and
run on several inputs against plain Python, also after optimize_for_inference, and its
``.code`` re-scripts to the same results.  Property tests drive the list methods with
random programs against Python lists."""

from typing import List

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jitcore
from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source
from jitcore.testing import assert_roundtrip

RNG = np.random.default_rng(7)

# the optimiser must handle every program here: its fallback warning is a failure
pytestmark = pytest.mark.filterwarnings("error:jitcore. optimising:RuntimeWarning")


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- the corpus

def append_in_a_loop(x, n: int):
    out: List[np.ndarray] = []
    for i in range(n):
        out.append(x * i)
    return np.stack(out)


def greedy_steps(logits, steps: int) -> List[int]:
    tokens: List[int] = []
    for t in range(steps):
        row = logits[t % logits.shape[0]]
        tokens.append(int(np.argmax(row)))
    return tokens


def list_methods(n: int) -> List[int]:
    xs: List[int] = []
    for i in range(n):
        xs.append(i * i)
    xs.insert(0, -1)
    last = xs.pop()
    xs.append(last + 100)
    xs.reverse()
    xs.extend([5, 6])
    xs.remove(5)
    return xs


def pop_front_and_back(xs: List[int]) -> List[int]:
    first = xs.pop(0)
    last = xs.pop()
    return [first, last, len(xs)]


def index_count_contains(xs: List[int], k: int) -> List[int]:
    found = 1 if k in xs else 0
    missing = 1 if k not in xs else 0
    position = xs.index(k) if k in xs else -1
    return [found, missing, position, xs.count(k)]


def slicing(xs: List[int], a: int, b: int) -> List[int]:
    return xs[a:b] + xs[::2] + xs[::-1] + xs[-2:] + xs[:a]


def slicing_with_a_step(xs: List[float], step: int) -> List[float]:
    return xs[1::step]


def concat_and_repeat(xs: List[int]) -> List[int]:
    ys = xs + [7] * 3
    return ys + 2 * [0]


def item_assignment(xs: List[int]) -> List[int]:
    xs[0] = 10
    xs[-1] += 5
    del xs[1]
    return xs


def aliases_see_the_change(n: int) -> List[int]:
    xs: List[int] = [1, 2]
    ys = xs
    ys.append(n)
    xs.append(len(ys))
    return ys


def augmented_list(n: int) -> List[int]:
    xs = [1, 2]
    ys = xs
    xs += [n]
    ys *= 2
    return xs


def sort_and_sorted(xs: List[int]) -> List[int]:
    ys = sorted(xs)
    zs = sorted(xs, reverse=True)
    xs.sort()
    return ys + zs + xs


def sort_floats_in_place(xs: List[float]) -> List[float]:
    xs.sort(reverse=True)
    return xs


def sum_min_max(xs: List[int]) -> List[int]:
    return [sum(xs), min(xs), max(xs), sum(xs, 10)]


def sum_of_floats(xs: List[float]) -> float:
    return sum(xs)


def any_all_of_lists(xs: List[int]) -> List[bool]:
    flags = [x > 0 for x in xs]
    return [any(flags), all(flags)]


def reversed_list(xs: List[int]) -> List[int]:
    out: List[int] = []
    for x in reversed(xs):
        out.append(x * 10)
    return out


def reversed_range(n: int) -> List[int]:
    return [i for i in reversed(range(n))]


def copy_is_independent(xs: List[int]) -> List[int]:
    ys = list(xs)
    zs = xs.copy()
    ys.append(1)
    zs.clear()
    return xs + ys + zs


def comprehension_with_condition(xs: List[int]) -> List[int]:
    return [x * 3 for x in xs if x % 2 == 1]


def comprehension_over_range(n: int) -> List[int]:
    return [i * i for i in range(n)]


def nested_comprehension(n: int, m: int) -> List[int]:
    return [i * 10 + j for i in range(n) for j in range(m) if i != j]


def comprehension_of_arrays(x, n: int):
    parts = [x[i] * 2 for i in range(n)]
    return np.stack(parts)


def comprehension_over_enumerate(xs: List[int]) -> List[int]:
    return [i * x for i, x in enumerate(xs)]


def comprehension_over_zip(xs: List[int], ys: List[int]) -> List[int]:
    return [a - b for a, b in zip(xs, ys)]


def list_equality(xs: List[int], ys: List[int]) -> List[bool]:
    return [xs == ys, xs != ys, xs[:1] == [1]]


def shape_equals_a_tuple(x):
    if x.shape == (3, 4):
        return x + 1
    return x - 1


def list_of_lists(n: int) -> List[int]:
    rows: List[List[int]] = []
    for i in range(n):
        rows.append([i, i + 1])
    rows[0].append(99)
    flat: List[int] = []
    for row in rows:
        flat.extend(row)
    return flat


def truth_of_a_list(xs: List[int]) -> int:
    if xs:
        return len(xs)
    return -1


def while_a_list_is_not_empty(xs: List[int]) -> int:
    total = 0
    while len(xs) > 0:
        total += xs.pop()
    return total


def literal_then_mutated(x):
    xs = [x, x + 1]
    xs.append(x + 2)
    total = x * 0
    for v in xs:
        total = total + v
    return total


def literal_mutated_later_in_a_loop(n: int) -> int:
    xs = [1]
    total = 0
    for i in range(n):
        for v in xs:
            total += v
        xs.append(i)
    return total


def rnn_with_a_list_of_states(xs, w, u):
    h = np.zeros_like(xs[0] @ w)
    states: List[np.ndarray] = []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
        states.append(h)
    return np.stack(states), states[-1]


def list_of_floats_from_ints(n: int) -> List[float]:
    xs: List[float] = []
    for i in range(n):
        xs.append(i)
    return xs


def strings_in_a_list(mode: str) -> int:
    modes = ["sum", "mean", "max"]
    if mode in modes:
        return modes.index(mode)
    return -1


def heads_split_and_merged(x, heads: int):
    # every attention layer (HF's BERT transpose_for_scores): a shape is a tuple in NumPy
    # and a list compiled; list + tuple of ints concatenates either way
    split = x.reshape(x.shape[:-1] + (heads, x.shape[-1] // heads))
    merged = split.reshape((1,) + split.shape[:-2] + (-1,))
    return split.transpose(0, 2, 1, 3), merged


FUNCTIONS = [
    (heads_split_and_merged, lambda: [(arr(2, 3, 8), 4), (arr(1, 5, 6), 2)]),
    (append_in_a_loop, lambda: [(arr(3), 4), (arr(2, 2), 1)]),
    (greedy_steps, lambda: [(arr(4, 5), 6), (arr(1, 3), 0)]),
    (list_methods, lambda: [(5,), (1,), (0,)]),
    (pop_front_and_back, lambda: [([1, 2, 3],), ([4, 5],)]),
    (index_count_contains, lambda: [([3, 1, 3], 3), ([1, 2], 5), ([], 0)]),
    (slicing, lambda: [([1, 2, 3, 4, 5], 1, 3), ([1, 2], -1, 9), ([], 0, 0)]),
    (slicing_with_a_step, lambda: [([1.0, 2.0, 3.0, 4.0, 5.0], 2), ([1.5], -1), ([0.5, 1.5], 3)]),
    (concat_and_repeat, lambda: [([1, 2],), ([],)]),
    (item_assignment, lambda: [([1, 2, 3],), ([4, 5],)]),
    (aliases_see_the_change, lambda: [(3,), (0,)]),
    (augmented_list, lambda: [(3,), (-1,)]),
    (sort_and_sorted, lambda: [([3, 1, 2, 1],), ([],), ([5],)]),
    (sort_floats_in_place, lambda: [([0.5, -1.0, 2.5],), ([],)]),
    (sum_min_max, lambda: [([3, 1, 2],), ([-5],)]),
    (sum_of_floats, lambda: [([0.5, 0.25],), ([1.5],)]),  # sum([]) is the int 0 in Python
    (any_all_of_lists, lambda: [([1, 2],), ([1, -2],), ([-1, -2],), ([],)]),
    (reversed_list, lambda: [([1, 2, 3],), ([],)]),
    (reversed_range, lambda: [(4,), (0,)]),
    (copy_is_independent, lambda: [([1, 2],), ([],)]),
    (comprehension_with_condition, lambda: [([1, 2, 3, 4, 5],), ([2, 4],)]),
    (comprehension_over_range, lambda: [(5,), (0,)]),
    (nested_comprehension, lambda: [(3, 2), (0, 4), (2, 0)]),
    (comprehension_of_arrays, lambda: [(arr(3, 2), 3), (arr(4, 1), 2)]),
    (comprehension_over_enumerate, lambda: [([5, 6, 7],), ([],)]),
    (comprehension_over_zip, lambda: [([1, 2, 3], [3, 2]), ([], [1])]),
    (list_equality, lambda: [([1, 2], [1, 2]), ([1, 2], [1]), ([3], [3, 4])]),
    (shape_equals_a_tuple, lambda: [(arr(3, 4),), (arr(4, 3),), (arr(3),)]),
    (list_of_lists, lambda: [(3,), (1,)]),
    (truth_of_a_list, lambda: [([1, 2],), ([],)]),
    (while_a_list_is_not_empty, lambda: [([1, 2, 3],), ([],)]),
    (literal_then_mutated, lambda: [(arr(3),), (arr(2, 2),)]),
    (literal_mutated_later_in_a_loop, lambda: [(4,), (0,), (1,)]),
    (rnn_with_a_list_of_states, lambda: [(arr(5, 3), arr(3, 4), arr(4, 4)),
                                         (arr(1, 2), arr(2, 2), arr(2, 2))]),
    (strings_in_a_list, lambda: [("mean",), ("min",)]),
]


def _copy(value):
    # the functions may change the lists they are given, as Python functions may
    return [_copy(v) for v in value] if isinstance(value, list) else value


def _assert_same(actual, expected):
    if isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            _assert_same(a, e)
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray) and actual.dtype == expected.dtype
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
        return
    assert type(actual) is type(expected), (actual, expected)
    assert actual == pytest.approx(expected) if isinstance(expected, float) else actual == expected


def _check(compiled, fn, make_inputs):
    for inputs in make_inputs():
        _assert_same(compiled(*_copy(inputs)), fn(*_copy(inputs)))


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_scripted_matches_python(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    assert_roundtrip(scripted.graph)
    _check(scripted, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_optimized_matches_python(fn, make_inputs):
    optimized = jitcore.optimize_for_inference(script(fn))
    optimized.graph.lint()
    _check(optimized, fn, make_inputs)
    for inputs in make_inputs():        # the specialised graph of each signature too
        optimized.graph_for(*_copy(inputs)).lint()


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_code_rescripts(fn, make_inputs):
    rescripted = script_source(script(fn).code)
    rescripted.graph.lint()
    _check(rescripted, fn, make_inputs)


def test_an_int_appended_to_a_float_list_becomes_a_float():
    # the list's declared item type holds in compiled code (Python would keep the int)
    result = script(list_of_floats_from_ints)(3)
    assert result == [0.0, 1.0, 2.0] and all(type(v) is float for v in result)


def test_a_list_given_to_the_function_is_a_copy_as_in_torchscript():
    scripted = script(list_methods)
    xs = [1, 2]
    assert script(item_assignment)(xs) == [10]
    assert xs == [1, 2]
    assert scripted(2) == list_methods(2)


# ------------------------------------------------------------ run-time errors

@pytest.mark.parametrize("fn, args, message", [
    (pop_front_and_back, ([1],), "pop from empty list"),
    (item_assignment, ([],), "list assignment index out of range"),
    (index_count_contains, ([1], 1), None),
    (slicing_with_a_step, ([1.0], 0), "slice step cannot be zero"),
], ids=["pop-empty", "set-out-of-range", "no-error", "zero-step"])
def test_list_errors_raise_where_python_raises(fn, args, message):
    scripted = script(fn)
    if message is None:
        _assert_same(scripted(*_copy(args)), fn(*_copy(args)))
        return
    with pytest.raises(Exception):
        fn(*_copy(args))
    with pytest.raises(jitcore.errors.JitcoreError, match=message):
        scripted(*_copy(args))


def remove_missing(xs: List[int]) -> List[int]:
    xs.remove(42)
    return xs


def index_missing(xs: List[int]) -> int:
    return xs.index(42)


@pytest.mark.parametrize("fn, message", [(remove_missing, "x is not in the list"),
                                         (index_missing, "x is not in the list")])
def test_a_missing_item_is_an_error_naming_the_method(fn, message):
    with pytest.raises(ValueError):
        fn([1, 2])
    with pytest.raises(jitcore.errors.JitcoreError, match=message):
        script(fn)([1, 2])


# ------------------------------------------------------------ property tests

_METHOD_CALLS = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(-3, 3)),
    st.tuples(st.just("insert"), st.integers(-4, 4), st.integers(-3, 3)),
    st.tuples(st.just("pop"),),
    st.tuples(st.just("reverse"),),
    st.tuples(st.just("extend"), st.lists(st.integers(-3, 3), max_size=3)),
    st.tuples(st.just("sort"),),
    st.tuples(st.just("clear"),),
), max_size=8)


def _program(calls):
    lines = ["def program(xs: List[int]) -> List[int]:"]
    for call in calls:
        name, args = call[0], call[1:]
        if name == "pop":
            lines.append("    if len(xs) > 0:\n        xs.pop()")
        else:
            lines.append(f"    xs.{name}({', '.join(map(repr, args))})")
    lines.append("    return xs")
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(calls=_METHOD_CALLS, start=st.lists(st.integers(-3, 3), max_size=5))
def test_random_method_sequences_match_python_lists(calls, start):
    source = _program(calls)
    namespace = {"List": List}
    exec(compile(source, "<program>", "exec"), namespace)   # the Python oracle
    compiled = script_source(source, globals={"List": List})
    assert compiled(list(start)) == namespace["program"](list(start)), source


@settings(max_examples=60, deadline=None)
@given(items=st.lists(st.integers(-5, 5), max_size=8), start=st.none() | st.integers(-9, 9),
       stop=st.none() | st.integers(-9, 9), step=st.sampled_from([None, 1, 2, 3, -1, -2]))
def test_slices_match_python(items, start, stop, step):
    def sliced(xs: List[int], a: int, b: int, s: int) -> List[int]:
        return xs[a:b:s]
    compiled = script(sliced)
    a = start if start is not None else (0 if (step or 1) > 0 else len(items) - 1)
    b = stop if stop is not None else (len(items) if (step or 1) > 0 else -len(items) - 1)
    assert compiled(list(items), a, b, step or 1) == items[a:b:step or 1]


@settings(max_examples=40, deadline=None)
@given(items=st.lists(st.floats(-4, 4, allow_nan=False), max_size=8), reverse=st.booleans())
def test_sorted_is_pythons_stable_sort(items, reverse):
    def ordered(xs: List[float], r: bool) -> List[float]:
        return sorted(xs, reverse=r)
    assert script(ordered)(list(items), reverse) == sorted(items, reverse=reverse)
