"""The jitcore.script corpus: each function is scripted, linted, and run on several inputs
against the plain Python function (NumPy is the oracle)."""

import math
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

import jitcore
import jitcore.nn.functional as F
from jitcore.frontend.script import script
from jitcore.testing import assert_roundtrip

RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------- arithmetic

def add_scalar(x):
    return x + 3


def scalar_left_ops(x):
    return (2 - x) * (3 + x) / (1.5 * x + 10) + 2 ** x


def matmul_bias(x, w, b):
    return x @ w + b


def unary_ops(x):
    return -x + np.abs(x) - (+x)


def numpy_functions(x):
    return np.tanh(x) + np.exp(-np.abs(x)) * np.sqrt(np.abs(x))


def numpy_keywords(x):
    return np.sum(x, axis=1, keepdims=True) + np.mean(x, axis=0)


def array_methods(x):
    return x.reshape(-1, 2).sum(axis=0) + x.max()


def transpose_attr(x):
    return x.T @ x


def comparisons_where(x):
    return np.where(x > 0, x, x * 0.1)


def mask_logic(x):
    return np.where((x > -0.5) & (x < 0.5), x * 0 + 1, x * 0).astype(np.float64)


def int_arithmetic(n: int, m: int) -> int:
    return n * m + n // 3 - m % 4


def float_int_mix(n: int, f: float) -> float:
    return n * f + n / 2


def true_division(a: int, b: int) -> float:
    return a / b


def augmented(n: int, f: float) -> float:
    k = n
    k += 1
    k *= 2
    f -= k
    f /= 2
    return f


def functional_calls(x):
    return F.relu(x) + F.sigmoid(x) + F.softmax(x, dim=-1)


def float_conversions(x):
    n = x.shape[0]
    return float(n) * 0.5 + int(2.7) + abs(-n) + min(n, 3) + max(1.5, n)


def math_functions(n: int) -> float:
    return math.sqrt(n) + math.floor(2.5) + math.ceil(n / 3) + math.pi


def math_library(x: float, n: int) -> float:
    # every math function of one float the runtime has (libm, as TorchScript)
    a = math.exp(x) + math.log(x) + math.log10(x) + math.log1p(x) + math.expm1(x)
    b = math.sin(x) + math.cos(n) + math.tan(x) + math.asin(x / 4) + math.acos(x / 4)
    c = math.atan(n) + math.sinh(x) + math.cosh(x) + math.tanh(x) + math.asinh(x)
    d = math.acosh(x + 1) + math.atanh(x / 4) + math.erf(x) + math.erfc(x) + math.fabs(-x)
    return a + b + c + d + math.lgamma(x) + math.gamma(x)


def numbers_from_strings_and_numpy_scalars(x, n: int):
    # float("-inf") as a running maximum's start, NumPy scalar constructors, int ** int
    best = float("-inf")
    for i in range(n):
        best = max(best, float(x[i].sum()) * float(np.float64(0.5)))
    scale = np.float32(0.1)          # rounded to float32, as NumPy rounds it
    return x * scale + best + float(n ** 2 + 2 ** n + np.int64(n) + (-3) ** 3)


def constant_shape_creation(x, n: int):
    # creation calls with constant or int shapes are ops of the graph: a fresh array per call
    return (x + np.zeros((3, 4), dtype=np.float32) + np.ones(4) + np.full(n, 2.0)
            + np.zeros((2, 1, n)).sum(axis=0).sum(axis=0))


def bool_ops(a: int, b: int) -> bool:
    return (a > 0 and b > 0) or not (a == b)


def chained_comparison(a: int) -> bool:
    return 0 <= a < 10


def ternary(x):
    return x * 2 if x.shape[0] > 2 else x - 1


def shape_unpack(x):
    n, m = x.shape
    return x * n + m


def ndim_and_size(x):
    return x + x.ndim + x.size


# -------------------------------------------------------------------- indexing

def index_select(x):
    return x[0] + x[-1]


def index_slices(x):
    return x[1:3, ::2]


def index_reversed(x):
    # NumPy's everyday reversal: a whole axis read backwards, every item or every other
    top = np.sort(x, axis=-1)[:, ::-1][:, :2]
    return x[::-1], x[:, ::-2], x[..., ::-1] + top.sum(), top


def index_newaxis(x):
    return x[:, None] * x[None]


def index_ellipsis(x):
    return x[..., 0] + x[..., -1]


def index_dynamic(x, i: int):
    return x[i:] if i < x.shape[0] else x


def index_mask(x):
    return x[x > 0]


# ------------------------------------------------------------- control flow

def if_else(x):
    if x.shape[0] == 1:
        return x + 3
    else:
        return x + 20


