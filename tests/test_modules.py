"""ScriptFunction / ScriptModule: calling, input checks, inlining, graph_for, state."""

import numpy as np
import pytest

from jitcore import nn
from jitcore._runtime.types import TensorType
from jitcore.frontend import trace
from jitcore.frontend.script import script

RNG = np.random.default_rng(1)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
        self.register_buffer("shift", np.ones(3, dtype=np.float32))

    def forward(self, x):
        return self.inner(x) + self.shift


def test_script_module_shares_state_and_sees_loaded_weights():
    block = Block()
    traced = trace(block, randn(2, 3))
    assert [n for n, _ in traced.named_parameters()] == [n for n, _ in block.named_parameters()]
    new_state = {k: np.full_like(v, 0.5) for k, v in block.state_dict().items()}
    traced.load_state_dict(new_state)
    x = randn(2, 3)
    np.testing.assert_allclose(traced(x), block(x), rtol=1e-6)
    assert repr(traced).startswith("Block(")


def test_inlined_graph_has_no_calls_and_same_result():
    from jitcore.reference_interpreter import run_graph
    block = Block()
    traced = trace(block, randn(2, 3))
    inlined = traced.inlined_graph
    inlined.lint()
    assert not any(n.kind == "prim::CallMethod" for n in inlined.walk())
    assert {"aten::linear", "aten::tanh", "aten::add"} <= {n.kind for n in inlined.walk()}
    x = randn(4, 3)
    np.testing.assert_allclose(run_graph(inlined, [traced, x])[0], block(x), rtol=1e-6)


def test_call_input_checks_name_the_argument():
    f = trace(lambda x, y: x * y, (randn(2, 3), randn(2, 3)))
    with pytest.raises(TypeError, match="takes 2 arguments"):
        f(randn(2, 3))
    with pytest.raises(TypeError, match="'y' must have dtype float32"):
        f(randn(2, 3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="'x' must be 2-dimensional"):
        f(randn(3), randn(2, 3))


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, object])
def test_arrays_of_dtypes_the_runtime_lacks_are_refused_at_the_call(dtype):
    scripted = script(nn.Linear(4, 3).eval())
    with pytest.raises(TypeError, match=f"has dtype {np.dtype(dtype)}; compiled code takes float32"):
        scripted(np.ones((2, 4), dtype))


def test_graph_for_specialises_input_types():
    f = trace(lambda x: x + 1, randn(2, 3))
    graph = f.graph_for(randn(5, 3))
    assert graph.inputs[0].type == TensorType("float32", (5, 3))
    assert f.graph.inputs[0].type == TensorType("float32", (2, 3))


def test_code_comes_from_the_python_printer():
    pytest.importorskip("jitcore.ir.python_printer")
    f = trace(lambda x: x + 1, randn(2, 3))
    assert "def <lambda>" in f.code or "aten" in f.code or "add" in f.code


# ------------------------------------------------------------- the compiled runtime path

def _models():
    """``name -> (compiled, inputs)``: traced MLP/CNN/transformer, scripted module and functions."""
    import jitcore
    from _pass_models import Gated, control_flow, traced_models
    out = {name: (traced, inputs) for name, (_, traced, inputs) in traced_models().items()}
    x = np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32)
    out["scripted_module"] = (jitcore.script(Gated().eval()), (x,))
    fn = jitcore.script(control_flow)
    out["control_flow_n1"] = (fn, (x, 1))
    out["control_flow_n3"] = (fn, (x, 3))
    return out


def scaled_softplus(x):
    return np.log1p(np.exp(x)) * 0.5


def uses_a_helper(x, n: int):
    y = x
    for _ in range(n):
        y = scaled_softplus(y) + x
    return y


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer", "scripted_module",
                                  "control_flow_n1", "control_flow_n3"])
def test_runtime_matches_the_reference_interpreter(name):
    compiled, inputs = _models()[name]
    expected = compiled.call_reference(*inputs)
    for _ in range(2):              # first call builds the plan, the second takes the fast path
        np.testing.assert_allclose(compiled(*inputs), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_traced_models_run_on_the_interpreter_not_the_fallback(name):
    compiled, inputs = _models()[name]
    compiled(*inputs)
    plan = compiled.executor().dispatcher.last_plan
    assert plan.code is not None, plan.fallback_reason
    assert plan.n_attributes > 0            # parameters are inputs fetched per call


def test_scripted_function_calls_a_helper_through_the_function_table():
    import jitcore
    f = jitcore.script(uses_a_helper)
    x = randn(3, 4)
    assert any(n.kind == "prim::CallFunction" for n in f.graph.walk())
    np.testing.assert_allclose(f(x, 2), f.call_reference(x, 2), rtol=1e-6)
    np.testing.assert_allclose(f(x, 2), scaled_softplus(scaled_softplus(x) + x) + x, rtol=1e-5)


def test_load_state_dict_after_compiling_takes_effect():
    block = Block()
    traced = trace(block, randn(2, 3))
    x = randn(2, 3)
    before = traced(x)
    traced.load_state_dict({k: np.full_like(v, 0.25) for k, v in traced.state_dict().items()})
    after = traced(x)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, block(x), rtol=1e-6)
    np.testing.assert_allclose(after, traced.call_reference(x), rtol=1e-6)


