import numpy as np
import pytest

import jitcore
from jitcore.errors import JitcoreError
from jitcore.freezing import freeze, optimize_for_inference

from _pass_models import Gated, kinds, traced_models

PARAMETER_NAMES = {"weight", "bias", "running_mean", "running_var", "in_proj_weight", "in_proj_bias"}


def _reads_parameters(graph):
    return any(n.kind == "prim::GetAttr" for n in graph.walk())


@pytest.mark.parametrize("transform", [freeze, optimize_for_inference])
@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer"])
def test_frozen_models_match_the_eager_model(name, transform):
    model, traced, inputs = traced_models()[name]
    frozen = transform(traced)
    frozen.graph.lint()
    assert not _reads_parameters(frozen.graph)
    assert "aten::dropout" not in kinds(frozen.graph) and "aten::batch_norm" not in kinds(frozen.graph)
    np.testing.assert_allclose(frozen(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)
    # a trace generalises to other batch sizes; so must its frozen form
    bigger = tuple(np.concatenate([x, x], axis=1 if name == "transformer" else 0) for x in inputs)
    np.testing.assert_allclose(frozen(*bigger), model(*bigger), rtol=1e-5, atol=1e-5)


def test_optimize_for_inference_fuses():
    _, traced, _ = traced_models()["cnn"]
    assert "jc::conv2d_act" in kinds(optimize_for_inference(traced).graph)
    _, traced, _ = traced_models()["transformer"]
    assert "jc::linear_act" in kinds(optimize_for_inference(traced).graph)


def test_frozen_module_does_not_follow_later_parameter_changes():
    model, traced, inputs = traced_models()["mlp"]
    frozen = freeze(traced)
    before = frozen(*inputs)
    weight = getattr(traced, "0").weight
    saved = weight.copy()
    try:
        weight += 1.0
        np.testing.assert_array_equal(frozen(*inputs), before)
    finally:
        weight[...] = saved


def test_training_branch_of_a_scripted_module_folds_away():
    eager = Gated().eval()
    scripted = jitcore.script(eager)
    frozen = freeze(scripted)
    assert "prim::If" not in kinds(frozen.graph) and not _reads_parameters(frozen.graph)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(frozen(x), eager(x), rtol=1e-6)


def test_training_mode_and_non_modules_are_refused():
    scripted = jitcore.script(Gated())
    with pytest.raises(JitcoreError, match="training mode"):
        freeze(scripted)
    with pytest.raises(TypeError, match="expects a ScriptModule or ScriptFunction"):
        freeze(Gated())


def _scaled_tanh(x, y):
    return np.tanh(_affine(x) * y) + 3.0


def _affine(x):
    return x * 0.5 + 1.0


def test_optimize_for_inference_of_a_function_inlines_and_fuses():
    scripted = jitcore.script(_scaled_tanh)
    assert "prim::CallFunction" in kinds(scripted.graph)
    optimized = optimize_for_inference(scripted)
    assert isinstance(optimized, jitcore.ScriptFunction)
    optimized.graph.lint()
    assert "prim::CallFunction" not in kinds(optimized.graph)
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal((5, 7)).astype(np.float32) for _ in range(2))
    # fusion needs dtypes: the specialised graph has them
    assert any(k.startswith("jc::FusedElementwise") for k in kinds(optimized.graph_for(x, y)))
    np.testing.assert_allclose(optimized(x, y), _scaled_tanh(x, y), rtol=1e-5, atol=1e-6)


class _WithExports(jitcore.nn.Module):
    """forward, an exported entry point that calls forward in a loop, and a helper."""

    def __init__(self):
        super().__init__()
        self.linear = jitcore.nn.Linear(4, 4)
        self.scale = 0.5

    def forward(self, x):
        return self.helper(self.linear(x))

    def helper(self, x):
        return np.tanh(x) * self.scale

    @jitcore.export
    def repeat(self, x, times: int):
        for _ in range(times):
            x = self(x)
        return x

    @jitcore.export
    def plain(self, x):
        return x + 1.0


@pytest.mark.parametrize("transform", [freeze, optimize_for_inference])
def test_exported_methods_are_kept_frozen_and_saved(transform, tmp_path):
    jitcore.manual_seed(0)
    model = _WithExports().eval()
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    frozen = transform(jitcore.script(model))
    # entry points kept; the helper forward calls is inlined, not kept
    assert sorted(frozen.methods) == ["forward", "plain", "repeat"]
    for name in frozen.methods:
        graph = frozen._jit_method_graph(name)
        assert not [n for n in graph.walk() if n.kind in ("prim::GetAttr", "prim::CallMethod")]
    np.testing.assert_allclose(frozen.repeat(x, 3), model.repeat(x, 3), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(frozen.plain(x), model.plain(x))
    path = tmp_path / "frozen.jc"
    jitcore.save(frozen, path)
    loaded = jitcore.load(path)
    assert sorted(loaded.methods) == ["forward", "plain", "repeat"]
    np.testing.assert_allclose(loaded.repeat(x, 2), model.repeat(x, 2), rtol=1e-6, atol=1e-6)


def test_a_frozen_module_does_not_follow_its_original_in_exported_methods():
    jitcore.manual_seed(0)
    model = _WithExports().eval()
    x = np.ones((1, 4), np.float32)
    frozen = freeze(jitcore.script(model))
    before = frozen.repeat(x, 1)
    model.linear.weight[...] = 0.0
    np.testing.assert_array_equal(frozen.repeat(x, 1), before)


def test_preserved_attrs_keep_a_called_method_and_name_unknown_ones():
    jitcore.manual_seed(0)
    model = _WithExports().eval()
    scripted = jitcore.script(model)
    x = np.ones((1, 4), np.float32)
    kept = freeze(scripted, preserved_attrs=["helper"])
    assert "helper" in kept.methods
    np.testing.assert_allclose(kept.helper(x), model.helper(x))
    with pytest.raises(JitcoreError, match="no compiled method 'nope'"):
        freeze(scripted, preserved_attrs=["nope"])
    assert "helper" in optimize_for_inference(scripted, other_methods=["helper"]).methods
