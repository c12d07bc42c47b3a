"""``.code``: graphs print as readable Python that runs and keeps the graph's meaning.

Besides the exact text, each printed function is executed with a small ``ops``
namespace of NumPy/Python implementations and compared with the expected result,
so control flow, loop-carried values and evaluation order are checked, not only
the spelling.
"""

import typing
from types import SimpleNamespace

import numpy as np
import pytest

from jitcore.ir import (
    BoolType, ClassType, DictType, Graph, IntType, ListType, NoneType, OptionalType, StrType,
    TensorType, TupleType,
)
from jitcore.ir.python_printer import MAX_TRIP_COUNT, graph_to_code, python_type
from test_ir_printer import (
    counting_loop, tutorial_scripted_fun, tutorial_scripted_network, tutorial_traced_nn,
)


def make_ops(calls):
    """A tiny ``ops`` namespace; every call is recorded in ``calls`` in order."""
    def op(name, fn):
        def call(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)
        return call

    aten = SimpleNamespace(
        add=op("add", lambda a, b, alpha=1: a + alpha * b),
        mul=op("mul", lambda a, b: a * b),
        lt=op("lt", lambda a, b: a < b),
        eq=op("eq", lambda a, b: a == b),
        size=op("size", lambda x, d: x.shape[d]),
        t=op("t", lambda x: x.T),
        mm=op("mm", lambda a, b: a @ b),
        neg=op("neg", lambda a: -a),
        sub=op("sub", lambda a, b: a - b),
        clamp=op("clamp", lambda x, low=None, high=None: np.clip(x, low, high)),
    )
    return SimpleNamespace(aten=aten)


def run(code, name, *args, constants=()):
    calls = []
    env = {"ops": make_ops(calls), "Tensor": np.ndarray, "List": typing.List,
           "Optional": typing.Optional, "Tuple": typing.Tuple, "Dict": typing.Dict,
           "CONSTANTS": SimpleNamespace(**{f"c{i}": c for i, c in enumerate(constants)})}
    exec(compile(code, f"<code of {name}>", "exec"), env)
    return env[name](*args), calls


def test_tutorial_scripted_fun_prints_like_torchscript_code():
    code = graph_to_code(tutorial_scripted_fun(), "fun")
    assert code == """\
def fun(x: Tensor) -> Tensor:
  if ops.aten.eq(ops.aten.size(x, 0), 1):
    _0 = ops.aten.add(x, 3, 1)
  else:
    _0 = ops.aten.add(x, 20, 1)
  return _0
"""
    one_row = np.ones((1, 4))
    np.testing.assert_array_equal(run(code, "fun", one_row)[0], one_row + 3)
    np.testing.assert_array_equal(run(code, "fun", np.ones((2, 4)))[0], np.ones((2, 4)) + 20)


def test_traced_module_calls_its_submodule_through_self():
    assert graph_to_code(tutorial_traced_nn()) == """\
def forward(self, input: Tensor) -> Tensor:
  return (self.layer1).forward(input)
"""


def test_scripted_network_inlines_only_in_evaluation_order():
    code = graph_to_code(tutorial_scripted_network())
    assert code == """\
def forward(self, x: Tensor) -> Tensor:
  _0 = self.layer1
  _1 = _0.weight
  return ops.aten.add(_0.bias, ops.aten.mm(x, ops.aten.t(_1)), 1)
"""
    rng = np.random.default_rng(0)
    layer = SimpleNamespace(weight=rng.standard_normal((2, 4)), bias=rng.standard_normal(2))
    x = rng.standard_normal((3, 4))
    out, calls = run(code, "forward", SimpleNamespace(layer1=layer), x)
    np.testing.assert_allclose(out, layer.bias + x @ layer.weight.T)
    assert calls == ["t", "mm", "add"]


def test_self_type_makes_the_first_input_self():
    g = Graph()
    g.add_input("module", TensorType())
    g.register_output(g.add_input("y", IntType.get()))
    code = graph_to_code(g, "f", self_type=ClassType("__jitcore__.M"))
    assert code.splitlines() == ["def f(self, y: int) -> int:", "  return y"]


def test_for_loop_carries_values():
    code = graph_to_code(counting_loop())
    assert code == """\
def forward(n: int, acc: int) -> int:
  acc_1 = acc
  for i in range(n):
    acc_1 = ops.aten.add(acc_1, i)
  return acc_1
"""
    assert run(code, "forward", 5, 100)[0] == 100 + 0 + 1 + 2 + 3 + 4


