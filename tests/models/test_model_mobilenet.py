"""torchvision's mobilenet_v3_small and mobilenet_v2, ported line for line.

The sources are torchvision/models/mobilenetv3.py, mobilenetv2.py, _utils.py
(``_make_divisible``) and ops/misc.py (``ConvNormActivation``,
``Conv2dNormActivation``, ``SqueezeExcitation``): same classes, attribute names
and structure, so torch's state dict loads with ``strict=True``.  Differences:

- ``torch.flatten(x, 1)`` is ``nn.functional.flatten(x, 1)``;
- the ``Dropout(inplace=True)`` of the classifiers is jitcore's ``Dropout`` (an
  identity in eval mode);
- the models run at 64x64 with ``width_mult=0.5`` and 10 classes, so that each
  way (eager runs NumPy references) takes a few seconds.
"""

from functools import partial
from typing import Callable, List, Optional

import numpy as np
import pytest

from jitcore import nn

from _zoo import check_model, inputs_from_seed, trained_statistics


# ------------------------------------------------ torchvision/models/_utils.py

def _make_divisible(v: float, divisor: int, min_value: Optional[int] = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never more than 10% below it."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# ------------------------------------------------ torchvision/ops/misc.py

class ConvNormActivation(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None, conv_layer=nn.Conv2d):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None

        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding,
                             dilation=dilation, groups=groups, bias=bias)]

        if norm_layer is not None:
            layers.append(norm_layer(out_channels))

        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class Conv2dNormActivation(ConvNormActivation):
    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups,
                         norm_layer, activation_layer, dilation, inplace, bias, nn.Conv2d)


class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale)

    def forward(self, input):
        scale = self._scale(input)
        return scale * input


# ------------------------------------------------ torchvision/models/mobilenetv3.py

