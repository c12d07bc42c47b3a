"""The IR text format: hand-built graphs print exactly as TorchScript prints them.

The builders of the TorchScript tutorial's graphs live here; the parser and
``.code`` tests import them.
"""

import numpy as np
import pytest

from jitcore.ir import (
    BoolType, ClassType, FloatType, Graph, IntType, ListType, NoneType, SourceRange, StrType,
    TensorType, TupleType,
)
from jitcore.ir.printer import INLINE_TENSOR_LIMIT, print_graph, quote_string

IPY = "<ipython-input-4-33c58bd45e7c>"
FLOAT_2D = TensorType("float32", (None, None))


def add(g, kind, inputs=(), *, types=(TensorType(),), numbers=None, attrs=None, at=None):
    """Insert a node whose outputs get the given types and unique numbers."""
    node = g.insert(kind, list(inputs), attrs, num_outputs=len(types), output_types=list(types),
                    source_range=at)
    for value, number in zip(node.outputs, numbers or ()):
        g._claim_unique(value, number)
    return node


def const(g, value, number, at=None, type=None):
    out = g.insert_constant(value, type, source_range=at)
    g._claim_unique(out, number)
    return out


# ------------------------------------------------------------ the tutorial's graphs

TUTORIAL_ADD = """\
graph(%a : Long(),
      %b : Long()):
  %2 : int = prim::Constant[value=1]()
  %3 : Long() = aten::add(%a, %b, %2)
  return (%3)
"""


def tutorial_add():
    g = Graph()
    a = g.add_input("a", TensorType("int64", ()))
    b = g.add_input("b", TensorType("int64", ()))
    one = const(g, 1, 2)
    g.register_output(add(g, "aten::add", [a, b, one], types=[TensorType("int64", ())],
                          numbers=[3]).output())
    return g


# TorchScript prints strides (``Float(1:4, 4:1)``); jitcore types carry none.
TUTORIAL_TRACED_NN = """\
graph(%self.1 : __torch__.NN,
      %input : Float(1, 4)):
  %14 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="layer1"](%self.1)
  %16 : Tensor = prim::CallMethod[name="forward"](%14, %input)
  return (%16)
"""


def tutorial_traced_nn():
    g = Graph()
    self_ = g.add_input("self.1", ClassType("__torch__.NN"))
    x = g.add_input("input", TensorType("float32", (1, 4)))
    linear = ClassType("__torch__.torch.nn.modules.linear.Linear")
    layer = add(g, "prim::GetAttr", [self_], types=[linear], numbers=[14],
                attrs={"name": "layer1"}).output()
    out = add(g, "prim::CallMethod", [layer, x], numbers=[16], attrs={"name": "forward"})
    g.register_output(out.output())
    return g


TUTORIAL_TRACED_FUN = """\
graph(%x : Float(*, *)):
  %4 : int = prim::Constant[value=3]()
  %1 : int = prim::Constant[value=1]() # <ipython-input-4-33c58bd45e7c>:3:0
  %5 : Float(*, *) = aten::add(%x, %4, %1)
  return (%5)
"""


def tutorial_traced_fun():
    g = Graph()
    x = g.add_input("x", FLOAT_2D)
    three = const(g, 3, 4)
    one = const(g, 1, 1, SourceRange(IPY, 3, 0))
    g.register_output(add(g, "aten::add", [x, three, one], types=[FLOAT_2D], numbers=[5]).output())
    return g


TUTORIAL_SCRIPTED_FUN = """\
graph(%x.1 : Tensor):
  %2 : int = prim::Constant[value=0]() # <ipython-input-4-33c58bd45e7c>:2:14
  %4 : int = prim::Constant[value=1]() # <ipython-input-4-33c58bd45e7c>:2:20
  %7 : int = prim::Constant[value=3]() # <ipython-input-4-33c58bd45e7c>:3:17
  %11 : int = prim::Constant[value=20]() # <ipython-input-4-33c58bd45e7c>:5:19
  %3 : int = aten::size(%x.1, %2) # <ipython-input-4-33c58bd45e7c>:2:7
  %5 : bool = aten::eq(%3, %4) # <ipython-input-4-33c58bd45e7c>:2:7
  %22 : Tensor = prim::If(%5) # <ipython-input-4-33c58bd45e7c>:2:4
    block0():
      %9 : Tensor = aten::add(%x.1, %7, %4) # <ipython-input-4-33c58bd45e7c>:3:15
      -> (%9)
    block1():
      %13 : Tensor = aten::add(%x.1, %11, %4) # <ipython-input-4-33c58bd45e7c>:5:15
      -> (%13)
  return (%22)
"""


