"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their cells ``RNNCell``, ``LSTMCell``,
``GRUCell``, with torch.nn's constructor arguments, parameter names and outputs.

Each call is one registry op (``aten::lstm.input``, ``aten::gru_cell`` ...), called through
``_VF`` (:data:`jitcore.ops.namespace.aten`) as torch's own layers do, so a trace or a
script records one node per layer call and the runtime runs the whole sequence in one
kernel.
"""

import math
from typing import List, Optional, Tuple

import numpy as np

from jitcore.nn import init
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter
from jitcore.ops.defs.recurrent import flat_weight_names
from jitcore.ops.namespace import aten

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# torch's layers call their ops through _VF; here the registry's aten namespace
_VF = aten

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _zeros(like, shape: List[int]):
    """Zeros of ``shape`` in ``like``'s dtype (a read-only broadcast view).

    torch writes ``torch.zeros(..., dtype=input.dtype)``; jitcore.script has no
    ``ndarray.dtype``, so the zero state takes the weights' dtype, which the ops
    require the input to have anyway.
    """
    return np.broadcast_to(np.zeros_like(like[0, 0]), shape)


class RNNBase(Module):
    """The parameters and checks shared by ``RNN``, ``LSTM`` and ``GRU`` (as ``torch.nn.RNNBase``).

    Parameters
    ----------
    mode : {"LSTM", "GRU", "RNN_TANH", "RNN_RELU"}
    input_size, hidden_size : int
    num_layers : int, default 1
    bias : bool, default True
        Whether the layers have ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
    batch_first : bool, default False
        Inputs and outputs are ``(N, L, H)`` instead of ``(L, N, H)`` (never the states).
    dropout : float, default 0.0
        Dropout on every layer's output but the last, in training mode only.
    bidirectional : bool, default False
    proj_size : int, default 0
        LSTM only: project the hidden state to this size (``weight_hr_l{k}``).
    dtype : dtype, default float32

    Attributes
    ----------
    weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (+ ``_reverse``) : Parameter
        torch's layout (gates stacked along dim 0), initialised U(-1/sqrt(H), 1/sqrt(H)).
    """

    # TorchScript's way to keep properties from being compiled (torch's RNNBase lists
    # all_weights): read in compiled code, these are their values, the module's own
    # parameters, as a list of reads (frontend/script/modules.py)
    __jit_unused_properties__ = ["_flat_weights", "all_weights"]
    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"unrecognized RNN mode {mode!r}; expected one of {sorted(_GATES)}")
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) \
                or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        for name, value, least in (("hidden_size", hidden_size, 1), ("num_layers", num_layers, 1),
                                   ("input_size", input_size, 0), ("proj_size", proj_size, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = proj_size
        dtype = np.float32 if dtype is None else dtype
        directions = 2 if self.bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                layer_input = input_size if layer == 0 else real_hidden_size * directions
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden_size)}
                if self.bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    self.register_parameter(f"{kind}_l{layer}{suffix}",
                                            Parameter(np.empty(shape, dtype=dtype)))
        self._flat_weights_names = flat_weight_names(num_layers, self.bidirectional, self.bias,
                                                     proj_size)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's initialisation: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: the kernels read every weight where it is (torch packs them
        for cuDNN here).  Models call it in ``forward``, so it compiles too."""
        return None

    @property
    def _flat_weights(self):
        """The parameters in the ``params`` order of the recurrent ops.

        torch keeps this list as an attribute that ``__setattr__`` and ``_apply`` refresh
        on every assignment and dtype change; read by name, it is always current, a trace
        records a read of each parameter, and jitcore.script compiles it as the list of
        those reads (a ``List[Tensor]``).
        """
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """Per layer and direction, the list of its parameters (torch's ``all_weights``)."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        weights = self._flat_weights
        return [weights[k:k + per] for k in range(0, len(weights), per)]

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, as ``torch.nn.RNN``.

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype
        As :class:`RNNBase`.
    nonlinearity : {"tanh", "relu"}, default "tanh"

    Returns (of a call)
    -------------------
    (output, h_n)
        ``output``: ``(L, N, D * H)`` (``(N, L, D * H)`` batch first, ``(L, D * H)``
        unbatched); ``h_n``: ``(D * num_layers, N, H)`` (``(D * num_layers, H)`` unbatched).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. "
                             "Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        num_directions = 2 if self.bidirectional else 1
        batch_dim = 0 if self.batch_first else 1
        is_batched = input.ndim == 3
        if not is_batched:
            input = np.expand_dims(input, batch_dim)
        max_batch_size = input.shape[0] if self.batch_first else input.shape[1]
        if hx is None:
            h0 = _zeros(self.weight_hh_l0, [self.num_layers * num_directions, max_batch_size,
                                            self.hidden_size])
        else:
            h0 = hx
            if not is_batched:
                h0 = np.expand_dims(h0, 1)
        if self.mode == "GRU":
            result = _VF.gru(input, h0, self._flat_weights, self.bias, self.num_layers,
                             self.dropout, self.training, self.bidirectional, self.batch_first)
        elif self.mode == "RNN_TANH":
            result = _VF.rnn_tanh(input, h0, self._flat_weights, self.bias, self.num_layers,
                                  self.dropout, self.training, self.bidirectional, self.batch_first)
        else:
            result = _VF.rnn_relu(input, h0, self._flat_weights, self.bias, self.num_layers,
                                  self.dropout, self.training, self.bidirectional, self.batch_first)
        output = result[0]
        hidden = result[1]
        if not is_batched:
            output = np.squeeze(output, batch_dim)
            hidden = np.squeeze(hidden, 1)
        return output, hidden


class GRU(RNNBase):
    """Gated recurrent unit, as ``torch.nn.GRU`` (gates ``r, z, n``).

    Parameters and outputs as :class:`RNN` (without ``nonlinearity``).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)

    # torch's GRU.forward and RNN.forward differ only in the op, which RNN.forward picks
    # by mode (a constant the script compiler folds)
    forward = RNN.forward


