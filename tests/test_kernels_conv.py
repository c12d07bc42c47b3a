"""conv2d by im2col + GEMM / direct paths (jitcore._runtime.kernels.conv)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import cpu, openmp_helpers
from jitcore._runtime.kernels import conv

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-11, atol=1e-11)}


def conv2d_reference(x, w, b=None, stride=(1, 1), padding=(0, 1 - 1), dilation=(1, 1), groups=1):
    """Direct NumPy convolution: windows via sliding_window_view, one einsum per group."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (span_h, span_w), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]                     # n, c, oh, ow, kh, kw
    og = o // groups
    out = np.concatenate([
        np.einsum("ncxyij,ocij->noxy", win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og])
        for g in range(groups)], axis=1)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


CASES = [
    # x shape, w shape, kwargs
    ((2, 3, 9, 11), (4, 3, 3, 3), {}),
    ((2, 4, 9, 11), (6, 2, 3, 2), dict(groups=2, stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ((2, 4, 8, 8), (8, 1, 3, 3), dict(groups=4, padding=1)),           # depthwise x2
    ((2, 4, 8, 8), (4, 1, 3, 3), dict(groups=4, padding=1, stride=2)),  # depthwise
    ((2, 6, 7, 5), (3, 6, 1, 1), {}),                                   # pointwise
    ((2, 6, 7, 5), (3, 6, 1, 1), dict(stride=2)),                       # 1x1 strided: im2col
    ((1, 2, 5, 5), (3, 2, 5, 5), dict(padding=2, dilation=1)),
    ((3, 2, 4, 4), (2, 2, 2, 2), dict(padding=3)),                      # mostly padding
    # Stride-1 "same"-width convolutions over contiguous rows build each im2col
    # plane by one shifted block copy, then zero the padded border: padding on
    # one side only, dilation, tall/wide kernels, groups, a 1-pixel-high input.
    ((2, 3, 6, 7), (4, 3, 3, 3), dict(padding=1)),
    ((2, 2, 7, 9), (3, 2, 3, 3), dict(padding=2, dilation=2)),
    ((1, 4, 6, 5), (4, 2, 1, 3), dict(padding=(0, 1), groups=2)),
    ((1, 2, 6, 5), (3, 2, 4, 1), dict(padding=(3, 0))),                 # taller than the input
    ((2, 3, 1, 8), (2, 3, 3, 3), dict(padding=1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_conv2d_matches_reference(dtype, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    got = conv.conv2d(x, w, b, **kwargs)
    full = {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1), "groups": 1}
    for key, value in kwargs.items():
        full[key] = value if key == "groups" or isinstance(value, tuple) else (value, value)
    np.testing.assert_allclose(got, conv2d_reference(x, w, b, **full), **TOL[dtype])
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_reads_strided_inputs_and_weights(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 12, 3)).astype(dtype).transpose(0, 3, 1, 2)[:, :, ::2]
    w = rng.standard_normal((3, 3, 3, 4)).astype(dtype).transpose(3, 2, 0, 1)   # (4, 3, 3, 3)
    want = conv2d_reference(x, w, padding=(1, 1))
    np.testing.assert_allclose(conv.conv2d(x, w, padding=1), want, **TOL[dtype])
    xd = rng.standard_normal((2, 3, 8, 8)).astype(dtype)[:, :, :, ::-1]           # negative stride
    wd = rng.standard_normal((3, 1, 3, 3)).astype(dtype)
    np.testing.assert_allclose(conv.conv2d(xd, wd, groups=3),
                               conv2d_reference(xd, wd, groups=3), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("w_shape, groups", [((5, 4, 3, 3), 1), ((4, 1, 3, 3), 4), ((5, 4, 1, 1), 1)])
def test_conv2d_fused_relu_and_residual(dtype, w_shape, groups):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 6, 6)).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    pad = 1 if w_shape[2] == 3 else 0
    y = conv2d_reference(x, w, b, padding=(pad, pad), groups=groups)
    r = rng.standard_normal(y.shape).astype(dtype)
    got = conv.conv2d(x, w, b, padding=pad, groups=groups, activation="relu", residual=r)
    np.testing.assert_allclose(got, np.maximum(y + r, 0), **TOL[dtype])
    got = conv.conv2d(x, w, b, padding=pad, groups=groups, activation="relu", residual=r,
                      residual_after_activation=True)
    np.testing.assert_allclose(got, np.maximum(y, 0) + r, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation, op", [("relu6", "relu6"), ("hardswish", "hardswish"),
                                            ("hardsigmoid", "hardsigmoid")])
@pytest.mark.parametrize("w_shape, groups", [((5, 4, 3, 3), 1), ((4, 1, 3, 3), 4)])   # GEMM, depthwise
def test_conv2d_hard_activation_epilogues_match_the_ops_bit_for_bit(dtype, activation, op,
                                                                     w_shape, groups):
    from jitcore import ops
    rng = np.random.default_rng(5)
    x = (4 * rng.standard_normal((2, 4, 7, 7))).astype(dtype)
    x[0, 0, 0, :3] = [np.nan, -0.0, 6.0]
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    plain = conv.conv2d(x, w, b, padding=1, groups=groups)
    want = ops.get(f"aten::{op}").reference(plain)
    got = conv.conv2d(x, w, b, padding=1, groups=groups, activation=activation)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_path_in_im2col_tiles_with_residual(dtype):
    # a 16 MB patch matrix (K = 576, P = 4096) is built in tiles of whole output rows
    # and part rows; the residual broadcasts over the channels
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 64, 66, 66)).astype(dtype)
    w = (0.1 * rng.standard_normal((5, 64, 3, 3))).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    y = conv2d_reference(x, w, b, padding=(0, 0))
    r = np.broadcast_to(rng.standard_normal((1, 1, 64, 64)).astype(dtype), y.shape)
    got = conv.conv2d(x, w, b, activation="relu6", residual=r)
    np.testing.assert_allclose(got, np.clip(y + r, 0, 6), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pointwise_split_into_channel_blocks_is_bit_identical_at_one_and_two_threads(dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 320, 7, 7)).astype(dtype)
    w = rng.standard_normal((200, 320, 1, 1)).astype(dtype)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, activation="hardswish"))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], ops_hardswish(conv2d_reference(x, w)), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("w_shape, kwargs", [((6, 8, 3, 3), dict(padding=1)),
                                             ((6, 8, 1, 1), {}),
                                             ((6, 8, 3, 3), dict(stride=2, padding=1))])
