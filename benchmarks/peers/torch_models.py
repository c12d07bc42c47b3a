"""PyTorch twins of the benchmark models, loaded with the jitcore model's own weights.

Imported lazily by the PyTorch and ONNX Runtime backends only; importing this module
does not import torch.
"""

import numpy as np

__all__ = ["linear", "mlp", "small_cnn", "encoder_layer", "lstm_encoder", "rnn_loop",
           "fused_elementwise", "zoo_twin"]


def _with_weights(torch_module, case):
    import torch
    state = {name: torch.from_numpy(np.array(value))
             for name, value in case.model.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)
    return torch_module.eval()


def linear(case):
    """``torch.nn.Linear(4, 2)``."""
    import torch
    return _with_weights(torch.nn.Linear(4, 2), case)


def mlp(case):
    """MLP 784-512-512-10."""
    from torch import nn
    return _with_weights(nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                                       nn.ReLU(), nn.Linear(512, 10)), case)


def small_cnn(case):
    """The small CNN (same layer indices as :func:`peers.models.small_cnn`)."""
    from torch import nn
    return _with_weights(nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10)), case)


def encoder_layer(case):
    """``torch.nn.TransformerEncoderLayer(256, 4, batch_first=True)``."""
    from torch import nn
    return _with_weights(nn.TransformerEncoderLayer(256, 4, batch_first=True), case)


def lstm_encoder(case):
    """``torch.nn.LSTM(256, 256, num_layers=2, batch_first=True)``, every step's output."""
    import torch

    class LSTMEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(256, 256, num_layers=2, batch_first=True)

        def forward(self, x):
            output, _ = self.lstm(x)
            return output

    return _with_weights(LSTMEncoder(), case)


def _function_modules():
    import torch

    class RNNLoop(torch.nn.Module):
        def forward(self, x, w, u, b):
            h = torch.zeros_like(x[0] @ w)
            for t in range(32):
                h = torch.tanh(x[t] @ w + h @ u + b)
            return h

    class FusedElementwise(torch.nn.Module):
        def forward(self, x):
            return torch.tanh(x * 0.5 + 1.0) * x + 3.0

    return RNNLoop, FusedElementwise


def rnn_loop(case):
    """The RNN loop as a module (its arrays are inputs, so there are no weights)."""
    return _function_modules()[0]().eval()


def fused_elementwise(case):
    """The elementwise chain as a module."""
    return _function_modules()[1]().eval()


def zoo_twin(torch_module, case):
    """A model-zoo case's torch original (built by the zoo module) with the port's weights."""
    return _with_weights(torch_module, case)
