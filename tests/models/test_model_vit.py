"""A ViT-tiny written as a PyTorch user writes one with ``nn.TransformerEncoder``.

torchvision's ``VisionTransformer`` (models/vision_transformer.py) builds its
own encoder blocks; this model keeps its structure and names (``conv_proj``
patch embedding, ``class_token``, ``encoder``, ``heads``, ``_process_input``) and
uses torch's ``nn.TransformerEncoder`` of pre-norm (``norm_first=True``) GELU
layers with a final ``LayerNorm``, as timm-style ports do.  Small: 32x32
images in 8x8 patches, width 64, 4 heads, 2 layers.  NumPy spellings of the
torch tensor calls: ``permute`` is ``np.transpose``, ``expand`` is
``np.broadcast_to``, ``torch.cat`` is ``np.concatenate``.
"""

from functools import partial

import numpy as np
import pytest

from jitcore import nn

from _zoo import check_model, inputs_from_seed


class VisionTransformer(nn.Module):
    """Vision Transformer as per https://arxiv.org/abs/2010.11929."""

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0, num_classes: int = 1000,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError("Input shape indivisible by patch size!")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.num_classes = num_classes

        self.conv_proj = nn.Conv2d(in_channels=3, out_channels=hidden_dim,
                                   kernel_size=patch_size, stride=patch_size)

        seq_length = (image_size // patch_size) ** 2

        # Add a class token
        self.class_token = nn.Parameter(np.zeros((1, 1, hidden_dim), np.float32))
        seq_length += 1

        self.pos_embedding = nn.Parameter(np.zeros((1, seq_length, hidden_dim), np.float32))
        nn.init.normal_(self.pos_embedding, std=0.02)

        encoder_layer = nn.TransformerEncoderLayer(hidden_dim, num_heads, mlp_dim, dropout,
                                                   activation="gelu", batch_first=True,
                                                   norm_first=True)
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers,
                                             norm=norm_layer(hidden_dim),
                                             enable_nested_tensor=False)
        self.seq_length = seq_length

        self.heads = nn.Linear(hidden_dim, num_classes)

    def _process_input(self, x):
        n, c, h, w = x.shape
        p = self.patch_size
        n_h = h // p
        n_w = w // p

        # (n, c, h, w) -> (n, hidden_dim, n_h, n_w)
        x = self.conv_proj(x)
        # (n, hidden_dim, n_h, n_w) -> (n, hidden_dim, (n_h * n_w))
        x = x.reshape(n, self.hidden_dim, n_h * n_w)

        # (n, hidden_dim, (n_h * n_w)) -> (n, (n_h * n_w), hidden_dim)
        # The self attention layer expects inputs in the format (N, S, E)
        # where S is the source sequence length, N is the batch size, E is the
        # embedding dimension
        x = np.transpose(x, (0, 2, 1))

        return x

    def forward(self, x):
        # Reshape and permute the input tensor
        x = self._process_input(x)
        n = x.shape[0]

        # Expand the class token to the full batch
        batch_class_token = np.broadcast_to(self.class_token, (n, 1, self.hidden_dim))
        x = np.concatenate([batch_class_token, x], axis=1)
        x = x + self.pos_embedding

        x = self.encoder(x)

        # Classifier "token" as used by standard language architectures
        x = x[:, 0]

        x = self.heads(x)

        return x


def vit_tiny():
    model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                              hidden_dim=64, mlp_dim=128, num_classes=10)
    # a trained model's class token and layer norms are not the identity
    rng = np.random.default_rng(7)
    model.class_token[...] = rng.standard_normal(model.class_token.shape) * 0.5
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias[...] = rng.standard_normal(m.bias.shape) * 0.1
    return model


def torch_vit_tiny():
    """The same model in torch."""
    import torch
    import torch.nn as tnn

    class TorchVisionTransformer(tnn.Module):
        def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
                     num_classes):
            super().__init__()
            self.patch_size = patch_size
            self.hidden_dim = hidden_dim
            self.conv_proj = tnn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
            seq_length = (image_size // patch_size) ** 2 + 1
            self.class_token = tnn.Parameter(torch.zeros(1, 1, hidden_dim))
            self.pos_embedding = tnn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
            layer = tnn.TransformerEncoderLayer(hidden_dim, num_heads, mlp_dim, 0.0,
                                                activation="gelu", batch_first=True,
                                                norm_first=True)
            self.encoder = tnn.TransformerEncoder(layer, num_layers,
                                                  norm=tnn.LayerNorm(hidden_dim, eps=1e-6),
                                                  enable_nested_tensor=False)
            self.heads = tnn.Linear(hidden_dim, num_classes)

        def forward(self, x):
            n, _, h, w = x.shape
            x = self.conv_proj(x).reshape(n, self.hidden_dim, -1).permute(0, 2, 1)
            x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
            x = self.encoder(x + self.pos_embedding)
            return self.heads(x[:, 0])

    return TorchVisionTransformer(32, 8, 2, 4, 64, 128, 10)


CASES = [
    dict(name="vit_tiny", make_port=vit_tiny, make_torch_model=torch_vit_tiny,
         inputs=lambda: inputs_from_seed([((2, 3, 32, 32), np.float32)])),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)
