"""The benchmark models, each built once from seeded weights and shared by every backend.

A :class:`ModelCase` holds the jitcore model (a ``jitcore.nn`` module, or a plain NumPy
function that ``jitcore.script`` compiles), its inputs, a hand-written NumPy version where
one differs from the eager model, and a builder for the PyTorch twin that loads the very
same weights (``jitcore.nn`` keeps PyTorch's state-dict names).  Every backend therefore
computes the same function of the same numbers, which ``compare.py`` checks before timing.
"""

import importlib
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from jitcore import nn
from jitcore.nn import init

from . import numpy_models, torch_models

__all__ = ["ModelCase", "all_cases", "case_names", "make_case",
           "rnn_loop", "fused_elementwise", "mlp", "small_cnn", "encoder_layer"]

SEED = 0
GPT_VOCAB, GPT_NEW_TOKENS = 1000, 32
RNN_STEPS = 32
RNN_HIDDEN = 64


@dataclass
class ModelCase:
    """One benchmark model with its inputs.

    Attributes
    ----------
    name : str
        Short identifier used on the command line and in the JSON (``"mlp-b64"``).
    title : str
        Human description for tables (``"MLP 784-512-512-10, batch 64"``).
    model : jitcore.nn.Module or callable
        The model as a jitcore user writes it.
    inputs : tuple of ndarray
    kind : {"module", "function"}
        Modules are traced by jitcore (scripted when ``method`` is not ``forward``);
        functions are scripted.
    numpy_handwritten : callable or None
        ``f(*inputs)``: the same computation written directly in NumPy, or None when the
        model already is plain NumPy code.
    torch_builder : callable
        ``torch_builder(case) -> torch.nn.Module`` with the same weights (imports torch).
    method : str
        The method every backend calls (``"generate"``: an exported method with a loop,
        which jitcore and TorchScript script and ONNX export cannot record).
    floor : dict
        Name -> zero-argument callable of a related operation that bounds the model's speed
        from below (``np.copyto`` for a memory-bound chain); timed, never checked for
        agreement since it computes something else.
    """

    name: str
    title: str
    model: object
    inputs: tuple
    kind: str
    torch_builder: Callable
    numpy_handwritten: Optional[Callable] = None
    floor: dict = field(default_factory=dict)
    method: str = "forward"

    def eager(self):
        """Run the model eagerly with NumPy (the oracle every backend is checked against)."""
        call = self.model if self.kind == "function" else getattr(self.model, self.method)
        return call(*self.inputs)


# ------------------------------------------------------------------ model definitions

def rnn_loop(x, w, u, b):
    """The scripted RNN loop of issue 5: ``h = tanh(x[t] @ W + h @ U + b)`` for 32 steps."""
    h = np.zeros_like(x[0] @ w)
    for t in range(32):
        h = np.tanh(x[t] @ w + h @ u + b)
    return h


def fused_elementwise(x):
    """The elementwise chain of issue 7, a candidate for one fused, memory-bound kernel."""
    return np.tanh(x * 0.5 + 1.0) * x + 3.0


def mlp():
    """MLP 784-512-512-10 with ReLU."""
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def small_cnn():
    """Two conv-bn-relu-pool stages (3→16→32 channels, 32×32 input) and a linear head."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def encoder_layer():
    """``TransformerEncoderLayer(d_model=256, nhead=4)``, batch first, PyTorch's defaults."""
    return nn.TransformerEncoderLayer(256, 4, batch_first=True)


class LSTMEncoder(nn.Module):
    """``nn.LSTM(256, 256, num_layers=2, batch_first=True)``; returns every step's output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(256, 256, num_layers=2, batch_first=True)

    def forward(self, x):
        output, _ = self.lstm(x)
        return output


def _perturb_state(module, rng):
    """Give biases, norm scales and running statistics non-trivial values.

    Freshly initialised layers have zero biases and identity batch norms, which would
    let a backend that drops a bias or a normalisation pass the agreement check.
    """
    state = {}
    for name, value in module.state_dict().items():
        value = np.array(value)
        if value.dtype.kind == "f":
            if name.endswith("running_var"):
                value = rng.uniform(0.5, 1.5, value.shape)
            elif name.endswith(("bias", "running_mean")):
                value = rng.normal(0.0, 0.1, value.shape)
            elif value.ndim == 1 and name.endswith("weight"):   # norm scales
                value = 1.0 + rng.normal(0.0, 0.1, value.shape)
            value = value.astype(np.float32)
        state[name] = value
    module.load_state_dict(state)
    return module.eval()


def zoo(module_name):
    """A module of the model zoo (``tests/models``), where the ported architectures live.

    The zoo's ports are written line for line from their torch sources and tested there;
    the benchmark times the same code rather than a copy of it.
    """
    models = pathlib.Path(__file__).resolve().parents[2] / "tests" / "models"
    if str(models) not in sys.path:
        sys.path.insert(0, str(models))
    return importlib.import_module(module_name)


def _zoo_case(name, title, module_name, port, torch_original, inputs, method="forward",
              **arguments):
    """A model of the zoo built with ``arguments`` (its full size), e.g. mobilenet_v2 at
    width 1.0 and 1000 classes, where the zoo's test uses a small one."""
    init.manual_seed(SEED)
    zoo_module = zoo(module_name)
    module = getattr(zoo_module, port)(**arguments).eval()
    return ModelCase(name, title, module, inputs, "module",
                     lambda case: torch_models.zoo_twin(
                         getattr(zoo_module, torch_original)(**arguments), case),
                     method=method)


