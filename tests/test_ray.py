"""jitcore.ray on a real local Ray instance (``ray.init(num_cpus=2)``), started and shut down here."""

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.remote import clear_model_cache, load_count, ship

ray = pytest.importorskip("ray")
ray_data = pytest.importorskip("ray.data")

import jitcore.ray as jray   # noqa: E402


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def mlp():
    jitcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    return jitcore.trace(model, np.ones((2, 4), np.float32))


def _rows(n):
    x = np.random.default_rng(1).standard_normal((n, 4)).astype(np.float32)
    return x, [{"id": i, **{f"f{j}": float(x[i, j]) for j in range(4)}} for i in range(n)]


def test_map_batches_with_a_predictor_actor_pool(ray_cluster, mlp):
    x, rows = _rows(400)
    features = [f"f{j}" for j in range(4)]
    ds = ray_data.from_items(rows).map_batches(
        jray.Predictor, fn_constructor_kwargs={"model": mlp, "columns": features, "dtype": np.float32},
        compute=ray_data.ActorPoolStrategy(size=2), batch_size=50)
    out = ds.take_all()
    assert len(out) == 400 and set(out[0]) == {"id", "predictions"}   # the features stay behind
    ids = np.array([row["id"] for row in out])
    predictions = np.stack([row["predictions"] for row in out])
    assert sorted(ids) == list(range(400))
    # Ray Data chooses the batches; across batch sizes a product's last bits may differ
    np.testing.assert_allclose(predictions, mlp(x)[ids], rtol=1e-5, atol=1e-6)


def test_remote_tasks_score_batches_bit_for_bit(ray_cluster, mlp):
    x, _ = _rows(300)
    ref = ray.put(ship(mlp))
    batches = [x[i:i + 37] for i in range(0, 300, 37)]
    results = ray.get([jray.predict_remote.remote(ref, batch) for batch in batches], timeout=120)
    for batch, result in zip(batches, results):
        assert np.array_equal(result, mlp(batch))
    # each worker process loaded the model at most once for all its batches
    loads = ray.get([_remote_load_count.remote() for _ in range(4)], timeout=120)
    assert all(n <= 1 for n in loads)


@ray.remote(num_cpus=1)
def _remote_load_count():
    return load_count()


def test_a_predictor_loads_once_and_scores_every_batch_it_gets(mlp):
    clear_model_cache()
    predictor = jray.Predictor(ship(mlp), columns=["a", "b", "c", "d"], threads=1)
    x, _ = _rows(60)
    for start in range(0, 60, 20):
        batch = {name: x[start:start + 20, j] for j, name in enumerate("abcd")}
        batch["label"] = np.arange(20)
        out = predictor(batch)
        assert np.array_equal(out["predictions"], mlp(x[start:start + 20]))
        assert np.array_equal(out["label"], np.arange(20))
    assert load_count() == 1
    assert np.array_equal(predictor(x[:7]), mlp(x[:7]))        # one array in, one array out
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": np.arange(5), **{name: x[:5, j] for j, name in enumerate("abcd")}})
    out = predictor(frame)
    assert list(out) == ["id", "predictions"] and np.array_equal(out["id"], np.arange(5))
    assert np.array_equal(out["predictions"], mlp(x[:5]))


def test_predict_batch_outside_ray_leaves_the_threads_alone(mlp):
    threads = jitcore.get_num_threads()
    x, _ = _rows(10)
    out = jray.predict_batch(mlp, {"x": x}, output_column="y")
    assert list(out) == ["y"] and np.array_equal(out["y"], mlp(x))
    assert jitcore.get_num_threads() == threads