def test_small_maps_batch_images_into_one_gemm(dtype, w_shape, kwargs):
    # 5x5 maps at batch 13: the images' patch matrices side by side, 6 per GEMM (6, 6, 1)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((13, 8, 5, 5)).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    full = {"stride": (1, 1), "padding": (0, 0)}
    full.update({k: (v, v) for k, v in kwargs.items()})
    y = conv2d_reference(x, w, b, **full)
    r = rng.standard_normal(y.shape).astype(dtype)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, b, activation="relu", residual=r, **kwargs))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], np.maximum(y + r, 0), **TOL[dtype])


def ops_hardswish(y):
    return y * np.clip(y / 6 + 0.5, 0, 1)


# Depthwise convolutions: padded, stride-phase-split planes and a row kernel per ISA level,
# or in place: "same" stride-1 planes flattened, other planes whose output rows fit one
# vector row by row; planes of at most 16 outputs channel-blocked (the strided-view
# check below compares them bit for bit with the padded path's).
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((1, 9, 7, 7), (9, 1, 3, 3), dict(groups=9, padding=1)),
    ((2, 5, 14, 14), (5, 1, 3, 3), dict(groups=5, padding=1, stride=2)),
    ((1, 4, 16, 16), (4, 1, 3, 3), dict(groups=4, padding=1)),
    ((1, 4, 17, 33), (4, 1, 3, 3), dict(groups=4, padding=1, stride=2)),
    ((1, 3, 33, 15), (3, 1, 5, 5), dict(groups=3, padding=(1, 3), stride=(3, 2))),
    ((1, 3, 10, 12), (3, 1, 3, 3), dict(groups=3, padding=2, dilation=(1, 2))),
    ((1, 2, 2, 2), (2, 1, 5, 5), dict(groups=2, padding=2)),
    ((1, 3, 10, 12), (3, 1, 3, 3), dict(groups=3, padding=(1, 2), dilation=(1, 2))),
    ((2, 4, 9, 9), (4, 1, 5, 5), dict(groups=4, padding=2)),
    ((1, 3, 7, 7), (6, 1, 3, 3), dict(groups=3, padding=1)),
    ((2, 6, 13, 11), (6, 1, 3, 3), dict(groups=6, padding=1, stride=2)),
    ((1, 5, 17, 70), (5, 1, 5, 5), dict(groups=5, padding=2, stride=2)),
    ((1, 5, 17, 70), (5, 1, 5, 5), dict(groups=5, padding=2)),
    ((1, 4, 9, 40), (8, 1, 3, 3), dict(groups=4, padding=(0, 2), stride=(1, 3), dilation=2)),
    ((2, 3, 6, 5), (3, 1, 3, 1), dict(groups=3, padding=(1, 0), stride=(2, 1))),
    ((1, 3, 4, 4), (3, 1, 1, 1), dict(groups=3, stride=2)),
    # channel-blocked with two full blocks and a partial one, rows of 16 + 1 columns
    # and 63 outputs (the transposing copies' tails)
    ((2, 40, 13, 17), (40, 1, 3, 3), dict(groups=40, padding=1, stride=2)),
])
def test_depthwise_matches_reference(dtype, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    full = {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1)}
    for key, value in kwargs.items():
        if key != "groups":
            full[key] = value if isinstance(value, tuple) else (value, value)
    want = conv2d_reference(x, w, b, groups=kwargs["groups"], **full)
    np.testing.assert_allclose(conv.conv2d(x, w, b, **kwargs), want, **TOL[dtype])
    # a strided (non-contiguous) input view reads the same values
    wide = np.zeros(x_shape[:3] + (2 * x_shape[3],), dtype)
    wide[..., ::2] = x
    np.testing.assert_array_equal(conv.conv2d(wide[..., ::2], w, b, **kwargs),
                                  conv.conv2d(x, w, b, **kwargs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation, op", [("relu", "relu"), ("relu6", "relu6"),
                                           ("hardswish", "hardswish")])
