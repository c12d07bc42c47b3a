"""``jitcore.script`` on the library's layers: Dropout, BatchNorm, MultiheadAttention and
TransformerEncoderLayer compile, lint, match the eager module and their ``.code`` re-scripts."""

import linecache
import itertools

import numpy as np
import pytest

import jitcore
import jitcore.nn as nn
import jitcore.nn.functional as F
from jitcore.frontend.script import script

_counter = itertools.count()


def _x(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _rescripted(scripted, module):
    """Script ``module`` again with ``forward`` replaced by the text ``scripted.code`` prints."""
    import typing
    text = scripted.code
    filename = f"<rescripted layer {next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = {"Tensor": np.ndarray, "Optional": typing.Optional, "Tuple": typing.Tuple,
                 "List": typing.List, "Dict": typing.Dict, "np": np}
    exec(compile(text, filename, "exec"), namespace)
    # `.code` prints no Python defaults; the call binding takes them from the signature
    namespace["forward"].__defaults__ = type(module).forward.__defaults__
    rewritten = type(f"Rescripted{type(module).__name__}", (type(module),),
                     {"forward": namespace["forward"]})
    clone = rewritten.__new__(rewritten)
    clone.__dict__.update(module.__dict__)
    return script(clone)


def _check(module, inputs_list, rtol=1e-5, atol=1e-5):
    scripted = script(module)
    scripted.graph.lint()
    scripted.inlined_graph.lint()
    rescripted = _rescripted(scripted, module)
    rescripted.graph.lint()
    for inputs in inputs_list:
        expected = module(*inputs)
        for compiled in (scripted, rescripted):
            _assert_close(compiled(*inputs), expected, rtol, atol)
        _assert_close(scripted.call_reference(*inputs), expected, rtol, atol)
    return scripted


def _assert_close(actual, expected, rtol, atol):
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_close(a, e, rtol, atol)
    elif expected is None:
        assert actual is None
    else:
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------ dropout

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_module_scripts_and_is_identity_in_eval(dtype):
    rng = np.random.default_rng(0)
    layer = nn.Dropout(0.3).eval()
    _check(layer, [(_x(rng, 4, 5, dtype=dtype),), (_x(rng, 7, dtype=dtype),)])


def test_dropout_in_training_mode_zeroes_and_rescales():
    layer = nn.Dropout(0.5)
    scripted = script(layer)
    x = np.ones((200, 50), np.float32)
    out = scripted(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], 2.0)
    assert 0.4 < kept.mean() < 0.6


def functional_dropout(x, p: float, training: bool):
    return F.dropout(x, p, training) * 2


def test_functional_dropout_with_a_runtime_probability_scripts():
    scripted = script(functional_dropout)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(scripted(x, 0.25, False), x * 2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5, True)


# --------------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm2d_scripts_and_matches_eager_in_eval(dtype):
    rng = np.random.default_rng(2)
    layer = nn.BatchNorm2d(3)
    layer.running_mean[:] = rng.standard_normal(3)
    layer.running_var[:] = rng.uniform(0.5, 2.0, 3)
    layer.weight[:] = rng.standard_normal(3)
    layer.eval()
    scripted = _check(layer, [(_x(rng, 2, 3, 4, 4, dtype=dtype),), (_x(rng, 1, 3, 2, 5, dtype=dtype),)])
    # the rank test and the running-statistics branch are compiled; no Python call is
    assert "prim::PythonOp" not in str(scripted.graph)
    with pytest.raises(ValueError, match="expected a 4-d input"):
        scripted(_x(rng, 2, 3, dtype=dtype))


def test_batchnorm_without_running_stats_normalises_with_batch_statistics():
    rng = np.random.default_rng(3)
    layer = nn.BatchNorm1d(4, track_running_stats=False)
    _check(layer, [(_x(rng, 6, 4),), (_x(rng, 5, 4, 3),)], rtol=1e-4, atol=1e-5)


def test_scripted_batchnorm_in_training_mode_refuses_to_skip_the_statistics_update():
    layer = nn.BatchNorm2d(2)
    scripted = script(layer)
    with pytest.raises(NotImplementedError, match="_update_running_stats"):
        scripted(np.ones((2, 2, 3, 3), np.float32))


