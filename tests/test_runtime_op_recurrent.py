"""Handlers of op_recurrent (lstm, gru, rnn_tanh, rnn_relu and their cells) against the
registry's per-step NumPy references."""

import numpy as np
import pytest

import jitcore
from jitcore import ops
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.ops.defs.recurrent import GATES

MODES = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def _sequence_graph(mode, n_params, has_biases, num_layers, dropout, train, bidirectional,
                    batch_first):
    """A graph running one sequence op on (x, h0[, c0], *params)."""
    states = ["%h0"] + (["%c0"] if mode == "lstm" else [])
    params = [f"%p{k}" for k in range(n_params)]
    inputs = ", ".join(f"{v} : Tensor" for v in ["%x"] + states + params)
    outputs = ["%y", "%hn"] + (["%cn"] if mode == "lstm" else [])
    lines = [f"graph({inputs}):"]
    if mode == "lstm":
        lines.append("  %hx : Tensor[] = prim::ListConstruct(%h0, %c0)")
    lines += [f"  %params : Tensor[] = prim::ListConstruct({', '.join(params)})",
              f"  %biases : bool = prim::Constant[value={int(has_biases)}]()",
              f"  %layers : int = prim::Constant[value={num_layers}]()",
              f"  %dropout : float = prim::Constant[value={dropout}]()",
              f"  %train : bool = prim::Constant[value={int(train)}]()",
              f"  %bidirectional : bool = prim::Constant[value={int(bidirectional)}]()",
              f"  %batch_first : bool = prim::Constant[value={int(batch_first)}]()",
              f"  {', '.join(o + ' : Tensor' for o in outputs)} = aten::{mode}("
              f"%x, {'%hx' if mode == 'lstm' else '%h0'}, %params, %biases, %layers, %dropout, "
              f"%train, %bidirectional, %batch_first)",
              f"  return ({', '.join(outputs)})"]
    return "\n".join(lines)


def _weights(rng, mode, num_layers, directions, features, hidden, biases, dtype, proj=0):
    gates = GATES[mode] * hidden
    params = []
    for layer in range(num_layers):
        for _ in range(directions):
            size = features if layer == 0 else directions * (proj or hidden)
            params += [rng.uniform(-0.5, 0.5, (gates, size)),
                       rng.uniform(-0.5, 0.5, (gates, proj or hidden))]
            if biases:
                params += [rng.uniform(-0.5, 0.5, gates), rng.uniform(-0.5, 0.5, gates)]
            if proj:
                params.append(rng.uniform(-0.5, 0.5, (proj, hidden)))
    return [p.astype(dtype) for p in params]


def _case(mode, dtype, num_layers=2, bidirectional=True, batch_first=False, biases=True,
          steps=5, batch=3, features=4, hidden=6, proj=0, seed=0):
    rng = np.random.default_rng(seed)
    directions = 2 if bidirectional else 1
    x = rng.standard_normal((batch, steps, features) if batch_first else (steps, batch, features))
    states = [rng.standard_normal((num_layers * directions, batch, proj or hidden))]
    if mode == "lstm":
        states.append(rng.standard_normal((num_layers * directions, batch, hidden)))
    params = _weights(rng, mode, num_layers, directions, features, hidden, biases, dtype, proj)
    return [x.astype(dtype)] + [s.astype(dtype) for s in states], params


def _run_sequence(mode, arrays, params, has_biases, num_layers, bidirectional, batch_first,
                  dropout=0.0, train=False):
    text = _sequence_graph(mode, len(params), has_biases, num_layers, dropout, train,
                           bidirectional, batch_first)
    return compile_graph(parse_graph(text), fallback=False)(*arrays, *params)


def _reference(mode, arrays, params, has_biases, num_layers, bidirectional, batch_first):
    hx = arrays[1:] if mode == "lstm" else arrays[1]
    return ops.get(f"aten::{mode}.input").reference(arrays[0], hx, params, has_biases,
                                                    num_layers, 0.0, False, bidirectional,
                                                    batch_first)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, biases", [
    (1, False, False, True), (2, True, False, True), (3, False, True, False),
    (2, True, True, False), (1, True, False, True)])
def test_sequence_matches_the_reference(mode, dtype, num_layers, bidirectional, batch_first,
                                        biases):
    arrays, params = _case(mode, dtype, num_layers, bidirectional, batch_first, biases)
    got = _run_sequence(mode, arrays, params, biases, num_layers, bidirectional, batch_first)
    want = _reference(mode, arrays, params, biases, num_layers, bidirectional, batch_first)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("biases", [True, False])
