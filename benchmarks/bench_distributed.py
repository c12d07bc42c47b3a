"""asv: batch inference on a Dask LocalCluster — ``jitcore.dask.predict`` against a naive map_blocks.

The small CNN (``peers.models.small_cnn``, 3x32x32 inputs) scores a Dask array of 4,096
images in chunks of 64, on 1 or 2 worker processes of one thread each, the images
already in the workers' memory.  ``time_predict`` uses ``jitcore.dask.predict``: the model
travels once per worker and is loaded once per worker process.  ``time_naive_map_blocks``
is what a user writes by hand: ``x.map_blocks(score, model)``, which pickles the model into
every task, so each task loads it and compiles its plan again.  Both run one jitcore
thread per worker (``threads=1``) so that 1 against 2 workers measures scaling alone
(issue 19: 2 workers >= 1.8x 1 worker on 2 cores).  Skipped when Dask is not installed.

Script mode prints throughputs (images per second) and the load average:
``python benchmarks/bench_distributed.py [--images 4096] [--chunk 64] [--repeat 5]``.
"""

import argparse
import functools
import operator
import os
import statistics
import time

import numpy as np

import jitcore

try:   # asv imports this file as benchmarks.bench_distributed
    from .peers.jitcore_backends import compile_case
    from .peers.models import make_case
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.jitcore_backends import compile_case
    from peers.models import make_case

IMAGES = 4096
CHUNK = 64


def _dask():
    """(dask.array, distributed, jitcore.dask), or NotImplementedError: asv's skip."""
    try:
        import dask.array as da
        import distributed
        import jitcore.dask as jdask
    except ImportError as error:
        raise NotImplementedError(f"Dask is not installed ({error}): pip install \"jitcore[dask]\"")
    return da, distributed, jdask


class _Cluster:
    """A LocalCluster of ``workers`` single-threaded processes with the images in memory."""

    def __init__(self, workers, images=IMAGES, chunk=CHUNK):
        da, distributed, self.jdask = _dask()
        self.cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                dashboard_address=None, worker_dashboard_address=None)
        self.client = distributed.Client(self.cluster)
        self.client.wait_for_workers(workers, timeout=120)
        self.model = compile_case(make_case("cnn-b16"))
        images = da.random.default_rng(0).standard_normal((images, 3, 32, 32), chunks=(chunk, 3, 32, 32),
                                                          dtype=np.float32)
        self.x = self.client.persist(images)
        distributed.wait(self.x)
        self.client.run(jitcore.get_num_threads)   # import jitcore on the workers before timing

    def predict(self, threads=1):
        return self.client.compute(self.jdask.predict(self.model, self.x, threads=threads)).result()

    def naive(self):
        # What a user writes by hand, ``x.map_blocks(lambda block: model(block))``: the
        # function holds the model, so every task carries its archive bytes and loads it.
        score = functools.partial(operator.call, self.model)
        lazy = self.x.map_blocks(score, drop_axis=(1, 2, 3), new_axis=1, chunks=(self.x.chunks[0], (10,)),
                                 dtype=np.float32, meta=np.empty((0, 10), np.float32))
        return self.client.compute(lazy).result()

    def close(self):
        self.client.close()
        self.cluster.close()


class DaskPredict:
    """Score 4,096 images with 1 or 2 single-threaded Dask workers."""

    params = [1, 2]
    param_names = ["workers"]
    timeout = 300

    def setup(self, workers):
        self.cluster = _Cluster(workers)
        self.cluster.predict()              # each worker loads the model once

    def teardown(self, workers):
        self.cluster.close()

    def time_predict(self, workers):
        self.cluster.predict()

    def time_naive_map_blocks(self, workers):
        self.cluster.naive()


def _timed(run, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def _throughputs(images, times):
    """(median, best) images per second: on a shared machine the best run is the least disturbed."""
    return images / statistics.median(times), images / min(times)


def _local_times(images, chunk, repeat):
    """The same chunks scored in this process, one thread: the single-core reference."""
    jitcore.set_num_threads(1)
    model = compile_case(make_case("cnn-b16"))
    x = np.random.default_rng(0).standard_normal((images, 3, 32, 32)).astype(np.float32)
    model(x[:chunk])
    return _timed(lambda: [model(x[i:i + chunk]) for i in range(0, images, chunk)], repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    _dask()
    print(f"small CNN 3x32x32, {args.images} images in chunks of {args.chunk}, "
          f"{args.repeat} runs each; load average before: {os.getloadavg()[0]:.2f}")
    rows = [("local loop, 1 thread (this process)", _local_times(args.images, args.chunk, args.repeat))]
    for workers in (1, 2):
        cluster = _Cluster(workers, args.images, args.chunk)
        try:
            label = f"{workers} worker{'s' if workers > 1 else ''} x 1 thread"
            rows.append((f"jitcore.dask.predict, {label}, first run (loads)", _timed(cluster.predict, 1)))
            rows.append((f"jitcore.dask.predict, {label}", _timed(cluster.predict, args.repeat)))
            rows.append((f"jitcore.dask.predict, {label}, the thread rule",
                         _timed(lambda: cluster.predict(None), args.repeat)))
            rows.append((f"naive map_blocks, {label}", _timed(cluster.naive, args.repeat)))
            loads = cluster.jdask.model_loads(cluster.client)
            rows.append((f"  model loads per worker: {sorted(loads.values())}", None))
        finally:
            cluster.close()
    print(f"{'images/s:':60s} {'median':>10s} {'best':>8s}")
    for label, times in rows:
        if times is None:
            print(label)
        else:
            median, best = _throughputs(args.images, times)
            print(f"{label:60s} {median:10.0f} {best:8.0f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
