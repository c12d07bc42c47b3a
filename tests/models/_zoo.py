"""The model zoo's harness: one torch architecture, ported line for line, checked end to end.

A zoo test module defines its port (a ``jitcore.nn`` module written the way the
torch source is) and the torch original, and calls :func:`check_model`, which
runs the port eagerly, traced, scripted, frozen + optimized for inference, and
saved then loaded, and compares every result with torch's output for the same
weights.

The weights are the port's own, drawn after ``jitcore.manual_seed(seed)``; they
load into the torch model with ``load_state_dict(strict=True)`` (which checks
that the names and shapes of every parameter and buffer agree), and torch's
state dict, converted to ndarrays, loads back into a fresh port with
``strict=True``.  Where torch is not installed the expected outputs come from
``tests/models/data/<name>.npz``, which torch wrote from the same weights and
inputs; where it is installed the test also checks that file is current.
Regenerate it after changing a model or its initialisation::

    python tests/models/_zoo.py --regenerate
"""

import importlib
import linecache
import pathlib
import sys
import types

import numpy as np

import jitcore

DATA = pathlib.Path(__file__).parent / "data"


def torch_or_none():
    """``torch`` when it is installed, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def inputs_from_seed(shapes_and_dtypes, seed=0):
    """Example inputs: standard normal floats, or integers in ``[0, high)`` for ``("int64", high)``."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, dtype in shapes_and_dtypes:
        if isinstance(dtype, tuple):
            name, high = dtype
            out.append(rng.integers(0, high, size=shape).astype(name))
        else:
            out.append(rng.standard_normal(shape).astype(dtype))
    return tuple(out)


def trained_statistics(model, linear=False):
    """``model`` with non-trivial batch-norm running statistics and affine parameters, as a
    trained model has (fresh ones are the identity, which would hide a dropped norm).

    ``linear=True`` also draws N(0, 1/fan_in) ``Linear`` weights (torchvision's N(0, 0.01)
    classifier init would make every logit ~0).  The draws come from one seeded stream in
    module order, so a port and its saved outputs stay in step.
    """
    from jitcore import nn
    rng = np.random.default_rng(7)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean[...] = rng.standard_normal(m.running_mean.shape) * 0.1
            m.running_var[...] = rng.uniform(0.5, 1.5, m.running_var.shape)
            m.weight[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias[...] = rng.standard_normal(m.bias.shape) * 0.1
        elif linear and isinstance(m, nn.Linear):
            m.weight[...] = rng.standard_normal(m.weight.shape) / np.sqrt(m.weight.shape[1])
    return model


def _as_tuple(result):
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def _flat(result):
    """The arrays of a (possibly nested) result, in order; None items (an Optional output
    that is absent, GoogLeNet's aux logits in eval) are left out on both sides."""
    flat = []
    for item in _as_tuple(result):
        if item is None:
            continue
        if isinstance(item, (tuple, list)):
            flat.extend(_flat(item))
        else:
            flat.append(np.asarray(item))
    return flat


def torch_outputs(port, torch_model, inputs):
    """torch's outputs (as ndarrays) for ``port``'s weights, loaded with strict=True."""
    torch = torch_or_none()
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in port.state_dict().items()}
    torch_model.load_state_dict(state, strict=True)
    torch_model.eval()
    with torch.no_grad():
        result = torch_model(*(torch.from_numpy(np.ascontiguousarray(x)) for x in inputs))
    return [a.copy() for a in _flat(result)]


def _expected(case, port, inputs):
    torch = torch_or_none()
    path = DATA / f"{case['name']}.npz"
    if torch is None:
        with np.load(path) as saved:
            return [saved[f"output_{k}"] for k in range(len(saved.files))]
    torch.manual_seed(0)
    torch_model = case["make_torch_model"]()
    expected = torch_outputs(port, torch_model, inputs)
    # and the other way: torch's state dict, as ndarrays, loads into a fresh port
    fresh = _fresh_port(case, seed=case.get("seed", 0) + 1)
    fresh.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()},
                          strict=True)
    assert_outputs(f"{case['name']} with torch's state dict", fresh(*inputs), expected, 1e-5, 1e-5)
    if path.exists():
        # the saved outputs are torch's on the machine that wrote them; torch's own
        # kernels round differently per CPU (AVX-512 or AVX2 convolutions: a few 1e-6 on
        # resnet18's logits), so staleness is judged at the tolerance ports are held to
        with np.load(path) as saved:
            for k, value in enumerate(expected):
                np.testing.assert_allclose(
                    value, saved[f"output_{k}"], rtol=1e-5, atol=1e-5,
                    err_msg=f"{path} is out of date: python tests/models/_zoo.py --regenerate")
    return expected


