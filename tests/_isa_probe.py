"""Run by test_cpu_features.py in a subprocess whose environment sets JITCORE_ISA.

``python _isa_probe.py OUT.npz`` imports jitcore (recording its warnings), runs a
representative subset of the kernels on fixed-seed data, saves every output in
OUT.npz and prints one JSON line: the level each layer reports and the warnings.
``python _isa_probe.py`` (no path) prints the JSON line only.
"""

import json
import sys
import warnings

import numpy as np

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import jitcore
    from jitcore._runtime import cpu
    from jitcore._runtime.kernels import (
        blas, conv, elementwise as ew, fused_chain as fc, pooling, reduction, softmax,
    )

# vecloops.h's transcendental loops and their one-element forms (strided runs)
UNARY = ["exp", "expm1", "log", "tanh", "sigmoid", "silu", "erf", "gelu", "gelu_tanh"]
# y = tanh(x * 0.5 + 1.0) * x + 3.0, the fused chain of issue 7 (paired steps)
CHAIN = [("mul", 3, (0, 1)), ("add", 3, (3, 2)), ("tanh", 3, (3,)),
         ("mul", 3, (3, 0)), ("add", 4, (3, 2)), ("add", 4, (4, 2)), ("add", 4, (4, 2))]
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 88.7, -88.7, 1e30, -1e30, 9.0]


