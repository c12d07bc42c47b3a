"""Strings in compiled code: Python's str operators, methods and conversions.

Each op has Python's semantics (its reference is the str method itself), under
ATen's name where ATen has the op (``aten::add.str``, ``aten::split.str``,
``aten::__getitem__.str``...).  Where ATen's defaults differ from Python's (its
``end=-1`` of ``find`` means the end of the string), the schema takes Python's
(``int? end=None``), so that ``s.find(x, 0, -1)`` means what it means in Python.
The runtime keeps a string as a reference-counted array of code points
(``_runtime/op_string.pyx``).
"""

import builtins
import operator

from ..effects import OutputAlias
from ..registry import register

_COMPARISONS = (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge))

for _name, _fn in _COMPARISONS:
    register(f"aten::{_name}.str(str a, str b) -> bool", reference=_fn,
             handler=("str_compare", _name))

register("aten::add.str(str a, str b) -> str", reference=operator.add, handler="str_concat",
         doc="`a + b` of two strings")
register("aten::mul.str(str a, int b) -> str", reference=operator.mul, handler="str_repeat",
         doc="`s * n`: `s` repeated `n` times (empty when `n <= 0`)")
register("aten::len.str(str s) -> int", reference=len, handler="str_len",
         doc="`len(s)`: the number of code points")
# the aliasing of the kind's tensor/list overloads (strings are immutable: harmless)
register("aten::__getitem__.str(str s, int index) -> str", reference=operator.getitem,
         output_alias=OutputAlias.CONTAINS, handler="str_getitem", doc="`s[i]`: one code point, negative from the end")
register("aten::slice.str(str string, int? start=None, int? end=None, int step=1) -> str",
         reference=lambda s, start, end, step: s[start:end:step], handler="str_slice",
         output_alias=OutputAlias.VIEW,
         doc="`s[start:end:step]`")
register("aten::__contains__.str_str(str self, str substr) -> bool",
         reference=lambda s, sub: sub in s, handler=("str_find", "contains"),
         doc="`substr in self`")


def _method(name):
    """``str.<name>`` as a function of this module (a method descriptor has no ``__module__``)."""
    def reference(s, *args):
        return getattr(s, name)(*args)
    reference.__name__ = name
    return reference


for _name, _result in (("find", "int"), ("count", "int"), ("startswith", "bool"),
                       ("endswith", "bool")):
    register(f"aten::{_name}(str self, str substr, int start=0, int? end=None) -> {_result}",
             reference=_method(_name), handler=("str_find", _name),
             doc=f"`s.{_name}(sub, start, end)`")

for _name in ("strip", "lstrip", "rstrip"):
    register(f"aten::{_name}(str self, str? chars=None) -> str",
             reference=_method(_name), handler=("str_strip", _name),
             doc=f"`s.{_name}(chars)`; without chars, Unicode whitespace")
for _name in ("lower", "upper"):
    register(f"aten::{_name}(str self) -> str", reference=_method(_name),
             handler=("str_case", _name), doc=f"`s.{_name}()` (Python's full case mapping)")
for _name in ("isdigit", "isalpha", "isspace"):
    register(f"aten::{_name}(str self) -> bool", reference=_method(_name),
             handler=("str_is", _name), doc=f"`s.{_name}()`")

register("aten::replace(str self, str old, str new, int max=-1) -> str",
         reference=lambda s, old, new, count=-1: s.replace(old, new, count),
         handler="str_replace", doc="`s.replace(old, new, count)`: all when count < 0")
register("aten::split.str(str self, str? separator=None, int max=-1) -> str[]",
         reference=lambda s, sep=None, maxsplit=-1: s.split(sep, maxsplit),
         handler="str_split", output_alias=OutputAlias.VIEW, doc="`s.split(sep, maxsplit)`; without sep, runs of whitespace")
register("aten::join(str self, str[] values) -> str", reference=_method("join"), handler="str_join",
         doc="`self.join(values)`")

