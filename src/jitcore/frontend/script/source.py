"""A Python function's source, parsed with ``ast``, and the source range of any of its nodes.

Functions defined inside a class or another function are indented; the source is
dedented before parsing, and ranges are mapped back to the file's own lines and
columns so that error messages and ``# file:line:col`` comments point at the user's file.
"""

import ast
import inspect
import linecache
import textwrap

from jitcore._runtime.ir import SourceRange

from .errors import compile_error

__all__ = ["FunctionSource", "parse_function"]


class FunctionSource:
    """A parsed function definition and the mapping of its AST positions to the file.

    Attributes
    ----------
    fn : callable
        The Python function.
    definition : ast.FunctionDef
    filename : str
    """

    def __init__(self, fn, definition, filename, first_line, indent, file_lines):
        self.fn = fn
        self.definition = definition
        self.filename = filename
        self._first_line = first_line
        self._indent = indent
        self._file_lines = file_lines

    @property
    def name(self):
        return self.definition.name

    def range_of(self, node):
        """The :class:`SourceRange` of an AST node (file line, column, end, and the text)."""
        line = node.lineno + self._first_line - 1
        end_line = (getattr(node, "end_lineno", None) or node.lineno) + self._first_line - 1
        col = node.col_offset + self._indent
        end_col = (node.end_col_offset if getattr(node, "end_col_offset", None) is not None
                   else node.col_offset + 1) + self._indent
        text = "".join(self._file_lines[line - 1:end_line]).rstrip("\n")
        return SourceRange(self.filename, line, col, end_line, end_col, text)

    def first_line_range(self, node):
        """The range of a statement's first line only (``try:``, ``with open(f) as g:``)."""
        full = self.range_of(node)
        first = full.source.splitlines()[0] if full.source else ""
        return SourceRange(self.filename, full.line, full.col, full.line,
                           len(first.rstrip()), first)


def parse_function(fn):
    """Read and parse the source of ``fn``.

    Raises
    ------
    CompileError
        If the source is not available (a lambda, a builtin, code typed at a prompt)
        or the object is not a ``def`` function.
    """
    if getattr(fn, "__name__", None) == "<lambda>":
        raise compile_error("lambdas cannot be compiled by jitcore.script; define the function "
                            "with def (the compiler needs a named function with source)")
    try:
        lines, first_line = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or inspect.getfile(fn)
    except (OSError, TypeError) as e:
        raise compile_error(f"cannot get the source of {getattr(fn, '__qualname__', fn)!r} to "
                            f"compile it ({e}); jitcore.script needs functions defined in a "
                            "file (or a notebook cell), not built-ins or exec'd strings") from None
    first_line = max(first_line, 1)
    source = "".join(lines)
    dedented = textwrap.dedent(source)
    indent = _common_indent(lines)
    try:
        module = ast.parse(dedented)
    except SyntaxError as e:
        raise compile_error(f"cannot parse the source of {fn.__qualname__}: {e}") from None
    definition = module.body[0] if module.body else None
    if isinstance(definition, ast.AsyncFunctionDef):
        raise compile_error("async functions cannot be compiled by jitcore.script; use a plain def",
                            None)
    if not isinstance(definition, ast.FunctionDef):
        raise compile_error(f"jitcore.script expected a function definition for "
                            f"{fn.__qualname__}, found {type(definition).__name__}")
    file_lines = linecache.getlines(filename) or []
    if len(file_lines) < first_line - 1 + len(lines):
        # Source from an interactive session: the lines inspect gave us are the whole text.
        file_lines = [""] * (first_line - 1) + list(lines)
    return FunctionSource(fn, definition, filename, first_line, indent, file_lines)


def _common_indent(lines):
    widths = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    return min(widths) if widths else 0
