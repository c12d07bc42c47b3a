"""asv: batch inference on a Dask LocalCluster — ``jitcore.dask.predict`` against a naive map_blocks.

The small CNN (``peers.models.small_cnn``, 3x32x32 inputs) scores a Dask array of 4,096
images in chunks of 256, on 1 or 2 worker processes of one thread each, the images
already in the workers' memory, spread evenly over them.  ``time_predict`` uses ``jitcore.dask.predict``: the model
travels once per worker and is loaded once per worker process.  ``time_naive_map_blocks``
is what a user writes by hand: ``x.map_blocks(score, model)``, which pickles the model into
every task, so each task loads it and compiles its plan again.  Both run one jitcore
thread per worker (``threads=1``) so that 1 against 2 workers measures scaling alone
(issue 19: 2 workers >= 1.8x 1 worker on 2 cores).  Skipped when Dask is not installed.

Script mode alternates rounds of (local loop, 1 worker, 2 workers), both clusters alive
throughout, so that 1 and 2 workers meet the same load from the machine's other users;
it prints the median, worst and best images per second, the 2/1 ratio per round, the
machine's own ceiling (the same scoring in 1 and 2 plain processes, no Dask) and the
load average: ``python benchmarks/bench_distributed.py [--images 4096] [--chunk N] [--rounds 7]``.
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
# 16 chunks: 8 per worker with 2 workers, so Dask can still even out a worker that is
# slowed down, and each task (~13 ms of compute on one core) long beside Dask's own
# per-task cost (a few ms).  Chunks of 64 spend more in Dask than in the model.
CHUNK = 256
PLAIN_SCALE = 4


def _dask():
    """(dask.array, distributed, jitcore.dask), or NotImplementedError: asv's skip."""
    try:
        import dask.array as da
        import distributed
        import jitcore.dask as jdask
    except ImportError as error:
        raise NotImplementedError(f"Dask is not installed ({error}): pip install \"jitcore[dask]\"")
    return da, distributed, jdask


def _ten_numbers(block):
    return np.ascontiguousarray(block[:, 0, 0, :10])


