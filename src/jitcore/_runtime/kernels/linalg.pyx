"""Matrix products (matmul, mm, bmm, linear, addmm) with a fused epilogue.

Every product is reduced to one *batched problem*: views ``a`` (batch..., m,
k), ``b`` (batch..., k, n) and ``c`` (batch..., m, n) whose batch dims are
already broadcast (zero strides).  When ``b`` does not vary over the batch
and ``a`` and ``c`` walk their batch and row dims with one stride, the batch
folds into the rows and a single GEMM runs (``linear`` on a 3-D input); else
one GEMM runs per batch entry.  The epilogue is applied tile by tile right
after BLAS wrote each tile (see ``epilogue.pxd``).  Kernel contracts are in
``linalg.pxd``; the ``def`` functions are thin wrappers for tests and eager use.
"""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport uintptr_t

from jitcore._runtime.kernels.view cimport (
    View, Status, real, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE,
    JC_ERR_UNSUPPORTED, DT_FLOAT32, itemsize_of, view_of,
)
from jitcore._runtime.kernels.strided cimport (
    is_real_dtype, extent, collapse_dims, unravel_offset, same_shape, shape_equals,
)
from jitcore._runtime.kernels.epilogue cimport (
    Epilogue, TileEpilogue, ACT_NONE, ACT_COUNT, epilogue_is_empty, apply_epilogue_parallel,
    activation_code, activation_codes,
)
from jitcore._runtime.kernels.blas cimport (
    BlasOperand, gemm, blas_operand, release_operand, operand_row, trailing_matrix,
)
from jitcore._runtime.kernels.status_error cimport raise_for_status

EPILOGUE_ACTIVATIONS = frozenset(activation_codes()) - {"none"}
"""The activations a GEMM/conv epilogue applies in place: unary kernel names
(``elementwise.UNARY_OPS``), which the epilogue fuser matches against an op's
registry ``kernel`` (``passes/fuse_epilogues.py``)."""

cnp.import_array()

# Rows of the output are produced in tiles of about this many bytes, so the
# epilogue finds each tile still in L2 right after BLAS wrote it.
cdef Py_ssize_t EPILOGUE_TILE_BYTES = 256 * 1024


ctypedef struct BatchedProblem:
    View a          # (batch..., m, k)
    View b          # (batch..., k, n)
    View c          # (batch..., m, n), the output
    View r          # residual laid out like c (valid when has_residual)
    bint has_residual
    int nb          # number of batch dims


# ----------------------------------------------------------------- validation

cdef Status check_epilogue(const Epilogue* ep, int dtype, const View* out,
                           Py_ssize_t bias_length) noexcept nogil:
    """Validate an epilogue against the output it will be applied to."""
    if ep == NULL:
        return JC_OK
    if ep.activation < ACT_NONE or ep.activation >= ACT_COUNT:
        return JC_ERR_VALUE
    if ep.bias != NULL:
        if ep.bias.dtype != dtype:
            return JC_ERR_DTYPE
        if ep.bias.ndim != 1 or ep.bias.shape[0] != bias_length:
            return JC_ERR_SHAPE
    if ep.residual != NULL:
        if ep.residual.dtype != dtype:
            return JC_ERR_DTYPE
        if not same_shape(ep.residual, out):
            return JC_ERR_SHAPE
    return JC_OK


cdef inline Status check_dtypes(const View* a, const View* b, const View* out) noexcept nogil:
    if not is_real_dtype(a.dtype) or b.dtype != a.dtype or out.dtype != a.dtype:
        return JC_ERR_DTYPE
    return JC_OK


# ------------------------------------------------------------ problem set-up

cdef inline void put_dim(View* v, int d, Py_ssize_t size, Py_ssize_t stride) noexcept nogil:
    v.shape[d] = size
    v.strides[d] = stride if size != 1 else 0


