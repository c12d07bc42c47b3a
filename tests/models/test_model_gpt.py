"""A 2-block GPT-2, ported line for line from karpathy's nanoGPT (model.py), with greedy
generation as an ``@jitcore.export`` method.

The port keeps nanoGPT's classes and attribute names (``CausalSelfAttention`` with
``c_attn``/``c_proj`` and the causal mask buffer ``bias``, ``MLP`` with ``c_fc``/``gelu``/
``c_proj``, ``Block`` with ``ln_1``/``attn``/``ln_2``/``mlp``, ``GPT`` with
``transformer.wte``/``wpe``/``drop``/``h``/``ln_f`` and ``lm_head`` tied to ``wte``), so
torch's state dict loads with ``strict=True``.  It is nanoGPT's non-flash attention path
(``self.flash = False``): the mask made with ``tril`` and applied with ``masked_fill``.
Where NumPy spells a torch call differently the port uses NumPy's spelling:

- ``x.size()`` is ``x.shape``; ``x.view(...)`` is ``x.reshape(...)``; ``x.transpose(1, 2)``
  is ``x.swapaxes(1, 2)`` (ndarray's ``transpose`` permutes all axes);
- ``self.c_attn(x).split(self.n_embd, dim=2)`` is ``F.split(...)`` and ``att.masked_fill``
  is ``F.masked_fill`` (ndarrays have no such methods);
- ``torch.arange(0, t, dtype=torch.long)`` is ``np.arange(0, t, dtype=np.int64)``;
- ``forward`` returns the logits only (nanoGPT's ``(logits, loss)`` with ``targets=None``
  returns ``None`` as the loss; the zoo compares arrays);
- ``generate`` decodes greedily (``argmax`` instead of nanoGPT's sampling with
  ``multinomial``, whose random draws torch and NumPy cannot share) and keeps
  ``idx[:, -block_size:]`` unconditionally, which is the same slice when ``idx`` is shorter.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.nn import functional as F

from _zoo import check_model, inputs_from_seed, torch_or_none


class LayerNorm(nn.Module):
    """ LayerNorm but with an optional bias. PyTorch doesn't support simply bias=False """

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(np.ones(ndim, dtype=np.float32))
        self.bias = nn.Parameter(np.zeros(ndim, dtype=np.float32)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        # output projection
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        # regularization
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = False
        # causal mask to ensure that attention is only applied to the left in the input sequence
        self.register_buffer("bias", np.tril(np.ones((config.block_size, config.block_size),
                                                     dtype=np.float32))
                             .reshape(1, 1, config.block_size, config.block_size))

    def forward(self, x):
        B, T, C = x.shape  # batch size, sequence length, embedding dimensionality (n_embd)

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        q, k, v = F.split(self.c_attn(x), self.n_embd, dim=2)
        k = k.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs)
        q = q.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs)
        v = v.reshape(B, T, self.n_head, C // self.n_head).swapaxes(1, 2)  # (B, nh, T, hs)

        # manual implementation of attention
        att = (q @ k.swapaxes(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        att = F.masked_fill(att, self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.swapaxes(1, 2).reshape(B, T, C)  # re-assemble all head outputs side by side

        # output projection
        y = self.resid_dropout(self.c_proj(y))
        return y


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


@dataclass
class GPTConfig:
    block_size: int = 32
    vocab_size: int = 100
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config
        self.block_size = config.block_size

        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # with weight tying
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx):
        b, t = idx.shape
        pos = np.arange(0, t, dtype=np.int64)  # shape (t)

        # forward the GPT model itself
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        return logits

    @jitcore.export
    def generate(self, idx, max_new_tokens: int):
        for _ in range(max_new_tokens):
            # crop the sequence context to the last block_size tokens
            idx_cond = idx[:, -self.block_size:]
            logits = self(idx_cond)
            logits = logits[:, -1, :]
            idx_next = np.argmax(logits, axis=-1, keepdims=True)
            idx = np.concatenate((idx, idx_next), axis=1)
        return idx


def gpt2_tiny(**config):
    model = GPT(GPTConfig(**config))
    # nanoGPT's _init_weights: N(0, 0.02) weights, zero biases; c_proj scaled per layer
    rng = np.random.default_rng(3)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p[...] = 0.0
        elif p.ndim >= 2:
            std = 0.02 / math.sqrt(2 * model.config.n_layer) if name.endswith("c_proj.weight") else 0.02
            p[...] = rng.normal(0.0, std, p.shape)
        else:
            p[...] = rng.uniform(0.5, 1.5, p.shape)   # LayerNorm gains, not all ones
    return model


def torch_gpt2_tiny(**config):
    import torch
    import torch.nn as tnn
    from torch.nn import functional as TF

    class TorchLayerNorm(tnn.Module):
        def __init__(self, ndim, bias):
            super().__init__()
            self.weight = tnn.Parameter(torch.ones(ndim))
            self.bias = tnn.Parameter(torch.zeros(ndim)) if bias else None

        def forward(self, input):
            return TF.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

    class TorchCausalSelfAttention(tnn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_attn = tnn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = tnn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.attn_dropout = tnn.Dropout(config.dropout)
            self.resid_dropout = tnn.Dropout(config.dropout)
            self.n_head = config.n_head
            self.n_embd = config.n_embd
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, 1, config.block_size, config.block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
            att = TF.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            y = self.resid_dropout(self.c_proj(y))
            return y

    class TorchMLP(tnn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = tnn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.gelu = tnn.GELU(approximate="tanh")
            self.c_proj = tnn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = tnn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class TorchBlock(tnn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = TorchLayerNorm(config.n_embd, bias=config.bias)
            self.attn = TorchCausalSelfAttention(config)
            self.ln_2 = TorchLayerNorm(config.n_embd, bias=config.bias)
            self.mlp = TorchMLP(config)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class TorchGPT(tnn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.block_size = config.block_size
            self.transformer = tnn.ModuleDict(dict(
                wte=tnn.Embedding(config.vocab_size, config.n_embd),
                wpe=tnn.Embedding(config.block_size, config.n_embd),
                drop=tnn.Dropout(config.dropout),
                h=tnn.ModuleList([TorchBlock(config) for _ in range(config.n_layer)]),
                ln_f=TorchLayerNorm(config.n_embd, bias=config.bias),
            ))
            self.lm_head = tnn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long)
            tok_emb = self.transformer.wte(idx)
            pos_emb = self.transformer.wpe(pos)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            return self.lm_head(x)

        # nanoGPT's generate with greedy decoding, exported so that TorchScript compiles it
        # (compare.py's GPT-2 row); autograd is off where it is timed
        @torch.jit.export
        def generate(self, idx, max_new_tokens: int):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.block_size \
                    else idx[:, -self.block_size:]
                logits = self(idx_cond)
                logits = logits[:, -1, :]
                idx_next = torch.argmax(logits, dim=-1, keepdim=True)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return TorchGPT(GPTConfig(**config))


def _tokens():
    return inputs_from_seed([((2, 12), ("int64", 100))])


CASES = [
    dict(name="gpt2_tiny", make_port=gpt2_tiny, make_torch_model=torch_gpt2_tiny, inputs=_tokens),
]

_NEW_TOKENS = 24   # 12 prompt tokens + 24 > block_size 32: the context is cropped


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-5)


def _torch_tokens(port, prompt):
    torch = torch_or_none()
    if torch is None:
        return None
    model = torch_gpt2_tiny()
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                           for k, v in port.state_dict().items()}, strict=True)
    model.eval()
    return model.generate(torch.from_numpy(prompt), _NEW_TOKENS).numpy()


@pytest.mark.slow
def test_generate_scripted_optimized_and_saved_match_torch(tmp_path):
    jitcore.manual_seed(0)
    port = gpt2_tiny().eval()
    (prompt,) = _tokens()
    eager = port.generate(prompt, _NEW_TOKENS)
    assert eager.shape == (2, 12 + _NEW_TOKENS) and eager.dtype == np.int64
    expected = _torch_tokens(port, prompt)
    if expected is not None:
        np.testing.assert_array_equal(eager, expected)
    scripted = jitcore.script(port)
    optimized = jitcore.optimize_for_inference(scripted)
    assert "generate" in optimized.methods
    path = tmp_path / "gpt.jc"
    jitcore.save(optimized, path)
    loaded = jitcore.load(path)
    for what, model in (("scripted", scripted), ("optimized", optimized), ("loaded", loaded)):
        np.testing.assert_array_equal(model.generate(prompt, _NEW_TOKENS), eager, err_msg=what)
