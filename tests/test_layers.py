"""The layers import only downward (DESIGN.md section 2, issue 14).

The runtime (Code, interpreter, allocator, handlers, kernels) is the bottom
layer: it may import ``jitcore.errors`` and itself, nothing above.  Who calls
upward does so through data (``_runtime/tracing_state.py``, a class attribute
such as ``ScriptModule._traced_call``), never an import, at module level or
inside a function.  ``ir.pyx`` is the Cython half of the IR layer and may
import the IR's Python half (``jitcore.ir``: printer, lint).

Cython sources are scanned as text, since import checkers (import-linter,
grimp) read only ``.py`` files.  The ``.py`` files are held to the import-linter
contracts of pyproject.toml (the layers of docs/architecture.md, and the frontends
and the archive format independent of each other), which CI also runs as
``lint-imports``.
"""

import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "src" / "jitcore" / "_runtime"
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


# ------------------------------------------------------------------ import-linter

# import-linter (through grimp) finds a package's files from its import spec.  An
# editable install's finder answers for ``jitcore`` with no files, so the check
# runs in a child process that drops that finder and reads the source tree at
# ``src``; a regular install has no such finder, and the tree is the same.
_LINT = textwrap.dedent("""
    import sys
    sys.meta_path[:] = [f for f in sys.meta_path
                        if "editable" not in repr(f).lower() and "Meson" not in type(f).__name__]
    sys.path.insert(0, sys.argv[1])
    from importlinter.cli import lint_imports_command
    lint_imports_command(["--no-cache", "--no-logo", sys.argv[2]])
""")


def _lint_imports(source_root, config):
    if importlib.util.find_spec("importlinter") is None:
        pytest.skip("import-linter is not installed (pip install import-linter)")
    return subprocess.run([sys.executable, "-c", _LINT, str(source_root), str(config)],
                          capture_output=True, text=True, timeout=600, cwd=source_root)


def test_the_import_linter_contracts_hold():
    result = _lint_imports(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    analysed = int(re.search(r"Analyzed (\d+) files", result.stdout).group(1))
    assert analysed > 100       # the source tree, not an empty package
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("importer, imported, contract", [
    ("modules/method.py", "jitcore.frontend.tracing", "jitcore's layers"),
    ("executor.py", "jitcore.nn.module", "jitcore's layers"),
    ("nn/module.py", "jitcore.frontend.script", "jitcore's layers"),
    ("frontend/tracing.py", "jitcore.serialization.load", "the frontends and the archive format"),
])
def test_the_contracts_catch_an_upward_or_sideways_import(tmp_path, importer, imported, contract):
    tree = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "jitcore", tree / "jitcore",
                    ignore=shutil.ignore_patterns("*.pyx", "*.pxd", "*.so", "*.c", "*.h", "__pycache__"))
    path = tree / "jitcore" / importer
    # at function level: the contracts count those too
    path.write_text(path.read_text() + f"\n\ndef _added():\n    import {imported}  # noqa\n")
    result = _lint_imports(tree, ROOT / "pyproject.toml")
    assert result.returncode != 0
    summary = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in summary), result.stdout
    assert f"jitcore.{importer[:-3].replace('/', '.')} -> {imported}" in result.stdout
