"""``MultiheadAttention`` with PyTorch's parameters (``in_proj_weight``, ``out_proj``)."""

import math
from typing import Optional, Tuple

import numpy as np

from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.layers.linear import Linear
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["MultiheadAttention"]


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

    kdim, vdim : int, optional
        Sizes of the keys and values (default E).

    Attributes
    ----------
    in_proj_weight : Parameter, shape (3E, E)
        Query, key and value projections stacked; Xavier-uniform initialised.  None
        when ``kdim`` or ``vdim`` differs from E: then ``q_proj_weight`` (E, E),
        ``k_proj_weight`` (E, kdim) and ``v_proj_weight`` (E, vdim), as torch's.
    in_proj_bias : Parameter, shape (3E,)
        Zeros.
    out_proj : Linear(E, E)
        Output projection; its bias is zeros.
    """

    # fixed at construction: scripted code folds them, so shapes and branches are static
    __constants__ = ["embed_dim", "num_heads", "head_dim", "batch_first", "_qkv_same_embed_dim"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be positive and divisible by "
                             f"num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("add_bias_kv and add_zero_attn are not supported")
        self.embed_dim = int(embed_dim)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = float(dropout)
        self.batch_first = batch_first
        dtype = np.float32 if dtype is None else dtype
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            # keys and values of other sizes: one projection each, torch's names
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * self.embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, x, index: int, batch: int, length: int):
        """The query (0), key (1) or value (2) projection of ``x``, heads split: (N, H, L, D)."""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            weight = self.in_proj_weight[index * E:(index + 1) * E]
        elif index == 0:
            weight = self.q_proj_weight
        elif index == 1:
            weight = self.k_proj_weight
        else:
            weight = self.v_proj_weight
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
        """
        if not self.batch_first:
            query, key, value = (t.transpose(1, 0, 2) for t in (query, key, value))
        batch, length, source_length = query.shape[0], query.shape[1], key.shape[1]
        q = self._project(query, 0, batch, length)
        k = self._project(key, 1, batch, source_length)
        v = self._project(value, 2, batch, source_length)
        mask = self._merge_masks(self._canonical_mask(attn_mask, "attn_mask", query),
                                 self._canonical_mask(key_padding_mask, "key_padding_mask",
                                                      query),
                                 batch, length, source_length)
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

    def _canonical_mask(self, mask: Optional[np.ndarray], mask_name: str,
                        like: np.ndarray) -> Optional[np.ndarray]:
        """torch's ``F._canonical_mask``: a bool mask (True = ignore) as an additive mask in
        ``like``'s dtype (``-inf`` where True), a floating one as it is.

        The dtype is read when the call runs (``prim::dtype`` in compiled code), so scripted
        code takes either kind of mask, as TorchScript's does.
        """
        if mask is not None:
            if mask.dtype == np.zeros((), dtype=np.bool_).dtype:
                mask = F.masked_fill(np.zeros_like(mask, dtype=like.dtype), mask, float("-inf"))
            elif mask.dtype != np.zeros((), dtype=np.float32).dtype \
                    and mask.dtype != np.zeros((), dtype=np.float64).dtype:
                raise TypeError(f"only bool and floating types of {mask_name} are supported")
        return mask

    def _merge_masks(self, attn_mask: Optional[np.ndarray],
                     key_padding_mask: Optional[np.ndarray], batch: int, length: int,
                     source_length: int) -> Optional[np.ndarray]:
        """One additive mask broadcastable to the scores (N, H, L, S), or None (the shape
        checks of torch's ``F.multi_head_attention_forward``)."""
        mask: Optional[np.ndarray] = None
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                if attn_mask.shape[0] != length or attn_mask.shape[1] != source_length:
                    raise ValueError(f"The shape of the 2D attn_mask is {list(attn_mask.shape)}"
                                     f", but should be {[length, source_length]}.")
                mask = attn_mask
            elif attn_mask.ndim == 3:
                if attn_mask.shape[0] != batch * self.num_heads \
                        or attn_mask.shape[1] != length or attn_mask.shape[2] != source_length:
                    expected = [batch * self.num_heads, length, source_length]
                    raise ValueError(f"The shape of the 3D attn_mask is {list(attn_mask.shape)}"
                                     f", but should be {expected}.")
                mask = attn_mask.reshape(batch, self.num_heads, length, source_length)
            else:
                raise ValueError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
        if key_padding_mask is not None:
            if key_padding_mask.ndim != 2 or key_padding_mask.shape[0] != batch \
                    or key_padding_mask.shape[1] != source_length:
                raise ValueError(f"expecting key_padding_mask shape of {[batch, source_length]}, "
                                 f"but got {list(key_padding_mask.shape)}")
            padding = key_padding_mask.reshape(batch, 1, 1, source_length)
            if mask is None:
                mask = padding
            else:
                mask = mask + padding
        return mask

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
