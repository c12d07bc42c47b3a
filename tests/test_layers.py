"""The layers import only downward (DESIGN.md section 2, issue 14).

The runtime (Code, interpreter, allocator, handlers, kernels) is the bottom
layer: it may import ``jitcore.errors`` and itself, nothing above.  Who calls
upward does so through data (``_runtime/tracing_state.py``, a class attribute
such as ``ScriptModule._traced_call``), never an import, at module level or
inside a function.  ``ir.pyx`` is the Cython half of the IR layer and may
import the IR's Python half (``jitcore.ir``: printer, lint).

Cython sources are scanned as text, since import checkers (import-linter,
grimp) read only ``.py`` files.
"""

import pathlib
import re

RUNTIME = pathlib.Path(__file__).resolve().parents[1] / "src" / "jitcore" / "_runtime"
IMPORT = re.compile(r"^\s*(?:from\s+(jitcore(?:\.\w+)*)\s+c?import\s+\(?\s*(\w+)"
                    r"|c?import\s+(jitcore(?:\.\w+)*))", re.M)
ALLOWED = {"jitcore._runtime", "jitcore.errors"}
ALLOWED_IN = {
    # The IR's Cython half and its Python half are one layer.
    "ir.pyx": {"jitcore.ir"},
    # Lowering resolves each node's overload in the registry: it is the bridge
    # from the op layer to the runtime and belongs above it (issue 14 moves it).
    "lowering.pyx": {"jitcore.ops"},
}


def _upward_imports(path):
    allowed = ALLOWED | ALLOWED_IN.get(path.name, set())
    found = []
    for match in IMPORT.finditer(path.read_text()):
        package, name, module = match.groups()
        if package is not None:
            # ``from jitcore import ops`` imports the module jitcore.ops
            module = f"{package}.{name}" if package == "jitcore" else package
        if module == "jitcore" or not any(module == a or module.startswith(a + ".")
                                          for a in allowed):
            line = path.read_text().count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(RUNTIME)}:{line}: {module}")
    return found


def test_the_runtime_imports_nothing_above_it():
    sources = [p for ext in ("*.pyx", "*.pxd", "*.py") for p in RUNTIME.rglob(ext)]
    assert len(sources) > 40
    upward = [line for path in sorted(sources) for line in _upward_imports(path)]
    assert upward == []


def test_the_scan_sees_function_level_and_cython_imports(tmp_path):
    module = tmp_path / "example.pyx"
    module.write_text("from jitcore.errors import KernelError\n"
                      "def f():\n    from jitcore.nn.module import Module\n"
                      "cimport jitcore.passes.cse\nimport jitcore\n"
                      "from jitcore import ops\nfrom jitcore._runtime.code cimport Code\n")
    assert [line.split(": ")[1] for line in _upward_imports_at(module)] == [
        "jitcore.nn.module", "jitcore.passes.cse", "jitcore", "jitcore.ops"]


def _upward_imports_at(path):
    global RUNTIME
    saved, RUNTIME = RUNTIME, path.parent
    try:
        return _upward_imports(path)
    finally:
        RUNTIME = saved
