"""Parsing the IR text format: TorchScript's own output, exact round trips, clear errors."""

import numpy as np
import pytest

from jitcore.errors import IRParseError
from jitcore.ir import (
    BoolType, ClassType, DictType, FloatType, Graph, IntType, ListType, NoneType, NumberType,
    OptionalType, SourceRange, StrType, TensorType, TupleType, parse_graph,
)
from jitcore.ir.printer import print_graph
from jitcore.testing import assert_roundtrip
from test_ir_printer import (
    TUTORIAL_GRAPHS, TUTORIAL_TRACED_NN, counting_loop, fused_graph,
)

# The tutorial's traced module exactly as TorchScript printed it, strides included.
TORCHSCRIPT_TRACED_NN = """\
graph(%self.1 : __torch__.NN,
      %input : Float(1:4, 4:1)):
  %14 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="layer1"](%self.1)
  %16 : Tensor = prim::CallMethod[name="forward"](%14, %input)
  return (%16)



"""


def test_torchscript_output_parses():
    g = parse_graph(TORCHSCRIPT_TRACED_NN)
    self_, x = g.inputs
    assert self_.debug_name == "self.1" and self_.type == ClassType("__torch__.NN")
    assert x.type == TensorType("float32", (1, 4))
    get_attr, call = g.nodes
    assert get_attr.kind == "prim::GetAttr" and get_attr.attr("name") == "layer1"
    assert get_attr.output().unique == 14 and not get_attr.output().has_debug_name()
    assert call.inputs == (get_attr.output(), x) and g.outputs == (call.output(),)
    assert str(g) == TUTORIAL_TRACED_NN
    g.lint()


@pytest.mark.parametrize("build, text", TUTORIAL_GRAPHS, ids=[b.__name__ for b, _ in TUTORIAL_GRAPHS])
def test_tutorial_texts_parse_back_to_the_same_graph(build, text):
    parsed = parse_graph(text)
    assert str(parsed) == text
    assert_roundtrip(build())


def test_source_ranges_and_numbers_are_restored():
    g = parse_graph(TUTORIAL_GRAPHS[3][1])
    branch = g.nodes[-1]
    assert branch.kind == "prim::If" and branch.output().unique == 22
    assert branch.source_range == SourceRange("<ipython-input-4-33c58bd45e7c>", 2, 4)
    then_add = branch.blocks[0].nodes[0]
    assert then_add.output().unique == 9 and then_add.inputs[0] is g.inputs[0]
    # values made after parsing never reuse a printed number
    fresh = g.insert("aten::neg", [g.inputs[0]]).output()
    numbers = [v.unique for n in g.walk() for v in n.outputs]
    assert len(set(numbers)) == len(numbers) and fresh.unique > 22


def test_torchscript_bool_constants_become_bools():
    g = parse_graph("graph():\n  %1 : bool = prim::Constant[value=1]()\n  return (%1)\n")
    assert g.nodes[0].attr("value") is True and g.nodes[0].attr_kind("value") == "b"


def test_nested_if_and_loop_round_trip():
    g = counting_loop()
    loop = g.nodes[-1]
    body = loop.blocks[0]
    with g.inserting_before(body.return_node):
        cond = g.insert("aten::gt", [body.inputs[0], g.insert_constant(2)],
                        output_types=[BoolType.get()]).output()
        branch = g.insert("prim::If", [cond], output_types=[IntType.get()])
    then_block, else_block = branch.add_block(), branch.add_block()
    with g.inserting_at_end(then_block):
        inner = g.insert("prim::Loop", [body.inputs[0], cond], num_outputs=0)
    inner_body = inner.add_block()
    inner_body.add_input("j", IntType.get())
    inner_body.register_output(cond)
    then_block.register_output(body.inputs[1])
    else_block.register_output(body.inputs[0])
    parsed = assert_roundtrip(g)
    parsed_branch = parsed.nodes[-1].blocks[0].nodes[-1]
    assert parsed_branch.kind == "prim::If" and len(parsed_branch.blocks) == 2
    assert parsed_branch.blocks[0].nodes[0].blocks[0].inputs[0].debug_name == "j"


