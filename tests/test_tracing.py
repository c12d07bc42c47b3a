"""jitcore.trace / trace_module: graph structure, tracer values, warnings, checks, errors."""

import warnings

import numpy as np
import pytest

from jitcore import nn
from jitcore.errors import JitcoreError, TracerWarning, TracingCheckError
from jitcore.frontend import trace, trace_module
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.testing import assert_roundtrip

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


class NN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(in_features=4, out_features=2)

    def forward(self, x):
        x = self.layer1(x)
        return x


def fun(x):
    if x.shape[0] == 1:
        return x + 3
    else:
        return x + 20


def kinds(graph):
    return [n.kind for n in graph.nodes]


def test_tutorial_linear_net_keeps_module_tree():
    net = NN()
    x = randn(1, 4)
    traced = trace(net, x)
    assert isinstance(traced, ScriptModule)
    text = str(traced.graph)
    assert text.splitlines()[0] == "graph(%self : __jitcore__.test_tracing.NN,"
    assert "%x : Float(1, 4)" in text
    assert kinds(traced.graph) == ["prim::GetAttr", "prim::CallMethod"]
    assert traced.graph.nodes[0].attr("name") == "layer1"
    assert traced.graph.nodes[1].attr("name") == "forward"
    assert kinds(traced.layer1.graph) == ["prim::GetAttr", "prim::GetAttr", "aten::linear"]
    np.testing.assert_allclose(traced(x), net(x), rtol=1e-6)
    assert "aten::linear" in kinds(traced.inlined_graph)
    traced.graph.lint()
    traced.inlined_graph.lint()
    assert_roundtrip(traced.graph)
    assert_roundtrip(traced.inlined_graph)


def test_tutorial_branch_is_frozen_with_one_add_and_a_warning_at_the_if():
    x = randn(1, 4)
    with pytest.warns(TracerWarning) as record:
        traced = trace(fun, x, check_trace=False)
    assert record[0].filename == __file__
    assert record[0].lineno == fun.__code__.co_firstlineno + 1
    graph = traced.graph_for(x)
    assert [n.kind for n in graph.nodes if n.kind != "prim::Constant"] == ["aten::add"]
    constants = [n.attr("value") for n in graph.nodes if n.kind == "prim::Constant"]
    assert 3 in constants and 20 not in constants
    with pytest.warns(TracerWarning):
        other = trace(fun, randn(2, 4), check_trace=False)
    np.testing.assert_array_equal(other(np.ones((1, 4), np.float32)), np.full((1, 4), 21.0))


def test_check_trace_catches_input_dependent_and_random_functions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        with pytest.raises(TracingCheckError, match="first diverging node"):
            trace(fun, randn(1, 4), check_inputs=[(randn(2, 4),)])

        def noisy(x):
            return x + RNG.standard_normal(4).astype(np.float32)

        with pytest.raises(TracingCheckError, match="Constant"):
            trace(noisy, randn(2, 4))


def test_shape_arithmetic_stays_dynamic():
    def flatten_rows(x):
        return x.reshape(x.shape[0], -1) * 2

    traced = trace(flatten_rows, randn(2, 3, 4))
    assert "aten::size" in kinds(traced.graph)
    np.testing.assert_allclose(traced(np.ones((5, 3, 4), np.float32)), np.full((5, 12), 2.0))


def test_numpy_functions_methods_and_indexing_are_recorded():
    def f(x, w):
        y = np.tanh(x @ w.T) + np.sum(x, axis=1, keepdims=True)
        z = y[:, 1:][None].transpose(1, 0, 2).astype(np.float64)
        return np.maximum(z, 0).mean(axis=-1), x.T.max()

    x, w = randn(3, 4), randn(5, 4)
    traced = trace(f, (x, w))
    assert isinstance(traced, ScriptFunction)
    recorded = set(kinds(traced.graph))
    for kind in ("aten::matmul", "aten::tanh", "aten::sum", "aten::slice", "aten::unsqueeze",
                 "aten::permute", "aten::to", "aten::maximum", "aten::mean", "aten::amax"):
        assert kind in recorded, kind
    for got, expected in zip(traced(x, w), f(x, w)):
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_reversing_slices_are_recorded_as_flips():
    def f(x):
        return x[::-1] * 2, x[:, ::-2], x[..., ::-1][0]

    x = randn(3, 5)
    traced = trace(f, (x,))
    assert "aten::flip" in set(kinds(traced.graph))
    for shape in ((3, 5), (4, 2), (1, 1)):
        arg = randn(*shape)
        for got, expected in zip(traced(arg), f(arg)):
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(TypeError, match=r"negative slice step only over a whole axis"):
        trace(lambda x: x[3:0:-1], (x,))


