"""Fused scaled dot-product attention (contract in ``attention.pxd``).

One *task* is one batch entry (for a transformer: one image of the batch and
one head).  Its ``L x S`` score tile is produced by one GEMM (``scale * Q
K^T``, the scale folded into BLAS's alpha), masked, turned into
probabilities row by row while it is in cache, and multiplied by ``V``
straight into the output, whose row stride the caller chooses: writing heads
interleaved (``(N, L, H, Ev)`` memory seen as ``(N, H, L, Ev)``) makes the
usual ``permute + reshape`` that merges heads a free view.  Tasks are split
over OpenMP threads, each with its own score tile.
"""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdlib cimport malloc, free

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM,
    JC_ERR_UNSUPPORTED, DT_FLOAT32, DT_BOOL, itemsize_of, view_of,
)
from jitcore._runtime.kernels.strided cimport is_real_dtype
from jitcore._runtime.kernels.blas cimport (
    BlasOperand, gemm, blas_operand, release_operand, trailing_matrix,
)
from jitcore._runtime.kernels.softmax cimport softmax_line
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()

# Parallel regions hold at most this many per-thread results.
cdef enum:
    MAX_PARTS = 64


ctypedef struct AttentionProblem:
    View q, k, v, out
    View mask               # aligned to (batch..., L, S) when has_mask
    bint has_mask, mask_is_bool, is_causal
    int nb                  # number of batch dims
    Py_ssize_t batch, L, S, E, Ev
    Py_ssize_t group        # query heads per key/value head (dim nb - 1)
    double scale


# ---------------------------------------------------------------- set-up

cdef bint align_to(const View* src, int ndim, const Py_ssize_t* shape, int group_dim,
                   Py_ssize_t* group, View* dst) noexcept nogil:
    """``dst`` = ``src`` right-aligned to ``shape``: missing and size-1 dims get
    zero strides.  Dim ``group_dim`` may instead divide ``shape`` (grouped
    heads) when ``group`` is not NULL; the quotient is stored there."""
    cdef int d, j
    if src.ndim > ndim:
        return False
    dst.data = src.data
    dst.dtype = src.dtype
    dst.ndim = ndim
    for d in range(ndim):
        j = d - (ndim - src.ndim)
        dst.shape[d] = shape[d]
        if j < 0 or (src.shape[j] == 1 and shape[d] != 1):
            dst.strides[d] = 0
        elif src.shape[j] == shape[d]:
            dst.strides[d] = src.strides[j]
        elif group != NULL and d == group_dim and src.shape[j] > 0 \
                and shape[d] % src.shape[j] == 0:
            group[0] = shape[d] // src.shape[j]
            dst.strides[d] = src.strides[j]
        else:
            return False
    return True


