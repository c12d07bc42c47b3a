"""The registry is the one source of effects and output aliasing: its invariants, and the passes obeying them.

Covers ``jitcore.ops.effects``, ``jitcore.ops.structural`` and the effect
fields of ``register``.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import jitcore
from jitcore import nn, ops
from jitcore._runtime.ir import Graph
from jitcore._runtime.types import DictType, TensorType
from jitcore.errors import SchemaError
from jitcore.ops import Effect, OutputAlias, registry
from jitcore.ops.effects import REMOVABLE_EFFECTS
from jitcore.ops.binding import type_of
from jitcore.ops.structural import STRUCTURAL_KINDS
from jitcore.passes import eliminate_common_subexpressions, eliminate_dead_code, pipeline
from jitcore.passes.graph_queries import has_side_effects, is_pure
from jitcore.passes.output_aliasing import VIEW_KINDS

from _op_samples import sample_args
from _pass_models import all_graphs

SRC = Path(jitcore.__file__).resolve().parent
NOT_PURE = [op for op in ops.all_ops() if op.effect is not Effect.PURE]
# the kind of a fused elementwise chain: it carries its program as a subgraph
FUSED_KIND = "jc::FusedElementwise"


@pytest.fixture
def private_registry(monkeypatch):
    """Registry tables restored after the test, so it may register ops of its own."""
    for table in ("_BY_NAME", "_BY_KIND", "_BY_CALLABLE", "_PROPERTIES"):
        monkeypatch.setattr(registry, table, {k: list(v) if isinstance(v, list) else v
                                              for k, v in getattr(registry, table).items()})


# ------------------------------------------------------------- the registry

def test_every_op_has_a_callable_reference():
    assert [op.qualified_name for op in ops.all_ops() if not callable(op.reference)] == []


def test_overloads_of_a_kind_share_one_effect_and_alias():
    for op in ops.all_ops():
        assert ops.effect(op.kind) is op.effect, op.qualified_name
        assert ops.output_alias(op.kind) is op.output_alias, op.qualified_name


def test_every_mutating_op_names_the_arguments_it_writes():
    for op in ops.all_ops():
        names = {a.name for a in op.schema.arguments}
        assert (op.effect is Effect.MUTATES) == bool(op.writes), op.qualified_name
        assert set(op.writes) <= names, op.qualified_name


def test_only_random_ops_say_when_they_are_deterministic():
    for op in ops.all_ops():
        assert op.deterministic_if is None or op.effect is Effect.RANDOM, op.qualified_name


def test_special_nodes_are_not_ops_and_ops_are_not_special():
    assert not any(ops.is_registered(kind) for kind in STRUCTURAL_KINDS)
    assert ops.is_structural("prim::If") and not ops.is_structural("prim::ListConstruct")
    assert ops.effect("prim::SetAttr") is Effect.MUTATES
    assert ops.output_alias("prim::GetAttr") is OutputAlias.ATTRIBUTE


def test_expected_effects_of_known_ops():
    assert ops.effect("aten::add") is Effect.PURE
    assert ops.effect("aten::dropout") is Effect.RANDOM
    assert ops.effect("prim::ListConstruct") is Effect.NEW_OBJECT
    assert ops.effect("prim::RaiseException") is Effect.SIDE_EFFECT
    assert ops.effect("prim::Print") is Effect.SIDE_EFFECT
    assert ops.effect("prim::CallMethod") is Effect.CALLS
    assert {"aten::reshape", "aten::transpose", "aten::select", "aten::to"} <= VIEW_KINDS
    assert "aten::add" not in VIEW_KINDS


def test_register_reads_and_checks_the_effect_fields(private_registry):
    op = ops.register("jc::fill_(Tensor self, float value) -> Tensor", reference=lambda x, v: x,
                      effect=Effect.MUTATES, writes=("self",), output_alias=OutputAlias.VIEW,
                      doc="fills self in place")
    assert (op.effect, op.writes, op.output_alias, op.doc) == (
        Effect.MUTATES, ("self",), OutputAlias.VIEW, "fills self in place")
    assert ops.effect("jc::fill_") is Effect.MUTATES


@pytest.mark.parametrize("schema, fields, message", [
    ("jc::a_(Tensor self) -> Tensor", {"effect": Effect.MUTATES}, "names the arguments"),
    ("jc::b(Tensor self) -> Tensor", {"writes": ("self",)}, "names the arguments"),
    ("jc::c_(Tensor self) -> Tensor", {"effect": Effect.MUTATES, "writes": ("out",)},
     "'out', which is not one of its arguments"),
    ("jc::d(Tensor self) -> Tensor", {"deterministic_if": lambda x: True}, "only for Effect.RANDOM"),
    ("aten::relu.again(Tensor self, int n) -> Tensor", {"effect": Effect.RANDOM},
     "agree with the kind's other overloads"),
    ("prim::If(bool c) -> ()", {}, "special node"),
])
def test_register_refuses_contradictory_effect_fields(private_registry, schema, fields, message):
    with pytest.raises(SchemaError, match=message):
        ops.register(schema, reference=lambda *a: None, **fields)


# ------------------------------------------- every kind in use is known

_KIND_LITERAL = re.compile(r"""["']((?:prim|aten|jc)::[A-Za-z_][A-Za-z0-9_]*)["']""")


def _kinds_named_in(paths):
    found = {}
    for path in paths:
        for kind in _KIND_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(kind, path.relative_to(SRC).as_posix())
    return found


def _known(kind):
    return ops.is_registered(kind) or ops.is_structural(kind) or kind == FUSED_KIND


def test_every_kind_the_code_names_is_registered_or_special():
    paths = [p for pattern in ("passes/*.py", "ir/*.py", "frontend/**/*.py", "_runtime/*.pyx",
                               "reference_interpreter.py", "serialization/*.py")
             for p in SRC.glob(pattern)]
    named = _kinds_named_in(paths)
    assert len(named) > 40
    unknown = {kind: where for kind, where in named.items() if not _known(kind)}
    assert unknown == {}


def _walk_with_subgraphs(graph):
    for node in graph.walk():
        yield node
        if node.has_attr("Subgraph"):
            yield from _walk_with_subgraphs(node.attr("Subgraph"))


def _model_graphs():
    graphs = {name: graph for name, (graph, _, _) in all_graphs().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 16)).astype(np.float32)
    for name, model in (("mlp", nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))),
                        ("encoder", nn.TransformerEncoderLayer(16, 2, 32))):
        model.eval()
        graphs[f"traced_{name}"] = jitcore.trace(model, (x,), check_trace=False).graph
        graphs[f"scripted_{name}"] = jitcore.script(model).graph
    for name, (graph, inputs, functions) in all_graphs().items():
        optimised = graph.copy()
        pipeline.run(optimised, "inference", self_object=inputs[0], functions=functions)
        graphs[f"{name}_optimised"] = optimised
    return graphs