@pytest.mark.parametrize("size", [4, 7, 40])   # channel-blocked, in-place, padded-row
def test_depthwise_epilogue_in_the_row_matches_the_op_bit_for_bit(dtype, activation, op, size):
    from jitcore import ops
    rng = np.random.default_rng(10)
    x = (4 * rng.standard_normal((2, 6, size, size))).astype(dtype)
    x[0, 0, 0, :3] = [np.nan, -0.0, 6.0]
    w = rng.standard_normal((6, 1, 3, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    plain = conv.conv2d(x, w, b, padding=1, groups=6)
    got = conv.conv2d(x, w, b, padding=1, groups=6, activation=activation)
    np.testing.assert_array_equal(got, ops.get(f"aten::{op}").reference(plain))


@pytest.mark.parametrize("activation", ["none", "relu", "relu6", "hardswish", "tanh"])
@pytest.mark.parametrize("bias", [False, True])
def test_depthwise_channel_blocked_epilogue_matches_the_op_bit_for_bit(activation, bias):
    # channel-blocked (2x2 and 4x4 outputs: 40 channels, two full blocks and a part):
    # bias and relu/relu6/hardswish as the block is stored, tanh on the block before it
    from jitcore import ops
    rng = np.random.default_rng(11)
    for shape, stride in [((2, 40, 2, 2), 1), ((1, 40, 8, 7), 2)]:
        x = (4 * rng.standard_normal(shape)).astype(np.float32)
        w = rng.standard_normal((40, 1, 3, 3)).astype(np.float32)
        b = rng.standard_normal(40).astype(np.float32) if bias else None
        plain = conv.conv2d(x, w, b, padding=1, stride=stride, groups=40)
        got = conv.conv2d(x, w, b, padding=1, stride=stride, groups=40, activation=activation)
        want = plain if activation == "none" else ops.get(f"aten::{activation}").reference(plain)
        if activation == "tanh":        # the runtime's vectorised tanh, not NumPy's
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size, stride", [(30, 2), (14, 1), (70, 2), (4, 1)])
def test_depthwise_is_bit_identical_at_one_and_two_threads(dtype, size, stride):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 24, size, size)).astype(dtype)
    w = rng.standard_normal((24, 1, 5, 5)).astype(dtype)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, padding=2, stride=stride, groups=24,
                                       activation="relu6"))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