def elif_chain(n: int) -> int:
    if n < 0:
        r = -1
    elif n == 0:
        r = 0
    elif n < 10:
        r = 1
    else:
        r = 2
    return r


def variable_join(x):
    y = x
    if x.sum() > 0:
        y = x * 2
    return y


def nested_ifs(x):
    if x.shape[0] > 1:
        if x.shape[1] > 2:
            z = x[0]
        else:
            z = x[1]
    else:
        z = x.sum(axis=0)
    return z


def early_return(x):
    if x.sum() > 0:
        return x
    y = x * 2
    return y - 1


def return_in_elif(n: int) -> int:
    if n > 5:
        return 5
    elif n > 2:
        return 2
    return 0


def for_range(x):
    for i in range(4):
        x = x * 0.5 + i
    return x


def for_range_start_step(n: int) -> int:
    total = 0
    for i in range(2, n, 3):
        total += i
    return total


def for_range_negative_step(n: int) -> int:
    total = 0
    for i in range(n, 0, -2):
        total = total * 2 + i
    return total


def while_loop(n: int) -> int:
    count = 0
    while n > 1:
        n = n // 2
        count += 1
    return count


def loop_break(n: int) -> int:
    total = 0
    for i in range(100):
        if total > n:
            break
        total += i
    return total


def loop_continue(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        total += i
    return total


def return_from_loop(x, limit: float):
    for i in range(10):
        x = x * 2.0
        if float(x.sum()) > limit:
            return x
    return -x


def return_from_nested_loops(n: int) -> int:
    # the outer loop carries the return value the inner loop may set
    for i in range(n):
        for j in range(n):
            if i * j > 6:
                return i + j
    return -1


def return_array_from_nested_loops(x, n: int):
    for i in range(n):
        while float(x.sum()) < 100.0:
            x = x + 1.0
            if i + float(x.max()) > 50.0:
                return x * 2.0
    return -x


def nested_loops(n: int) -> int:
    total = 0
    for i in range(n):
        for j in range(i):
            if j == 2:
                break
            total += i * j
    return total


def while_with_break(n: int) -> int:
    i = 0
    while True:
        i += 1
        if i * i > n:
            break
    return i


def loop_over_rows(x):
    acc = x[0] * 0
    for row in x:
        acc = acc + row * row
    return acc


def loop_over_list(x):
    total = x * 0
    for w in [1.0, 2.0, 3.0]:
        total = total + x * w
    return total


def enumerate_zip(x, y):
    acc = x[0] * 0
    for i, (a, b) in enumerate(zip(x, y)):
        acc = acc + a * b * i
    return acc


def loop_over_tuple(x):
    out = x
    for scale in (1, 2.5, 3):
        out = out * scale
    return out


def rnn_loop(x, w, u, b):
    h = np.zeros_like(x[0] @ w)
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ w + h @ u + b)
    return h


def assert_positive(n: int) -> int:
    assert n > 0, "n must be positive"
    return n * 2


def raise_on_bad(x):
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d array, got {x.ndim}")
    return x.sum(axis=1)


def pass_statement(x):
    if x.sum() > 0:
        pass
    else:
        x = x + 1
    return x


# ------------------------------------------------------- types and containers

def optional_refinement(x, bias: Optional[np.ndarray] = None):
    if bias is not None:
        return x + bias
    return x


def optional_narrowed_inside_and(n: Optional[int]):
    if n is not None and n > 2:
        return n * 2
    return 0


def optional_narrowed_inside_or(n: Optional[int]):
    if n is None or n < 0:
        return 0
    return n + 1


def optional_narrowed_by_not(x, scale: Optional[float] = None):
    if not (scale is None):
        return x * scale
    return x


def optionals_narrowed_in_a_chain(a: Optional[int], b: Optional[int]):
    return a is not None and b is not None and a + b > 3


def isinstance_narrows_an_optional(x, b: Optional[np.ndarray] = None):
    if isinstance(b, np.ndarray):
        return x + b
    return x


def not_isinstance_of_an_optional_int(n: Optional[int]):
    if not isinstance(n, int):
        return -1
    return n * 2


def union_of_numbers(x, n: Union[int, float]):
    if isinstance(n, int):
        return x * float(n + 1)
    return x * n


def union_of_an_array_and_a_list(x: Union[np.ndarray, List[np.ndarray]]):
    if isinstance(x, list):
        return x[0] + x[1]
    return x


def optional_union(x, v: Optional[Union[int, float]]):
    if v is None:
        return x
    if isinstance(v, float):
        return x * v
    return x + float(v)


def math_tests_of_a_float(x: float, n: int):
    if math.isnan(x) or math.isinf(x):
        return 0.0
    return x * float(math.isfinite(float(n)))


