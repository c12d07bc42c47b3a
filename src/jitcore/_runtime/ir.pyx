"""The IR: ``Graph``, ``Block``, ``Node``, ``Value`` (TorchScript's design, NumPy semantics).

Invariants (checked by ``Graph.lint()``):

* a ``Value`` has exactly one producer: a node output (``value.node``, ``value.offset``)
  or a block input (produced by the block's ``prim::Param`` node);
* ``value.uses`` lists exactly the ``(node, input index)`` pairs that read it;
* a ``Block`` is a doubly linked list of nodes between a ``prim::Param`` node (whose
  outputs are the block inputs) and a ``prim::Return`` node (whose inputs are the
  block outputs); a node is in at most one block;
* a ``Graph`` owns the top block and every value's unique number and debug name.

Editing follows TorchScript: nodes are created detached (``graph.create``) and
inserted at the graph's insertion point (``graph.insert_node``, or the context
managers ``graph.inserting_before(node)`` / ``inserting_after`` /
``inserting_at_end(block)``), values are rewired with ``replace_all_uses_with``
and nodes removed with ``destroy``.
"""

import numpy as np

from jitcore._runtime.types cimport JitType, TensorType
from jitcore._runtime.types import (
    BoolType, FloatType, IntType, ListType, NoneType, StrType, TensorType as _TensorType,
)

PARAM = "prim::Param"
RETURN = "prim::Return"
CONSTANT = "prim::Constant"


class IRError(ValueError):
    """An editing call that would break an IR invariant (the message says which)."""


cdef class SourceRange:
    """Where a node came from: file, 1-based line and column, and the line's text.

    Parameters
    ----------
    filename : str
    line, col : int
        1-based line and 0-based column, as TorchScript prints ``file:line:col``.
    end_line, end_col : int, optional
        End of the range (for ``~~~~`` underlines in error messages).
    source : str, optional
        The text of the source lines the range covers.
    """

    def __init__(self, str filename, int line, int col, int end_line=-1, int end_col=-1,
                 str source=None):
        self.filename = filename
        self.line = line
        self.col = col
        self.end_line = line if end_line < 0 else end_line
        self.end_col = col if end_col < 0 else end_col
        self.source = source

    def __str__(self):
        return f"{self.filename}:{self.line}:{self.col}"

    def __repr__(self):
        return f"SourceRange({self.filename!r}, {self.line}, {self.col})"

    def __eq__(self, other):
        return (isinstance(other, SourceRange) and str(self) == str(other)
                and self.end_line == (<SourceRange>other).end_line
                and self.end_col == (<SourceRange>other).end_col)

    def __hash__(self):
        return hash((self.filename, self.line, self.col))

    def highlight(self):
        """The source lines with the range underlined (``~~~~ <--- HERE``), as TorchScript does."""
        if self.source is None:
            return f"  File \"{self.filename}\", line {self.line}"
        lines = self.source.splitlines() or [""]
        out = [f"  File \"{self.filename}\", line {self.line}"]
        for i, text in enumerate(lines):
            out.append("    " + text)
            lineno = self.line + i
            if lineno < self.line or lineno > self.end_line:
                continue
            start = self.col if lineno == self.line else len(text) - len(text.lstrip())
            end = self.end_col if lineno == self.end_line else len(text)
            if end <= start:
                end = start + 1
            marker = " " * start + "~" * (end - start)
            if lineno == self.end_line:
                marker += " <--- HERE"
            out.append("    " + marker)
        return "\n".join(out)


cdef class Use:
    """One use of a value: the node reading it and the input index."""

    def __init__(self, Node user, Py_ssize_t offset):
        self.user = user
        self.offset = offset

    def __eq__(self, other):
        return (isinstance(other, Use) and (<Use>other).user is self.user
                and (<Use>other).offset == self.offset)

    def __hash__(self):
        return hash((id(self.user), self.offset))

    def __repr__(self):
        return f"Use({self.user.kind}, {self.offset})"