# float32 3x3 "same" convolutions with C_out a multiple of 8 take the direct
# kernel of the level (AVX-512: 16 pixels per register, AVX2: 8; baseline:
# these cases check im2col): widths below, at and beyond one register of
# either, one input row, strided inputs, and every epilogue.
DIRECT_CASES = [
    ((2, 3, 32, 32), 16), ((1, 16, 16, 40), 8), ((3, 5, 7, 19), 8), ((1, 1, 1, 33), 24),
    ((2, 4, 5, 6), 16),
]
# Those with 16..64 input channels (a multiple of 16) and C_out a multiple of
# 16 take the Winograd F(2x2, 3x3) kernel instead: odd sizes (a partial last
# tile row and column), rows wider than one 16-column transpose, both GEMM
# blocks (8 and 4 tiles, single tiles; 32 and 16 output channels), blocks of
# several tile rows (narrow images) with a partial last block, 1x1 images; and
# so do 80..256 channels (else im2col + GEMM; on AVX2 with >= 32 tiles per
# call).  Every case takes the Winograd kernel of the level (AVX-512: 16
# channels per register, 8 and 4 tile GEMM blocks; AVX2: 8 channels, 6, 4, 2
# and 1 tile blocks).
WINOGRAD_CASES = [
    ((2, 16, 16, 16), 32), ((1, 32, 7, 9), 16), ((3, 16, 5, 35), 48), ((1, 64, 3, 3), 16),
    ((2, 16, 1, 1), 32), ((1, 48, 18, 17), 64), ((2, 128, 5, 15), 32), ((2, 256, 3, 17), 16),
    ((2, 96, 11, 6), 32), ((1, 80, 14, 14), 48),
]
IM2COL_CASES = [((1, 272, 3, 17), 16), ((1, 96, 5, 14), 40)]   # beyond the Winograd limits
# Winograd at avx512 only: too few tiles for the weight transform to pay at
# avx2 (im2col + GEMM there), and 16 -> 512 channels (the direct kernel there).
WINOGRAD_AVX512_ONLY_CASES = [((1, 128, 8, 8), 128), ((3, 256, 4, 4), 32),
                              ((1, 16, 28, 28), 512)]


def test_conv2d_3x3_cases_take_the_winograd_kernel_of_the_level():
    def level_of(x_shape, c_out):
        return conv.winograd_isa(np.zeros(x_shape, np.float32),
                                 np.zeros((c_out, x_shape[1], 3, 3), np.float32))

    level = cpu.isa()
    winograd = None if level == "baseline" else level
    assert [level_of(*case) for case in WINOGRAD_CASES] == [winograd] * len(WINOGRAD_CASES)
    assert [level_of(*case) for case in DIRECT_CASES + IM2COL_CASES] == [None] * 7
    assert [level_of(*case) for case in WINOGRAD_AVX512_ONLY_CASES] \
        == [winograd if level == "avx512" else None] * 3


@pytest.mark.parametrize("x_shape, c_out",
                         DIRECT_CASES + WINOGRAD_CASES + IM2COL_CASES + WINOGRAD_AVX512_ONLY_CASES)
