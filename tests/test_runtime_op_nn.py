"""Handlers of op_nn (scaled_dot_product_attention, embedding) against the registry's NumPy references."""

import numpy as np
import pytest

from jitcore import ops
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

RNG = np.random.default_rng(11)

SDPA = """graph(%q : Tensor, %k : Tensor, %v : Tensor, %mask : Tensor?):
  %dropout : float = prim::Constant[value={dropout}]()
  %causal : bool = prim::Constant[value={causal}]()
  %scale : {scale}
  %gqa : bool = prim::Constant[value=0]()
  %y : Tensor = aten::scaled_dot_product_attention(%q, %k, %v, %mask, %dropout, %causal, %scale, %gqa)
  return (%y)"""


def _sdpa_graph(causal=False, scale=None, dropout=0.0):
    return SDPA.format(dropout=dropout, causal=int(causal),
                       scale="NoneType = prim::Constant()" if scale is None
                       else f"float = prim::Constant[value={scale}]()")


def _run(text, *args):
    return compile_graph(parse_graph(text), fallback=False)(*args)


def _reference(q, k, v, mask, causal=False, scale=None):
    return ops.get("aten::scaled_dot_product_attention").reference(q, k, v, mask, 0.0, causal,
                                                                  scale, False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind, causal, scale", [
    (None, False, None), ("bool", False, None), ("float", True, 0.5), (None, True, None)])
def test_attention_handler_matches_the_reference(dtype, mask_kind, causal, scale):
    q, k, v = (RNG.standard_normal((2, 3, 5, 4)).astype(dtype) for _ in range(3))
    mask = {None: None, "bool": RNG.random((5, 5)) > 0.2,
            "float": RNG.standard_normal((2, 1, 5, 5)).astype(dtype)}[mask_kind]
    if mask_kind == "bool":
        mask[:, 0] = True
    got = _run(_sdpa_graph(causal, scale), q, k, v, mask)
    want = _reference(q, k, v, mask, causal, scale)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_attention_handler_promotes_mixed_dtypes_and_reads_3d_inputs():
    q = RNG.standard_normal((4, 6, 8)).astype(np.float32)
    k = RNG.standard_normal((4, 7, 8))
    v = RNG.standard_normal((4, 7, 3)).astype(np.float32)
    got = _run(_sdpa_graph(), q, k, v, None)
    want = _reference(q, k, v, None)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_attention_heads_merge_by_permute_and_reshape():
    # the result is laid out (N, L, H, E) in memory, so permute + reshape is a view of it
    text = """graph(%q : Tensor, %k : Tensor, %v : Tensor):
  %none : NoneType = prim::Constant()
  %dropout : float = prim::Constant[value=0.]()
  %false : bool = prim::Constant[value=0]()
  %y : Tensor = aten::scaled_dot_product_attention(%q, %k, %v, %none, %dropout, %false, %none, %false)
  %perm : int[] = prim::Constant[value=[0, 2, 1, 3]]()
  %shape : int[] = prim::Constant[value=[2, 5, 12]]()
  %m : Tensor = aten::permute(%y, %perm)
  %r : Tensor = aten::reshape(%m, %shape)
  return (%r, %y)"""
    q, k, v = (RNG.standard_normal((2, 3, 5, 4)) for _ in range(3))
    merged, heads = _run(text, q, k, v)
    want = _reference(q, k, v, None)
    np.testing.assert_allclose(heads, want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(merged, want.transpose(0, 2, 1, 3).reshape(2, 5, 12),
                               rtol=1e-12, atol=1e-13)


def test_attention_handler_errors_name_the_problem():
    q = np.ones((1, 2, 3, 4))
    with pytest.raises(KernelError, match="dropout_p must be 0"):
        _run(_sdpa_graph(dropout=0.5), q, q, q, None)
    with pytest.raises(KernelError, match="broadcast to the query"):
        _run(_sdpa_graph(), q, np.ones((1, 2, 3, 5)), q, None)


EMBEDDING = """graph(%w : Tensor, %i : Tensor):
  %pad : int = prim::Constant[value=-1]()
  %false : bool = prim::Constant[value=0]()
  %y : Tensor = aten::embedding(%w, %i, %pad, %false, %false)
  return (%y)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_embedding_handler_gathers_rows_like_the_reference(dtype, index_dtype):
    weight = (RNG.standard_normal((10, 4)) * 10).astype(dtype)
    indices = RNG.integers(0, 10, (2, 3)).astype(index_dtype)
    want = ops.get("aten::embedding").reference(weight, indices, -1, False, False)
    got = _run(EMBEDDING, weight, indices)
    assert got.dtype == want.dtype and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, want)
    strided = np.asfortranarray(weight)[::2]
    np.testing.assert_array_equal(_run(EMBEDDING, strided, indices[:, ::2] % 5),
                                  strided[indices[:, ::2] % 5])


def test_embedding_handler_errors_name_the_problem():
    weight = np.ones((10, 4))
    with pytest.raises(KernelError, match="outside"):
        _run(EMBEDDING, weight, np.array([1, 10]))
    with pytest.raises(KernelError, match="outside"):
        _run(EMBEDDING, weight, np.array([-1]))
    with pytest.raises(KernelError, match="int64 or int32"):
        _run(EMBEDDING, weight, np.array([1.0]))
    with pytest.raises(KernelError, match="2-D weight"):
        _run(EMBEDDING, np.ones((10, 4, 2)), np.array([1]))


BATCH_NORM = """graph(%x : Tensor, %w : Tensor?, %b : Tensor?, %rm : Tensor?, %rv : Tensor?, %training : bool):
  %momentum : float = prim::Constant[value=0.1]()
  %eps : float = prim::Constant[value=1e-05]()
  %cudnn : bool = prim::Constant[value=0]()
  %y : Tensor = aten::batch_norm(%x, %w, %b, %rm, %rv, %training, %momentum, %eps, %cudnn)
  return (%y)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training, running", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_with_batch_statistics_matches_the_reference(dtype, training, running, affine):
    # training mode (a runtime flag here) or absent running statistics:
    # normalised by the batch's own statistics, the running ones left alone
    x = (RNG.standard_normal((4, 3, 5, 6)) * 2 + 5).astype(dtype)
    w, b = (RNG.standard_normal(3).astype(dtype) if affine else None for _ in range(2))
    rm, rv = ((RNG.standard_normal(3).astype(dtype), RNG.uniform(1, 2, 3).astype(dtype))
              if running else (None, None))
    saved = (None if rm is None else rm.copy(), None if rv is None else rv.copy())
    got = _run(BATCH_NORM, x, w, b, rm, rv, training)
    want = ops.get("aten::batch_norm").reference(x, w, b, rm, rv, training, 0.1, 1e-5, False)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, want, **tol)
    assert got.dtype == dtype
    if running:
        np.testing.assert_array_equal(rm, saved[0])
        np.testing.assert_array_equal(rv, saved[1])