def optional_variable(x):
    y: Optional[np.ndarray] = None
    if x.sum() > 0:
        y = x
    if y is None:
        return x * 0
    return y


def isinstance_static(n: int) -> int:
    if isinstance(n, int):
        return n + 1
    return n


def list_literal_and_len(x):
    parts = [x, x * 2, x * 3]
    return parts[1] + len(parts)


def list_argument(xs: List[np.ndarray]):
    total = xs[0] * 0
    for x in xs:
        total = total + x
    return total


def list_comprehension(x):
    scaled = [x * k for k in (1, 2, 3)]
    return scaled[0] + scaled[2]


def tuple_return(x) -> Tuple[np.ndarray, np.ndarray]:
    return x + 1, x - 1


def tuple_unpacking(x):
    a, b = x * 2, x + 1
    a, b = b, a
    return a - b


def tuple_argument(t: Tuple[int, float]) -> float:
    n, f = t
    return n * f + t[0]


def string_compare(mode: str, x):
    if mode == "double":
        return x * 2
    return x


def helper(x, k: int = 2):
    return x * k


def calls_helper(x):
    return helper(x) + helper(x, k=3)


def helper_with_branch(x):
    if x.sum() > 0:
        return x
    return -x


def calls_branching_helper(x):
    return helper_with_branch(x) + helper_with_branch(-x)


def bool_argument(x, flag: bool):
    if flag:
        return x + 1
    return x


def membership(x, n: int):
    if n in (1, 2):
        x = x + 1
    if n not in [3, 4, 5]:
        x = x * 2
    return x


def generator_unpacking(x, y):
    a, b = (t * 2 + 1 for t in (x, y))
    return a - b


def generator_reductions(x, n: int):
    if all(k < n for k in (1, 2)):
        x = x + 1
    if any(k == n for k in (3, 4)):
        x = x * 2
    a, b = tuple(x * k for k in (2, 3))
    return a + b


def binary_ufuncs(x, y):
    # ufuncs with positional-only parameters (NumPy 2 signatures: x1, x2, /)
    return np.maximum(x, y) - np.minimum(x, y * 0.5) + np.arctan2(x, y)


def extrema_with_numbers(x, t: float, k: int):
    # a number operand (ReLU as np.maximum(x, 0)), constant or not, becomes clamp_min / clamp_max
    return np.maximum(x, 0.0) + np.minimum(0.5, x) + np.maximum(2, x) + np.minimum(x, t) * k


def dtype_and_int_math(x, n: int):
    # x.dtype is a dtype argument, as in TorchScript (there an int code; math of an int is
    # the math of its float)
    return np.zeros((n,), dtype=x.dtype) + math.exp(n) + math.sqrt(n) + math.log1p(n)


def any_short_circuits(x):
    # Python never evaluates x.shape[5] here (the first item decides); neither may the script
    if any(x.shape[k] > 0 for k in (0, 5)):
        return x + 1
    return x


