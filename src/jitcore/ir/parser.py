"""Parse TorchScript's IR text format (what ``print_graph`` writes) back into a ``Graph``.

Parsing runs in two phases.  The first reads the text into a small syntax tree
(``_GraphSyntax``, ``_NodeSyntax``, ...) that remembers where each piece came
from; the second builds the ``Graph`` from it.  Two phases are needed because a
fusion group's node kind (``jc::FusedElementwise_0``) is only known to be a group
label once the ``with jc::FusedElementwise_0 = graph(...)`` section after the
graph has been read, and a node's kind cannot change after it is created.

Names: numeric names (``%22``) restore the value's unique number; other names
(``%x.1``) become debug names, and those values get unique numbers above every
numeric name of the text, so no number is ever shared.

Besides ``print_graph``'s own output, TorchScript's printed graphs parse too:
strides in types (``Float(1:4, 4:1)``) are accepted and dropped, and a
``bool`` ``prim::Constant`` printed as ``[value=1]`` becomes ``True``.
"""

import math
import re

import numpy as np

from jitcore._runtime.ir import Graph, SourceRange
from jitcore._runtime.types import TypeParseError, parse_type_prefix
from jitcore.errors import IRParseError
from jitcore.ir.printer import SUBGRAPH

__all__ = ["parse_graph"]

_NAME = re.compile(r"[\w.]+")
_KIND = re.compile(r"[\w.]+::[\w.]+")
_ATTR_NAME = re.compile(r"\w+")
_NUMBER = re.compile(
    r"-?(?:inf|nan|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![\w.])")
_GROUP_SUFFIX = re.compile(r"_\d+$")
_SOURCE_RANGE = re.compile(r"(.*):(\d+):(\d+)")
_STRING_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_HEX_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}
# Python types a tensor literal's values may have, per dtype kind: an int
# tensor must not silently truncate 1.5, a bool tensor must not take 2.
_TENSOR_ELEMENT_TYPES = {"b": (bool,), "i": (int,), "u": (int,), "f": (float, int)}
_TENSOR_DTYPE_KINDS = "".join(_TENSOR_ELEMENT_TYPES)
# IR ints are int64, as in TorchScript: a larger literal would only fail later, where
# the interpreter converts it, far from the text that holds it.
_INT64_RANGE = (-(2 ** 63), 2 ** 63 - 1)
_FLOAT64_MAX = float(np.finfo(np.float64).max)
# Source locations are stored as C ints.
_SOURCE_LINE_RANGE = (0, 2 ** 31 - 1)
# Value numbers are kept, and named values numbered after the largest, in a
# Py_ssize_t; this bound leaves room for any count of named values after it.
_MAX_VALUE_NUMBER = 2 ** 62