class InvertedResidualConfig:
    # Stores information listed at Tables 1 and 2 of the MobileNetV3 paper
    def __init__(self, input_channels: int, kernel: int, expanded_channels: int,
                 out_channels: int, use_se: bool, activation: str, stride: int, dilation: int,
                 width_mult: float):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float):
        return _make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    # Implemented as described at section 5 of MobileNetV3 paper
    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = partial(SqueezeExcitation,
                                                              scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")

        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels

        layers: List[nn.Module] = []
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU

        # expand
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels,
                                               kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=activation_layer))

        # depthwise
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels,
                                           kernel_size=cnf.kernel, stride=stride,
                                           dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer,
                                           activation_layer=activation_layer))
        if cnf.use_se:
            squeeze_channels = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze_channels))

        # project
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))

        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MobileNetV3(nn.Module):
    def __init__(self, inverted_residual_setting: List[InvertedResidualConfig],
                 last_channel: int, num_classes: int = 1000,
                 block: Optional[Callable[..., nn.Module]] = None,
                 norm_layer: Optional[Callable[..., nn.Module]] = None,
                 dropout: float = 0.2) -> None:
        super().__init__()

        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")

        if block is None:
            block = InvertedResidual

        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)

        layers: List[nn.Module] = []

        # building first layer
        firstconv_output_channels = inverted_residual_setting[0].input_channels
        layers.append(Conv2dNormActivation(3, firstconv_output_channels, kernel_size=3,
                                           stride=2, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))

        # building inverted residual blocks
        for cnf in inverted_residual_setting:
            layers.append(block(cnf, norm_layer))

        # building last several layers
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))

        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(lastconv_output_channels, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = self.features(x)

        x = self.avgpool(x)
        x = nn.functional.flatten(x, 1)

        x = self.classifier(x)

        return x

    def forward(self, x):
        return self._forward_impl(x)


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False):
    reduce_divider = 2 if reduced_tail else 1
    dilation = 2 if dilated else 1

    bneck_conf = partial(InvertedResidualConfig, width_mult=width_mult)
    adjust_channels = partial(InvertedResidualConfig.adjust_channels, width_mult=width_mult)

    if arch == "mobilenet_v3_small":
        inverted_residual_setting = [
            bneck_conf(16, 3, 16, 16, True, "RE", 2, 1),  # C1
            bneck_conf(16, 3, 72, 24, False, "RE", 2, 1),  # C2
            bneck_conf(24, 3, 88, 24, False, "RE", 1, 1),
            bneck_conf(24, 5, 96, 40, True, "HS", 2, 1),  # C3
            bneck_conf(40, 5, 240, 40, True, "HS", 1, 1),
            bneck_conf(40, 5, 240, 40, True, "HS", 1, 1),
            bneck_conf(40, 5, 120, 48, True, "HS", 1, 1),
            bneck_conf(48, 5, 144, 48, True, "HS", 1, 1),
            bneck_conf(48, 5, 288, 96 // reduce_divider, True, "HS", 2, dilation),  # C4
            bneck_conf(96 // reduce_divider, 5, 576 // reduce_divider, 96 // reduce_divider,
                       True, "HS", 1, dilation),
            bneck_conf(96 // reduce_divider, 5, 576 // reduce_divider, 96 // reduce_divider,
                       True, "HS", 1, dilation),
        ]
        last_channel = adjust_channels(1024 // reduce_divider)  # C5
    else:
        raise ValueError(f"Unsupported model type {arch}")

    return inverted_residual_setting, last_channel


# ------------------------------------------------ torchvision/models/mobilenetv2.py

class InvertedResidualV2(nn.Module):
    """mobilenetv2.py's ``InvertedResidual`` (renamed here beside mobilenet_v3's)."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Optional[Callable[..., nn.Module]] = None) -> None:
        super().__init__()
        self.stride = stride
        if stride not in [1, 2]:
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")

        if norm_layer is None:
            norm_layer = nn.BatchNorm2d

        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup

        layers: List[nn.Module] = []
        if expand_ratio != 1:
            # pw
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers.extend(
            [
                # dw
                Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                     norm_layer=norm_layer, activation_layer=nn.ReLU6),
                # pw-linear
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                norm_layer(oup),
            ]
        )
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        else:
            return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: Optional[List[List[int]]] = None,
                 round_nearest: int = 8, block: Optional[Callable[..., nn.Module]] = None,
                 norm_layer: Optional[Callable[..., nn.Module]] = None,
                 dropout: float = 0.2) -> None:
        super().__init__()

        if block is None:
            block = InvertedResidualV2

        if norm_layer is None:
            norm_layer = nn.BatchNorm2d

        input_channel = 32
        last_channel = 1280

        if inverted_residual_setting is None:
            inverted_residual_setting = [
                # t, c, n, s
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]

        # only check the first element, assuming user knows t,c,n,s are required
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty and a 4-element "
                             f"list, got {inverted_residual_setting}")

        # building first layer
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features: List[nn.Module] = [
            Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                 activation_layer=nn.ReLU6)
        ]
        # building inverted residual blocks
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(block(input_channel, output_channel, stride, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        # building last several layers
        features.append(
            Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6)
        )
        # make it nn.Sequential
        self.features = nn.Sequential(*features)

        # building classifier
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.last_channel, num_classes),
        )

        # weight initialization
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = self.features(x)
        # Cannot use "squeeze" as batch-size can be 1
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = nn.functional.flatten(x, 1)
        x = self.classifier(x)
        return x

    def forward(self, x):
        return self._forward_impl(x)


# ------------------------------------------------ the zoo cases


def mobilenet_v3_small():
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.5)
    return trained_statistics(MobileNetV3(setting, last_channel, num_classes=10), linear=True)


def mobilenet_v2(num_classes=10, width_mult=0.5):
    return trained_statistics(MobileNetV2(num_classes=num_classes, width_mult=width_mult),
                              linear=True)


def _torch_conv_bn_act(tnn, in_ch, out_ch, kernel_size=3, stride=1, groups=1, activation=None,
                       eps=1e-5):
    layers = [tnn.Conv2d(in_ch, out_ch, kernel_size, stride, (kernel_size - 1) // 2,
                         groups=groups, bias=False),
              tnn.BatchNorm2d(out_ch, eps=eps)]
    if activation is not None:
        layers.append(activation())
    return tnn.Sequential(*layers)


def torch_mobilenet_v3_small():
    """torchvision's mobilenet_v3_small(width_mult=0.5, num_classes=10), written compactly."""
    import torch
    import torch.nn as tnn

    conv = partial(_torch_conv_bn_act, tnn, eps=0.001)

    class TorchSqueezeExcitation(tnn.Module):
        def __init__(self, channels, squeeze):
            super().__init__()
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc1 = tnn.Conv2d(channels, squeeze, 1)
            self.fc2 = tnn.Conv2d(squeeze, channels, 1)
            self.activation = tnn.ReLU()
            self.scale_activation = tnn.Hardsigmoid()

        def forward(self, x):
            s = self.fc2(self.activation(self.fc1(self.avgpool(x))))
            return self.scale_activation(s) * x

    class TorchInvertedResidual(tnn.Module):
        def __init__(self, cnf):
            super().__init__()
            self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
            act = tnn.Hardswish if cnf.use_hs else tnn.ReLU
            layers = []
            if cnf.expanded_channels != cnf.input_channels:
                layers.append(conv(cnf.input_channels, cnf.expanded_channels, 1, activation=act))
            layers.append(conv(cnf.expanded_channels, cnf.expanded_channels, cnf.kernel,
                               cnf.stride, groups=cnf.expanded_channels, activation=act))
            if cnf.use_se:
                layers.append(TorchSqueezeExcitation(
                    cnf.expanded_channels, _make_divisible(cnf.expanded_channels // 4, 8)))
            layers.append(conv(cnf.expanded_channels, cnf.out_channels, 1))
            self.block = tnn.Sequential(*layers)

        def forward(self, x):
            result = self.block(x)
            if self.use_res_connect:
                result += x
            return result

    class TorchMobileNetV3(tnn.Module):
        def __init__(self, setting, last_channel, num_classes):
            super().__init__()
            layers = [conv(3, setting[0].input_channels, 3, 2, activation=tnn.Hardswish)]
            layers += [TorchInvertedResidual(cnf) for cnf in setting]
            last_in = setting[-1].out_channels
            layers.append(conv(last_in, 6 * last_in, 1, activation=tnn.Hardswish))
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.classifier = tnn.Sequential(tnn.Linear(6 * last_in, last_channel),
                                             tnn.Hardswish(inplace=True),
                                             tnn.Dropout(p=0.2, inplace=True),
                                             tnn.Linear(last_channel, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.5)
    return TorchMobileNetV3(setting, last_channel, 10)


def torch_mobilenet_v2(num_classes=10, width_mult=0.5):
    """torchvision's mobilenet_v2, written compactly."""
    import torch
    import torch.nn as tnn

    conv = partial(_torch_conv_bn_act, tnn)

    class TorchInvertedResidual(tnn.Module):
        def __init__(self, inp, oup, stride, expand_ratio):
            super().__init__()
            hidden_dim = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = []
            if expand_ratio != 1:
                layers.append(conv(inp, hidden_dim, 1, activation=tnn.ReLU6))
            layers += [conv(hidden_dim, hidden_dim, 3, stride, groups=hidden_dim,
                            activation=tnn.ReLU6),
                       tnn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), tnn.BatchNorm2d(oup)]
            self.conv = tnn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class TorchMobileNetV2(tnn.Module):
        def __init__(self, num_classes, width_mult):
            super().__init__()
            input_channel = _make_divisible(32 * width_mult, 8)
            last_channel = _make_divisible(1280 * max(1.0, width_mult), 8)
            features = [conv(3, input_channel, 3, 2, activation=tnn.ReLU6)]
            for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                               [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
                output_channel = _make_divisible(c * width_mult, 8)
                for i in range(n):
                    features.append(TorchInvertedResidual(input_channel, output_channel,
                                                          s if i == 0 else 1, t))
                    input_channel = output_channel
            features.append(conv(input_channel, last_channel, 1, activation=tnn.ReLU6))
            self.features = tnn.Sequential(*features)
            self.classifier = tnn.Sequential(tnn.Dropout(p=0.2),
                                             tnn.Linear(last_channel, num_classes))

        def forward(self, x):
            x = tnn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return TorchMobileNetV2(num_classes, width_mult)


CASES = [
    dict(name="mobilenet_v3_small", make_port=mobilenet_v3_small,
         make_torch_model=torch_mobilenet_v3_small,
         inputs=lambda: inputs_from_seed([((1, 3, 64, 64), np.float32)])),
    dict(name="mobilenet_v2", make_port=mobilenet_v2, make_torch_model=torch_mobilenet_v2,
         inputs=lambda: inputs_from_seed([((1, 3, 64, 64), np.float32)])),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)