def test_lstm_projection_matches_the_reference(dtype, biases):
    arrays, params = _case("lstm", dtype, 2, True, False, biases, hidden=6, proj=3)
    got = _run_sequence("lstm", arrays, params, biases, 2, True, False)
    want = _reference("lstm", arrays, params, biases, 2, True, False)
    assert [g.shape for g in got] == [(5, 3, 6), (4, 3, 3), (4, 3, 6)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **_tol(dtype))


@pytest.mark.parametrize("mode", MODES)
def test_saturated_gates_match_the_reference(mode):
    arrays, params = _case(mode, np.float32, 2, True, False, True)
    arrays = [a * 200 for a in arrays]
    got = _run_sequence(mode, arrays, params, True, 2, True, False)
    want = _reference(mode, arrays, params, True, 2, True, False)
    for g, w in zip(got, want):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_non_contiguous_inputs_and_weights_are_read_as_their_values():
    arrays, params = _case("gru", np.float64, 2, True, False, True)
    arrays = [np.asfortranarray(a) for a in arrays]
    params = [np.asfortranarray(p) if p.ndim == 2 else p for p in params]
    got = _run_sequence("gru", arrays, params, True, 2, True, False)
    want = _reference("gru", arrays, params, True, 2, True, False)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **_tol(np.float64))


@pytest.mark.parametrize("mode", MODES)
def test_sequence_bits_do_not_depend_on_the_thread_count(mode):
    # large enough for the two directions and the input projection to go parallel
    arrays, params = _case(mode, np.float32, 2, True, True, True, steps=32, batch=4,
                           features=64, hidden=96)
    before = jitcore.get_num_threads()
    try:
        jitcore.set_num_threads(1)
        one = _run_sequence(mode, arrays, params, True, 2, True, True)
        jitcore.set_num_threads(2)
        two = _run_sequence(mode, arrays, params, True, 2, True, True)
    finally:
        jitcore.set_num_threads(before)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one, two))


def test_calls_from_many_threads_at_once_give_the_serial_results():
    from concurrent.futures import ThreadPoolExecutor
    arrays, params = _case("lstm", np.float32, 2, True, False, True, steps=16, features=32,
                           hidden=48)
    text = _sequence_graph("lstm", len(params), True, 2, 0.0, False, True, False)
    compiled = compile_graph(parse_graph(text), fallback=False)
    serial = compiled(*arrays, *params)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: compiled(*arrays, *params), range(16)))
    for result in results:
        assert all(a.tobytes() == b.tobytes() for a, b in zip(result, serial))


def test_empty_sequence_returns_the_initial_state():
    arrays, params = _case("lstm", np.float32, 1, False, False, True, steps=0)
    y, h, c = _run_sequence("lstm", arrays, params, True, 1, False, False)
    assert y.shape == (0, 3, 6)
    np.testing.assert_array_equal(h, arrays[1])
    np.testing.assert_array_equal(c, arrays[2])


def test_training_dropout_between_layers_zeroes_and_scales():
    # identity-like weights are not needed: dropout p=1 zeroes the first layer's output,
    # so the second layer sees zeros; its result equals a run on a zero input
    arrays, params = _case("rnn_tanh", np.float64, 2, False, False, True)
    dropped = _run_sequence("rnn_tanh", arrays, params, True, 2, False, False, dropout=1.0,
                            train=True)
    layer2 = params[4:]
    zeros = [np.zeros((5, 3, 6)), arrays[1][1:]]
    want = ops.get("aten::rnn_tanh.input").reference(zeros[0], zeros[1], layer2, True, 1, 0.0,
                                                     False, False, False)
    np.testing.assert_allclose(dropped[0], want[0], **_tol(np.float64))
    np.testing.assert_allclose(dropped[1][1], want[1][0], **_tol(np.float64))
    eval_mode = _run_sequence("rnn_tanh", arrays, params, True, 2, False, False, dropout=1.0)
    assert not np.allclose(eval_mode[0], dropped[0])


# ------------------------------------------------------------------ cells

def _cell_graph(mode, biases):
    hx = "%hx" if mode == "lstm" else "%h"
    outs = ["%h1", "%c1"] if mode == "lstm" else ["%h1"]
    lines = ["graph(%x : Tensor, %h : Tensor, %c : Tensor, %w_ih : Tensor, %w_hh : Tensor, "
             "%b_ih : Tensor, %b_hh : Tensor):"]
    if mode == "lstm":
        lines.append("  %hx : Tensor[] = prim::ListConstruct(%h, %c)")
    if not biases:
        lines.append("  %none : NoneType = prim::Constant()")
    b = "%b_ih, %b_hh" if biases else "%none, %none"
    lines += [f"  {', '.join(o + ' : Tensor' for o in outs)} = aten::{mode}_cell(%x, {hx}, "
              f"%w_ih, %w_hh, {b})",
              f"  return ({', '.join(outs)})"]
    return "\n".join(lines)