def test_multi_output_and_side_effect_nodes_round_trip():
    g = Graph()
    t = g.add_input("t", TupleType([TensorType(), IntType.get()]))
    unpack = g.insert("prim::TupleUnpack", [t], num_outputs=2,
                      output_types=[TensorType(), IntType.get()])
    unpack.outputs[0].set_debug_name("a")
    g.insert("prim::RaiseException", [g.insert_constant("boom")], num_outputs=0,
             source_range=SourceRange("C:\\models\\net.py", 7, 4))
    g.register_output(unpack.outputs[0])
    g.register_output(unpack.outputs[1])
    parsed = assert_roundtrip(g)
    assert parsed.nodes[-1].source_range.filename == "C:\\models\\net.py"
    assert [v.debug_name for v in parsed.nodes[0].outputs] == ["a", "2"]


def test_every_attribute_kind_round_trips():
    g = Graph()
    attrs = {
        "i": -3, "f": 0.1, "tiny": 5e-324, "inf": float("-inf"), "b": False,
        "s": 'quote " backslash \\ newline \n tab \t bell \x07 unicode é \u2603',
        "is": [1, -2], "fs": [0.5, 1e300], "bs": [True], "ss": ["x", ""], "empty": [],
        "t32": np.array([[0.1, -0.0], [np.inf, 3e-38]], dtype=np.float32),
        "t64": np.array([np.pi], dtype=np.float64), "ti": np.arange(6, dtype=np.int32).reshape(2, 3),
        "tb": np.array(True), "big": np.linspace(0, 1, 100).reshape(10, 10),
        "ts": [np.ones(2, np.float32), np.zeros((5, 5))],
    }
    g.insert("jc::Everything", attrs=attrs, num_outputs=0)
    table = {}
    parsed = assert_roundtrip(g, tensor_table=table)
    node = parsed.nodes[0]
    for name, value in attrs.items():
        assert node.attr_kind(name) == g.nodes[0].attr_kind(name), name
    assert node.attr("t32").dtype == np.float32
    np.testing.assert_array_equal(node.attr("t32"), attrs["t32"])
    assert node.attr("big") is table["0"]


def test_nan_tensors_and_floats_round_trip():
    g = Graph()
    g.insert("prim::Constant", attrs={"value": np.array([np.nan, 1.5], np.float32)})
    g.insert("prim::Constant", attrs={"value": float("nan")})
    parsed = parse_graph(str(g))
    assert np.isnan(parsed.nodes[0].attr("value")[0]) and np.isnan(parsed.nodes[1].attr("value"))
    assert str(parsed) == str(g)


def test_every_type_round_trips():
    g = Graph()
    types = [TensorType(), TensorType("float32", (1, 4)), TensorType("float64", (None, 3)),
             TensorType("int64", ()), TensorType("int32"), TensorType("bool", (2,)),
             IntType.get(), FloatType.get(), BoolType.get(), StrType.get(), NoneType.get(),
             NumberType.get(), ListType(IntType.get()), ListType(TensorType()),
             OptionalType(TensorType()), TupleType([IntType.get(), TensorType()]), TupleType([]),
             DictType(StrType.get(), TensorType()), ClassType("__jitcore__.Net"),
             OptionalType(ListType(FloatType.get()))]
    for t in types:
        g.add_input(None, t)
    branch = g.insert("prim::If", [g.inputs[8]], num_outputs=0)
    block = branch.add_block()
    for t in types:
        block.add_input(None, t)
    branch.add_block()
    parsed = assert_roundtrip(g)
    assert [v.type for v in parsed.inputs] == types
    assert [v.type for v in parsed.nodes[0].blocks[0].inputs] == types


def test_fusion_subgraphs_round_trip():
    g = fused_graph()
    parsed = assert_roundtrip(g)
    fused = parsed.nodes[0].blocks[0].nodes[0]
    assert fused.kind == "jc::FusedElementwise" and fused.attr("tile") == 64
    sub = fused.attr("Subgraph")
    assert [n.kind for n in sub.nodes] == ["aten::mul", "jc::FusedElementwise"]
    assert [n.kind for n in sub.nodes[1].attr("Subgraph").nodes] == ["aten::relu"]
    assert parsed.nodes[1].attr_kind("body") == "g"


