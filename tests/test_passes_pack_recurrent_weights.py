"""pack_recurrent_weights: a frozen recurrent layer runs as ``jc::<mode>_packed`` and gives
what the unfrozen graph and torch give, at any thread count, after save/load."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import recurrent
from jitcore.ir import parse_graph
from jitcore.passes.pack_recurrent_weights import pack_recurrent_weights

DTYPES = [np.float32, np.float64]
LAYERS = {"LSTM": (nn.LSTM, {}), "GRU": (nn.GRU, {}),
          "RNN-tanh": (nn.RNN, {"nonlinearity": "tanh"}),
          "RNN-relu": (nn.RNN, {"nonlinearity": "relu"})}


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


class Encoder(nn.Module):
    """A recurrent layer returning every output it has (the state given or not)."""

    def __init__(self, layer):
        super().__init__()
        self.rnn = layer

    def forward(self, x, *hx):
        out, state = self.rnn(x, hx[0] if len(hx) == 1 else tuple(hx) or None)
        return (out,) + (tuple(state) if isinstance(state, tuple) else (state,))


def _model(name, dtype, seed=0, **kwargs):
    cls, extra = LAYERS[name]
    model = Encoder(cls(dtype=dtype, **extra, **kwargs)).eval()
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p[...] = rng.uniform(-0.3, 0.3, p.shape)
    return model


def _inputs(name, dtype, steps, batch, features, hidden, layers, batch_first, given, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features) if batch_first
                            else (steps, batch, features)).astype(dtype)
    if not given:
        return (x,)
    states = 2 if name == "LSTM" else 1
    return (x,) + tuple(rng.standard_normal((layers, batch, hidden)).astype(dtype)
                        for _ in range(states))


def _kinds(module):
    return {node.kind for node in module.graph.walk()}


def _packed(name, dtype, steps=5, batch=2, features=4, hidden=6, num_layers=2,
            bidirectional=True, batch_first=False, given=True, **kwargs):
    model = _model(name, dtype, num_layers=num_layers, bidirectional=bidirectional,
                   batch_first=batch_first, input_size=features, hidden_size=hidden, **kwargs)
    inputs = _inputs(name, dtype, steps, batch, features, hidden,
                     num_layers * (2 if bidirectional else 1), batch_first, given)
    traced = jitcore.trace(model, inputs)
    return model, traced, jitcore.optimize_for_inference(jitcore.freeze(traced)), inputs


def _assert_close(got, want, dtype):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("bidirectional, batch_first, given", [
    (True, False, True), (False, True, False), (True, True, False), (False, False, True)])
def test_frozen_layer_runs_packed_and_matches_the_unfrozen_graph(name, dtype, bidirectional,
                                                                 batch_first, given):
    model, traced, packed, inputs = _packed(name, dtype, bidirectional=bidirectional,
                                            batch_first=batch_first, given=given)
    mode = {"LSTM": "lstm", "GRU": "gru", "RNN-tanh": "rnn_tanh", "RNN-relu": "rnn_relu"}[name]
    assert f"jc::{mode}_packed" in _kinds(packed) and f"aten::{mode}" not in _kinds(packed)
    _assert_close(packed(*inputs), traced(*inputs), dtype)
    _assert_close(packed(*inputs), model(*inputs), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [1, 64])
def test_lengths_one_and_64_and_a_projection(dtype, steps):
    for kwargs in ({}, {"proj_size": 3}):
        model, traced, packed, inputs = _packed("LSTM", dtype, steps=steps, batch=1,
                                                features=8, hidden=20, given=False, **kwargs)
        assert "jc::lstm_packed" in _kinds(packed)
        _assert_close(packed(*inputs), traced(*inputs), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, torch_name", [("LSTM", "LSTM"), ("GRU", "GRU"),
                                              ("RNN-tanh", "RNN")])
def test_packed_layer_matches_torch(name, torch_name, dtype):
    torch = pytest.importorskip("torch")
    for num_layers, bidirectional, batch_first, given, steps in [
            (2, True, False, True, 64), (1, False, True, False, 1), (2, False, True, True, 1),
            (1, True, False, False, 64)]:
        model, _, packed, inputs = _packed(name, dtype, steps=steps, batch=2, num_layers=num_layers,
                                           bidirectional=bidirectional,
                                           batch_first=batch_first, given=given)
        theirs = getattr(torch.nn, torch_name)(4, 6, num_layers=num_layers,
                                               bidirectional=bidirectional,
                                               batch_first=batch_first)
        theirs = (theirs.double() if dtype == np.float64 else theirs).eval()
        theirs.load_state_dict({k[len("rnn."):]: torch.from_numpy(v.copy())
                                for k, v in model.state_dict().items()}, strict=True)
        x, *hx = (torch.from_numpy(a) for a in inputs)
        with torch.no_grad():
            out, state = theirs(x, (tuple(hx) if name == "LSTM" else hx[0]) if hx else None)
        want = [out] + (list(state) if isinstance(state, tuple) else [state])
        _assert_close(packed(*inputs), [w.numpy() for w in want], dtype)


@pytest.mark.parametrize("name", list(LAYERS))
def test_bits_do_not_depend_on_the_thread_count(name):
    # a step's product large enough to split the hidden units over threads (even for one
    # gate), and 136 units: the threads' slices are not whole blocks of 16
    _, _, packed, inputs = _packed(name, np.float32, steps=12, batch=4, features=32,
                                   hidden=136, bidirectional=False, batch_first=True)
    before, guarded = jitcore.get_num_threads(), openmp_helpers.contention_guard_enabled()
    openmp_helpers.set_contention_guard(False)      # the guard may run either call serially
    try:
        jitcore.set_num_threads(1)
        one = packed(*inputs)
        jitcore.set_num_threads(2)
        two = packed(*inputs)
    finally:
        jitcore.set_num_threads(before)
        openmp_helpers.set_contention_guard(guarded)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one, two))


def test_step_split_switch_changes_no_bit():
    # set_step_split(False) (benchmarks/bench_decode_ab.py's "old") runs every step on one thread
    _, _, packed, inputs = _packed("LSTM", np.float32, steps=6, batch=4, features=32,
                                   hidden=136, bidirectional=False, batch_first=True)
    before, guarded = jitcore.get_num_threads(), openmp_helpers.contention_guard_enabled()
    openmp_helpers.set_contention_guard(False)
    jitcore.set_num_threads(2)
    try:
        split = packed(*inputs)
        assert recurrent.set_step_split(False) is True
        serial = packed(*inputs)
    finally:
        assert recurrent.set_step_split(True) is False
        jitcore.set_num_threads(before)
        openmp_helpers.set_contention_guard(guarded)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(split, serial))


def test_save_and_load_keep_the_packed_weights():
    _, traced, packed, inputs = _packed("LSTM", np.float32, steps=7, given=True)
    buffer = io.BytesIO()
    jitcore.save(packed, buffer)
    buffer.seek(0)
    loaded = jitcore.load(buffer)
    assert "jc::lstm_packed" in _kinds(loaded)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(loaded(*inputs), packed(*inputs)))


def _rnn_graph(dropout, train, constant_weights):
    """An rnn_tanh of two layers whose weights are graph inputs or constants."""
    graph = parse_graph(f"""graph(%x : Float(5, 2, 3), %h : Float(2, 2, 3), %w1 : Float(3, 3),
      %w2 : Float(3, 3)):
  %params : Tensor[] = prim::ListConstruct(%w1, %w2, %w1, %w2)
  %false : bool = prim::Constant[value=0]()
  %train : bool = prim::Constant[value={int(train)}]()
  %two : int = prim::Constant[value=2]()
  %p : float = prim::Constant[value={dropout}]()
  %y : Tensor, %hn : Tensor = aten::rnn_tanh(%x, %h, %params, %false, %two, %p, %train, %false, %false)
  return (%y, %hn)""")
    if constant_weights:
        listed = next(n for n in graph.walk() if n.kind == "prim::ListConstruct")
        rng = np.random.default_rng(0)
        for k, value in enumerate(listed.inputs):
            with graph.inserting_before(listed):
                w = graph.insert_constant(rng.standard_normal((3, 3)).astype(np.float32))
            listed.replace_input(k, w)
    return graph


@pytest.mark.parametrize("dropout, train, constant_weights, packs", [
    (0.0, False, True, True), (0.5, False, True, True), (0.0, True, True, True),
    (0.5, True, True, False), (0.0, False, False, False)])
def test_only_eval_mode_ops_of_constant_weights_are_packed(dropout, train, constant_weights,
                                                          packs):
    graph = _rnn_graph(dropout, train, constant_weights)
    assert pack_recurrent_weights(graph) is packs
    graph.lint()
    kinds = {n.kind for n in graph.walk()}
    assert ("jc::rnn_tanh_packed" in kinds) is packs and ("aten::rnn_tanh" in kinds) is not packs


def test_pass_is_idempotent_and_lints():
    _, _, packed, _ = _packed("GRU", np.float64)
    graph = packed.graph.copy()
    graph.lint()
    assert pack_recurrent_weights(graph) is False


_DIGEST = """
import hashlib, numpy as np, jitcore
from jitcore import nn
from jitcore._runtime import openmp_helpers
lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True).eval()
rng = np.random.default_rng(5)
for p in lstm.parameters():
    p[...] = rng.uniform(-0.2, 0.2, p.shape)
