"""Recurrent ops: ``aten::lstm``, ``aten::gru``, ``aten::rnn_tanh``, ``aten::rnn_relu`` (whole
multi-layer, optionally bidirectional sequences) and their one-step cells.

The references are plain per-step NumPy, written to be obviously right: they are the
oracle of the runtime's kernels (``_runtime/kernels/recurrent.pyx``).  The layouts are
ATen's:

* ``params`` holds, per layer and then per direction, ``w_ih``, ``w_hh``, then
  ``b_ih``, ``b_hh`` when ``has_biases``, then (LSTM only) the projection ``w_hr``;
  ATen tells the projection from the count of tensors per layer and direction.
* gate rows are stacked in ATen's order: LSTM ``i, f, g, o``, GRU ``r, z, n``.
* ``input`` is ``(T, N, F)`` or, with ``batch_first``, ``(N, T, F)``; ``hx`` states are
  ``(num_layers * num_directions, N, H)`` whatever ``batch_first`` says.
* training-mode ``dropout`` applies to every layer's output but the last.

``jc::lstm_packed`` (and ``gru``, ``rnn_tanh``, ``rnn_relu``) are the inference forms
that ``passes/pack_recurrent_weights.py`` puts in a frozen graph: the same params with
every ``w_ih`` and ``w_hh`` stored transposed, ``(features, gates * H)`` and
``(hidden_out, gates * H)`` row-major, so that the runtime's products read them without
repacking; no dropout, no training mode.
"""

import numpy as np
import scipy.special

from jitcore._runtime.types import TensorType

from ..effects import Effect
from ..registry import register
from ..shapes import UNKNOWN, known, tensor_of

__all__ = ["GATES", "flat_weight_names", "packed_params"]

# mode -> number of gate blocks stacked in w_ih / w_hh
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def flat_weight_names(num_layers, bidirectional, bias, proj_size=0):
    """torch's ``_flat_weights_names``: the ``params`` order of the recurrent ops."""
    names = []
    for layer in range(num_layers):
        for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
            kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
            if proj_size > 0:
                kinds.append("weight_hr")
            names += [f"{kind}_l{layer}{suffix}" for kind in kinds]
    return names