def tutorial_scripted_fun():
    def at(line, col):
        return SourceRange(IPY, line, col)

    g = Graph()
    x = g.add_input("x.1")
    zero, one = const(g, 0, 2, at(2, 14)), const(g, 1, 4, at(2, 20))
    three, twenty = const(g, 3, 7, at(3, 17)), const(g, 20, 11, at(5, 19))
    size = add(g, "aten::size", [x, zero], types=[IntType.get()], numbers=[3], at=at(2, 7))
    cond = add(g, "aten::eq", [size.output(), one], types=[BoolType.get()], numbers=[5],
               at=at(2, 7))
    branch = add(g, "prim::If", [cond.output()], numbers=[22], at=at(2, 4))
    for number, constant, line in ((9, three, 3), (13, twenty, 5)):
        block = branch.add_block()
        with g.inserting_at_end(block):
            result = add(g, "aten::add", [x, constant, one], numbers=[number], at=at(line, 15))
        block.register_output(result.output())
    g.register_output(branch.output())
    return g


TUTORIAL_SCRIPTED_NETWORK = """\
graph(%self : __torch__.Network,
      %x.1 : Float(*, *)):
  %4 : __torch__.torch.nn.modules.linear.___torch_mangle_7.Linear = prim::GetAttr[name="layer1"](%self)
  %5 : Float(*, *) = prim::GetAttr[name="weight"](%4)
  %6 : Float(*) = prim::GetAttr[name="bias"](%4)
  %10 : Float(*, *) = aten::t(%5) # /home/prakash/anaconda3/envs/pl/lib/python3.7/site-packages/torch/nn/functional.py:1674:39
  %17 : int = prim::Constant[value=1]()
  %18 : Float(*, *) = aten::mm(%x.1, %10) # <string>:3:24
  %19 : Float(*, *) = aten::add(%6, %18, %17) # <string>:3:17
  return (%19)
"""


def tutorial_scripted_network():
    functional = ("/home/prakash/anaconda3/envs/pl/lib/python3.7/site-packages/"
                  "torch/nn/functional.py")
    g = Graph()
    self_ = g.add_input("self", ClassType("__torch__.Network"))
    x = g.add_input("x.1", FLOAT_2D)
    linear = ClassType("__torch__.torch.nn.modules.linear.___torch_mangle_7.Linear")
    layer = add(g, "prim::GetAttr", [self_], types=[linear], numbers=[4],
                attrs={"name": "layer1"}).output()
    weight = add(g, "prim::GetAttr", [layer], types=[FLOAT_2D], numbers=[5],
                 attrs={"name": "weight"}).output()
    bias = add(g, "prim::GetAttr", [layer], types=[TensorType("float32", (None,))], numbers=[6],
               attrs={"name": "bias"}).output()
    wt = add(g, "aten::t", [weight], types=[FLOAT_2D], numbers=[10],
             at=SourceRange(functional, 1674, 39)).output()
    one = const(g, 1, 17)
    mm = add(g, "aten::mm", [x, wt], types=[FLOAT_2D], numbers=[18],
             at=SourceRange("<string>", 3, 24)).output()
    out = add(g, "aten::add", [bias, mm, one], types=[FLOAT_2D], numbers=[19],
              at=SourceRange("<string>", 3, 17))
    g.register_output(out.output())
    return g


TUTORIAL_GRAPHS = [
    (tutorial_add, TUTORIAL_ADD),
    (tutorial_traced_nn, TUTORIAL_TRACED_NN),
    (tutorial_traced_fun, TUTORIAL_TRACED_FUN),
    (tutorial_scripted_fun, TUTORIAL_SCRIPTED_FUN),
    (tutorial_scripted_network, TUTORIAL_SCRIPTED_NETWORK),
]


@pytest.mark.parametrize("build, expected", TUTORIAL_GRAPHS,
                         ids=[b.__name__ for b, _ in TUTORIAL_GRAPHS])
def test_tutorial_graphs_print_like_torchscript(build, expected):
    assert str(build()) == expected
    assert print_graph(build()) == expected


def test_source_ranges_can_be_left_out():
    text = print_graph(tutorial_scripted_fun(), source_ranges=False)
    assert "#" not in text
    assert "  %22 : Tensor = prim::If(%5)\n" in text


# ------------------------------------------------------------ structure

