"""The ``jitcore`` command (jitcore.cli) on archives made here: exit codes, output, JSON."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.cli import main
from jitcore.cli.inputs import parse_spec

COMMANDS = ("inspect", "check", "bench", "draw", "convert")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 2)

    def forward(self, x):
        return self.layer1(x)


def _fun(x):
    if x.shape[0] == 1:
        return x + 3
    else:
        return x + 20


class TwoMethods(nn.Module):
    """A scalar input, a loop, a tuple output and a second method."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 3)

    def forward(self, x, n: int):
        y = self.layer(x)
        for _ in range(n):
            y = y * 0.5 + 1.0
        return y, n

    @jitcore.export
    def other(self, x):
        return self.layer(x) + 1.0


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archives")
    nn.init.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    net = folder / "net.jc"
    jitcore.save(jitcore.trace(Net().eval(), (x,)), net, extra_files={"notes.txt": b"hello"})
    fun = folder / "fun.jc"
    jitcore.save(jitcore.script(_fun), fun)
    jitcore.save(jitcore.script(TwoMethods().eval()), folder / "two.jc")
    good = net.read_bytes()
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0xFF
    (folder / "flipped.jc").write_bytes(bytes(flipped))
    (folder / "truncated.jc").write_bytes(good[:len(good) // 3])
    (folder / "text.jc").write_text("not an archive")
    return {"net": str(net), "fun": str(fun), "two": str(folder / "two.jc"), "folder": folder,
            **{name: str(folder / f"{name}.jc") for name in ("flipped", "truncated", "text")}}


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# ------------------------------------------------------------------------- usage

@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: jitcore {command}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["frob"], "invalid choice: 'frob'"),
    (["inspect"], "the following arguments are required: MODEL"),
    (["bench", "m.jc", "--threads", "0"], "--threads: expected positive integers"),
    (["bench", "m.jc", "--callers", "a"], "--callers: expected positive integers"),
    (["bench", "m.jc", "--duration", "-1"], "--duration: expected a number of seconds >= 0"),
    (["check", "m.jc", "--input", "x=1,2:float16"], "unknown dtype 'float16'"),
    (["draw", "m.jc"], "the following arguments are required: -o/--output"),
    (["convert", "a.pt"], "the following arguments are required: OUT"),
])
def test_bad_arguments_give_a_usage_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: jitcore") and message in err


@pytest.mark.parametrize("command", ["inspect", "check", "bench", "draw"])
@pytest.mark.parametrize("which, message", [
    ("missing", "no such file"), ("flipped", "not a valid jitcore archive"),
    ("truncated", "not a valid jitcore archive"), ("text", "not a valid jitcore archive"),
    ("folder", "is a directory"),
])
def test_a_bad_archive_is_a_one_line_error(capsys, archives, command, which, message):
    path = archives["folder"] / "missing.jc" if which == "missing" else archives[which]
    extra = ["-o", archives["folder"] / "out.dot"] if command == "draw" else []
    status, out, err = run(capsys, command, path, *extra)
    assert status == 1
    assert err.count("\n") == 1 and err.startswith(f"jitcore {command}: error: ") and message in err
    assert "Traceback" not in err


