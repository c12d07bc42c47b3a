"""IR construction and editing: producers, use lists, blocks, insertion points, copies."""

import numpy as np
import pytest

from jitcore.ir import (
    BoolType, Graph, IntType, IRError, ListType, NoneType, SourceRange, TensorType, Use,
)


def tutorial_branch_graph():
    """The scripted ``fun`` of the TorchScript tutorial, built with the editing API."""
    g = Graph()
    x = g.add_input("x.1")
    c0, c1 = g.insert_constant(0), g.insert_constant(1)
    c3, c20 = g.insert_constant(3), g.insert_constant(20)
    size = g.insert("aten::size", [x, c0], output_types=[IntType.get()]).output()
    cond = g.insert("aten::eq", [size, c1], output_types=[BoolType.get()]).output()
    if_node = g.insert("prim::If", [cond])
    for const in (c3, c20):
        block = if_node.add_block()
        with g.inserting_at_end(block):
            block.register_output(g.insert("aten::add", [x, const, c1]).output())
    g.register_output(if_node.output())
    return g, if_node


def test_values_have_one_producer_and_exact_uses():
    g, if_node = tutorial_branch_graph()
    x = g.inputs[0]
    assert x.node is g.block.param_node and x.offset == 0
    users = sorted((u.user.kind, u.offset) for u in x.uses)
    assert users == [("aten::add", 0), ("aten::add", 0), ("aten::size", 0)]
    out = if_node.output()
    assert out.node is if_node and out.uses == [Use(g.return_node, 0)]
    assert [n.kind for n in g.nodes] == ["prim::Constant"] * 4 + ["aten::size", "aten::eq", "prim::If"]
    walked = [n.kind for n in g.walk()]
    assert walked[6:] == ["prim::If", "aten::add", "aten::add"]


def test_unique_names_follow_torchscript():
    g = Graph()
    a = g.add_input("x")
    b = g.add_input("x")           # the old owner is renamed x.1
    assert (a.debug_name, b.debug_name) == ("x.1", "x")
    c = g.add_input("x")
    assert (a.debug_name, b.debug_name, c.debug_name) == ("x.1", "x.2", "x")
    d = g.add_input()
    assert d.debug_name == str(d.unique) and not d.has_debug_name()
    d.set_debug_name("x.1")        # takes x.1, the old owner moves on
    assert d.debug_name == "x.1" and a.debug_name == "x.3"
    with pytest.raises(IRError, match="numeric"):
        d.set_debug_name("12")
    d.set_debug_name(None)
    assert g.value_by_name("x.1") is None


def test_replace_all_uses_and_destroy():
    g = Graph()
    x, y = g.add_input("x"), g.add_input("y")
    one = g.insert_constant(1)
    add = g.insert("aten::add", [x, x, one])
    mul = g.insert("aten::mul", [add.output(), x])
    g.register_output(mul.output())
    add.output().replace_all_uses_with(y)
    assert mul.inputs[0] is y and add.output().uses == []
    assert Use(mul, 0) in y.uses
    add.destroy()
    assert add.is_destroyed and [n.kind for n in g.nodes] == ["prim::Constant", "aten::mul"]
    assert len(x.uses) == 1 and len(one.uses) == 0
    with pytest.raises(IRError, match="output %[0-9]+ is still used by prim::Return"):
        mul.destroy()
    assert not mul.is_destroyed and mul.owning_block is g.block


def test_input_editing_keeps_use_offsets_exact():
    g = Graph()
    a, b, c = (g.add_input(n) for n in "abc")
    n = g.insert("prim::ListConstruct", [a, b], output_types=[ListType(TensorType.get())])
    n.insert_input(0, c)
    assert n.inputs == (c, a, b)
    assert a.uses == [Use(n, 1)] and b.uses == [Use(n, 2)] and c.uses == [Use(n, 0)]
    n.remove_input(1)
    assert n.inputs == (c, b) and a.uses == [] and b.uses == [Use(n, 1)]
    old = n.replace_input(0, a)
    assert old is c and c.uses == [] and a.uses == [Use(n, 0)]
    n.replace_input_with(b, a)
    assert a.uses == [Use(n, 0), Use(n, 1)]
    n.remove_all_inputs()
    assert a.uses == [] and n.inputs == ()


def test_insertion_points_and_moves():
    g = Graph()
    x = g.add_input("x")
    first = g.insert("aten::relu", [x])
    last = g.insert("aten::tanh", [first.output()])
    with g.inserting_before(last):
        mid = g.insert("aten::neg", [first.output()])
    with g.inserting_after(last):
        tail = g.insert("aten::exp", [last.output()])
    assert [n.kind for n in g.nodes] == ["aten::relu", "aten::neg", "aten::tanh", "aten::exp"]
    assert g.insert_point is g.return_node      # restored after each with-block
    tail.move_before(mid)
    assert [n.kind for n in g.nodes] == ["aten::relu", "aten::exp", "aten::neg", "aten::tanh"]
    assert first.is_before(mid) and not mid.is_before(first)
    detached = g.create("aten::sin", [x])
    with pytest.raises(IRError, match="detached"):
        g.set_insert_point(detached)
    with pytest.raises(IRError, match="already in a block"):
        first.insert_before(last)


