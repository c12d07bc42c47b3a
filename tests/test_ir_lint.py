"""Graph.lint(): each invariant is broken on purpose and must be reported."""

import numpy as np
import pytest

from jitcore.errors import LintError
from jitcore.ir import BoolType, Graph, IntType, StrType, TensorType, Use


def branch_graph():
    g = Graph()
    x = g.add_input("x", TensorType("float32", (2, 3)))
    one = g.insert_constant(1)
    cond = g.insert_constant(True)
    if_node = g.insert("prim::If", [cond])
    if_node.output()  # the node has one output
    for k in (3, 20):
        block = if_node.add_block()
        with g.inserting_at_end(block):
            c = g.insert_constant(k)
            block.register_output(g.insert("aten::add", [x, c, one]).output())
    g.register_output(if_node.output())
    return g, if_node


def loop_graph():
    g = Graph()
    x = g.add_input("x")
    trips, true = g.insert_constant(4), g.insert_constant(True)
    loop = g.insert("prim::Loop", [trips, true, x])
    body = loop.add_block()
    body.add_input("i", IntType.get())
    h = body.add_input("h")
    with g.inserting_at_end(body):
        body.register_output(g.insert_constant(True))
        body.register_output(g.insert("aten::tanh", [h]).output())
    g.register_output(loop.output())
    return g, loop


def test_well_formed_graphs_pass():
    branch_graph()[0].lint()
    loop_graph()[0].lint()


def test_use_before_definition():
    g, if_node = branch_graph()
    one = g.nodes[0]
    one.move_after(if_node)
    with pytest.raises(LintError, match="used before its definition or outside its scope"):
        g.lint()


def test_value_used_outside_its_scope():
    g, if_node = branch_graph()
    inner = if_node.blocks[0].outputs[0]
    g.register_output(inner)
    with pytest.raises(LintError, match=r"outside its scope[\s\S]*prim::Return"):
        g.lint()


def test_value_from_sibling_branch():
    g, if_node = branch_graph()
    then_value = if_node.blocks[0].outputs[0]
    if_node.blocks[1].register_output(then_value)
    if_node.blocks[0].register_output(then_value)
    if_node.add_output()
    with pytest.raises(LintError, match="outside its scope"):
        g.lint()


def test_stale_use_list():
    g, _ = branch_graph()
    x = g.inputs[0]
    x._raw_uses().append(Use(g.nodes[0], 0))
    with pytest.raises(LintError, match="stale use"):
        g.lint()


def test_missing_use():
    g, _ = branch_graph()
    x = g.inputs[0]
    x._raw_uses().pop()
    with pytest.raises(LintError, match="missing from that value's use list"):
        g.lint()


def test_duplicate_use():
    g, _ = branch_graph()
    x = g.inputs[0]
    x._raw_uses().append(x.uses[0])
    with pytest.raises(LintError, match="duplicate use"):
        g.lint()


def test_node_left_in_two_blocks():
    g, if_node = branch_graph()
    add = if_node.blocks[0].nodes[-1]
    # link the node into the other branch too, without unlinking it first
    add._raw_link_before(if_node.blocks[1].return_node)
    with pytest.raises(LintError, match="two blocks|prev link|not its owning block"):
        g.lint()


def test_destroyed_producer():
    g = Graph()
    x = g.add_input("x")
    relu = g.insert("aten::relu", [x])
    tanh = g.insert("aten::tanh", [relu.output()])
    g.register_output(tanh.output())
    relu.output()._raw_uses().clear()   # fool destroy() into accepting
    relu.destroy()
    with pytest.raises(LintError, match="no longer in the graph"):
        g.lint()


def test_type_mismatch_with_schema():
    g = Graph()
    x = g.add_input("x")
    s = g.insert_constant("not a number")
    g.register_output(g.insert("aten::add", [x, s, g.insert_constant(1)]).output())
    with pytest.raises(LintError, match="type mismatch with the schema of aten::add"):
        g.lint()


def test_wrong_output_count_for_schema():
    g = Graph()
    x = g.add_input("x")
    g.insert("aten::relu", [x], num_outputs=2)
    with pytest.raises(LintError, match="returns 1 values but the node has 2 outputs"):
        g.lint()


def test_unknown_op():
    g = Graph()
    g.insert("aten::definitely_not_an_op", [g.add_input("x")])
    with pytest.raises(LintError, match="unknown op 'aten::definitely_not_an_op'"):
        g.lint()


def test_if_condition_must_be_bool():
    g, if_node = branch_graph()
    if_node.replace_input(0, g.nodes[0].output())   # the int constant
    with pytest.raises(LintError, match="condition must be bool, got int"):
        g.lint()


def test_if_blocks_must_match_outputs():
    g, if_node = branch_graph()
    if_node.blocks[1].erase_output(0)
    with pytest.raises(LintError, match="block1 returns 0 values for 1 outputs"):
        g.lint()


def test_loop_structure():
    g, loop = loop_graph()
    loop.blocks[0].erase_output(0)
    with pytest.raises(LintError, match="body returns the condition"):
        g.lint()
    g, loop = loop_graph()
    with g.inserting_before(loop):
        loop.replace_input(0, g.insert_constant(True))
    with pytest.raises(LintError, match="trip count must be int, got bool"):
        g.lint()


def test_constant_value_must_match_type():
    g = Graph()
    c = g.insert_constant(3)
    c.set_type(StrType.get())
    with pytest.raises(LintError, match="constant 3 has type int but its output is typed str"):
        g.lint()
    g = Graph()
    t = g.insert_constant(np.zeros((2, 2), np.float32))
    t.set_type(TensorType("float64"))
    with pytest.raises(LintError, match="does not match its output type Double"):
        g.lint()


def test_fused_subgraph_is_linted():
    sub = Graph()
    a = sub.add_input("a")
    sub.register_output(sub.insert("aten::tanh", [a]).output())
    g = Graph()
    x = g.add_input("x")
    fused = g.insert("jc::FusedElementwise", [x], attrs={"Subgraph": sub})
    g.register_output(fused.output())
    g.lint()
    sub.nodes[0].output().set_type(BoolType.get())
    sub.nodes[0].remove_input(0)
    with pytest.raises(LintError, match="subgraph is broken"):
        g.lint()


def test_error_names_the_node_and_source():
    from jitcore.ir import SourceRange
    g = Graph()
    node = g.insert("aten::not_an_op", [g.add_input("x")])
    node.source_range = SourceRange("model.py", 7, 4)
    with pytest.raises(LintError, match=r"in node: %\d+ = aten::not_an_op\(%x\)  # model.py:7:4"):
        g.lint()