def counting_loop():
    """``for i in range(n): acc = acc + i`` with a block input per carried value."""
    g = Graph()
    n = g.add_input("n", IntType.get())
    acc0 = g.add_input("acc", IntType.get())
    true = g.insert_constant(True)
    loop = g.insert("prim::Loop", [n, true, acc0], output_types=[IntType.get()])
    loop.output().set_debug_name("acc.3")
    body = loop.add_block()
    i = body.add_input("i.1", IntType.get())
    acc = body.add_input("acc.1", IntType.get())
    with g.inserting_at_end(body):
        nxt = g.insert("aten::add", [acc, i], output_types=[IntType.get()]).output()
        nxt.set_debug_name("acc.2")
    body.register_output(true)
    body.register_output(nxt)
    g.register_output(loop.output())
    return g


def test_loop_prints_block_inputs_and_outputs():
    assert str(counting_loop()) == """\
graph(%n : int,
      %acc : int):
  %2 : bool = prim::Constant[value=True]()
  %acc.3 : int = prim::Loop(%n, %2, %acc)
    block0(%i.1 : int, %acc.1 : int):
      %acc.2 : int = aten::add(%acc.1, %i.1)
      -> (%2, %acc.2)
  return (%acc.3)
"""


def test_multiple_outputs_and_no_outputs():
    g = Graph()
    t = g.add_input("t", TupleType([TensorType(), IntType.get()]))
    msg = g.add_input("s", StrType.get())
    unpack = g.insert("prim::TupleUnpack", [t], num_outputs=2,
                      output_types=[TensorType(), IntType.get()])
    unpack.outputs[0].set_debug_name("a")
    unpack.outputs[1].set_debug_name("b")
    g.insert("prim::RaiseException", [msg], num_outputs=0)
    g.register_output(unpack.outputs[0])
    assert str(g) == """\
graph(%t : (Tensor, int),
      %s : str):
  %a : Tensor, %b : int = prim::TupleUnpack(%t)
   = prim::RaiseException(%s)
  return (%a)
"""


def test_graph_without_inputs_or_outputs():
    g = Graph()
    g.insert("prim::Print", [g.insert_constant("hi")], num_outputs=0)
    assert str(g) == 'graph():\n  %0 : str = prim::Constant[value="hi"]()\n   = prim::Print(%0)\n  return ()\n'


def test_types_print_in_torchscript_spelling():
    g = Graph()
    types = [TensorType("float64", (2, None)), TensorType("bool", ()), TensorType("int32"),
             ListType(IntType.get()), TupleType([FloatType.get(), NoneType.get()]),
             ListType(TensorType())]
    for i, t in enumerate(types):
        g.add_input(f"v{i}", t)
    header = str(g).split("\n  return")[0]
    assert header == ("graph(%v0 : Double(2, *),\n      %v1 : Bool(),\n      %v2 : Int,\n"
                      "      %v3 : int[],\n      %v4 : (float, NoneType),\n      %v5 : Tensor[]):")


# ------------------------------------------------------------ attributes

def constant_line(value, **kwargs):
    g = Graph()
    g.insert("prim::Constant", attrs={"value": value})
    return print_graph(g, **kwargs).splitlines()[1].split(" = ", 1)[1]


@pytest.mark.parametrize("value, text", [
    (1, "prim::Constant[value=1]()"),
    (-7, "prim::Constant[value=-7]()"),
    (0.5, "prim::Constant[value=0.5]()"),
    (1e-05, "prim::Constant[value=1e-05]()"),
    (float("-inf"), "prim::Constant[value=-inf]()"),
    (0.1 + 0.2, "prim::Constant[value=0.30000000000000004]()"),
    (True, "prim::Constant[value=True]()"),
    ("layer1", 'prim::Constant[value="layer1"]()'),
    ([1, 2], "prim::Constant[value=[1, 2]]()"),
    ([0.5, 2.0], "prim::Constant[value=[0.5, 2.0]]()"),
    ([True, False], "prim::Constant[value=[True, False]]()"),
    (["a", "b"], 'prim::Constant[value=["a", "b"]]()'),
    ([], "prim::Constant[value=[]]()"),
])
def test_scalar_and_list_attributes(value, text):
    assert constant_line(value) == text


def test_none_constant_has_no_attributes():
    g = Graph()
    g.insert_constant(None)
    assert str(g).splitlines()[1] == "  %0 : NoneType = prim::Constant()"


def test_strings_are_quoted_with_escapes():
    assert quote_string('say "hi"\\\n\t\x01é') == '"say \\"hi\\"\\\\\\n\\t\\x01é"'
    assert constant_line('a"b') == 'prim::Constant[value="a\\"b"]()'