register("aten::str(Any elem) -> str", reference=str, handler="to_str",
         doc="`str(x)` of an int, float, bool, str or None, as Python writes it")
register("aten::Int.str(str a) -> int", reference=int, handler=("str_to_number", "int"),
         doc="`int(s)` (Python's syntax: sign, underscores, surrounding whitespace)")
register("aten::Float.str(str a) -> float", reference=float, handler=("str_to_number", "float"),
         doc="`float(s)` (Python's syntax, also `\"inf\"` and `\"nan\"`)")
register("aten::percentFormat(str self, ...) -> str",
         reference=lambda text, *values: text % tuple(values),
         handler=("str_format", "percent"),
         doc="`text % values`: printf-style formatting (`%d`, `%.3f`, `%s`, `%r`), Python's")
register("aten::format(str self, ...) -> str", reference=lambda text, *values: text.format(*values),
         handler=("str_format", "format"),
         doc="`text.format(*values)`: an f-string or str.format with `{}`, `{name}` and "
             "format specs")

# The rest of TorchScript's str methods, under its names.  Their runtime is Python's own
# str method under the GIL (op_string.pyx's ``STR_PYTHON_METHODS``): text handling is not a
# model's hot path, and Python's Unicode tables (title case, numeric and printable classes,
# line boundaries) are the specification these methods are tested against.
_PYTHON_METHODS = (
    ("rsplit", "aten::rsplit(str self, str? separator=None, int max=-1) -> str[]"),
    ("splitlines", "aten::splitlines(str self, bool keepends=False) -> str[]"),
    ("partition", "aten::partition(str self, str separator) -> (str, str, str)"),
    ("rpartition", "aten::rpartition(str self, str separator) -> (str, str, str)"),
    ("rfind", "aten::rfind(str self, str substr, int start=0, int? end=None) -> int"),
    ("index", "aten::index.str(str self, str substr, int start=0, int? end=None) -> int"),
    ("rindex", "aten::rindex(str self, str substr, int start=0, int? end=None) -> int"),
    ("title", "aten::title(str self) -> str"),
    ("capitalize", "aten::capitalize(str self) -> str"),
    ("swapcase", "aten::swapcase(str self) -> str"),
    ("center", "aten::center(str self, int width, str fillchar=' ') -> str"),
    ("ljust", "aten::ljust(str self, int width, str fillchar=' ') -> str"),
    ("rjust", "aten::rjust(str self, int width, str fillchar=' ') -> str"),
    ("zfill", "aten::zfill(str self, int width) -> str"),
    ("expandtabs", "aten::expandtabs(str self, int tabsize=8) -> str"),
    ("isalnum", "aten::isalnum(str self) -> bool"),
    ("islower", "aten::islower(str self) -> bool"),
    ("isupper", "aten::isupper(str self) -> bool"),
    ("istitle", "aten::istitle(str self) -> bool"),
    ("isdecimal", "aten::isdecimal(str self) -> bool"),
    ("isnumeric", "aten::isnumeric(str self) -> bool"),
    ("isidentifier", "aten::isidentifier(str self) -> bool"),
    ("isprintable", "aten::isprintable(str self) -> bool"),
)
for _name, _schema in _PYTHON_METHODS:
    register(_schema, reference=_method(_name), handler=("str_python_method", _name),
             doc=f"`s.{_name}(...)` (Python's str.{_name})")

for _name, _schema in (("chr", "aten::chr(int i) -> str"), ("ord", "aten::ord(str string) -> int"),
                       ("hex", "aten::hex(int i) -> str"), ("oct", "aten::oct(int i) -> str"),
                       ("bin", "aten::bin(int i) -> str")):
    register(_schema, reference=getattr(builtins, _name), aliases=(getattr(builtins, _name),),
             handler=("python_text_builtin", _name), doc=f"`{_name}(x)`, Python's builtin")
