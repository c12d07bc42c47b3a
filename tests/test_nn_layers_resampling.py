"""ConvTranspose1d/2d, Upsample, PixelShuffle/PixelUnshuffle and their functional forms
against torch (eager, traced and scripted), and the layers' torch-compatible state."""

import math

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.nn import functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(150)
DTYPES = [np.float32, np.float64]


def _x(dtype, *shape):
    return RNG.standard_normal(shape).astype(dtype)


def _load_torch_state(port, original):
    port.load_state_dict({k: v.detach().numpy() for k, v in original.state_dict().items()},
                         strict=True)


def _torch_out(module, x, *args):
    with torch.no_grad():
        return module(torch.from_numpy(x), *args).numpy()


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def _every_way(port, x, expected, dtype, script=True):
    """Eager, traced and scripted results of ``port(x)`` all equal ``expected``."""
    np.testing.assert_allclose(port(x), expected, **_tol(dtype))
    np.testing.assert_allclose(jitcore.trace(port, (x,))(x), expected, **_tol(dtype))
    if script:
        np.testing.assert_allclose(jitcore.script(port)(x), expected, **_tol(dtype))

# ------------------------------------------------------------ ConvTranspose


TRANSPOSED = [
    # kwargs shared by torch and jitcore
    dict(kernel_size=3),
    dict(kernel_size=2, stride=2),
    dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2),
    dict(kernel_size=3, stride=3, padding=2, output_padding=1, dilation=2, bias=False),
    dict(kernel_size=1, groups=4),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", TRANSPOSED)
def test_conv_transpose2d_matches_torch(dtype, kwargs):
    original = torch.nn.ConvTranspose2d(8, 4, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    port = nn.ConvTranspose2d(8, 4, dtype=dtype, **kwargs)
    _load_torch_state(port, original)
    x = _x(dtype, 2, 8, 5, 6)
    _every_way(port, x, _torch_out(original, x), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [k for k in TRANSPOSED
                                    if not isinstance(k["kernel_size"], tuple)])
def test_conv_transpose1d_matches_torch(dtype, kwargs):
    original = torch.nn.ConvTranspose1d(8, 4, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    port = nn.ConvTranspose1d(8, 4, dtype=dtype, **kwargs)
    _load_torch_state(port, original)
    x = _x(dtype, 2, 8, 9)
    _every_way(port, x, _torch_out(original, x), dtype)
    np.testing.assert_allclose(port(x[0]), _torch_out(original, x[0]), **_tol(dtype))


def test_conv_transpose_state_dict_and_init_follow_torch():
    torch.manual_seed(0)
    original = torch.nn.ConvTranspose2d(6, 8, (3, 2), groups=2)
    port = nn.ConvTranspose2d(6, 8, (3, 2), groups=2)
    assert port.weight.shape == tuple(original.weight.shape) == (6, 4, 3, 2)
    assert list(port.state_dict()) == list(original.state_dict())
    _load_torch_state(port, original)
    original.load_state_dict({k: torch.from_numpy(v) for k, v in port.state_dict().items()},
                             strict=True)
    # torch's bound: kaiming_uniform(a=sqrt(5)) is U(-1/sqrt(fan_in), ..), fan_in = (out/groups) * k
    bound = 1 / math.sqrt(4 * 3 * 2)
    fresh = nn.ConvTranspose2d(6, 8, (3, 2), groups=2)
    assert np.abs(fresh.weight).max() <= bound and np.abs(fresh.bias).max() <= bound
    assert np.abs(fresh.weight).max() > 0.8 * bound
    assert nn.ConvTranspose1d(3, 5, 4, bias=False).bias is None
    assert "output_padding=(1, 1)" in repr(nn.ConvTranspose2d(2, 2, 3, 2, output_padding=1))


def test_conv_transpose_output_size_picks_the_output_padding_as_torch():
    original = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    port = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    _load_torch_state(port, original)
    x = _x(np.float32, 1, 4, 5, 5)
    for size in ([10, 9], [1, 2, 9, 10]):
        np.testing.assert_allclose(port(x, output_size=size), _torch_out(original, x, size),
                                   rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of"):
        port(x, output_size=[12, 9])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        port(x, output_size=[9])


def test_conv_transpose_rejects_what_torch_rejects():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.ConvTranspose2d(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(6, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output_padding .* must be smaller"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)(_x(np.float32, 1, 2, 4, 4))
    with pytest.raises(ValueError, match="input has 3 channels"):
        nn.ConvTranspose1d(2, 2, 3)(_x(np.float32, 1, 3, 4))

# ------------------------------------------------------------ interpolation


INTERPOLATE_2D = [
    dict(size=(10, 12)), dict(size=7), dict(size=(3, 4)), dict(scale_factor=2),
    dict(scale_factor=1.7), dict(scale_factor=(0.6, 2.5)),
    dict(scale_factor=1.7, recompute_scale_factor=True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False),
                                                ("bilinear", True)])
@pytest.mark.parametrize("kwargs", INTERPOLATE_2D)
def test_upsample_2d_matches_torch(dtype, mode, align_corners, kwargs):
    original = torch.nn.Upsample(mode=mode, align_corners=align_corners, **kwargs)
    port = nn.Upsample(mode=mode, align_corners=align_corners, **kwargs)
    x = _x(dtype, 2, 3, 5, 6)
    # a scripted nearest Upsample knows its rank only from per-dimension sizes (see below)
    per_dim = isinstance(kwargs.get("size", kwargs.get("scale_factor")), tuple)
    _every_way(port, x, _torch_out(original, x), dtype, script=mode != "nearest" or per_dim)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("linear", False),
                                                ("linear", True)])
@pytest.mark.parametrize("kwargs", [dict(size=11), dict(size=(4,)), dict(scale_factor=2.5),
                                    dict(scale_factor=(0.5,))])
def test_upsample_1d_matches_torch(dtype, mode, align_corners, kwargs):
    original = torch.nn.Upsample(mode=mode, align_corners=align_corners, **kwargs)
    port = nn.Upsample(mode=mode, align_corners=align_corners, **kwargs)
    x = _x(dtype, 2, 3, 7)
    expected = _torch_out(original, x)
    np.testing.assert_allclose(port(x), expected, **_tol(dtype))
    np.testing.assert_allclose(jitcore.trace(port, (x,))(x), expected, **_tol(dtype))
    if mode != "nearest" or isinstance(kwargs.get("size", kwargs.get("scale_factor")), tuple):
        np.testing.assert_allclose(jitcore.script(port)(x), expected, **_tol(dtype))


def test_scripted_nearest_upsample_needs_per_dimension_sizes_when_the_rank_is_unknown():
    port = nn.Upsample(scale_factor=2)
    with pytest.raises(jitcore.JitcoreError, match="one value per spatial dimension"):
        jitcore.script(port)


def test_interpolate_uses_the_scale_factor_not_the_size_ratio():
    # 5 * 1.7 -> 8 outputs: 1 / 1.7 and 5 / 8 pick different source positions
    x = _x(np.float64, 1, 1, 5, 5)
    by_scale = F.interpolate(x, scale_factor=1.7, mode="bilinear")
    by_size = F.interpolate(x, size=(8, 8), mode="bilinear")
    assert by_scale.shape == by_size.shape and not np.allclose(by_scale, by_size)
    recomputed = F.interpolate(x, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)
    np.testing.assert_array_equal(recomputed, by_size)
    np.testing.assert_allclose(by_scale, torch.nn.functional.interpolate(
        torch.from_numpy(x), scale_factor=1.7, mode="bilinear").numpy(), rtol=1e-12)


def test_interpolate_rejects_what_torch_rejects():
    x = _x(np.float32, 1, 1, 4, 4)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x, size=8, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=8, align_corners=True)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        F.interpolate(x, size=8, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=8, mode="bicubic")
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(8, 8, 8))