def loop_graph(trip, cond_fn, carried, body_fn):
    """``prim::Loop`` with ``body_fn(g, i, *carried) -> (cond, *outs)``; returns the graph."""
    g = Graph()
    inputs = [g.add_input(name, IntType.get()) for name in ("n",) + carried]
    n, initial = inputs[0], inputs[1:]
    trip_value = n if trip is None else g.insert_constant(trip)
    loop = g.insert("prim::Loop", [trip_value, cond_fn(g, *initial)] + initial,
                    num_outputs=len(initial), output_types=[IntType.get()] * len(initial))
    body = loop.add_block()
    i = body.add_input("i", IntType.get())
    values = [body.add_input(name, IntType.get()) for name in carried]
    with g.inserting_at_end(body):
        outs = body_fn(g, i, *values)
    for v in outs:
        body.register_output(v)
    for v, name in zip(loop.outputs, carried):
        v.set_debug_name(name + ".9")
        g.register_output(v)
    return g


def int_op(g, kind, *inputs):
    out_type = BoolType.get() if kind == "aten::lt" else IntType.get()
    return g.insert(kind, list(inputs), output_types=[out_type]).output()


def test_while_loop_with_a_condition():
    def cond(g, x):
        return int_op(g, "aten::lt", x, g.insert_constant(100))

    def body(g, i, x):
        doubled = int_op(g, "aten::mul", x, g.insert_constant(2))
        return [int_op(g, "aten::lt", doubled, g.insert_constant(100)), doubled]

    code = graph_to_code(loop_graph(MAX_TRIP_COUNT, cond, ("x",), body))
    assert code == """\
def forward(n: int, x: int) -> int:
  _0 = ops.aten.lt(x, 100)
  x_1 = x
  while _0:
    _1 = ops.aten.mul(x_1, 2)
    x_1, _0 = _1, ops.aten.lt(_1, 100)
  return x_1
"""
    assert run(code, "forward", 0, 3)[0] == 192
    assert run(code, "forward", 0, 500)[0] == 500


def test_loop_with_trip_count_and_condition_counts_explicitly():
    def cond(g, x):
        return g.insert_constant(True)

    def body(g, i, x):
        total = int_op(g, "aten::add", x, i)
        return [int_op(g, "aten::lt", total, g.insert_constant(10)), total]

    code = graph_to_code(loop_graph(None, cond, ("x",), body))
    assert "  i = 0\n" in code and "while ops.aten.lt(i, n) and _0:" in code
    assert "    i = ops.aten.add(i, 1)\n" in code
    # stops when the sum reaches 10 (0+1+2+3+4) or after n iterations
    assert run(code, "forward", 100, 0)[0] == 10
    assert run(code, "forward", 3, 0)[0] == 3


def test_loop_carried_values_swap_with_one_tuple_assignment():
    def cond(g, a, b):
        return g.insert_constant(True)

    def body(g, i, a, b):
        return [g.insert_constant(True), b, a]

    code = graph_to_code(loop_graph(None, cond, ("a", "b"), body))
    assert "    a_1, b_1 = b_1, a_1\n" in code
    assert code.splitlines()[-1] == "  return (a_1, b_1)"
    assert run(code, "forward", 3, 1, 2)[0] == (2, 1)
    assert run(code, "forward", 4, 1, 2)[0] == (1, 2)


def test_statement_between_keeps_its_place():
    """``baz(bar(x), foo(x))`` would run bar before foo: foo stays a statement."""
    g = Graph()
    x = g.add_input("x", IntType.get())
    first = int_op(g, "aten::neg", x)
    second = int_op(g, "aten::mul", x, x)
    g.register_output(int_op(g, "aten::sub", second, first))
    code = graph_to_code(g)
    assert code == """\
def forward(x: int) -> int:
  _0 = ops.aten.neg(x)
  return ops.aten.sub(ops.aten.mul(x, x), _0)
"""
    result, calls = run(code, "forward", 3)
    assert result == 9 - (-3) and calls == ["neg", "mul", "sub"]