cdef Status expand_matmul(const View* a, const View* b, const View* out,
                          const View* residual, BatchedProblem* p) noexcept nogil:
    """Describe ``np.matmul(a, b) -> out`` as a batched problem (``np.matmul`` rules)."""
    cdef int a_batch, b_batch, nb, d, da, db, dout
    cdef Py_ssize_t m, k, k2, n, size
    cdef Py_ssize_t expected[MAX_DIMS]
    cdef int out_ndim
    if a.ndim < 1 or b.ndim < 1:
        return JC_ERR_SHAPE
    a_batch = a.ndim - 2 if a.ndim > 1 else 0
    b_batch = b.ndim - 2 if b.ndim > 1 else 0
    nb = a_batch if a_batch > b_batch else b_batch
    m = a.shape[a.ndim - 2] if a.ndim > 1 else 1
    k = a.shape[a.ndim - 1]
    k2 = b.shape[b.ndim - 2] if b.ndim > 1 else b.shape[0]
    n = b.shape[b.ndim - 1] if b.ndim > 1 else 1
    if k != k2:
        return JC_ERR_SHAPE
    # Broadcast the batch dims, right-aligned.
    for d in range(nb):
        da = d - (nb - a_batch)
        db = d - (nb - b_batch)
        size = 1
        if da >= 0:
            size = a.shape[da]
        if db >= 0 and b.shape[db] != 1:
            if size != 1 and size != b.shape[db]:
                return JC_ERR_SHAPE
            size = b.shape[db]
        expected[d] = size
        put_dim(&p.a, d, 1, 0)
        put_dim(&p.b, d, 1, 0)
        if da >= 0:
            put_dim(&p.a, d, a.shape[da], a.strides[da])
        if db >= 0:
            put_dim(&p.b, d, b.shape[db], b.strides[db])
        # broadcast: a unit dim (stride already 0) stretches to the batch size
        p.a.shape[d] = size
        p.b.shape[d] = size
    out_ndim = nb
    if a.ndim > 1:
        expected[out_ndim] = m
        out_ndim += 1
    if b.ndim > 1:
        expected[out_ndim] = n
        out_ndim += 1
    if not shape_equals(out, expected, out_ndim):
        return JC_ERR_SHAPE
    # The matrix dims; a 1-D operand becomes a row (a) or a column (b).
    if a.ndim > 1:
        put_dim(&p.a, nb, m, a.strides[a.ndim - 2])
    else:
        put_dim(&p.a, nb, 1, 0)
    put_dim(&p.a, nb + 1, k, a.strides[a.ndim - 1])
    if b.ndim > 1:
        put_dim(&p.b, nb, k, b.strides[b.ndim - 2])
        put_dim(&p.b, nb + 1, n, b.strides[b.ndim - 1])
    else:
        put_dim(&p.b, nb, k, b.strides[0])
        put_dim(&p.b, nb + 1, 1, 0)
    p.a.data = a.data
    p.b.data = b.data
    p.a.dtype = a.dtype
    p.b.dtype = b.dtype
    p.a.ndim = nb + 2
    p.b.ndim = nb + 2
    p.nb = nb
    expand_output(out, a.ndim > 1, b.ndim > 1, nb, &p.c)
    p.has_residual = residual != NULL
    if residual != NULL:
        expand_output(residual, a.ndim > 1, b.ndim > 1, nb, &p.r)
    return JC_OK


cdef void expand_output(const View* out, bint has_rows, bint has_cols, int nb,
                        View* c) noexcept nogil:
    """Lay an output shaped like matmul's result out as (batch..., m, n)."""
    cdef int d
    for d in range(nb):
        put_dim(c, d, out.shape[d], out.strides[d])
    d = nb
    if has_rows:
        put_dim(c, nb, out.shape[d], out.strides[d])
        d += 1
    else:
        put_dim(c, nb, 1, 0)
    if has_cols:
        put_dim(c, nb + 1, out.shape[d], out.strides[d])
    else:
        put_dim(c, nb + 1, 1, 0)
    c.data = out.data
    c.dtype = out.dtype
    c.ndim = nb + 2


cdef bint is_batch_invariant(const View* v, int nb) noexcept nogil:
    cdef int d
    for d in range(nb):
        if v.shape[d] != 1 and v.strides[d] != 0:
            return False
    return True


