"""The NCHWc conv kernel (kernels/conv_nchwc.h through conv.pyx): output channels in the vector."""
import os
import subprocess
import sys

import numpy as np
import pytest

from jitcore._runtime import cpu, openmp_helpers
from jitcore._runtime.kernels import conv

from test_kernels_conv import conv2d_reference

LEVEL = None if cpu.isa() == "baseline" else cpu.isa()

# x shape, c_out, stride, padding: maps of 1..64 output pixels (every pixel-tile
# tail: 1, 2, 3, 5, 11, 13, ...), H != W, padding 0-2, output channels not a
# multiple of 16 or 32 (20, 24, 40, 72, 100: a lone 16-channel group, a partial
# one).  Stride-1 "same" shapes avoid the direct 3x3 kernel's (C_in <= 64 and
# C_out % 8 == 0) and Winograd's (channels multiples of 16, up to 256).
CASES = [
    ((1, 72, 2, 2), 64, 1, 1),
    ((1, 64, 3, 5), 20, 1, 1),
    ((2, 72, 4, 4), 40, 1, 0),
    ((1, 64, 4, 6), 100, 1, 2),
    ((3, 80, 7, 7), 72, 1, 1),
    ((1, 288, 2, 3), 48, 1, 1),
    ((1, 64, 1, 1), 36, 1, 1),             # one output pixel: only the centre tap reads input
    ((1, 64, 4, 4), 48, 2, 1),
    ((2, 96, 9, 13), 40, 2, 1),
    ((1, 64, 16, 16), 128, 2, 1),
    ((1, 64, 11, 10), 24, 2, 0),
    ((1, 128, 8, 9), 56, 2, 2),
    ((2, 64, 28, 28), 16, 2, 1),           # 14x14 output: many full 12-pixel tiles
]


def isa_of(x_shape, c_out, stride, padding):
    return conv.nchwc_isa(np.zeros(x_shape, np.float32),
                          np.zeros((c_out, x_shape[1], 3, 3), np.float32), stride, padding)


def data(x_shape, c_out, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((c_out, x_shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    return x, w, b


def tol(x_shape):
    return dict(rtol=1e-4, atol=1e-5 * np.sqrt(x_shape[1] * 9))


def test_cases_take_the_nchwc_kernel_of_the_level():
    assert [isa_of(*case) for case in CASES] == [LEVEL] * len(CASES)


@pytest.mark.parametrize("x_shape, c_out, stride, padding", [
    ((1, 48, 4, 4), 64, 1, 1),              # too few input channels
    ((1, 72, 15, 15), 36, 1, 1),            # a stride-1 map above the table
    ((1, 64, 60, 60), 64, 2, 1),            # a stride-2 map above the table
    ((1, 256, 29, 29), 36, 1, 1),           # the same with many channels
    ((1, 256, 58, 58), 36, 2, 1),
    ((1, 64, 8, 8), 64, (2, 1), 1),         # unequal strides
    ((1, 64, 9, 9), 64, 3, 1),              # stride 3
    ((1, 64, 4, 4), 64, 1, 1),              # Winograd's shape keeps Winograd
    ((1, 64, 4, 4), 40, 1, 1),              # the direct 3x3 kernel's keeps it
])
def test_other_shapes_take_another_path(x_shape, c_out, stride, padding):
    assert isa_of(x_shape, c_out, stride, padding) is None


def test_float64_grouped_and_dilated_take_another_path():
    assert conv.nchwc_isa(np.zeros((1, 64, 4, 4)), np.zeros((64, 64, 3, 3)), 1, 1) is None
    w = np.zeros((64, 32, 3, 3), np.float32)
    x = np.zeros((1, 64, 4, 4), np.float32)
    assert conv.conv2d(x, w, padding=1, groups=2).shape == (1, 64, 4, 4)   # no crash
    np.testing.assert_array_equal(conv.conv2d(x, np.zeros((64, 64, 3, 3), np.float32),
                                              padding=2, dilation=2), 0)


@pytest.mark.parametrize("wide", [False, True])
def test_limits_describe_the_dispatch(wide):
    limits = conv.nchwc_limits()
    c = limits["wide_channels"] + 8 if wide else limits["min_channels"] + 8
    s1, s2 = limits["max_pixels"][wide, 1], limits["max_pixels"][wide, 2]
    side1, side2 = int(np.sqrt(s1)), int(np.sqrt(s2))
    assert side1 * side1 == s1 and side2 * side2 == s2
    assert isa_of((1, c, side1, side1), 36, 1, 1) == LEVEL
    assert isa_of((1, c, side1 + 1, side1 + 1), 36, 1, 1) is None
    assert isa_of((1, c, 2 * side2, 2 * side2), 36, 2, 1) == LEVEL
    assert isa_of((1, c, 2 * side2 + 2, 2 * side2 + 2), 36, 2, 1) is None
    assert isa_of((1, limits["min_channels"] - 1, 4, 4), 36, 2, 1) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, c_out, stride, padding", CASES)
def test_matches_reference(dtype, x_shape, c_out, stride, padding):
    x, w, b = data(x_shape, c_out, dtype)
    st, pd = (stride, stride), (padding, padding)
    want = conv2d_reference(x, w, b, stride=st, padding=pd)
    t = tol(x_shape) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=stride, padding=padding), want, **t)
    # bias + ReLU in registers; no bias
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=stride, padding=padding,
                                           activation="relu"), np.maximum(want, 0), **t)
    np.testing.assert_allclose(conv.conv2d(x, w, stride=stride, padding=padding),
                               conv2d_reference(x, w, stride=st, padding=pd), **t)
    # a residual or another activation: the general epilogue after the kernel
    r = np.random.default_rng(1).standard_normal(want.shape).astype(dtype)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=stride, padding=padding,
                                           activation="relu", residual=r),
                               np.maximum(want + r, 0), **t)
    np.testing.assert_allclose(conv.conv2d(x, w, b, stride=stride, padding=padding,
                                           activation="relu6"), np.clip(want, 0, 6), **t)