FUNCTIONS = [
    (math_tests_of_a_float, lambda: [(float("nan"), 1), (float("inf"), 2), (2.5, 3)]),
    (union_of_numbers, lambda: [(arr(3), 2), (arr(3), 2.5)]),
    (union_of_an_array_and_a_list, lambda: [(arr(3),), ([arr(3), arr(3)],)]),
    (optional_union, lambda: [(arr(3), None), (arr(3), 2.0), (arr(3), 3)]),
    (isinstance_narrows_an_optional, lambda: [(arr(3), None), (arr(3), arr(3))]),
    (not_isinstance_of_an_optional_int, lambda: [(None,), (4,)]),
    (optional_narrowed_inside_and, lambda: [(3,), (None,), (1,)]),
    (optional_narrowed_inside_or, lambda: [(None,), (-2,), (5,)]),
    (optional_narrowed_by_not, lambda: [(arr(3), None), (arr(3), 2.5)]),
    (optionals_narrowed_in_a_chain, lambda: [(1, 5), (None, 2), (1, None), (1, 1)]),
    (add_scalar, lambda: [(arr(2, 3),), (arr(1, 4),), (arr(5),)]),
    (scalar_left_ops, lambda: [(arr(3, 2),), (arr(4),), (arr(2, 2, dtype=np.float64),)]),
    (matmul_bias, lambda: [(arr(2, 3), arr(3, 4), arr(4)), (arr(1, 3), arr(3, 2), arr(2))]),
    (unary_ops, lambda: [(arr(3),), (arr(2, 2),), (arr(4, dtype=np.float64),)]),
    (numpy_functions, lambda: [(arr(3),), (arr(2, 5),), (arr(3, dtype=np.float64),)]),
    (numpy_keywords, lambda: [(arr(3, 3),), (arr(2, 2),), (arr(4, 4, dtype=np.float64),)]),
    (array_methods, lambda: [(arr(2, 4),), (arr(6),), (arr(3, 2),)]),
    (transpose_attr, lambda: [(arr(3, 2),), (arr(2, 2),), (arr(4, 1),)]),
    (comparisons_where, lambda: [(arr(5),), (arr(2, 3),), (arr(3, dtype=np.float64),)]),
    (mask_logic, lambda: [(arr(6),), (arr(2, 3),), (arr(1),)]),
    (int_arithmetic, lambda: [(7, 3), (-5, 9), (0, 1)]),
    (float_int_mix, lambda: [(3, 0.5), (-2, 1.25), (0, 3.0)]),
    (true_division, lambda: [(7, 2), (-3, 4), (0, 5)]),
    (augmented, lambda: [(3, 1.5), (-2, 0.0), (0, -4.0)]),
    (functional_calls, lambda: [(arr(2, 3),), (arr(4),), (arr(1, 5),)]),
    (float_conversions, lambda: [(arr(2),), (arr(5, 2),), (arr(1, 3),)]),
    (math_functions, lambda: [(4,), (9,), (2,)]),
    (math_library, lambda: [(0.5, 2), (1.5, -3), (3.25, 0)]),
    (numbers_from_strings_and_numpy_scalars, lambda: [(arr(3, 2), 3), (arr(5, 1), 0),
                                                      (arr(2, 2, dtype=np.float64), 2)]),
    (constant_shape_creation, lambda: [(arr(3, 4), 4), (arr(4, dtype=np.float64), 4),
                                       (arr(1, 4), 4)]),
    (bool_ops, lambda: [(1, 2), (-1, -1), (0, 3), (2, 2)]),
    (chained_comparison, lambda: [(5,), (-1,), (10,), (0,)]),
    (ternary, lambda: [(arr(3, 2),), (arr(2, 2),), (arr(5),)]),
    (shape_unpack, lambda: [(arr(2, 3),), (arr(4, 1),), (arr(1, 1),)]),
    (ndim_and_size, lambda: [(arr(2, 3),), (arr(4),), (arr(1, 2, 2),)]),
    (index_select, lambda: [(arr(3, 2),), (arr(4),), (arr(2, 2, 2),)]),
    (index_slices, lambda: [(arr(4, 5),), (arr(3, 3),), (arr(5, 2),)]),
    (index_reversed, lambda: [(arr(4, 5),), (arr(3, 3),), (arr(1, 2),)]),
    (index_newaxis, lambda: [(arr(3),), (arr(2),), (arr(4),)]),
    (index_ellipsis, lambda: [(arr(2, 3),), (arr(2, 2, 4),), (arr(5),)]),
    (index_dynamic, lambda: [(arr(4, 2), 1), (arr(4, 2), 7), (arr(3), 0)]),
    (index_mask, lambda: [(arr(6),), (arr(2, 3),), (arr(4, dtype=np.float64),)]),
    (if_else, lambda: [(arr(1, 4),), (arr(2, 4),), (arr(1),)]),
    (elif_chain, lambda: [(-3,), (0,), (4,), (42,)]),
    (variable_join, lambda: [(np.ones(3, np.float32),), (-np.ones(2, np.float32),), (arr(4),)]),
    (nested_ifs, lambda: [(arr(3, 4),), (arr(3, 2),), (arr(1, 3),)]),
    (early_return, lambda: [(np.ones(3, np.float32),), (-np.ones(3, np.float32),), (arr(2),)]),
    (return_in_elif, lambda: [(9,), (3,), (1,)]),
    (for_range, lambda: [(arr(3),), (arr(2, 2),), (arr(1, dtype=np.float64),)]),
    (for_range_start_step, lambda: [(10,), (2,), (0,), (11,)]),
    (for_range_negative_step, lambda: [(7,), (0,), (1,), (-4,)]),
    (while_loop, lambda: [(100,), (1,), (0,), (7,)]),
    (loop_break, lambda: [(10,), (0,), (1000,)]),
    (loop_continue, lambda: [(10,), (0,), (4,)]),
    (return_from_nested_loops, lambda: [(5,), (2,), (0,), (8,)]),
    (return_array_from_nested_loops, lambda: [(np.ones(3, np.float32), 2), (arr(2), 0),
                                              (np.full(2, 60.0), 1)]),
    (return_from_loop, lambda: [(np.ones(2, np.float32), 10.0), (np.ones(2, np.float32), 1e9),
                                (-np.ones(3, np.float32), 0.0)]),
    (nested_loops, lambda: [(6,), (0,), (3,)]),
    (while_with_break, lambda: [(10,), (0,), (99,)]),
    (loop_over_rows, lambda: [(arr(3, 2),), (arr(1, 4),), (arr(5, 1),)]),
    (loop_over_list, lambda: [(arr(3),), (arr(2, 2),), (arr(1),)]),
    (enumerate_zip, lambda: [(arr(3, 2), arr(3, 2)), (arr(4, 1), arr(2, 1)), (arr(1, 3), arr(1, 3))]),
    (loop_over_tuple, lambda: [(arr(3),), (arr(2, 2),), (arr(1, dtype=np.float64),)]),
    (rnn_loop, lambda: [(arr(5, 4), arr(4, 3), arr(3, 3), arr(3)), (arr(2, 2), arr(2, 6),
                                                                    arr(6, 6), arr(6))]),
    (assert_positive, lambda: [(3,), (1,)]),
    (raise_on_bad, lambda: [(arr(2, 3),), (arr(1, 1),)]),
    (pass_statement, lambda: [(np.ones(2, np.float32),), (-np.ones(2, np.float32),)]),
    (optional_refinement, lambda: [(arr(3), arr(3)), (arr(3), None), (arr(2, 2), arr(2))]),
    (optional_variable, lambda: [(np.ones(2, np.float32),), (-np.ones(3, np.float32),)]),
    (isinstance_static, lambda: [(1,), (-4,)]),
    (list_literal_and_len, lambda: [(arr(3),), (arr(2, 2),)]),
    (list_argument, lambda: [([arr(3), arr(3)],), ([arr(2, 2)],), ([arr(1)] * 4,)]),
    (list_comprehension, lambda: [(arr(3),), (arr(2, 2),)]),
    (tuple_return, lambda: [(arr(3),), (arr(2, 2),)]),
    (tuple_unpacking, lambda: [(arr(3),), (arr(1, 2),)]),
    (tuple_argument, lambda: [((2, 1.5),), ((-1, 0.25),)]),
    (string_compare, lambda: [("double", arr(3)), ("same", arr(2))]),
    (calls_helper, lambda: [(arr(3),), (arr(2, 2),)]),
    (calls_branching_helper, lambda: [(np.ones(2, np.float32),), (arr(4),)]),
    (bool_argument, lambda: [(arr(3), True), (arr(3), False)]),
    (membership, lambda: [(arr(3), 1), (arr(2), 2), (arr(3), 4), (arr(2), 7)]),
    (generator_unpacking, lambda: [(arr(3), arr(3)), (arr(2, 2), arr(2))]),
    (any_short_circuits, lambda: [(arr(3),), (arr(2, 2),)]),
    (dtype_and_int_math, lambda: [(arr(2), 3), (arr(3, dtype=np.float64), 0)]),
    (generator_reductions, lambda: [(arr(3), 0), (arr(2), 3), (arr(3), 4), (arr(2), 9)]),
    (binary_ufuncs, lambda: [(arr(3), arr(3)), (arr(2, 3), arr(3))]),
    (extrema_with_numbers, lambda: [(arr(3), 0.25, 2), (arr(2, 2, dtype=np.float64), -1.0, 3),
                                    (np.array([1, -2, 3]), 0.5, -1)]),
]