def test_a_scalar_attribute_is_read_at_call_time():
    import jitcore
    from _pass_models import Gated
    gated = jitcore.script(Gated().eval())
    x = randn(2, 4)
    evaluating = gated(x)
    gated.train()
    np.testing.assert_allclose(gated(x), gated.call_reference(x), rtol=1e-6)
    assert not np.allclose(gated(x), evaluating)


def test_plan_cache_is_bounded_when_the_batch_size_varies():
    from jitcore.executor import MAX_SPECIALISED_PLANS
    f = trace(lambda x: x * 2.0 + 1.0, randn(1, 3))
    for _ in range(2):
        for batch in range(1, 21):
            x = randn(batch, 3)
            np.testing.assert_allclose(f(x), x * 2.0 + 1.0, rtol=1e-6)
    executor = f.executor
    assert len(executor.plans()) == MAX_SPECIALISED_PLANS
    assert len(executor.generic_plans()) == 1
    assert executor.builds == MAX_SPECIALISED_PLANS + 1      # no rebuild on the second sweep
    assert not next(iter(executor.generic_plans().values())).specialised


def test_graph_for_is_the_plan_graph_and_ignores_call_history():
    f = trace(lambda x: np.tanh(x * 0.5 + 1.0) * x + 3.0, randn(4, 3))
    x = randn(4, 3)
    fresh = str(f.graph_for(x))
    for batch in (1, 2, 4, 7):
        f(randn(batch, 3))
    assert str(f.graph_for(x)) == fresh
    assert f.graph_for(x) is f.executor.plan_for(x).graph
    assert "Float(4, 3)" in fresh


def test_many_threads_with_varying_shapes_get_serial_results():
    import threading
    f = trace(lambda x: np.tanh(x) * 3.0 - x, randn(2, 5))
    cases = [randn(b, 5) for b in range(1, 13)]
    expected = [np.tanh(c) * 3.0 - c for c in cases]
    errors = []

    def work(t):
        for rep in range(60):
            k = (t * 5 + rep) % len(cases)
            # atol: the runtime's tanh may differ from NumPy's by an ulp near zero crossings
            if not np.allclose(f(cases[k]), expected[k], rtol=1e-6, atol=1e-6):
                errors.append((t, rep))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []
    assert len(f.executor.plans()) <= 8


def test_bad_inputs_raise_clear_errors_on_the_fast_path_too():
    f = trace(lambda x: x + 1.0, randn(2, 3))
    f(randn(2, 3))                       # the fast path is primed
    with pytest.raises(TypeError, match="'x' must have dtype float32"):
        f(np.ones((2, 3)))
    with pytest.raises(ValueError, match="must be 2-dimensional"):
        f(randn(2, 3, 1))
    with pytest.raises(TypeError, match="takes 1 argument \\(x\\) but 0 were given"):
        f()
    with pytest.raises(TypeError, match="must be an ndarray"):
        f([1.0, 2.0])


def test_alternating_shapes_are_served_by_the_cached_plans_without_the_slow_path():
    f = trace(lambda x: x * 2.0 + 1.0, randn(1, 3))
    shapes = [randn(1, 3), randn(4, 3), randn(2, 3)]
    for x in shapes:                     # one build (slow call) per shape
        f(x)
    dispatcher = f.executor.dispatcher
    slow = dispatcher.slow_calls
    for _ in range(5):
        for x in shapes:
            np.testing.assert_allclose(f(x), x * 2.0 + 1.0, rtol=1e-6)
    assert dispatcher.slow_calls == slow
    assert dispatcher.last_plan is f.executor.plans()[next(
        k for k in f.executor.plans() if k[0][3] == (2, 3))]


def test_a_thread_that_never_traced_calls_the_module():
    import threading
    block = Block()
    traced = trace(block, randn(2, 3))
    x = randn(2, 3)
    results = []
    th = threading.Thread(target=lambda: results.append(traced(x)))
    th.start()
    th.join(timeout=60)
    np.testing.assert_allclose(results[0], block(x), rtol=1e-6, atol=1e-6)


