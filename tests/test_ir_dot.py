"""DOT text of graphs (jitcore.ir.dot) and jitcore.draw (jitcore.drawing)."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.ir import parse_graph
from jitcore.ir.dot import graph_to_dot
from jitcore.passes import fuse_elementwise

NODE = re.compile(r"^\s*(\w+) \[label=<(.*)>", re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)", re.M)

IF_GRAPH = """graph(%x : Float(2, 3)):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %three : int = prim::Constant[value=3]()
  %twenty : int = prim::Constant[value=20]()
  %n : int = aten::size(%x, %zero)
  %c : bool = aten::eq(%n, %one)
  %y : Float(2, 3) = prim::If(%c)
    block0():
      %a : Float(2, 3) = aten::add(%x, %three, %one)
      -> (%a)
    block1():
      %b : Float(2, 3) = aten::add(%x, %twenty, %one)
      -> (%b)
  return (%y)
"""

LOOP_GRAPH = """graph(%x : Float(4)):
  %trips : int = prim::Constant[value=3]()
  %go : bool = prim::Constant[value=1]()
  %half : float = prim::Constant[value=0.5]()
  %y : Float(4) = prim::Loop(%trips, %go, %x)
    block0(%i : int, %acc : Float(4)):
      %next : Float(4) = aten::mul(%acc, %half)
      -> (%go, %next)
  return (%y)
"""


def _clusters(dot):
    """``{node id: [titles of the clusters around it, outermost first]}``."""
    where, stack = {}, []
    for line in dot.splitlines():
        text = line.strip()
        if text.startswith("subgraph cluster_"):
            stack.append(None)
        elif text.startswith("label=") and stack and stack[-1] is None:
            stack[-1] = re.sub(r"<[^>]*>", "", text.split(";")[0][len("label="):]).strip('"<>')
        elif text == "}" and stack:
            stack.pop()
        else:
            match = NODE.match(line)
            if match:
                where[match.group(1)] = list(stack)
    return where


def _labels(dot):
    return {ident: re.sub(r"<[^>]*>", "|", label) for ident, label in NODE.findall(dot)}


def _check_well_formed(dot):
    """Every edge joins declared nodes; braces balance; Graphviz parses it when installed."""
    declared = set(_labels(dot)) | set(re.findall(r"^\s*(\w+) \[label=\"", dot, re.M))
    for a, b in EDGE.findall(dot):
        assert a in declared and b in declared, (a, b)
    assert dot.count("{") == dot.count("}")
    if shutil.which("dot"):
        result = subprocess.run(["dot", "-Tcanon"], input=dot, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr


def _kind_nodes(dot, kind):
    return [ident for ident, label in _labels(dot).items() if label.startswith(f"|{kind}|")]


def test_if_blocks_are_clusters_and_constants_fold_into_labels():
    dot = parse_graph(IF_GRAPH).to_dot()
    _check_well_formed(dot)
    labels = _labels(dot)
    assert not _kind_nodes(dot, "prim::Constant")
    adds = _kind_nodes(dot, "aten::add")
    assert len(adds) == 2
    clusters = _clusters(dot)
    assert [c[0] for c in (clusters[a] for a in adds)] == ["prim::If", "prim::If"]
    assert sorted(clusters[a][1] for a in adds) == ["block0 (then)", "block1 (else)"]
    assert "other = 3" in labels[adds[0]] + labels[adds[1]]
    assert "other = 20" in labels[adds[0]] + labels[adds[1]]
    # alpha=1 is aten::add's default: not shown
    assert "alpha" not in labels[adds[0]]
    (size,) = _kind_nodes(dot, "aten::size")
    assert "dim = 0" in labels[size] and "→ int" in labels[size]
    assert "Float(2, 3)" in labels[adds[0]]


def test_loop_body_is_a_cluster_with_its_carried_values():
    dot = parse_graph(LOOP_GRAPH).to_dot()
    _check_well_formed(dot)
    (mul,) = _kind_nodes(dot, "aten::mul")
    assert _clusters(dot)[mul] == ["prim::Loop", "block0 (body)"]
    (head,) = _kind_nodes(dot, "prim::Loop")
    assert "max trip count = 3" in _labels(dot)[head]
    assert "i: int, acc: Float(4)" in dot
    assert "other = 0.5" in _labels(dot)[mul]


def _fused_graph():
    graph = parse_graph("""graph(%x : Float(4, 5)):
  %half : float = prim::Constant[value=0.5]()
  %alpha : int = prim::Constant[value=1]()
  %a : Float(4, 5) = aten::mul(%x, %half)
  %b : Float(4, 5) = aten::add(%a, %x, %alpha)
  %c : Float(4, 5) = aten::tanh(%b)
  return (%c)
