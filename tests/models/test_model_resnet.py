"""torchvision's ResNet family, ported line for line (torchvision/models/resnet.py).

The port keeps torchvision's classes, constructor arguments and attribute names
(``BasicBlock``, ``Bottleneck``, ``conv1``/``bn1``/``downsample``,
``layer1``..``layer4``, ``fc``; ``groups``, ``width_per_group``,
``replace_stride_with_dilation``, ``norm_layer``, ``zero_init_residual``), so a
torch state dict loads with ``strict=True``.  ``out += identity`` is an in-place
update, as in torchvision (``passes/remove_mutation.py`` makes it the functional
add that fuses into the conv's epilogue).  Two lines differ, both in spelling
only: ``Tensor`` is ``np.ndarray``, and ``torch.flatten(x, 1)`` is
``x.reshape(x.shape[0], -1)``.  torch's side of the tests runs this very source
with ``torch.nn`` as ``nn`` (``_torch_namespace``, ``_zoo.torch_twin``), so the two cannot drift apart.
"""

import inspect
from typing import Any, Callable, List, Optional, Type, Union

import numpy as np
import pytest

from jitcore import nn

from _zoo import check_model, inputs_from_seed, torch_twin, trained_statistics

Tensor = np.ndarray


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding"""
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion: int = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Optional[nn.Module] = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        # Both self.conv1 and self.downsample layers downsample the input when stride != 1
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)

        return out


class Bottleneck(nn.Module):
    # Bottleneck in torchvision places the stride for downsampling at 3x3 convolution(self.conv2)
    # while original implementation places the stride at the first 1x1 convolution(self.conv1)
    # according to "Deep residual learning for image recognition" https://arxiv.org/abs/1512.03385.
    # This variant is also known as ResNet V1.5 and improves accuracy according to
    # https://ngc.nvidia.com/catalog/model-scripts/nvidia:resnet_50_v1_5_for_pytorch.

    expansion: int = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Optional[nn.Module] = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        # Both self.conv2 and self.downsample layers downsample the input when stride != 1
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)

        out = self.conv3(out)
        out = self.bn3(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)

        return out


class ResNet(nn.Module):
    def __init__(
        self,
        block: Type[Union[BasicBlock, Bottleneck]],
        layers: List[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: Optional[List[bool]] = None,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer

        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            # each element in the tuple indicates if we should replace
            # the 2x2 stride with a dilated convolution instead
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None "
                f"or a 3-element tuple, got {replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

        # Zero-initialize the last BN in each residual branch,
        # so that the residual branch starts with zeros, and each residual block behaves like an identity.
        # This improves the model by 0.2~0.3% according to https://arxiv.org/abs/1706.02677
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)  # type: ignore[arg-type]
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)  # type: ignore[arg-type]

    def _make_layer(
        self,
        block: Type[Union[BasicBlock, Bottleneck]],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilate: bool = False,
    ) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )

        layers = []
        layers.append(
            block(
                self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation, norm_layer
            )
        )
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    groups=self.groups,
                    base_width=self.base_width,
                    dilation=self.dilation,
                    norm_layer=norm_layer,
                )
            )

        return nn.Sequential(*layers)

    def _forward_impl(self, x: Tensor) -> Tensor:
        # See note [TorchScript super()]
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)

        x = self.avgpool(x)
        x = x.reshape(x.shape[0], -1)
        x = self.fc(x)

        return x

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _resnet(block, layers, **kwargs):
    return trained_statistics(ResNet(block, layers, **kwargs))


def resnet18(num_classes=1000):
    return _resnet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)


def _torch_namespace():
    """This module's classes compiled again with ``torch.nn`` as ``nn``: torch's original."""
    import torch
    source = "\n\n".join(inspect.getsource(obj) for obj in
                         (conv3x3, conv1x1, BasicBlock, Bottleneck, ResNet))
    return torch_twin(__name__, source, {
        "nn": torch.nn, "Tensor": torch.Tensor, "Any": Any, "Callable": Callable, "List": List,
        "Optional": Optional, "Type": Type, "Union": Union})


def _torch(block_name, layers, **kwargs):
    def make():
        namespace = _torch_namespace()
        return namespace["ResNet"](namespace[block_name], layers, **kwargs)
    return make


def torch_resnet18(num_classes=1000):
    return _torch("BasicBlock", [2, 2, 2, 2], num_classes=num_classes)()


# Bottleneck variants at reduced depth (one or two blocks a stage: every code path of
# resnet50/101, resnext and wide_resnet, at a fraction of the weights), 32x32 inputs
_VARIANTS = {
    "resnet50_1121": (Bottleneck, [1, 1, 2, 1], {}),
    "resnext_g4_w16": (Bottleneck, [1, 1, 1, 1], dict(groups=4, width_per_group=16)),
    "wide_resnet_w96": (Bottleneck, [1, 1, 1, 1], dict(width_per_group=96, num_classes=10)),
    "resnet50_dilated": (Bottleneck, [1, 1, 1, 1], dict(replace_stride_with_dilation=[False, True, True],
                                                        num_classes=10)),
    "resnet34_zero_init": (BasicBlock, [1, 2, 1, 1], dict(zero_init_residual=True, num_classes=10)),
}

CASES = [
    dict(name="resnet18", make_port=resnet18, make_torch_model=torch_resnet18,
         inputs=lambda: inputs_from_seed([((1, 3, 64, 64), np.float32)])),
] + [
    dict(name=name, make_port=lambda block=block, layers=layers, kwargs=kwargs: _resnet(
             block, layers, **kwargs),
         make_torch_model=_torch(block.__name__, layers, **kwargs),
         inputs=lambda: inputs_from_seed([((2, 3, 32, 32), np.float32)]))
    for name, (block, layers, kwargs) in _VARIANTS.items()
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)


def test_constructor_errors_are_torchvision_s():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        ResNet(BasicBlock, [1, 1, 1, 1], groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        ResNet(BasicBlock, [1, 1, 1, 2], replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None"):
        ResNet(Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[True])