def numpy_as_torch(torch):
    """The NumPy names the ports use, as torch spells them (torch's side of a zoo test);
    a module, so that torch.jit.script resolves its attributes to torch's builtins."""
    module = types.ModuleType("numpy_as_torch")
    module.concatenate = torch.cat
    module.expand_dims = torch.unsqueeze
    module.transpose = torch.permute
    module.float32 = torch.float32

    def ones(shape, dtype):
        return torch.ones(*shape, dtype=dtype)
    module.ones = ones
    return module


def torch_twin(module_name, source, namespace):
    """Run ``source`` (a port's classes, torch behind the names in ``namespace``) as the
    module ``<module_name>_torch``: torch's original of the port.  torch.jit.script reads
    the source back, the functions' through linecache and the classes' (overload
    declarations) through the module's ``__file__``, so both are registered.

    Returns
    -------
    dict
        The module's namespace.
    """
    filename = f"<{module_name} with torch.nn>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"{module_name}_torch")
    module.__file__ = filename
    module.__dict__.update(namespace)
    sys.modules[module.__name__] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module.__dict__


def _fresh_port(case, seed):
    jitcore.manual_seed(seed)
    port = case["make_port"]()
    port.eval()
    return port


def save_expected(case):
    """Write ``data/<name>.npz``: torch's outputs for the case's port weights and inputs."""
    torch = torch_or_none()
    torch.manual_seed(0)
    port = _fresh_port(case, case.get("seed", 0))
    expected = torch_outputs(port, case["make_torch_model"](), case["inputs"]())
    DATA.mkdir(exist_ok=True)
    np.savez_compressed(DATA / f"{case['name']}.npz",
                        **{f"output_{k}": v for k, v in enumerate(expected)})


def assert_outputs(what, result, expected, rtol, atol):
    """``result`` equals ``expected`` (dtype, shape, values within rtol/atol), array by array."""
    got = _flat(result)
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, expected {len(expected)}"
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g.dtype == e.dtype, f"{what}: output {k} has dtype {g.dtype}, expected {e.dtype}"
        assert g.shape == e.shape, f"{what}: output {k} has shape {g.shape}, expected {e.shape}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{what}: output {k}")


def check_model(case, tmp_path, *, rtol=1e-5, atol=1e-5):
    """Run a zoo case's port every way and compare each result with torch's.

    Parameters
    ----------
    case : dict
        ``name`` (its saved outputs are ``data/<name>.npz``), ``make_port``
        (builds the ``jitcore.nn`` port, called after ``jitcore.manual_seed(seed)``),
        ``make_torch_model`` (builds the torch original; called only where torch
        is installed), ``inputs`` (a callable returning the example inputs),
        optional ``seed`` (default 0) and ``ways``: a subset of
        ``("eager", "trace", "script", "optimized", "saved")`` (default all); a
        port that cannot yet run one way says why in its module.
    tmp_path : pathlib.Path
        Where the saved archives go.

    Returns
    -------
    dict
        The compiled modules by way.
    """
    name = case["name"]
    ways = case.get("ways", ("eager", "trace", "script", "optimized", "saved"))
    inputs = case["inputs"]()
    port = _fresh_port(case, case.get("seed", 0))
    expected = _expected(case, port, inputs)
    compiled = {}
    if "eager" in ways:
        assert_outputs(f"{name} eager", port(*inputs), expected, rtol, atol)
    if "trace" in ways:
        compiled["trace"] = jitcore.trace(port, inputs)
        assert_outputs(f"{name} traced", compiled["trace"](*inputs), expected, rtol, atol)
    if "script" in ways:
        compiled["script"] = jitcore.script(port)
        assert_outputs(f"{name} scripted", compiled["script"](*inputs), expected, rtol, atol)
    base = compiled.get("script", compiled.get("trace"))
    if "optimized" in ways and base is not None:
        compiled["optimized"] = jitcore.optimize_for_inference(base)
        assert_outputs(f"{name} optimized", compiled["optimized"](*inputs), expected, rtol, atol)
    if "saved" in ways:
        for way in [w for w in ("script", "trace", "optimized") if w in compiled]:
            path = tmp_path / f"{name}-{way}.jc"
            jitcore.save(compiled[way], path)
            loaded = jitcore.load(path)
            assert_outputs(f"{name} {way} saved and loaded", loaded(*inputs), expected, rtol, atol)
            compiled[f"saved {way}"] = loaded
    return compiled


def _regenerate():
    """Rewrite every zoo case's saved outputs (needs torch): each test module's ``CASES``."""
    here = pathlib.Path(__file__).parent
    sys.path.insert(0, str(here))
    for module_path in sorted(here.glob("test_model_*.py")):
        module = importlib.import_module(module_path.stem)
        for case in module.CASES:
            save_expected(case)
            print(f"wrote {DATA / (case['name'] + '.npz')}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/models/_zoo.py --regenerate")
    _regenerate()