def _run_cell(mode, biases, x, h, c, w_ih, w_hh, b_ih, b_hh):
    return compile_graph(parse_graph(_cell_graph(mode, biases)), fallback=False)(
        x, h, c, w_ih, w_hh, b_ih, b_hh)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("biases", [True, False])
@pytest.mark.parametrize("mode", MODES)
def test_cell_matches_the_reference(mode, biases, dtype):
    rng = np.random.default_rng(3)
    gates = GATES[mode] * 5
    x, h, c = (rng.standard_normal(s).astype(dtype) for s in ((3, 4), (3, 5), (3, 5)))
    w_ih = rng.uniform(-1, 1, (gates, 4)).astype(dtype)
    w_hh = rng.uniform(-1, 1, (gates, 5)).astype(dtype)
    b_ih, b_hh = rng.uniform(-1, 1, gates).astype(dtype), rng.uniform(-1, 1, gates).astype(dtype)
    h_before, c_before = h.copy(), c.copy()
    got = _run_cell(mode, biases, x, h, c, w_ih, w_hh, b_ih, b_hh)
    assert np.array_equal(h, h_before) and np.array_equal(c, c_before)   # states are inputs only
    hx = [h, c] if mode == "lstm" else h
    want = ops.get(f"aten::{mode}_cell").reference(x, hx, w_ih, w_hh, *((b_ih, b_hh) if biases
                                                                         else (None, None)))
    got, want = (got, want) if mode == "lstm" else ((got,), (want,))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **_tol(dtype))


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("change, message", [
    (lambda a, p: ([a[0][0]] + a[1:], p), "3-D input"),
    (lambda a, p: ([a[0][..., :3]] + a[1:], p), "weight_ih"),
    (lambda a, p: ([a[0], a[1][:, :2]] + a[2:], p), "h0"),
    (lambda a, p: (a, p[:-1]), "params"),
    (lambda a, p: (a, [q.astype(np.float64) for q in p]), "dtype"),
    (lambda a, p: ([x.astype(np.int64) for x in a], p), "float32 or float64"),
])
def test_bad_inputs_raise_a_clear_error(change, message):
    arrays, params = _case("lstm", np.float32, 2, True, False, True)
    arrays, params = change(arrays, params)
    with pytest.raises(KernelError, match=message):
        _run_sequence("lstm", arrays, params, True, 2, True, False)


@pytest.mark.parametrize("num_layers", [0, -1, 3, 1 << 40])
def test_a_num_layers_the_params_do_not_fit_raises_a_clear_error(num_layers):
    arrays, params = _case("gru", np.float32, 2, True, False, True)
    with pytest.raises(KernelError, match="number of params"):
        _run_sequence("gru", arrays, params, True, num_layers, True, False)


def test_bad_cell_shapes_raise_a_clear_error():
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((2, 5))
    w_ih, w_hh, b = rng.standard_normal((15, 4)), rng.standard_normal((15, 5)), np.zeros(15)
    with pytest.raises(KernelError, match="hx must have shape"):
        _run_cell("gru", True, x, h, h, w_ih, w_hh, b, b)
    with pytest.raises(KernelError, match="weight_ih"):
        _run_cell("gru", True, x[:, :2], h[:1].repeat(3, 0), h, w_ih, w_hh, b, b)


_ISA_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_runtime_op_recurrent import _case, _run_sequence
out = []
for mode in ("lstm", "gru", "rnn_tanh"):
    arrays, params = _case(mode, np.float32, 2, True, True, True, steps=9, batch=2,
                           features=20, hidden=24)
    out += list(_run_sequence(mode, arrays, params, True, 2, True, True))
np.savez(sys.argv[1], *out)
"""


def test_sequence_bits_do_not_depend_on_the_isa_level(tmp_path):
    import os
    import subprocess
    import sys
    from jitcore._runtime import cpu
    levels = ("baseline", "avx2", "avx512")
    results = {}
    for level in levels[:levels.index(cpu.cpu_isa()) + 1]:
        path = tmp_path / f"{level}.npz"
        env = dict(os.environ, JITCORE_ISA=level)
        script = _ISA_SCRIPT.format(tests=os.path.dirname(__file__))
        subprocess.run([sys.executable, "-c", script, str(path)], env=env, check=True,
                       timeout=300)
        with np.load(path) as saved:
            results[level] = [saved[k].tobytes() for k in sorted(saved.files)]
    first = results["baseline"]
    assert all(outputs == first for outputs in results.values())
