"""Print a ``Graph`` in TorchScript's IR text format (what ``str(graph)`` shows).

The layout is TorchScript's, line for line::

    graph(%x.1 : Tensor,
          %y : Float(1, 4)):
      %2 : int = prim::Constant[value=0]() # file.py:2:14
      %22 : Tensor = prim::If(%5) # file.py:2:4
        block0():
          %9 : Tensor = aten::add(%x.1, %7, %4) # file.py:3:15
          -> (%9)
        block1():
          -> (%x.1)
      %a : Tensor, %b : Tensor = prim::TupleUnpack(%t)
       = prim::RaiseException(%s)
      return (%22)

A node without outputs prints as `` = kind(...)`` after its indentation, exactly
as TorchScript does.  Attribute values:

* ``int`` ``1``, ``float`` ``repr(x)`` (``0.5``, ``1e-05``, ``inf``: exact round trip),
  ``bool`` ``True``/``False``, ``str`` double-quoted with backslash escapes,
  lists ``[1, 2]``;
* ndarrays with at most ``INLINE_TENSOR_LIMIT`` elements print inline as
  ``Tensor(float32, [2], [0.5, 1.0])`` (dtype, shape, C-order values; exact);
  larger ones print elided as ``<Tensor float32 (512, 784)>`` (which the parser
  rejects), unless a ``tensor_table`` is given: then the array is stored in it
  under a name and printed as the reference ``@name`` (see ``print_graph``);
* graphs: the attribute named ``Subgraph`` prints as TorchScript prints fusion
  groups: the node kind gets a group suffix (``jc::FusedElementwise_0(...)``)
  and after the graph's ``return`` line comes ``with jc::FusedElementwise_0 =
  graph(...)`` and the subgraph.  Any other graph-valued attribute is a group
  too and appears in the attribute list by its label (``[body=prim::Foo_1]``).
  Group numbers count per graph, over all of its nested blocks, in print order.
"""

__all__ = ["print_graph", "quote_string", "format_float", "tensor_literal", "SUBGRAPH",
           "INLINE_TENSOR_LIMIT"]

#: TorchScript's name for the graph attribute of fusion groups.
SUBGRAPH = "Subgraph"
#: Tensors with at most this many elements print inline and round-trip.
INLINE_TENSOR_LIMIT = 16
#: dtype kinds whose values print as plain numbers (bool, signed, unsigned, float).
_PRINTABLE_DTYPE_KINDS = "biuf"

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote_string(text):
    """Double-quote ``text`` with backslash escapes (``\\\\ \\" \\n \\t \\r \\xNN``).

    Printable non-ASCII characters stay as they are; other control characters
    become ``\\xNN`` (or ``\\uNNNN`` above ``0xff``) so a string always stays on
    one line.
    """
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def format_float(value):
    """``repr`` of a Python float: the shortest text that reads back to the same bits."""
    return repr(float(value))


def tensor_literal(array):
    """``Tensor(float32, [2], [0.5, 1.0])``: the inline spelling of a small ndarray.

    NumPy's ``str`` of a scalar is the shortest decimal that round-trips in the
    array's own precision, so float32 values print as ``0.1``, not ``0.10000000149``.
    """
    values = ", ".join(str(v) for v in array.ravel(order="C"))
    shape = ", ".join(str(d) for d in array.shape)
    return f"Tensor({array.dtype.name}, [{shape}], [{values}])"


def print_graph(graph, *, source_ranges=True, tensor_table=None):
    """Print ``graph`` in TorchScript's text format.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    source_ranges : bool, default True
        Append `` # file:line:col`` to nodes that carry a source range.
    tensor_table : dict of str to ndarray, optional
        Where tensors too large to print inline go.  Each such tensor is
        stored under a fresh name (``"0"``, ``"1"``, ... skipping names already
        in the table; an array object already in the table keeps its name) and
        printed as ``@name``.  Pass the same dict to ``parse_graph`` to read
        the text back; the archive writer stores the dict's arrays as entries.
        Without a table, large tensors print elided and do not round-trip.

    Returns
    -------
    str
        The text, ending in a newline.
    """
    return _GraphPrinter(source_ranges, tensor_table).graph_text(graph)