class LSTM(RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM`` (gates ``i, f, g, o``; ``proj_size``).

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size, dtype
        As :class:`RNNBase`.

    Returns (of a call)
    -------------------
    (output, (h_n, c_n))
        ``output``: ``(L, N, D * H_out)``; ``h_n``: ``(D * num_layers, N, H_out)``;
        ``c_n``: ``(D * num_layers, N, H)``, where ``H_out`` is ``proj_size`` or ``H``
        (without the batch dim for an unbatched input).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)

    def forward(self, input, hx: Optional[Tuple[np.ndarray, np.ndarray]] = None
                ) -> Tuple[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
        num_directions = 2 if self.bidirectional else 1
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        batch_dim = 0 if self.batch_first else 1
        is_batched = input.ndim == 3
        if not is_batched:
            input = np.expand_dims(input, batch_dim)
        max_batch_size = input.shape[0] if self.batch_first else input.shape[1]
        if hx is None:
            h_zeros = _zeros(self.weight_hh_l0, [self.num_layers * num_directions,
                                                 max_batch_size, real_hidden_size])
            c_zeros = _zeros(self.weight_hh_l0, [self.num_layers * num_directions,
                                                 max_batch_size, self.hidden_size])
            h0, c0 = h_zeros, c_zeros
        else:
            h0, c0 = hx
            if not is_batched:
                h0 = np.expand_dims(h0, 1)
                c0 = np.expand_dims(c0, 1)
        result = _VF.lstm(input, [h0, c0], self._flat_weights, self.bias, self.num_layers,
                          self.dropout, self.training, self.bidirectional, self.batch_first)
        output = result[0]
        h_n = result[1]
        c_n = result[2]
        if not is_batched:
            output = np.squeeze(output, batch_dim)
            h_n = np.squeeze(h_n, 1)
            c_n = np.squeeze(c_n, 1)
        return output, (h_n, c_n)


# ------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """The parameters shared by the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``
    (torch's layout and initialisation)."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        dtype = np.float32 if dtype is None else dtype
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's initialisation: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", None) == "relu":
            text += ", nonlinearity=relu"
        return text


class RNNCell(RNNCellBase):
    """One Elman RNN step, as ``torch.nn.RNNCell``; ``forward(input, hx=None) -> h'``."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx: Optional[np.ndarray] = None) -> np.ndarray:
        if input.ndim != 1 and input.ndim != 2:
            raise ValueError("Expected input to be 1D (input_size,) or 2D (batch, input_size)")
        is_batched = input.ndim == 2
        if not is_batched:
            input = np.expand_dims(input, 0)
        if hx is None:
            h0 = _zeros(self.weight_hh, [input.shape[0], self.hidden_size])
        else:
            h0 = hx
            if not is_batched:
                h0 = np.expand_dims(h0, 0)
        if self.nonlinearity == "gru":
            ret = _VF.gru_cell(input, h0, self.weight_ih, self.weight_hh, self.bias_ih,
                               self.bias_hh)
        elif self.nonlinearity == "tanh":
            ret = _VF.rnn_tanh_cell(input, h0, self.weight_ih, self.weight_hh, self.bias_ih,
                                    self.bias_hh)
        else:
            ret = _VF.rnn_relu_cell(input, h0, self.weight_ih, self.weight_hh, self.bias_ih,
                                    self.bias_hh)
        if not is_batched:
            ret = np.squeeze(ret, 0)
        return ret


class LSTMCell(RNNCellBase):
    """One LSTM step, as ``torch.nn.LSTMCell``; ``forward(input, hx=None) -> (h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx: Optional[Tuple[np.ndarray, np.ndarray]] = None
                ) -> Tuple[np.ndarray, np.ndarray]:
        if input.ndim != 1 and input.ndim != 2:
            raise ValueError("Expected input to be 1D (input_size,) or 2D (batch, input_size)")
        is_batched = input.ndim == 2
        if not is_batched:
            input = np.expand_dims(input, 0)
        if hx is None:
            zeros = _zeros(self.weight_hh, [input.shape[0], self.hidden_size])
            h0, c0 = zeros, zeros
        else:
            h0, c0 = hx
            if not is_batched:
                h0 = np.expand_dims(h0, 0)
                c0 = np.expand_dims(c0, 0)
        ret = _VF.lstm_cell(input, [h0, c0], self.weight_ih, self.weight_hh, self.bias_ih,
                            self.bias_hh)
        h1 = ret[0]
        c1 = ret[1]
        if not is_batched:
            h1 = np.squeeze(h1, 0)
            c1 = np.squeeze(c1, 0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step, as ``torch.nn.GRUCell``; ``forward(input, hx=None) -> h'``."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
        self.nonlinearity = "gru"

    # torch's GRUCell.forward and RNNCell.forward differ only in the op, which
    # RNNCell.forward picks by the constant ``nonlinearity`` ("gru" here)
    forward = RNNCell.forward
