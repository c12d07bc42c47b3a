"""Reduction kernels: sum, mean, prod, max, min, argmax, argmin over any axes.

See reduction.pxd for the dtype rules and the summation scheme.  The input is
split into kept dimensions (one output each) and reduced dimensions; the
reduced ones are collapsed where memory allows, leaving ``nruns`` strided
runs of ``run_len`` elements per output.
"""
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.math cimport NAN

import numpy as np

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, JC_OK,
    JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE, view_of,
)
from jitcore._runtime.kernels.broadcast cimport view_is_aligned
from jitcore._runtime.kernels.scalar_math cimport npy_bool, scalar_t, wrap_add, wrap_mul
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.types import DTYPES, dtype_name

# NumPy's pairwise block: up to this many elements are summed with eight
# interleaved accumulators, longer runs are halved recursively.
cdef enum:
    PAIRWISE_BLOCK = 128

# Contiguous float sums use a longer, vectorised leaf (pairwise_leaf.h).
cdef extern from "kernels/pairwise_leaf.h" nogil:
    enum: JC_SUM_LEAF
    float jc_sum_leaf_f32(const float* x, Py_ssize_t n) noexcept
    double jc_sum_leaf_f64(const double* x, Py_ssize_t n) noexcept

# Row walk (outer-axis sums of C-contiguous data, e.g. axis 0 of a matrix):
# columns are processed in chunks of ROW_CHUNK, reduced rows are summed
# ROW_LEAF at a time into a row of accumulators, and leaves are combined
# pairwise through a binary-counter stack of at most ROW_LEVELS rows.
cdef enum:
    ROW_CHUNK = 128
    ROW_LEAF = 64
    ROW_LEVELS = 40

# The accumulator / output types of SUM and PROD.
ctypedef fused acc_t:
    float
    double
    int64_t


ctypedef struct ReducePlan:
    int nkept
    Py_ssize_t kept_shape[MAX_DIMS]
    Py_ssize_t kept_xstride[MAX_DIMS]     # bytes in x
    Py_ssize_t kept_ostride[MAX_DIMS]     # bytes in out
    int nouter                            # reduced dims outside the run
    Py_ssize_t outer_shape[MAX_DIMS]
    Py_ssize_t outer_stride[MAX_DIMS]
    Py_ssize_t run_len                    # innermost reduced run
    Py_ssize_t run_stride                 # bytes
    Py_ssize_t nruns
    Py_ssize_t nout
    char* xdata
    char* odata


cdef int reduce_out_dtype(int op, int dtype) noexcept nogil:
    if dtype < DT_FLOAT32 or dtype > DT_BOOL or op < 0 or op >= NUM_REDUCE_OPS:
        return -1
    if op == R_ARGMAX or op == R_ARGMIN:
        return DT_INT64
    if op == R_MAX or op == R_MIN:
        return dtype
    if op == R_MEAN:
        return dtype if (dtype == DT_FLOAT32 or dtype == DT_FLOAT64) else -1
    return dtype if (dtype == DT_FLOAT32 or dtype == DT_FLOAT64) else DT_INT64


cdef int reduced_shape(const View* x, unsigned int axis_mask, bint keepdims,
                       int* ndim, Py_ssize_t* shape) noexcept nogil:
    cdef int d
    cdef int nd = 0
    if x.ndim > MAX_DIMS or (axis_mask >> x.ndim) != 0:
        return JC_ERR_VALUE
    for d in range(x.ndim):
        if axis_mask & (1u << d):
            if keepdims:
                shape[nd] = 1
                nd += 1
        else:
            shape[nd] = x.shape[d]
            nd += 1
    ndim[0] = nd
    return JC_OK


