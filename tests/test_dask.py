"""jitcore.dask on a real LocalCluster: 2 worker processes, 1 thread each, started and closed here."""

import os
import time

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.errors import JitcoreError

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import dask.array as da          # noqa: E402
from dask.system import CPU_COUNT  # noqa: E402

import jitcore.dask as jdask     # noqa: E402
from jitcore.remote import clear_model_cache, intra_op_threads, ship  # noqa: E402

# Seconds any one cluster operation may take before the test fails instead of hanging.
DEADLINE = 60
WORKERS = 2


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster, timeout=DEADLINE)
    try:
        client.wait_for_workers(WORKERS, timeout=DEADLINE)
        yield client
    finally:
        client.close(timeout=DEADLINE)
        cluster.close(timeout=DEADLINE)


@pytest.fixture
def fresh_workers(client):
    """Workers that have loaded no model yet."""
    client.run(clear_model_cache)
    return client


def _cnn(seed, dtype=np.float32):
    jitcore.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 5)).eval()
    if dtype == np.float64:
        model = model.double()
    return jitcore.trace(model, np.ones((2, 3, 8, 8), dtype))


def _varying_chunks(total, count):
    """``count`` chunk sizes from 1 up, summing to ``total``: every chunk a different batch."""
    sizes = [1 + (i * 7) % 13 for i in range(count)]
    sizes[-1] += total - sum(sizes)
    assert sizes[-1] > 0
    return tuple(sizes)


def _per_chunk_local(model, x, sizes):
    edges = np.cumsum((0,) + sizes)
    return np.concatenate([model(x[a:b]) for a, b in zip(edges[:-1], edges[1:])])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predict_scores_64_chunks_once_per_worker_bit_for_bit(fresh_workers, dtype):
    client = fresh_workers
    model = _cnn(0, dtype)
    x = np.random.default_rng(1).standard_normal((600, 3, 8, 8)).astype(dtype)
    sizes = _varying_chunks(600, 64)
    lazy = jdask.predict(model, da.from_array(x, chunks=(sizes, 3, 8, 8)))
    assert lazy.shape == (600, 5) and lazy.dtype == dtype and lazy.chunks[0] == sizes
    out = client.compute(lazy).result(timeout=DEADLINE)
    assert np.array_equal(out, _per_chunk_local(model, x, sizes))
    # across batch sizes the last bits of a product may differ (docs/distributed.md)
    np.testing.assert_allclose(out, model(x), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    loads = jdask.model_loads(client)
    assert sorted(loads) == sorted(client.scheduler_info()["workers"])
    assert list(loads.values()) == [1] * WORKERS


def test_the_workers_follow_the_thread_rule(fresh_workers):
    client = fresh_workers
    model = _cnn(0)
    x = da.from_array(np.ones((64, 3, 8, 8), np.float32), chunks=8)
    client.compute(jdask.predict(model, x)).result(timeout=DEADLINE)
    # two worker processes share this host's cores; each runs one task at a time
    expected = intra_op_threads(max(1, CPU_COUNT // WORKERS), 1)
    assert set(client.run(jitcore.get_num_threads).values()) == {expected}
    client.compute(jdask.predict(model, x, threads=1)).result(timeout=DEADLINE)
    assert set(client.run(jitcore.get_num_threads).values()) == {1}


def test_the_model_is_one_content_hashed_graph_key(fresh_workers):
    client = fresh_workers
    model = _cnn(0)
    reloaded = jitcore.serialization.load_from_buffer(ship(model).archive)
    x = np.random.default_rng(8).standard_normal((80, 3, 8, 8)).astype(np.float32)
    key = f"jitcore-model-{ship(model).sha256}"
    first = jdask.predict(model, da.from_array(x, chunks=10))
    second = jdask.predict(reloaded, da.from_array(x[::-1], chunks=10))
    for lazy in (first, second):
        graph = dict(lazy.__dask_graph__())
        assert [k for k in graph if "jitcore-model" in str(k)] == [key]
        # the archive is in the graph once; the chunk tasks only refer to its key
        assert [k for k, task in graph.items() if "ShippedModel" in repr(task)] == [key]
    a, b = client.compute([first, second], sync=True)
    assert np.array_equal(a, _per_chunk_local(model, x, (10,) * 8))
    assert np.array_equal(b, _per_chunk_local(model, x[::-1], (10,) * 8))
    assert list(jdask.model_loads(client).values()) == [1] * WORKERS


def test_predict_partitions_scores_a_dataframe(fresh_workers):
    client = fresh_workers
    jitcore.manual_seed(3)
    model = jitcore.trace(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).eval(),
                          np.ones((3, 4), np.float32))
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"id": np.arange(300), **{f"f{i}": rng.standard_normal(300) for i in range(4)}})
    df = dd.from_pandas(frame, npartitions=7)
    features = ["f2", "f0", "f1", "f3"]
    lazy = jdask.predict_partitions(model, df, columns=features, dtype=np.float32)
    out = client.compute(lazy).result(timeout=DEADLINE)
    parts = [frame.iloc[a:b] for a, b in zip(df.divisions[:-1], list(df.divisions[1:-1]) + [300])]
    expected = np.concatenate([model(p[features].to_numpy(np.float32)) for p in parts])
    assert out.shape == (300, 2)
    assert np.array_equal(out, expected)
    assert list(jdask.model_loads(client).values()) == [1] * WORKERS