x = rng.standard_normal((2, 16, 64)).astype(np.float32)
packed = jitcore.optimize_for_inference(jitcore.freeze(jitcore.trace(lstm, (x,))))
assert any(n.kind == "jc::lstm_packed" for n in packed.graph.walk())
out, (h, c) = packed(x)
print(hashlib.sha256(out.tobytes() + h.tobytes() + c.tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_float32_bits_do_not_depend_on_the_blas_core_type_or_the_isa_level():
    # float32 packed weights never reach BLAS (16 x 2 rows take the unpacked GEMM kernel,
    # each step gemv_rowmajor.h), so OpenBLAS's core type cannot change a bit, and the
    # AVX2 and AVX-512 bodies compute the same FMA chains
    from test_determinism import CORETYPE_FLAGS, cpu_flags
    flags = cpu_flags() or set()
    if "avx2" not in flags:
        pytest.skip("the unpacked GEMM kernel needs AVX2")
    runs = [{"OPENBLAS_CORETYPE": c} for c, need in CORETYPE_FLAGS.items()
            if c is not None and all(f in flags for f in need)] + [{}, {"JITCORE_ISA": "avx2"}]
    digests = set()
    for extra in runs:
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "JITCORE_ISA")}
        env.update(extra)
        done = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        digests.add(done.stdout.split()[-1])
    assert len(digests) == 1