def packed_params(params, num_layers, bidirectional):
    """``params`` with each ``w_ih`` and ``w_hh`` transposed (C-contiguous): the layout of the
    ``jc::*_packed`` ops, and its own inverse."""
    per = max(len(params) // max(num_layers * (2 if bidirectional else 1), 1), 1)
    return [np.ascontiguousarray(w.T) if k % per < 2 else w for k, w in enumerate(params)]


def _affine(x, weight, bias):
    out = x @ weight.T
    return out if bias is None else out + bias


def _check_dtypes(name, tensors):
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise TypeError(f"{name}: input, states and weights must share one float dtype, "
                        f"got {sorted(str(d) for d in dtypes)}")


def _check_2d(name, what, x):
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D (batch, features) {what}, got shape {x.shape}")


# --------------------------------------------------------------- one step


def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = scipy.special.expit(f) * c + scipy.special.expit(i) * np.tanh(g)
    h = scipy.special.expit(o) * np.tanh(c)
    return (h if w_hr is None else h @ w_hr.T), c


def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    ir, iz, in_ = np.split(_affine(x, w_ih, b_ih), 3, axis=-1)
    hr, hz, hn = np.split(_affine(h, w_hh, b_hh), 3, axis=-1)
    r, z = scipy.special.expit(ir + hr), scipy.special.expit(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h


def _rnn_step(activation):
    def step(x, h, w_ih, w_hh, b_ih, b_hh):
        return activation(_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh))
    return step


_ACTIVATIONS = {"rnn_tanh": np.tanh, "rnn_relu": lambda x: np.maximum(x, 0)}


def _cell_weights(name, x, h, w_ih, w_hh, gates):
    _check_2d(name, "input", x)
    _check_2d(name, "hidden state", h)
    hidden = w_hh.shape[1] if w_hh.ndim == 2 else -1
    if (w_ih.shape != (gates * hidden, x.shape[1]) or w_hh.shape != (gates * hidden, h.shape[1])
            or h.shape[0] != x.shape[0]):
        raise ValueError(f"{name}: input {x.shape}, hidden {h.shape}, w_ih {w_ih.shape} and "
                         f"w_hh {w_hh.shape} do not fit ({gates} gates)")


def _lstm_cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    if len(hx) != 2:
        raise ValueError(f"lstm_cell: hx must be [h, c], got {len(hx)} tensors")
    _check_dtypes("lstm_cell", [input, *hx, w_ih, w_hh, b_ih, b_hh])
    _cell_weights("lstm_cell", input, hx[0], w_ih, w_hh, 4)
    return _lstm_step(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def _simple_cell(name, step, gates):
    def reference(input, hx, w_ih, w_hh, b_ih, b_hh):
        _check_dtypes(name, [input, hx, w_ih, w_hh, b_ih, b_hh])
        _cell_weights(name, input, hx, w_ih, w_hh, gates)
        return step(input, hx, w_ih, w_hh, b_ih, b_hh)
    return reference


# ---------------------------------------------------------- whole sequences


def _dropout(x, p):
    keep = np.random.default_rng().random(x.shape) >= p
    return np.where(keep, x / (1.0 - p), 0).astype(x.dtype) if p < 1 else np.zeros_like(x)


def _sequence(mode):
    gates = GATES[mode]
    step = _gru_step if mode == "gru" else _rnn_step(_ACTIVATIONS.get(mode))

    def reference(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                  batch_first):
        name = mode
        states = list(hx) if mode == "lstm" else [hx]
        _check_dtypes(name, [input, *states, *params])
        if input.ndim != 3:
            raise ValueError(f"{name}: expected a 3-D input (seq, batch, feature), or "
                             f"(batch, seq, feature) with batch_first, got shape {input.shape}")
        directions = 2 if bidirectional else 1
        per = len(params) // max(num_layers * directions, 1)
        has_proj = mode == "lstm" and per == (5 if has_biases else 3)
        if num_layers < 1 or per * num_layers * directions != len(params) \
                or per != (2 + 2 * bool(has_biases) + has_proj):
            raise ValueError(f"{name}: {len(params)} params do not fit num_layers={num_layers}, "
                             f"bidirectional={bidirectional}, has_biases={has_biases}")
        x = input.swapaxes(0, 1) if batch_first else input
        h0 = states[0]
        if h0.shape[0] != num_layers * directions or h0.shape[1] != x.shape[1]:
            raise ValueError(f"{name}: expected hidden state of shape "
                             f"({num_layers * directions}, {x.shape[1]}, H), got {h0.shape}")
        h_n, c_n = [], []
        for layer in range(num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                w = params[k * per:(k + 1) * per]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
                w_hr = w[-1] if has_proj else None
                hidden = w_hh.shape[1] if not has_proj else w_hr.shape[1]
                if w_ih.shape != (gates * hidden, x.shape[2]) or h0.shape[2] != w_hh.shape[1]:
                    raise ValueError(f"{name}: layer {layer} expects {w_ih.shape[1]} input "
                                     f"features and a hidden size of {w_hh.shape[1]}, got input "
                                     f"features {x.shape[2]} and hidden state {h0.shape}")
                h = states[0][k]
                c = states[1][k] if mode == "lstm" else None
                out = np.empty(x.shape[:2] + (h.shape[-1],), x.dtype)
                for t in (range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])):
                    if mode == "lstm":
                        h, c = _lstm_step(x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
                    else:
                        h = step(x[t], h, w_ih, w_hh, b_ih, b_hh)
                    out[t] = h
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = np.concatenate(outs, axis=-1) if directions == 2 else outs[0]
            if train and dropout > 0 and layer < num_layers - 1:
                x = _dropout(x, dropout)
        output = x.swapaxes(0, 1) if batch_first else x
        results = (np.ascontiguousarray(output), np.stack(h_n))
        return results + (np.stack(c_n),) if mode == "lstm" else results

    return reference


def _sequence_rule(mode, flags_at=7):
    """``flags_at``: the position of ``bidirectional`` (``batch_first`` follows it)."""
    def rule(types, constants):
        x = tensor_of(types[0])
        outputs = 3 if mode == "lstm" else 2
        # an LSTM's hx is a Tensor[], whose type carries no element shape
        h0 = TensorType.get() if mode == "lstm" else tensor_of(types[1])
        state = h0.shape if h0.shape is not None and len(h0.shape) == 3 else (None,) * 3
        bidirectional, batch_first = constants[flags_at], constants[flags_at + 1]
        features = (None if state[2] is None or not known(bidirectional)
                    else state[2] * (2 if bidirectional else 1))
        if x.shape is None or len(x.shape) != 3 or not known(batch_first):
            output = (None, None, features)
        else:
            output = x.shape[:2] + (features,)
        if known(batch_first) and x.shape is not None and len(x.shape) == 3:
            state = (state[0], x.shape[0 if batch_first else 1], state[2])
        return (TensorType(x.dtype, output),) + (TensorType(x.dtype, state),) * (outputs - 1)
    return rule


def _sequence_is_deterministic(input, hx, params, has_biases, num_layers, dropout, train,
                               bidirectional, batch_first):
    """Dropout is drawn only in training, between layers, with p > 0."""
    return train is False or (dropout is not UNKNOWN and dropout == 0.0) or num_layers == 1


for _mode in GATES:
    _states = "Tensor[] hx" if _mode == "lstm" else "Tensor hx"
    _returns = "(Tensor, Tensor, Tensor)" if _mode == "lstm" else "(Tensor, Tensor)"
    register(f"aten::{_mode}.input(Tensor input, {_states}, Tensor[] params, bool has_biases, "
             f"int num_layers, float dropout, bool train, bool bidirectional, bool batch_first) "
             f"-> {_returns}",
             reference=_sequence(_mode), infer=_sequence_rule(_mode), effect=Effect.RANDOM,
             deterministic_if=_sequence_is_deterministic,
             doc=f"{_mode} over a whole sequence: layers, directions, optional batch_first",
             handler=("rnn", _mode))


def _packed_sequence(mode):
    unpacked = _sequence(mode)

    def reference(input, hx, params, has_biases, num_layers, bidirectional, batch_first):
        if not all(isinstance(w, np.ndarray) for w in params):
            raise TypeError(f"{mode}_packed: params must be a list of arrays")
        return unpacked(input, hx, packed_params(list(params), num_layers, bidirectional),
                        has_biases, num_layers, 0.0, False, bidirectional, batch_first)

    return reference


for _mode in GATES:
    _states = "Tensor[] hx" if _mode == "lstm" else "Tensor hx"
    _returns = "(Tensor, Tensor, Tensor)" if _mode == "lstm" else "(Tensor, Tensor)"
    register(f"jc::{_mode}_packed(Tensor input, {_states}, Tensor[] params, bool has_biases, "
             f"int num_layers, bool bidirectional, bool batch_first) -> {_returns}",
             reference=_packed_sequence(_mode), infer=_sequence_rule(_mode, flags_at=5),
             doc=f"aten::{_mode} in eval mode on packed params: every w_ih and w_hh "
                 f"transposed, (features, gates * H) and (hidden_out, gates * H)",
             handler=("rnn_packed", _mode))


def _cell_rule(outputs):
    def rule(types, constants):
        x, w_hh = tensor_of(types[0]), tensor_of(types[3])
        batch = x.shape[0] if x.shape is not None and len(x.shape) == 2 else None
        hidden = w_hh.shape[1] if w_hh.shape is not None and len(w_hh.shape) == 2 else None
        out = TensorType(x.dtype, (batch, hidden))
        return (out,) * outputs
    return rule


register("aten::lstm_cell(Tensor input, Tensor[] hx, Tensor w_ih, Tensor w_hh, Tensor? b_ih=None, "
         "Tensor? b_hh=None) -> (Tensor, Tensor)", reference=_lstm_cell, infer=_cell_rule(2),
         doc="one LSTM step: (h, c) from input and [h, c]", handler=("rnn_cell", "lstm"))
for _mode, _step in (("gru", _gru_step), ("rnn_tanh", _rnn_step(np.tanh)),
                     ("rnn_relu", _rnn_step(_ACTIVATIONS["rnn_relu"]))):
    register(f"aten::{_mode}_cell(Tensor input, Tensor hx, Tensor w_ih, Tensor w_hh, "
             f"Tensor? b_ih=None, Tensor? b_hh=None) -> Tensor",
             reference=_simple_cell(f"{_mode}_cell", _step, GATES[_mode]), infer=_cell_rule(1),
             doc=f"one {_mode} step", handler=("rnn_cell", _mode))