def test_conv2d_3x3_kernels_match_reference(x_shape, c_out):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((c_out, x_shape[1], 3, 3)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    want = conv2d_reference(x, w, b, padding=(1, 1))
    tol = dict(rtol=1e-4, atol=1e-4 * max(1.0, np.sqrt(x_shape[1] / 16)))   # 9 C-term sums
    np.testing.assert_allclose(conv.conv2d(x, w, b, padding=1), want, **tol)
    np.testing.assert_allclose(conv.conv2d(x, w, padding=1),
                               conv2d_reference(x, w, padding=(1, 1)), **tol)
    # bias + ReLU run in the kernel's registers; a residual or another
    # activation takes the general epilogue after the kernel
    np.testing.assert_allclose(conv.conv2d(x, w, b, padding=1, activation="relu"),
                               np.maximum(want, 0), **tol)
    r = rng.standard_normal(want.shape).astype(np.float32)
    got = conv.conv2d(x, w, b, padding=1, activation="relu", residual=r)
    np.testing.assert_allclose(got, np.maximum(want + r, 0), **tol)
    got = conv.conv2d(x, w, b, padding=1, activation="tanh", residual=r)
    np.testing.assert_allclose(got, np.tanh(want + r), **tol)


# Two threads split a batch-1 direct convolution by 8-channel blocks (a
# Winograd one by tile rows) and a larger batch by images; each output is
# still one thread's sum in the same order, so the bits do not depend on the
# thread count.  (C_in 16 with C_out 32 is Winograd, with C_out 40 direct.)
@pytest.mark.parametrize("x_shape, c_out", [((1, 3, 32, 32), 16), ((1, 16, 16, 16), 40),
                                            ((3, 8, 12, 12), 16), ((1, 16, 12, 12), 32),
                                            ((3, 16, 9, 10), 32), ((1, 96, 8, 16), 32)])
@pytest.mark.parametrize("epilogue", ["bias_relu_in_registers", "residual"])
def test_conv2d_direct_3x3_is_bit_identical_at_one_and_two_threads(x_shape, c_out, epilogue):
    rng = np.random.default_rng(9)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((c_out, x_shape[1], 3, 3)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    want = conv2d_reference(x, w, b, padding=(1, 1))
    r = rng.standard_normal(want.shape).astype(np.float32) if epilogue == "residual" else None
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, b, padding=1, activation="relu", residual=r))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[1], np.maximum(want + (0 if r is None else r), 0),
                               **TOL[np.float32])


# At batch 1 two threads share a Winograd convolution's blocks of tile rows
# even when the epilogue runs after the kernel (tanh, a residual broadcast
# over the channels): each thread applies it to its own rows.
def test_conv2d_winograd_3x3_general_epilogue_per_block_is_bit_identical_at_two_threads():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((1, 32, 14, 14)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    r = np.broadcast_to(rng.standard_normal((1, 1, 14, 14)).astype(np.float32), (1, 32, 14, 14))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, b, padding=1, activation="tanh", residual=r))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    want = np.tanh(conv2d_reference(x, w, b, padding=(1, 1)) + r)
    np.testing.assert_allclose(results[1], want, rtol=1e-4, atol=1e-4)


# One image whose GEMM is cut into blocks of output channels builds its patch
# matrix once (its input channels split over the threads) for every block.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(padding=0), dict(stride=2, padding=1)])
def test_gemm_path_channel_blocks_share_one_patch_matrix(dtype, kwargs):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 96, 12, 12)).astype(dtype)
    w = (0.1 * rng.standard_normal((96, 96, 3, 3))).astype(dtype)
    b = rng.standard_normal(96).astype(dtype)
    want = conv2d_reference(x, w, b, **{k: (v, v) for k, v in kwargs.items()})
    r = rng.standard_normal(want.shape).astype(dtype)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, b, activation="relu", residual=r, **kwargs))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[1], np.maximum(want + r, 0), **TOL[dtype])


def test_conv2d_winograd_3x3_reads_strided_and_reversed_inputs_and_weights():
    rng = np.random.default_rng(18)
    base = rng.standard_normal((2, 11, 9, 32)).astype(np.float32)
    x = base.transpose(0, 3, 2, 1)[:, ::2, ::-1, :]                 # channels every other, rows reversed
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32).transpose(3, 2, 0, 1)[:, :, ::-1]
    np.testing.assert_allclose(conv.conv2d(x, w, padding=1),
                               conv2d_reference(x, w, padding=(1, 1)), rtol=1e-4, atol=1e-4)