def test_a_call_during_a_trace_goes_to_the_tracer_even_when_the_fast_path_is_primed():
    from jitcore.errors import JitcoreError
    inner = trace(Block(), randn(2, 3))
    x = randn(2, 3)
    inner(x)                             # the last plan matches x's signature
    # the tracer sees the call (and refuses it: a traced function must not call a
    # ScriptModule), instead of the call running eagerly on traced values
    with pytest.raises(JitcoreError, match="ScriptModule called inside a traced function"):
        trace(lambda v: inner(v) * 2.0, x)
    np.testing.assert_allclose(inner(x), inner.call_reference(x), rtol=1e-6, atol=1e-6)


def test_an_output_viewing_an_argument_keeps_the_argument_as_its_base():
    f = trace(lambda x: x.reshape(6), randn(2, 3))
    x = randn(2, 3)
    y = f(x)
    assert np.shares_memory(x, y)
    del x
    assert y.base is not None and y.base.shape == (2, 3)
    np.testing.assert_array_equal(y, y.base.reshape(6))


# ------------------------------------------------------- keyword arguments

class TwoInputs(nn.Module):
    def forward(self, x, y):
        x = x * 2.0                 # scripting names the input %x.1
        return x - y


def _two_input_variants():
    """The same two-input module traced, scripted and loaded back from an archive."""
    import io

    import jitcore
    a, b = randn(2, 3), randn(2, 3)
    compiled = {"traced": trace(TwoInputs(), (a, b)), "scripted": script(TwoInputs())}
    for name in list(compiled):
        buffer = io.BytesIO()
        jitcore.save(compiled[name], buffer)
        buffer.seek(0)
        compiled[f"loaded {name}"] = jitcore.load(buffer)
    return compiled


@pytest.mark.parametrize("variant", ["traced", "scripted", "loaded traced", "loaded scripted"])
def test_keyword_arguments_bind_by_the_users_parameter_names(variant):
    module = _two_input_variants()[variant]
    x, y = randn(2, 3), randn(2, 3)
    expected = x * 2.0 - y
    for call in (lambda: module(x=x, y=y), lambda: module(y=y, x=x), lambda: module(x, y=y),
                 lambda: module.forward(x, y=y)):
        np.testing.assert_allclose(call(), expected, rtol=1e-6)
    np.testing.assert_allclose(module(x, y), expected, rtol=1e-6)   # the fast path after
    assert list(module.call_signature().parameters) == ["x", "y"]


@pytest.mark.parametrize("variant", ["traced", "scripted", "loaded traced", "loaded scripted"])
@pytest.mark.parametrize("kwargs, message", [
    ({"x": 0, "z": 0}, r"TwoInputs.forward\(\) got an unexpected keyword argument 'z'; "
                       r"its parameters are \(x, y\)"),
    ({"x": 0}, r"TwoInputs.forward\(\): missing a required argument: 'y'"),
])
def test_bad_keyword_arguments_name_the_parameter(variant, kwargs, message):
    module = _two_input_variants()[variant]
    kwargs = {k: randn(2, 3) for k in kwargs}
    with pytest.raises(TypeError, match=message):
        module(**kwargs)


def test_a_keyword_given_twice_names_it():
    module = _two_input_variants()["traced"]
    with pytest.raises(TypeError, match="TwoInputs.forward\\(\\): multiple values for argument 'x'"):
        module(randn(2, 3), x=randn(2, 3))


def test_functions_and_other_methods_take_keywords_too():
    import jitcore

    def scale(x, factor: float):
        return x * factor

    x = randn(2, 3)
    for compiled in (script(scale), trace(lambda x, y: x + y, (x, x))):
        names = list(compiled.call_signature().parameters)
        kwargs = dict(zip(names, (x, 2.0 if names[1] == "factor" else x)))
        np.testing.assert_allclose(compiled(**kwargs), compiled(*kwargs.values()))
        with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
            compiled(w=x)

    class WithHelper(nn.Module):
        def forward(self, x):
            return self.helper(x, 1.0)

        @jitcore.export
        def helper(self, x, shift: float):
            return x + shift

    module = script(WithHelper())
    np.testing.assert_allclose(module.helper(shift=3.0, x=x), x + 3.0, rtol=1e-6)


def test_messages_name_parameters_never_ssa_names():
    module = _two_input_variants()["scripted"]
    assert module.graph.inputs[1].debug_name == "x.1"        # the premise
    with pytest.raises(TypeError, match=r"takes 2 arguments \(x, y\) but 1 was given"):
        module(randn(2, 3))
    with pytest.raises(TypeError, match=r"argument 'y' must be an ndarray of type Tensor, got str"):
        module(randn(2, 3), "y")


# ------------------------------------------------- ndarray subclasses with semantics