cdef bint fold_batch_into_rows(BatchedProblem* p) noexcept nogil:
    """Turn (batch, m, k) @ (k, n) into one (batch*m, k) @ (k, n) when strides allow."""
    cdef Py_ssize_t rows, a_stride, c_stride, r_stride = 0
    cdef int nb = p.nb
    if nb == 0 or not is_batch_invariant(&p.b, nb):
        return False
    if not collapse_dims(&p.a, 0, nb + 1, &rows, &a_stride):
        return False
    if not collapse_dims(&p.c, 0, nb + 1, &rows, &c_stride):
        return False
    if p.has_residual and not collapse_dims(&p.r, 0, nb + 1, &rows, &r_stride):
        return False
    to_matrix(&p.a, nb, rows, a_stride)
    to_matrix(&p.b, nb, p.b.shape[nb], p.b.strides[nb])
    to_matrix(&p.c, nb, rows, c_stride)
    if p.has_residual:
        to_matrix(&p.r, nb, rows, r_stride)
    p.nb = 0
    return True


cdef inline void to_matrix(View* v, int nb, Py_ssize_t rows, Py_ssize_t row_stride) noexcept nogil:
    v.shape[0] = rows
    v.strides[0] = row_stride
    v.shape[1] = v.shape[nb + 1]
    v.strides[1] = v.strides[nb + 1]
    v.ndim = 2


cdef inline View matrix_at(const View* v, int nb, Py_ssize_t index) noexcept nogil:
    """The 2-D matrix at flat batch ``index`` of a (batch..., rows, cols) view."""
    return trailing_matrix(v, nb, unravel_offset(v, 0, nb, index))


cdef inline bint output_leading_dim(const View* c, Py_ssize_t* ldc) noexcept nogil:
    """The leading dimension of a row-major output matrix, False if it is not one."""
    cdef Py_ssize_t isz = itemsize_of(c.dtype)
    if (<uintptr_t>c.data) % isz != 0:
        return False
    if c.shape[1] > 1 and c.strides[1] != isz:
        return False
    if c.shape[0] <= 1:
        ldc[0] = c.shape[1] if c.shape[1] > 1 else 1
        return True
    if c.strides[0] <= 0 or c.strides[0] % isz != 0 or c.strides[0] // isz < c.shape[1]:
        return False
    ldc[0] = c.strides[0] // isz
    return True


# ------------------------------------------------------------------ execution

cdef Status gemm_tiles(const BlasOperand* oa, const BlasOperand* ob,
                       Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, real alpha,
                       real* c, Py_ssize_t ldc, const TileEpilogue* t) noexcept nogil:
    """``C = alpha op(A) op(B)`` then the epilogue, one row tile at a time."""
    cdef Py_ssize_t isz = sizeof(real)
    cdef Py_ssize_t tile_rows, r0, rows
    cdef TileEpilogue tile
    cdef Status status
    if epilogue_is_empty(t):
        return gemm(oa.trans, ob.trans, m, n, k, alpha, <const real*>oa.data, oa.ld,
                    <const real*>ob.data, ob.ld, <real>0, c, ldc)
    tile_rows = EPILOGUE_TILE_BYTES // (n * isz) if n > 0 else m
    if tile_rows < 1:
        tile_rows = 1
    r0 = 0
    while r0 < m:
        rows = tile_rows if r0 + tile_rows <= m else m - r0
        status = gemm(oa.trans, ob.trans, rows, n, k, alpha,
                      <const real*>operand_row(oa, r0, isz), oa.ld,
                      <const real*>ob.data, ob.ld, <real>0, c + r0 * ldc, ldc)
        if status != JC_OK:
            return status
        tile = t[0]
        if tile.addend != NULL:
            tile.addend = t.addend + r0 * t.addend_row_stride
        if tile.residual != NULL:
            tile.residual = t.residual + r0 * t.residual_row_stride
        apply_epilogue_parallel(c + r0 * ldc, rows, n, ldc, &tile)
        r0 += rows
    return JC_OK


