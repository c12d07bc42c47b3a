"""jitcore.remote: shipping a model as archive bytes, loading it once per process, the thread rule."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.errors import JitcoreError
from jitcore.remote import (
    MissingExtraError, ShippedModel, clear_model_cache, columns_to_array, import_optional,
    intra_op_threads, load_count, loaded_model, run_model, ship, use_threads,
)


@pytest.fixture(scope="module")
def traced_mlp():
    jitcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    return jitcore.trace(model, np.ones((4, 6), np.float32))


@pytest.fixture
def empty_cache():
    clear_model_cache()
    yield
    clear_model_cache()


def test_ship_hashes_the_archive_and_is_the_same_for_the_same_model(traced_mlp):
    shipped = ship(traced_mlp)
    again = ship(traced_mlp)
    assert shipped == again and shipped.sha256 == again.sha256
    assert len(shipped.sha256) == 64
    assert shipped.archive == jitcore.serialization.save_to_bytes(traced_mlp)
    assert ship(shipped) is shipped
    assert pickle.loads(pickle.dumps(shipped)) == shipped


def test_models_with_other_weights_ship_under_other_hashes(traced_mlp):
    jitcore.manual_seed(1)
    other = jitcore.trace(nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval(),
                          np.ones((4, 6), np.float32))
    assert ship(other).sha256 != ship(traced_mlp).sha256


@pytest.mark.parametrize("bad", [nn.Linear(2, 2), np.sum, b"not an archive object"])
def test_ship_rejects_what_is_not_compiled(bad):
    with pytest.raises(TypeError, match="expected a compiled model"):
        ship(bad)


def test_shipped_model_wants_bytes():
    with pytest.raises(TypeError, match="archive bytes"):
        ShippedModel("text")


def test_a_shipped_model_loads_once_per_process(traced_mlp, empty_cache):
    shipped = ship(traced_mlp)
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    first = loaded_model(shipped)
    for _ in range(3):
        assert loaded_model(pickle.loads(pickle.dumps(shipped))) is first
    assert load_count() == 1
    assert np.array_equal(first(x), traced_mlp(x))
    assert loaded_model(traced_mlp) is traced_mlp      # compiled: nothing to load
    assert load_count() == 1


def test_the_cache_keeps_the_most_recent_models(traced_mlp, empty_cache):
    from jitcore.remote import model_cache
    shipped = ship(traced_mlp)
    others = []
    for seed in range(model_cache.MAX_CACHED_MODELS):
        jitcore.manual_seed(seed + 10)
        others.append(ship(jitcore.trace(nn.Linear(6, 3).eval(), np.ones((2, 6), np.float32))))
    loaded_model(shipped)
    for other in others:
        loaded_model(other)
    assert load_count() == 1 + len(others)
    loaded_model(shipped)                                # evicted: loaded again
    assert load_count() == 2 + len(others)


def test_loaded_model_rejects_other_objects():
    with pytest.raises(TypeError, match="ShippedModel or a compiled model"):
        loaded_model(b"bytes")


@pytest.mark.parametrize("cores, task_threads, expected", [
    (2, 1, 2), (2, 2, 1), (1, 1, 1), (8, 3, 2), (1, 4, 1), (16, 4, 4)])
def test_the_thread_rule_never_oversubscribes(cores, task_threads, expected):
    threads = intra_op_threads(cores, task_threads)
    assert threads == expected
    assert threads * task_threads <= max(cores, task_threads)


@pytest.mark.parametrize("cores, task_threads", [(0, 1), (2, 0)])
def test_the_thread_rule_wants_positive_counts(cores, task_threads):
    with pytest.raises(ValueError, match="positive"):
        intra_op_threads(cores, task_threads)


def test_use_threads_sets_the_count_only_when_it_changes(monkeypatch):
    from jitcore.remote import thread_budget
    calls = []
    before = jitcore.get_num_threads()
    monkeypatch.setattr(thread_budget, "set_num_threads", lambda n: calls.append(n))
    use_threads(before)
    assert calls == []
    use_threads(before + 1)
    assert calls == [before + 1]


def test_run_model_calls_the_method_and_checks_one_array_comes_back(traced_mlp):
    x = np.ones((3, 6), np.float32)
    assert np.array_equal(run_model(traced_mlp, "forward", x), traced_mlp(x))
    with pytest.raises(JitcoreError, match="no compiled method 'predict'"):
        run_model(traced_mlp, "predict", x)
    pair = jitcore.script(lambda_pair)
    with pytest.raises(JitcoreError, match="returns one array"):
        run_model(pair, "forward", x)
    with pytest.raises(JitcoreError, match="only 'forward'"):
        run_model(pair, "score", x)


def lambda_pair(x):
    return x, x


def test_columns_become_one_input_array():
    columns = {"a": np.arange(3.0), "b": np.arange(3.0) * 10, "id": np.arange(3)}
    out = columns_to_array(columns, ["b", "a"], np.float32)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert np.array_equal(out, [[0, 0], [10, 1], [20, 2]])
    images = np.zeros((2, 3, 4, 4))
    assert columns_to_array({"image": images}).shape == (2, 3, 4, 4)
    with pytest.raises(JitcoreError, match=r"expected columns \['c'\], the batch has \['a', 'b', 'id'\]"):
        columns_to_array(columns, ["c"])


def test_a_missing_optional_package_names_itself_and_the_extra():
    with pytest.raises(MissingExtraError, match=r"'no_such_package_jc'.*pip install \"jitcore\[dask\]\""):
        import_optional("no_such_package_jc.sub", "dask", "jitcore.dask")
    assert issubclass(MissingExtraError, ImportError) and issubclass(MissingExtraError, JitcoreError)


def test_jitcore_imports_neither_dask_nor_ray_and_their_integrations_name_the_extra():
    # ``sys.modules[name] = None`` makes ``import name`` fail as if it were not installed.
    code = textwrap.dedent("""
        import sys
        import jitcore, jitcore.remote
        print(sorted(name for name in sys.modules
                     if name.split(".")[0] in {"dask", "distributed", "ray", "pandas"}))
        sys.modules["dask"] = sys.modules["ray"] = None
        for integration in ("dask", "ray"):
            try:
                __import__("jitcore." + integration)
            except jitcore.JitcoreError as error:
                print(type(error).__name__, error)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    imported, dask_error, ray_error = result.stdout.splitlines()
    assert imported == "[]"
    for integration, error in (("dask", dask_error), ("ray", ray_error)):
        assert error.startswith(f"MissingExtraError jitcore.{integration} needs the package '{integration}'")
        assert error.endswith(f"pip install \"jitcore[{integration}]\"")
