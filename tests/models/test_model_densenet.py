"""torchvision's DenseNet, ported line for line (torchvision/models/densenet.py).

The port keeps torchvision's classes, arguments and attribute names (``_DenseLayer``,
``_DenseBlock`` as a ``ModuleDict`` whose layers take the growing *list* of feature
maps, ``_Transition`` as a ``Sequential`` filled by attribute assignment,
``features``/``classifier``, ``denseblock1``/``transition1``/``norm5``), so a torch
state dict loads with ``strict=True``.  It keeps torchvision's TorchScript idioms too:
``forward`` declared twice with ``@jitcore._overload_method`` (a tensor or a list of
them) and decided by ``isinstance`` when compiling, ``@jitcore.unused`` for the
checkpointing path, ``jitcore.is_scripting()``.  What differs is spelling
(``torch.cat`` is ``np.concatenate``, ``torch.flatten(out, 1)`` is ``out.reshape``) and
one line of meaning: ndarrays carry no gradients, so ``any_requires_grad`` is False and
``call_checkpoint_bottleneck`` (``torch.utils.checkpoint``, a training feature) is
never called.  torch's side runs this very source with ``torch`` behind those names
(``_torch_namespace``).
"""

import inspect
from collections import OrderedDict
from typing import Any, List, Tuple

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.nn import functional as F

from _zoo import check_model, inputs_from_seed, numpy_as_torch, torch_twin, trained_statistics

Tensor = np.ndarray


class _DenseLayer(nn.Module):
    def __init__(
        self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float, memory_efficient: bool = False
    ) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)

        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)

        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs: List[Tensor]) -> Tensor:
        concated_features = np.concatenate(inputs, 1)
        bottleneck_output = self.conv1(self.relu1(self.norm1(concated_features)))  # noqa: T484
        return bottleneck_output

    # todo: rewrite when torchscript supports any
    def any_requires_grad(self, input: List[Tensor]) -> bool:
        # ndarrays carry no gradients (torch: `if tensor.requires_grad: return True`)
        return False

    @jitcore.unused  # noqa: T484
    def call_checkpoint_bottleneck(self, input: List[Tensor]) -> Tensor:
        raise NotImplementedError("gradient checkpointing is a training feature")

    @jitcore._overload_method  # noqa: F811
    def forward(self, input: List[Tensor]) -> Tensor:  # noqa: F811
        pass

    @jitcore._overload_method  # noqa: F811
    def forward(self, input: Tensor) -> Tensor:  # noqa: F811
        pass

    # torchscript does not yet support *args, so we overload method
    # allowing it to take either a List[Tensor] or single Tensor
    def forward(self, input: Tensor) -> Tensor:  # noqa: F811
        if isinstance(input, Tensor):
            prev_features = [input]
        else:
            prev_features = input

        if self.memory_efficient and self.any_requires_grad(prev_features):
            if jitcore.is_scripting():
                raise Exception("Memory Efficient not supported in JIT")

            bottleneck_output = self.call_checkpoint_bottleneck(prev_features)
        else:
            bottleneck_output = self.bn_function(prev_features)

        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    _version = 2

    def __init__(
        self,
        num_layers: int,
        num_input_features: int,
        bn_size: int,
        growth_rate: int,
        drop_rate: float,
        memory_efficient: bool = False,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(
                num_input_features + i * growth_rate,
                growth_rate=growth_rate,
                bn_size=bn_size,
                drop_rate=drop_rate,
                memory_efficient=memory_efficient,
            )
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for name, layer in self.items():
            new_features = layer(features)
            features.append(new_features)
        return np.concatenate(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    r"""Densenet-BC model class, based on
    `"Densely Connected Convolutional Networks" <https://arxiv.org/pdf/1608.06993.pdf>`_.

    Args:
        growth_rate (int) - how many filters to add each layer (`k` in paper)
        block_config (list of 4 ints) - how many layers in each pooling block
        num_init_features (int) - the number of filters to learn in the first convolution layer
        bn_size (int) - multiplicative factor for number of bottle neck layers
          (i.e. bn_size * k features in the bottleneck layer)
        drop_rate (float) - dropout rate after each dense layer
        num_classes (int) - number of classification classes
        memory_efficient (bool) - If True, uses checkpointing. Much more memory efficient,
          but slower. Default: *False*. See `"paper" <https://arxiv.org/pdf/1707.06990.pdf>`_.
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Tuple[int, int, int, int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0,
        num_classes: int = 1000,
        memory_efficient: bool = False,
    ) -> None:

        super().__init__()

        # First convolution
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )

        # Each denseblock
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(
                num_layers=num_layers,
                num_input_features=num_features,
                bn_size=bn_size,
                growth_rate=growth_rate,
                drop_rate=drop_rate,
                memory_efficient=memory_efficient,
            )
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features, num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2

        # Final batch norm
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))

        # Linear layer
        self.classifier = nn.Linear(num_features, num_classes)

        # Official init from torch repo.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.reshape(out.shape[0], -1)
        out = self.classifier(out)
        return out


def _densenet(growth_rate, block_config, num_init_features, **kwargs: Any):
    return trained_statistics(DenseNet(growth_rate, block_config, num_init_features, **kwargs),
                              linear=True)


def _torch_namespace():
    """This module's classes compiled again with torch behind ``nn``, ``F``, ``np`` and
    ``jitcore`` (``torch.jit``, whose decorators have the same names): torch's original
    (torchvision's source, respelled back)."""
    import torch
    source = "\n\n".join(inspect.getsource(obj) for obj in
                         (_DenseLayer, _DenseBlock, _Transition, DenseNet))
    return torch_twin(__name__, source, {
        "nn": torch.nn, "F": torch.nn.functional, "np": numpy_as_torch(torch),
        "jitcore": torch.jit, "Tensor": torch.Tensor, "OrderedDict": OrderedDict,
        "Any": Any, "List": List, "Tuple": Tuple})


def _torch(growth_rate, block_config, num_init_features, **kwargs):
    def make():
        return _torch_namespace()["DenseNet"](growth_rate, block_config, num_init_features,
                                             **kwargs)
    return make


# densenet121's structure (growth 32, bn_size 4, four dense blocks and three
# transitions) at a fraction of its depth; and a narrower one with dropout (inactive in
# eval) and 10 classes
_VARIANTS = {
    "densenet121_2222": (32, (2, 2, 2, 2), 64, {}),
    "densenet_k12_dropout": (12, (3, 2, 2, 1), 24, dict(drop_rate=0.2, num_classes=10, bn_size=2)),
}

CASES = [
    dict(name=name, make_port=lambda g=g, b=b, n=n, kw=kw: _densenet(g, b, n, **kw),
         make_torch_model=_torch(g, b, n, **kw),
         inputs=lambda: inputs_from_seed([((1, 3, 64, 64), np.float32)]))
    for name, (g, b, n, kw) in _VARIANTS.items()
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)


def test_a_dense_layer_takes_a_tensor_or_a_list_of_them():
    jitcore.manual_seed(0)
    layer = trained_statistics(_DenseLayer(8, growth_rate=4, bn_size=2, drop_rate=0.0)).eval()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 5, 5)).astype(np.float32)
    halves = [x[:, :3], x[:, 3:]]
    scripted = jitcore.script(layer)        # forward's own annotation: a tensor
    np.testing.assert_allclose(scripted(x), layer(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(halves), layer(x), rtol=1e-5, atol=1e-6)
