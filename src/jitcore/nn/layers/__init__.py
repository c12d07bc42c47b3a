"""The layers of :mod:`jitcore.nn`, one family per file."""

from jitcore.nn.layers.activation import (
    ELU, GELU, Hardsigmoid, Hardswish, LeakyReLU, LogSoftmax, PReLU, ReLU, ReLU6, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from jitcore.nn.layers.attention import MultiheadAttention
from jitcore.nn.layers.batchnorm import BatchNorm1d, BatchNorm2d
from jitcore.nn.layers.container import ModuleDict, ModuleList, Sequential
from jitcore.nn.layers.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from jitcore.nn.layers.dropout import Dropout
from jitcore.nn.layers.embedding import Embedding
from jitcore.nn.layers.flatten import Flatten
from jitcore.nn.layers.layernorm import LayerNorm
from jitcore.nn.layers.linear import Identity, Linear
from jitcore.nn.layers.recurrent import (
    GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase,
)
from jitcore.nn.layers.upsampling import PixelShuffle, PixelUnshuffle, Upsample
from jitcore.nn.layers.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d
from jitcore.nn.layers.padding import (
    ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
    ReplicationPad2d, ZeroPad2d,
)
from jitcore.nn.layers.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
    MaxPool2d,
)
from jitcore.nn.layers.transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "GELU", "LogSoftmax", "ReLU", "Sigmoid", "SiLU", "Softmax", "Tanh", "MultiheadAttention",
    "BatchNorm1d", "BatchNorm2d", "ModuleDict", "ModuleList", "Sequential", "Conv1d", "Conv2d",
    "Dropout", "Embedding", "Flatten", "LayerNorm", "Identity", "Linear", "AdaptiveAvgPool2d",
    "AvgPool2d", "MaxPool2d", "TransformerEncoderLayer",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "ELU", "Hardsigmoid", "Hardswish", "LeakyReLU", "PReLU", "ReLU6", "Softplus",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "ConstantPad1d", "ConstantPad2d",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "ZeroPad2d",
    "AdaptiveAvgPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d", "TransformerEncoder",
]
__all__ += ["ConvTranspose1d", "ConvTranspose2d", "PixelShuffle", "PixelUnshuffle", "Upsample"]
__all__ += ["TransformerDecoderLayer", "TransformerDecoder", "Transformer"]