class PlainSubclass(np.ndarray):
    pass


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("make, dropped", [
    (lambda a: np.ma.masked_array(a, mask=a > 0), "its mask"),
    (lambda a: np.asmatrix(a), "its matrix semantics"),
])
def test_arrays_with_semantics_are_refused_naming_the_argument(make, dropped):
    module = trace(Block(), randn(2, 3))
    x = randn(2, 3)
    module(x)                                   # the fast path is primed with this signature
    with pytest.raises(TypeError, match=f"argument 'x' is a numpy.*, and compiled code would "
                                        f"silently drop {dropped}.*pass x.data or "
                                        r"np.asarray\(x\) explicitly"):
        module(make(x))
    with pytest.raises(TypeError, match=dropped):
        module.call_reference(make(x))


def test_plain_subclasses_and_memmaps_are_arrays(tmp_path):
    module = trace(Block(), randn(2, 3))
    x = randn(2, 3)
    expected = module(x)
    mapped = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=(2, 3))
    mapped[:] = x
    for arg in (x.view(PlainSubclass), mapped, nn.Parameter(x)):
        for _ in range(2):                      # slow path, then the fast path
            np.testing.assert_array_equal(module(arg), expected)


# ------------------------------------------------------ one class each, Method records

class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x, scale: float = 2.0, shift: float = 0.5):
        return self.linear(x) * scale + shift


def _scaled_function(x, scale: float = 2.0, shift: float = 0.5):
    return x * scale + shift


def test_every_frontend_and_the_loader_make_the_same_two_classes():
    import io

    import jitcore
    from jitcore.modules import ScriptFunction, ScriptModule
    x = randn(2, 3)
    made = [trace(Block(), x), script(_Scaled()), trace(lambda x: x + 1.0, x), script(_scaled_function)]
    for model in made + [jitcore.load(io.BytesIO(jitcore.serialization.save_to_bytes(m))) for m in made]:
        assert type(model) in (ScriptModule, ScriptFunction)
        assert all(type(node) is ScriptModule for node in model.modules()) \
            if isinstance(model, ScriptModule) else True


def test_a_method_record_holds_graph_signature_and_function_table():
    from jitcore.modules import Method
    module = script(_Scaled())
    method = module._jit_method("forward")
    assert isinstance(method, Method) and method.graph is module.graph
    assert method.takes_self and [v.debug_name for v in method.inputs] == ["x.1", "scale.1", "shift.1"]
    assert str(method.signature) == "(x, scale: float = 2.0, shift: float = 0.5)"
    assert method.has_defaults and method.functions is module.functions
    function = script(_scaled_function)
    assert function.method.signature is function.call_signature()
    assert not function.method.takes_self and function.method.functions is function.functions


def test_a_signature_that_does_not_fit_the_graph_is_refused():
    import inspect

    from jitcore.modules import Method
    graph = trace(lambda x, y: x + y, (randn(2), randn(2))).graph
    one = inspect.Signature([inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    with pytest.raises(ValueError, match="a signature of 1 parameters for a graph of 2 inputs"):
        Method("f", graph, signature=one)


@pytest.mark.parametrize("make", [lambda: script(_Scaled()), lambda: script(_scaled_function)])
def test_calls_that_omit_defaults_run_the_plan_of_full_calls(make):
    compiled = make()
    x = randn(2, 3)
    expected = compiled(x, 2.0, 0.5)
    executor = compiled.executor("forward") if hasattr(compiled, "methods") else compiled.executor
    builds = executor.builds
    for call in (lambda: compiled(x), lambda: compiled(x, 2.0), lambda: compiled(x, shift=0.5),
                 lambda: compiled.call_reference(x), lambda: compiled.call_reference(x, scale=2.0)):
        np.testing.assert_allclose(call(), expected, rtol=1e-6)
    assert executor.builds == builds
    np.testing.assert_allclose(compiled(x, 1.0), compiled(x, 1.0, 0.5), rtol=1e-6)
    with pytest.raises(TypeError, match=r"missing a required argument: 'x'"):
        compiled()


def test_freezing_keeps_the_call_signature():
    import jitcore
    for compiled in (script(_Scaled().eval()), script(_scaled_function)):
        frozen = jitcore.freeze(compiled)
        assert frozen.call_signature() == compiled.call_signature()
        x = randn(2, 3)
        np.testing.assert_allclose(frozen(x, shift=1.0), compiled(x, shift=1.0), rtol=1e-5)


def test_pickling_goes_through_the_archive_and_keeps_defaults():
    import pickle
    compiled = script(_Scaled())
    copy = pickle.loads(pickle.dumps(compiled))
    assert type(copy) is type(compiled) and copy is not compiled
    x = randn(2, 3)
    np.testing.assert_array_equal(copy(x), compiled(x))
    assert copy.call_signature().parameters["scale"].default == 2.0