cdef inline bint _is_number_name(str name):
    return name.isdigit()


cdef class Value:
    """An SSA value: produced once, used by any number of node inputs."""

    def __init__(self):
        raise TypeError("values are created by Node.add_output / Block.add_input")

    @property
    def node(self):
        """The producing node (a block's ``prim::Param`` node for block inputs)."""
        return self._node

    @property
    def offset(self):
        """Index of this value among its producer's outputs."""
        return self._offset

    @property
    def uses(self):
        """A copy of the use list: ``Use(user, offset)`` per reading input."""
        return list(self._uses)

    @property
    def type(self):
        return self._type

    def set_type(self, JitType t not None):
        """Set the type; returns self for chaining."""
        self._type = t
        return self

    @property
    def unique(self):
        """The graph-wide number printed for values without a debug name."""
        return self._unique

    @property
    def owning_graph(self):
        return self._graph

    def has_debug_name(self):
        return self._name is not None

    @property
    def debug_name(self):
        """The printed name: the debug name, or the unique number as a string."""
        return self._name if self._name is not None else str(self._unique)

    def set_debug_name(self, name):
        """Name the value; if another value has the name, that one is renamed ``name.N``.

        This is TorchScript's rule, which is why re-assigned variables print
        as ``x.1``, ``x.2``.  Purely numeric names are reserved for unnamed
        values and rejected.
        """
        cdef dict names = self._graph._names
        cdef Value other
        if self._name is not None and names.get(self._name) is self:
            del names[self._name]
        if name is None or name == "":
            self._name = None
            return self
        if not isinstance(name, str):
            raise TypeError(f"debug names are strings, got {type(name).__name__}")
        if _is_number_name(name):
            raise IRError(f"debug name {name!r} is numeric; numbers are reserved for unnamed values")
        other = names.get(name)
        if other is not None and other is not self:
            other.set_debug_name(self._graph._fresh_name(name))
        names[name] = self
        self._name = name
        return self

    def replace_all_uses_with(self, Value new not None):
        """Make every user of this value read ``new`` instead."""
        if new is self:
            return
        for use in self._uses:
            (<Use>use).user._inputs[(<Use>use).offset] = new
            new._uses.append(use)
        self._uses = []

    def replace_all_uses_after_node_with(self, Node node not None, Value new not None):
        """Replace only the uses by nodes after ``node`` (in the same block or nested below)."""
        keep = []
        for use in self._uses:
            if _is_after(node, (<Use>use).user):
                (<Use>use).user._inputs[(<Use>use).offset] = new
                new._uses.append(use)
            else:
                keep.append(use)
        self._uses = keep

    def _raw_uses(self):
        """The live use list, unchecked: only for tests that break invariants on purpose."""
        return self._uses

    def __repr__(self):
        return f"%{self.debug_name} : {self._type}"


cdef bint _is_after(Node anchor, Node n):
    """True if n comes after anchor in anchor's block (n may be nested in a later node)."""
    cdef Node cur = n
    while cur is not None and cur._owning_block is not anchor._owning_block:
        blk = cur._owning_block
        cur = None if blk is None else (<Block>blk)._owning_node
    if cur is None or cur is anchor:
        return False
    cur = anchor._next
    target = cur
    while cur is not None:
        if cur is n or _contains(cur, n):
            return True
        cur = cur._next
    return False


cdef bint _contains(Node outer, Node n):
    cdef Node cur = n
    while cur is not None:
        blk = cur._owning_block
        if blk is None:
            return False
        cur = (<Block>blk)._owning_node
        if cur is outer:
            return True
    return False


cdef Node _new_node(Graph graph, str kind):
    cdef Node n = Node.__new__(Node)
    n.kind = kind
    n._inputs = []
    n._outputs = []
    n._blocks = []
    n._attrs = {}
    n._graph = graph
    n._destroyed = False
    return n