def test_a_worker_killed_mid_run_leaves_a_complete_correct_result(fresh_workers):
    client = fresh_workers
    model = _cnn(4)
    x = np.random.default_rng(5).standard_normal((2048, 3, 8, 8)).astype(np.float32)
    sizes = (16,) * 128
    lazy = jdask.predict(model, da.from_array(x, chunks=(sizes, 3, 8, 8)))
    persisted = client.persist(lazy)
    futures = distributed.futures_of(persisted)
    deadline = time.monotonic() + DEADLINE
    while sum(f.done() for f in futures) < 8:
        assert time.monotonic() < deadline, "no chunk finished"
        time.sleep(0.005)
    holders = {w for ws in client.who_has(futures).values() for w in ws}
    victim = sorted(holders)[0]
    # the worker dies with chunks of its own finished and the rest of the run pending
    client.run(os._exit, 1, workers=[victim], on_error="ignore")
    out = client.compute(persisted).result(timeout=DEADLINE)
    assert np.array_equal(out, _per_chunk_local(model, x, sizes))
    client.wait_for_workers(WORKERS, timeout=DEADLINE)
    assert all(n <= 1 for n in jdask.model_loads(client).values())


def test_without_a_distributed_client_the_local_schedulers_score_too():
    model = _cnn(0)
    x = np.random.default_rng(6).standard_normal((90, 3, 8, 8)).astype(np.float32)
    lazy = jdask.predict(model, da.from_array(x, chunks=30))
    threads = jitcore.get_num_threads()
    out = lazy.compute(scheduler="threads")
    assert np.array_equal(out, _per_chunk_local(model, x, (30, 30, 30)))
    assert jitcore.get_num_threads() == threads        # the caller's process is left alone


def test_meta_skips_the_local_probe_and_gives_the_same_result():
    model = _cnn(0)
    x = da.from_array(np.ones((40, 3, 8, 8), np.float32), chunks=10)
    with_meta = jdask.predict(model, x, meta=np.empty((0, 5), np.float32))
    assert with_meta.shape == (40, 5)
    assert np.array_equal(with_meta.compute(scheduler="sync"),
                          jdask.predict(model, x).compute(scheduler="sync"))


def test_the_batch_axis_can_be_another_axis():
    model = jitcore.script(_tanh)
    x = np.random.default_rng(7).standard_normal((3, 50)).astype(np.float32)
    out = jdask.predict(model, da.from_array(x, chunks=(3, 20)), batch_axis=1)
    assert out.chunks == ((3,), (20, 20, 10))
    expected = np.concatenate([model(x[:, :20]), model(x[:, 20:40]), model(x[:, 40:])], axis=1)
    assert np.array_equal(out.compute(scheduler="sync"), expected)


def _tanh(x):
    return np.tanh(x)


@pytest.mark.parametrize("model, x, error, match", [
    (nn.Linear(2, 2), da.ones((4, 2), chunks=2), TypeError, "compiled model"),
    ("compiled", np.ones((4, 2)), TypeError, "dask.array.Array"),
])
def test_bad_arguments_are_named(model, x, error, match):
    model = jitcore.trace(nn.Linear(2, 2).eval(), np.ones((1, 2))) if model == "compiled" else model
    with pytest.raises(error, match=match):
        jdask.predict(model, x)


def test_predict_partitions_wants_a_dask_dataframe():
    model = jitcore.trace(nn.Linear(2, 2).eval(), np.ones((1, 2)))
    with pytest.raises(TypeError, match="expects a dask DataFrame, got DataFrame"):
        jdask.predict_partitions(model, pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_a_model_that_changes_the_batch_size_is_refused():
    model = jitcore.script(_sum_over_batch)
    with pytest.raises(JitcoreError, match="must keep the batch axis 0"):
        jdask.predict(model, da.ones((8, 3), chunks=4))
    with pytest.raises(ValueError, match="batch_axis"):
        jdask.predict(model, da.ones((8, 3), chunks=4), batch_axis=2)
    with pytest.raises(ValueError, match="threads"):
        jdask.predict(model, da.ones((8, 3), chunks=4), threads=0)


def _sum_over_batch(x):
    return np.sum(x, axis=0)


def test_a_model_shipped_once_scores_like_the_model_under_the_same_key():
    model = _cnn(1)
    shipped = ship(model)
    x = da.from_array(np.random.default_rng(8).standard_normal((24, 3, 8, 8)).astype(np.float32), chunks=8)
    from_model, from_shipped = jdask.predict(model, x), jdask.predict(shipped, x)
    assert from_model.name == from_shipped.name
    assert np.array_equal(from_shipped.compute(scheduler="sync"), from_model.compute(scheduler="sync"))