def test_captured_global_array_warns_and_becomes_constant():
    table = np.arange(4, dtype=np.float32)

    def add_table(x):
        return x + table

    with pytest.warns(TracerWarning, match="captured as a constant"):
        traced = trace(add_table, randn(2, 4))
    assert any(n.kind == "prim::Constant" and isinstance(n.attributes.get("value"), np.ndarray)
               for n in traced.graph.nodes)


@pytest.mark.parametrize("model, shape", [
    (lambda: nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4), nn.LogSoftmax(-1)), (3, 8)),
    (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                           nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                           nn.Linear(4, 2)).eval(), (2, 3, 8, 8)),
    (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval(), (2, 5, 8)),
])
def test_traced_models_match_eager_on_new_shapes(model, shape):
    nn.init.manual_seed(0)
    m = model()
    traced = trace(m, randn(*shape))
    bigger = randn(shape[0] + 2, *shape[1:])
    np.testing.assert_allclose(traced(bigger), m(bigger), rtol=1e-4, atol=1e-5)
    for _, sub in traced.named_modules():
        for graph in map(sub._jit_method_graph, sub.methods):
            graph.lint()
            assert_roundtrip(graph)


def test_each_called_submodule_gets_its_own_graph():
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    traced = trace(m, randn(1, 2))
    assert [n.attr("name") for n in traced.graph.nodes if n.kind == "prim::GetAttr"] == ["0", "1"]
    assert kinds(traced.get_submodule("1").graph) == ["aten::relu"]
    assert traced.get_submodule("1").methods == ["forward"]


def test_errors_for_unsupported_inputs_outputs_and_modules():
    with pytest.raises(TypeError, match="example input 0"):
        trace(lambda x: x, (3.0,))
    with pytest.raises(TypeError, match="strict=False"):
        trace(lambda x: [x, x], randn(2))
    out = trace(lambda x: [x, x + 1], randn(2), strict=False)(np.zeros(2, np.float32))
    assert isinstance(out, list) and len(out) == 2

    hidden = [nn.Linear(2, 2)]

    class Hidden(nn.Module):
        def forward(self, x):
            return hidden[0](x)

    with pytest.raises(JitcoreError, match="not a registered submodule"):
        trace(Hidden(), randn(1, 2))

    def nested(x):
        trace(lambda y: y, x)
        return x

    with pytest.raises(JitcoreError, match="nested tracing"):
        trace(nested, randn(2))


def test_trace_module_several_methods():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x)

        def twice(self, x):
            return self.lin(x) * 2

    m = Two()
    x = randn(2, 3)
    traced = trace_module(m, {"forward": x, "twice": x})
    np.testing.assert_allclose(traced.twice(x), m.twice(x), rtol=1e-6)
    assert traced.methods == ["forward", "twice"]


def test_a_class_from_an_unnamed_module_gets_a_valid_ir_name(tmp_path):
    import jitcore
    namespace = {"nn": nn}
    # classes defined by exec()/runpy live in modules such as "<string>"
    exec("class Net(nn.Module):\n"
         "    def __init__(self):\n"
         "        super().__init__()\n"
         "        self.fc = nn.Linear(3, 2)\n"
         "    def forward(self, x):\n"
         "        return self.fc(x)\n", namespace)
    cls = namespace["Net"]
    cls.__module__ = "<string>"
    x = np.ones((1, 3), np.float32)
    traced = trace(cls().eval(), (x,))
    assert "__jitcore__._string_.Net" in str(traced.graph)
    jitcore.save(traced, tmp_path / "net.jc")
    np.testing.assert_array_equal(jitcore.load(tmp_path / "net.jc")(x), traced(x))


