"""Negative cases of jitcore.script: each unsupported construct or type error raises a
CompileError with its own message and the offending source range underlined."""

import enum
import warnings
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

import jitcore.nn as nn
from jitcore.errors import CompileError
from jitcore.frontend.script import script

GLOBAL_ARRAY = np.ones(3)
GLOBAL_LIST = [1, 2]


def uses_try(x):
    try:
        return x
    except ValueError:
        return x


def uses_with(x):
    with open("f") as f:
        return x


def uses_lambda(x):
    f = lambda v: v  # noqa: E731
    return f(x)


def uses_generator(x):
    g = (v for v in x)
    return x


def uses_star_args(*xs):
    return xs[0]


def uses_kwargs(x, **options):
    return x


def uses_global(x):
    global GLOBAL_LIST
    return x


def captures_array(x):
    return x + GLOBAL_ARRAY


def captures_list(x):
    return x * GLOBAL_LIST[0]


def recursive(n: int) -> int:
    if n <= 0:
        return 0
    return recursive(n - 1)


def nested_def(x):
    def inner(y):
        return y
    return inner(x)


def type_change_in_branch(x, flag: bool):
    if flag:
        y = 1
    else:
        y = 1.5
    return x * y


def undefined_in_branch(x, flag: bool):
    if flag:
        y = x
    return y


def undefined_name(x):
    return x + not_defined_anywhere  # noqa: F821


def mask_assignment_beside_an_index(x):
    x[0, x[0] > 0] = 1.0
    return x


def attribute_assignment(x):
    x.shape = (2, 2)
    return x


def array_matmul_in_place(x, w):
    y = x
    y @= w
    return y


def ufunc_out_argument(a, b, c):
    np.add(a, b, out=[c])
    return c


def list_slice_update(xs: List[int]):
    xs[1:] += [3]
    return xs


def assign_string_into_array(x):
    x[0] = "a"
    return x


def loop_type_change(x):
    n = 0
    for i in range(3):
        n = n + 0.5
    return x * n


def wrong_argument_type(x):
    return typed_helper(x)


def typed_helper(n: int) -> int:
    return n + 1


def bad_return_annotation(x) -> int:
    return x


def tensor_and(x, y):
    return x and y


def in_with_array_left(x):
    if x in (1, 2):
        return x
    return x


def while_else(n: int) -> int:
    while n > 0:
        n -= 1
    else:
        n = 5
    return n


def set_literal(x):
    s = {1, 2}
    return x


def dict_with_a_float_key(x):
    d = {1.5: 1}
    return x


def dict_value_of_another_type(x):
    d = {"a": 1}
    d["b"] = x
    return x


def unsupported_builtin(x):
    return next(iter(x))


def sorted_of_an_array(x):
    return sorted(x)


def append_of_the_wrong_type(n: int) -> List[int]:
    xs: List[int] = []
    xs.append(1.5)
    return xs


def append_to_an_unannotated_empty_list(n: int):
    xs = []
    xs.append(n)
    return xs


def remove_from_a_list_of_arrays(x):
    xs = [x, x + 1]
    xs.remove(x)
    return xs


def unsupported_math(x):
    import math
    return x


def math_log2(n: float) -> float:
    # TorchScript has no math.log2 either
    return math_module.log2(n)


import math as math_module  # noqa: E402


def negative_step(x):
    return x[3:0:-1]


def optional_truth(x, b: Optional[np.ndarray] = None):
    if b:
        return x
    return x


def float32_of_a_run_time_value(a: float) -> float:
    return np.float32(a)


def item_method(x):
    return x.item()


def unknown_method(x):
    return x.frobnicate()


def shift_operator(x):
    return x << 2


def mixed_list(x):
    return [x, 1]


def bad_unpack(x):
    a, b, c = x + 1, x
    return a


def raise_custom(x):
    raise MyError("bad")


class MyError(Exception):
    pass


def bare_raise(x):
    raise


def walrus(x):
    if (n := x.shape[0]) > 1:
        return x
    return x


def loop_variable_after(x):
    for i in range(3):
        x = x + i
    return x * i