def test_structure_prims_and_literals():
    g = Graph()
    x = g.add_input("x.1", TensorType())
    flag = g.add_input("flag", BoolType.get())
    pair = g.insert("prim::TupleConstruct", [x, g.insert_constant(2)],
                    output_types=[TupleType([TensorType(), IntType.get()])]).output()
    unpack = g.insert("prim::TupleUnpack", [pair], num_outputs=2,
                      output_types=[TensorType(), IntType.get()])
    listed = g.insert("prim::ListConstruct", [unpack.outputs[1], g.insert_constant(-1)],
                      output_types=[ListType(IntType.get())]).output()
    guard = g.insert("prim::If", [flag], num_outputs=0)
    raising, _ = guard.add_block(), guard.add_block()
    with g.inserting_at_end(raising):
        g.insert("prim::RaiseException", [g.insert_constant('bad "x"')], num_outputs=0)
    weights = np.arange(3.0)
    clamped = g.insert("aten::clamp", [unpack.outputs[0], g.insert_constant(float("-inf")),
                                       g.insert_constant(weights)]).output()
    g.insert("prim::Print", [listed, g.insert_constant(None)], num_outputs=0)
    g.register_output(clamped)
    constants = []
    code = graph_to_code(g, constants=constants)
    assert code == """\
def forward(x: Tensor, flag: bool) -> Tensor:
  _0, _1 = (x, 2)
  _2 = [_1, -1]
  if flag:
    raise Exception("bad \\"x\\"")
  _3 = ops.aten.clamp(_0, float("-inf"), CONSTANTS.c0)
  print(_2, None)
  return _3
"""
    assert constants == [weights]
    out, _ = run(code, "forward", np.array([5.0, -1.0, 0.5]), False, constants=constants)
    np.testing.assert_array_equal(out, [0.0, -1.0, 0.5])
    with pytest.raises(Exception, match='bad "x"'):
        run(code, "forward", np.zeros(3), True, constants=constants)


def test_attributes_of_plain_ops_become_keywords_and_names_stay_unique():
    g = Graph()
    a = g.add_input("ops", TensorType())           # clashes with the ops namespace
    b = g.add_input("x.1", TensorType())
    c = g.add_input("x.2", TensorType())
    y = g.insert("jc::scale", [a, b, c], attrs={"factor": 0.5, "mode": "fast"}).output()
    g.register_output(y)
    assert graph_to_code(g) == """\
def forward(ops_1: Tensor, x: Tensor, x_1: Tensor) -> Tensor:
  return ops.jc.scale(ops_1, x, x_1, factor=0.5, mode="fast")
"""


@pytest.mark.parametrize("t, text", [
    (TensorType("float32", (1, 4)), "Tensor"), (IntType.get(), "int"),
    (ListType(IntType.get()), "List[int]"), (OptionalType(TensorType()), "Optional[Tensor]"),
    (TupleType([IntType.get(), StrType.get()]), "Tuple[int, str]"),
    (DictType(StrType.get(), TensorType()), "Dict[str, Tensor]"),
    (NoneType.get(), "None"), (ClassType("__jitcore__.Net"), "__jitcore__.Net"),
])
def test_python_type_annotations(t, text):
    assert python_type(t) == text


def test_empty_function_and_empty_branches_print_pass():
    g = Graph()
    flag = g.add_input("flag", BoolType.get())
    branch = g.insert("prim::If", [flag], num_outputs=0)
    branch.add_block(), branch.add_block()
    assert graph_to_code(g) == "def forward(flag: bool) -> None:\n  if flag:\n    pass\n"
    assert graph_to_code(Graph(), "f") == "def f() -> None:\n  pass\n"


def test_a_sequential_child_prints_as_getattr_and_the_code_runs():
    # ``self.0`` is no Python: TorchScript prints getattr(self, "0")
    import jitcore
    from jitcore import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU())

        def forward(self, x):
            return self.seq(x)

    scripted = jitcore.script(Net().eval())
    code = scripted.seq.code
    assert 'getattr(self, "0")' in code and 'getattr(self, "1")' in code
    first = SimpleNamespace(forward=lambda x: x * 2.0)
    second = SimpleNamespace(forward=lambda x: x + 1.0)
    children = SimpleNamespace(**{"0": first, "1": second})
    got, _ = run(code, "forward", children, np.ones(3))
    np.testing.assert_array_equal(got, np.full(3, 3.0))


def test_an_empty_constant_list_of_non_arrays_prints_its_type():
    # a frozen `List[int]` attribute that is empty: `[]` would script back as a list of arrays
    graph = Graph()
    graph.register_output(graph.insert_constant([], ListType(IntType.get())))
    assert "annotate(List[int], [])" in graph_to_code(graph, "f")