cdef Status run_problem(BatchedProblem* p, const TileEpilogue* base, real alpha) noexcept nogil:
    """Run a batched problem: one GEMM (folded) or one per batch entry."""
    cdef int nb
    cdef Py_ssize_t batch, index, m, n, k, ldc
    cdef View a2, b2, c2, r2
    cdef BlasOperand oa, ob
    cdef bint shared_b
    cdef TileEpilogue t = base[0]
    cdef Status status = JC_OK
    fold_batch_into_rows(p)
    nb = p.nb
    batch = extent(&p.c, 0, nb)
    m = p.c.shape[nb]
    n = p.c.shape[nb + 1]
    k = p.a.shape[nb + 1]
    if batch == 0 or m == 0 or n == 0:
        return JC_OK
    shared_b = is_batch_invariant(&p.b, nb)
    ob.owned = NULL
    if shared_b:
        b2 = matrix_at(&p.b, nb, 0)
        status = blas_operand(&b2, &ob)
        if status != JC_OK:
            return status
    for index in range(batch):
        c2 = matrix_at(&p.c, nb, index)
        if not output_leading_dim(&c2, &ldc):
            status = JC_ERR_UNSUPPORTED
            break
        if not shared_b:
            b2 = matrix_at(&p.b, nb, index)
            status = blas_operand(&b2, &ob)
            if status != JC_OK:
                break
        a2 = matrix_at(&p.a, nb, index)
        status = blas_operand(&a2, &oa)
        if status != JC_OK:
            break
        if p.has_residual:
            r2 = matrix_at(&p.r, nb, index)
            t.residual = r2.data
            t.residual_row_stride = r2.strides[0]
            t.residual_col_stride = r2.strides[1]
        status = gemm_tiles(&oa, &ob, m, n, k, alpha, <real*>c2.data, ldc, &t)
        release_operand(&oa)
        if not shared_b:
            release_operand(&ob)
        if status != JC_OK:
            break
    if shared_b:
        release_operand(&ob)
    return status


cdef void tile_epilogue_of(const Epilogue* ep, TileEpilogue* t) noexcept nogil:
    """Resolve a caller's epilogue to tile pointers (bias along the columns)."""
    t.addend = NULL
    t.addend_row_stride = 0
    t.addend_col_stride = 0
    t.addend_scale = 1.0
    t.activation = ACT_NONE
    t.residual = NULL
    t.residual_row_stride = 0
    t.residual_col_stride = 0
    t.residual_after_activation = False
    if ep == NULL:
        return
    t.activation = ep.activation
    t.residual_after_activation = ep.residual_after_activation
    if ep.bias != NULL:
        t.addend = ep.bias.data
        t.addend_col_stride = ep.bias.strides[0]
    if ep.residual != NULL:
        # the real pointer is set per batch entry by run_problem
        t.residual = ep.residual.data


cdef Status dispatch(BatchedProblem* p, const TileEpilogue* t, double alpha) noexcept nogil:
    if p.c.dtype == DT_FLOAT32:
        return run_problem[float](p, t, <float>alpha)
    return run_problem[double](p, t, alpha)


# -------------------------------------------------------------------- kernels

cdef Status matmul_kernel(const View* a, const View* b, View* out,
                   const Epilogue* ep) noexcept nogil:
    cdef BatchedProblem p
    cdef TileEpilogue t
    cdef Status status = check_dtypes(a, b, out)
    if status != JC_OK:
        return status
    status = expand_matmul(a, b, out, ep.residual if ep != NULL else NULL, &p)
    if status != JC_OK:
        return status
    status = check_epilogue(ep, out.dtype, out, p.b.shape[p.nb + 1])
    if status != JC_OK:
        return status
    tile_epilogue_of(ep, &t)
    return dispatch(&p, &t, 1.0)


cdef Status mm_kernel(const View* a, const View* b, View* out,
               const Epilogue* ep) noexcept nogil:
    if a.ndim != 2 or b.ndim != 2:
        return JC_ERR_SHAPE
    return matmul_kernel(a, b, out, ep)


cdef Status bmm_kernel(const View* a, const View* b, View* out,
                const Epilogue* ep) noexcept nogil:
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        return JC_ERR_SHAPE
    return matmul_kernel(a, b, out, ep)


cdef Status linear_kernel(const View* x, const View* weight, View* out,
                   const Epilogue* ep) noexcept nogil:
    cdef View weight_t
    if weight.ndim != 2 or x.ndim < 1:
        return JC_ERR_SHAPE
    # weight.T as a view: swapped shape and strides, no copy (BLAS's 'T').
    weight_t = weight[0]
    weight_t.shape[0] = weight.shape[1]
    weight_t.shape[1] = weight.shape[0]
    weight_t.strides[0] = weight.strides[1]
    weight_t.strides[1] = weight.strides[0]
    return matmul_kernel(x, &weight_t, out, ep)


