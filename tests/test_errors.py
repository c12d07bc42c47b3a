"""jitcore.errors and docs/errors.md: every error type is documented, and every
example there raises what it says."""

import pathlib
import re
import runpy

import pytest

import jitcore
from jitcore import errors

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "errors.md"
RAISES = re.compile(r"^# raises (\w+): (.*)$", re.M)


def _examples():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_error_type_is_documented_and_exported():
    text = DOC.read_text()
    for name in errors.__all__:
        assert f"| `{name}` |" in text, f"docs/errors.md lacks a row for {name}"
        assert getattr(jitcore, name) is getattr(errors, name)


def test_the_documentation_has_examples():
    assert len(_examples()) >= 6


@pytest.mark.parametrize("index", range(len(_examples())))
def test_each_documented_example_raises_what_it_says(index, tmp_path, monkeypatch):
    block = _examples()[index]
    expected = RAISES.search(block)
    assert expected, f"example {index} does not say what it raises"
    type_name, message = expected.groups()
    # a file, so that jitcore.script can read the example's source
    example = tmp_path / f"example_{index}.py"
    example.write_text(block)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BaseException) as raised:
        runpy.run_path(str(example), run_name="__main__")
    assert type(raised.value).__name__ == type_name, raised.value
    assert str(raised.value).startswith(message), str(raised.value)