cdef int _make_plan(ReducePlan* p, const View* x, const View* out,
                    unsigned int axis_mask) noexcept nogil:
    """Split x's dims into kept and reduced ones and collapse the reduced ones."""
    cdef int d, k, nred = 0
    cdef bint keepdims = out.ndim == x.ndim
    cdef int od = 0
    cdef Py_ssize_t red_shape[MAX_DIMS]
    cdef Py_ssize_t red_stride[MAX_DIMS]
    cdef int nr
    p.nkept = 0
    p.nout = 1
    for d in range(x.ndim):
        if axis_mask & (1u << d):
            if keepdims:
                if out.shape[od] != 1:
                    return JC_ERR_SHAPE
                od += 1
            if x.shape[d] != 1:
                red_shape[nred] = x.shape[d]
                red_stride[nred] = x.strides[d]
                nred += 1
        else:
            if od >= out.ndim or out.shape[od] != x.shape[d]:
                return JC_ERR_SHAPE
            p.kept_shape[p.nkept] = x.shape[d]
            p.kept_xstride[p.nkept] = x.strides[d]
            p.kept_ostride[p.nkept] = out.strides[od]
            p.nout *= x.shape[d]
            p.nkept += 1
            od += 1
    if od != out.ndim:
        return JC_ERR_SHAPE
    # Merge adjacent reduced dims that are contiguous with each other
    # (this keeps the C-order flat index of the reduced block, which argmax
    # reports).  Size-0 dims were kept above, size-1 dims dropped.
    nr = 0
    for d in range(nred):
        if nr > 0 and red_stride[nr - 1] == red_stride[d] * red_shape[d]:
            red_shape[nr - 1] *= red_shape[d]
            red_stride[nr - 1] = red_stride[d]
        else:
            red_shape[nr] = red_shape[d]
            red_stride[nr] = red_stride[d]
            nr += 1
    if nr == 0:
        p.run_len = 1
        p.run_stride = 0
        p.nouter = 0
    else:
        p.run_len = red_shape[nr - 1]
        p.run_stride = red_stride[nr - 1]
        p.nouter = nr - 1
        for k in range(nr - 1):
            p.outer_shape[k] = red_shape[k]
            p.outer_stride[k] = red_stride[k]
    p.nruns = 1
    for k in range(p.nouter):
        p.nruns *= p.outer_shape[k]
    p.xdata = x.data
    p.odata = out.data
    return JC_OK


cdef inline void _output_pointers(const ReducePlan* p, Py_ssize_t j,
                                  char** xbase, char** obase) noexcept nogil:
    cdef int d
    cdef Py_ssize_t idx
    xbase[0] = p.xdata
    obase[0] = p.odata
    for d in range(p.nkept - 1, -1, -1):
        idx = j % p.kept_shape[d]
        j = j // p.kept_shape[d]
        xbase[0] += idx * p.kept_xstride[d]
        obase[0] += idx * p.kept_ostride[d]


cdef inline const char* _run_pointer(const ReducePlan* p, const char* xbase,
                                     Py_ssize_t r) noexcept nogil:
    cdef int d
    cdef Py_ssize_t idx
    for d in range(p.nouter - 1, -1, -1):
        idx = r % p.outer_shape[d]
        r = r // p.outer_shape[d]
        xbase += idx * p.outer_stride[d]
    return xbase

# ---------------------------------------------------------------- sum / prod

cdef inline acc_t _combine(bint is_prod, acc_t a, acc_t b) noexcept nogil:
    if acc_t is int64_t:
        return wrap_mul(a, b) if is_prod else wrap_add(a, b)
    else:
        return a * b if is_prod else a + b


cdef inline bint _vector_leaf(bint is_prod, Py_ssize_t es, const scalar_t* x,
                              acc_t identity) noexcept nogil:
    """Whether this run is summed with pairwise_leaf.h's vectorised leaf."""
    if scalar_t is float and acc_t is float:
        return es == 1 and not is_prod
    elif scalar_t is double and acc_t is double:
        return es == 1 and not is_prod
    return False


