"""Strings in jitcore.script (frontend/script/strings.py, and the str operators and builtins):
each function is scripted, linted and run against plain Python on several inputs (empty,
ASCII, non-ASCII), also optimised, and its ``.code`` re-scripts to the same results."""

import re
from typing import Dict, List

import pytest

import jitcore
from jitcore.errors import CompileError, JitcoreError, KernelError
from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source
from jitcore.testing import assert_roundtrip

from test_script_lists import _check

pytestmark = pytest.mark.filterwarnings("error:jitcore. optimising:RuntimeWarning")

WORDS = ["", "a", "Hello, World", "  spaced  out\t", "héllo wörld", "ΣΑΣ ß 𝄞", "1,2,,3", "abcabc"]


def operators(s: str, t: str, n: int) -> List[str]:
    return [s + t, s * n, t * 0, str(s == t), str(s != t), str(s < t), str(s <= t),
            str(s > t), str(s >= t), str(t in s), str("a" not in s), str(len(s + t))]


def indexing_and_slicing(s: str, i: int) -> List[str]:
    out = [s[1:], s[:i], s[-3:], s[::-1], s[1:i:2], s[::2], s[i:]]
    if len(s) > i >= -len(s):
        out.append(s[i])
    return out


def iteration(s: str) -> List[str]:
    out: List[str] = []
    for c in s:
        if c != " ":
            out.append(c.upper())
    return out


def methods(s: str) -> List[str]:
    return [s.strip(), s.lstrip(), s.rstrip(), s.strip(" ,"), s.lower(), s.upper(),
            s.replace("l", "L"), s.replace("", "|", 3), s.replace("abc", ""),
            str(s.find("l")), str(s.find("b", 2)), str(s.count("a")), str(s.count("")),
            str(s.startswith("He")), str(s.endswith("d")), str(s.startswith("")),
            str(s.isdigit()), str(s.isalpha()), str(s.isspace())]


def split_and_join(s: str) -> List[str]:
    words = s.split()
    fields = s.split(",")
    first = s.split(None, 1)
    last = s.split(",", 1)
    return ["|".join(words), "|".join(fields), "|".join(first), "|".join(last),
            "".join(words), str(len(words))]


def conversions(n: int, x: float, flag: bool) -> List[str]:
    return [str(n), str(x), str(flag), str(x * 1e20), str(-x / 3.0), str(int(str(n)) + 1),
            str(float(str(x)) * 2.0)]


def formatting(n: int, x: float, s: str) -> List[str]:
    return [f"{n}", f"n={n}, x={x}, s={s}", f"{x:.3f}|{n:d}|{s!r}", "{} and {}".format(s, n),
            f"{{literal}} {n}"]


def percent_formatting(n: int, x: float, s: str) -> List[str]:
    # printf style (TorchScript's aten::percentFormat): a tuple of values, or one
    return ["n=%d x=%.2f s=%s" % (n, x, s), "%5.1f%%" % x, "%r|%-4s|%03d" % (s, s, n),
            "%s" % s, "%e" % x, "%x" % (n * n)]


def named_formatting(n: int, x: float, s: str) -> List[str]:
    return ["{name}={value:.2f}".format(name=s, value=x), "{0}/{n}/{0!r}".format(s, n=n),
            "{}|{k:>{w}}|{}".format(n, x, k=s, w=n % 7 + 1), "{s[0]}".format(s=[s, s]),
            "{{{a}}}".format(a=n)]


def more_methods(s: str) -> List[str]:
    head, sep, tail = s.partition(",")
    rhead, rsep, rtail = s.rpartition(" ")
    return ["|".join(s.rsplit()), "|".join(s.rsplit(",", 1)), "|".join(s.rsplit(maxsplit=1)),
            "|".join(s.splitlines()), "|".join(s.splitlines(True)), head, sep, tail, rhead, rsep,
            rtail, str(s.rfind("l")), str(s.rfind("a", 0, 4)), s.title(), s.capitalize(),
            s.swapcase(), s.center(21, "·"), s.ljust(15), s.rjust(15, "-"), s.zfill(14),
            s.expandtabs(4), str(s.isalnum()), str(s.islower()), str(s.isupper()),
            str(s.istitle()), str(s.isdecimal()), str(s.isnumeric()), str(s.isidentifier()),
            str(s.isprintable())]


def index_of(s: str, sub: str) -> List[int]:
    return [s.index(sub), s.rindex(sub), s.index(sub, 1) if sub in s[1:] else -1]