def test_small_tensors_print_inline_in_their_own_precision():
    a = np.array([[0.1, 1e-05], [-0.0, np.inf]], dtype=np.float32)
    assert constant_line(a) == "prim::Constant[value=Tensor(float32, [2, 2], [0.1, 1e-05, -0.0, inf])]()"
    assert constant_line(np.array(3, dtype=np.int64)) == "prim::Constant[value=Tensor(int64, [], [3])]()"
    assert constant_line(np.array([True])) == "prim::Constant[value=Tensor(bool, [1], [True])]()"
    assert constant_line(np.zeros((0, 3), np.float64)) == \
        "prim::Constant[value=Tensor(float64, [0, 3], [])]()"


def test_large_tensors_print_elided_without_a_table():
    big = np.zeros((512, 784), dtype=np.float32)
    assert constant_line(big) == "prim::Constant[value=<Tensor float32 (512, 784)>]()"
    edge = np.arange(INLINE_TENSOR_LIMIT + 1, dtype=np.int32)
    assert constant_line(edge) == f"prim::Constant[value=<Tensor int32 ({INLINE_TENSOR_LIMIT + 1},)>]()"


def test_large_tensors_go_to_the_tensor_table_once():
    big = np.ones((8, 8), dtype=np.float64)
    other = np.zeros(20, dtype=np.float32)
    table = {"0": np.zeros(1)}            # a name already taken is skipped
    g = Graph()
    g.insert("prim::Constant", attrs={"value": big})
    g.insert("prim::Constant", attrs={"value": big})
    g.insert("jc::Stack", attrs={"weights": [other, big]})
    lines = print_graph(g, tensor_table=table).splitlines()
    assert lines[1].endswith("prim::Constant[value=@1]()")
    assert lines[2].endswith("prim::Constant[value=@1]()")
    assert lines[3].endswith("jc::Stack[weights=[@2, @1]]()")
    assert table["1"] is big and table["2"] is other and len(table) == 3


def fused_graph():
    """A graph with a fusion group whose subgraph has a group of its own."""
    inner = Graph()
    a = inner.add_input(None, FLOAT_2D)
    inner.register_output(inner.insert("aten::relu", [a], output_types=[FLOAT_2D]).output())

    sub = Graph()
    p, q = sub.add_input(None, FLOAT_2D), sub.add_input(None, FLOAT_2D)
    s = sub.insert("aten::mul", [p, q], output_types=[FLOAT_2D]).output()
    r = sub.insert("jc::FusedElementwise", [s], attrs={"Subgraph": inner},
                   output_types=[FLOAT_2D]).output()
    sub.register_output(r)

    g = Graph()
    x = g.add_input("x", FLOAT_2D)
    cond = g.add_input("c", BoolType.get())
    branch = g.insert("prim::If", [cond], output_types=[FLOAT_2D])
    then_block, else_block = branch.add_block(), branch.add_block()
    with g.inserting_at_end(then_block):
        fused = g.insert("jc::FusedElementwise", [x, x], attrs={"Subgraph": sub, "tile": 64},
                         output_types=[FLOAT_2D], source_range=SourceRange("m.py", 4, 8))
    then_block.register_output(fused.output())
    else_block.register_output(x)
    g.insert("prim::Custom", [x], attrs={"body": inner.copy()}, num_outputs=0)
    g.register_output(branch.output())
    return g


def test_fusion_groups_print_after_the_graph_like_torchscript():
    assert str(fused_graph()) == """\
graph(%x : Float(*, *),
      %c : bool):
  %2 : Float(*, *) = prim::If(%c)
    block0():
      %3 : Float(*, *) = jc::FusedElementwise_0[tile=64](%x, %x) # m.py:4:8
      -> (%3)
    block1():
      -> (%x)
   = prim::Custom[body=prim::Custom_1](%x)
  return (%2)
with jc::FusedElementwise_0 = graph(%0 : Float(*, *),
      %1 : Float(*, *)):
  %2 : Float(*, *) = aten::mul(%0, %1)
  %3 : Float(*, *) = jc::FusedElementwise_0(%2)
  return (%3)
with jc::FusedElementwise_0 = graph(%0 : Float(*, *)):
  %1 : Float(*, *) = aten::relu(%0)
  return (%1)
with prim::Custom_1 = graph(%0 : Float(*, *)):
  %1 : Float(*, *) = aten::relu(%0)
  return (%1)
"""