def test_frozen_scripted_batchnorm_saves_and_loads(tmp_path):
    rng = np.random.default_rng(4)
    layer = nn.BatchNorm2d(3).eval()
    layer.running_var[:] = rng.uniform(0.5, 2.0, 3)
    jitcore.save(jitcore.freeze(script(layer)), tmp_path / "bn.jc")
    loaded = jitcore.load(tmp_path / "bn.jc")
    x = _x(rng, 2, 3, 4, 4)
    np.testing.assert_allclose(loaded(x), layer(x), rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------------------- multi-head attention

@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_scripts_and_matches_eager(batch_first):
    rng = np.random.default_rng(5)
    layer = nn.MultiheadAttention(8, 2, batch_first=batch_first).eval()
    shape = (2, 5, 8) if batch_first else (5, 2, 8)
    other = (2, 3, 8) if batch_first else (3, 2, 8)
    q, kv = _x(rng, *shape), _x(rng, *other)
    # every argument given: `.code` prints the signature without Python defaults
    _check(layer, [(q, q, q, None, True, None, True, False),
                   (q, kv, kv, None, False, None, True, False)])


def test_scripted_module_call_fills_defaults_and_binds_keywords():
    rng = np.random.default_rng(9)
    layer = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    scripted = script(layer)
    x = _x(rng, 1, 4, 8)
    _assert_close(scripted(x, x, x), layer(x, x, x), 1e-5, 1e-5)
    _assert_close(scripted(x, x, x, need_weights=False), layer(x, x, x, need_weights=False),
                  1e-5, 1e-5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'weights'"):
        scripted(x, x, x, weights=True)


@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_multihead_attention_weights_options(need_weights, average):
    rng = np.random.default_rng(6)
    layer = nn.MultiheadAttention(8, 4, batch_first=True).eval()
    x = _x(rng, 2, 4, 8)

    class Caller(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = layer

        def forward(self, x):
            return self.attn(x, x, x, need_weights=need_weights, average_attn_weights=average)

    _check(Caller(), [(x,)])


def _masks(dtype):
    """Padding (N=2, S=4) and attention (L=3, S=4 and N*H=4, L, S) masks, bool and float."""
    padding = np.array([[False, False, True, False], [False, False, False, True]])
    causal = np.triu(np.ones((3, 4), bool), 1)
    per_head = np.random.default_rng(4).random((4, 3, 4)) < 0.3
    per_head[..., 0] = False    # every query keeps a key: no all -inf row
    additive = np.random.default_rng(5).standard_normal((3, 4)).astype(dtype)
    return [(padding, causal), (padding, None), (None, causal), (None, per_head),
            (np.where(padding, -1e4, 0.0).astype(dtype), additive), (padding, additive)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multihead_attention_masks_match_torch_eager_traced_and_scripted(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    layer = nn.MultiheadAttention(8, 2, batch_first=True, dtype=dtype).eval()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).to(getattr(torch, str(
        np.dtype(dtype)))).eval()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layer.state_dict().items()})
    q, kv = _x(rng, 2, 3, 8, dtype=dtype), _x(rng, 2, 4, 8, dtype=dtype)
    scripted = script(layer)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for padding, attn_mask in _masks(dtype):
        for need_weights, average in [(True, True), (True, False), (False, True)]:
            args = (q, kv, kv, padding, need_weights, attn_mask, average)
            with torch.no_grad():
                expected = theirs(*(torch.from_numpy(a) for a in (q, kv, kv)),
                                  key_padding_mask=None if padding is None
                                  else torch.from_numpy(padding),
                                  need_weights=need_weights,
                                  attn_mask=None if attn_mask is None
                                  else torch.from_numpy(attn_mask),
                                  average_attn_weights=average)
            expected = tuple(None if e is None else e.numpy() for e in expected)

            class Caller(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.attn = layer

                def forward(self, q, kv, *masks):
                    masks = iter(masks)
                    return self.attn(q, kv, kv, None if padding is None else next(masks),
                                     need_weights,
                                     None if attn_mask is None else next(masks), average)

            masks = tuple(m for m in (padding, attn_mask) if m is not None)
            traced = jitcore.trace(Caller(), (q, kv) + masks)
            for result in (layer(*args), scripted(*args), traced(q, kv, *masks)):
                _assert_close(result, expected, **tol)
                assert result[0].dtype == dtype


def test_multihead_attention_mask_errors_name_what_was_expected():
    layer = nn.MultiheadAttention(4, 2, batch_first=True).eval()
    scripted = script(layer)
    x = np.zeros((1, 3, 4), np.float32)
    for run in (layer, scripted):
        with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
            run(x, x, x, None, True, np.zeros((3, 3), np.int64))
        with pytest.raises(ValueError, match=r"2D attn_mask is \[3, 2\], but should be "
                                             r"\[3, 3\]"):
            run(x, x, x, None, True, np.zeros((3, 2), bool))
        with pytest.raises(ValueError, match=r"expecting key_padding_mask shape of \[1, 3\], but got \[1, 2\]"):
            run(x, x, x, np.zeros((1, 2), bool))


# ---------------------------------------------------------------------- transformer encoder

@pytest.mark.parametrize("activation, norm_first, batch_first",
                         [("relu", False, True), ("gelu", True, False)])
def test_transformer_encoder_layer_scripts_and_matches_eager(activation, norm_first, batch_first):
    rng = np.random.default_rng(7)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, activation=activation,
                                       norm_first=norm_first, batch_first=batch_first).eval()
    scripted = _check(layer, [(_x(rng, 2, 6, 16),), (_x(rng, 3, 2, 16),)], rtol=1e-4, atol=1e-5)
    kinds = {n.kind for n in scripted.inlined_graph.walk()}
    assert ("aten::gelu" in kinds) == (activation == "gelu")
    assert "prim::PythonOp" not in kinds


def test_transformer_encoder_layer_with_a_custom_activation_calls_python(tmp_path):
    rng = np.random.default_rng(8)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=np.tanh,
                                       batch_first=True).eval()
    scripted = script(layer)
    x = _x(rng, 2, 3, 8)
    np.testing.assert_allclose(scripted(x), layer(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="_custom_activation.*@jitcore.ignore"):
        jitcore.save(scripted, tmp_path / "layer.jc")


# ------------------------------------------------------------- compiled, not interpreted

_RNG = np.random.default_rng(7)
_LAYERS = {
    "dropout": (lambda: nn.Dropout(0.3), (_x(_RNG, 2, 6),)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (_x(_RNG, 2, 3, 5, 5),)),
    "gelu": (lambda: nn.GELU(), (_x(_RNG, 2, 6),)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), (_x(_RNG, 2, 6),)),
    "layernorm": (lambda: nn.LayerNorm(6), (_x(_RNG, 2, 6),)),
    "mha": (lambda: nn.MultiheadAttention(8, 2, batch_first=True), (_x(_RNG, 2, 3, 8),) * 3),
    "encoder": (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), (_x(_RNG, 2, 3, 8),)),
}


@pytest.mark.parametrize("name", sorted(_LAYERS))
def test_scripted_layers_in_eval_run_on_the_compiled_runtime(name):
    make, inputs = _LAYERS[name]
    layer = make().eval()
    scripted = script(layer)
    got, want = scripted(*inputs), layer(*inputs)
    for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    plan = scripted.executor("forward").dispatcher.last_plan
    assert plan.code is not None, plan.fallback_reason


def test_train_and_eval_switch_the_compiled_plans():
    layer = nn.Sequential(nn.Linear(50, 50), nn.Dropout(0.5)).eval()
    scripted = script(layer)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_allclose(scripted(x), layer(x), rtol=1e-5, atol=1e-6)
    scripted.train()
    dropped = scripted(x)
    assert 0.4 < (dropped == 0).mean() < 0.6           # the training flag was not baked in
    getattr(scripted, "1").eval()                       # a submodule alone changes too
    np.testing.assert_allclose(scripted(x), layer(x), rtol=1e-5, atol=1e-6)