cdef inline Py_ssize_t _leaf_size(bint is_prod, Py_ssize_t es, const scalar_t* x,
                                  acc_t identity) noexcept nogil:
    """Longest run summed as one leaf (the serial and parallel trees agree on it)."""
    return JC_SUM_LEAF if _vector_leaf(is_prod, es, x, identity) else PAIRWISE_BLOCK


cdef acc_t _pairwise_run(bint is_prod, const scalar_t* x, Py_ssize_t n, Py_ssize_t es,
                         acc_t identity) noexcept nogil:
    """Pairwise sum (or product) of n elements at element stride es."""
    cdef acc_t r[8]
    cdef acc_t res
    cdef Py_ssize_t i, j, n2
    if _vector_leaf(is_prod, es, x, identity):
        if n <= JC_SUM_LEAF:
            if scalar_t is float and acc_t is float:
                return jc_sum_leaf_f32(x, n)
            elif scalar_t is double and acc_t is double:
                return jc_sum_leaf_f64(x, n)
        n2 = n // 2
        n2 -= n2 % 8
        return _pairwise_run(is_prod, x, n2, es, identity) + \
            _pairwise_run(is_prod, x + n2, n - n2, es, identity)
    if n < 8:
        res = identity
        for i in range(n):
            res = _combine(is_prod, res, <acc_t>x[i * es])
        return res
    if n <= PAIRWISE_BLOCK:
        for j in range(8):
            r[j] = <acc_t>x[j * es]
        i = 8
        while i + 8 <= n:
            for j in range(8):
                r[j] = _combine(is_prod, r[j], <acc_t>x[(i + j) * es])
            i += 8
        res = _combine(is_prod, _combine(is_prod, _combine(is_prod, r[0], r[1]),
                                         _combine(is_prod, r[2], r[3])),
                       _combine(is_prod, _combine(is_prod, r[4], r[5]),
                                _combine(is_prod, r[6], r[7])))
        while i < n:
            res = _combine(is_prod, res, <acc_t>x[i * es])
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _combine(is_prod, _pairwise_run(is_prod, x, n2, es, identity),
                    _pairwise_run(is_prod, x + n2 * es, n - n2, es, identity))


cdef acc_t _pairwise_runs(bint is_prod, const ReducePlan* p, const char* xbase,
                          Py_ssize_t lo, Py_ssize_t hi, const scalar_t* tag,
                          acc_t identity) noexcept nogil:
    """Pairwise over runs [lo, hi), each run reduced by _pairwise_run."""
    cdef Py_ssize_t mid
    cdef Py_ssize_t es = p.run_stride // <Py_ssize_t>sizeof(scalar_t)
    if hi - lo == 1:
        return _pairwise_run(is_prod, <const scalar_t*>_run_pointer(p, xbase, lo),
                             p.run_len, es, identity)
    mid = lo + (hi - lo) // 2
    return _combine(is_prod, _pairwise_runs(is_prod, p, xbase, lo, mid, tag, identity),
                    _pairwise_runs(is_prod, p, xbase, mid, hi, tag, identity))


cdef acc_t _sum_one(bint is_prod, const ReducePlan* p, const char* xbase,
                    const scalar_t* tag, acc_t identity) noexcept nogil:
    if p.nruns == 0 or p.run_len == 0:
        return identity
    return _pairwise_runs(is_prod, p, xbase, 0, p.nruns, tag, identity)


