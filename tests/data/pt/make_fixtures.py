"""Write the small TorchScript archives under tests/data/pt/ (run once, with torch installed).

    python tests/data/pt/make_fixtures.py

Every tensor of the small modules is made from ``torch.arange`` so that the tests can rebuild the
expected values with NumPy alone; the zoo models' archives carry their input and torch's output
(``zoo_fixtures``) (see ``tests/test_serialization_torchscript.py``,
which documents each file).  Re-running rewrites the files; torch's output is
deterministic but not byte-stable across torch versions, so commit the result
only when a fixture has to change.
"""

import importlib
import io
import os
import sys

from typing import Dict, NamedTuple

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def ramp(*shape, dtype=torch.float32, scale=8.0):
    """``arange(n).reshape(shape) / scale`` minus its midpoint: values with both signs, exact in float16."""
    count = 1
    for d in shape:
        count *= d
    return ((torch.arange(count, dtype=torch.float64) - count // 2) / scale).reshape(shape).to(dtype)


class LinearRelu(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.act = torch.nn.ReLU()
        with torch.no_grad():
            self.fc.weight.copy_(ramp(3, 4))
            self.fc.bias.copy_(ramp(3))

    def forward(self, x):
        return self.act(self.fc(x))


class EveryDtype(torch.nn.Module):
    """One buffer of every storage type NumPy can hold, a transposed view and a shared storage."""

    def __init__(self):
        super().__init__()
        for name, dtype in [("f64", torch.float64), ("f32", torch.float32), ("f16", torch.float16),
                            ("i64", torch.int64), ("i32", torch.int32), ("i16", torch.int16),
                            ("i8", torch.int8), ("u8", torch.uint8), ("c64", torch.complex64)]:
            self.register_buffer(name, ramp(2, 3, scale=1.0).to(dtype))
        self.register_buffer("flag", torch.tensor([True, False, True]))
        base = ramp(3, 4)
        self.register_buffer("base", base)
        self.register_buffer("transposed", base.t())              # a strided view of base's storage
        self.register_buffer("row", base[1])                       # an offset view of base's storage
        self.scale = 2.5
        self.steps = 3
        self.label = "every dtype"

    def forward(self, x):
        return x * self.scale + self.f32.sum()


class Branchy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = LinearRelu()

    def forward(self, x: torch.Tensor, n: int = 2) -> torch.Tensor:
        y = self.fc(x)
        for _ in range(n):
            y = y * 2.0
        if bool(y.sum() > 0):
            y = y - 1.0
        return y

    @torch.jit.export
    def half(self, x: torch.Tensor) -> torch.Tensor:
        return x / 2.0


class ResidualInPlace(torch.nn.Module):
    """``nn.ReLU(inplace=True)`` and ``out += identity``: in-place updates jitcore compiles as values."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.relu = torch.nn.ReLU(inplace=True)
        with torch.no_grad():
            self.fc.weight.copy_(ramp(4, 4))
            self.fc.bias.copy_(ramp(4))

    def forward(self, x):
        identity = x
        out = self.relu(self.fc(x))
        out += identity
        return self.relu(out)


class AddTable(torch.nn.Module):
    """A traced tensor constant: ``CONSTANTS.c0`` in the code, ``constants.pkl`` in the archive."""

    def __init__(self):
        super().__init__()
        self.table = ramp(2, 4)       # a plain tensor attribute: traced as a constant

    def forward(self, x):
        return x * 2.0 + self.table


class Summary(NamedTuple):
    total: torch.Tensor
    count: int


class Containers(torch.nn.Module):
    """``Dict[str, Tensor]`` in and out, and a NamedTuple made in code (keywords, read by index)."""

    def forward(self, xs: Dict[str, torch.Tensor], scale: float = 2.0) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        for name, x in xs.items():
            out[name] = x * scale
        if "bias" in xs:
            out["sum"] = xs["bias"].sum(0)
        return out

    @torch.jit.export
    def summary(self, x: torch.Tensor) -> Summary:
        made = Summary(count=x.size(0), total=x.sum())
        return Summary(made.total * 2.0, made.count + 1)


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def zoo_fixtures():
    """Two small zoo models scripted, with their input and torch's output as extra files.

    ``audio_conv1d_autoencoder_scripted.pt`` (conv1d, conv_transpose1d, linear upsampling
    through torch's ``interpolate`` source) and ``lstm_classifier_scripted.pt`` (the
    scripted LSTM's ``_flat_weights`` and ``ops.prim.device``): ``extra/input.npy`` and
    ``extra/expected.npy`` hold the example input and torch's output, so a run without
    torch checks the values.
    """
    sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
    for module_name, case_name in (("test_model_unet", "audio_conv1d_autoencoder"),
                                   ("test_model_rnn", "lstm_classifier")):
        (case,) = [c for c in importlib.import_module(module_name).CASES if c["name"] == case_name]
        torch.manual_seed(0)
        scripted = torch.jit.script(case["make_torch_model"]().eval())
        (x,) = case["inputs"]()
        with torch.no_grad():
            expected = scripted(torch.from_numpy(x)).numpy()
        scripted.save(os.path.join(HERE, f"{case_name}_scripted.pt"),
                      _extra_files={"input.npy": _npy(x), "expected.npy": _npy(expected)})


def encoder_layer_fixtures():
    """A ``TransformerEncoderLayer`` (d 16, 4 heads, GELU, norm first) traced twice, with its
    input and torch's output as extra files: ``encoder_layer_traced.pt`` under ``no_grad``
    (one call of torch's fast path ``_transformer_encoder_layer_fwd``) and
    ``encoder_layer_traced_grad.pt`` with grad enabled (``multi_head_attention_forward``:
    ``torch.div(rounding_mode="trunc")``, ``torch.unflatten``)."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, 0.0, activation="gelu", batch_first=True,
                                             norm_first=True).eval()
    x = ramp(2, 5, 16, scale=40.0)
    for name, grad in (("encoder_layer_traced", False), ("encoder_layer_traced_grad", True)):
        with torch.set_grad_enabled(grad):
            traced = torch.jit.trace(layer, x, check_trace=False)
            expected = traced(x).detach().numpy()
        traced.save(os.path.join(HERE, f"{name}.pt"),
                    _extra_files={"input.npy": _npy(x.numpy()), "expected.npy": _npy(expected)})


def main():
    x = ramp(2, 4)
    torch.jit.trace(LinearRelu().eval(), x).save(os.path.join(HERE, "linear_relu_traced.pt"))
    torch.jit.script(LinearRelu().eval()).save(os.path.join(HERE, "linear_relu_scripted.pt"),
                                               _extra_files={"producer.txt": b"make_fixtures.py"})
    torch.jit.script(EveryDtype().eval()).save(os.path.join(HERE, "every_dtype.pt"))
    torch.jit.script(Branchy().eval()).save(os.path.join(HERE, "branchy_scripted.pt"))
    torch.jit.script(ResidualInPlace().eval()).save(os.path.join(HERE, "residual_in_place_scripted.pt"))
    torch.jit.trace(AddTable(), x).save(os.path.join(HERE, "add_table_traced.pt"))
    torch.jit.script(Containers().eval()).save(os.path.join(HERE, "containers_scripted.pt"))
    zoo_fixtures()
    encoder_layer_fixtures()


if __name__ == "__main__":
    main()