cdef Status addmm_kernel(const View* input, const View* a, const View* b,
                  double beta, double alpha, View* out,
                  const Epilogue* ep) noexcept nogil:
    cdef BatchedProblem p
    cdef TileEpilogue t
    cdef Py_ssize_t m, n
    cdef Status status
    if a.ndim != 2 or b.ndim != 2 or input.ndim > 2:
        return JC_ERR_SHAPE
    status = check_dtypes(a, b, out)
    if status != JC_OK:
        return status
    if input.dtype != out.dtype:
        return JC_ERR_DTYPE
    if ep != NULL and ep.bias != NULL:
        return JC_ERR_UNSUPPORTED
    status = expand_matmul(a, b, out, ep.residual if ep != NULL else NULL, &p)
    if status != JC_OK:
        return status
    status = check_epilogue(ep, out.dtype, out, 0)
    if status != JC_OK:
        return status
    m = a.shape[0]
    n = b.shape[1]
    # ``input`` broadcasts to (m, n), right-aligned, through zero strides.
    if input.ndim == 2 and (input.shape[0] != 1 and input.shape[0] != m):
        return JC_ERR_SHAPE
    if input.ndim >= 1 and (input.shape[input.ndim - 1] != 1
                            and input.shape[input.ndim - 1] != n):
        return JC_ERR_SHAPE
    tile_epilogue_of(ep, &t)
    if beta != 0:
        t.addend = input.data
        t.addend_scale = beta
        if input.ndim == 2 and input.shape[0] != 1:
            t.addend_row_stride = input.strides[0]
        if input.ndim >= 1 and input.shape[input.ndim - 1] != 1:
            t.addend_col_stride = input.strides[input.ndim - 1]
    return dispatch(&p, &t, alpha)


# ------------------------------------------------------------ Python wrappers

cdef class EpilogueArgs:
    """An ``Epilogue`` built from Python arguments, owning the arrays it points into.

    Parameters
    ----------
    bias : ndarray or None
    activation : str
        An activation name (see ``epilogue.activation_code``).
    residual : ndarray or None
    residual_after_activation : bool
    """

    def __init__(self, bias, activation, residual, bint residual_after_activation):
        self.ep.bias = NULL
        self.ep.residual = NULL
        self.ep.activation = activation_code(activation)
        self.ep.residual_after_activation = residual_after_activation
        if bias is not None:
            self.bias_array = np.asarray(bias)
            self.bias = view_of(self.bias_array)
            self.ep.bias = &self.bias
        if residual is not None:
            self.residual_array = np.asarray(residual)
            self.residual = view_of(self.residual_array)
            self.ep.residual = &self.residual


ctypedef Status (*product_kernel)(const View*, const View*, View*, const Epilogue*) noexcept nogil


cdef product_kernel product_kernel_of(str op):
    if op == "matmul":
        return matmul_kernel
    if op == "mm":
        return mm_kernel
    if op == "bmm":
        return bmm_kernel
    return linear_kernel


def _matmul_result_shape(a_shape, b_shape):
    # np.matmul's result shape without validation (the kernel validates, so
    # a mismatch reaches it and comes back as a status).  No negative
    # indices: this module compiles with wraparound=False.
    na, nb_ = len(a_shape), len(b_shape)
    if na == 0 or nb_ == 0:
        return ()
    a_batch = tuple(a_shape[:max(na - 2, 0)])
    b_batch = tuple(b_shape[:max(nb_ - 2, 0)])
    nb = max(len(a_batch), len(b_batch))
    a_batch = (1,) * (nb - len(a_batch)) + a_batch
    b_batch = (1,) * (nb - len(b_batch)) + b_batch
    shape = tuple(x if x != 1 else y for x, y in zip(a_batch, b_batch))
    if na > 1:
        shape += (a_shape[na - 2],)
    if nb_ > 1:
        shape += (b_shape[nb_ - 1],)
    return shape


cdef str _describe(str name, arr):
    return f"{name}: {arr.shape} {arr.dtype}"


