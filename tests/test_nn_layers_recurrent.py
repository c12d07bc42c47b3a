"""RNN, LSTM, GRU and their cells against torch.nn (same weights both ways), eager, traced
and scripted."""

import itertools

import numpy as np
import pytest

import jitcore
from jitcore import nn

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def _torch_copy(port, torch_module, dtype):
    """``torch_module`` in ``dtype`` holding ``port``'s weights, loaded with strict=True."""
    torch_module = torch_module.double() if dtype == np.float64 else torch_module
    torch_module.load_state_dict({k: torch.from_numpy(v.copy())
                                  for k, v in port.state_dict().items()}, strict=True)
    return torch_module.eval()


def _to_torch(value):
    if isinstance(value, tuple):
        return tuple(_to_torch(v) for v in value)
    return None if value is None else torch.from_numpy(np.ascontiguousarray(value))


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in _flat(item)]
    return [result.detach().numpy() if isinstance(result, torch.Tensor) else np.asarray(result)]


def _assert_same(ours, theirs, dtype):
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **_tol(dtype))


def _hidden(rng, cls, layers, batch, hidden, dtype, proj=0, unbatched=False):
    shape = (layers, hidden) if unbatched else (layers, batch, hidden)
    h = rng.standard_normal(shape[:-1] + (proj or hidden,)).astype(dtype)
    if cls is nn.LSTM:
        return h, rng.standard_normal(shape).astype(dtype)
    return h


LAYERS = [(nn.LSTM, torch.nn.LSTM, {}), (nn.GRU, torch.nn.GRU, {}),
          (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
          (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"})]
LAYER_IDS = ["LSTM", "GRU", "RNN-tanh", "RNN-relu"]
COMBOS = list(itertools.product([1, 2], [True, False], [True, False], [True, False]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_layers, bias, batch_first, bidirectional", COMBOS)
@pytest.mark.parametrize("ours, theirs, kwargs", LAYERS, ids=LAYER_IDS)
def test_layer_matches_torch(ours, theirs, kwargs, num_layers, bias, batch_first, bidirectional,
                             dtype):
    args = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
                bidirectional=bidirectional, dropout=0.3 if num_layers > 1 else 0.0, **kwargs)
    port = ours(4, 5, dtype=dtype, **args).eval()
    reference = _torch_copy(port, theirs(4, 5, **args), dtype)
    rng = np.random.default_rng(num_layers)
    x = rng.standard_normal((3, 6, 4) if batch_first else (6, 3, 4)).astype(dtype)
    layers = num_layers * (2 if bidirectional else 1)
    hx = _hidden(rng, ours, layers, 3, 5, dtype)
    with torch.no_grad():
        _assert_same(port(x), reference(_to_torch(x)), dtype)
        _assert_same(port(x, hx), reference(_to_torch(x), _to_torch(hx)), dtype)


@pytest.mark.parametrize("ours, theirs, kwargs", LAYERS, ids=LAYER_IDS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_unbatched_input_matches_torch(ours, theirs, kwargs, batch_first):
    args = dict(num_layers=2, bidirectional=True, batch_first=batch_first, **kwargs)
    port = ours(4, 5, **args).eval()
    reference = _torch_copy(port, theirs(4, 5, **args), np.float32)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 4)).astype(np.float32)
    hx = _hidden(rng, ours, 4, None, 5, np.float32, unbatched=True)
    with torch.no_grad():
        _assert_same(port(x), reference(_to_torch(x)), np.float32)
        _assert_same(port(x, hx), reference(_to_torch(x), _to_torch(hx)), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_lstm_projection_matches_torch(bidirectional, dtype):
    args = dict(num_layers=2, bidirectional=bidirectional, proj_size=3)
    port = nn.LSTM(4, 6, dtype=dtype, **args).eval()
    reference = _torch_copy(port, torch.nn.LSTM(4, 6, **args), dtype)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 2, 4)).astype(dtype)
    hx = _hidden(rng, nn.LSTM, 4 if bidirectional else 2, 2, 6, dtype, proj=3)
    with torch.no_grad():
        _assert_same(port(x), reference(_to_torch(x)), dtype)
        _assert_same(port(x, hx), reference(_to_torch(x), _to_torch(hx)), dtype)


@pytest.mark.parametrize("ours, theirs, kwargs", LAYERS, ids=LAYER_IDS)
def test_parameter_names_shapes_and_init_follow_torch(ours, theirs, kwargs):
    args = dict(num_layers=2, bidirectional=True, **kwargs)
    port, reference = ours(3, 16, **args), theirs(3, 16, **args)
    assert [(n, p.shape) for n, p in port.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in reference.named_parameters()]
    values = np.concatenate([p.ravel() for p in port.parameters()])
    bound = 1 / np.sqrt(16)     # torch's U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    # torch's state dict, as ndarrays, loads into the port with strict=True
    port.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()}, strict=True)
    assert np.array_equal(port.weight_hh_l1_reverse,
                          reference.weight_hh_l1_reverse.detach().numpy())
    assert repr(port) == repr(reference)


