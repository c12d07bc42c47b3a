"""``import jitcore`` (src/jitcore/__init__.py): what it imports, and its lazily loaded names."""

import subprocess
import sys

import pytest

import jitcore


def _fresh(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_import_jitcore_imports_no_heavy_or_optional_package():
    heavy = ["scipy", "torch", "dask", "distributed", "ray", "onnxruntime", "onnx"]
    loaded = _fresh(f"import sys, jitcore\nprint(*[m for m in {heavy!r} if m in sys.modules])")
    assert loaded == []


def test_import_jitcore_defers_the_op_registry_and_the_frontends():
    deferred = ["jitcore.ops", "jitcore.frontend", "jitcore.serialization", "jitcore.executor", "jitcore.nn"]
    loaded = _fresh(f"import sys, jitcore\nprint(*[m for m in {deferred!r} if m in sys.modules])")
    assert loaded == []


def test_every_public_name_resolves_to_its_module_attribute():
    from jitcore import frontend, serialization
    assert jitcore.trace is frontend.trace
    assert jitcore.load is serialization.load
    for name in jitcore.__all__:
        assert getattr(jitcore, name) is not None, name
    assert set(jitcore.__all__) <= set(dir(jitcore))


def test_the_submodules_an_eager_import_loaded_resolve_as_attributes():
    names = _fresh("import jitcore\nprint(jitcore.frontend.tracing.__name__, jitcore.executor.__name__)")
    assert names == ["jitcore.frontend.tracing", "jitcore.executor"]


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'tracee'"):
        jitcore.tracee   # noqa: B018