def parse_graph(text, *, tensor_table=None):
    """Parse IR text into a ``Graph``.

    Parameters
    ----------
    text : str
        A graph in TorchScript's format, as ``str(graph)`` prints it.
    tensor_table : dict of str to ndarray, optional
        Resolves ``@name`` tensor references; pass the table ``print_graph``
        filled.

    Returns
    -------
    Graph

    Raises
    ------
    jitcore.errors.IRParseError
        With the line and column (both 1-based) of the first problem and a
        message naming what was expected and what came.

    Examples
    --------
    >>> g = parse_graph('''graph(%x : Tensor):
    ...   %1 : int = prim::Constant[value=1]()
    ...   %2 : Tensor = aten::add(%x, %x, %1)
    ...   return (%2)
    ... ''')
    >>> str(parse_graph(str(g))) == str(g)
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_graph expects IR text (str), got {type(text).__name__}")
    reader = _Reader(text.replace("\r\n", "\n"), tensor_table)
    syntax = reader.graph()
    reader.skip_blank_lines()
    if not reader.at_end():
        if reader.peek("with "):
            reader.fail("this 'with' section names no node kind or attribute of the graph above")
        reader.fail(f"expected end of text after the graph but found {reader.found()}")
    return _Builder(reader).graph(syntax)


# ------------------------------------------------------------------ syntax tree

class _TypedName:
    __slots__ = ("name", "type", "pos")

    def __init__(self, name, type, pos):
        self.name, self.type, self.pos = name, type, pos


class _Ref:
    __slots__ = ("name", "pos")

    def __init__(self, name, pos):
        self.name, self.pos = name, pos


class _GroupRef:
    """An attribute value naming a ``with`` section of the enclosing graph."""
    __slots__ = ("label", "pos")

    def __init__(self, label, pos):
        self.label, self.pos = label, pos


class _BlockSyntax:
    __slots__ = ("inputs", "nodes", "outputs")

    def __init__(self, inputs, nodes, outputs):
        self.inputs, self.nodes, self.outputs = inputs, nodes, outputs


class _NodeSyntax:
    __slots__ = ("outputs", "kind", "kind_pos", "attrs", "inputs", "source_range", "blocks")

    def __init__(self, outputs, kind, kind_pos, attrs, inputs, source_range):
        self.outputs, self.kind, self.kind_pos = outputs, kind, kind_pos
        self.attrs, self.inputs, self.source_range = attrs, inputs, source_range
        self.blocks = []


class _GraphSyntax:
    __slots__ = ("body", "groups")

    def __init__(self, body):
        self.body = body            # a _BlockSyntax: graph inputs, nodes, return values
        self.groups = {}            # label -> _GraphSyntax of its `with` section


def _walk_nodes(block):
    for node in block.nodes:
        yield node
        for inner in node.blocks:
            yield from _walk_nodes(inner)


def _group_labels(graph):
    """Every kind and graph-attribute label a ``with`` section could define."""
    labels = set()
    for node in _walk_nodes(graph.body):
        labels.add(node.kind)
        for _, value, _ in node.attrs:
            if isinstance(value, _GroupRef):
                labels.add(value.label)
    return labels


# ------------------------------------------------------------------ phase 1: text -> syntax

class _Reader:
    """A cursor over the text with TorchScript's grammar, one method per construct."""

    def __init__(self, text, tensor_table):
        self.text = text
        self.pos = 0
        self.tensor_table = tensor_table
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    # ------------------------------------------------------------ positions
    def where(self, pos):
        """``(line, column, source_line)``, 1-based, of text offset ``pos``."""
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:                  # last line start <= pos
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        start = self._line_starts[lo]
        end = self.text.find("\n", start)
        line_text = self.text[start:] if end < 0 else self.text[start:end]
        return lo + 1, pos - start + 1, line_text

    def fail(self, message, pos=None):
        line, column, source = self.where(self.pos if pos is None else pos)
        raise IRParseError(message, line, column, source)

    def found(self, pos=None):
        """A short description of what stands at ``pos``, for error messages."""
        pos = self.pos if pos is None else pos
        if pos >= len(self.text):
            return "end of text"
        if self.text[pos] == "\n":
            return "end of line"
        m = re.compile(r"[\w.:%@]+|\S").match(self.text, pos)
        return repr(m.group(0)) if m else repr(self.text[pos])

    # --------------------------------------------------------------- tokens
    def at_end(self):
        return self.pos >= len(self.text)

    def peek(self, token):
        return self.text.startswith(token, self.pos)

    def expect(self, token, what=None):
        if not self.peek(token):
            self.fail(f"expected {what or repr(token)} but found {self.found()}")
        self.pos += len(token)

    def skip_spaces(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def skip_whitespace(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n":
            self.pos += 1

    def match(self, pattern, what):
        m = pattern.match(self.text, self.pos)
        if m is None:
            self.fail(f"expected {what} but found {self.found()}")
        self.pos = m.end()
        return m.group(0)

    def end_line(self):
        self.skip_spaces()
        if self.at_end():
            return
        if not self.peek("\n"):
            self.fail(f"expected end of line but found {self.found()}")
        self.pos += 1

    def skip_blank_lines(self):
        while not self.at_end():
            end = self.text.find("\n", self.pos)
            line = self.text[self.pos:] if end < 0 else self.text[self.pos:end]
            if line.strip():
                return
            self.pos = len(self.text) if end < 0 else end + 1

    def indentation(self):
        """Number of spaces at the start of the current line (the cursor stays put)."""
        n = 0
        while self.pos + n < len(self.text) and self.text[self.pos + n] == " ":
            n += 1
        return n

    # ---------------------------------------------------------------- graph
    def graph(self):
        self.skip_blank_lines()
        self.expect("graph(", "'graph(' starting the graph")
        inputs = self.typed_names(")", allow_newlines=True)
        self.expect("):", "'):' closing the graph inputs")
        self.end_line()
        nodes, outputs = self.statements(2, "return")
        syntax = _GraphSyntax(_BlockSyntax(inputs, nodes, outputs))
        self.groups(syntax)
        return syntax

    def groups(self, syntax):
        """Consume the ``with LABEL = graph(...)`` sections that belong to ``syntax``.

        TorchScript prints a subgraph's own groups right after it, so a nested
        graph claims the sections it references before its parent sees them.
        """
        wanted = _group_labels(syntax)
        while True:
            self.skip_blank_lines()
            start = self.pos
            if not self.peek("with "):
                return
            self.pos += len("with ")
            label = self.match(_KIND, "a group label such as jc::FusedElementwise_0")
            if label not in wanted or label in syntax.groups:
                self.pos = start
                return
            self.skip_spaces()
            self.expect("=", "'=' after the group label")
            self.skip_spaces()
            syntax.groups[label] = self.graph()

    def typed_names(self, close, allow_newlines=False):
        """``%a : T, %b : U`` up to (not including) ``close``."""
        items = []
        if self.peek(close):
            return items
        while True:
            items.append(self.typed_name())
            self.skip_spaces()
            if not self.peek(","):
                return items
            self.pos += 1
            if allow_newlines:
                self.skip_whitespace()
            else:
                self.skip_spaces()

    def typed_name(self):
        pos = self.pos
        self.expect("%", "'%' starting a value name")
        name = self.match(_NAME, "a value name after '%'")
        self.skip_spaces()
        self.expect(":", f"':' and a type after %{name}")
        self.skip_spaces()
        try:
            type_, self.pos = parse_type_prefix(self.text, self.pos)
        except TypeParseError as e:
            self.fail(f"bad type of %{name}: {e.args[0].split(' at offset')[0]}", e.pos)
        return _TypedName(name, type_, pos)

    def refs(self, close):
        """``%a, %b`` up to ``close``, which is consumed."""
        items = []
        self.skip_spaces()
        while not self.peek(close):
            pos = self.pos
            self.expect("%", f"'%' starting a value name or {close!r}")
            items.append(_Ref(self.match(_NAME, "a value name after '%'"), pos))
            self.skip_spaces()
            if self.peek(","):
                self.pos += 1
                self.skip_spaces()
                if self.peek(close):
                    self.fail(f"expected a value after ',' but found {self.found()}")
            elif not self.peek(close):
                self.fail(f"expected ',' or {close!r} but found {self.found()}")
        self.pos += len(close)
        return items

    # ----------------------------------------------------------- statements
    def statements(self, indent, terminator):
        """Nodes at ``indent`` spaces up to ``return (...)`` / ``-> (...)``; returns (nodes, outputs)."""
        end_token = "return (" if terminator == "return" else "-> ("
        nodes = []
        while True:
            self.skip_blank_lines()
            if self.at_end():
                self.fail(f"expected a node or {end_token!r} at indentation {indent} "
                          "but found end of text")
            n = self.indentation()
            first = self.pos + n
            rest_starts = self.text.startswith
            if n == indent and rest_starts(end_token, first):
                self.pos = first + len(end_token)
                outputs = self.refs(")")
                self.end_line()
                return nodes, outputs
            if (n == indent and rest_starts("%", first)) or (n in (indent, indent + 1)
                                                            and rest_starts("=", first)):
                self.pos = first
                nodes.append(self.node(indent))
                continue
            self.fail(f"expected a node or {end_token!r} at indentation {indent} "
                      f"but found {self.found(first)} at indentation {n}", first)

    def node(self, indent):
        outputs = self.typed_names("=") if self.peek("%") else []
        self.skip_spaces()
        self.expect("=", "'=' after the node outputs")
        self.skip_spaces()
        kind_pos = self.pos
        kind = self.match(_KIND, "a node kind such as aten::add")
        attrs = self.attributes() if self.peek("[") else []
        self.expect("(", f"'(' opening the inputs of {kind}")
        inputs = self.refs(")")
        self.skip_spaces()
        source_range = self.source_range() if self.peek("#") else None
        self.end_line()
        node = _NodeSyntax(outputs, kind, kind_pos, attrs, inputs, source_range)
        while True:
            self.skip_blank_lines()
            n = self.indentation()
            if n != indent + 2 or not self.text.startswith("block", self.pos + n):
                return node
            self.pos += n
            node.blocks.append(self.block(indent + 2, len(node.blocks)))

    def block(self, indent, index):
        self.expect(f"block{index}(", f"'block{index}('")
        inputs = self.typed_names(")")
        self.expect("):", "'):' closing the block inputs")
        self.end_line()
        nodes, outputs = self.statements(indent + 2, "->")
        return _BlockSyntax(inputs, nodes, outputs)

    def source_range(self):
        self.expect("#")
        self.skip_spaces()
        pos = self.pos
        end = self.text.find("\n", pos)
        comment = (self.text[pos:] if end < 0 else self.text[pos:end]).rstrip()
        m = _SOURCE_RANGE.fullmatch(comment)
        if m is None:
            self.fail(f"expected a source location 'file:line:col' but found {comment!r}", pos)
        self.pos = pos + len(comment)
        line, column = (self.integer(m.group(k), pos + m.start(k), _SOURCE_LINE_RANGE, what)
                        for k, what in ((2, "source line"), (3, "source column")))
        return SourceRange(m.group(1), line, column)

    def integer(self, digits, pos, bounds, what):
        """``int(digits)``, failing at ``pos`` unless it lies within ``bounds`` (low, high)."""
        low, high = bounds
        # Compare lengths first: int() of thousands of digits is slow, or a ValueError.
        too_long = len(digits.lstrip("-")) > len(str(max(-low, high)))
        value = None if too_long else int(digits)
        if value is None or not low <= value <= high:
            self.fail(f"{what} {_clipped(digits)} is out of range: expected an integer in [{low}, {high}]", pos)
        return value

    # ----------------------------------------------------------- attributes
    def attributes(self):
        self.expect("[")
        attrs = []
        while True:
            pos = self.pos
            name = self.match(_ATTR_NAME, "an attribute name")
            if any(name == seen for seen, _, _ in attrs):
                self.fail(f"attribute {name!r} is given twice", pos)
            self.expect("=", f"'=' after attribute name {name!r}")
            attrs.append((name, self.attr_value(), pos))
            if self.peek("]"):
                self.pos += 1
                return attrs
            self.expect(",", "',' or ']' in the attribute list")
            self.skip_spaces()

    def attr_value(self):
        pos = self.pos
        if self.peek('"'):
            return self.string()
        if self.peek("["):
            return self.attr_list()
        if self.peek("Tensor("):
            return self.tensor()
        if self.peek("<Tensor"):
            self.fail("this tensor was printed elided (too large to print inline); print the "
                      "graph with print_graph(graph, tensor_table=table) and parse it with "
                      "parse_graph(text, tensor_table=table)")
        if self.peek("@"):
            return self.table_tensor()
        m = _KIND.match(self.text, pos)
        if m:
            self.pos = m.end()
            return _GroupRef(m.group(0), pos)
        return self.scalar("an attribute value (number, True/False, string, list, "
                           "Tensor(...), @name or a group label)")

    def scalar(self, what):
        for word, value in (("True", True), ("False", False)):
            if self.peek(word) and not _NAME.match(self.text, self.pos + len(word)):
                self.pos += len(word)
                return value
        pos = self.pos
        text = self.match(_NUMBER, what)
        if re.fullmatch(r"-?\d+", text):
            return self.integer(text, pos, _INT64_RANGE, "integer")
        value = float(text)
        if math.isinf(value) and "inf" not in text:
            self.fail(f"float {_clipped(text)} is out of range: a float64 is at most {_FLOAT64_MAX!r} in "
                      "magnitude (write inf for infinity)", pos)
        return value

    def attr_list(self):
        self.expect("[")
        items = []
        self.skip_spaces()
        while not self.peek("]"):
            items.append(self.tensor() if self.peek("Tensor(") else
                         self.string() if self.peek('"') else
                         self.table_tensor() if self.peek("@") else
                         self.scalar("a list element or ']'"))
            self.skip_spaces()
            if not self.peek("]"):
                self.expect(",", "',' or ']' in the list")
                self.skip_spaces()
        self.pos += 1
        return items

    def string(self):
        start = self.pos
        self.expect('"')
        out = []
        while True:
            if self.at_end() or self.peek("\n"):
                self.fail("unterminated string: expected a closing '\"'", start)
            ch = self.text[self.pos]
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                continue
            esc = self.text[self.pos:self.pos + 1]
            if esc in _STRING_ESCAPES:
                out.append(_STRING_ESCAPES[esc])
                self.pos += 1
            elif esc in _HEX_ESCAPE_DIGITS:
                digits = self.text[self.pos + 1:self.pos + 1 + _HEX_ESCAPE_DIGITS[esc]]
                if len(digits) != _HEX_ESCAPE_DIGITS[esc] or not re.fullmatch("[0-9a-fA-F]+", digits):
                    self.fail(f"expected {_HEX_ESCAPE_DIGITS[esc]} hex digits after '\\{esc}'",
                              self.pos - 1)
                out.append(chr(int(digits, 16)))
                self.pos += 1 + len(digits)
            else:
                self.fail(f"unknown escape '\\{esc}' in string", self.pos - 1)

    def tensor(self):
        start = self.pos
        self.expect("Tensor(")
        dtype_pos = self.pos
        dtype_name = self.match(_ATTR_NAME, "a dtype name such as float32")
        try:
            dtype = np.dtype(dtype_name)
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _TENSOR_DTYPE_KINDS or dtype.name != dtype_name:
            self.fail(f"expected a bool, integer or float dtype name but found {dtype_name!r}",
                      dtype_pos)
        self.expect(",", "',' after the tensor dtype")
        self.skip_spaces()
        shape = self.attr_list()
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            self.fail(f"expected a shape of non-negative ints but found {shape}", dtype_pos)
        self.expect(",", "',' after the tensor shape")
        self.skip_spaces()
        values_pos = self.pos
        values = self.attr_list()
        self.expect(")", "')' closing the tensor")
        count = math.prod(shape)                 # exact: an int64 product could wrap to match
        if len(values) != count:
            self.fail(f"a tensor of shape {tuple(shape)} needs {count} values, got {len(values)}",
                      values_pos)
        element_types = _TENSOR_ELEMENT_TYPES[dtype.kind]
        for v in values:
            if type(v) not in element_types:
                self.fail(f"expected {dtype_name} values but found {v!r}", values_pos)
        try:
            return np.array(values, dtype=dtype).reshape(shape)
        except (TypeError, ValueError, OverflowError) as e:
            self.fail(f"tensor values do not fit dtype {dtype_name}: {e}", start)

    def table_tensor(self):
        pos = self.pos
        self.expect("@")
        name = self.match(_NAME, "a tensor-table name after '@'")
        if self.tensor_table is None:
            self.fail(f"tensor @{name} refers to a tensor table, but parse_graph was called "
                      "without tensor_table", pos)
        if name not in self.tensor_table:
            self.fail(f"tensor @{name} is not in the tensor table", pos)
        return self.tensor_table[name]


# ------------------------------------------------------------------ phase 2: syntax -> Graph

class _Builder:
    """Builds a ``Graph`` from a ``_GraphSyntax``, checking scopes and names."""

    def __init__(self, reader):
        self.reader = reader

    def graph(self, syntax):
        return _GraphBuild(self, syntax).run()


class _GraphBuild:
    """The state of building one graph (each fusion subgraph gets its own)."""

    def __init__(self, builder, syntax):
        self.builder = builder
        self.fail = builder.reader.fail
        self.syntax = syntax
        self.graph = Graph()
        self.scopes = [{}]
        self.definitions = {}            # name -> _TypedName of its definition
        self.built = set()               # names whose values exist so far
        self._collect_definitions(syntax.body)
        numeric = [int(n) for n in self.definitions if _is_value_number(n)]
        self.next_named_unique = max(numeric, default=-1) + 1

    def _collect_definitions(self, block):
        for item in block.inputs:
            self._note_definition(item)
        for node in block.nodes:
            for item in node.outputs:
                self._note_definition(item)
            for inner in node.blocks:
                self._collect_definitions(inner)

    def _note_definition(self, item):
        first = self.definitions.get(item.name)
        if first is not None:
            line = self.builder.reader.where(first.pos)[0]
            self.fail(f"value %{item.name} is defined twice (first on line {line})", item.pos)
        if _is_value_number(item.name):
            self.builder.reader.integer(item.name, item.pos + 1, (0, _MAX_VALUE_NUMBER), "value number")
        self.definitions[item.name] = item

    def run(self):
        g = self.graph
        for item in self.syntax.body.inputs:
            self.define(g.add_input(None, item.type), item)
        self.block_body(self.syntax.body, g.block)
        for ref in self.syntax.body.outputs:
            g.register_output(self.lookup(ref))
        return g

    # --------------------------------------------------------------- values
    def define(self, value, item):
        name = item.name
        if _is_value_number(name):
            self.graph._claim_unique(value, int(name))        # bounded by _note_definition
        else:
            self.graph._claim_unique(value, self.next_named_unique)
            self.next_named_unique += 1
            value.set_debug_name(name)
        self.scopes[-1][name] = value
        self.built.add(name)

    def lookup(self, ref):
        for scope in reversed(self.scopes):
            value = scope.get(ref.name)
            if value is not None:
                return value
        definition = self.definitions.get(ref.name)
        if definition is None:
            self.fail(f"value %{ref.name} is not defined", ref.pos)
        line = self.builder.reader.where(definition.pos)[0]
        if ref.name not in self.built:
            self.fail(f"value %{ref.name} is used before its definition on line {line}", ref.pos)
        self.fail(f"value %{ref.name} is defined inside a block (line {line}) "
                  "and is not visible here", ref.pos)

    # ---------------------------------------------------------------- nodes
    def block_body(self, syntax, block):
        for node in syntax.nodes:
            self.node(node, block)

    def node(self, syntax, block):
        kind, attrs = syntax.kind, list(syntax.attrs)
        if kind in self.syntax.groups:
            attrs.insert(0, (SUBGRAPH, _GroupRef(kind, syntax.kind_pos), syntax.kind_pos))
            kind = _GROUP_SUFFIX.sub("", kind)
        inputs = [self.lookup(ref) for ref in syntax.inputs]
        node = self.graph.create(kind, inputs, len(syntax.outputs))
        for value, item in zip(node.outputs, syntax.outputs):
            value.set_type(item.type)
        for name, value, pos in attrs:
            self.set_attr(node, name, value, pos)
        node.source_range = syntax.source_range
        block.append_node(node)
        for block_syntax in syntax.blocks:
            inner = node.add_block()
            self.scopes.append({})
            for item in block_syntax.inputs:
                self.define(inner.add_input(None, item.type), item)
            self.block_body(block_syntax, inner)
            for ref in block_syntax.outputs:
                inner.register_output(self.lookup(ref))
            self.scopes.pop()
        for value, item in zip(node.outputs, syntax.outputs):
            self.define(value, item)

    def set_attr(self, node, name, value, pos):
        if isinstance(value, _GroupRef):
            group = self.syntax.groups.get(value.label)
            if group is None:
                self.fail(f"expected a 'with {value.label} = graph(...)' section after the "
                          f"graph for attribute {name!r}, but there is none", value.pos)
            value = self.builder.graph(group)
        elif (name == "value" and node.kind == "prim::Constant" and type(value) is int
              and value in (0, 1) and len(node.outputs) == 1
              and str(node.outputs[0].type) == "bool"):
            value = bool(value)          # TorchScript prints bool constants as 0/1
        try:
            node.set_attr(name, value)
        except TypeError as e:
            self.fail(str(e), pos)


def _is_value_number(name):
    """Whether a value name is a number (``%22``), which restores the value's unique number."""
    return name.isdecimal() and name.isascii()


def _clipped(text, limit=40):
    """``text``, cut to ``limit`` characters for an error message (a number may be thousands long)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