cdef acc_t _sum_single_parallel(bint is_prod, const ReducePlan* p, const char* xbase,
                                const scalar_t* tag, acc_t identity, int nt) noexcept nogil:
    """One output, one long run: the two halves of the pairwise tree's top
    split (then their halves, ...) are evaluated on separate threads and
    combined exactly as the serial recursion would."""
    cdef Py_ssize_t bounds[9]     # up to 8 leaves of the top three levels
    cdef acc_t leaf[8]
    cdef Py_ssize_t es = p.run_stride // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t n = p.run_len
    cdef int nleaves = 1, level, i, t
    cdef Py_ssize_t lo, length, n2
    cdef Py_ssize_t newb[9]
    bounds[0] = 0
    bounds[1] = n
    # Split every leaf by the same rule as _pairwise_run until there are
    # enough leaves for the threads (leaves too short to split stay whole).
    while nleaves < nt and nleaves < 8:
        newb[0] = 0
        for i in range(nleaves):
            lo = bounds[i]
            length = bounds[i + 1] - lo
            n2 = length // 2
            n2 -= n2 % 8
            if length <= _leaf_size(is_prod, es, <const scalar_t*>xbase, identity):
                return _pairwise_run(is_prod, <const scalar_t*>xbase, n, es, identity)
            newb[2 * i + 1] = lo + n2
            newb[2 * i + 2] = bounds[i + 1]
        nleaves *= 2
        for i in range(nleaves + 1):
            bounds[i] = newb[i]
    for t in prange(nleaves, num_threads=nt, schedule='static', chunksize=1):
        leaf[t] = _pairwise_run(is_prod, <const scalar_t*>xbase + bounds[t] * es,
                                bounds[t + 1] - bounds[t], es, identity)
    # Combine adjacent pairs level by level: the serial recursion's tree.
    while nleaves > 1:
        nleaves //= 2
        for i in range(nleaves):
            leaf[i] = _combine(is_prod, leaf[2 * i], leaf[2 * i + 1])
    return leaf[0]

cdef inline bint _row_walk_applies(int op, const ReducePlan* p, const scalar_t* tag) noexcept nogil:
    """Sum/mean/prod whose innermost kept dim is contiguous in x (axis 0 of a
    C-contiguous matrix): walking rows reads memory in order, walking
    columns (one output at a time) would stride through it."""
    if op != R_SUM and op != R_MEAN and op != R_PROD:
        return False
    if p.nkept == 0 or p.nruns * p.run_len <= 1:
        return False
    return (p.kept_xstride[p.nkept - 1] == <Py_ssize_t>sizeof(scalar_t)
            and p.kept_shape[p.nkept - 1] > 1
            and p.run_stride != <Py_ssize_t>sizeof(scalar_t))


cdef void _row_walk_unit(int op, const ReducePlan* p, Py_ssize_t unit, const scalar_t* tag,
                         acc_t identity) noexcept nogil:
    """Reduce one (outer output group, column chunk) unit by walking rows.

    Each column gets the same fixed tree whatever the thread split: rows in
    leaves of ROW_LEAF summed in order, leaves merged pairwise by a binary
    counter (equal-sized neighbours merge, left + right), the remaining
    stack folded right to left.
    """
    cdef acc_t stack[ROW_LEVELS][ROW_CHUNK]
    cdef Py_ssize_t level_rows[ROW_LEVELS]
    cdef int depth = 0
    cdef Py_ssize_t k_len = p.kept_shape[p.nkept - 1]
    cdef Py_ssize_t nchunks = (k_len + ROW_CHUNK - 1) // ROW_CHUNK
    cdef Py_ssize_t group = unit // nchunks
    cdef Py_ssize_t c0 = (unit % nchunks) * ROW_CHUNK
    cdef Py_ssize_t w = k_len - c0
    cdef Py_ssize_t count = p.nruns * p.run_len
    cdef Py_ssize_t ostride = p.kept_ostride[p.nkept - 1]
    cdef Py_ssize_t r, i, j, rows_in_leaf = 0
    cdef char* xbase
    cdef char* obase
    cdef const scalar_t* row
    cdef acc_t* leaf
    cdef bint is_prod = op == R_PROD
    if w > ROW_CHUNK:
        w = ROW_CHUNK
    _output_pointers(p, group * k_len, &xbase, &obase)
    xbase += c0 * <Py_ssize_t>sizeof(scalar_t)
    obase += c0 * ostride
    for r in range(p.nruns):
        row = <const scalar_t*>_run_pointer(p, xbase, r)
        for i in range(p.run_len):
            leaf = stack[depth]
            if rows_in_leaf == 0:
                for j in range(w):
                    leaf[j] = <acc_t>row[j]
            else:
                for j in range(w):
                    leaf[j] = _combine(is_prod, leaf[j], <acc_t>row[j])
            rows_in_leaf += 1
            row = <const scalar_t*>(<const char*>row + p.run_stride)
            if rows_in_leaf == ROW_LEAF:
                level_rows[depth] = ROW_LEAF
                depth += 1
                rows_in_leaf = 0
                while depth >= 2 and level_rows[depth - 2] == level_rows[depth - 1]:
                    for j in range(w):
                        stack[depth - 2][j] = _combine(is_prod, stack[depth - 2][j], stack[depth - 1][j])
                    level_rows[depth - 2] *= 2
                    depth -= 1
    if rows_in_leaf > 0:
        depth += 1          # the partial leaf is the last stack entry
    for j in range(w):
        leaf = stack[depth - 1]
        for i in range(depth - 2, -1, -1):
            leaf[j] = _combine(is_prod, stack[i][j], leaf[j])
    for j in range(w):
        if op == R_MEAN:
            if acc_t is float:
                (<float*>(obase + j * ostride))[0] = stack[depth - 1][j] / <float>count
            elif acc_t is double:
                (<double*>(obase + j * ostride))[0] = stack[depth - 1][j] / <double>count
        else:
            (<acc_t*>(obase + j * ostride))[0] = stack[depth - 1][j]