def test_conv2d_winograd_3x3_relu_in_registers_propagates_nan():
    x = np.ones((1, 16, 6, 20), np.float32)
    x[0, 3, 2, 17] = np.nan
    w = -np.ones((16, 16, 3, 3), np.float32)        # every finite output is negative
    got = conv.conv2d(x, w, np.zeros(16, np.float32), padding=1, activation="relu")
    nan = np.isnan(got)
    # a NaN input poisons the 4x4 input windows of the 2x2 tiles it falls in:
    # the outputs the direct kernel marks, and their tile neighbours
    assert nan[:, 1:4, 16:19].all()
    assert (got[~nan] == 0).all() and not np.signbit(got[~nan]).any()


def test_conv2d_direct_3x3_relu_in_registers_propagates_nan():
    x = np.ones((1, 2, 4, 20), np.float32)
    x[0, 1, 2, 17] = np.nan
    w = -np.ones((8, 2, 3, 3), np.float32)          # every finite output is negative
    got = conv.conv2d(x, w, np.zeros(8, np.float32), padding=1, activation="relu")
    nan = np.isnan(got)
    assert nan[:, :, 1:4, 16:19].all() and nan.sum() == 8 * 9
    assert (got[~nan] == 0).all() and not np.signbit(got[~nan]).any()


def test_conv2d_direct_3x3_reads_strided_inputs_and_weights():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 20, 9, 4)).astype(np.float32).transpose(0, 3, 2, 1)[:, :, :, ::2]
    w = rng.standard_normal((3, 3, 4, 8)).astype(np.float32).transpose(3, 2, 0, 1)
    np.testing.assert_allclose(conv.conv2d(x, w, padding=1),
                               conv2d_reference(x, w, padding=(1, 1)), **TOL[np.float32])