def test_outputs_and_blocks_editing():
    g = Graph()
    x = g.add_input("x")
    n = g.insert("prim::TupleUnpack", [x], num_outputs=2)
    mid = n.insert_output(1, IntType.get())
    assert [v.offset for v in n.outputs] == [0, 1, 2] and n.outputs[1] is mid
    n.erase_output(1)
    assert [v.offset for v in n.outputs] == [0, 1]
    g.register_output(n.outputs[0])
    with pytest.raises(IRError, match="still has 1 uses"):
        n.erase_output(0)
    loop = g.insert("prim::Loop", [g.insert_constant(3), g.insert_constant(True), x])
    body = loop.add_block()
    i = body.add_input("i", IntType.get())
    h = body.add_input("h")
    assert body.inputs == (i, h) and i.node is body.param_node and body.owning_node is loop
    loop.erase_block(0)
    assert loop.blocks == () and g.value_by_name("i") is None


def test_attributes_kinds_and_validation():
    g = Graph()
    n = g.insert("prim::Constant", [])
    values = {"i": 3, "f": 0.5, "b": True, "s": "hi", "is": [1, 2], "fs": [0.5], "ss": ["a"],
              "t": np.ones(2), "g": Graph()}
    for kind, value in values.items():
        n.set_attr("a_" + kind, value)
        assert n.attr_kind("a_" + kind) == kind
    assert n.attr_names()[:2] == ["a_i", "a_f"]
    with pytest.raises(TypeError, match="attribute 'bad'"):
        n.set_attr("bad", object())
    with pytest.raises(KeyError, match="has no attribute 'missing'"):
        n.attr("missing")


def test_constants_derive_their_types():
    g = Graph()
    cases = [(None, "NoneType"), (True, "bool"), (3, "int"), (np.int64(3), "int"), (2.5, "float"),
             ("s", "str"), ([1, 2], "int[]"), ((1.0, 2.0), "float[]"), (np.zeros((2, 3), np.float32),
                                                                       "Float(2, 3)")]
    for value, type_text in cases:
        assert str(g.insert_constant(value).type) == type_text
    assert not g.nodes[0].has_attr("value")  # None constants carry no value
    with pytest.raises(TypeError, match="cannot make a constant"):
        g.insert_constant({"a": 1})


def test_copy_preserves_everything_and_is_independent():
    g, _ = tutorial_branch_graph()
    g.nodes[4].source_range = SourceRange("f.py", 2, 7)
    h = g.copy()
    assert [(n.kind, [v.debug_name for v in n.outputs]) for n in h.walk()] == \
           [(n.kind, [v.debug_name for v in n.outputs]) for n in g.walk()]
    assert h.nodes[4].source_range == g.nodes[4].source_range
    assert all(v.owning_graph is h for n in h.walk() for v in n.outputs)
    h.nodes[-1].output().replace_all_uses_with(h.inputs[0])
    assert g.outputs[0].node.kind == "prim::If"   # the original is untouched
    nxt = h.add_input()
    assert nxt.unique == max(v.unique for n in g.walk() for v in n.outputs) + 1


def test_clone_node_into_another_graph():
    src, _ = tutorial_branch_graph()
    dst = Graph()
    y = dst.add_input("y")
    env = {src.inputs[0]: y}
    for node in src.nodes:
        clone = dst.clone_node(node, lambda v: env[v])
        dst.insert_node(clone)
        env.update(zip(node.outputs, clone.outputs))
    dst.register_output(env[src.outputs[0]])
    assert [n.kind for n in dst.walk()] == [n.kind for n in src.walk()]
    assert all(v.owning_graph is dst for n in dst.walk() for v in n.inputs)


def test_cross_graph_values_are_rejected():
    g1, g2 = Graph(), Graph()
    x = g1.add_input("x")
    with pytest.raises(IRError, match="another graph"):
        g2.create("aten::relu", [x])


def test_source_range_highlight_underlines_the_range():
    sr = SourceRange("model.py", 3, 11, 3, 16, "    return x @ w")
    text = sr.highlight()
    assert 'File "model.py", line 3' in text
    assert text.splitlines()[-1].strip() == "~~~~~ <--- HERE"
    assert str(sr) == "model.py:3:11"


def test_none_type_constant_and_walk_order():
    g = Graph()
    none = g.insert_constant(None)
    assert none.type == NoneType.get()
    assert g.walk() == g.nodes
