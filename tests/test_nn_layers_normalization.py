"""GroupNorm and InstanceNorm1d/2d: torch's state dicts, eval semantics, trace and script."""

import numpy as np
import pytest

import jitcore
from jitcore import nn

from _layer_check import check_layer, load_into_torch, torch_output


def _x(*shape, seed=0, dtype=np.float32):
    return (np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5).astype(dtype)


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for value in layer.state_dict().values():
        if value.dtype.kind == "f":
            value[...] = rng.uniform(0.5, 1.5, value.shape)
    return layer


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(2, 6, 5, 4), (3, 6, 7), (2, 6)])
def test_group_norm_matches_torch(affine, shape, tmp_path):
    torch = pytest.importorskip("torch")
    layer = _randomize(nn.GroupNorm(3, 6, eps=1e-4, affine=affine)).eval()
    check_layer(torch, layer, torch.nn.GroupNorm(3, 6, eps=1e-4, affine=affine), (_x(*shape),),
                tmp_path, rtol=1e-5, atol=1e-5)


def test_group_norm_float64_and_errors():
    layer = nn.GroupNorm(2, 4)
    x = _x(2, 4, 3, dtype=np.float64)
    assert layer(x).dtype == np.float64
    assert jitcore.trace(layer, (x,))(x).dtype == np.float64
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="4 channels cannot be split into 3"):
        nn.functional.group_norm(x, 3)
    scripted = jitcore.script(nn.GroupNorm(2, 4))
    with pytest.raises(jitcore.KernelError, match="num_groups must divide"):
        scripted(_x(2, 5, 3))
    with pytest.raises(jitcore.KernelError, match="one value per channel"):
        scripted(_x(2, 6, 3))


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (2, 3, 7)), ("InstanceNorm1d", (3, 7)),
                                        ("InstanceNorm2d", (2, 3, 4, 5)),
                                        ("InstanceNorm2d", (3, 4, 5))])
@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True),
                                           (False, True)])
def test_instance_norm_matches_torch_in_eval(cls, shape, affine, track, tmp_path):
    torch = pytest.importorskip("torch")
    layer = _randomize(getattr(nn, cls)(3, affine=affine, track_running_stats=track)).eval()
    torch_layer = getattr(torch.nn, cls)(3, affine=affine, track_running_stats=track)
    check_layer(torch, layer, torch_layer, (_x(*shape),), tmp_path, rtol=1e-5, atol=1e-5)


def test_instance_norm_training_updates_running_stats_as_torch():
    torch = pytest.importorskip("torch")
    layer = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    torch_layer = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    load_into_torch(torch, layer, torch_layer)
    x = _x(4, 3, 5, 6)
    out = layer(x)
    torch_layer.train()
    with torch.no_grad():
        expected = torch_layer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(layer, name), getattr(torch_layer, name).numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert int(layer.num_batches_tracked) == 1
    layer.eval()
    np.testing.assert_allclose(layer(x), torch_output(torch, torch_layer, (x,)), rtol=1e-5,
                               atol=1e-5)


def test_instance_norm_rejects_a_wrong_rank():
    with pytest.raises(ValueError, match="InstanceNorm2d expected a 3-d or 4-d input, got a 2-d"):
        nn.InstanceNorm2d(3)(_x(3, 4))
    with pytest.raises(ValueError, match="use_input_stats=False needs running_mean"):
        nn.functional.instance_norm(_x(2, 3, 4), use_input_stats=False)