def test_conv2d_unbatched_input_and_empty_batch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6, 6))
    w = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_allclose(conv.conv2d(x, w), conv2d_reference(x[None], w)[0], rtol=1e-12)
    assert conv.conv2d(np.empty((0, 3, 6, 6)), w).shape == (0, 2, 4, 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("w_shape, groups", [((16, 3, 3, 3), 1), ((16, 1, 3, 3), 16), ((8, 16, 1, 1), 1)])
def test_conv2d_one_and_two_threads_agree(dtype, w_shape, groups):
    rng = np.random.default_rng(4)
    c = 16 if w_shape[1] * groups == 16 else 3
    x = rng.standard_normal((8, c, 24, 24)).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(conv.conv2d(x, w, b, padding=w_shape[2] // 2, groups=groups,
                                       activation="silu"))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_conv2d_errors():
    x = np.ones((1, 4, 5, 5))
    with pytest.raises(KernelError, match="conv2d: incompatible shapes"):
        conv.conv2d(x, np.ones((2, 3, 3, 3)))                       # channels
    with pytest.raises(KernelError, match="incompatible shapes"):
        conv.conv2d(x, np.ones((3, 2, 3, 3)), groups=2)             # C_out % groups
    with pytest.raises(KernelError, match="incompatible shapes"):
        conv.conv2d(x, np.ones((2, 4, 7, 7)))                       # kernel larger than input
    with pytest.raises(KernelError, match="invalid argument"):
        conv.conv2d(x, np.ones((2, 4, 3, 3)), stride=0)
    with pytest.raises(KernelError, match="dtypes"):
        conv.conv2d(x.astype(np.float32), np.ones((2, 4, 3, 3)))
    with pytest.raises(KernelError, match="incompatible shapes"):
        conv.conv2d(x, np.ones((2, 4, 3, 3)), bias=np.ones(3))
    with pytest.raises(ValueError, match="3-D or 4-D"):
        conv.conv2d(np.ones((5, 5)), np.ones((2, 4, 3, 3)))
    with pytest.raises(TypeError, match="stride"):
        conv.conv2d(x, np.ones((2, 4, 3, 3)), stride=(1, 2, 3))


def test_conv2d_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 11, 10)).astype(np.float32)
    w = rng.standard_normal((9, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(9).astype(np.float32)
    kwargs = dict(stride=(2, 1), padding=(2, 1), dilation=(2, 1), groups=3)
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                      torch.from_numpy(b), **kwargs).numpy()
    np.testing.assert_allclose(conv.conv2d(x, w, b, **kwargs), want, rtol=1e-4, atol=1e-4)


_DEPTHWISE_BITS = """
import sys, numpy as np
from jitcore._runtime.kernels import conv
rng = np.random.default_rng(0)
outs = []
for c, h, k, s in [(24, 30, 3, 1), (24, 30, 5, 2), (40, 9, 3, 2), (16, 14, 3, 1),
                   (16, 28, 3, 2), (8, 7, 3, 1), (6, 56, 3, 1), (20, 4, 3, 1), (24, 4, 3, 2),
                   (40, 17, 3, 2)]:
    x = rng.standard_normal((2, c, h, h)).astype(np.float32)
    w = rng.standard_normal((c, 1, k, k)).astype(np.float32)
    outs.append(conv.conv2d(x, w, padding=k // 2, stride=s, groups=c).ravel())
sys.stdout.write(np.concatenate(outs).tobytes().hex())
"""


def test_depthwise_avx512_and_avx2_give_the_same_bits():
    import os
    import subprocess
    import sys
    if cpu.isa() != "avx512" or os.environ.get("JITCORE_ISA"):
        pytest.skip("needs an AVX-512 CPU and JITCORE_ISA unset")
    runs = [subprocess.run([sys.executable, "-c", _DEPTHWISE_BITS], capture_output=True,
                           text=True, check=True,
                           env={**os.environ, **({"JITCORE_ISA": isa} if isa else {})}).stdout
            for isa in (None, "avx2")]
    assert runs[0] and runs[0] == runs[1]


# 1x1 shapes whose products take each block of the row-major kernel: full 64-column
# panels with a masked tail (156, 113 pixels), a 49-column last panel (7x7), and
# narrow panels of <= 16 / 32 / 48 columns; some rows a multiple of no block height;
# the last two large enough that 2 threads split the product's columns / rows.
POINTWISE_EPILOGUE_SHAPES = [(16, 96, 12, 13), (24, 37, 7, 7), (64, 40, 9, 9),
                             (40, 24, 4, 4), (48, 30, 5, 5), (32, 16, 6, 6), (96, 64, 113, 1),
                             (64, 96, 14, 14), (256, 100, 7, 7)]
ACTIVATIONS = ["none", "relu", "relu6", "hardswish", "silu"]


@pytest.mark.parametrize("c_in, c_out, h, w", POINTWISE_EPILOGUE_SHAPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("residual", [None, "before", "after"])
def test_pointwise_stored_epilogue_is_the_separate_pass_bit_for_bit(c_in, c_out, h, w,
                                                                     activation, residual):
    from jitcore._runtime.kernels import blas
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((1, c_in, h, w)) * 3).astype(np.float32)
    x[0, :, 0, 0] = np.nan                  # NaN through every activation
    wt = rng.standard_normal((c_out, c_in, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(2 * c_out).astype(np.float32)[::2]      # a strided bias
    r = rng.standard_normal((1, c_out, h, w)).astype(np.float32) if residual else None
    kwargs = dict(activation=activation, residual=r,
                  residual_after_activation=residual == "after")
    before = openmp_helpers.get_num_threads()
    try:
        outs = []
        for threads, stored in [(1, True), (2, True), (1, False)]:
            openmp_helpers.set_num_threads(threads)
            previous = blas.set_rowmajor_epilogue(stored)
            try:
                outs.append(conv.conv2d(x, wt, bias, **kwargs))
            finally:
                blas.set_rowmajor_epilogue(previous)
    finally:
        openmp_helpers.set_num_threads(before)
    assert outs[0].tobytes() == outs[1].tobytes() == outs[2].tobytes()
    torch = pytest.importorskip("torch")
    pre = torch.nn.functional.conv2d(torch.from_numpy(x).double(),
                                     torch.from_numpy(wt).double(),
                                     torch.from_numpy(bias.copy()).double())
    if residual == "before":
        pre = pre + torch.from_numpy(r).double()
    act = {"none": lambda t: t, "relu": torch.relu, "relu6": torch.nn.functional.relu6,
           "hardswish": torch.nn.functional.hardswish, "silu": torch.nn.functional.silu}
    want = act[activation](pre)
    if residual == "after":
        want = want + torch.from_numpy(r).double()
    np.testing.assert_allclose(outs[0], want.numpy(), rtol=1e-4, atol=1e-4)


_POINTWISE_BITS = """
import sys, numpy as np
from jitcore._runtime.kernels import conv
rng = np.random.default_rng(0)
outs = []
for c_in, c_out, h, w in %r:
    for act in %r:
        x = rng.standard_normal((1, c_in, h, w)).astype(np.float32)
        wt = rng.standard_normal((c_out, c_in, 1, 1)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        r = rng.standard_normal((1, c_out, h, w)).astype(np.float32)
        outs.append(conv.conv2d(x, wt, b, activation=act, residual=r).ravel())
sys.stdout.write(np.concatenate(outs).tobytes().hex())
""" % (POINTWISE_EPILOGUE_SHAPES, ACTIVATIONS)


def test_pointwise_avx512_and_avx2_give_the_same_bits():
    import os
    import subprocess
    import sys
    if cpu.isa() != "avx512" or os.environ.get("JITCORE_ISA"):
        pytest.skip("needs an AVX-512 CPU and JITCORE_ISA unset")
    runs = [subprocess.run([sys.executable, "-c", _POINTWISE_BITS], capture_output=True,
                           text=True, check=True,
                           env={**os.environ, **({"JITCORE_ISA": isa} if isa else {})}).stdout
            for isa in (None, "avx2")]
    assert runs[0] and runs[0] == runs[1]


# Small maps at batch 3 or more put several images' planes side by side in one GEMM
# (copied plane by plane for a 1x1): each image gets the bits it gets alone, as each
# element is one FMA chain over the channels whichever columns the GEMM has (BLAS, at
# the baseline level, makes no such promise), also from a channel-strided input.
@pytest.mark.parametrize("channel_step", [1, 2])
@pytest.mark.parametrize("size", [3, 4, 7])
def test_batched_pointwise_images_match_each_image_alone(channel_step, size):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 40 * channel_step, size, size)).astype(np.float32)
    x = x[:, ::channel_step]
    w = rng.standard_normal((24, 40, 1, 1)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    r = rng.standard_normal((5, 24, size, size)).astype(np.float32)
    out = conv.conv2d(x, w, b, activation="relu6", residual=r)
    want = np.clip(conv2d_reference(x, w, b) + r, 0, 6)
    np.testing.assert_allclose(out, want, **TOL[np.float32])
    if cpu.isa() != "baseline":
        for i in range(5):
            alone = conv.conv2d(x[i:i + 1], w, b, activation="relu6", residual=r[i:i + 1])
            assert alone.tobytes() == out[i:i + 1].tobytes()


# A strided 1x1 (im2col's patch matrix, then the same GEMM) stores its epilogue too.
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("residual", [None, "before", "after"])
def test_strided_1x1_stored_epilogue_is_the_separate_pass_bit_for_bit(activation, residual):
    from jitcore._runtime.kernels import blas
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((2, 24, 15, 13)) * 3).astype(np.float32)
    wt = rng.standard_normal((40, 24, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(40).astype(np.float32)
    r = rng.standard_normal((2, 40, 8, 7)).astype(np.float32) if residual else None
    kwargs = dict(stride=2, activation=activation, residual=r,
                  residual_after_activation=residual == "after")
    outs = []
    for stored in (True, False):
        previous = blas.set_rowmajor_epilogue(stored)
        try:
            outs.append(conv.conv2d(x, wt, bias, **kwargs))
        finally:
            blas.set_rowmajor_epilogue(previous)
    assert outs[0].tobytes() == outs[1].tobytes()
    pre = conv2d_reference(x, wt, bias, stride=(2, 2)) + (r if residual == "before" else 0)
    act = {"none": lambda v: v, "relu": lambda v: np.maximum(v, 0),
           "relu6": lambda v: np.clip(v, 0, 6),
           "hardswish": lambda v: v * np.clip(v / 6 + 0.5, 0, 1),
           "silu": lambda v: v / (1 + np.exp(-v))}
    want = act[activation](pre) + (r if residual == "after" else 0)
    np.testing.assert_allclose(outs[0], want, **TOL[np.float32])