cdef class Node:
    """An operation: a kind (``aten::add``), inputs, outputs, attributes and nested blocks."""

    def __init__(self):
        raise TypeError("nodes are created with Graph.create / Graph.insert")

    # ------------------------------------------------------------ structure
    @property
    def inputs(self):
        return tuple(self._inputs)

    @property
    def outputs(self):
        return tuple(self._outputs)

    @property
    def blocks(self):
        return tuple(self._blocks)

    @property
    def owning_block(self):
        return self._owning_block

    @property
    def owning_graph(self):
        return self._graph

    @property
    def prev(self):
        """The previous node in the block (the ``prim::Param`` sentinel at the start)."""
        return self._prev

    @property
    def next(self):
        """The next node in the block (the ``prim::Return`` sentinel at the end)."""
        return self._next

    @property
    def is_destroyed(self):
        return self._destroyed

    def input(self, Py_ssize_t i=0):
        return self._inputs[i]

    def output(self, Py_ssize_t i=-1):
        """The single output (or output ``i``); raises if the node has several and no index is given."""
        if i < 0:
            if len(self._outputs) != 1:
                raise IRError(f"{self.kind} has {len(self._outputs)} outputs; pass an index")
            return self._outputs[0]
        return self._outputs[i]

    # --------------------------------------------------------------- inputs
    def add_input(self, Value v not None):
        """Append an input; returns the value."""
        self._check_graph(v)
        v._uses.append(Use(self, len(self._inputs)))
        self._inputs.append(v)
        return v

    def insert_input(self, Py_ssize_t i, Value v not None):
        """Insert an input at position ``i`` (later inputs' use offsets shift)."""
        self._check_graph(v)
        for j in range(i, len(self._inputs)):
            _shift_use(self._inputs[j], self, j, j + 1)
        self._inputs.insert(i, v)
        v._uses.append(Use(self, i))
        return v

    def replace_input(self, Py_ssize_t i, Value new not None):
        """Make input ``i`` read ``new``; returns the old value."""
        self._check_graph(new)
        cdef Value old = self._inputs[i]
        _drop_use(old, self, i)
        self._inputs[i] = new
        new._uses.append(Use(self, i))
        return old

    def replace_input_with(self, Value old not None, Value new not None):
        """Replace every input that is ``old`` by ``new``."""
        for i, v in enumerate(self._inputs):
            if v is old:
                self.replace_input(i, new)

    def remove_input(self, Py_ssize_t i):
        """Remove input ``i`` (later inputs' use offsets shift)."""
        _drop_use(self._inputs[i], self, i)
        for j in range(i + 1, len(self._inputs)):
            _shift_use(self._inputs[j], self, j, j - 1)
        del self._inputs[i]

    def remove_all_inputs(self):
        for i in range(len(self._inputs)):
            _drop_use(self._inputs[i], self, i)
        self._inputs = []

    cdef _check_graph(self, Value v):
        if v._graph is not self._graph:
            raise IRError(f"value %{v.debug_name} belongs to another graph than this {self.kind} node")

    # -------------------------------------------------------------- outputs
    cdef Value _new_output(self, JitType t):
        cdef Value v = Value.__new__(Value)
        v._node = self
        v._offset = len(self._outputs)
        v._uses = []
        v._type = t if t is not None else _TensorType.get()
        v._name = None
        v._graph = self._graph
        v._unique = self._graph._next_unique
        self._graph._next_unique += 1
        self._outputs.append(v)
        return v

    def add_output(self, JitType type=None):
        """Append a new output value (type defaults to ``Tensor``)."""
        return self._new_output(type)

    def insert_output(self, Py_ssize_t i, JitType type=None):
        """Insert a new output at ``i``; later outputs' offsets shift."""
        cdef Value v = self._new_output(type)
        self._outputs.pop()
        self._outputs.insert(i, v)
        for j in range(len(self._outputs)):
            (<Value>self._outputs[j])._offset = j
        return v

    def erase_output(self, Py_ssize_t i):
        """Remove output ``i``; it must have no uses."""
        cdef Value v = self._outputs[i]
        if v._uses:
            raise IRError(f"cannot erase output %{v.debug_name} of {self.kind}: it still has {len(v._uses)} uses")
        v.set_debug_name(None)
        del self._outputs[i]
        for j in range(len(self._outputs)):
            (<Value>self._outputs[j])._offset = j

    # --------------------------------------------------------------- blocks
    def add_block(self):
        """Append a new empty nested block and return it."""
        cdef Block b = _new_block(self._graph, self)
        self._blocks.append(b)
        return b

    def erase_block(self, Py_ssize_t i):
        """Destroy nested block ``i`` and everything in it."""
        cdef Block b = self._blocks[i]
        b._destroy()
        del self._blocks[i]

    # ----------------------------------------------------------- attributes
    def attr(self, str name):
        """The value of attribute ``name`` (KeyError naming the node if absent)."""
        try:
            return self._attrs[name]
        except KeyError:
            raise KeyError(f"{self.kind} has no attribute {name!r}") from None

    def has_attr(self, str name):
        return name in self._attrs

    def set_attr(self, str name, value):
        """Set an attribute: int, float, bool, str, lists of those, an ndarray or a Graph."""
        _check_attr_value(name, value)
        self._attrs[name] = value
        return self

    def remove_attr(self, str name):
        del self._attrs[name]

    def attr_names(self):
        """Attribute names in insertion order."""
        return list(self._attrs)

    def attr_kind(self, str name):
        """TorchScript's attribute kind letter: i, f, b, s, t, g, is, fs, bs, ss, ts."""
        return _attr_kind(self._attrs[name])

    @property
    def attributes(self):
        """A copy of the attributes as a dict."""
        return dict(self._attrs)

    # ------------------------------------------------------------ placement
    def insert_before(self, Node n not None):
        """Insert this detached node right before ``n``; returns self."""
        if self._owning_block is not None:
            raise IRError(f"{self.kind} node is already in a block; use move_before")
        if n._owning_block is None:
            raise IRError(f"cannot insert before a detached {n.kind} node")
        if n.kind == PARAM:
            raise IRError("cannot insert before a block's prim::Param node")
        _link_before(self, n)
        return self

    def insert_after(self, Node n not None):
        """Insert this detached node right after ``n``; returns self."""
        if n.kind == RETURN:
            raise IRError("cannot insert after a block's prim::Return node")
        return self.insert_before(n._next)

    def move_before(self, Node n not None):
        self.remove_from_block()
        return self.insert_before(n)

    def move_after(self, Node n not None):
        self.remove_from_block()
        return self.insert_after(n)

    def remove_from_block(self):
        """Unlink the node from its block without touching its inputs/outputs."""
        if self._owning_block is None:
            return self
        if self.kind in (PARAM, RETURN):
            raise IRError(f"cannot remove a block's {self.kind} node")
        self._prev._next = self._next
        self._next._prev = self._prev
        self._prev = None
        self._next = None
        self._owning_block = None
        return self

    def destroy(self):
        """Remove the node from its block and drop its uses; its outputs must be unused."""
        for v in self._outputs:
            if (<Value>v)._uses:
                users = ", ".join(sorted({(<Use>u).user.kind for u in (<Value>v)._uses}))
                raise IRError(f"cannot destroy {self.kind}: output %{(<Value>v).debug_name} "
                              f"is still used by {users}")
        self.remove_all_inputs()
        for b in self._blocks:
            (<Block>b)._destroy()
        self._blocks = []
        for v in self._outputs:
            (<Value>v).set_debug_name(None)
        if self._owning_block is not None:
            self.remove_from_block()
        self._destroyed = True

    def is_before(self, Node other not None):
        """True if this node comes earlier than ``other`` in the same block."""
        if other._owning_block is not self._owning_block:
            raise IRError("is_before compares nodes of one block")
        cdef Node cur = self._next
        while cur is not None:
            if cur is other:
                return True
            cur = cur._next
        return False

    def _raw_inputs(self):
        """The live input list, unchecked: only for tests that break invariants on purpose."""
        return self._inputs

    def _raw_link_before(self, Node anchor not None):
        """Link before ``anchor`` without any check: only for tests that break invariants."""
        _link_before(self, anchor)

    def __repr__(self):
        outs = ", ".join("%" + (<Value>v).debug_name for v in self._outputs)
        ins = ", ".join("%" + (<Value>v).debug_name for v in self._inputs)
        return f"<Node {outs + ' = ' if outs else ''}{self.kind}({ins})>"


