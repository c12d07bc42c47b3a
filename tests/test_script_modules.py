"""Graph structure of scripted code (the TorchScript tutorial's examples) and scripted modules."""

from typing import Final

import numpy as np
import pytest

import jitcore.nn as nn
from jitcore.errors import CompileError
from jitcore.frontend.script import export, ignore, script, unused
from jitcore.reference_interpreter import MAX_TRIP_COUNT

RNG = np.random.default_rng(1)


def fun(x):
    if x.shape[0] == 1:
        return x + 3
    else:
        return x + 20


def test_tutorial_branch_graph_has_torchscript_shape():
    graph = script(fun).graph
    graph.lint()
    (x,) = graph.inputs
    assert x.debug_name == "x.1" and str(x.type) == "Tensor"
    kinds = [n.kind for n in graph.nodes if n.kind != "prim::Constant"]
    assert kinds == ["aten::size", "aten::eq", "prim::If"]
    constants = [n.attr("value") for n in graph.nodes if n.kind == "prim::Constant"]
    assert constants == [0, 1, 3, 20]   # pooled and hoisted, as TorchScript prints them
    size, eq, branch = [n for n in graph.nodes if n.kind != "prim::Constant"]
    assert size.inputs[0] is x and eq.inputs[0] is size.output()
    assert branch.inputs[0] is eq.output() and len(branch.outputs) == 1
    assert graph.outputs[0] is branch.output()
    one = eq.inputs[1]
    for block, addend in zip(branch.blocks, (3, 20)):
        (add,) = block.nodes
        assert add.kind == "aten::add"
        assert add.inputs[0] is x and add.inputs[1].node.attr("value") == addend
        assert add.inputs[2] is one    # alpha shares the constant 1 with the comparison
        assert block.outputs == (add.output(),)


def test_tutorial_branch_text_and_results():
    scripted = script(fun)
    text = str(scripted.graph)
    assert "%x.1 : Tensor" in text and "prim::If" in text
    assert "block0():" in text and "block1():" in text
    assert "aten::add(%x.1" in text
    assert "def fun(x: Tensor) -> Tensor:" in scripted.code
    np.testing.assert_array_equal(scripted(np.ones((1, 4), np.float32)), np.full((1, 4), 4.0))
    np.testing.assert_array_equal(scripted(np.ones((2, 4), np.float32)), np.full((2, 4), 21.0))


def test_decorator_form():
    @script
    def double(x):
        return x * 2
    np.testing.assert_array_equal(double(np.ones(2)), np.full(2, 2.0))


def test_while_loop_uses_torchscript_max_trip_count():
    def halve(n: int) -> int:
        while n > 1:
            n = n // 2
        return n
    graph = script(halve).graph
    (loop,) = [n for n in graph.walk() if n.kind == "prim::Loop"]
    assert loop.inputs[0].node.attr("value") == MAX_TRIP_COUNT
    body = loop.blocks[0]
    assert len(body.inputs) == 2 and len(body.outputs) == 2   # (i, n) -> (cond, n)


def test_raise_is_prim_raise_exception():
    def check(n: int) -> int:
        if n < 0:
            raise ValueError("negative")
        return n
    scripted = script(check)
    (node,) = [n for n in scripted.graph.walk() if n.kind == "prim::RaiseException"]
    assert node.attr("exception") == "ValueError"
    with pytest.raises(ValueError, match="negative"):
        scripted(-1)
    assert scripted(2) == 2


def _helper(x):
    return x * 2


def test_called_function_is_call_function_and_inlined():
    def outer(x):
        return _helper(x) + 1
    scripted = script(outer)
    assert [n.attr("name") for n in scripted.graph.walk()
            if n.kind == "prim::CallFunction"] == ["_helper"]
    inlined = scripted.inlined_graph
    inlined.lint()
    assert not [n for n in inlined.walk() if n.kind == "prim::CallFunction"]
    assert "aten::mul" in [n.kind for n in inlined.walk()]


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(in_features=4, out_features=2)

    def forward(self, x):
        x = self.layer1(x)
        return x


