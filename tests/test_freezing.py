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