""")
    assert fuse_elementwise(graph)
    return graph


def test_fused_nodes_expand_to_their_subgraph_or_collapse_to_one_box():
    graph = _fused_graph()
    dot = graph.to_dot()
    _check_well_formed(dot)
    clusters = _clusters(dot)
    for kind in ("aten::mul", "aten::add", "aten::tanh"):
        (node,) = _kind_nodes(dot, kind)
        assert clusters[node] == ["jc::FusedElementwise"]
    collapsed = graph.to_dot(expand_fused=False)
    _check_well_formed(collapsed)
    assert not _kind_nodes(collapsed, "aten::tanh")
    assert "jc::FusedElementwise (mul → add → tanh)" in collapsed
    assert "chain_steps" not in collapsed


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 2)

    def forward(self, x):
        return nn.functional.relu(self.layer1(x))


def _traced():
    nn.init.manual_seed(0)
    x = np.ones((1, 4), np.float32)
    return jitcore.trace(_Net().eval(), (x,)), x


def test_submodule_calls_are_clusters_and_parameters_fold():
    traced, _ = _traced()
    dot = jitcore.drawing.model_to_dot(traced)
    _check_well_formed(dot)
    (linear,) = _kind_nodes(dot, "aten::linear")
    assert _clusters(dot)[linear] == ["layer1.forward  (Linear)"]
    assert "weight = self.layer1.weight Float(2, 4)" in _labels(dot)[linear]
    assert not _kind_nodes(dot, "prim::GetAttr") and not _kind_nodes(dot, "prim::CallMethod")
    # the module's own graph, without expansion, keeps the call as one box
    plain = traced.graph.to_dot()
    _check_well_formed(plain)
    assert len(_kind_nodes(plain, "prim::CallMethod")) == 1


def test_text_from_the_graph_is_escaped():
    graph = parse_graph("""graph(%x : Float(2)):
  %s : str = prim::Constant[value="<b>&\\"quoted\\""]()
  %y : Float(2) = aten::relu(%x)
  %z : (Float(2), str) = prim::TupleConstruct(%y, %s)
  return (%z)
""")
    dot = graph.to_dot()
    _check_well_formed(dot)
    assert "&lt;b&gt;&amp;" in dot and "<b>&" not in dot


def test_scripted_control_flow_draws(tmp_path):
    @jitcore.script
    def fun(x):
        if x.shape[0] == 1:
            return x + 3
        else:
            return x + 20

    dot = jitcore.drawing.model_to_dot(fun)
    _check_well_formed(dot)
    assert len(_kind_nodes(dot, "aten::add")) == 2
    assert jitcore.draw(fun, tmp_path / "fun.dot") == str(tmp_path / "fun.dot")
    assert (tmp_path / "fun.dot").read_text() == dot


def test_draw_renders_svg_and_png(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    traced, _ = _traced()
    jitcore.draw(traced, tmp_path / "net.svg")
    svg = (tmp_path / "net.svg").read_text()
    assert "<svg" in svg and "aten::linear" in svg
    jitcore.draw(traced, tmp_path / "net.png")
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_names_the_missing_package(tmp_path, monkeypatch):
    traced, _ = _traced()
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(jitcore.JitcoreError, match="'graphviz' Python package.*pip install graphviz"):
        jitcore.draw(traced, tmp_path / "net.svg")
    jitcore.draw(traced, tmp_path / "net.dot")          # DOT text needs no Graphviz


def test_draw_names_the_missing_dot_program(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    traced, _ = _traced()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(jitcore.JitcoreError, match="'dot' program, which is not on PATH"):
        jitcore.draw(traced, tmp_path / "net.svg")


def test_draw_rejects_unknown_formats_and_objects(tmp_path):
    traced, _ = _traced()
    with pytest.raises(ValueError, match=r"\.svg.*got .*net\.txt"):
        jitcore.draw(traced, tmp_path / "net.txt")
    with pytest.raises(TypeError, match="ScriptModule, a ScriptFunction or a Graph, got _Net"):
        jitcore.draw(_Net(), tmp_path / "net.dot")


def test_optimized_graph_draws_fused_nodes():
    traced, x = _traced()
    graph = jitcore.optimize_for_inference(traced).graph_for(x)
    dot = graph_to_dot(graph)
    _check_well_formed(dot)
    labels = " ".join(_labels(dot).values())
    assert "Float(1, 2)" in labels