def test_linear_network_graph_is_getattr_and_callmethod():
    net = Network()
    scripted = script(net)
    graph = scripted.graph
    graph.lint()
    self_value, x = graph.inputs
    assert str(self_value.type).endswith("Network") and x.debug_name == "x.1"
    get, call = graph.nodes
    assert get.kind == "prim::GetAttr" and get.attr("name") == "layer1"
    assert str(get.output().type).endswith("Linear")
    assert call.kind == "prim::CallMethod" and call.attr("name") == "forward"
    assert call.inputs == (get.output(), x)
    inputs = RNG.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(scripted(inputs), net(inputs), rtol=1e-6)
    linear_graph = scripted.layer1._jit_method_graph("forward")
    assert "aten::linear" in [n.kind for n in linear_graph.walk()]


class Deep(nn.Module):
    scale: Final[float]
    __constants__ = ["mode"]

    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.heads = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
        self.named = nn.ModuleDict({"a": nn.Linear(3, 3)})
        self.scale = 0.5
        self.mode = "sum"
        self.steps = 2
        self.register_buffer("offset", np.full(3, 0.25, np.float32))
        self.maybe = None

    def forward(self, x):
        y = self.seq(x)
        for h in self.heads:
            y = h(y) * self.scale
        y = self.named["a"](y)
        for i in range(self.steps):
            y = y + i
        if self.maybe is not None:
            y = y * 100
        if self.mode == "sum":
            y = y + self.offset
        if self.training:
            y = y * 2
        return self.shift(y)

    @export
    def shift(self, y):
        return y - 1

    @unused
    def never(self, y):
        return y.frobnicate()

    @ignore
    def python_only(self, y):
        return y.frobnicate()


def test_module_tree_constants_containers_and_decorators():
    model = Deep()
    scripted = script(model)
    scripted.graph.lint()
    assert sorted(scripted.methods) == ["forward", "shift"]
    kinds = [n.kind for n in scripted.graph.walk()]
    assert kinds.count("prim::CallMethod") == 5   # seq, two heads, named["a"], shift
    constants = [n.attr("value") for n in scripted.graph.walk()
                 if n.kind == "prim::Constant" and n.has_attr("value")]
    assert 0.5 in constants                       # Final attribute
    getattr_names = [n.attr("name") for n in scripted.graph.walk() if n.kind == "prim::GetAttr"]
    assert "steps" in getattr_names and "training" in getattr_names and "offset" in getattr_names
    assert "mode" not in getattr_names            # __constants__: folded, branch compiled statically
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    for training in (True, False):
        model.train(training)
        scripted = script(model)
        np.testing.assert_allclose(scripted(x), model(x), rtol=1e-5, atol=1e-6)
    inlined = scripted.inlined_graph
    inlined.lint()
    assert "prim::CallMethod" not in [n.kind for n in inlined.walk()]


def test_unused_method_compiles_to_a_raise():
    class WithUnused(nn.Module):
        def forward(self, x):
            return self.never(x)

        @unused
        def never(self, x):
            return x.frobnicate()
    scripted = script(WithUnused())
    raises = [n for n in scripted._jit_method_graph("never").walk()
              if n.kind == "prim::RaiseException"]
    assert len(raises) == 1
    with pytest.raises(NotImplementedError, match="marked @jitcore.unused"):
        scripted(np.ones(2))


def test_traced_style_submodule_with_existing_graph_is_called_not_recompiled():
    inner = script(Network())

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) * 2
    outer = Outer()
    scripted = script(outer)
    x = RNG.standard_normal((1, 4)).astype(np.float32)
    np.testing.assert_allclose(scripted(x), outer(x), rtol=1e-6)


def test_getattr_with_a_constant_name_is_attribute_access():
    # how .code spells a Sequential's child: getattr(self, "0")
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

        def forward(self, x):
            return getattr(self.seq, "0")(x) + getattr(self, "seq")(x) + getattr(x, "T").T

    net = Net().eval()
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(script(net)(x), net(x), rtol=1e-6)


def test_type_of_self_names_the_class_in_a_message():
    class Checked(nn.Module):
        def forward(self, x):
            if x.ndim != 2:
                raise ValueError(f"{type(self).__name__} expected a 2-d input, got {x.ndim}-d")
            return x

    scripted = script(Checked())
    with pytest.raises(ValueError, match="^Checked expected a 2-d input, got 3-d"):
        scripted(np.ones((1, 2, 3)))


class _Stacked(nn.Module):
    """Weights handed on as a list attribute, as torch's ``RNNBase._flat_weights``."""

    def __init__(self, extra=None):
        super().__init__()
        self.w0 = nn.Parameter(RNG.standard_normal((3, 3)))
        self.w1 = nn.Parameter(RNG.standard_normal((3, 3)))
        self.register_buffer("shift", RNG.standard_normal(3))
        self.weights = [self.w0, self.w1, self.shift] + ([] if extra is None else [extra])

    def forward(self, x):
        for w in self.weights[:2]:
            x = x @ w
        return x + self.weights[2] * len(self.weights)