def break_in_unrolled(x):
    for k in (1, 2):
        if k > 1:
            break
        x = x * k
    return x


def calls_with_wrong_count(x):
    return typed_helper(1, 2)


def keyword_only(x, *, k: int = 1):
    return x


def chained_array_compare(x):
    return 0 < x < 1


def union_of_lists_told_apart(xs: Union[List[int], List[float]]):
    if isinstance(xs, List[int]):
        return 1
    return 0


def string_plus_int(a: str, b: int) -> str:
    return a + b


def uses_yield(x):
    yield x


def float_of_a_bad_string(x: float) -> float:
    return x + float("one")


def type_of_an_array(x):
    return type(x).__name__


def getattr_of_a_computed_name(x, name: str):
    return getattr(x, name)


def for_else(n: int) -> int:
    for i in range(n):
        n += i
    else:
        n = 0
    return n


def class_inside(x):
    class Local:
        pass
    return x


def starred_assignment(xs: List[int]) -> int:
    first, *rest = xs
    return first


def raise_from(n: int) -> int:
    if n < 0:
        raise ValueError("negative") from None
    return n


def print_with_keywords(x):
    print(x, end="")
    return x


def star_call(xs: List[int]) -> int:
    return max(*xs)


def dict_unpacking(n: int) -> Dict[str, int]:
    base = {"a": n}
    return {**base, "b": 2}


def in_in_a_chain(n: int) -> bool:
    return 0 < n in [1, 2]


def round_int_to_tens(n: int) -> int:
    return round(n, -1)


def import_inside(x):
    from math import sqrt
    return x * sqrt(2.0)


def range_with_a_zero_step(n: int) -> int:
    total = 0
    for i in range(0, n, 0):
        total += i
    return total


def list_of_enumerate(xs: List[int]) -> List[Tuple[int, int]]:
    return list(enumerate(xs))


class _Point:
    def __init__(self, x: float):
        self.x = x


class _Color(enum.Enum):
    RED = 1


def instance_of_a_class(n: float) -> float:
    return _Point(n).x


def enum_member(n: int) -> int:
    return n + _Color.RED.value


def del_of_a_name(n: int) -> int:
    m = n
    del m
    return n


def tuple_index_at_run_time(t: Tuple[int, int], i: int) -> int:
    return t[i]

# (function, message fragment, underlined source text)
def warns_with_a_number(n: int):
    warnings.warn(n)
    return n


def warns_a_deprecation(n: int):
    warnings.warn("old", DeprecationWarning)
    return n


def dict_of_pairs(x):
    return dict([("a", x)])


def writes_through_a_reversal(x):
    x[::-1] = 0.0
    return x