# ------------------------------------------------------------ pixel shuffle


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle_and_unshuffle_match_torch(dtype):
    x = _x(dtype, 2, 18, 3, 4)
    _every_way(nn.PixelShuffle(3), x, _torch_out(torch.nn.PixelShuffle(3), x), dtype)
    y = _x(dtype, 2, 2, 6, 4)
    _every_way(nn.PixelUnshuffle(2), y, _torch_out(torch.nn.PixelUnshuffle(2), y), dtype)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 3), 3), x)
    assert repr(nn.PixelShuffle(3)) == repr(torch.nn.PixelShuffle(3))


def test_functional_conv_transpose_matches_torch():
    x, w, b = _x(np.float32, 2, 4, 5, 5), _x(np.float32, 4, 3, 3, 3), _x(np.float32, 6)
    expected = torch.nn.functional.conv_transpose2d(
        *(torch.from_numpy(a) for a in (x, w, b)), stride=2, padding=1, output_padding=1,
        groups=2).numpy()
    np.testing.assert_allclose(F.conv_transpose2d(x[:, :4], np.concatenate([w[:2], w[2:]]), b,
                                                  2, 1, 1, 2), expected, rtol=1e-5, atol=1e-5)
    x1, w1 = x[:, :, 0], w[:, :, 0]
    expected = torch.nn.functional.conv_transpose1d(torch.from_numpy(x1), torch.from_numpy(w1),
                                                    stride=3, dilation=2).numpy()
    np.testing.assert_allclose(F.conv_transpose1d(x1, w1, stride=3, dilation=2), expected,
                               rtol=1e-5, atol=1e-5)
