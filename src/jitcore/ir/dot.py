"""A graph as Graphviz DOT text: ``Graph.to_dot()`` and :func:`graph_to_dot`.

What a reader of a model wants to see, not every IR value:

- one box per op, labelled with its kind, its non-tensor attributes and the
  type (dtype and shape, where known) of each output;
- constants, ``prim::GetAttr`` reads of parameters and lists of constants are no
  boxes of their own: each user's label names them beside the argument they
  fill (``weight: self.conv1.weight Float(64, 3, 7, 7)``, ``stride = [2, 2]``);
- ``prim::If`` and ``prim::Loop`` blocks are clusters between a head node (the
  condition, the trip count) and a tail node (the values the blocks return);
- a fused node (one with a ``Subgraph`` attribute) is a cluster holding its
  subgraph, or one box listing its ops with ``expand_fused=False``;
- a call the ``expand_call`` hook resolves (a submodule's method) is a cluster
  holding the callee's graph, titled as the hook says.

Labels are Graphviz HTML-like labels; every text from the graph is escaped.
"""

import html

import numpy as np

from jitcore import ops
from jitcore._runtime.ir import Graph
from jitcore._runtime.types import ClassType, TensorType
from jitcore.ir.printer import SUBGRAPH, format_float, quote_string

__all__ = ["graph_to_dot"]

#: Kinds whose outputs are folded into their users' labels.
FOLDED_KINDS = ("prim::Constant", "prim::GetAttr", "prim::ListConstruct", "prim::TupleConstruct")
_MAX_TEXT = 48
_CONTROL_FLOW = ("prim::If", "prim::Loop")
_STYLE = {
    "graph": 'rankdir=TB; newrank=true; nodesep=0.25; ranksep=0.3; fontname="Helvetica"; fontsize=11;',
    "node": 'shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#5a7bb5", '
            'fontname="Helvetica", fontsize=10, margin="0.08,0.04"',
    "edge": 'color="#555555", arrowsize=0.6',
}
_FILL = {"aten": "#eef3fb", "prim": "#f4f4f4", "jc": "#fdf1dc"}
_CLUSTER_COLORS = {"call": "#f7faf4", "If": "#fbf6ee", "Loop": "#f3f0fa", "fused": "#fff8e8"}


def _short(text):
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1] + "…"


def _escape(text):
    return html.escape(_short(str(text)), quote=True)