def test_python_dash_m_runs_the_command(archives):
    result = subprocess.run([sys.executable, "-m", "jitcore", "inspect", archives["net"]],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "def forward(x: Float(1, 4)) -> Float(1, 2)" in result.stdout
    missing = subprocess.run([sys.executable, "-m", "jitcore", "check", "nowhere.jc"],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1
    assert missing.stderr == "jitcore check: error: nowhere.jc: no such file\n"


# ------------------------------------------------------------------------ inspect

def test_inspect_text(capsys, archives):
    status, out, _ = run(capsys, "inspect", archives["net"], "--graph", "--code")
    assert status == 0
    assert "ScriptModule Net" in out
    assert "parameters: 10 values in 2 tensors (40 B)" in out
    assert "extra files: notes.txt (5 B)" in out
    assert "def forward(x: Float(1, 4)) -> Float(1, 2)" in out
    assert "aten::linear  1" in out
    assert "prim::CallMethod" in out            # the graph, as saved
    assert "def forward(self" in out            # the code


def test_inspect_json_schema(capsys, archives):
    status, out, _ = run(capsys, "inspect", archives["fun"], "--json", "--code")
    assert status == 0
    report = json.loads(out)
    assert set(report) == {"path", "kind", "name", "format_version", "producer", "file_bytes", "methods",
                           "parameters", "buffers", "submodules", "extra_files"}
    assert report["kind"] == "ScriptFunction" and report["name"] == "_fun"
    assert report["format_version"] >= 1 and report["producer"].startswith("jitcore")
    (method,) = report["methods"]
    assert set(method) == {"name", "signature", "inputs", "outputs", "ops", "code"}
    assert method["inputs"] == [{"name": "x", "type": "Tensor"}]
    assert method["ops"] == {"aten::add": 2, "aten::eq": 1, "aten::size": 1, "prim::If": 1}
    assert report["parameters"] == {"count": 0, "bytes": 0, "tensors": 0}


# -------------------------------------------------------------------------- check

def test_check_passes_with_the_recorded_input_shape(capsys, archives):
    status, out, _ = run(capsys, "check", archives["net"], "--reference")
    assert status == 0
    assert "ok    run       forward(x=float32[1, 4]) -> float32[1, 2]" in out
    assert "ok    reference" in out and out.rstrip().endswith("passed")


def test_check_json(capsys, archives):
    status, out, _ = run(capsys, "check", archives["fun"], "--input", "x=2,4:float64", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["passed"] is True
    assert [s["step"] for s in report["steps"]] == ["load", "lint", "run"]
    assert all(set(s) == {"step", "ok", "detail"} for s in report["steps"])
    assert "float64[2, 4]" in report["steps"][2]["detail"]


def test_check_fails_when_the_call_fails(capsys, archives):
    status, out, _ = run(capsys, "check", archives["net"], "-i", "x=3,5")
    assert status == 1
    assert "FAIL  run       KernelError: aten::linear" in out and "FAILED" in out


@pytest.mark.parametrize("argv, message", [
    ([], "input 'x' has type Tensor in the archive: give its shape with --input x=DIMS[:DTYPE]"),
    (["-i", "y=2"], "the model has no input 'y' (its inputs: x)"),
    (["-i", "x=2,a"], "dimensions of 'x' must be integers"),
    (["-i", "2", "-i", "3"], "2 --input given for 1 inputs (x)"),
    (["--method", "nope"], "has no method 'nope' (methods: _fun)"),
])
def test_check_input_problems_are_one_line_errors(capsys, archives, argv, message):
    status, _, err = run(capsys, "check", archives["fun"], *argv)
    assert status == 1
    assert err.count("\n") == 1 and message in err


def test_check_scalar_inputs_tuple_outputs_and_other_methods(capsys, archives):
    status, out, _ = run(capsys, "check", archives["two"], "-i", "x=2,4", "-i", "n=3", "--reference")
    assert status == 0
    assert "forward(x=float32[2, 4], n=3) -> float32[2, 3], int64[]" in out
    status, out, _ = run(capsys, "check", archives["two"], "--method", "other", "-i", "2,4", "--reference")
    assert status == 0 and "other(x=float32[2, 4]) -> float32[2, 3]" in out
    status, _, err = run(capsys, "check", archives["two"], "-i", "x=2,4")
    assert status == 1 and "input 'n' is int: give its value with --input n=VALUE" in err
    status, _, err = run(capsys, "check", archives["two"], "-i", "x=2,4", "-i", "n=a")
    assert status == 1 and "'n' takes a value of type int" in err
    status, out, _ = run(capsys, "inspect", archives["two"])
    assert "def forward(x: Tensor, n: int) -> (Tensor, int)" in out and "def other(x: Tensor) -> Tensor" in out


def test_input_specs():
    spec = parse_spec("x=1,3,224,224:float32")
    assert (spec.name, spec.text, spec.dtype) == ("x", "1,3,224,224", "float32")
    spec = parse_spec("2x4")
    assert (spec.name, spec.text, spec.dtype) == (None, "2x4", None)
    with pytest.raises(ValueError, match="not an input name"):
        parse_spec("1x=2")


# -------------------------------------------------------------------------- bench

BENCH_KEYS = {"path", "method", "optimized", "inputs", "duration_s", "warmup_s", "results", "machine"}
ROW_KEYS = {"threads", "callers", "calls", "wall_s", "latency_ms", "throughput_per_s"}


def test_bench_json_schema(capsys, archives):
    status, out, _ = run(capsys, "bench", archives["net"], "--threads", "1,2", "--callers", "1,2",
                         "--duration", "0.1", "--warmup", "0", "--json")
    assert status == 0
    report = json.loads(out)
    assert set(report) == BENCH_KEYS
    assert report["inputs"] == [{"name": "x", "dtype": "float32", "shape": [1, 4]}]
    assert [(r["threads"], r["callers"]) for r in report["results"]] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    for row in report["results"]:
        assert set(row) == ROW_KEYS
        latency = row["latency_ms"]
        assert set(latency) == {"p50", "p90", "p99", "p99.9", "max", "mean"}
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p99.9"] <= latency["max"]
        assert row["calls"] > 0
        assert row["throughput_per_s"] == pytest.approx(row["calls"] / row["wall_s"])


def test_bench_table_with_optimize(capsys, archives):
    status, out, _ = run(capsys, "bench", archives["fun"], "-i", "x=2,4", "--duration", "0.05",
                         "--warmup", "0", "--optimize")
    assert status == 0
    header, row = out.splitlines()[1:3]
    unit = header.split()[4]
    assert unit in ("us", "ms")
    assert header.split() == ["threads", "callers", "calls", "P50", unit, "P90", unit, "P99", unit,
                              "P99.9", unit, "max", unit, "calls/s"]
    assert len(row.split()) == 9


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_bench_shows_a_progress_bar_on_a_terminal_only(archives, monkeypatch, capsys, with_tqdm):
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["bench", archives["net"], "--duration", "0.3", "--warmup", "0"]) == 0
    shown = terminal.getvalue()
    assert "jitcore bench" in shown and "threads=" in shown
    assert ("[#" in shown) != with_tqdm            # the plain bar draws with '#'
    monkeypatch.setattr(sys, "stderr", io.StringIO())                # not a terminal: no bar
    assert main(["bench", archives["net"], "--duration", "0.05", "--warmup", "0"]) == 0
    assert sys.stderr.getvalue() == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["bench", archives["net"], "--duration", "0.05", "--warmup", "0", "--no-progress"]) == 0
    assert terminal.getvalue() == ""


def test_bench_restores_the_thread_count(capsys, archives):
    before = jitcore.get_num_threads()
    run(capsys, "bench", archives["net"], "--threads", "1", "--duration", "0.02", "--warmup", "0")
    assert jitcore.get_num_threads() == before


# --------------------------------------------------------------------------- draw

def test_draw_writes_dot(capsys, archives, tmp_path):
    status, out, _ = run(capsys, "draw", archives["fun"], "-o", tmp_path / "fun.dot")
    assert status == 0 and out.startswith("wrote ")
    assert (tmp_path / "fun.dot").read_text().startswith('digraph "_fun"')


def test_draw_optimized_needs_shapes_and_draws_them(capsys, archives, tmp_path):
    status, _, _ = run(capsys, "draw", archives["net"], "-o", tmp_path / "net.dot", "--optimized")
    assert status == 0
    assert "Float(1, 2)" in (tmp_path / "net.dot").read_text()


def test_draw_svg(capsys, archives, tmp_path):
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    status, _, _ = run(capsys, "draw", archives["net"], "-o", tmp_path / "net.svg")
    assert status == 0 and "<svg" in (tmp_path / "net.svg").read_text()


def test_draw_unknown_format_is_a_usage_error(capsys, archives, tmp_path):
    status, _, err = run(capsys, "draw", archives["net"], "-o", tmp_path / "net.txt")
    assert status == 2 and "writes .svg" in err


# ------------------------------------------------------------------------ convert

def test_convert_of_a_missing_file(capsys, tmp_path):
    # converting real .pt files: tests/test_serialization_torchscript_load.py
    status, _, err = run(capsys, "convert", tmp_path / "model.pt", tmp_path / "model.jc")
    assert status == 1
    assert "model.pt: no such file" in err
    assert not (tmp_path / "model.jc").exists()


def test_bench_profile_writes_a_chrome_trace(capsys, archives, tmp_path):
    trace = tmp_path / "trace.json"
    # a profile long enough that both callers run in it on a loaded machine too
    status, out, err = run(capsys, "bench", archives["net"], "--duration", "0.05", "--warmup", "0",
                           "--callers", "2", "--profile", trace, "--profile-seconds", "0.3")
    assert status == 0 and "calls/s" in out
    assert "jitcore::call" in err and f"wrote {trace}" in err
    events = json.loads(trace.read_text())["traceEvents"]
    calls = [e for e in events if e["ph"] == "X" and e["name"] == "jitcore::call"]
    assert calls and {e["tid"] for e in calls} == {0, 1}
    assert sum(e["ph"] == "X" and e["name"].startswith("aten::linear") for e in events) == len(calls)


def test_the_console_script_is_declared_and_runs():
    import pathlib
    import shutil
    tomllib = pytest.importorskip("tomllib")        # Python 3.11+
    root = pathlib.Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"jitcore": "jitcore.cli:main"}
    script = shutil.which("jitcore", path=str(pathlib.Path(sys.executable).parent))
    if script is None:
        pytest.skip("the jitcore console script is not installed next to this Python (reinstall)")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.startswith("jitcore ")
