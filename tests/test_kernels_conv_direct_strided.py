"""The direct strided conv kernel (kernels/conv_direct_strided.h through conv.pyx)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from jitcore._runtime import cpu, openmp_helpers
from jitcore._runtime.kernels import conv

from test_kernels_conv import conv2d_reference

# x shape, c_out, kernel, padding: H and W odd and even, padding 0-3, input
# channels not a multiple of 16, output rows of one block, of a partial one
# and of several, an odd output row count (the kernel's single last row)
CASES = [
    ((1, 3, 29, 30), 16, 3, 1),
    ((2, 5, 31, 33), 8, 3, 0),
    ((1, 16, 28, 28), 24, 3, 1),
    ((1, 7, 40, 37), 32, 3, 2),
    ((1, 3, 36, 35), 16, 7, 3),            # the stem's 7x7, padding 3
    ((2, 3, 30, 31), 8, 5, 2),
    ((1, 13, 33, 64), 16, 3, 3),
    ((3, 9, 30, 29), 8, 2, 0),             # even kernel
    ((1, 11, 45, 28), 40, 1, 0),           # 1x1 stride 2: one tap
]


def isa_of(x_shape, c_out, k, padding):
    return conv.direct_strided_isa(np.zeros(x_shape, np.float32),
                                   np.zeros((c_out, x_shape[1], k, k), np.float32),
                                   stride=2, padding=padding)


def data(x_shape, c_out, k, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((c_out, x_shape[1], k, k)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    return x, w, b


def tol(x_shape, k):
    return dict(rtol=1e-4, atol=1e-5 * np.sqrt(x_shape[1] * k * k))


def test_cases_take_the_direct_kernel_of_the_level():
    level = cpu.isa()
    want = None if level == "baseline" else level
    assert [isa_of(*case) for case in CASES] == [want] * len(CASES)


@pytest.mark.parametrize("x_shape, c_out, stride", [((1, 8, 20, 20), 16, 2),   # 10 columns
                                                    ((1, 8, 30, 30), 12, 2),   # O % 8 != 0
                                                    ((1, 8, 30, 30), 16, 1),
                                                    ((1, 8, 30, 30), 16, (2, 1)),
                                                    ((1, 32, 30, 30), 16, 2)])   # channels
def test_other_shapes_stay_on_im2col(x_shape, c_out, stride):
    w = np.zeros((c_out, x_shape[1], 3, 3), np.float32)
    assert conv.direct_strided_isa(np.zeros(x_shape, np.float32), w, stride, 1) is None


def test_float64_stays_on_im2col():
    assert conv.direct_strided_isa(np.zeros((1, 8, 30, 30)), np.zeros((16, 8, 3, 3)), 2, 1) \
        is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, c_out, k, padding", CASES)
def test_matches_reference(dtype, x_shape, c_out, k, padding):
    x, w, b = data(x_shape, c_out, k, dtype)
    want = conv2d_reference(x, w, b, stride=(2, 2), padding=(padding, padding))
    t = tol(x_shape, k) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=2, padding=padding), want, **t)
    # bias + ReLU in the kernel's registers; no bias
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=2, padding=padding,
                                           activation="relu"), np.maximum(want, 0), **t)
    np.testing.assert_allclose(conv.conv2d(x, w, stride=2, padding=padding),
                               conv2d_reference(x, w, stride=(2, 2), padding=(padding, padding)),
                               **t)
    # a residual or another activation: the general epilogue after the kernel
    r = np.random.default_rng(1).standard_normal(want.shape).astype(dtype)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=2, padding=padding,
                                           activation="relu", residual=r),
                               np.maximum(want + r, 0), **t)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=2, padding=padding,
                                           activation="relu6"), np.clip(want, 0, 6), **t)


def test_reads_strided_inputs_and_weights():
    x, w, b = data((2, 6, 60, 62), 16, 3)
    xs, ws = x[:, :, ::2, ::2], w[:, :, ::-1, ::-1]
    assert isa_of(xs.shape, 16, 3, 1) == (None if cpu.isa() == "baseline" else cpu.isa())
    got = conv.conv2d(xs, ws, b, stride=2, padding=1)
    want = conv2d_reference(xs, ws.copy(), b, stride=(2, 2), padding=(1, 1))
    np.testing.assert_allclose(got, want, **tol(xs.shape, 3))


def test_relu_in_registers_propagates_nan():
    x, w, b = data((1, 4, 32, 32), 8, 3)
    x[0, 1, 9, 9] = np.nan
    got = conv.conv2d(x, w, b, stride=2, padding=1, activation="relu")
    assert np.isnan(got[:, :, 4:6, 4:6]).all()
    assert not np.isnan(got[:, :, 8:, :]).any()
    assert (got[~np.isnan(got)] >= 0).all()


@pytest.mark.parametrize("x_shape, c_out, k, padding",
                         [((1, 3, 64, 64), 64, 7, 3), ((1, 16, 56, 56), 32, 3, 1),
                          ((3, 16, 30, 30), 24, 3, 1)])
@pytest.mark.parametrize("epilogue", [{}, dict(activation="relu"), "residual"])
def test_bit_identical_at_one_and_two_threads(x_shape, c_out, k, padding, epilogue):
    x, w, b = data(x_shape, c_out, k, seed=3)
    if epilogue == "residual":
        r = np.ones(conv.conv2d_output_shape(x.shape, w.shape, 2, padding), np.float32)
        epilogue = dict(activation="relu", residual=r)
    before = openmp_helpers.get_num_threads()
    outs = []
    try:
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            outs.append(conv.conv2d(x, w, b, stride=2, padding=padding, **epilogue))
    finally:
        openmp_helpers.set_num_threads(before)
    assert outs[0].tobytes() == outs[1].tobytes()


def test_against_torch():
    torch = pytest.importorskip("torch")
    for x_shape, c_out, k, padding in CASES[:6]:
        x, w, b = data(x_shape, c_out, k, seed=7)
        want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                          torch.from_numpy(b), stride=2, padding=padding)
        np.testing.assert_allclose(conv.conv2d(x, w, b, stride=2, padding=padding),
                                   want.numpy(), **tol(x_shape, k))


_BITS = """
import sys, numpy as np
from jitcore._runtime.kernels import conv
rng = np.random.default_rng(0)
outs = []
for shape, o, k, p in [((1, 3, 37, 38), 16, 7, 3), ((2, 10, 33, 30), 24, 3, 1)]:
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((o, shape[1], k, k)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    assert conv.direct_strided_isa(x, w, 2, p) is not None
    outs.append(conv.conv2d(x, w, b, stride=2, padding=p, activation="relu").ravel())
sys.stdout.write(np.concatenate(outs).tobytes().hex())
"""


def test_avx512_and_avx2_give_the_same_bits():
    if cpu.isa() != "avx512" or os.environ.get("JITCORE_ISA"):
        pytest.skip("needs an AVX-512 CPU and JITCORE_ISA unset")
    runs = [subprocess.run([sys.executable, "-c", _BITS], capture_output=True, text=True,
                           check=True,
                           env={**os.environ, **({"JITCORE_ISA": isa} if isa else {})}).stdout
            for isa in (None, "avx2")]
    assert runs[0] and runs[0] == runs[1]


def test_unbatched_input_gives_the_batched_bits():
    x, w, b = data((1, 3, 40, 41), 16, 7, seed=9)
    assert isa_of(x.shape, 16, 7, 3) == (None if cpu.isa() == "baseline" else cpu.isa())
    batched = conv.conv2d(x, w, b, stride=2, padding=3, activation="relu")
    assert conv.conv2d(x[0], w, b, stride=2, padding=3, activation="relu").tobytes() \
        == batched[0].tobytes()
