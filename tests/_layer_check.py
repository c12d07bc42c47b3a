"""One layer checked every way against torch: state dict, eager, traced, scripted, saved.

Used by the ``test_nn_layers_<file>`` modules of the layers added for real models.
"""

import numpy as np

import jitcore


def torch_output(torch, torch_layer, inputs):
    """``torch_layer(*inputs)`` in eval mode, as ndarrays."""
    torch_layer.eval()
    with torch.no_grad():
        out = torch_layer(*(torch.from_numpy(np.ascontiguousarray(x)) for x in inputs))
    return out.numpy()


def load_into_torch(torch, layer, torch_layer):
    """Copy ``layer``'s state into ``torch_layer`` with ``strict=True`` (names and shapes agree)."""
    state = layer.state_dict()
    assert list(state) == list(torch_layer.state_dict()), (list(state),
                                                           list(torch_layer.state_dict()))
    torch_layer.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                                 for k, v in state.items()}, strict=True)


def check_layer(torch, layer, torch_layer, inputs, tmp_path=None, rtol=1e-5, atol=1e-6):
    """``layer`` eager, traced, scripted (and saved and loaded) equals ``torch_layer``.

    Parameters
    ----------
    torch : module
    layer : jitcore.nn.Module
        In eval mode.
    torch_layer : torch.nn.Module
        Receives ``layer``'s state dict (strict).
    inputs : tuple of ndarray
    tmp_path : pathlib.Path, optional
        Where the scripted layer is saved and loaded from (skipped when None).
    """
    load_into_torch(torch, layer, torch_layer)
    expected = torch_output(torch, torch_layer, inputs)
    results = {"eager": layer(*inputs), "trace": jitcore.trace(layer, inputs)(*inputs)}
    scripted = jitcore.script(layer)
    scripted.graph.lint()
    results["script"] = scripted(*inputs)
    if tmp_path is not None:
        path = tmp_path / f"{type(layer).__name__}.jc"
        jitcore.save(scripted, path)
        results["saved"] = jitcore.load(path)(*inputs)
    for way, got in results.items():
        assert got.dtype == expected.dtype and got.shape == expected.shape, (way, got.shape)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"{type(layer).__name__} {way}")
    return results