def _persist_evenly(client, da, images):
    """``images`` in the workers' memory, chunk i on worker i mod n.

    ``client.persist`` alone places the chunks where the random-number tasks happened to
    run: 13 of 16 chunks on one worker was seen.  Tasks follow their data, so that
    worker then scores 13 chunks while the other scores 3, and the run measures where
    the data was, not how scoring scales.  Data that a cluster reads from storage is
    spread by the scheduler as the workers ask for work; this is the even spread.
    """
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    parts = [client.persist(images.blocks[i], workers=[workers[i % len(workers)]])
             for i in range(images.numblocks[0])]
    return client.persist(da.concatenate(parts, axis=0))


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
        self.x = _persist_evenly(self.client, da, images)
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

    def dask_alone(self):
        # The same chunks through a task that does almost nothing: what Dask itself costs.
        lazy = self.x.map_blocks(_ten_numbers, drop_axis=(2, 3), chunks=(self.x.chunks[0], (10,)),
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


def _seconds(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _local_loop(images, chunk):
    """The same chunks scored in this process, one thread: the single-core reference."""
    jitcore.set_num_threads(1)
    model = compile_case(make_case("cnn-b16"))
    x = np.random.default_rng(0).standard_normal((images, 3, 32, 32)).astype(np.float32)
    model(x[:chunk])
    return lambda: [model(x[i:i + chunk]) for i in range(0, images, chunk)]


def _score_share(share, chunk, start, done):
    """A plain process scoring ``share`` images once ``start`` is set (no Dask)."""
    score = _local_loop(share, chunk)
    start.wait()
    score()
    done.put(time.perf_counter())


def _plain_processes(processes, images, chunk):
    """``run()`` scoring ``images`` split over ``processes`` plain processes of one thread
    each, started in advance: the machine's own ceiling for N workers, without Dask."""
    import multiprocessing as mp
    context = mp.get_context("spawn")

    def run():
        start, done = context.Event(), context.Queue()
        workers = [context.Process(target=_score_share, args=(images // processes, chunk, start,
                                                                done)) for _ in range(processes)]
        for w in workers:
            w.start()
        time.sleep(3.0)     # each has built its model (a few hundred ms) and waits
        began = time.perf_counter()
        start.set()
        ended = max(done.get() for _ in workers)
        for w in workers:
            w.join()
        return ended - began
    return run


def _row(label, images, times):
    rate = [images / t for t in times]
    return f"{label:52s} {statistics.median(rate):8.0f} {min(rate):8.0f} {max(rate):8.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds of (local loop, 1 worker, 2 workers), alternated")
    parser.add_argument("--naive-rounds", type=int, default=2)
    args = parser.parse_args()
    _dask()
    loads = [os.getloadavg()[0]]
    print(f"small CNN 3x32x32, {args.images} images in chunks of {args.chunk}; "
          f"{args.rounds} alternated rounds; load average before: {loads[0]:.2f}")
    local = _local_loop(args.images, args.chunk)
    # Both clusters live through the whole run, so that each round measures 1 and 2
    # workers back to back under the same load from the machine's other users.
    clusters = {workers: _Cluster(workers, args.images, args.chunk) for workers in (1, 2)}
    try:
        first = {w: _seconds(c.predict) for w, c in clusters.items()}
        times = {"local": [], 1: [], 2: [], "alone 1": [], "alone 2": []}
        for _ in range(args.rounds):
            times["local"].append(_seconds(local))
            for workers, cluster in clusters.items():
                times[workers].append(_seconds(cluster.predict))
                times[f"alone {workers}"].append(_seconds(cluster.dask_alone))
            loads.append(os.getloadavg()[0])
        # four times the images: a plain run is short (no Dask), and jitter dominates a short run
        plain = {n: _plain_processes(n, PLAIN_SCALE * args.images, args.chunk) for n in (1, 2)}
        for _ in range(5):
            for n, run in plain.items():
                times.setdefault(f"plain {n}", []).append(run())
        naive = {w: [_seconds(c.naive) for _ in range(args.naive_rounds)] for w, c in clusters.items()}
        model_loads = {w: sorted(c.jdask.model_loads(c.client).values()) for w, c in clusters.items()}
    finally:
        for cluster in clusters.values():
            cluster.close()
    print(f"{'images/s:':52s} {'median':>8s} {'worst':>8s} {'best':>8s}")
    print(_row("local loop, 1 thread (this process)", args.images, times["local"]))
    for workers in (1, 2):
        label = f"{workers} worker{'s' if workers > 1 else ''} x 1 thread"
        print(_row(f"jitcore.dask.predict, {label}", args.images, times[workers]))
    for workers in (1, 2):
        print(_row(f"Dask alone (a near-empty task per chunk), {workers} worker(s)", args.images,
                   times[f"alone {workers}"]))
    for n in (1, 2):
        print(_row(f"no Dask: {n} plain process(es) x 1 thread", PLAIN_SCALE * args.images,
                   times[f"plain {n}"]))
    for workers in (1, 2):
        print(_row(f"naive map_blocks, {workers} worker(s)", args.images, naive[workers]))
        print(_row(f"first predict (loads the model), {workers} worker(s)", args.images, [first[workers]]))
    ratios = sorted(one / two for one, two in zip(times[1], times[2]))
    print(f"2 workers / 1 worker, per round: median {statistics.median(ratios):.2f}x "
          f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}); 1 worker / local loop: "
          f"{statistics.median(times['local']) / statistics.median(times[1]):.0%}")
    alone = {w: statistics.median(times[f"alone {w}"]) for w in (1, 2)}
    compute = statistics.median(times["local"])
    print(f"if Dask's own time stayed and the model's halved: 2/1 workers at most "
          f"{(alone[1] + compute) / (alone[2] + compute / 2):.2f}x")
    plain_ratio = statistics.median(times["plain 1"]) / statistics.median(times["plain 2"])
    print(f"the machine's own ceiling, 2 plain processes / 1 (no Dask): {plain_ratio:.2f}x")
    print(f"model loads per worker process: {model_loads}")
    print(f"load average (1 min) over the run: {min(loads):.2f}-{max(loads):.2f}, "
          f"median {statistics.median(loads):.2f}")


if __name__ == "__main__":
    main()
