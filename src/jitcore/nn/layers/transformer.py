"""``TransformerEncoderLayer`` (self-attention and a feed-forward block) and
``TransformerEncoder`` (a stack of them), PyTorch's layout."""

import copy
from typing import Optional

import numpy as np

from jitcore.decorators import ignore
from jitcore.nn import functional as F
from jitcore.nn.layers.activation import GELU, ReLU
from jitcore.nn.layers.attention import MultiheadAttention
from jitcore.nn.layers.container import ModuleList
from jitcore.nn.layers.dropout import Dropout
from jitcore.nn.layers.layernorm import LayerNorm
from jitcore.nn.layers.linear import Linear
from jitcore.nn.module import Module

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_name(activation):
    """"relu" or "gelu" for those functions or (default) modules, else "custom"."""
    if activation is F.relu or isinstance(activation, ReLU):
        return "relu"
    if activation is F.gelu or (isinstance(activation, GELU) and activation.approximate == "none"):
        return "gelu"
    return "custom"


class TransformerEncoderLayer(Module):
    """One encoder layer: ``x + SelfAttention(x)`` then ``x + FeedForward(x)``, each normalised.

    Parameters
    ----------
    d_model : int
        Embedding size E.
    nhead : int
        Attention heads.
    dim_feedforward : int, default 2048
    dropout : float, default 0.1
    activation : {"relu", "gelu"} or callable, default "relu"
        ``F.relu``, ``F.gelu``, ``ReLU()`` and ``GELU()`` compile as the named ones.
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False
        Inputs are ``(N, L, E)`` when True, ``(L, N, E)`` otherwise.
    norm_first : bool, default False
        Pre-norm (normalise before each block) instead of post-norm.
    bias : bool, default True

    Notes
    -----
    Submodules (``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``, ``dropout``,
    ``dropout1``, ``dropout2``) carry PyTorch's names, so its state dict loads unchanged.
    Scripted, the branches on ``norm_first`` and the activation are decided when
    compiling (they are constants); a custom activation callable stays Python
    (``@jitcore.ignore``), so such a scripted layer cannot be saved.
    """

    __constants__ = ["norm_first", "activation_name"]

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"activation should be relu/gelu, not {activation}")
            self.activation_name = activation
            activation = _ACTIVATIONS[activation]
        else:
            self.activation_name = _activation_name(activation)
        self.activation = activation

    def forward(self, src, src_mask: Optional[np.ndarray] = None,
                src_key_padding_mask: Optional[np.ndarray] = None, is_causal: bool = False):
        """Encode ``src`` (``(N, L, E)`` with ``batch_first``); masks as in MultiheadAttention."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask: Optional[np.ndarray],
                  key_padding_mask: Optional[np.ndarray], is_causal: bool):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self._activate(self.linear1(x))))
        return self.dropout2(x)

    def _activate(self, x):
        # a constant branch once scripted: only the configured activation is compiled
        if self.activation_name == "relu":
            return F.relu(x)
        if self.activation_name == "gelu":
            return F.gelu(x)
        return self._custom_activation(x)

    @ignore
    def _custom_activation(self, x):
        """A user-supplied activation callable: Python, called from compiled code."""
        return self.activation(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then an optional ``norm``.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Deep-copied ``num_layers`` times into ``layers`` (torch's state-dict names
        ``layers.0.…``).
    num_layers : int
    norm : Module, optional
        Applied to the last layer's output.
    enable_nested_tensor : bool, default True
        Accepted for PyTorch compatibility; jitcore has no nested tensors.
    mask_check : bool, default True
        Accepted for PyTorch compatibility.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src, mask: Optional[np.ndarray] = None,
                src_key_padding_mask: Optional[np.ndarray] = None, is_causal: bool = False):
        """Encode ``src`` through every layer; masks as in :class:`TransformerEncoderLayer`."""
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                         is_causal=is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output
