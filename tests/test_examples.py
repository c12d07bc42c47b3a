"""The README's main job, examples/tutorial.py, runs end to end and prints the tutorial's graphs."""

import importlib.util
import pathlib

TUTORIAL = pathlib.Path(__file__).resolve().parents[1] / "examples" / "tutorial.py"


def load_tutorial():
    spec = importlib.util.spec_from_file_location("tutorial", TUTORIAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_runs_and_shows_each_step(tmp_path, capsys):
    tutorial = load_tutorial()
    tutorial.main(str(tmp_path))
    out = capsys.readouterr().out
    # traced module: GetAttr + CallMethod, as in TorchScript
    assert 'prim::GetAttr[name="layer1"](%self)' in out
    assert 'prim::CallMethod[name="forward"]' in out
    # the frozen branches: one aten::add with 3, then with 20
    assert "prim::Constant[value=3]()" in out and "prim::Constant[value=20]()" in out
    assert "TracerWarning at tutorial.py" in out
    # scripting keeps the branch
    assert "prim::If" in out and "block0():" in out and "block1():" in out
    assert "aten::size" in out and "aten::eq" in out
    assert "def fun(x: Tensor) -> Tensor:" in out
    # save / load
    assert (tmp_path / "tiny_model.jc").exists()
    assert "bit for bit" in out
