"""PyTorch's transformer layers: ``TransformerEncoderLayer`` (self-attention and a
feed-forward block), ``TransformerDecoderLayer`` (self-attention, attention over the
encoder's output and a feed-forward block), the stacks ``TransformerEncoder`` and
``TransformerDecoder``, and ``Transformer`` (an encoder and a decoder), with PyTorch's
constructor arguments and submodule names."""

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

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation_name(activation):
    """"relu" or "gelu" for those functions or (default) modules, else "custom"."""
    if activation is F.relu or isinstance(activation, ReLU):
        return "relu"
    if activation is F.gelu or (isinstance(activation, GELU) and activation.approximate == "none"):
        return "gelu"
    return "custom"


class _FeedForwardActivation(Module):
    """The activation of a layer's feed-forward block: "relu", "gelu" (or those functions
    and modules) compile as the named op; any other callable stays Python."""

    def _set_activation(self, activation):
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"activation should be relu/gelu, not {activation}")
            self.activation_name = activation
            activation = _ACTIVATIONS[activation]
        else:
            self.activation_name = _activation_name(activation)
        self.activation = activation

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


class TransformerEncoderLayer(_FeedForwardActivation):
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
        self._set_activation(activation)

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


class TransformerDecoderLayer(_FeedForwardActivation):
    """One decoder layer: ``x + SelfAttention(x)``, ``x + Attention(x, memory)``, then
    ``x + FeedForward(x)``, each normalised (after, or before with ``norm_first``).

    Parameters are :class:`TransformerEncoderLayer`'s.  Submodules carry PyTorch's names
    (``self_attn``, ``multihead_attn``, ``linear1``, ``linear2``, ``norm1``..``norm3``,
    ``dropout``, ``dropout1``..``dropout3``), so its state dict loads unchanged.
    """

    __constants__ = ["norm_first", "activation_name"]

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self._set_activation(activation)

    def forward(self, tgt, memory, tgt_mask: Optional[np.ndarray] = None,
                memory_mask: Optional[np.ndarray] = None,
                tgt_key_padding_mask: Optional[np.ndarray] = None,
                memory_key_padding_mask: Optional[np.ndarray] = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False):
        """Decode ``tgt`` attending to ``memory``; masks as in MultiheadAttention."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask: Optional[np.ndarray],
                  key_padding_mask: Optional[np.ndarray], is_causal: bool):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask: Optional[np.ndarray],
                   key_padding_mask: Optional[np.ndarray], is_causal: bool):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self._activate(self.linear1(x))))
        return self.dropout3(x)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then an optional ``norm``
    (``layers.0.…`` as PyTorch's state dict)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask: Optional[np.ndarray] = None,
                memory_mask: Optional[np.ndarray] = None,
                tgt_key_padding_mask: Optional[np.ndarray] = None,
                memory_key_padding_mask: Optional[np.ndarray] = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False):
        """Decode ``tgt`` through every layer; masks as in :class:`TransformerDecoderLayer`."""
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """``torch.nn.Transformer``: an encoder of ``num_encoder_layers`` and a decoder of
    ``num_decoder_layers`` layers, each stack followed by a LayerNorm.

    Parameters are PyTorch's (``d_model=512``, ``nhead=8``, ``num_encoder_layers=6``,
    ``num_decoder_layers=6``, ``dim_feedforward=2048``, ``dropout=0.1``,
    ``activation="relu"``, ``custom_encoder``, ``custom_decoder``, ``layer_norm_eps``,
    ``batch_first``, ``norm_first``, ``bias``).
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias,
                                            dtype=dtype)
            self.encoder = TransformerEncoder(
                layer, num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias,
                                            dtype=dtype)
            self.decoder = TransformerDecoder(
                layer, num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask: Optional[np.ndarray] = None,
                tgt_mask: Optional[np.ndarray] = None,
                memory_mask: Optional[np.ndarray] = None,
                src_key_padding_mask: Optional[np.ndarray] = None,
                tgt_key_padding_mask: Optional[np.ndarray] = None,
                memory_key_padding_mask: Optional[np.ndarray] = None,
                src_is_causal: bool = False, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        """Encode ``src`` and decode ``tgt`` attending to it (torch's argument order)."""
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=np.float32):
        """The causal mask of ``sz`` positions: 0 on and below the diagonal, -inf above."""
        return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1)