CELLS = [(nn.LSTMCell, torch.nn.LSTMCell, {}), (nn.GRUCell, torch.nn.GRUCell, {}),
         (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
         (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"})]
CELL_IDS = ["LSTMCell", "GRUCell", "RNNCell-tanh", "RNNCell-relu"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("unbatched", [True, False])
@pytest.mark.parametrize("ours, theirs, kwargs", CELLS, ids=CELL_IDS)
def test_cell_matches_torch(ours, theirs, kwargs, bias, unbatched, dtype):
    port = ours(4, 5, bias=bias, dtype=dtype, **kwargs)
    reference = _torch_copy(port, theirs(4, 5, bias=bias, **kwargs), dtype)
    assert [n for n, _ in port.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert repr(port) == repr(reference)
    rng = np.random.default_rng(4)
    batch = () if unbatched else (3,)
    x = rng.standard_normal(batch + (4,)).astype(dtype)
    h = rng.standard_normal(batch + (5,)).astype(dtype)
    hx = (h, rng.standard_normal(batch + (5,)).astype(dtype)) if ours is nn.LSTMCell else h
    with torch.no_grad():
        _assert_same(port(x), reference(_to_torch(x)), dtype)
        _assert_same(port(x, hx), reference(_to_torch(x), _to_torch(hx)), dtype)


# ------------------------------------------------------------ trace and script

class _Tagger(nn.Module):
    """A bidirectional LSTM with an optional initial state, as a model holds one."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(10, 3)
        self.cell = nn.LSTMCell(3, 2)

    def forward(self, x, h0, c0):
        self.lstm.flatten_parameters()
        out, (h, c) = self.lstm(x, (h0, c0))
        out2, h2 = self.gru(out)
        h3, c3 = self.cell(out2[0])
        free, _ = self.lstm(x)
        return out2, h + c, h3 + c3, free


def _tagger_inputs():
    rng = np.random.default_rng(5)
    return (rng.standard_normal((2, 6, 4)).astype(np.float32),
            rng.standard_normal((4, 2, 5)).astype(np.float32),
            rng.standard_normal((4, 2, 5)).astype(np.float32))


class _Stack(nn.Module):
    """The layers without tuple states: jitcore.trace refuses a tuple of traced arrays as
    a submodule's argument (LSTM's (h0, c0)), so the traced model passes none."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(10, 3)
        self.rnn = nn.RNN(3, 2, nonlinearity="relu")
        self.cell = nn.GRUCell(2, 2)

    def forward(self, x, h0):
        out, (h, c) = self.lstm(x)
        out2, h2 = self.gru(out, h0)
        out3, h3 = self.rnn(out2)
        return self.cell(out3[0], h3[0]), h + c, h2


def test_a_trace_records_one_node_per_layer_call():
    jitcore.manual_seed(0)
    model = _Stack().eval()
    rng = np.random.default_rng(8)
    inputs = (rng.standard_normal((2, 6, 4)).astype(np.float32),
              rng.standard_normal((1, 6, 3)).astype(np.float32))
    traced = jitcore.trace(model, inputs)
    text = str(jitcore.freeze(traced).graph)
    for kind in ("aten::lstm(", "aten::gru(", "aten::rnn_relu(", "aten::gru_cell("):
        assert text.count(kind) == 1, text
    for got, want in zip(_flat(traced(*inputs)), _flat(model(*inputs))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_script_compiles_the_layers_with_and_without_a_state(tmp_path):
    jitcore.manual_seed(0)
    model = _Tagger().eval()
    inputs = _tagger_inputs()
    scripted = jitcore.script(model)
    for got, want in zip(_flat(scripted(*inputs)), _flat(model(*inputs))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    saved = tmp_path / "tagger.jc"
    jitcore.save(scripted, saved)
    for got, want in zip(_flat(jitcore.load(saved)(*inputs)), _flat(model(*inputs))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ours, kwargs", [(nn.LSTM, {}), (nn.GRU, {}), (nn.RNN, {}),
                                          (nn.LSTMCell, {}), (nn.GRUCell, {}), (nn.RNNCell, {})])
def test_each_layer_scripts_alone_with_an_optional_state(ours, kwargs):
    jitcore.manual_seed(0)
    port = ours(4, 5, **kwargs).eval()
    scripted = jitcore.script(port)
    rng = np.random.default_rng(6)
    cell = ours in (nn.LSTMCell, nn.GRUCell, nn.RNNCell)
    x = rng.standard_normal((3, 4) if cell else (6, 3, 4)).astype(np.float32)
    _assert_same(scripted(x), port(x), np.float32)
    unbatched = x[0]
    _assert_same(scripted(unbatched), port(unbatched), np.float32)


# ------------------------------------------------------------------ errors

def test_bad_constructor_arguments_raise_like_torch():
    with pytest.raises(ValueError, match="proj_size"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)


def test_bad_input_shapes_name_what_was_expected():
    lstm = nn.LSTM(4, 5).eval()
    with pytest.raises(ValueError, match="expected a 3-D input"):
        lstm(np.zeros((2, 3, 4, 1), np.float32))
    with pytest.raises(ValueError, match="input features 3"):
        lstm(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="hidden state"):
        lstm(np.zeros((2, 3, 4), np.float32), (np.zeros((1, 2, 5), np.float32),
                                                np.zeros((1, 2, 5), np.float32)))
    with pytest.raises(ValueError, match="1D .* or 2D"):
        nn.GRUCell(4, 5)(np.zeros((1, 2, 4), np.float32))


def test_training_mode_dropout_acts_between_layers_only():
    jitcore.manual_seed(0)
    gru = nn.GRU(4, 5, num_layers=2, dropout=0.5)
    x = np.random.default_rng(7).standard_normal((6, 3, 4)).astype(np.float32)
    eval_out = gru.eval()(x)[0]
    train_out = gru.train()(x)[0]
    assert not np.allclose(eval_out, train_out)
    single = nn.GRU(4, 5, num_layers=1, dropout=0.0)
    np.testing.assert_array_equal(single.train()(x)[0], single.eval()(x)[0])


def test_a_layer_unpickled_in_a_fresh_process_runs():
    import pickle
    import subprocess
    import sys
    lstm = nn.LSTM(3, 4, num_layers=3, bidirectional=True, proj_size=2).eval()
    x = np.random.default_rng(9).standard_normal((5, 2, 3)).astype(np.float32)
    script = ("import pickle, sys, numpy as np; lstm, x = pickle.loads(sys.stdin.buffer.read()); "
              "sys.stdout.buffer.write(pickle.dumps(lstm(x)))")
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps((lstm, x)),
                          capture_output=True, check=True, timeout=300)
    _assert_same(pickle.loads(done.stdout), lstm(x), np.float32)


def test_flat_weights_follow_assignment_and_dtype_changes():
    """torch refreshes ``_flat_weights`` on ``self.weight = ...`` and ``.double()``: so here."""
    lstm = nn.LSTM(3, 4, num_layers=2).eval()
    lstm.weight_hh_l1 = nn.Parameter(np.zeros((16, 4), np.float32))
    assert lstm._flat_weights[lstm._flat_weights_names.index("weight_hh_l1")] \
        is lstm.weight_hh_l1
    lstm.double()
    assert all(w.dtype == np.float64 for w in lstm._flat_weights)
    x = np.random.default_rng(3).standard_normal((5, 2, 3))
    scripted = jitcore.script(lstm)
    _assert_same(scripted(x), lstm(x), np.float64)