def _assert_same(actual, expected):
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_same(a, e)
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray)
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
        return
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, float):
        assert actual == pytest.approx(expected)
    else:
        assert actual == expected


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_scripted_matches_python(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    assert_roundtrip(scripted.graph)
    for inputs in make_inputs():
        _assert_same(scripted(*inputs), fn(*inputs))


def test_corpus_is_large_enough():
    assert len(FUNCTIONS) >= 60


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_code_rescripts_to_an_equivalent_graph(fn, make_inputs):
    from jitcore.frontend.script.source_text import script_source
    scripted = script(fn)
    rescripted = script_source(scripted.code, globals=_callee_graphs(scripted))
    rescripted.graph.lint()
    for inputs in make_inputs():
        _assert_same(rescripted(*inputs), fn(*inputs))


def _callee_graphs(scripted):
    # .code prints calls by name; the re-scripted code calls the same Python helpers
    return {name: globals()[name] for name in scripted.functions if name != scripted.name}


def with_defaults(x, scale: float = 2.0, shift: int = 1):
    return x * scale + shift


def test_scripted_function_call_fills_defaults_and_binds_keywords():
    scripted = script(with_defaults)
    x = arr(3)
    for args, kwargs in [((x,), {}), ((x, 0.5), {}), ((x,), {"shift": 4}), ((x, 1.5, 2), {})]:
        _assert_same(scripted(*args, **kwargs), with_defaults(*args, **kwargs))
        _assert_same(scripted.call_reference(*args, **kwargs), with_defaults(*args, **kwargs))
    with pytest.raises(TypeError, match="unexpected keyword argument 'offset'"):
        scripted(x, offset=1)


# ------------------------------------------------ list literals of script values

def _layer_norm_last_dim(x, w, b):
    return F.layer_norm(x, [x.shape[-1]], w, b)


def _layer_norm_named_list(x, w, b):
    shape = [x.shape[-1]]
    return F.layer_norm(x, shape, w, b)


def _layer_norm_int(x, w, b):
    return F.layer_norm(x, x.shape[-1], w, b)


def _reshape_to_a_list(x, w, b):
    n = x.shape[-1]
    return x.reshape([x.shape[0], n]) * w + b


@pytest.mark.parametrize("fn", [_layer_norm_last_dim, _layer_norm_named_list, _layer_norm_int],
                         ids=lambda f: f.__name__)
def test_layer_norm_with_a_list_of_script_ints(fn):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    w, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    scripted = script(fn)
    assert "prim::ListConstruct" in [n.kind for n in scripted.graph.nodes]
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * w + b
    np.testing.assert_allclose(scripted(x, w, b), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fn(x, w, b), expected, rtol=1e-5, atol=1e-5)     # eager too
    torch = pytest.importorskip("torch")
    reference = torch.nn.functional.layer_norm(
        torch.from_numpy(x), [5], torch.from_numpy(w), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(scripted(x, w, b), reference, rtol=1e-5, atol=1e-5)


def test_a_list_literal_of_script_ints_is_a_shape():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    w, b = np.full(3, 2.0), np.ones(3)
    np.testing.assert_array_equal(script(_reshape_to_a_list)(x, w, b), x * 2.0 + 1.0)


def formatted_raise(x, limit: int):
    if x.shape[0] > limit:
        raise ValueError(f"got {x.shape[0]} rows > {limit!r}; sum {x.sum():.3f}, first {x[0, 0]}, "
                         f"{{braces}} {x.ndim:>4}")
    return x


def format_method_raise(n: int) -> int:
    if n < 0:
        raise ValueError("n must be >= 0, got {} ({:>5}, {!r})".format(n, n * 2, 1.5))
    assert n < 100, f"n = {n} is too large"
    return n


def format_named_fields_raise(n: int, name: str) -> int:
    if n > 3:
        raise ValueError("{what} must be at most {limit}, got {0} ({0:>4}, {what!r})".format(
            n, what=name, limit=3))
    return n


@pytest.mark.parametrize("fn, inputs", [
    (formatted_raise, (np.full((3, 2), 0.25, np.float32), 2)),
    (format_method_raise, (-4,)),
    (format_method_raise, (123,)),
    (format_named_fields_raise, (7, "depth")),
], ids=["f-string", "str.format", "assert", "str.format-named"])
def test_a_raised_message_is_filled_in_as_python_fills_it(fn, inputs):
    with pytest.raises((ValueError, AssertionError)) as expected:
        fn(*inputs)
    # (pytest adds the failed comparison to an assert's message on a line of its own)
    message = str(expected.value).splitlines()[0]
    scripted = script(fn)
    with pytest.raises(expected.type) as got:
        scripted(*inputs)
    assert str(got.value).splitlines()[0] == message
    # and the code prints it as str.format, which compiles back to the same message
    from jitcore.frontend.script.source_text import script_source
    with pytest.raises(expected.type) as again:
        script_source(scripted.code)(*inputs)
    assert str(again.value).splitlines()[0] == message


def scripting_or_tracing(x):
    if jitcore.is_scripting():
        y = x + 1
    else:
        y = x - 1
    if jitcore.is_tracing():
        y = y * 10
    return y


def test_is_scripting_and_is_tracing_pick_their_branch_when_compiling():
    x = np.full(2, 2.0, np.float32)
    np.testing.assert_array_equal(scripting_or_tracing(x), x - 1)          # Python
    scripted = script(scripting_or_tracing)
    np.testing.assert_array_equal(scripted(x), x + 1)
    assert "prim::If" not in [n.kind for n in scripted.graph.nodes]     # decided when compiling
    # the trace differs from Python here by design, so its check against Python is off
    traced = jitcore.trace(scripting_or_tracing, (x,), check_trace=False)
    np.testing.assert_array_equal(traced(x), (x - 1) * 10)
    assert not jitcore.is_tracing() and not jitcore.is_scripting()


def int_bit_operations(a: int, b: int) -> List[int]:
    flags = a & 0xFF
    flags |= 1 << (b % 8)
    flags ^= b
    return [a & b, a | b, a ^ b, ~a, a << (b % 40), a >> (b % 70), flags, int(a > 0) << 3]


def bool_bit_operations(p: bool, q: bool) -> List[bool]:
    return [p & q, p | q, p ^ q, (p ^ q) & p]


def float_divmod_as_python(a: float, b: float) -> List[float]:
    return [a // b, a % b, 1.0 // 0.1, 1.0 % 0.1, -a // b]


@pytest.mark.parametrize("fn, inputs", [
    (int_bit_operations, [(5, 3), (-7, 12), (0, 0), (2 ** 40 + 3, 19), (-1, 69)]),
    (bool_bit_operations, [(True, False), (True, True), (False, False)]),
    (float_divmod_as_python, [(7.5, 2.0), (1.0, 0.1), (-1.0, 0.1), (0.3, -0.1), (-0.0, 3.0)]),
], ids=["int", "bool", "float-floordiv"])
def test_bitwise_and_division_of_numbers_as_python(fn, inputs):
    scripted = script(fn)
    scripted.graph.lint()
    for args in inputs:
        assert scripted(*args) == fn(*args), args


def shift_left(a: int, b: int) -> int:
    return a << b


def shift_right(a: int, b: int) -> int:
    return a >> b


def floor_division(a: int, b: int) -> int:
    return a // b


def int_add(a: int, b: int) -> int:
    return a + b


def int_sub(a: int, b: int) -> int:
    return a - b


def int_mul(a: int, b: int) -> int:
    return a * b


@pytest.mark.parametrize("fn, args, message", [
    (shift_left, (1, 63), "int << int does not fit in int64"),
    (shift_left, (-3, 64), "int << int does not fit in int64"),
    (shift_left, (1, -1), "negative shift count"),
    (shift_right, (1, -1), "negative shift count"),
    (floor_division, (-2 ** 63, -1), "int // int does not fit in int64"),
    (int_add, (2 ** 62, 2 ** 62), "an int result does not fit in int64"),
    (int_sub, (-2 ** 63, 1), "an int result does not fit in int64"),
    (int_mul, (2 ** 32, 2 ** 31), "an int result does not fit in int64"),
])
def test_int_operations_beyond_int64_raise(fn, args, message):
    with pytest.raises(jitcore.errors.KernelError, match=message):
        script(fn)(*args)
    assert script(fn)(1, 3) == fn(1, 3)


def divmod_of_numbers_and_arrays(a: int, b: int, x: float, y):
    q, r = divmod(a, b)
    fq, fr = divmod(x, 0.1)
    aq, ar = divmod(y, 0.7)
    return q, r, fq, fr, aq, ar


def text_builtins(n: int, s: str) -> List[str]:
    return [chr(n), str(ord(s)), hex(n), oct(-n), bin(n), chr(ord(s) + 1), hex(-n)]


def test_divmod_and_text_builtins_as_python():
    scripted = script(divmod_of_numbers_and_arrays)
    scripted.graph.lint()
    y = np.array([1.0, -2.5, 7.0], np.float32)
    for (a, b), x in zip([(7, 2), (-7, 2), (7, -3)], [1.0, -1.0, 0.35]):
        got = scripted(a, b, x, y)
        want = divmod_of_numbers_and_arrays(a, b, x, y)
        assert got[:4] == want[:4]
        for g, w in zip(got[4:], want[4:]):
            np.testing.assert_array_equal(g, w)
    text = script(text_builtins)
    for n, s in [(65, "a"), (0x1D11E, "é"), (0, "\x00")]:
        assert text(n, s) == text_builtins(n, s)
    with pytest.raises(jitcore.errors.KernelError, match=r"ValueError: chr: chr\(\) arg not in range"):
        text(-1, "a")
    with pytest.raises(jitcore.errors.KernelError, match="TypeError: ord: ord.. expected a character"):
        text(65, "ab")


def reshape_to_a_computed_list(x, rows: List[int]):
    shape = rows + list(x.shape[1:])
    flat = x.reshape(shape)
    return flat.reshape(shape[::-1]).transpose(list(range(len(shape)))[::-1])


def test_reshape_and_transpose_take_a_list_value():
    scripted = script(reshape_to_a_computed_list)
    x = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
    for rows in ([4], [2, 2], [-1]):
        np.testing.assert_array_equal(scripted(x, rows), reshape_to_a_computed_list(x, rows))


class OptionalProjection(jitcore.nn.Module):
    def __init__(self, project: bool):
        super().__init__()
        if project:
            self.proj = jitcore.nn.Linear(4, 4)

    def forward(self, x):
        if hasattr(self, "proj"):
            x = self.proj(x)
        if not hasattr(self, "forward") or hasattr(self, "no_such_thing"):
            x = x.frobnicate()      # never compiled: the condition is False when compiling
        return x + 1.0


def hasattr_of_a_value(x):
    return hasattr(x, "shape")


def test_hasattr_of_a_module_is_decided_when_compiling():
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    for project in (True, False):
        model = OptionalProjection(project)
        scripted = script(model)
        scripted.graph.lint()
        np.testing.assert_allclose(scripted(x), model(x), rtol=1e-6)
        assert ("proj" in scripted.code) == project
    with pytest.raises(jitcore.CompileError, match="hasattr.. in jitcore.script takes a module"):
        script(hasattr_of_a_value)


def tuple_slices(t: Tuple[int, float, str, int]) -> Tuple[Tuple[float, str], Tuple[int, int], Tuple[int, str, float, int]]:
    head = t[1:3]
    return head, t[::3], t[::-1]


def test_tuple_slices_with_constant_bounds():
    scripted = script(tuple_slices)
    scripted.graph.lint()
    for t in [(1, 2.5, "a", 4), (-1, 0.0, "", 7)]:
        assert scripted(t) == tuple_slices(t)
    from jitcore.frontend.script.source_text import script_source
    assert script_source(scripted.code)((1, 2.5, "a", 4)) == tuple_slices((1, 2.5, "a", 4))


def defaults_of_every_literal_kind(x, bias: Optional[np.ndarray] = None, k: int = 2,
                                   scale: float = 0.5, name: str = "a", flag: bool = True,
                                   sizes: Tuple[int, int] = (1, 2)):
    y = x * scale + k + sizes[1]
    if bias is not None:
        y = y + bias
    if flag and name == "a":
        y = -y
    return y


def sum_of_products(a: List[int], b: List[float]) -> float:
    return sum([x * y for x, y in zip(a, b)])


class ForwardWithDefaults(jitcore.nn.Module):
    def forward(self, x, shift: float = 1.5, bias: Optional[np.ndarray] = None):
        if bias is not None:
            x = x + bias
        return x + shift


def test_code_keeps_defaults_and_rescripts():
    from jitcore.frontend.script.source_text import script_source
    x = np.arange(6.0).reshape(2, 3)
    scripted = script(defaults_of_every_literal_kind)
    assert ("bias: Optional[Tensor] = None, k: int = 2, scale: float = 0.5, name: str = 'a', "
            "flag: bool = True, sizes: Tuple[int, int] = (1, 2)") in scripted.code
    again = script_source(scripted.code)
    np.testing.assert_array_equal(again(x), defaults_of_every_literal_kind(x))
    np.testing.assert_array_equal(again(x, x, flag=False), defaults_of_every_literal_kind(
        x, x, flag=False))
    module = script(ForwardWithDefaults())
    assert "shift: float = 1.5, bias: Optional[Tensor] = None" in module.code
    # an empty list literal, appended to, keeps its annotated type when re-scripted
    summed = script_source(script(sum_of_products).code)
    assert summed([1, 2], [0.5, 1.5]) == sum_of_products([1, 2], [0.5, 1.5]) == 3.5


def generators_over_run_time_lists(xs: List[int]) -> List[int]:
    found = any(x > 2 for x in xs)
    every = all(10 // x > 1 for x in xs)      # stops at the first False: no 10 // 0 after it
    evens = any(x > 100 for x in xs if x % 2 == 0)
    return [int(found), int(every), int(evens), sum(x * x for x in xs if x > 1),
            max(x for x in xs), len(sorted(-x for x in xs)), len(list(x for x in xs))]


def extremes_of_strings_and_tuples(words: List[str], pairs: List[Tuple[int, str]]) -> Tuple[str, str, Tuple[int, str], Tuple[int, str]]:
    return min(words), max(words), min(pairs), max(pairs)


def dict_of_lists_from_empty_defaults(words: List[str]) -> Dict[str, List[int]]:
    positions: Dict[str, List[int]] = {}
    for i, w in enumerate(words):
        positions.setdefault(w, []).append(i)
    return positions


def dtype_comparisons(x) -> int:
    if x.dtype == np.float32:
        return 32
    if x.dtype != np.dtype("int64") and x.dtype == np.dtype(np.float64):
        return 64
    return 0


def test_generators_extremes_defaults_and_dtypes_as_python():
    for fn, inputs in [
            (generators_over_run_time_lists, [([1, 2, 3],), ([4, 6, 0],), ([5],)]),
            (extremes_of_strings_and_tuples, [(["b", "a", "c"], [(1, "b"), (1, "c"), (0, "z")]),
                                              (["é"], [(2, "")])]),
            (dict_of_lists_from_empty_defaults, [(["a", "b", "a"],), ([],)]),
            (dtype_comparisons, [(np.ones(2, np.float32),), (np.ones(2),), (np.ones(2, np.int64),)])]:
        scripted = script(fn)
        scripted.graph.lint()
        for args in inputs:
            assert scripted(*args) == fn(*args), (fn.__name__, args)
