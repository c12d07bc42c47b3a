"""Ops jitcore lacks in torch's library code (frontend/torchscript/reachable_ops.py): torch's own
``F.interpolate`` source, saved by ``torch.jit.script``, loads when the model's constant mode
has a kernel (the other modes' branches fold away) and fails at load, naming the op and its
line, when the mode it passes has none.  The torch-less cases are in
test_serialization_torchscript_load.py (``pick``)."""

import numpy as np
import pytest

import jitcore
from jitcore.errors import CompileError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _upsampling(mode):
    class Upsampling(torch.nn.Module):
        __constants__ = ["mode"]

        def __init__(self):
            super().__init__()
            self.mode = mode
            self.up = torch.nn.Upsample(scale_factor=2, mode=mode)

        def forward(self, x):
            return self.up(x) - torch.nn.functional.interpolate(x, size=(5, 7), mode=self.mode)[:, :, :1, :1]

    return Upsampling().eval()


def _saved(tmp_path, mode):
    scripted = torch.jit.script(_upsampling(mode))
    path = tmp_path / f"{mode}.pt"
    scripted.save(str(path))
    return scripted, path


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_an_interpolate_mode_with_a_kernel_loads_and_runs_as_torch(tmp_path, mode):
    scripted, path = _saved(tmp_path, mode)
    loaded = jitcore.load(path)
    for dtype in (np.float32, np.float64):
        x = np.random.default_rng(0).standard_normal((2, 3, 4, 6)).astype(dtype)
        expected = scripted(torch.from_numpy(x)).numpy()
        for module in (loaded, jitcore.optimize_for_inference(loaded)):
            got = module(x)
            assert got.dtype == expected.dtype
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_an_interpolate_mode_without_a_kernel_is_a_load_error_naming_the_op_and_line(tmp_path):
    _, path = _saved(tmp_path, "bicubic")
    with pytest.raises(CompileError) as info:
        jitcore.load(path)
    message = str(info.value)
    assert "torch.upsample_bicubic2d: jitcore has no op aten::upsample_bicubic2d, and forward() reaches" in message
    assert "code/__torch__/torch/nn/functional" in message and "torch.upsample_bicubic2d(input" in message