CASES = [
    (warns_with_a_number, "warnings.warn() takes a str message, got int", "warnings.warn(n)"),
    (warns_a_deprecation, "warns with UserWarning only",
     'warnings.warn("old", DeprecationWarning)'),
    (dict_of_pairs, "dict() in jitcore.script takes no argument, keyword arguments or one dict",
     'dict([("a", x)])'),
    (writes_through_a_reversal, "a negative slice step is supported in jitcore.script to read",
     "-1"),
    (uses_try, "try/except is not supported", "try:"),
    (float_of_a_bad_string, "float('one'): could not convert string to float", 'float("one")'),
    (type_of_an_array, "type() in jitcore.script takes a module", "type(x)"),
    (getattr_of_a_computed_name, "getattr() in jitcore.script takes an attribute name that is a "
     "string constant", "getattr(x, name)"),
    (uses_with, "with statements are not supported", 'with open("f") as f:'),
    (uses_lambda, "lambdas are not supported", "lambda v: v"),
    (uses_generator, "generator expressions are supported in jitcore.script only where they are "
     "consumed at once", "(v for v in x)"),
    (uses_star_args, "*xs parameters are not supported", "xs"),
    (uses_kwargs, "**options parameters are not supported", "options"),
    (uses_global, "global statements are not supported", "global GLOBAL_LIST"),
    (captures_array, "does not capture mutable values", "GLOBAL_ARRAY"),
    (captures_list, "does not capture mutable values", "GLOBAL_LIST"),
    (recursive, "recursion is not supported", "recursive(n - 1)"),
    (nested_def, "nested function definitions are not supported", None),
    (type_change_in_branch, "is int in one branch of the if and float in the other",
     None),
    (undefined_in_branch, "'y' is not defined in the false branch", "y"),
    (undefined_name, "undefined name 'not_defined_anywhere'", "not_defined_anywhere"),
    (mask_assignment_beside_an_index, "indexing with an array is supported only as the sole "
     "index", "x[0, x[0] > 0] = 1.0"),
    (attribute_assignment, "assigning attributes (self.x = v) is not supported", "x.shape"),
    (array_matmul_in_place, "the operator @= is not supported on arrays", "y @= w"),
    (ufunc_out_argument, "np.add(..., out=...) takes an array of the compiled code; write "
     "`out[...] = np.add(...)`", "np.add(a, b, out=[c])"),
    (list_slice_update, "in-place updates of list slices (xs[a:b] += ...) are not supported",
     "xs[1:] += [3]"),
    (assign_string_into_array, "cannot assign str into an array item", 'x[0] = "a"'),
    (loop_type_change, "is int before the loop and float after an iteration", None),
    (wrong_argument_type, "expected a value of type int for argument 'n' but got Tensor",
     "typed_helper(x)"),
    (bad_return_annotation, "annotated to return int but returns Tensor", None),
    (tensor_and, "the operands of 'and'/'or' must be bool", "x"),
    (in_with_array_left, "'in' with an array on the left is not supported", "x in (1, 2)"),
    (while_else, "while ... else is not supported", "n = 5"),
    (set_literal, "sets are not supported", "{1, 2}"),
    (dict_with_a_float_key, "dict keys must be str or int in jitcore.script, got float",
     "{1.5: 1}"),
    (dict_value_of_another_type, "the values of a Dict[str, int] are int, got Tensor",
     'd["b"] = x'),
    (unsupported_builtin, "the builtin next() is not supported in jitcore.script; use a for "
                          "loop", "next"),
    (sorted_of_an_array, "sorted() in jitcore.script takes a list, got Tensor; use the NumPy "
     "function", "sorted(x)"),
    (append_of_the_wrong_type, "append to a List[int] needs an item of type int, got float",
     "xs.append(1.5)"),
    (append_to_an_unannotated_empty_list, "an empty list literal is a list of arrays: annotate "
     "it, e.g. `xs: List[int] = []`", "xs.append(n)"),
    (remove_from_a_list_of_arrays, "list.remove() compares items, which jitcore.script supports "
     "for lists of numbers, bools, strings and tuples of them", "xs.remove(x)"),
    (unsupported_math, "import statements are not supported", "import math"),
    (math_log2, "math.log2 is not supported in jitcore.script; supported are math.acos",
     "math_module.log2"),
    (negative_step, "a negative slice step is supported in jitcore.script to read a whole "
     "axis reversed", "-1"),
    (optional_truth, "truth value of a Optional[Tensor] is ambiguous", "b"),
    (float32_of_a_run_time_value, "np.float32(x) of a value computed at run time is not "
     "supported", "np.float32(a)"),
    (item_method, "ndarray.item() is not supported", "x.item"),
    (unknown_method, "'frobnicate' is not supported", "x.frobnicate"),
    (shift_operator, "the operator << is not supported on arrays", "x << 2"),
    (mixed_list, "list items must have one type; got Tensor and int", "[x, 1]"),
    (bad_unpack, "cannot unpack 2 values into 3 targets", None),
    (raise_custom, "raise supports the builtin exceptions", 'raise MyError("bad")'),
    (bare_raise, "a bare raise (re-raise) is not supported", "raise"),
    (walrus, "assignment expressions (:=) are not supported", "n := x.shape[0]"),
    (loop_variable_after, "the loop variable 'i' is not available after the loop", "i"),
    (break_in_unrolled, "break in a loop over a tuple or module list is not supported", "break"),
    (calls_with_wrong_count, "too many positional arguments", "typed_helper(1, 2)"),
    (keyword_only, "keyword-only parameters are not supported", "k: int"),
    (chained_array_compare, "chained comparisons of arrays are ambiguous", "0 < x < 1"),
    (union_of_lists_told_apart, "cannot tell the members of Union[List[int], List[float]] "
     "apart at run time", "isinstance(xs, List[int])"),
    (string_plus_int, "unsupported operand types for +: str and int", "a + b"),
    (uses_yield, "generators (yield) are not supported", "yield x"),
    (for_else, "for ... else is not supported", "n = 0"),
    (class_inside, "class definitions inside a scripted function are not supported",
     "class Local:"),
    (starred_assignment, "starred assignment (a, *rest = ...) is not supported",
     "first, *rest"),
    (raise_from, "raise ... from ... is not supported",
     'raise ValueError("negative") from None'),
    (print_with_keywords, "print() keyword arguments are not supported", 'print(x, end="")'),
    (star_call, "star-unpacking (*args) is not supported", "*xs"),
    (dict_unpacking, "**-unpacking in a dict literal is not supported",
     '{**base, "b": 2}'),
    (in_in_a_chain, "'in' inside a chained comparison is not supported",
     "0 < n in [1, 2]"),
    (round_int_to_tens, "round() of an int with a negative or run-time ndigits is not supported",
     "round(n, -1)"),
    (import_inside, "import statements are not supported inside jitcore.script functions",
     "from math import sqrt"),
    (range_with_a_zero_step, "range() arg 3 must not be zero", "range(0, n, 0)"),
    (list_of_enumerate, "list() of enumerate(...) is not supported in jitcore.script; write a "
     "list comprehension", "list(enumerate(xs))"),
    (instance_of_a_class, "'_Point' is a Python type, which jitcore.script cannot use", "_Point"),
    (enum_member, "'_Color' is a Python EnumType, which jitcore.script cannot use", "_Color"),
    (del_of_a_name, "del is supported on list items only in jitcore.script (del xs[i])", "m"),
    (tuple_index_at_run_time, "a tuple index must be an integer constant", "t[i]"),
]