class _WrapsCompiled(nn.Module):
    def __init__(self, compiled):
        super().__init__()
        self.inner = compiled
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(np.tanh(self.inner(x)))


def test_a_traced_module_can_be_a_submodule_of_a_traced_or_scripted_one():
    import jitcore
    x = np.random.default_rng(3).standard_normal((1, 4)).astype(np.float32)
    inner = trace(nn.Sequential(nn.Linear(4, 4), nn.ReLU()).eval(), (x,))
    eager = _WrapsCompiled(inner).eval()
    traced = trace(eager, (x,))
    assert 'prim::GetAttr[name="inner"](%self)' in str(traced.graph)
    assert str(traced.inner.graph) == str(inner.graph)
    scripted = jitcore.script(eager)
    bigger = np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32)
    for compiled in (traced, scripted):
        for arg in (x, bigger):
            np.testing.assert_allclose(compiled(arg), eager(arg), rtol=1e-5, atol=1e-6)
        assert_roundtrip(compiled.graph)


def _clipped_sum(x, limit: float = 1.0):
    total = np.zeros_like(x)
    for i in range(x.shape[0]):
        if float(np.abs(x[i]).max()) > limit:
            total = total + np.clip(x[i], -limit, limit)
        else:
            total = total + x[i]
    return total


def test_a_scripted_function_called_in_a_trace_keeps_its_control_flow():
    import jitcore
    scripted = jitcore.script(_clipped_sum)

    def caller(x):
        return np.tanh(scripted(x * 2.0))        # the default ``limit`` filled in

    rng = np.random.default_rng(5)
    example = rng.standard_normal((3, 4)).astype(np.float32)
    traced = trace(caller, (example,))
    kinds = [node.kind for node in traced.graph.walk()]
    assert "prim::Loop" in kinds and "prim::If" in kinds
    traced.graph.lint()
    assert_roundtrip(traced.graph)
    for rows in (1, 3, 6):      # the loop's trip count follows the input, as scripted code does
        x = rng.standard_normal((rows, 4)).astype(np.float32) * 0.8
        np.testing.assert_allclose(traced(x), np.tanh(_clipped_sum(x * 2.0)), rtol=1e-6)


class _JoinsFeatures(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, 2, 1)

    def forward(self, features):
        return self.conv(np.concatenate(features, 1))


class _GrowsFeatures(nn.Module):
    """DenseNet's block: each layer takes the list of every map so far."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([_JoinsFeatures(3), _JoinsFeatures(5)])

    def forward(self, x):
        features = [x, np.zeros_like(x[:, :1])]
        for layer in self.layers:
            features.append(layer(features))
        return np.concatenate(features, 1)


def test_a_list_of_traced_arrays_passed_to_a_submodule():
    rng = np.random.default_rng(6)
    model = _GrowsFeatures().eval()
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    traced = trace(model, (x,))
    assert "Tensor[] = prim::ListConstruct" in str(traced.graph)
    assert "prim::ListUnpack" in str(getattr(traced.layers, "0").graph)
    traced.graph.lint()
    assert_roundtrip(traced.graph)
    bigger = rng.standard_normal((3, 2, 5, 5)).astype(np.float32)
    for arg in (x, bigger):
        np.testing.assert_allclose(traced(arg), model(arg), rtol=1e-5, atol=1e-6)


class _Features(nn.Module):
    """torchvision's IntermediateLayerGetter pattern: named intermediate maps in a dict."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(2, 3, 3, padding=1)
        self.second = nn.Conv2d(3, 4, 3, stride=2, padding=1)

    def forward(self, x):
        out = {}
        out["aux"] = x = self.first(x)
        out["out"] = self.second(x)
        return out


class _SegmentationHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = _Features()
        self.classifier = nn.Conv2d(4, 5, 1)

    def forward(self, x):
        input_shape = x.shape[-2:]
        features = self.backbone(x)
        logits = nn.functional.interpolate(self.classifier(features["out"]), size=input_shape,
                                           mode="bilinear", align_corners=False)
        return {"out": logits, "aux": features["aux"]}