cdef void _row_walk_units(int op, const ReducePlan* p, Py_ssize_t lo, Py_ssize_t hi,
                          const scalar_t* tag) noexcept nogil:
    cdef Py_ssize_t u
    cdef bint is_prod = op == R_PROD
    for u in range(lo, hi):
        if scalar_t is float:
            _row_walk_unit(op, p, u, tag, <float>(1 if is_prod else 0))
        elif scalar_t is double:
            _row_walk_unit(op, p, u, tag, <double>(1 if is_prod else 0))
        else:
            _row_walk_unit(op, p, u, tag, <int64_t>(1 if is_prod else 0))


cdef void _row_walk(int op, const ReducePlan* p, const scalar_t* tag, int nt) noexcept nogil:
    """All outputs by row walks, units split statically over nt threads."""
    cdef Py_ssize_t k_len = p.kept_shape[p.nkept - 1]
    cdef Py_ssize_t nunits = (p.nout // k_len) * ((k_len + ROW_CHUNK - 1) // ROW_CHUNK)
    cdef int t
    if nt > nunits:
        nt = <int>nunits
    if nt <= 1:
        _row_walk_units(op, p, 0, nunits, tag)
    else:
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
            _row_walk_units(op, p, nunits * t // nt, nunits * (t + 1) // nt, tag)

# ------------------------------------------------------- max / min / argmax

cdef inline bint _better(bint is_max, scalar_t v, scalar_t best) noexcept nogil:
    """Whether v replaces best; the first NaN wins and then stays."""
    if scalar_t is float or scalar_t is double:
        if best != best:
            return False
        if v != v:
            return True
    return v > best if is_max else v < best


cdef void _extreme_one(bint is_max, const ReducePlan* p, const char* xbase,
                       scalar_t* value, int64_t* index) noexcept nogil:
    """Value and C-order flat index of the first max (min) of one output."""
    cdef Py_ssize_t es = p.run_stride // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t r, i
    cdef const scalar_t* run
    cdef scalar_t best = (<const scalar_t*>xbase)[0]
    cdef int64_t best_at = 0
    cdef scalar_t v
    for r in range(p.nruns):
        run = <const scalar_t*>_run_pointer(p, xbase, r)
        for i in range(p.run_len):
            v = run[i * es]
            if _better(is_max, v, best):
                best = v
                best_at = r * p.run_len + i
    value[0] = best
    index[0] = best_at

# -------------------------------------------------------------------- driver

cdef void _reduce_outputs(int op, const ReducePlan* p, Py_ssize_t lo, Py_ssize_t hi,
                          const scalar_t* tag) noexcept nogil:
    cdef Py_ssize_t j
    cdef char* xbase
    cdef char* obase
    cdef scalar_t best
    cdef int64_t at
    cdef bint is_prod = op == R_PROD
    cdef Py_ssize_t count = p.nruns * p.run_len
    for j in range(lo, hi):
        _output_pointers(p, j, &xbase, &obase)
        if op == R_SUM or op == R_PROD or op == R_MEAN:
            if scalar_t is float:
                (<float*>obase)[0] = _sum_one(is_prod, p, xbase, tag, <float>(1 if is_prod else 0))
                if op == R_MEAN:
                    (<float*>obase)[0] = (<float*>obase)[0] / <float>count if count else <float>NAN
            elif scalar_t is double:
                (<double*>obase)[0] = _sum_one(is_prod, p, xbase, tag, <double>(1 if is_prod else 0))
                if op == R_MEAN:
                    (<double*>obase)[0] = (<double*>obase)[0] / <double>count if count else NAN
            else:
                (<int64_t*>obase)[0] = _sum_one(is_prod, p, xbase, tag, <int64_t>(1 if is_prod else 0))
        else:
            _extreme_one(op == R_MAX or op == R_ARGMAX, p, xbase, &best, &at)
            if op == R_MAX or op == R_MIN:
                (<scalar_t*>obase)[0] = best
            else:
                (<int64_t*>obase)[0] = at


cdef int _reduce_typed(int op, ReducePlan* p, const scalar_t* tag) noexcept nogil:
    cdef Py_ssize_t count = p.nruns * p.run_len
    cdef Py_ssize_t work = p.nout * count
    cdef int nt = threads_for(work)
    cdef int t
    cdef char* xbase
    cdef char* obase
    if p.nout == 0:
        return JC_OK
    if count == 0 and op != R_SUM and op != R_PROD and op != R_MEAN:
        return JC_ERR_VALUE     # np.max of an empty array raises
    if nt > 1 and p.nout == 1 and p.nruns == 1 and (op == R_SUM or op == R_PROD or op == R_MEAN):
        _output_pointers(p, 0, &xbase, &obase)
        if scalar_t is float:
            (<float*>obase)[0] = _sum_single_parallel(op == R_PROD, p, xbase, tag,
                                                      <float>(1 if op == R_PROD else 0), nt)
            if op == R_MEAN:
                (<float*>obase)[0] = (<float*>obase)[0] / <float>count
        elif scalar_t is double:
            (<double*>obase)[0] = _sum_single_parallel(op == R_PROD, p, xbase, tag,
                                                       <double>(1 if op == R_PROD else 0), nt)
            if op == R_MEAN:
                (<double*>obase)[0] = (<double*>obase)[0] / <double>count
        else:
            (<int64_t*>obase)[0] = _sum_single_parallel(op == R_PROD, p, xbase, tag,
                                                        <int64_t>(1 if op == R_PROD else 0), nt)
        return JC_OK
    if _row_walk_applies(op, p, tag):
        _row_walk(op, p, tag, nt)
        return JC_OK
    if nt > p.nout:
        nt = <int>p.nout
    if nt <= 1:
        _reduce_outputs(op, p, 0, p.nout, tag)
    else:
        # Each output is reduced whole by one thread: same tree, same bits.
        for t in prange(nt, num_threads=nt, schedule='static', chunksize=1):
            _reduce_outputs(op, p, p.nout * t // nt, p.nout * (t + 1) // nt, tag)
    return JC_OK


cdef int run_reduce(int op, const View* x, View* out, unsigned int axis_mask) noexcept nogil:
    cdef ReducePlan plan
    cdef int status, d
    if x.ndim > MAX_DIMS or (axis_mask >> x.ndim) != 0:
        return JC_ERR_VALUE
    if reduce_out_dtype(op, x.dtype) < 0 or out.dtype != reduce_out_dtype(op, x.dtype):
        return JC_ERR_DTYPE
    if not view_is_aligned(x) or not view_is_aligned(out):
        return JC_ERR_VALUE
    if out.ndim != x.ndim:
        # Without keepdims the rank must drop by the number of reduced axes.
        status = 0
        for d in range(x.ndim):
            if axis_mask & (1u << d):
                status += 1
        if out.ndim != x.ndim - status:
            return JC_ERR_SHAPE
    status = _make_plan(&plan, x, out, axis_mask)
    if status != JC_OK:
        return status
    if x.dtype == DT_FLOAT32:
        return _reduce_typed(op, &plan, <const float*>NULL)
    if x.dtype == DT_FLOAT64:
        return _reduce_typed(op, &plan, <const double*>NULL)
    if x.dtype == DT_INT64:
        return _reduce_typed(op, &plan, <const int64_t*>NULL)
    if x.dtype == DT_INT32:
        return _reduce_typed(op, &plan, <const int32_t*>NULL)
    return _reduce_typed(op, &plan, <const npy_bool*>NULL)

# ------------------------------------------------------------------- Python

REDUCE_OPS = {
    "sum": R_SUM, "mean": R_MEAN, "prod": R_PROD, "max": R_MAX, "min": R_MIN,
    "amax": R_MAX, "amin": R_MIN, "argmax": R_ARGMAX, "argmin": R_ARGMIN,
}


def reduce(str op, x, axes=None, bint keepdims=False):
    """Reduce ``x`` over ``axes`` with the kernel (NumPy semantics, see reduction.pxd).

    Parameters
    ----------
    op : str
        A key of ``REDUCE_OPS``: sum, mean, prod, max/amax, min/amin,
        argmax, argmin.
    x : array_like
        float32, float64, int64, int32 or bool input, any strides.
    axes : None, int or sequence of int
        Axes to reduce (negative counts from the end); None means all.
    keepdims : bool
        Keep reduced axes as size-1 dimensions.

    Returns
    -------
    ndarray
        The result, of dtype ``reduce_out_dtype``.

    Raises
    ------
    jitcore.KernelError
        For an empty max/min/argmax/argmin, or an unsupported dtype.
    """
    if op not in REDUCE_OPS:
        raise ValueError(f"unknown reduction {op!r}; expected one of {sorted(REDUCE_OPS)}")
    cdef int code = REDUCE_OPS[op]
    a = np.asarray(x)
    dtype_name(a.dtype)
    cdef unsigned int mask = 0
    if axes is None:
        axes = range(a.ndim)
    elif isinstance(axes, int):
        axes = (axes,)
    for ax in axes:
        if not -a.ndim <= ax < max(a.ndim, 1):
            raise ValueError(f"axis {ax} is out of bounds for an array of rank {a.ndim}")
        ax = ax % a.ndim if a.ndim else 0
        if mask & (1u << ax):
            raise ValueError(f"axis {ax} is repeated in {tuple(axes)}")
        mask |= 1u << ax
    cdef View vx = view_of(a)
    cdef int ndim
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int status = reduced_shape(&vx, mask, keepdims, &ndim, shape)
    raise_for_status(status, op, f"axes {tuple(axes)} of rank {a.ndim}")
    out_dtype = reduce_out_dtype(code, vx.dtype)
    if out_dtype < 0:
        raise_for_status(JC_ERR_DTYPE, op, f"{a.dtype} input")
    out = np.empty(tuple(shape[i] for i in range(ndim)), dtype=DTYPES[out_dtype])
    cdef View vo = view_of(out)
    with nogil:
        status = run_reduce(code, &vx, &vo, mask)
    raise_for_status(status, op, f"{a.dtype} {a.shape}, axes {tuple(axes)}")
    return out