def samples(dtype, n, seed):
    """n values of every binade's scale plus the special ones, at odd lengths so
    each loop runs its vector body and its scalar tail."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp2(rng.integers(-12, 7, n))
    x[:len(SPECIAL)] = SPECIAL
    return x.astype(dtype)


def kernel_outputs():
    out = {}
    for dtype in (np.float32, np.float64):
        tag = np.dtype(dtype).name
        x, y = samples(dtype, 4099, 1), samples(dtype, 4099, 2)
        for op in UNARY:
            out[f"{op}_{tag}"] = ew.unary(op, x)
            out[f"{op}_{tag}_strided"] = ew.unary(op, x[::3])
        for op, p0 in (("leaky_relu", 0.01), ("elu", 1.3)):
            out[f"{op}_{tag}"] = ew.unary_param(op, x, p0)
            out[f"{op}_{tag}_strided"] = ew.unary_param(op, x[::3], p0)
        for op in ("add", "sub", "mul", "div"):
            out[f"{op}_{tag}"] = ew.binary(op, x, y)
            out[f"{op}_{tag}_scalar"] = ew.binary(op, x, np.array(0.37, dtype))
            out[f"{op}_{tag}_scalar_first"] = ew.binary(op, np.array(0.37, dtype), y)
        # outputs past JC_STREAM_MIN_BYTES take vecstream.h's non-temporal loops
        big = ew.stream_min_bytes() // np.dtype(dtype).itemsize + 37
        a = np.random.default_rng(3).standard_normal(big).astype(dtype)
        out[f"add_{tag}_streamed"] = ew.binary("add", a, a[::-1].copy())
        chain_x = samples(dtype, 3 * 1025, 4).reshape(3, 1025)
        out[f"chain_{tag}"] = fc.chain(CHAIN, [chain_x, np.array(0.5, dtype), np.array(1.0, dtype)])
        long = np.random.default_rng(5).standard_normal(100_003).astype(dtype)
        out[f"sum_{tag}"] = reduction.reduce("sum", long)
        out[f"sum_rows_{tag}"] = reduction.reduce("sum", long[:99_000].reshape(99, 1000), axes=(1,))
        out[f"softmax_{tag}"] = softmax.softmax(long[:9_000].reshape(9, 1000), 1)

    rng = np.random.default_rng(6)
    for name, (x_shape, c_out) in {"conv_direct": ((2, 8, 13, 21), 16),
                                   "conv_winograd": ((1, 32, 14, 19), 32)}.items():
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal((c_out, x_shape[1], 3, 3)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        out[name] = conv.conv2d(x, w, b, padding=1, activation="relu")
        out[name + "_inputs"] = np.concatenate([x.ravel(), w.ravel(), b])
    a = rng.standard_normal((67, 300)).astype(np.float32)
    b = rng.standard_normal((300, 130)).astype(np.float32)
    out["gemm_f32"] = blas.gemm_arrays(a, b)
    out["gemm_f32_inputs"] = np.concatenate([a.ravel(), b.ravel()])
    pool_x = rng.standard_normal((2, 3, 17, 70)).astype(np.float32)
    pool_x[0, 0, 3, 5] = np.nan
    out["max_pool_2x2"] = pooling.max_pool2d(pool_x, 2)
    out["max_pool_2x2_inputs"] = pool_x
    out.update(conv_pool_outputs(rng))
    out.update(thread_outputs(rng))
    return out


def conv_pool_outputs(rng):
    """conv -> ReLU -> MaxPool2d(2) fused into the direct kernel (8 -> 16 channels)
    and into the Winograd kernel (32 -> 32) by fuse_conv_pool, and the same two
    ops run one after the other; widths leave partial vectors."""
    out = {}
    for name, channels, x_shape in (("conv_pool", (8, 16), (2, 8, 14, 22)),
                                    ("conv_winograd_pool", (32, 32), (2, 32, 14, 22))):
        jitcore.manual_seed(0)
        model = jitcore.nn.Sequential(jitcore.nn.Conv2d(*channels, 3, padding=1),
                                      jitcore.nn.ReLU(), jitcore.nn.MaxPool2d(2)).eval()
        x = rng.standard_normal(x_shape).astype(np.float32)
        x[1, 3, 5, 7] = np.nan
        fast = jitcore.optimize_for_inference(jitcore.trace(model, (x,)))
        kinds = [node.kind for node in fast.graph_for(x).nodes]
        assert "jc::conv2d_act_pool" in kinds, kinds
        unfused = conv.conv2d(x, model[0].weight, model[0].bias, padding=1, activation="relu")
        out[name + "_fused"] = fast(x)
        out[name + "_unfused"] = pooling.max_pool2d(unfused, 2)
    return out


def thread_outputs(rng):
    """Products large enough to be split over 2 threads, at 1 and at 2 threads."""
    a = rng.standard_normal((64, 784)).astype(np.float32)
    b = rng.standard_normal((784, 500)).astype(np.float32)
    x = rng.standard_normal((1, 16, 32, 33)).astype(np.float32)
    w = rng.standard_normal((40, 16, 3, 3)).astype(np.float32)
    xs = rng.standard_normal((4, 8, 19, 20)).astype(np.float32)
    ws = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    xw = rng.standard_normal((1, 32, 26, 21)).astype(np.float32)
    ww = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    out = {}
    before = jitcore.get_num_threads()
    try:
        for threads in (1, 2):
            jitcore.set_num_threads(threads)
            out[f"threads{threads}_gemm"] = blas.gemm_arrays(a, b)
            out[f"threads{threads}_conv_batch1"] = conv.conv2d(x, w, padding=1)
            out[f"threads{threads}_conv_batch4"] = conv.conv2d(xs, ws, padding=1,
                                                               activation="relu")
            out[f"threads{threads}_winograd_batch1"] = conv.conv2d(xw, ww, padding=1)
    finally:
        jitcore.set_num_threads(before)
    return out


def main():
    report = {
        "isa": cpu.isa(), "cpu_isa": cpu.cpu_isa(), "simd_level": ew.simd_level(),
        "requested": cpu.requested_isa(), "reason": cpu.isa_reason(),
        "runs": [family["runs"] for family in cpu.kernel_families()],
        "winograd_isa": conv.winograd_isa(np.zeros((1, 32, 14, 19), np.float32),
                                          np.zeros((32, 32, 3, 3), np.float32)),
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }
    if len(sys.argv) > 1:
        np.savez(sys.argv[1], **kernel_outputs())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