def test_list_attribute_of_parameters_reads_the_current_arrays(tmp_path):
    import jitcore
    model = _Stacked().eval()
    x = RNG.standard_normal((2, 3))
    scripted = script(model)
    reads = [n.attr("name") for n in scripted.graph.walk() if n.kind == "prim::GetAttr"]
    assert reads == ["w0", "w1", "shift"] * 3     # one list of reads per use
    np.testing.assert_allclose(scripted(x), model(x), rtol=1e-12)
    model.w1[...] = 2.0     # the scripted module reads the module's arrays, not copies
    np.testing.assert_allclose(scripted(x), model(x), rtol=1e-12)
    frozen = jitcore.freeze(scripted)
    jitcore.save(frozen, tmp_path / "frozen.jc")
    np.testing.assert_allclose(jitcore.load(tmp_path / "frozen.jc")(x), model(x), rtol=1e-12)


def test_list_attribute_of_foreign_arrays_is_a_compile_error():
    with pytest.raises(CompileError, match="item 3 of the list attribute 'weights' of module "
                                           "_Stacked is not one of its parameters or buffers"):
        script(_Stacked(extra=np.ones(3)))


class _WithProperties(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = 2.0
        self.lin = nn.Linear(3, 4)

    @property
    def doubled(self) -> float:
        return self.scale * 2

    @property
    def width(self) -> int:
        return self.lin.weight.shape[0]

    def forward(self, x):
        return self.lin(x) * self.doubled + self.width


def test_properties_compile_as_their_getters_as_in_torchscript(tmp_path):
    import jitcore
    model = _WithProperties().eval()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    scripted = script(model)
    assert 'prim::CallMethod[name="__doubled_getter"]' in str(scripted.graph)
    assert scripted.doubled == 4.0 and scripted.width == 4      # read as attributes
    np.testing.assert_allclose(scripted(x), model(x), rtol=1e-6)
    model.scale = 3.0                   # a property reads the current attribute
    np.testing.assert_allclose(script(model)(x), model(x), rtol=1e-6)
    path = tmp_path / "props.jc"
    jitcore.save(scripted, path)
    loaded = jitcore.load(path)
    assert loaded.doubled == scripted.doubled
    np.testing.assert_array_equal(loaded(x), scripted(x))
    np.testing.assert_allclose(jitcore.optimize_for_inference(scripted)(x), scripted(x),
                               rtol=1e-6)


class _WithStaticHelpers(nn.Module):
    expansion = 4
    label = "block"

    @staticmethod
    def scaled(x, k: int):
        return x * k

    @classmethod
    def make(cls):
        return cls()

    def forward(self, x):
        # through self and through the class, as TorchScript compiles them; a class-level
        # constant read through the class
        return self.scaled(x, _WithStaticHelpers.expansion) + _WithStaticHelpers.scaled(x, 1)


class _CallsAClassMethod(_WithStaticHelpers):
    def forward(self, x):
        return self.make()


def test_static_methods_compile_as_functions_and_class_constants_fold():
    model = _WithStaticHelpers()
    x = np.arange(3, dtype=np.float32)
    scripted = script(model)
    np.testing.assert_array_equal(scripted(x), model(x))
    assert str(scripted.graph).count("prim::CallFunction") == 2
    with pytest.raises(CompileError, match="class methods are not supported"):
        script(_CallsAClassMethod())


class _UnusedProperty(nn.Module):
    # TorchScript's opt-out: the property is not compiled, its value (the module's own
    # parameters) is read as any attribute's
    __jit_unused_properties__ = ["pair"]

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(np.full(3, 2.0, dtype=np.float32))
        self.b = nn.Parameter(np.full(3, 5.0, dtype=np.float32))

    @property
    def pair(self):
        return [getattr(self, name) for name in ("a", "b")]     # not compilable: getattr of a run-time name

    def forward(self, x):
        first, second = self.pair
        return x * first + second


def test_a_property_listed_as_unused_is_read_by_value():
    model = _UnusedProperty()
    x = np.arange(3, dtype=np.float32)
    scripted = script(model)
    assert "__pair_getter" not in str(scripted.graph)
    np.testing.assert_array_equal(scripted(x), model(x))