def test_windows_line_endings_and_blank_lines_are_accepted():
    text = TUTORIAL_GRAPHS[0][1].replace("\n", "\r\n")
    assert str(parse_graph("\n\n" + text + "\r\n\r\n")) == TUTORIAL_GRAPHS[0][1]


def test_parsing_a_thousand_node_graph_round_trips():
    g = Graph()
    x = g.add_input("x")
    one = g.insert_constant(1)
    for _ in range(1000):
        x = g.insert("aten::add", [x, x, one]).output()
    g.register_output(x)
    assert len(assert_roundtrip(g).nodes) == 1001


# ------------------------------------------------------------ errors

HEADER = "graph(%x : Tensor):\n"


@pytest.mark.parametrize("text, line, column, message", [
    ("grph(%x : Tensor):\n  return (%x)\n", 1, 1, "expected 'graph(' starting the graph but found 'grph'"),
    ("graph(%x : Tensr):\n  return (%x)\n", 1, 12, "bad type of %x: unknown type 'Tensr'"),
    ("graph(%x Tensor):\n  return (%x)\n", 1, 10, "expected ':' and a type after %x but found 'Tensor'"),
    (HEADER + "  %1 : Tensor = aten::neg(%y)\n  return (%1)\n", 2, 27, "value %y is not defined"),
    (HEADER + "  %1 : Tensor = aten::neg(%2)\n  %2 : Tensor = aten::neg(%x)\n  return (%1)\n",
     2, 27, "value %2 is used before its definition on line 3"),
    (HEADER + "  %1 : Tensor = aten::neg(%x)\n  %1 : Tensor = aten::neg(%x)\n  return (%1)\n",
     3, 3, "value %1 is defined twice (first on line 2)"),
    (HEADER + "  %1 : Tensor = neg(%x)\n  return (%1)\n", 2, 17, "expected a node kind such as aten::add but found 'neg'"),
    (HEADER + "  %1 : Tensor = aten::neg(%x\n  return (%1)\n", 2, 29, "expected ',' or ')' but found end of line"),
    (HEADER + '  %1 : str = prim::Constant[value="abc]()\n  return (%1)\n', 2, 35,
     "unterminated string: expected a closing '\"'"),
    (HEADER + "  %1 : Tensor = prim::Constant[value=<Tensor float32 (512, 784)>]()\n  return (%1)\n",
     2, 38, "this tensor was printed elided"),
    (HEADER + "  %1 : Tensor = prim::Constant[value=@0]()\n  return (%1)\n", 2, 38,
     "tensor @0 refers to a tensor table, but parse_graph was called without tensor_table"),
    (HEADER + "  %1 : Tensor = prim::Constant[value=Tensor(float32, [2], [1.0])]()\n  return (%1)\n",
     2, 59, "a tensor of shape (2,) needs 2 values, got 1"),
    (HEADER + "  %1 : Tensor = prim::Constant[value=Tensor(int64, [1], [1.5])]()\n  return (%1)\n",
     2, 57, "expected int64 values but found 1.5"),
    (HEADER + "  %1 : int = prim::Constant[value=[1, 2.5]]()\n  return (%1)\n", 2, 29,
     "attribute 'value': unsupported attribute value [1, 2.5]"),
    (HEADER + "  %1 : int = prim::Constant[value=1, value=2]()\n  return (%1)\n", 2, 38,
     "attribute 'value' is given twice"),
    (HEADER + "  %1 : int = prim::Constant[value=1]() # file.py:3\n  return (%1)\n", 2, 42,
     "expected a source location 'file:line:col' but found 'file.py:3'"),
    (HEADER + "  %1 : Tensor = prim::If(%x)\n    block0():\n      %2 : Tensor = aten::neg(%x)\n"
     "      -> (%2)\n  return (%2)\n", 6, 11, "value %2 is defined inside a block (line 4) and is not visible here"),
    (HEADER + "  %1 : Tensor = prim::If(%x)\n    block1():\n      -> (%x)\n  return (%1)\n",
     3, 5, "expected 'block0(' but found 'block1'"),
    (HEADER + "  %1 : Tensor = aten::neg(%x)\n     %2 : Tensor = aten::neg(%x)\n  return (%1)\n",
     3, 6, "expected a node or 'return (' at indentation 2 but found '%2' at indentation 5"),
    (HEADER + "  %1 : Tensor = aten::neg(%x)\n", 3, 1, "expected a node or 'return (' at indentation 2 but found end of text"),
    (HEADER + "  return (%x)\nwith jc::Fused_0 = graph():\n  return ()\n", 3, 1,
     "this 'with' section names no node kind or attribute of the graph above"),
    (HEADER + "  %1 : Tensor = prim::Custom[body=jc::Fused_0](%x)\n  return (%1)\n", 2, 35,
     "expected a 'with jc::Fused_0 = graph(...)' section after the graph for attribute 'body'"),
    (HEADER + "  %1 : Tensor = aten::neg(%x)\n  return (%1)\ntrailing\n", 4, 1,
     "expected end of text after the graph but found 'trailing'"),
    # numbers out of range: the parse error, never a bare OverflowError or ValueError
    (HEADER + f"  %1 : int = prim::Constant[value={2 ** 70}]()\n  return (%1)\n", 2, 35,
     f"integer {2 ** 70} is out of range: expected an integer in [{-2 ** 63}, {2 ** 63 - 1}]"),
    (HEADER + f"  %1 : int = prim::Constant[value={-2 ** 63 - 1}]()\n  return (%1)\n", 2, 35,
     f"integer {-2 ** 63 - 1} is out of range"),
    (HEADER + f"  %1 : int[] = prim::Constant[value=[1, {2 ** 64}]]()\n  return (%1)\n", 2, 41,
     f"integer {2 ** 64} is out of range"),
    (HEADER + "  %1 : int = prim::Constant[value=" + "9" * 5000 + "]()\n  return (%1)\n", 2, 35,
     "integer 9999999999999999999999999999999999999... is out of range"),
    (HEADER + "  %1 : float = prim::Constant[value=1e400]()\n  return (%1)\n", 2, 37,
     "float 1e400 is out of range: a float64 is at most 1.7976931348623157e+308 in magnitude (write inf"),
    (HEADER + f"  %1 : Tensor = prim::Constant[value=Tensor(int64, [{2 ** 40}, {2 ** 40}, 16], [])]()\n"
     "  return (%1)\n", 2, 88, f"a tensor of shape ({2 ** 40}, {2 ** 40}, 16) needs {2 ** 84} values, got 0"),
    (HEADER + f"  %1 : Tensor = aten::neg(%x) # f.py:{2 ** 31}:0\n  return (%1)\n", 2, 38,
     f"source line {2 ** 31} is out of range: expected an integer in [0, 2147483647]"),
    (f"graph(%{2 ** 63 - 1} : Tensor, %x : Tensor):\n  return (%x)\n", 1, 8,
     f"value number {2 ** 63 - 1} is out of range: expected an integer in [0, {2 ** 62}]"),
])
def test_errors_name_line_column_and_what_was_expected(text, line, column, message):
    with pytest.raises(IRParseError) as info:
        parse_graph(text)
    err = info.value
    assert message in str(err)
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"line {line}, column {column}: ")


def test_error_quotes_the_source_line_with_a_caret():
    with pytest.raises(IRParseError) as info:
        parse_graph(HEADER + "  %1 : Tensor = aten::neg(%y)\n  return (%1)\n")
    assert str(info.value).endswith("\n      %1 : Tensor = aten::neg(%y)\n"
                                    "    " + " " * 26 + "^")


def test_table_reference_missing_from_the_table():
    with pytest.raises(IRParseError, match="tensor @7 is not in the tensor table"):
        parse_graph(HEADER + "  %1 : Tensor = prim::Constant[value=@7]()\n  return (%1)\n",
                    tensor_table={"0": np.zeros(3)})


def test_parse_graph_wants_text():
    with pytest.raises(TypeError, match="expects IR text"):
        parse_graph(b"graph():\n  return ()\n")


def test_elided_tensors_name_the_fix():
    g = Graph()
    g.insert_constant(np.zeros((100, 100), np.float32))
    with pytest.raises(IRParseError, match="tensor_table=table"):
        parse_graph(print_graph(g))