def _value_text(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return "tensor(" + ", ".join(str(v) for v in value.ravel()) + ")"
        return f"tensor {value.dtype.name}{list(value.shape)}"
    if isinstance(value, Graph):
        return "<graph>"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return str(value)


def _default_text(argument):
    """The folded text a schema argument's default would show, or None when it has none."""
    default = argument.default
    if default is ops.NO_DEFAULT:
        return None
    if argument.fixed_size and not isinstance(default, (list, tuple)):
        default = [default] * argument.fixed_size
    return _value_text(default)


def _arguments(node):
    """``[(name, default text or None)]`` per input of ``node``: the schema's when an overload
    matches, else None (inputs are then labelled by position)."""
    if node.kind == "prim::If":
        return [("condition", None)]
    if node.kind == "prim::Loop":
        return [("max trip count", None), ("condition", None)] + [("carried", None)] * (len(node.inputs) - 2)
    try:
        op = ops.match(node.kind, [v.type for v in node.inputs])
    except Exception:   # an unregistered kind, or types no overload takes: positional labels
        return None
    return [(a.name, _default_text(a)) for a in op.schema.arguments]


class _Drawing:
    """Builds the DOT text of one graph; clusters nest as the graph's blocks and calls do."""

    def __init__(self, expand_call, expand_fused):
        self.expand_call = expand_call
        self.expand_fused = expand_fused
        self.ids = 0
        self.edges = []
        self.sources = {}       # Value -> the DOT node id producing it
        self.folded = {}        # Value -> the text a user's label shows for it

    def fresh(self, prefix="n"):
        self.ids += 1
        return f"{prefix}{self.ids}"

    # ---------------------------------------------------------------- values
    def fold(self, node):
        """Record the text of a folded node's output; False if it cannot fold."""
        out = node.outputs[0] if len(node.outputs) == 1 else None
        if out is None:
            return False
        if node.kind == "prim::Constant":
            text = _value_text(node.attr("value")) if node.has_attr("value") else "None"
        elif node.kind == "prim::GetAttr":
            owner = node.input(0)
            base = self.folded.get(owner)
            if base is None:
                if not isinstance(owner.type, ClassType):
                    return False
                base = "self"
            text = f"{base}.{node.attr('name')}"
        else:
            if any(v not in self.folded or isinstance(v.type, ClassType) for v in node.inputs):
                return False
            items = ", ".join(self.folded[v] for v in node.inputs)
            text = f"[{items}]" if node.kind == "prim::ListConstruct" else f"({items})"
        self.folded[out] = text
        return True

    def source(self, value, out):
        """The DOT node a value comes from.  A folded value used where no label can show it
        (a block's or the graph's result) gets a small node of its own at each such use."""
        found = self.sources.get(value)
        if found is not None:
            return found
        found = self.fresh("c")
        text = self.folded.get(value, value.debug_name if value.has_debug_name() else "?")
        out.append(f'{found} [label=<{_escape(text)}>, shape=plaintext, style="", fontsize=9];')
        if value not in self.folded:
            self.sources[value] = found
        return found

    def shown_in_label(self, value):
        return value not in self.sources and value in self.folded

    def connect(self, value, target, out):
        """An edge from ``value``'s producer to ``target``; none for values its label shows
        and for the module (``self``), whose reads are folded."""
        if self.shown_in_label(value) or (value not in self.sources and isinstance(value.type, ClassType)):
            return
        self.edges.append(f"{self.source(value, out)} -> {target};")

    # ---------------------------------------------------------------- labels
    def label(self, node, title=None, outputs=True):
        arguments = _arguments(node)
        rows = [f'<B>{_escape(title or node.kind)}</B>']
        for k, value in enumerate(node.inputs):
            if self.shown_in_label(value):
                name, default = arguments[k] if arguments and k < len(arguments) else (f"#{k}", None)
                text = self.folded[value]
                if text == default:
                    continue        # as the schema's default: nothing to read
                suffix = f" {value.type}" if text.startswith("self.") and isinstance(value.type, TensorType) else ""
                rows.append(f'<FONT POINT-SIZE="8" COLOR="#555555">{_escape(name)} = '
                            f'{_escape(text + suffix)}</FONT>')
        for name in node.attr_names():
            if name == SUBGRAPH or name.startswith("chain_"):
                continue
            rows.append(f'<FONT POINT-SIZE="8" COLOR="#555555">{_escape(name)}={_escape(_value_text(node.attr(name)))}'
                        "</FONT>")
        for value in node.outputs if outputs else ():
            rows.append(f'<FONT POINT-SIZE="9">→ {_escape(value.type)}</FONT>')
        return "<" + "<BR/>".join(rows) + ">"

    def box(self, node, out, title=None, outputs=True, **attrs):
        ident = self.fresh()
        namespace = node.kind.split("::")[0]
        extra = "".join(f", {key}={value}" for key, value in attrs.items())
        out.append(f'{ident} [label={self.label(node, title, outputs)}, fillcolor="{_FILL.get(namespace, "#eef3fb")}"'
                   f"{extra}];")
        for value in node.inputs:
            self.connect(value, ident, out)
        return ident

    # ---------------------------------------------------------------- blocks
    def nodes(self, nodes, out, indent):
        for node in nodes:
            if node.kind in FOLDED_KINDS and self.fold(node):
                continue
            inner = []
            self.node(node, inner, indent)
            out.extend(indent + line for line in inner)

    def node(self, node, out, indent):
        subgraph = node.attr(SUBGRAPH) if node.has_attr(SUBGRAPH) else None
        callee = self.expand_call(node) if self.expand_call is not None else None
        if node.kind in _CONTROL_FLOW:
            self.control_flow(node, out, indent)
        elif callee is not None:
            title, graph, expand = callee
            self.cluster(node, graph, title, "call", out, expand)
        elif isinstance(subgraph, Graph) and self.expand_fused:
            self.cluster(node, subgraph, node.kind, "fused", out, self.expand_call)
        elif isinstance(subgraph, Graph):
            chain = " → ".join(n.kind.split("::")[-1] for n in subgraph.nodes if n.kind not in FOLDED_KINDS)
            ident = self.box(node, out, title=f"{node.kind} ({chain})")
            self.sources.update((v, ident) for v in node.outputs)
        else:
            ident = self.box(node, out)
            self.sources.update((v, ident) for v in node.outputs)

    def cluster(self, node, graph, title, style, out, expand):
        """Draw ``graph`` inline, in a cluster, fed by ``node``'s inputs; ``node``'s outputs are its outputs."""
        out.append(f"subgraph cluster_{self.fresh('k')} {{")
        out.append(f'  label=<<B>{_escape(title)}</B>>; style="rounded,filled"; '
                   f'fillcolor="{_CLUSTER_COLORS[style]}"; color="#999999"; fontsize=10;')
        inner = _Drawing(expand, self.expand_fused)
        inner.ids, inner.edges = self.ids, self.edges
        for value, outer in zip(graph.inputs, node.inputs):
            if outer in self.sources:
                inner.sources[value] = self.sources[outer]
            elif outer in self.folded:
                inner.folded[value] = self.folded[outer]
            elif not isinstance(outer.type, ClassType):   # ``self`` stays unnamed: reads fold to ``self.<name>``
                inner.sources[value] = self.source(outer, out)
        body = []
        inner.nodes(graph.nodes, body, "  ")
        out.extend(body)
        for value, result in zip(graph.outputs, node.outputs):
            if inner.shown_in_label(value):
                self.folded[result] = inner.folded[value]
            else:
                self.sources[result] = inner.source(value, out)
        self.ids = inner.ids
        out.append("}")

    def hang_from(self, entry, block):
        """Invisible edges from a block's entry to its nodes fed from outside it only, so that
        the block is laid out below the head of its ``prim::If`` / ``prim::Loop``."""
        inside = set(block.inputs)
        for node in block.nodes:
            fed_inside = any(v in inside and v in self.sources for v in node.inputs)
            inside.update(node.outputs)
            target = self.sources.get(node.outputs[0]) if node.outputs else None
            if target is not None and not fed_inside:
                self.edges.append(f"{entry} -> {target} [style=invis];")

    def control_flow(self, node, out, indent):
        """``prim::If`` / ``prim::Loop``: head, one cluster per block, tail holding the results."""
        style = node.kind.split("::")[1]
        out.append(f"subgraph cluster_{self.fresh('k')} {{")
        out.append(f'  label=<<B>{_escape(node.kind)}</B>>; style="rounded,filled"; '
                   f'fillcolor="{_CLUSTER_COLORS[style]}"; color="#999999"; fontsize=10;')
        head = self.box(node, out, outputs=False, shape="hexagon")
        tail = self.fresh()
        for index, block in enumerate(node.blocks):
            title = (("then", "else")[index] if style == "If" and index < 2 else f"body")
            out.append(f"  subgraph cluster_{self.fresh('k')} {{")
            out.append(f'    label="block{index} ({title})"; style="dashed,rounded"; color="#aaaaaa"; fontsize=9;')
            entry = self.fresh()
            if block.inputs:
                names = ", ".join(f"{v.debug_name}: {v.type}" if v.has_debug_name() else str(v.type)
                                  for v in block.inputs)
                out.append(f'    {entry} [label=<{_escape(names)}>, shape=ellipse, fillcolor="#ffffff", fontsize=9];')
            else:
                out.append(f'    {entry} [label="", shape=point, width=0.06];')
            self.edges.append(f"{head} -> {entry} [style=dashed];")
            self.sources.update((v, entry) for v in block.inputs)
            body = []
            self.nodes(block.nodes, body, "    ")
            out.extend(body)
            self.hang_from(entry, block)
            for value in block.outputs:
                self.edges.append(f'{self.source(value, out)} -> {tail} [style=dashed];')
            if not block.outputs:
                self.edges.append(f"{head} -> {tail} [style=dotted];")
            out.append("  }")
        results = "<BR/>".join(f"→ {_escape(v.type)}" for v in node.outputs) or "(no results)"
        out.append(f'  {tail} [label=<<B>{_escape(node.kind)} results</B><BR/>'
                   f'<FONT POINT-SIZE="9">{results}</FONT>>, shape=box, style="rounded", fillcolor="#ffffff"];')
        self.sources.update((v, tail) for v in node.outputs)
        out.append("}")


def graph_to_dot(graph, *, name="graph", expand_call=None, expand_fused=True):
    """The DOT text of ``graph`` (see the module docstring for what is drawn how).

    Parameters
    ----------
    graph : jitcore.ir.Graph
    name : str, optional
        The DOT graph's name (also its title in some viewers).
    expand_call : callable, optional
        ``expand_call(node)`` for each node: ``(title, callee_graph,
        callee_expand_call)`` to draw a call's callee inline as a cluster
        titled ``title`` (its inputs fed by the call's inputs, its outputs the
        call's outputs), or None to draw the node as a box.
        :func:`jitcore.draw` passes one that resolves submodule method calls.
    expand_fused : bool, optional
        Draw a fused node's subgraph as a cluster (default) rather than one box.

    Returns
    -------
    str
        A ``digraph``; ``dot -Tsvg`` renders it.

    Examples
    --------
    >>> import jitcore
    >>> g = jitcore.ir.parse_graph('''
    ... graph(%x : Float(2, 3)):
    ...   %one : int = prim::Constant[value=1]()
    ...   %y : Float(2, 3) = aten::add(%x, %x, %one)
    ...   return (%y)
    ... ''')
    >>> print(g.to_dot())                                  # doctest: +ELLIPSIS
    digraph "graph" {
    ...
    """
    drawing = _Drawing(expand_call, expand_fused)
    lines = [f'digraph "{_escape(name)}" {{', "  " + _STYLE["graph"], f'  node [{_STYLE["node"]}];',
             f'  edge [{_STYLE["edge"]}];']
    for value in graph.inputs:
        if isinstance(value.type, ClassType):
            continue        # the module: its parameter reads fold into their users
        ident = drawing.fresh("in")
        label = (f"<B>{_escape(value.debug_name)}</B><BR/>" if value.has_debug_name() else "") + _escape(value.type)
        lines.append(f'  {ident} [label=<{label}>, shape=ellipse, fillcolor="#e6f4ea", color="#4a8a5a"];')
        drawing.sources[value] = ident
    body = []
    drawing.nodes(graph.nodes, body, "  ")
    lines.extend(body)
    results = drawing.fresh("out")
    label = "<BR/>".join(_escape(v.type) for v in graph.outputs) or "()"
    lines.append(f'  {results} [label=<<B>return</B><BR/>{label}>, shape=ellipse, fillcolor="#e6f4ea", '
                 'color="#4a8a5a"];')
    tail = []
    for value in graph.outputs:
        drawing.edges.append(f"{drawing.source(value, tail)} -> {results};")
    lines.extend("  " + line for line in tail)
    lines.extend("  " + edge for edge in drawing.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