def test_a_submodule_returning_a_dict_is_recorded_with_strict_false():
    import jitcore
    model = _SegmentationHead().eval()
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    with pytest.raises(TypeError, match="returned a dict; pass strict=False"):
        trace(model, (x,))
    traced = trace(model, (x,), strict=False)
    assert "Dict(str, Tensor) = prim::CallMethod" in str(traced.graph)
    scripted = jitcore.script(model)
    for arg in (x, rng.standard_normal((2, 2, 12, 10)).astype(np.float32)):
        expected = model(arg)
        for compiled in (traced, scripted):
            result = compiled(arg)
            assert list(result) == ["out", "aux"]
            for key in expected:
                np.testing.assert_allclose(result[key], expected[key], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ in-place ops on inputs

class _InPlaceOnState(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))

    def forward(self, x):
        s = self.scale
        s *= 2.0
        return x + s


def _adds_in_place(x):
    x += 1.0
    return x * 2.0


def _adds_to_a_view(x):
    row = x[0]
    row -= 1.0
    return x


def _adds_to_an_intermediate(x):
    y = x * 3.0
    y += 1.0
    return y


@pytest.mark.parametrize("fn", [_adds_in_place, _adds_to_a_view])
def test_in_place_op_on_an_input_writes_it_as_numpy_does(fn):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)
        traced = trace(fn, x.copy(), check_trace=False)
    ours, theirs = x.copy(), x.copy()
    np.testing.assert_array_equal(traced(ours), fn(theirs))
    np.testing.assert_array_equal(ours, theirs)      # the caller's array, written


def test_in_place_op_on_a_module_attribute_writes_it():
    module = _InPlaceOnState()
    traced = trace(module, np.ones(3, dtype=np.float32), check_trace=False)
    np.testing.assert_array_equal(module.scale, [2, 2, 2])      # the trace's own run
    np.testing.assert_array_equal(traced(np.zeros(3, np.float32)), [4, 4, 4])
    np.testing.assert_array_equal(module.scale, [4, 4, 4])


def test_matmul_in_place_on_an_input_is_recorded_out_of_place_and_warns():
    def matmul_in_place(x, w):
        x @= w
        return x
    x, w = np.ones((2, 2)), np.eye(2) * 2
    with pytest.warns(TracerWarning, match=r"`@=` on input 'x' is recorded as an out-of-place"):
        traced = trace(matmul_in_place, (x.copy(), w), check_trace=False)
    np.testing.assert_array_equal(traced(x, w), x @ w)
    np.testing.assert_array_equal(x, np.ones((2, 2)))       # the graph returns a new array


def test_in_place_op_on_an_intermediate_is_silent_and_right():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)
        traced = trace(_adds_to_an_intermediate, x)
    np.testing.assert_array_equal(traced(x), x * 3.0 + 1.0)


def _accumulates_into_a_new_array(x):
    acc = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        acc += x[i]                    # ndarray.__iadd__ of a traced row: np.add(out=acc)
    scratch = np.zeros(x.shape[1])
    np.multiply(scratch, 2.0, out=scratch)
    np.add(scratch, acc, out=scratch)  # traced ops read scratch as the traced sum from here
    np.add(x, 1.0, out=x)              # a traced array written in place
    return acc, np.exp(scratch * x[0]), x


def _writes_into_an_untraced_array(x):
    scratch = np.zeros(x.shape)
    np.multiply(x, 2.0, out=scratch)
    return scratch + 1.0


def test_ufunc_out_arguments_are_recorded():
    x = np.arange(12.0).reshape(3, 4)
    traced = trace(_accumulates_into_a_new_array, x.copy())
    traced.graph.lint()
    for inputs in (np.arange(12.0).reshape(3, 4), np.full((3, 4), -2.5)):
        ours_in, theirs_in = inputs.copy(), inputs.copy()
        for ours, theirs in zip(traced(ours_in), _accumulates_into_a_new_array(theirs_in)):
            np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(ours_in, theirs_in)     # x += 1 as NumPy does
    with pytest.raises(TypeError, match="into an array the trace does not follow"):
        trace(_writes_into_an_untraced_array, x)