def _underlined(error):
    """The text under the ``~~~~`` marker of the error's own source range."""
    where = error.source_range
    lines = where.source.splitlines()
    if where.line == where.end_line:
        return lines[0][where.col:where.end_col]
    return "\n".join(lines)


@pytest.mark.parametrize("fn, message, underlined", CASES, ids=[c[0].__name__ for c in CASES])
def test_compile_error(fn, message, underlined):
    with pytest.raises(CompileError) as info:
        script(fn)
    error = info.value
    assert message in str(error)
    assert "<--- HERE" in str(error)
    assert error.source_range.filename == __file__
    if underlined is not None:
        assert _underlined(error) == underlined


def test_there_are_at_least_60_negative_cases():
    assert len(CASES) >= 60


def test_error_names_the_call_chain():
    with pytest.raises(CompileError) as info:
        script(calls_bad_helper)
    text = str(info.value)
    assert "'uses_try' is being compiled since it was called from 'calls_bad_helper'" in text
    assert "return uses_try(x)" in text


def calls_bad_helper(x):
    return uses_try(x)


def test_error_underline_points_into_the_file():
    with pytest.raises(CompileError) as info:
        script(float32_of_a_run_time_value)
    text = str(info.value)
    assert f'File "{__file__}"' in text
    source_line, marker_line = [line for line in text.splitlines()
                                if "np.float32(a)" in line or "~" in line][:2]
    start = source_line.index("np.float32(a)")
    assert marker_line.index("~") == start
    assert marker_line.count("~") == len("np.float32(a)")


class _NoForward(nn.Module):
    pass


class _BadAttribute(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = {"a"}

    def forward(self, x):
        return x * self.table


def test_module_errors():
    with pytest.raises(TypeError, match="neither forward"):
        script(_NoForward())
    with pytest.raises(CompileError, match="attribute 'table' of module _BadAttribute is a set"):
        script(_BadAttribute())


def test_script_rejects_other_objects():
    with pytest.raises(TypeError, match="compiles functions and jitcore.nn.Module instances"):
        script(42)
