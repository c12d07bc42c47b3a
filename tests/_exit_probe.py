"""Exit the interpreter while other threads are inside BLAS products.

Run by ``tests/test_openmp_helpers.py`` in a subprocess: ``daemon`` leaves from
the end of the script, ``interrupt`` from a ``KeyboardInterrupt`` caught around
``join()``, both with two daemon threads each in the middle of a 2048^3
product.  Without jitcore's exit hook OpenBLAS's destructor unmapped the
buffers under them (SIGSEGV in 7 of 8 runs).
"""
import os
import signal
import sys
import threading

import numpy as np

import jitcore
from jitcore.nn import functional as F
from jitcore._runtime import openmp_helpers

rng = np.random.default_rng(0)
x = rng.standard_normal((2048, 2048)).astype(np.float32)
w = rng.standard_normal((2048, 2048)).astype(np.float32)
linear = jitcore.trace(lambda x, w: F.linear(x, w), (x, w), check_trace=False)


def serve():
    while True:
        linear(x, w)


workers = [threading.Thread(target=serve, daemon=True) for _ in range(2)]
for worker in workers:
    worker.start()
while openmp_helpers.calls_in_flight() < 2:
    pass
if sys.argv[1] == "interrupt":
    # a child of a shell job inherits SIGINT ignored: install the terminal's handler
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        workers[0].join()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
print("exiting with", openmp_helpers.calls_in_flight(), "calls in flight", flush=True)