def test_the_trace_check_allows_rounding_at_the_outputs_scale():
    from jitcore.nn import functional as F
    # a float32 conv summing 400 products: outputs near 90, compiled and eager
    # kernels sum in other orders, and a near-zero output differs by ~1e-4
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 16, 40, 40)).astype(np.float32)
    w = rng.standard_normal((48, 16, 5, 5)).astype(np.float32)
    traced = trace(lambda x, w: F.conv2d(x, w, stride=2, padding=2), (x, w))
    exact = F.conv2d(x.astype(np.float64), w.astype(np.float64), stride=2, padding=2)
    assert np.abs(traced(x, w) - exact).max() < 1e-5 * np.abs(exact).max()


def test_the_trace_check_still_refuses_values_off_by_more_than_the_tolerance():
    calls = []

    def drifting(x):
        calls.append(1)
        # the trace and its re-trace agree; the eager third call does not
        return x * (1.0 if len(calls) < 3 else 1.001)

    with pytest.raises(TracingCheckError, match="tolerance"):
        trace(drifting, (np.full(4, 100.0),))


def test_a_tuple_of_traced_arrays_is_one_submodule_argument(tmp_path):
    # an LSTM's (h0, c0): TupleConstruct in the caller, TupleUnpack in the callee
    import jitcore

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 8, batch_first=True)

        def forward(self, x, h0, c0):
            out, (h, c) = self.lstm(x, (h0, c0))
            return out, h, c

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    h0, c0 = (rng.standard_normal((1, 2, 8)).astype(np.float32) for _ in range(2))
    net = Net().eval()
    traced = trace(net, (x, h0, c0))
    assert [n.kind for n in traced.graph.nodes].count("prim::TupleConstruct") == 2
    assert_roundtrip(traced.graph)
    path = tmp_path / "lstm.jc"
    jitcore.save(traced, path)
    for compiled in (traced, jitcore.load(path)):
        for got, expected in zip(compiled(x, h0, c0), net(x, h0, c0)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_floor_division_of_a_traced_size_is_recorded_without_a_warning():
    # ``//`` stands for floor_divide (arrays) and floordiv (ints): the int op is recorded
    def patches(x):
        n = x.shape[1] // 4
        return x.reshape(x.shape[0], n, 4)

    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)
        traced = trace(patches, (np.ones((2, 8), np.float32),))
    assert "aten::floordiv" in [n.kind for n in traced.graph.nodes]
    assert traced(np.ones((3, 12), np.float32)).shape == (3, 3, 4)


def test_arange_of_a_traced_size_is_baked_with_a_hint_and_recorded_given_like():
    def baked(x):
        return np.arange(x.shape[0])

    def recorded(x):
        return x + np.arange(x.shape[0], like=x)

    with pytest.warns(TracerWarning) as record:
        traced = trace(baked, (randn(3),), check_trace=False)
    assert any("pass like=x (an array being traced)" in str(w.message) for w in record)
    np.testing.assert_array_equal(traced(randn(5)), np.arange(3))     # the size is fixed
    traced = trace(recorded, (randn(3),))
    assert "aten::arange" in [n.kind for n in traced.graph.nodes]
    x = randn(5)
    np.testing.assert_array_equal(traced(x), x + np.arange(5))


class _CellOverTime(nn.Module):
    """An LSTMCell run over time from zero states made with np.zeros (plain arrays: the
    first call of the cell gets them, the next ones traced states)."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(5, 4)

    def forward(self, x):
        h = np.zeros((3, 4), dtype=np.float32)
        c = np.zeros((3, 4), dtype=np.float32)
        outputs = []
        for t in range(x.shape[0]):
            h, c = self.cell(x[t], (h, c))
            outputs.append(h)
        return np.stack(outputs)


def test_a_submodule_called_first_with_plain_arrays_then_traced_ones():
    nn.init.manual_seed(0)
    model = _CellOverTime()
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)      # the zeros become constants
        traced = trace(model, x)
    traced.graph.lint()
    for inputs in (x, x[::-1].copy()):
        np.testing.assert_allclose(traced(inputs), model(inputs), rtol=1e-6, atol=1e-7)
