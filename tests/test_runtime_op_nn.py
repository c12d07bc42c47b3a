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