def test_batch_norm_with_batch_statistics_errors_name_the_problem():
    from jitcore.errors import JitcoreError
    with pytest.raises(JitcoreError, match="at least one value per channel"):
        _run(BATCH_NORM, np.empty((0, 3, 2), np.float32), None, None, None, None, True)
    with pytest.raises(JitcoreError, match="2 or more dims"):
        _run(BATCH_NORM, np.ones(3, np.float32), None, None, None, None, True)
    with pytest.raises(JitcoreError, match="running_var"):
        _run(BATCH_NORM, np.ones((2, 3), np.float32), None, None, np.zeros(3, np.float32), None,
             False)


DROPOUT = """graph(%x : Tensor, %p : float, %train : bool):
  %y : Tensor = aten::dropout(%x, %p, %train)
  return (%y)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_dropout_runs_compiled_and_follows_manual_seed(dtype):
    import jitcore
    ex = compile_graph(parse_graph(DROPOUT), fallback=False)
    x = RNG.standard_normal((64, 300)).astype(dtype)
    jitcore.manual_seed(0)
    first, second = ex(x, 0.25, True), ex(x, 0.25, True)
    jitcore.manual_seed(0)
    np.testing.assert_array_equal(ex(x, 0.25, True), first)
    assert not np.array_equal(first, second)
    kept = first != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_array_equal(first[kept], x[kept] * dtype(1 / 0.75))
    np.testing.assert_array_equal(ex(x, 0.25, False), x)      # eval mode: the input itself


def test_training_dropout_errors_name_the_problem():
    from jitcore.errors import JitcoreError
    ex = compile_graph(parse_graph(DROPOUT), fallback=False)
    with pytest.raises(JitcoreError, match=r"dropout probability must be in \[0, 1\]"):
        ex(np.ones(3, np.float32), 1.5, True)
    with pytest.raises(JitcoreError, match="float32 or float64"):
        ex(np.ones(3, np.int64), 0.5, True)


# ------------------------------------- group/instance norm, 1-D pools, prelu, pad

GROUP_NORM = """graph(%x : Tensor, %w : Tensor?, %b : Tensor?):
  %g : int = prim::Constant[value={groups}]()
  %eps : float = prim::Constant[value=1e-05]()
  %cudnn : bool = prim::Constant[value=0]()
  %y : Tensor = aten::group_norm(%x, %g, %w, %b, %eps, %cudnn)
  return (%y)"""

INSTANCE_NORM = """graph(%x : Tensor, %w : Tensor?, %b : Tensor?, %rm : Tensor?, %rv : Tensor?, %stats : bool):
  %momentum : float = prim::Constant[value=0.1]()
  %eps : float = prim::Constant[value=1e-05]()
  %cudnn : bool = prim::Constant[value=0]()
  %y : Tensor = aten::instance_norm(%x, %w, %b, %rm, %rv, %stats, %momentum, %eps, %cudnn)
  return (%y)"""


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_norm_handler_matches_the_reference_for_strided_and_integer_inputs(dtype):
    ref = ops.get("aten::group_norm").reference
    x = RNG.standard_normal((2, 6, 5, 8)).astype(dtype)[:, :, :, ::2]      # strided
    w, b = RNG.standard_normal(6).astype(dtype), RNG.standard_normal(6).astype(dtype)
    got = _run(GROUP_NORM.format(groups=3), x, w, b)
    want = ref(x, 3, w, b, 1e-5, False)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got, want, **_tol(dtype))
    ints = RNG.integers(-5, 5, (2, 4, 3))
    got = _run(GROUP_NORM.format(groups=2), ints, None, None)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref(ints, 2, None, None, 1e-5, False), rtol=1e-12, atol=1e-12)


def test_group_norm_handler_errors_name_the_problem():
    x = RNG.standard_normal((2, 6, 4))
    with pytest.raises(KernelError, match="num_groups must divide"):
        _run(GROUP_NORM.format(groups=4), x, None, None)
    with pytest.raises(KernelError, match="one value per channel"):
        _run(GROUP_NORM.format(groups=3), x, np.ones(4), None)
    with pytest.raises(KernelError, match=r"\(N, C, ...\)"):
        _run(GROUP_NORM.format(groups=1), np.ones(3), None, None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_handler_matches_the_reference(dtype, use_input_stats):
    ref = ops.get("aten::instance_norm").reference
    x = RNG.standard_normal((2, 3, 4, 5)).astype(dtype)
    w, b = RNG.standard_normal(3).astype(dtype), RNG.standard_normal(3).astype(dtype)
    rm, rv = RNG.standard_normal(3).astype(dtype), RNG.uniform(0.5, 2, 3).astype(dtype)
    got = _run(INSTANCE_NORM, x, w, b, rm, rv, use_input_stats)
    np.testing.assert_allclose(got, ref(x, w, b, rm, rv, use_input_stats, 0.1, 1e-5, False),
                               **_tol(dtype))
    with pytest.raises(KernelError, match="needs running_mean and running_var"):
        _run(INSTANCE_NORM, x, w, b, None, None, False)
    with pytest.raises(KernelError, match="at least one spatial dim"):
        _run(INSTANCE_NORM, x[:, :, 0, 0], w, b, None, None, True)


POOL1D = """graph(%x : Tensor):
  %k : int[] = prim::Constant[value=[{k}]]()
  %s : int[] = prim::Constant[value=[{s}]]()
  %p : int[] = prim::Constant[value=[{p}]]()
  %d : int[] = prim::Constant[value=[{d}]]()
  %ceil : bool = prim::Constant[value={ceil}]()
  %y : Tensor = aten::max_pool1d(%x, %k, %s, %p, %d, %ceil)
  return (%y)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool1d_handler_reads_strided_and_unbatched_inputs(dtype):
    ref = ops.get("aten::max_pool1d").reference
    for x, (k, s, p, d, ceil) in (
            (RNG.standard_normal((2, 3, 20)).astype(dtype)[:, :, ::2], (3, 2, 1, 1, 1)),
            (RNG.standard_normal((3, 11)).astype(dtype), (2, 1, 0, 3, 0)),
            (RNG.standard_normal((6, 3, 9)).astype(dtype).transpose(1, 0, 2), (4, 4, 2, 1, 0))):
        got = _run(POOL1D.format(k=k, s=s, p=p, d=d, ceil=ceil), x)
        np.testing.assert_array_equal(got, ref(x, [k], [s], [p], [d], bool(ceil)))


