"""The README's Python examples run as written and print what the README shows."""

import pathlib
import re
import runpy

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _printed_graph_comments(block):
    """The README's ``# graph(...`` comment lines, as the lines print() shows."""
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# graph("))
    shown = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        shown.append(line[2:])
    return shown


def test_readme_examples_run_and_print_the_graph_they_show(tmp_path, monkeypatch, capsys):
    blocks = _python_blocks()
    assert len(blocks) >= 2, "the README lost its quickstart examples"
    monkeypatch.chdir(tmp_path)
    # a real file, so that jitcore.script can read the source as it does for users
    example = tmp_path / "readme_example.py"
    example.write_text("\n".join(blocks))
    namespace = runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    for expected in _printed_graph_comments(blocks[0]):
        # printed lines may end with a source-range comment the README leaves out
        assert any(line.startswith(expected) for line in out), f"README shows {expected!r}"
    assert (tmp_path / "net.jc").exists()
    x = namespace["x"]
    np.testing.assert_array_equal(namespace["same"](x), namespace["traced"](x))
    reference = namespace["traced"](x)
    assert all(np.allclose(o, reference, rtol=1e-6) for o in namespace["outputs"])