cdef void _drop_use(Value v, Node user, Py_ssize_t offset):
    for k in range(len(v._uses)):
        u = <Use>v._uses[k]
        if u.user is user and u.offset == offset:
            del v._uses[k]
            return


cdef void _shift_use(Value v, Node user, Py_ssize_t old, Py_ssize_t new):
    for k in range(len(v._uses)):
        u = <Use>v._uses[k]
        if u.user is user and u.offset == old:
            u.offset = new
            return


cdef void _link_before(Node n, Node anchor):
    n._prev = anchor._prev
    n._next = anchor
    anchor._prev._next = n
    anchor._prev = n
    n._owning_block = anchor._owning_block


_SCALAR_ATTR_KINDS = ((bool, "b"), (int, "i"), (float, "f"), (str, "s"))


def _attr_kind(value):
    if isinstance(value, np.ndarray):
        return "t"
    if isinstance(value, Graph):
        return "g"
    for py_type, kind in _SCALAR_ATTR_KINDS:
        if isinstance(value, py_type):
            return kind
    if isinstance(value, list):
        kinds = {_attr_kind(v) for v in value}
        if not kinds:
            return "is"
        if len(kinds) == 1:
            kind = kinds.pop()
            if kind in ("i", "f", "b", "s", "t"):
                return kind + "s"
    raise TypeError(f"unsupported attribute value {value!r} of type {type(value).__name__}; "
                    "attributes are int, float, bool, str, lists of one of those, ndarrays or Graphs")


