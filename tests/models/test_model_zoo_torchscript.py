"""The model zoo as TorchScript archives: each torch original scripted and traced by torch,
saved with ``torch.jit.save``, loaded by ``jitcore.load`` and compared with torch's own run
of the same compiled module (values and dtypes), then optimized for inference.

The torch originals are the zoo modules' ``make_torch_model`` (torch's default
initialisation, seeded), with non-trivial batch-norm statistics so that a dropped
or misread norm shows.  Needs torch.
"""

import importlib
import pathlib
import sys

import numpy as np
import pytest

import jitcore

torch = pytest.importorskip("torch")

# torch 2.11+ marks torch.jit deprecated; the archives it writes are what jitcore reads.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")

_HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(_HERE))

#: Cases torch itself cannot produce an archive for, with the reason.
_TORCH_CANNOT = {
    ("gpt2_tiny", "trace"): "torch.jit.trace fails on a module whose @torch.jit.export method "
                            "(generate) calls forward: 'method forward already defined'",
}
#: Archives jitcore does not load yet, with what is missing (docs/migrating-from-torchscript.md).
# (case, way) pairs whose archive jitcore cannot load yet, and why: none today
_NOT_YET = {}


def _cases():
    cases = []
    for path in sorted(_HERE.glob("test_model_*.py")):
        if path.stem == pathlib.Path(__file__).stem:
            continue
        for case in importlib.import_module(path.stem).CASES:
            for way in ("script", "trace"):
                key = (case["name"], way)
                marks = ([pytest.mark.skip(reason=_TORCH_CANNOT[key])] if key in _TORCH_CANNOT else
                         [pytest.mark.xfail(reason=_NOT_YET[key], strict=True, raises=jitcore.CompileError)]
                         if key in _NOT_YET else [])
                cases.append(pytest.param(case, way, id=f"{case['name']}-{way}", marks=marks))
    return cases


def _with_statistics(model):
    """Batch norms with running statistics and affine parameters of a trained model."""
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.1)
    return model


def _arrays(result):
    items = result if isinstance(result, (tuple, list)) else (result,)
    # None stays None: an absent Optional output (GoogLeNet's aux logits in eval)
    return [None if item is None else np.asarray(
        item.detach().numpy() if hasattr(item, "detach") else item) for item in items]


@pytest.mark.slow
@pytest.mark.parametrize("case, way", _cases())
def test_zoo_archive_loads_and_matches_torch(case, way, tmp_path):
    torch.manual_seed(0)
    model = _with_statistics(case["make_torch_model"]()).eval()
    inputs = case["inputs"]()
    example = tuple(torch.from_numpy(np.ascontiguousarray(x)) for x in inputs)
    with torch.no_grad():
        compiled = (torch.jit.script(model) if way == "script"
                    else torch.jit.trace(model, example, check_trace=False))
        expected = _arrays(compiled(*example))
    path = tmp_path / f"{case['name']}-{way}.pt"
    compiled.save(str(path))
    loaded = jitcore.load(path)
    optimized = jitcore.optimize_for_inference(loaded)
    for what, module in (("loaded", loaded), ("optimized", optimized)):
        got = _arrays(module(*inputs))
        assert len(got) == len(expected), what
        for g, e in zip(got, expected):
            assert (g is None) == (e is None), what
            if e is None:
                continue
            assert (g.dtype, g.shape) == (e.dtype, e.shape), what
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=f"{case['name']} {way} {what}")