cdef Status prepare(const View* q, const View* k, const View* v, const View* mask,
                    bint is_causal, double scale, bint gqa, const View* out,
                    AttentionProblem* ap) noexcept nogil:
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t k_group = 1, v_group = 1
    cdef int nb, d
    if not is_real_dtype(q.dtype) or k.dtype != q.dtype or v.dtype != q.dtype \
            or out.dtype != q.dtype:
        return JC_ERR_DTYPE
    if mask != NULL and mask.dtype != DT_BOOL and mask.dtype != q.dtype:
        return JC_ERR_DTYPE
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or out.ndim != q.ndim:
        return JC_ERR_SHAPE
    nb = q.ndim - 2
    ap.nb = nb
    ap.L = q.shape[nb]
    ap.E = q.shape[nb + 1]
    ap.S = k.shape[k.ndim - 2]
    ap.Ev = v.shape[v.ndim - 1]
    if k.shape[k.ndim - 1] != ap.E or v.shape[v.ndim - 2] != ap.S:
        return JC_ERR_SHAPE
    ap.batch = 1
    for d in range(nb):
        shape[d] = q.shape[d]
        ap.batch *= q.shape[d]
        if out.shape[d] != q.shape[d]:
            return JC_ERR_SHAPE
    if out.shape[nb] != ap.L or out.shape[nb + 1] != ap.Ev:
        return JC_ERR_SHAPE
    # keys and values: batch dims aligned to the query's, last two kept
    shape[nb] = ap.S
    shape[nb + 1] = ap.E
    if not align_to(k, q.ndim, shape, nb - 1, &k_group if gqa else NULL, &ap.k):
        return JC_ERR_SHAPE
    shape[nb + 1] = ap.Ev
    if not align_to(v, q.ndim, shape, nb - 1, &v_group if gqa else NULL, &ap.v):
        return JC_ERR_SHAPE
    if k_group != v_group:
        return JC_ERR_SHAPE
    ap.group = k_group
    ap.has_mask = mask != NULL
    ap.mask_is_bool = mask != NULL and mask.dtype == DT_BOOL
    if mask != NULL:
        shape[nb] = ap.L
        shape[nb + 1] = ap.S
        if not align_to(mask, q.ndim, shape, -1, NULL, &ap.mask):
            return JC_ERR_SHAPE
    ap.q = q[0]
    ap.out = out[0]
    ap.is_causal = is_causal
    ap.scale = scale
    if ap.batch == 0 or ap.L == 0 or ap.Ev == 0:
        return JC_OK            # nothing to write: any output layout will do
    if ap.L > 1 and ap.Ev > 0 and (out.strides[nb] % itemsize_of(q.dtype) != 0
                                   or out.strides[nb] // itemsize_of(q.dtype) < ap.Ev):
        return JC_ERR_UNSUPPORTED
    if ap.Ev > 1 and out.strides[nb + 1] != itemsize_of(q.dtype):
        return JC_ERR_UNSUPPORTED
    return JC_OK


cdef inline Py_ssize_t batch_offset(const View* v, int nb, const Py_ssize_t* batch_shape,
                                    Py_ssize_t index, Py_ssize_t group) noexcept nogil:
    """Byte offset of batch entry ``index`` (over ``batch_shape``) in ``v``;
    the coordinate of dim ``nb - 1`` is divided by ``group`` (grouped heads)."""
    cdef Py_ssize_t offset = 0, coord
    cdef int d
    for d in range(nb - 1, -1, -1):
        coord = index % batch_shape[d]
        index //= batch_shape[d]
        if d == nb - 1:
            coord //= group
        offset += coord * v.strides[d]
    return offset


# ---------------------------------------------------------------- one task

cdef void mask_row(const AttentionProblem* ap, real* row, Py_ssize_t i,
                   const char* mask_tile) noexcept nogil:
    """Apply the causal rule and the explicit mask to score row ``i``."""
    cdef Py_ssize_t j
    cdef Py_ssize_t ms = ap.mask.strides[ap.nb + 1]
    cdef const char* m
    if ap.is_causal:
        for j in range(i + 1, ap.S):
            row[j] = -INFINITY
    if not ap.has_mask:
        return
    m = mask_tile + i * ap.mask.strides[ap.nb]
    if ap.mask_is_bool:
        for j in range(ap.S):
            if not m[j * ms]:
                row[j] = -INFINITY
    else:
        for j in range(ap.S):
            row[j] += (<const real*>(m + j * ms))[0]


cdef Status run_task(const AttentionProblem* ap, Py_ssize_t index, real* scores) noexcept nogil:
    cdef Py_ssize_t isz = sizeof(real)
    cdef Py_ssize_t ld_scores = ap.S if ap.S > 0 else 1
    cdef Py_ssize_t i, ld_out
    cdef View qm, km, vm
    cdef BlasOperand oq, ok, ov
    cdef const char* mask_tile = NULL
    cdef real* out_tile
    cdef Status status
    qm = trailing_matrix(&ap.q, ap.nb, batch_offset(&ap.q, ap.nb, ap.q.shape, index, 1))
    km = trailing_matrix(&ap.k, ap.nb, batch_offset(&ap.k, ap.nb, ap.q.shape, index, ap.group))
    vm = trailing_matrix(&ap.v, ap.nb, batch_offset(&ap.v, ap.nb, ap.q.shape, index, ap.group))
    out_tile = <real*>(ap.out.data + batch_offset(&ap.out, ap.nb, ap.q.shape, index, 1))
    ld_out = ap.out.strides[ap.nb] // isz if ap.L > 1 else ap.Ev
    if ld_out < 1:
        ld_out = 1
    oq.owned = ok.owned = ov.owned = NULL
    status = blas_operand(&qm, &oq)
    if status == JC_OK:
        status = blas_operand(&km, &ok)
    if status == JC_OK:
        status = blas_operand(&vm, &ov)
    if status == JC_OK:
        # scores = scale * Q K^T: K's stored layout decides the transpose flag
        status = gemm(oq.trans, not ok.trans, ap.L, ap.S, ap.E, <real>ap.scale,
                      <const real*>oq.data, oq.ld, <const real*>ok.data, ok.ld,
                      <real>0, scores, ld_scores)
    if status == JC_OK and ap.S > 0:
        if ap.has_mask:
            mask_tile = ap.mask.data + batch_offset(&ap.mask, ap.nb, ap.q.shape, index, 1)
        for i in range(ap.L):
            mask_row(ap, scores + i * ld_scores, i, mask_tile)
            softmax_line(scores + i * ld_scores, ap.S)
    if status == JC_OK:
        status = gemm(False, ov.trans, ap.L, ap.Ev, ap.S, <real>1, scores, ld_scores,
                      <const real*>ov.data, ov.ld, <real>0, out_tile, ld_out)
    release_operand(&oq)
    release_operand(&ok)
    release_operand(&ov)
    return status


cdef Status run_tasks_strided(const AttentionProblem* ap, Py_ssize_t first, Py_ssize_t step,
                              real* scores) noexcept nogil:
    cdef Py_ssize_t index = first
    cdef Status status
    while index < ap.batch:
        status = run_task(ap, index, scores)
        if status != JC_OK:
            return status
        index += step
    return JC_OK


cdef Status run_attention(const AttentionProblem* ap, real* sample) noexcept nogil:
    cdef Py_ssize_t tile = ap.L * (ap.S if ap.S > 0 else 1)
    cdef int nt = threads_for(ap.batch * ap.L * ap.S * (ap.E + ap.Ev + 1))
    cdef int part
    cdef real* scratch
    cdef Status status = JC_OK
    cdef Status part_status[MAX_PARTS]
    if ap.batch == 0 or ap.L == 0 or ap.Ev == 0:
        return JC_OK
    if nt > ap.batch:
        nt = <int>ap.batch
    if nt > MAX_PARTS:
        nt = MAX_PARTS
    if nt < 1:
        nt = 1
    scratch = <real*>malloc(nt * tile * sizeof(real))
    if scratch == NULL:
        return JC_ERR_OOM
    if nt == 1:
        status = run_tasks_strided(ap, 0, 1, scratch)
    else:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            part_status[part] = run_tasks_strided(ap, part, nt, scratch + part * tile)
        for part in range(nt):
            if part_status[part] != JC_OK:
                status = part_status[part]
    free(scratch)
    return status


cdef Status attention_kernel(const View* q, const View* k, const View* v,
                             const View* mask, bint is_causal, double scale, bint gqa,
                             View* out) noexcept nogil:
    cdef AttentionProblem ap
    cdef Status status = prepare(q, k, v, mask, is_causal, scale, gqa, out, &ap)
    if status != JC_OK:
        return status
    if q.dtype == DT_FLOAT32:
        return run_attention(&ap, <float*>NULL)
    return run_attention(&ap, <double*>NULL)


# ---------------------------------------------------------------- Python

def scaled_dot_product_attention(query, key, value, attn_mask=None, bint is_causal=False,
                                 scale=None, bint enable_gqa=False):
    """``softmax(scale * query @ key^T + mask) @ value`` in one fused kernel.

    Parameters
    ----------
    query : ndarray, shape (..., L, E)
        float32 or float64, any strides.
    key : ndarray, shape (..., S, E)
    value : ndarray, shape (..., S, Ev)
        ``key`` and ``value`` have ``query``'s dtype; their leading dims
        broadcast to ``query``'s.
    attn_mask : ndarray, optional
        Broadcastable to (..., L, S): bool (False masks a pair out) or float
        of ``query``'s dtype (added to the scores).
    is_causal : bool
        Mask out keys after the query's position.
    scale : float, optional
        Defaults to ``1 / sqrt(E)``.
    enable_gqa : bool
        Let ``key``/``value`` have fewer heads (dim -3) than ``query``.

    Returns
    -------
    ndarray, shape (..., L, Ev)

    Raises
    ------
    ValueError
        For operands of rank below 2.
    jitcore.KernelError
        For mismatched shapes or dtypes.
    """
    cdef cnp.ndarray qq = np.asarray(query)
    cdef cnp.ndarray kk = np.asarray(key)
    cdef cnp.ndarray vv = np.asarray(value)
    cdef cnp.ndarray mm = None if attn_mask is None else np.asarray(attn_mask)
    if qq.ndim < 2 or kk.ndim < 2 or vv.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need rank >= 2, "
                         f"got shapes {(<object>qq).shape}, {(<object>kk).shape}, {(<object>vv).shape}")
    cdef double s = 1.0 / np.sqrt((<object>qq).shape[qq.ndim - 1]) if scale is None else float(scale)
    cdef cnp.ndarray out = np.empty(tuple((<object>qq).shape[:qq.ndim - 1]) + ((<object>vv).shape[vv.ndim - 1],),
                                    dtype=qq.dtype)
    cdef View vq = view_of(qq), vk = view_of(kk), vv_ = view_of(vv), vo = view_of(out)
    cdef View vm
    cdef const View* pm = NULL
    cdef Status status
    if mm is not None:
        vm = view_of(mm)
        pm = &vm
    with nogil:
        status = attention_kernel(&vq, &vk, &vv_, pm, is_causal, s, enable_gqa, &vo)
    raise_for_status(status, "scaled_dot_product_attention",
                     f"query: {(<object>qq).shape} {qq.dtype}, key: {(<object>kk).shape} {kk.dtype}, "
                     f"value: {(<object>vv).shape} {vv.dtype}"
                     + ("" if mm is None else f", attn_mask: {(<object>mm).shape} {mm.dtype}"))
    return out