def _check_attr_value(str name, value):
    try:
        _attr_kind(value)
    except TypeError as e:
        raise TypeError(f"attribute {name!r}: {e}") from None


cdef Block _new_block(Graph graph, Node owner):
    cdef Block b = Block.__new__(Block)
    b._graph = graph
    b._owning_node = owner
    b._param = _new_node(graph, PARAM)
    b._return = _new_node(graph, RETURN)
    b._param._owning_block = b
    b._return._owning_block = b
    b._param._next = b._return
    b._return._prev = b._param
    return b


cdef class Block:
    """An ordered list of nodes with inputs (loop-carried φ values) and outputs."""

    def __init__(self):
        raise TypeError("blocks are created with Node.add_block (the top block by Graph())")

    @property
    def inputs(self):
        return tuple(self._param._outputs)

    @property
    def outputs(self):
        return tuple(self._return._inputs)

    @property
    def param_node(self):
        return self._param

    @property
    def return_node(self):
        return self._return

    @property
    def owning_node(self):
        """The node this block is nested in (None for a graph's top block)."""
        return self._owning_node

    @property
    def owning_graph(self):
        return self._graph

    @property
    def nodes(self):
        """The nodes in order (a snapshot: editing while iterating is safe)."""
        out = []
        cdef Node cur = self._param._next
        while cur is not self._return:
            out.append(cur)
            cur = cur._next
        return out

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self):
        cdef Py_ssize_t n = 0
        cdef Node cur = self._param._next
        while cur is not self._return:
            n += 1
            cur = cur._next
        return n

    def add_input(self, name=None, JitType type=None):
        """Append a block input (a φ value for loops) and return it."""
        v = self._param._new_output(type)
        if name:
            v.set_debug_name(name)
        return v

    def insert_input(self, Py_ssize_t i, name=None, JitType type=None):
        v = self._param.insert_output(i, type)
        if name:
            v.set_debug_name(name)
        return v

    def erase_input(self, Py_ssize_t i):
        self._param.erase_output(i)

    def register_output(self, Value v not None):
        """Append ``v`` to the block outputs; returns its index."""
        self._return.add_input(v)
        return len(self._return._inputs) - 1

    def insert_output(self, Py_ssize_t i, Value v not None):
        self._return.insert_input(i, v)

    def erase_output(self, Py_ssize_t i):
        self._return.remove_input(i)

    def append_node(self, Node n not None):
        """Insert a detached node at the end of the block."""
        return n.insert_before(self._return)

    def prepend_node(self, Node n not None):
        return n.insert_after(self._param)

    cdef void _destroy(self):
        self._return.remove_all_inputs()
        for n in reversed(self.nodes):
            for v in (<Node>n)._outputs:
                (<Value>v)._uses = []
            (<Node>n).destroy()
        for v in self._param._outputs:
            (<Value>v).set_debug_name(None)

    def __repr__(self):
        return f"<Block with {len(self)} nodes>"