def test_every_kind_in_the_test_models_is_registered_or_special():
    unknown = {}
    for name, graph in _model_graphs().items():
        for node in _walk_with_subgraphs(graph):
            if not _known(node.kind) and not node.has_attr("Subgraph"):
                unknown.setdefault(node.kind, name)
    assert unknown == {}


# ------------------------------------------------- the passes obey effects

def _insert_argument(graph, value):
    """A constant, or a list of tensors or a dict (no IR constants) built from constants."""
    if isinstance(value, dict):
        items = [graph.insert_constant(v) for pair in value.items() for v in pair]
        key, item = next(iter(value.items())) if value else ("", np.zeros(1, np.float32))
        dict_type = DictType(type_of(key), TensorType.get() if isinstance(item, np.ndarray)
                             else type_of(item))
        return graph.insert("prim::DictConstruct", items, output_types=[dict_type]).output()
    if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
        items = [graph.insert_constant(v) for v in value]
        return graph.insert("prim::ListConstruct", items,
                            output_types=[type_of(value)]).output()
    return graph.insert_constant(value)


def _graph_of_two(op, args, *, used):
    """A graph running ``op`` twice on the same constant ``args``; outputs returned when ``used``."""
    graph = Graph()
    inputs = [_insert_argument(graph, a) for a in args]
    types = op.infer([v.type for v in inputs], args)
    nodes = [graph.insert(op.kind, inputs, num_outputs=len(types), output_types=list(types))
             for _ in range(2)]
    if used:
        for node in nodes:
            for out in node.outputs:
                graph.register_output(out)
    graph.lint()
    return graph, nodes


def _count(graph, kind):
    return sum(node.kind == kind for node in graph.walk())


@pytest.mark.parametrize("op", NOT_PURE, ids=lambda op: op.qualified_name)
def test_cse_merges_only_pure_nodes(op):
    for args in sample_args(op.qualified_name, "float32"):
        graph, nodes = _graph_of_two(op, args, used=True)
        pure = is_pure(nodes[0])
        assert pure == (op.effect is Effect.RANDOM and op.deterministic_if is not None
                        and op.deterministic_if(*args))
        eliminate_common_subexpressions(graph)
        graph.lint()
        assert _count(graph, op.kind) == (1 if pure else 2)


@pytest.mark.parametrize("op", NOT_PURE, ids=lambda op: op.qualified_name)
def test_dce_keeps_every_node_with_an_observable_effect(op):
    args = sample_args(op.qualified_name, "float32")[0]
    graph, nodes = _graph_of_two(op, args, used=False)
    observable = op.effect not in REMOVABLE_EFFECTS
    assert has_side_effects(nodes[0]) == observable
    eliminate_dead_code(graph)
    graph.lint()
    assert _count(graph, op.kind) == (2 if observable else 0)


def test_cse_merges_a_pure_node_and_dce_drops_it():
    op = ops.get("aten::relu")
    graph, _ = _graph_of_two(op, [np.ones(3, np.float32)], used=True)
    eliminate_common_subexpressions(graph)
    assert _count(graph, "aten::relu") == 1
    graph, _ = _graph_of_two(op, [np.ones(3, np.float32)], used=False)
    eliminate_dead_code(graph)
    assert _count(graph, "aten::relu") == 0


def test_cse_keeps_both_dropouts_in_training_and_merges_them_in_eval():
    op = ops.get("aten::dropout")
    x = np.ones((3, 4), np.float32)
    for train, expected in ((True, 2), (False, 1)):
        graph, _ = _graph_of_two(op, [x, 0.5, train], used=True)
        eliminate_common_subexpressions(graph)
        assert _count(graph, "aten::dropout") == expected