def word_counts(text: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for word in text.lower().split():
        word = word.strip(".,!?")
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts


def parse_numbers(text: str) -> float:
    total = 0.0
    for field in text.split(","):
        field = field.strip()
        if field.isdigit():
            total += int(field)
        elif field:
            total += float(field)
    return total


def truth_of_a_string(s: str) -> int:
    if s:
        return 1
    return 0


def list_of_strings(names: List[str], sep: str) -> str:
    out: List[str] = []
    for name in names:
        if name not in out:
            out.append(name.upper())
    return sep.join(out)


FUNCTIONS = [
    (operators, lambda: [(a, b, n) for a, b in zip(WORDS, reversed(WORDS)) for n in (2, -1)]),
    (indexing_and_slicing, lambda: [(w, i) for w in WORDS for i in (0, 2, -1, 40)]),
    (iteration, lambda: [(w,) for w in WORDS]),
    (methods, lambda: [(w,) for w in WORDS + ["123", "٣٤", " \u3000"]]),
    (split_and_join, lambda: [(w,) for w in WORDS]),
    (conversions, lambda: [(0, 1.0, True), (-17, 0.1, False), (10 ** 12, 2.5e-7, True)]),
    (formatting, lambda: [(3, 2.5, "é"), (-1, 1e20, "")]),
    (percent_formatting, lambda: [(3, 2.5, "é"), (-1, 1e20, ""), (255, -0.125, "long name")]),
    (named_formatting, lambda: [(3, 2.5, "é"), (-1, 1e20, "xy"), (12, -0.125, "long name")]),
    (more_methods, lambda: [(w,) for w in WORDS + ["a\tb\nc\r\nd", "x_1", "Ⅻ", "0042"]]),
    (index_of, lambda: [("abcabc", "bc"), ("héllo héllo", "é"), ("aaa", "")]),
    (word_counts, lambda: [("The cat. The hat!",), ("",), ("Ünïcode ünïcode, ok?",)]),
    (parse_numbers, lambda: [("1, 2.5, ,30",), ("",), ("-1.5e3, 7",)]),
    (truth_of_a_string, lambda: [("",), ("x",)]),
    (list_of_strings, lambda: [(["a", "b", "a"], ", "), ([], "-")]),
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


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_runs_in_the_interpreter_not_the_fallback(fn, make_inputs):
    from jitcore.executor import compile_graph
    compiled = compile_graph(script(fn).graph, fallback=False)
    assert compiled.code is not None


def bad_number(s: str) -> int:
    return int(s)


def bad_float(s: str) -> float:
    return float(s)


@pytest.mark.parametrize("fn, text", [(bad_number, "12a"), (bad_number, ""),
                                      (bad_float, "1.2.3"), (bad_number, "9" * 30)])
def test_a_bad_number_string_is_an_error_naming_it(fn, text):
    with pytest.raises(JitcoreError, match=re.escape(repr(text))):
        script(fn)(text)


def index_past_the_end(s: str) -> str:
    return s[len(s)]


def empty_separator(s: str) -> List[str]:
    return s.split("")


def test_run_time_errors_are_python_errors():
    with pytest.raises(JitcoreError, match="IndexError: string index out of range"):
        script(index_past_the_end)("abc")
    with pytest.raises(JitcoreError, match="ValueError: empty separator"):
        script(empty_separator)("abc")


def index_not_found(s: str) -> int:
    return s.index("z")


def wide_fill_character(s: str) -> str:
    return s.center(9, "ab")


def test_python_method_errors_are_python_errors():
    with pytest.raises(JitcoreError, match="ValueError: str.index: substring not found"):
        script(index_not_found)("abc")
    with pytest.raises(JitcoreError, match="TypeError: str.center: The fill character must "
                                           "be exactly one character long"):
        script(wide_fill_character)("abc")


def format_of_a_computed_string(s: str, n: int) -> str:
    return (s + "{n}").format(n=n)


def format_field_without_argument(n: int) -> str:
    return "{m}".format(n=n)


def format_mixing_numbering(n: int) -> str:
    return "{} {1} {k}".format(n, n, k=n)


@pytest.mark.parametrize("fn, message, line", [
    (format_of_a_computed_string, "needs the format string written in the code",
     "(s + \"{n}\").format(n=n)"),
    (format_field_without_argument, "the field {m} has no argument named 'm' \\(named: n\\)",
     "\"{m}\".format(n=n)"),
    (format_mixing_numbering, "cannot switch from automatic field numbering to manual",
     "\"{} {1} {k}\".format(n, n, k=n)"),
])
def test_named_format_errors_point_at_the_call(fn, message, line):
    with pytest.raises(CompileError, match=message) as caught:
        script(fn)
    text = str(caught.value)
    assert line in text and "<--- HERE" in text


def add_str_and_int(s: str, n: int) -> str:
    return s + n


def str_of_a_list(xs: List[int]) -> str:
    return str(xs)


def in_with_an_int(s: str, n: int) -> bool:
    return n in s


@pytest.mark.parametrize("fn, message", [
    (add_str_and_int, "unsupported operand types for \\+: str and int"),
    (str_of_a_list, "str\\(\\) of List\\[int\\] is not supported"),
    (in_with_an_int, "'in <string>' requires a string on the left, got int"),
])
def test_type_errors_are_compile_errors(fn, message):
    with pytest.raises(CompileError, match=message):
        script(fn)


def test_a_string_program_saves_and_loads(tmp_path):
    scripted = script(word_counts)
    jitcore.save(scripted, tmp_path / "counts.jc")
    loaded = jitcore.load(tmp_path / "counts.jc")
    for text in ("The cat. The hat!", "ß ß SS"):
        assert loaded(text) == word_counts(text)
    assert loaded.code == scripted.code


def short_of_values(n: int) -> str:
    return "%d and %d" % (n,)


def test_a_percent_format_short_of_values_fails_the_call_with_python_s_message():
    with pytest.raises(KernelError, match="not enough arguments for format string"):
        script(short_of_values)(3)
