"""ReLU6, Hardswish, Hardsigmoid, LeakyReLU, ELU, Softplus and PReLU: torch's results and
state dicts, eager, traced, scripted and saved; the elementwise ones fuse."""

import numpy as np
import pytest

import jitcore
from jitcore import nn

from _layer_check import check_layer


def _x(*shape, dtype=np.float32):
    return (np.random.default_rng(5).standard_normal(shape) * 4).astype(dtype)


CASES = [("ReLU6", ()), ("Hardswish", ()), ("Hardsigmoid", ()), ("LeakyReLU", ()),
         ("LeakyReLU", (0.2,)), ("ELU", ()), ("ELU", (0.5,)), ("Softplus", ()), ("Softplus", (2.0, 5.0)), ("PReLU", ()), ("PReLU", (3, 0.1))]


@pytest.mark.parametrize("cls, args", CASES, ids=[f"{c}{a}" for c, a in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_torch(cls, args, dtype, tmp_path):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, cls)(*args)
    if dtype == np.float64:
        layer = layer.to(np.float64) if hasattr(layer, "to") else layer
    torch_layer = getattr(torch.nn, cls)(*args)
    if cls == "PReLU":
        layer.weight[...] = np.linspace(0.05, 0.3, layer.weight.size)
        layer.weight = nn.Parameter(layer.weight.astype(dtype))
        torch_layer = torch_layer.to(getattr(torch, np.dtype(dtype).name))
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    check_layer(torch, layer, torch_layer, (_x(2, 3, 4, 5, dtype=dtype),), tmp_path, **tol)


def test_prelu_state_dict_and_errors():
    layer = nn.PReLU(4, init=0.5)
    assert list(layer.state_dict()) == ["weight"]
    np.testing.assert_array_equal(layer.weight, np.full(4, 0.5, np.float32))
    with pytest.raises(ValueError, match="does not match the 3 channels"):
        layer(_x(2, 3, 5))
    traced = jitcore.trace(layer, (_x(2, 4, 5),))
    with pytest.raises(jitcore.KernelError, match="one per channel"):
        traced(_x(2, 3, 5))


def test_elementwise_activations_fuse_into_one_chain():
    def fn(x):
        y = nn.functional.hardsigmoid(nn.functional.hardswish(x) * 2.0) + 1.0
        return nn.functional.relu6(y * 4.0 - 1.0)

    x = _x(4, 8)
    scripted = jitcore.script(fn)
    kinds = [n.kind for n in scripted.graph_for(x).nodes]
    assert kinds == ["jc::FusedElementwise"], kinds
    np.testing.assert_allclose(scripted(x), fn(x), rtol=1e-6, atol=1e-6)


def test_functional_forms_and_inplace_arguments():
    x = _x(3, 4)
    np.testing.assert_allclose(nn.functional.relu6(x, inplace=True), np.clip(x, 0, 6))
    np.testing.assert_allclose(nn.functional.hardswish(x), x * np.clip(x + 3, 0, 6) / 6,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(nn.functional.leaky_relu(x, 0.1), np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(nn.functional.elu(x), np.where(x > 0, x, np.expm1(x)),
                               rtol=1e-6, atol=1e-6)


def test_relu6_keeps_integer_dtypes_compiled():
    x = np.arange(-3, 9).reshape(3, 4)
    layer = nn.ReLU6()
    for compiled in (jitcore.trace(layer, (x,)), jitcore.script(layer)):
        got = compiled(x)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.clip(x, 0, 6))