def test_any_map_mode_runs_larger_maps_and_auto_restores():
    x, w, b = data((1, 72, 20, 18), 40, seed=4)
    assert isa_of(x.shape, 40, 1, 1) is None
    before = conv.set_nchwc("any_map")
    try:
        assert isa_of(x.shape, 40, 1, 1) == LEVEL
        got = conv.conv2d(x, w, b, padding=1)
    finally:
        assert conv.set_nchwc(before) == "any_map"
    np.testing.assert_allclose(got, conv2d_reference(x, w, b, padding=(1, 1)), **tol(x.shape))
    with pytest.raises(ValueError, match="mode must be one of"):
        conv.set_nchwc("fast")


def test_off_mode_gives_the_old_path():
    x, w, b = data((1, 72, 4, 4), 64, seed=5)
    assert isa_of(x.shape, 64, 1, 1) == LEVEL
    before = conv.set_nchwc("off")
    try:
        assert isa_of(x.shape, 64, 1, 1) is None
        got = conv.conv2d(x, w, b, padding=1)
    finally:
        conv.set_nchwc(before)
    np.testing.assert_allclose(got, conv.conv2d(x, w, b, padding=1), **tol(x.shape))


def test_reads_strided_inputs_and_weights():
    x, w, b = data((2, 128, 12, 14), 48, seed=6)
    xs, ws = x[:, ::2, ::2, ::2], w[:, ::2, ::-1, ::-1]
    assert isa_of(xs.shape, 48, 2, 1) == LEVEL
    got = conv.conv2d(xs, ws, b, stride=2, padding=1)
    want = conv2d_reference(xs, ws.copy(), b, stride=(2, 2), padding=(1, 1))
    np.testing.assert_allclose(got, want, **tol(xs.shape))


def test_relu_in_registers_propagates_nan():
    x, w, b = data((1, 72, 6, 6), 32)
    assert isa_of(x.shape, 32, 1, 1) == LEVEL
    x[0, 1, 2, 2] = np.nan
    got = conv.conv2d(x, w, b, padding=1, activation="relu")
    assert np.isnan(got[:, :, 1:4, 1:4]).all()
    assert not np.isnan(got[:, :, 5:, :]).any()
    assert (got[~np.isnan(got)] >= 0).all()


@pytest.mark.parametrize("x_shape, c_out, stride",
                         [((1, 72, 4, 4), 72, 1), ((1, 128, 16, 16), 96, 2),
                          ((3, 64, 8, 8), 40, 2)])
@pytest.mark.parametrize("epilogue", [{}, dict(activation="relu"), "residual"])
def test_bit_identical_at_one_and_two_threads(x_shape, c_out, stride, epilogue):
    x, w, b = data(x_shape, c_out, seed=3)
    assert isa_of(x_shape, c_out, stride, 1) == LEVEL
    if epilogue == "residual":
        r = np.ones(conv.conv2d_output_shape(x.shape, w.shape, stride, 1), np.float32)
        epilogue = dict(activation="relu", residual=r)
    before = openmp_helpers.get_num_threads()
    outs = []
    try:
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            outs.append(conv.conv2d(x, w, b, stride=stride, padding=1, **epilogue))
    finally:
        openmp_helpers.set_num_threads(before)
    assert outs[0].tobytes() == outs[1].tobytes()


def test_unbatched_input_gives_the_batched_bits():
    x, w, b = data((1, 64, 6, 5), 40, seed=9)
    batched = conv.conv2d(x, w, b, stride=2, padding=1, activation="relu")
    assert conv.conv2d(x[0], w, b, stride=2, padding=1, activation="relu").tobytes() \
        == batched[0].tobytes()


def test_against_torch():
    torch = pytest.importorskip("torch")
    for x_shape, c_out, stride, padding in CASES[:8]:
        x, w, b = data(x_shape, c_out, seed=7)
        want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                          torch.from_numpy(b), stride=stride, padding=padding)
        np.testing.assert_allclose(conv.conv2d(x, w, b, stride=stride, padding=padding),
                                   want.numpy(), **tol(x_shape))


_BITS = """
import sys, numpy as np
from jitcore._runtime.kernels import conv
rng = np.random.default_rng(0)
outs = []
for shape, o, s, p in [((1, 72, 5, 7), 40, 1, 1), ((2, 72, 9, 8), 24, 2, 1),
                       ((1, 64, 3, 4), 48, 1, 0)]:
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((o, shape[1], 3, 3)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    assert conv.nchwc_isa(x, w, s, p) is not None
    outs.append(conv.conv2d(x, w, b, stride=s, padding=p, activation="relu").ravel())
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