class _InsertPoint:
    """Context manager restoring a graph's insertion point (TorchScript's WithInsertPoint)."""

    def __init__(self, graph, anchor):
        self.graph = graph
        self.anchor = anchor

    def __enter__(self):
        self.saved = self.graph.insert_point
        self.graph.set_insert_point(self.anchor)
        return self.graph

    def __exit__(self, *exc):
        self.graph.set_insert_point(self.saved)
        return False


cdef class Graph:
    """A function in SSA form: one top block owning nodes, values and their names.

    Examples
    --------
    >>> g = Graph()
    >>> x = g.add_input("x")
    >>> one = g.insert_constant(1)
    >>> y = g.insert("aten::add", [x, x, one]).output()
    >>> _ = g.register_output(y)
    """

    def __init__(self):
        self._names = {}
        self._name_suffixes = {}
        self._next_unique = 0
        self._block = _new_block(self, None)
        self._insert_before = self._block._return

    # ------------------------------------------------------------ structure
    @property
    def block(self):
        return self._block

    @property
    def inputs(self):
        return self._block.inputs

    @property
    def outputs(self):
        return self._block.outputs

    @property
    def nodes(self):
        """Top-level nodes in order (see ``walk`` for nested ones)."""
        return self._block.nodes

    @property
    def return_node(self):
        return self._block._return

    def add_input(self, name=None, JitType type=None):
        """Append a graph input (type defaults to ``Tensor``)."""
        return self._block.add_input(name, type)

    def insert_input(self, Py_ssize_t i, name=None, JitType type=None):
        return self._block.insert_input(i, name, type)

    def erase_input(self, Py_ssize_t i):
        self._block.erase_input(i)

    def register_output(self, Value v not None):
        return self._block.register_output(v)

    def erase_output(self, Py_ssize_t i):
        self._block.erase_output(i)

    def walk(self):
        """Every node, depth-first in program order, nested blocks included."""
        out = []
        _walk_block(self._block, out)
        return out

    def value_by_name(self, str name):
        """The value whose debug name is ``name`` (None if there is none)."""
        return self._names.get(name)

    def _fresh_name(self, str name):
        """A free ``base.N`` name for renaming the current owner of ``name``."""
        base, suffix = name, 1
        dot = name.rfind(".")
        if 0 < dot < len(name) - 1 and name[dot + 1:].isdigit():
            base, suffix = name[:dot], int(name[dot + 1:])
        suffix = max(suffix, self._name_suffixes.get(base, 0) + 1)
        while f"{base}.{suffix}" in self._names:
            suffix += 1
        self._name_suffixes[base] = suffix
        return f"{base}.{suffix}"

    def _claim_unique(self, Value v not None, Py_ssize_t unique):
        """Give ``v`` a chosen unique number (the parser and ``copy`` keep numbering stable)."""
        if unique < 0:
            raise IRError(f"unique numbers are non-negative, got {unique}")
        v._unique = unique
        if unique >= self._next_unique:
            self._next_unique = unique + 1

    # ------------------------------------------------------------- creation
    def create(self, str kind, inputs=(), Py_ssize_t num_outputs=1):
        """Create a detached node with the given inputs and ``num_outputs`` Tensor outputs."""
        if "::" not in kind:
            raise IRError(f"node kinds are namespaced (aten::add, prim::If), got {kind!r}")
        cdef Node n = _new_node(self, kind)
        for v in inputs:
            n.add_input(v)
        for _ in range(num_outputs):
            n._new_output(None)
        return n

    def insert_node(self, Node n not None):
        """Insert a detached node at the insertion point; returns it."""
        if n._graph is not self:
            raise IRError("the node belongs to another graph")
        return n.insert_before(self._insert_before)

    def insert(self, str kind, inputs=(), attrs=None, Py_ssize_t num_outputs=1,
               output_types=None, source_range=None):
        """Create a node, set attributes/types/source range, insert it at the insertion point."""
        cdef Node n = self.create(kind, inputs, num_outputs)
        if attrs:
            for k, v in attrs.items():
                n.set_attr(k, v)
        if output_types is not None:
            if len(output_types) != num_outputs:
                raise IRError(f"{kind}: {len(output_types)} output types for {num_outputs} outputs")
            for v, t in zip(n._outputs, output_types):
                (<Value>v).set_type(t)
        n.source_range = source_range
        return self.insert_node(n)

    def insert_constant(self, value, JitType type=None, source_range=None):
        """Insert a ``prim::Constant`` holding ``value`` and return its output.

        ``value`` may be None, bool, int, float, str, a list of ints/floats/bools,
        or an ndarray; the output type is derived from it unless given.
        """
        value, derived = constant_type(value)
        n = self.create(CONSTANT, (), 1)
        if value is not None:
            n.set_attr("value", value)
        n.output().set_type(type if type is not None else derived)
        n.source_range = source_range
        self.insert_node(n)
        return n.output()

    # -------------------------------------------------------- insert points
    @property
    def insert_point(self):
        """The node before which ``insert_node`` inserts."""
        return self._insert_before

    def set_insert_point(self, where):
        """Insert before node ``where``, or at the end of block ``where``."""
        if isinstance(where, Block):
            self._insert_before = (<Block>where)._return
        elif isinstance(where, Node):
            if (<Node>where)._owning_block is None:
                raise IRError(f"cannot insert before a detached {where.kind} node")
            self._insert_before = where
        else:
            raise TypeError(f"an insertion point is a Node or a Block, got {type(where).__name__}")

    def inserting_before(self, Node n not None):
        """Context manager: insert before ``n`` inside the ``with`` body."""
        return _InsertPoint(self, n)

    def inserting_after(self, Node n not None):
        """Context manager: insert right after ``n`` inside the ``with`` body."""
        return _InsertPoint(self, n._next)

    def inserting_at_end(self, Block b not None):
        """Context manager: append to block ``b`` inside the ``with`` body."""
        return _InsertPoint(self, b)

    # ---------------------------------------------------------------- copies
    def copy(self):
        """A deep copy with the same names, unique numbers, types and attributes."""
        cdef Graph g = Graph()
        env = {}
        for v in self._block._param._outputs:
            nv = g.add_input(None, (<Value>v)._type)
            _copy_value_identity(g, <Value>v, nv)
            env[v] = nv
        _clone_block_body(self._block, g._block, env, g, True)
        g._next_unique = max(g._next_unique, self._next_unique)
        g._name_suffixes = dict(self._name_suffixes)
        return g

    def clone_node(self, Node n not None, value_map):
        """Create a detached copy of ``n`` (blocks included) reading ``value_map(v)`` for each input.

        ``n`` may come from another graph (that is how inlining copies a callee).
        Returns the new node; map its outputs yourself.
        """
        env = _MapEnv(value_map)
        return _clone_node(n, self, env, False)

    def lint(self):
        """Check every IR invariant; raise ``jitcore.LintError`` naming the first broken one."""
        from jitcore.ir.lint import lint_graph
        lint_graph(self)

    def __str__(self):
        from jitcore.ir.printer import print_graph
        return print_graph(self)

    def to_dot(self, **options):
        """The graph as Graphviz DOT text; ``options`` as :func:`jitcore.ir.dot.graph_to_dot` takes."""
        from jitcore.ir.dot import graph_to_dot
        return graph_to_dot(self, **options)

    def __repr__(self):
        return f"<Graph with {len(self.walk())} nodes>"