class _GraphPrinter:
    """Prints one graph and, recursively, the subgraphs of its groups."""

    def __init__(self, source_ranges, tensor_table):
        self.source_ranges = source_ranges
        self.tensor_table = tensor_table
        # id(array) -> name, so an array met twice is stored once.
        self._table_names = ({id(a): name for name, a in tensor_table.items()}
                             if tensor_table is not None else {})
        self._next_table_index = 0

    # --------------------------------------------------------------- graph
    def graph_text(self, graph):
        out = ["graph(", ",\n      ".join(_typed(v) for v in graph.inputs), "):\n"]
        groups = []                      # (label, subgraph) in print order
        for node in graph.nodes:
            self._node(node, 1, groups, out)
        out.append(f"  return ({_refs(graph.outputs)})\n")
        for label, subgraph in groups:
            out.append(f"with {label} = ")
            out.append(self.graph_text(subgraph))
        return "".join(out)

    # ---------------------------------------------------------------- node
    def _node(self, node, level, groups, out):
        indent = "  " * level
        out.append(indent)
        out.append(", ".join(_typed(v) for v in node.outputs))
        out.append(" = ")
        names = node.attr_names()
        kind = node.kind
        if SUBGRAPH in names and node.attr_kind(SUBGRAPH) == "g":
            kind = f"{node.kind}_{len(groups)}"
            groups.append((kind, node.attr(SUBGRAPH)))
            names = [n for n in names if n != SUBGRAPH]
        out.append(kind)
        if names:
            attrs = ", ".join(f"{n}={self._attr_value(node, n, groups)}" for n in names)
            out.append(f"[{attrs}]")
        out.append(f"({_refs(node.inputs)})")
        if self.source_ranges and node.source_range is not None:
            out.append(f" # {node.source_range}")
        out.append("\n")
        for i, block in enumerate(node.blocks):
            out.append(f"{indent}  block{i}({', '.join(_typed(v) for v in block.inputs)}):\n")
            for inner in block.nodes:
                self._node(inner, level + 2, groups, out)
            out.append(f"{indent}    -> ({_refs(block.outputs)})\n")

    # ---------------------------------------------------------- attributes
    def _attr_value(self, node, name, groups):
        kind = node.attr_kind(name)
        value = node.attr(name)
        if kind == "g":
            label = f"{node.kind}_{len(groups)}"
            groups.append((label, value))
            return label
        if len(kind) == 2:              # list kinds: is, fs, bs, ss, ts
            return "[" + ", ".join(self._scalar(kind[0], v) for v in value) + "]"
        return self._scalar(kind, value)

    def _scalar(self, kind, value):
        if kind == "s":
            return quote_string(value)
        if kind == "f":
            return format_float(value)
        if kind == "t":
            return self._tensor(value)
        return str(value)                # int, and bool as True/False

    def _tensor(self, array):
        if array.size <= INLINE_TENSOR_LIMIT and array.dtype.kind in _PRINTABLE_DTYPE_KINDS:
            return tensor_literal(array)
        if self.tensor_table is None:
            return f"<Tensor {array.dtype.name} {tuple(array.shape)}>"
        name = self._table_names.get(id(array))
        if name is None:
            name = self._fresh_table_name()
            self.tensor_table[name] = array
            self._table_names[id(array)] = name
        return f"@{name}"

    def _fresh_table_name(self):
        while str(self._next_table_index) in self.tensor_table:
            self._next_table_index += 1
        return str(self._next_table_index)


def _typed(value):
    return f"%{value.debug_name} : {value.type}"


def _refs(values):
    return ", ".join(f"%{v.debug_name}" for v in values)