def test_pool1d_handler_errors_name_the_problem():
    with pytest.raises(KernelError, match="2-D .* or 3-D"):
        _run(POOL1D.format(k=2, s=2, p=0, d=1, ceil=0), np.ones((1, 2, 3, 4)))
    with pytest.raises(KernelError, match="at most half the kernel"):
        _run(POOL1D.format(k=2, s=2, p=2, d=1, ceil=0), np.ones((1, 2, 8)))
    with pytest.raises(KernelError, match="window is larger"):
        _run(POOL1D.format(k=5, s=1, p=0, d=1, ceil=0), np.ones((1, 2, 3)))


ADAPTIVE_MAX = """graph(%x : Tensor):
  %size : int[] = prim::Constant[value=[{h}, {w}]]()
  %y : Tensor, %i : Tensor = aten::adaptive_max_pool2d(%x, %size)
  return (%y, %i)"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_max_pool2d_handler_returns_values_and_indices(dtype):
    ref = ops.get("aten::adaptive_max_pool2d").reference
    x = RNG.standard_normal((2, 3, 9, 7)).astype(dtype)
    x[0, 0, 0, 0] = np.nan
    values, indices = _run(ADAPTIVE_MAX.format(h=4, w=3), x)
    want_values, want_indices = ref(x, [4, 3])
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(indices, want_indices)
    assert indices.dtype == np.int64
    with pytest.raises(KernelError, match="output_size must be positive"):
        _run(ADAPTIVE_MAX.format(h=0, w=3), x)


PAD = """graph(%x : Tensor, %pad : int[]):
  %mode : str = prim::Constant[value="{mode}"]()
  %value : {value}
  %y : Tensor = aten::pad(%x, %pad, %mode, %value)
  return (%y)"""


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_pad_handler_matches_the_reference_with_runtime_pad_lists(mode):
    ref = ops.get("aten::pad").reference
    text = PAD.format(mode=mode, value="float = prim::Constant[value=2.5]()" if mode == "constant"
                      else "NoneType = prim::Constant()")
    x = RNG.standard_normal((2, 3, 6, 10))[:, :, :, ::2]
    for pad in ([1, 2, 0, 0], [2, 0, 1, 3], [-1, 2, 1, 1]):
        got = _run(text, x, pad)
        np.testing.assert_array_equal(got, ref(x, pad, mode, 2.5 if mode == "constant" else None))


def test_pad_handler_errors_name_the_problem():
    text = PAD.format(mode="reflect", value="NoneType = prim::Constant()")
    x = np.ones((2, 3, 4))
    with pytest.raises(KernelError, match="pairs"):
        _run(text, x, [1, 1, 1])
    with pytest.raises(KernelError, match="must be less than"):
        _run(text, x, [4, 1])
    with pytest.raises(KernelError, match=r"\(k\+1\)-d or \(k\+2\)-d"):
        _run(text, x, [1, 1, 1, 1, 1, 1])


PRELU = """graph(%x : Tensor, %w : Tensor):
  %y : Tensor = aten::prelu(%x, %w)
  return (%y)"""


def test_prelu_handler_matches_the_reference_and_promotes():
    ref = ops.get("aten::prelu").reference
    x = RNG.standard_normal((2, 4, 3, 6)).astype(np.float32)[:, :, :, ::2]
    w = RNG.uniform(0, 0.5, 4).astype(np.float32)
    np.testing.assert_array_equal(_run(PRELU, x, w), ref(x, w))
    got = _run(PRELU, x, w.astype(np.float64))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref(x, w.astype(np.float64)), rtol=1e-12)
    with pytest.raises(KernelError, match="one per channel"):
        _run(PRELU, x, np.ones(3, np.float32))
