"""MaxPool1d, AvgPool1d, AdaptiveAvgPool1d and AdaptiveMaxPool2d: torch's results eager,
traced, scripted and saved; return_indices is refused clearly."""

import numpy as np
import pytest

import jitcore
from jitcore import nn

from _layer_check import check_layer


def _x(*shape, dtype=np.float32):
    return np.random.default_rng(9).standard_normal(shape).astype(dtype)


CASES = [
    ("MaxPool1d", (3,), {}, (2, 4, 11)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True), (2, 4, 12)),
    ("MaxPool1d", (2,), {}, (4, 9)),
    ("AvgPool1d", (3,), {}, (2, 4, 11)),
    ("AvgPool1d", (4,), dict(stride=3, padding=2, ceil_mode=True, count_include_pad=False),
     (2, 3, 13)),
    ("AvgPool1d", (3,), dict(stride=1, padding=1), (3, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool1d", (1,), {}, (3, 7)),
    ("AdaptiveMaxPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("AdaptiveMaxPool2d", (1,), {}, (3, 5, 5)),
    ("AdaptiveMaxPool2d", ((7, 7),), {}, (1, 8, 14, 14)),
]


@pytest.mark.parametrize("cls, args, kwargs, shape", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_match_torch(cls, args, kwargs, shape, dtype, tmp_path):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, cls)(*args, **kwargs)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    check_layer(torch, layer, getattr(torch.nn, cls)(*args, **kwargs), (_x(*shape, dtype=dtype),),
                tmp_path, **tol)


def test_return_indices_is_refused_with_a_clear_error():
    for make in (lambda: nn.MaxPool1d(2, return_indices=True),
                 lambda: nn.AdaptiveMaxPool2d(2, return_indices=True)):
        with pytest.raises(NotImplementedError, match="return_indices=True"):
            make()
    with pytest.raises(NotImplementedError, match=r"adaptive_max_pool2d\(return_indices=True\)"):
        nn.functional.adaptive_max_pool2d(_x(1, 2, 4, 4), 2, return_indices=True)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        nn.MaxPool1d(2)(_x(1, 2, 3, 4))
    traced = jitcore.trace(nn.AvgPool1d(3), (_x(2, 3, 8),))
    with pytest.raises(jitcore.KernelError, match="window is larger"):
        traced(_x(2, 3, 2))
    scripted = jitcore.script(nn.AdaptiveMaxPool2d(2))
    with pytest.raises((TypeError, jitcore.KernelError), match="float"):
        scripted(np.ones((2, 3, 8, 8), np.int64))
