"""The type stubs (py.typed, *.pyi): mypy --strict accepts a typed user script.

Skipped when mypy is not installed (pip install mypy).
"""

import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest

import jitcore

pytest.importorskip("mypy")

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE = pathlib.Path(jitcore.__file__).resolve().parent


def _mypy(tmp_path, *args):
    env = dict(os.environ)
    installed = {pathlib.Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    if PACKAGE.parent not in installed:
        # an editable install: mypy finds packages on paths, not through import hooks
        env["MYPYPATH"] = str(PACKAGE.parent)
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir",
                           str(tmp_path / "mypy-cache"), *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)


def test_the_package_is_marked_typed_and_has_stubs():
    assert (PACKAGE / "py.typed").exists()
    for stub in ("__init__.pyi", "nn/__init__.pyi", "modules/__init__.pyi", "ir/__init__.pyi",
                 "_runtime/ir.pyi", "_runtime/types.pyi", "profiler.pyi", "drawing.pyi", "errors.pyi"):
        assert (PACKAGE / stub).exists(), stub


def test_mypy_strict_accepts_a_typed_user_script(tmp_path):
    script = HERE / "typed" / "typed_user_script.py"
    result = _mypy(tmp_path, "--strict", script)
    assert result.returncode == 0, result.stdout + result.stderr
    # and the script runs against the real package
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_mypy_sees_misuse_of_the_api(tmp_path):
    script = tmp_path / "wrong.py"
    script.write_text("import jitcore\n"
                      "jitcore.set_num_threads('2')\n"
                      "n: str = jitcore.get_num_threads()\n"
                      "jitcore.draw(object(), 'x.svg')\n")
    result = _mypy(tmp_path, "--strict", script)
    assert result.returncode == 1
    assert result.stdout.count("error:") == 3, result.stdout


def test_the_tutorial_type_checks(tmp_path):
    tutorial = HERE.parent / "examples" / "tutorial.py"
    if not tutorial.exists():
        pytest.skip("no examples/ next to the tests")
    # the example's own functions are unannotated: check their bodies against the stubs
    result = _mypy(tmp_path, "--check-untyped-defs", tutorial)
    assert result.returncode == 0, result.stdout + result.stderr