def _prompt():
    tokens = np.random.default_rng(SEED).integers(0, GPT_VOCAB, size=(1, 16)).astype(np.int64)
    return (tokens, GPT_NEW_TOKENS)


def _image(shape):
    return (np.random.default_rng(SEED).standard_normal(shape).astype(np.float32),)


# ------------------------------------------------------------------ the cases

def _module_case(name, title, build, input_shape, handwritten, torch_builder):
    init.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    module = _perturb_state(build(), rng)
    x = rng.standard_normal(input_shape).astype(np.float32)
    state = module.state_dict()   # taken once: the hand-written version reads arrays only
    return ModelCase(name, title, module, (x,), "module", torch_builder,
                     numpy_handwritten=None if handwritten is None
                     else lambda x: handwritten(state, x))


def _rnn_case():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((RNN_STEPS, 1, RNN_HIDDEN)).astype(np.float32)
    w, u = (rng.standard_normal((RNN_HIDDEN, RNN_HIDDEN)).astype(np.float32) * 0.1
            for _ in range(2))
    b = rng.standard_normal(RNN_HIDDEN).astype(np.float32)
    return ModelCase("rnn-loop", f"scripted RNN loop, {RNN_STEPS} steps, hidden {RNN_HIDDEN}",
                     rnn_loop, (x, w, u, b), "function", torch_models.rnn_loop)


def _elementwise_case():
    x = np.random.default_rng(SEED).standard_normal((1024, 1024)).astype(np.float32)
    out = np.empty_like(x)
    return ModelCase("elementwise", "tanh(x*0.5+1)*x+3 on (1024, 1024) float32",
                     fused_elementwise, (x,), "function", torch_models.fused_elementwise,
                     floor={"np.copyto (bandwidth floor)": lambda: np.copyto(out, x)})


_CASES = {
    "linear": lambda: _module_case("linear", "seed Linear(4, 2), batch 1",
                                   lambda: nn.Linear(4, 2), (1, 4), numpy_models.linear,
                                   torch_models.linear),
    "mlp-b1": lambda: _module_case("mlp-b1", "MLP 784-512-512-10, batch 1", mlp, (1, 784),
                                   numpy_models.mlp, torch_models.mlp),
    "mlp-b64": lambda: _module_case("mlp-b64", "MLP 784-512-512-10, batch 64", mlp, (64, 784),
                                    numpy_models.mlp, torch_models.mlp),
    "cnn-b1": lambda: _module_case("cnn-b1", "small CNN 3x32x32, batch 1", small_cnn,
                                   (1, 3, 32, 32), numpy_models.small_cnn,
                                   torch_models.small_cnn),
    "cnn-b16": lambda: _module_case("cnn-b16", "small CNN 3x32x32, batch 16", small_cnn,
                                    (16, 3, 32, 32), numpy_models.small_cnn,
                                    torch_models.small_cnn),
    "encoder-b1": lambda: _module_case("encoder-b1",
                                       "TransformerEncoderLayer d256 h4, seq 64, batch 1",
                                       encoder_layer, (1, 64, 256), numpy_models.encoder_layer,
                                       torch_models.encoder_layer),
    "resnet18": lambda: _zoo_case("resnet18", "torchvision resnet18, 1x3x224x224",
                                  "test_model_resnet", "resnet18", "torch_resnet18",
                                  _image((1, 3, 224, 224))),
    "mobilenet_v2": lambda: _zoo_case("mobilenet_v2", "torchvision mobilenet_v2, 1x3x224x224",
                                      "test_model_mobilenet", "mobilenet_v2",
                                      "torch_mobilenet_v2", _image((1, 3, 224, 224)),
                                      num_classes=1000, width_mult=1.0),
    "gpt2-generate": lambda: _zoo_case(
        "gpt2-generate", f"GPT-2 2 blocks d256, greedy generation of {GPT_NEW_TOKENS} tokens",
        "test_model_gpt", "gpt2_tiny", "torch_gpt2_tiny", _prompt(), method="generate",
        block_size=64, vocab_size=GPT_VOCAB, n_embd=256),
    "lstm": lambda: _module_case("lstm", "LSTM 2 layers, hidden 256, 64 steps, batch 1",
                                 LSTMEncoder, (1, 64, 256), None, torch_models.lstm_encoder),
    "rnn-loop": _rnn_case,
    "elementwise": _elementwise_case,
}


def case_names():
    """Names of every model case, in table order."""
    return list(_CASES)


def make_case(name):
    """Build the model case ``name`` (weights and inputs from fixed seeds).

    Raises
    ------
    ValueError
        If ``name`` is not one of :func:`case_names`.
    """
    try:
        return _CASES[name]()
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(_CASES)}") from None


def all_cases():
    """Every model case, built."""
    return [make_case(name) for name in _CASES]
