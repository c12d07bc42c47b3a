"""``MultiheadAttention`` with PyTorch's parameters (``in_proj_weight``, ``out_proj``)."""

import math
from typing import Optional, Tuple

import numpy as np

from jitcore.decorators import unused
from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.layers.linear import Linear
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["MultiheadAttention"]


def _additive_mask(mask, dtype):
    """A float mask to add to attention scores: PyTorch's boolean masks mean "masked out"."""
    if mask is None:
        return None
    if np.dtype(mask.dtype) == np.bool_:
        return np.where(mask, np.array(-np.inf, dtype=dtype), np.array(0, dtype=dtype))
    return mask


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention, as ``torch.nn.MultiheadAttention``.

    Parameters
    ----------
    embed_dim : int
        E, split into ``num_heads`` heads of ``E // num_heads``.
    num_heads : int
    dropout : float, default 0.0
        Dropout on the attention weights while training.
    bias : bool, default True
    batch_first : bool, default False
        Inputs are ``(N, L, E)`` when True, ``(L, N, E)`` otherwise.

    Attributes
    ----------
    in_proj_weight : Parameter, shape (3E, E)
        Query, key and value projections stacked; Xavier-uniform initialised.
    in_proj_bias : Parameter, shape (3E,)
        Zeros.
    out_proj : Linear(E, E)
        Output projection; its bias is zeros.
    """

    # fixed at construction: scripted code folds them, so shapes and branches are static
    __constants__ = ["embed_dim", "num_heads", "head_dim", "batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be positive and divisible by "
                             f"num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("add_bias_kv and add_zero_attn are not supported")
        if (kdim is not None and kdim != embed_dim) or (vdim is not None and vdim != embed_dim):
            raise NotImplementedError("kdim and vdim different from embed_dim are not supported")
        self.embed_dim = int(embed_dim)
        self.kdim = self.vdim = self.embed_dim
        self.num_heads = int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = float(dropout)
        self.batch_first = batch_first
        dtype = np.float32 if dtype is None else dtype
        self.in_proj_weight = Parameter(np.empty((3 * self.embed_dim, self.embed_dim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * self.embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, x, index: int, batch: int, length: int):
        """The query (0), key (1) or value (2) projection of ``x``, heads split: (N, H, L, D)."""
        E = self.embed_dim
        weight = self.in_proj_weight[index * E:(index + 1) * E]
        bias = None if self.in_proj_bias is None else self.in_proj_bias[index * E:(index + 1) * E]
        projected = F.linear(x, weight, bias)
        return projected.reshape(batch, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def forward(self, query, key, value, key_padding_mask: Optional[np.ndarray] = None,
                need_weights: bool = True, attn_mask: Optional[np.ndarray] = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query, key, value : ndarray
            ``(N, L, E)``, ``(N, S, E)``, ``(N, S, E)`` with ``batch_first`` (else L/S first).
        key_padding_mask : ndarray, optional
            ``(N, S)``; True (bool) marks keys to ignore, floats are added to the scores.
        need_weights : bool, default True
            Also return the attention weights.
        attn_mask : ndarray, optional
            ``(L, S)`` or ``(N * num_heads, L, S)``; True (bool) marks pairs to ignore.
        average_attn_weights : bool, default True
            Average the returned weights over heads.
        is_causal : bool, default False
            Hint that ``attn_mask`` is the causal mask; without a mask, applies one.

        Returns
        -------
        (ndarray, ndarray or None)
            The output (shaped like ``query``) and the weights ``(N, L, S)`` (or
            ``(N, H, L, S)`` unaveraged) when ``need_weights``.

        Notes
        -----
        Scripted, the module runs without masks only: telling a boolean mask from an
        additive one needs its dtype, which compiled code does not see, so mask merging
        is ``@jitcore.unused`` (it raises in compiled code rather than guess).
        """
        if not self.batch_first:
            query, key, value = (t.transpose(1, 0, 2) for t in (query, key, value))
        batch, length, source_length = query.shape[0], query.shape[1], key.shape[1]
        q = self._project(query, 0, batch, length)
        k = self._project(key, 1, batch, source_length)
        v = self._project(value, 2, batch, source_length)
        mask: Optional[np.ndarray] = None
        if attn_mask is not None or key_padding_mask is not None:
            mask = self._merge_masks(attn_mask, key_padding_mask, batch)
        dropout_p = self.dropout if self.training else 0.0
        weights: Optional[np.ndarray] = None
        if need_weights:
            scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.transpose(0, 1, 3, 2)
            if mask is not None:
                scores = scores + mask
            elif is_causal:
                raise ValueError("is_causal=True with need_weights=True needs an explicit attn_mask")
            attention = F.softmax(scores, -1)
            if dropout_p > 0.0:
                attention = F.dropout(attention, dropout_p, True)
            heads = attention @ v
            weights = attention.mean(axis=1) if average_attn_weights else attention
        else:
            heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                                   is_causal=is_causal and mask is None)
        merged = heads.transpose(0, 2, 1, 3).reshape(batch, length, self.embed_dim)
        output = self.out_proj(merged)
        if not self.batch_first:
            output = output.transpose(1, 0, 2)
        return output, weights

    @unused
    def _merge_masks(self, attn_mask: Optional[np.ndarray], key_padding_mask: Optional[np.ndarray],
                     batch: int) -> Optional[np.ndarray]:
        """One additive mask broadcastable to the scores (N, H, L, S), or None."""
        dtype = self.in_proj_weight.dtype
        mask = _additive_mask(attn_mask, dtype)
        if mask is not None and len(mask.shape) == 3:
            # (N * H, L, S) -> (N, H, L, S)
            mask = mask.reshape(batch, self.num_heads, mask.shape[1], mask.shape[2])
        padding = _additive_mask(key_padding_mask, dtype)
        if padding is not None:
            padding = padding.reshape(batch, 1, 1, padding.shape[-1])
            mask = padding if mask is None else mask + padding
        return mask

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
