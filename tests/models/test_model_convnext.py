"""torchvision's ConvNeXt, ported line for line (torchvision/models/convnext.py, with
ops/stochastic_depth.py's ``stochastic_depth``/``StochasticDepth`` and ops/misc.py's
``Permute``; ``Conv2dNormActivation`` is the mobilenet port's).

It exercises: a ``LayerNorm`` subclass that permutes around ``F.layer_norm``
(``LayerNorm2d``), a ``List[int]`` attribute as ``np.transpose``'s axes (``Permute``),
``functools.partial`` norm layers, a layer-scale ``Parameter``, ``result += input``,
and ``stochastic_depth`` — whose training branch draws ``np.random.random`` (torch:
``bernoulli_``) and whose eval branch is the identity; it compiles whole in script, as
in TorchScript.  Differences, spelling only: ``x.permute(...)`` is ``x.transpose(...)``,
``torch.permute(x, dims)`` is ``np.transpose(x, dims)``, ``torch.ones(dim, 1, 1)`` is
``np.ones((dim, 1, 1), dtype=np.float32)``, ``noise.bernoulli_(p)`` on an empty tensor
is ``(np.random.random(size) < p).astype(input.dtype)``, ``noise.div_(p)`` is
``noise /= p``, ``torch.jit`` is ``jitcore``; torchvision's ``_log_api_usage_once``
(telemetry) is left out.  torch's side runs this very source (``_torch_namespace``).
"""

import inspect
from collections.abc import Sequence
from functools import partial
from typing import Any, Callable, List, Optional

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.nn import functional as F

from _zoo import check_model, inputs_from_seed, numpy_as_torch, torch_twin, trained_statistics
from test_model_mobilenet import Conv2dNormActivation, ConvNormActivation

Tensor = np.ndarray


# ------------------------------------------------ torchvision/ops/stochastic_depth.py

def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """
    Implements the Stochastic Depth from `"Deep Networks with Stochastic Depth"
    <https://arxiv.org/abs/1603.09382>`_ used for randomly dropping residual
    branches of residual architectures.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input

    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = (np.random.random(size) < survival_rate).astype(input.dtype)
    if survival_rate > 0.0:
        noise /= survival_rate
    return input * noise


class StochasticDepth(nn.Module):
    """
    See :func:`stochastic_depth`.
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        s = f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
        return s


# ------------------------------------------------ torchvision/ops/misc.py

