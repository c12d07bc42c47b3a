"""jitcore.nn.Module: registration, tree walking, state dicts, modes, repr."""

import numpy as np
import pytest

from jitcore import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.block = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.register_buffer("offset", np.zeros(3, dtype=np.float32))
        self.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)

    def forward(self, x):
        return self.block(self.layer1(x)) * self.scale + self.offset


def test_attributes_register_by_kind():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "layer1.weight", "layer1.bias", "block.0.weight", "block.0.bias"]
    assert [n for n, _ in net.named_buffers()] == ["offset", "scratch"]
    assert [n for n, _ in net.named_children()] == ["layer1", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "layer1", "block", "block.0", "block.1"]
    assert "scale" not in net.__dict__


def test_parameter_defaults_and_arithmetic_results():
    p = nn.Parameter([1, 2])
    assert p.dtype == np.float32 and isinstance(p, nn.Parameter)
    assert type(p * 2) is np.ndarray
    assert type(np.tanh(p)) is np.ndarray


def test_state_dict_round_trip_in_place():
    a, b = Net(), Net()
    state = {k: v.copy() for k, v in a.state_dict().items()}
    assert list(state) == ["scale", "offset", "layer1.weight", "layer1.bias",
                           "block.0.weight", "block.0.bias"]
    weight_before = b.layer1.weight
    assert b.load_state_dict(state) == ([], [])
    assert b.layer1.weight is weight_before
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(a(x), b(x))


def test_load_state_dict_reports_every_problem():
    net = Net()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    del state["offset"]
    state["extra"] = np.zeros(1)
    state["layer1.weight"] = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Missing key(s) in state_dict: 'offset'" in message
    assert "Unexpected key(s) in state_dict: 'extra'" in message
    assert "size mismatch for layer1.weight" in message


def test_load_state_dict_non_strict_returns_keys_but_checks_shapes():
    net = Net()
    state = {"layer1.bias": np.full(3, 7.0), "other": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["other"] and "offset" in result.missing_keys
    np.testing.assert_array_equal(net.layer1.bias, np.full(3, 7.0, np.float32))
    with pytest.raises(ValueError, match="size mismatch"):
        net.load_state_dict({"layer1.bias": np.zeros(4)}, strict=False)


def test_train_eval_propagate():
    net = Net()
    assert net.eval() is net and not net.block[1].training
    assert net.train().block[1].training


def test_assignment_errors_are_clear():
    net = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = np.ones(3)
    with pytest.raises(TypeError, match="buffer 'offset'"):
        net.offset = [1, 2, 3]

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_repr_looks_like_torch():
    text = repr(Net())
    assert text.startswith("Net(\n  (layer1): Linear(in_features=4, out_features=3, bias=True)")
    assert "(block): Sequential(\n    (0): Linear" in text


def test_to_double_casts_floating_state_only():
    bn = nn.BatchNorm1d(3).double()
    assert bn.weight.dtype == np.float64 and bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64


def test_containers():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    layers.append(nn.Sigmoid())
    assert len(layers) == 3 and isinstance(layers[-1], nn.Sigmoid)
    table = nn.ModuleDict({"a": nn.ReLU()})
    table["b"] = nn.Linear(1, 1)
    assert list(table) == ["a", "b"] and [n for n, _ in table.named_parameters()] == [
        "b.weight", "b.bias"]
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Identity())
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(IndexError):
        seq[5]


def test_manual_seed_makes_init_reproducible():
    nn.init.manual_seed(3)
    a = nn.Linear(5, 4)
    nn.init.manual_seed(3)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight, b.weight)
    bound = 1 / np.sqrt(5)
    assert np.all(np.abs(a.weight) <= bound) and np.all(np.abs(a.bias) <= bound)