class _MapEnv(dict):
    """A value environment that falls back to a user mapping function."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        return self.fn(key)


def constant_type(value):
    """Normalise a constant and derive its IR type: ``(value, type)``.

    NumPy scalars become Python scalars; tuples of numbers become lists.
    """
    if value is None:
        return None, NoneType.get()
    if isinstance(value, (bool, np.bool_)):
        return bool(value), BoolType.get()
    if isinstance(value, (int, np.integer)):
        return int(value), IntType.get()
    if isinstance(value, (float, np.floating)):
        return float(value), FloatType.get()
    if isinstance(value, str):
        return value, StrType.get()
    if isinstance(value, np.ndarray):
        return value, _TensorType.from_array(value)
    if isinstance(value, (list, tuple)):
        items = [constant_type(v) for v in value]
        types = {t for _, t in items}
        if len(types) == 1 and next(iter(types)) in (IntType.get(), FloatType.get(), BoolType.get(), StrType.get()):
            return [v for v, _ in items], ListType(next(iter(types)))
        if not items:
            return [], ListType(IntType.get())
    raise TypeError(f"cannot make a constant of {value!r} ({type(value).__name__}); constants are "
                    "None, bool, int, float, str, lists of one of those, or ndarrays")


cdef void _walk_block(Block b, list out):
    cdef Node cur = b._param._next
    while cur is not b._return:
        out.append(cur)
        for blk in cur._blocks:
            _walk_block(<Block>blk, out)
        cur = cur._next


cdef void _copy_value_identity(Graph g, Value src, Value dst):
    g._claim_unique(dst, src._unique)
    if src._name is not None:
        dst.set_debug_name(src._name)


cdef Node _clone_node(Node n, Graph g, env, bint keep_identity):
    cdef Node c = _new_node(g, n.kind)
    for v in n._inputs:
        c.add_input(env[v])
    for v in n._outputs:
        nv = c._new_output((<Value>v)._type)
        if keep_identity:
            _copy_value_identity(g, <Value>v, nv)
        env[v] = nv
    for k, v in n._attrs.items():
        c._attrs[k] = v.copy() if isinstance(v, (list, Graph)) else v
    c.source_range = n.source_range
    for b in n._blocks:
        nb = _new_block(g, c)
        c._blocks.append(nb)
        for v in (<Block>b)._param._outputs:
            nv = (<Block>nb)._param._new_output((<Value>v)._type)
            if keep_identity:
                _copy_value_identity(g, <Value>v, nv)
            env[v] = nv
        _clone_block_body(<Block>b, <Block>nb, env, g, keep_identity)
    return c


cdef void _clone_block_body(Block src, Block dst, env, Graph g, bint keep_identity):
    cdef Node cur = src._param._next
    while cur is not src._return:
        dst.append_node(_clone_node(cur, g, env, keep_identity))
        cur = cur._next
    for v in src._return._inputs:
        dst.register_output(env[v])