class Permute(nn.Module):
    """This module returns a view of the tensor input with its dimensions permuted.

    Args:
        dims (List[int]): The desired ordering of dimensions
    """

    def __init__(self, dims: List[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return np.transpose(x, self.dims)


# ------------------------------------------------ torchvision/models/convnext.py

class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: Tensor) -> Tensor:
        x = x.transpose(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = x.transpose(0, 3, 1, 2)
        return x


class CNBlock(nn.Module):
    def __init__(
        self,
        dim,
        layer_scale: float,
        stochastic_depth_prob: float,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-6)

        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(np.ones((dim, 1, 1), dtype=np.float32) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class CNBlockConfig:
    # Stores information listed at Section 3 of the ConvNeXt paper
    def __init__(
        self,
        input_channels: int,
        out_channels: Optional[int],
        num_layers: int,
    ) -> None:
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self) -> str:
        s = self.__class__.__name__ + "("
        s += "input_channels={input_channels}"
        s += ", out_channels={out_channels}"
        s += ", num_layers={num_layers}"
        s += ")"
        return s.format(**self.__dict__)


class ConvNeXt(nn.Module):
    def __init__(
        self,
        block_setting: List[CNBlockConfig],
        stochastic_depth_prob: float = 0.0,
        layer_scale: float = 1e-6,
        num_classes: int = 1000,
        block: Optional[Callable[..., nn.Module]] = None,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()

        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        elif not (isinstance(block_setting, Sequence) and all([isinstance(s, CNBlockConfig) for s in block_setting])):
            raise TypeError("The block_setting should be List[CNBlockConfig]")

        if block is None:
            block = CNBlock

        if norm_layer is None:
            norm_layer = partial(LayerNorm2d, eps=1e-6)

        layers: List[nn.Module] = []

        # Stem
        firstconv_output_channels = block_setting[0].input_channels
        layers.append(
            Conv2dNormActivation(
                3,
                firstconv_output_channels,
                kernel_size=4,
                stride=4,
                padding=0,
                norm_layer=norm_layer,
                activation_layer=None,
                bias=True,
            )
        )

        total_stage_blocks = sum(cnf.num_layers for cnf in block_setting)
        stage_block_id = 0
        for cnf in block_setting:
            # Bottlenecks
            stage: List[nn.Module] = []
            for _ in range(cnf.num_layers):
                # adjust stochastic depth probability based on the depth of the stage block
                sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                # Downsampling
                layers.append(
                    nn.Sequential(
                        norm_layer(cnf.input_channels),
                        nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2),
                    )
                )

        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

        lastblock = block_setting[-1]
        lastconv_output_channels = (
            lastblock.out_channels if lastblock.out_channels is not None else lastblock.input_channels
        )
        self.classifier = nn.Sequential(
            norm_layer(lastconv_output_channels), nn.Flatten(1), nn.Linear(lastconv_output_channels, num_classes)
        )

        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = self.classifier(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _convnext(block_setting, layer_scale=0.5, **kwargs):
    # a trained layer scale (torchvision's 1e-6 start would hide every block's output)
    return trained_statistics(ConvNeXt(block_setting, layer_scale=layer_scale, **kwargs),
                              linear=True)


def _torch_stochastic_depth(torch):
    """torchvision's own (its ``bernoulli_`` line is the port's only rewrite)."""
    def stochastic_depth(input, p: float, mode: str, training: bool = True):
        if not training or p == 0.0:
            return input
        survival_rate = 1.0 - p
        size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
        noise = torch.empty(size, dtype=input.dtype).bernoulli_(survival_rate)
        return input * noise.div_(survival_rate)
    return stochastic_depth


def _torch_namespace():
    """This module's classes run again with torch behind ``nn``, ``F``, ``np``: torchvision's
    original, respelled back."""
    import torch
    classes = (ConvNormActivation, Conv2dNormActivation, StochasticDepth, Permute, LayerNorm2d,
               CNBlock, CNBlockConfig, ConvNeXt)
    source = "\n\n".join(inspect.getsource(c) for c in classes)
    # the one method whose ndarray spelling torch tensors do not take
    source = source.replace("x.transpose(0, 2, 3, 1)", "x.permute(0, 2, 3, 1)").replace(
        "x.transpose(0, 3, 1, 2)", "x.permute(0, 3, 1, 2)")
    return torch_twin(__name__, source, {
        "nn": torch.nn, "F": torch.nn.functional, "np": numpy_as_torch(torch),
        "jitcore": torch.jit, "Tensor": torch.Tensor, "partial": partial,
        "Sequence": Sequence, "stochastic_depth": _torch_stochastic_depth(torch),
        "Any": Any, "Callable": Callable, "List": List, "Optional": Optional})


def _torch(block_setting, layer_scale=0.5, **kwargs):
    def make():
        namespace = _torch_namespace()
        settings = [namespace["CNBlockConfig"](c.input_channels, c.out_channels, c.num_layers)
                    for c in block_setting]
        return namespace["ConvNeXt"](settings, layer_scale=layer_scale, **kwargs)
    return make


# convnext_tiny's structure (96 -> 768 channels, stem 4x4/4, three downsamplings) at a
# fraction of its width and depth; and one whose last stage is not followed by a
# downsampling layer (out_channels None everywhere but the first), stochastic depth set
_VARIANTS = {
    "convnext_tiny_narrow": ([CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1),
                              CNBlockConfig(64, 128, 2), CNBlockConfig(128, None, 1)],
                             dict(num_classes=10)),
    "convnext_two_stage_sd": ([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)],
                              dict(num_classes=7, stochastic_depth_prob=0.3)),
}

CASES = [
    dict(name=name, make_port=lambda s=s, kw=kw: _convnext(s, **kw), make_torch_model=_torch(s, **kw),
         inputs=lambda: inputs_from_seed([((2, 3, 64, 64), np.float32)]))
    for name, (s, kw) in _VARIANTS.items()
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)


def test_stochastic_depth_in_training_drops_whole_rows_and_rescales():
    jitcore.manual_seed(0)
    layer = StochasticDepth(0.25, "row").train()
    scripted = jitcore.script(layer)
    x = np.ones((4000, 3, 2), dtype=np.float32)
    out = scripted(x)
    kept = out[:, 0, 0] > 0
    assert abs(kept.mean() - 0.75) < 0.03
    np.testing.assert_array_equal(out[kept], np.full((int(kept.sum()), 3, 2), 1 / 0.75, np.float32))
    assert (out[~kept] == 0).all()
    batch = jitcore.script(StochasticDepth(0.5, "batch").train())(x)
    assert np.unique(batch).size == 1        # one draw for the whole batch
    np.testing.assert_array_equal(jitcore.script(layer.eval())(x), x)


def test_block_setting_errors_are_torchvision_s():
    with pytest.raises(ValueError, match="The block_setting should not be empty"):
        ConvNeXt([])
    with pytest.raises(TypeError, match=r"should be List\[CNBlockConfig\]"):
        ConvNeXt([(16, 32, 1)])