def _run_product(str op, a, b, bias, activation, residual, bint residual_after_activation):
    cdef cnp.ndarray aa = np.asarray(a)
    cdef cnp.ndarray bb = np.asarray(b)
    cdef EpilogueArgs extra = EpilogueArgs(bias, activation, residual,
                                             residual_after_activation)
    b_shape = (<object>bb).shape
    if op == "linear":
        b_shape = tuple(reversed(b_shape))
    cdef cnp.ndarray out = np.empty(_matmul_result_shape((<object>aa).shape, b_shape), dtype=aa.dtype)
    cdef View va = view_of(aa), vb = view_of(bb), vo = view_of(out)
    cdef Epilogue* ep = &extra.ep
    cdef product_kernel kernel = product_kernel_of(op)
    cdef Status status
    with nogil:
        status = kernel(&va, &vb, &vo, ep)
    raise_for_status(status, op, f"{_describe('a', aa)}, {_describe('b', bb)}")
    return out


def matmul(a, b, bias=None, activation="none", residual=None,
           residual_after_activation=False):
    """``np.matmul(a, b)`` with an optional fused bias, activation and residual.

    Parameters
    ----------
    a, b : ndarray
        float32 or float64 operands of one dtype, any strides, NumPy matmul
        shapes (1-D promotion, broadcast batch dims).
    bias : ndarray, optional
        1-D, length of the last output dim, added along it.
    activation : {"none", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"}
        Applied after the bias.
    residual : ndarray, optional
        The output's shape; added before the activation, or after it when
        ``residual_after_activation``.

    Returns
    -------
    ndarray
        A new C-contiguous array.

    Raises
    ------
    jitcore.KernelError
        For mismatched shapes or dtypes.
    """
    return _run_product("matmul", a, b, bias, activation, residual, residual_after_activation)


def mm(a, b, bias=None, activation="none", residual=None, residual_after_activation=False):
    """``a @ b`` for 2-D operands (ATen ``mm``); other ranks raise. See :func:`matmul`."""
    return _run_product("mm", a, b, bias, activation, residual, residual_after_activation)


def bmm(a, b, bias=None, activation="none", residual=None, residual_after_activation=False):
    """``a @ b`` for 3-D operands of equal batch (ATen ``bmm``). See :func:`matmul`."""
    return _run_product("bmm", a, b, bias, activation, residual, residual_after_activation)


def linear(x, weight, bias=None, activation="none", residual=None,
           residual_after_activation=False):
    """``x @ weight.T + bias`` (ATen ``linear``), then the fused activation/residual.

    Parameters
    ----------
    x : ndarray, shape (..., in_features)
    weight : ndarray, shape (out_features, in_features)
    bias : ndarray, shape (out_features,), optional
    activation, residual, residual_after_activation
        As in :func:`matmul`.

    Returns
    -------
    ndarray, shape (..., out_features)
    """
    return _run_product("linear", x, weight, bias, activation, residual,
                        residual_after_activation)


def addmm(input, a, b, double beta=1.0, double alpha=1.0, activation="none",
          residual=None, residual_after_activation=False):
    """``beta * input + alpha * (a @ b)`` (ATen ``addmm``) with a fused epilogue.

    Parameters
    ----------
    input : ndarray
        Broadcastable to (m, n); ignored when ``beta == 0``.
    a, b : ndarray, shapes (m, k) and (k, n)
    beta, alpha : float
    activation, residual, residual_after_activation
        As in :func:`matmul`.

    Returns
    -------
    ndarray, shape (m, n)
    """
    cdef cnp.ndarray ii = np.asarray(input)
    cdef cnp.ndarray aa = np.asarray(a)
    cdef cnp.ndarray bb = np.asarray(b)
    cdef EpilogueArgs extra = EpilogueArgs(None, activation, residual,
                                             residual_after_activation)
    cdef cnp.ndarray out = np.empty(_matmul_result_shape((<object>aa).shape, (<object>bb).shape), dtype=aa.dtype)
    cdef View vi = view_of(ii), va = view_of(aa), vb = view_of(bb), vo = view_of(out)
    cdef Status status
    with nogil:
        status = addmm_kernel(&vi, &va, &vb, beta, alpha, &vo, &extra.ep)
    raise_for_status(status, "addmm", f"{_describe('input', ii)}, {_describe('a', aa)}, "
                                      f"{_describe('b', bb)}")
    return out
