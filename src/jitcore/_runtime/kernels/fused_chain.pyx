"""Fused elementwise chains run tile by tile (see fused_chain.pxd)."""
from cython.parallel cimport prange
from libc.string cimport memcpy
from libc.stdint cimport uintptr_t

import numpy as np

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, DT_FLOAT32, DT_FLOAT64, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE,
    JC_ERR_VALUE, JC_ERR_UNSUPPORTED, itemsize_of, view_numel, view_is_contiguous, view_of,
)
from jitcore._runtime.kernels.elementwise cimport (
    chunk_length, unary_loop, binary_loop, ternary_loop, param_loop, unary_loop_for, binary_loop_for,
    ternary_loop_for, param_loop_for, unary_out_dtype, binary_out_dtype, T_CLAMP, B_ADD, B_MUL, B_DIV,
)
from jitcore._runtime.kernels.vecloops cimport jc_arith_pair_f32, jc_arith_pair_f64
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.kernels import elementwise as _elementwise

cdef extern from *:
    """
    /* Ask for the lines of [p, p + nbytes) in L2 ahead of use (a write
     * intent for the output, so its read-for-ownership starts early too). */
    static inline void jc_prefetch_span(const char *p, Py_ssize_t nbytes, int for_write)
    {
        for (Py_ssize_t k = 0; k < nbytes; k += 64) {
            if (for_write) __builtin_prefetch(p + k, 1, 2);
            else __builtin_prefetch(p + k, 0, 2);
        }
    }
    """
    void jc_prefetch_span(const char* p, Py_ssize_t nbytes, int for_write) noexcept nogil


# How an input register is fed to a tile.
cdef enum InputLayout:
    LAYOUT_FULL      # same shape as out: point into the input
    LAYOUT_SCALAR    # one element: stride 0
    LAYOUT_ROW       # periodic with period ``period``: copied into a buffer


ctypedef struct ChainPlan:
    int nsteps
    int ninputs
    int nregs
    Py_ssize_t item
    Py_ssize_t tile             # elements per tile: a buffer's bytes / item
    # Tile t covers [t * tile - shift, (t + 1) * tile - shift) clipped to
    # [0, n): a short first tile, so that every later one starts the output on
    # a 64-byte line (and, with an output allocated at an input's phase, the
    # input too): no vector access then straddles two cache lines.
    Py_ssize_t shift
    void* fn[CHAIN_MAX_STEPS]
    int layout[CHAIN_MAX_INPUTS]
    Py_ssize_t period[CHAIN_MAX_INPUTS]
    int buffer_of[CHAIN_MAX_INPUTS + CHAIN_MAX_BUFFERS]   # register -> buffer slot, -1 none
    # paired[s]: steps s and s + 1 run as one pass (see _pair_with_next), the
    # scalar operand of step s + 1 in register pair_scalar[s]
    bint paired[CHAIN_MAX_STEPS]
    int pair_scalar[CHAIN_MAX_STEPS]
    const char* input_data[CHAIN_MAX_INPUTS]
    char* out_data


cdef int _input_layout(const View* v, const View* out, Py_ssize_t* period) noexcept nogil:
    """LAYOUT_* of input v against out, or -1 when the chain cannot read it."""
    cdef int off = out.ndim - v.ndim
    cdef int d
    cdef bint leading = True     # still inside the leading broadcast dims
    cdef Py_ssize_t n = view_numel(v)
    if n == 1:
        return LAYOUT_SCALAR
    if off < 0 or not view_is_contiguous(v):
        return -1
    period[0] = 1
    for d in range(v.ndim):
        if v.shape[d] == out.shape[off + d]:
            if v.shape[d] != 1:
                leading = False
            period[0] *= v.shape[d]
        elif v.shape[d] == 1 and leading:
            continue
        else:
            return -1
    return LAYOUT_FULL if period[0] == view_numel(out) else LAYOUT_ROW


cdef bint _reads(const ChainStep* st, int reg) noexcept nogil:
    """Whether step ``st`` reads register ``reg``."""
    cdef int k
    for k in range(3 if st.kind == CHAIN_TERNARY else (2 if st.kind == CHAIN_BINARY else 1)):
        if st.src[k] == reg:
            return True
    return False


cdef int _pair_with_next(const ChainPlan* p, const ChainStep* steps, int s) noexcept nogil:
    """The scalar register of step s + 1 when steps s and s + 1 can run as one pass, else -1.

    That is ``(a op1 b) op2 c`` (vecloops.h's jc_arith_pair_*): step s is
    add/sub/mul/div, step s + 1 an add or mul of step s's result and a
    scalar input, and no later step reads step s's result (it never exists
    as a tile).  Each pass over a tile costs a store and a load of it, and a
    chain's arithmetic steps run at that L1 bandwidth, so a pair runs in
    about the time of one step.
    """
    cdef const ChainStep* a
    cdef const ChainStep* b
    cdef int other, k
    if s + 1 >= p.nsteps:
        return -1
    a, b = &steps[s], &steps[s + 1]
    if a.kind != CHAIN_BINARY or b.kind != CHAIN_BINARY or a.op < B_ADD or a.op > B_DIV:
        return -1
    if b.op != B_ADD and b.op != B_MUL:
        return -1
    if b.src[0] == a.dst and b.src[1] != a.dst:
        other = b.src[1]
    elif b.src[1] == a.dst and b.src[0] != a.dst:
        other = b.src[0]
    else:
        return -1
    if other >= p.ninputs or p.layout[other] != LAYOUT_SCALAR:
        return -1
    if b.dst == a.dst:          # step s + 1 overwrites step s's result itself
        return other
    for k in range(s + 2, p.nsteps):
        if _reads(&steps[k], a.dst):
            return -1
        if steps[k].dst == a.dst:
            break
    return other


cdef int _plan_chain(ChainPlan* p, const ChainStep* steps, int nsteps, const View* inputs,
                     int ninputs, const View* out) noexcept nogil:
    cdef int s, k, r, nbuf = 0, dtype = out.dtype
    cdef Py_ssize_t head
    cdef const ChainStep* st
    if nsteps < 1 or nsteps > CHAIN_MAX_STEPS or ninputs < 0 or ninputs > CHAIN_MAX_INPUTS:
        return JC_ERR_VALUE
    if dtype != DT_FLOAT32 and dtype != DT_FLOAT64:
        return JC_ERR_DTYPE
    if not view_is_contiguous(out):
        return JC_ERR_UNSUPPORTED
    p.nsteps = nsteps
    p.ninputs = ninputs
    p.item = itemsize_of(dtype)
    # A buffer holds CHAIN_TILE doubles: 2 * CHAIN_TILE float32 elements, so a
    # float32 chain pays its per-tile step calls half as often.
    p.tile = CHAIN_TILE * sizeof(double) // p.item
    p.out_data = out.data
    head = (64 - <Py_ssize_t>(<uintptr_t>out.data % 64)) % 64
    p.shift = p.tile - head // p.item if head % p.item == 0 and head > 0 else 0
    p.nregs = ninputs
    for k in range(CHAIN_MAX_INPUTS + CHAIN_MAX_BUFFERS):
        p.buffer_of[k] = -1
    for k in range(ninputs):
        if inputs[k].dtype != dtype:
            return JC_ERR_DTYPE
        p.layout[k] = _input_layout(&inputs[k], out, &p.period[k])
        if p.layout[k] < 0:
            # A shape that does not broadcast at all is a shape error; a
            # broadcast the chain cannot tile is the caller's fallback case.
            for r in range(inputs[k].ndim):
                if (inputs[k].ndim > out.ndim or (inputs[k].shape[r] != 1 and
                        inputs[k].shape[r] != out.shape[out.ndim - inputs[k].ndim + r])):
                    return JC_ERR_SHAPE
            return JC_ERR_UNSUPPORTED
        p.input_data[k] = inputs[k].data
        if p.layout[k] == LAYOUT_ROW:
            p.buffer_of[k] = nbuf
            nbuf += 1
    for s in range(nsteps):
        st = &steps[s]
        # Registers are written in order: a step reads inputs or earlier
        # temporaries and writes the next temporary or an existing one.
        if st.dst < ninputs or st.dst > p.nregs or st.dst >= CHAIN_MAX_INPUTS + CHAIN_MAX_BUFFERS:
            return JC_ERR_VALUE
        for k in range(3 if st.kind == CHAIN_TERNARY else (2 if st.kind == CHAIN_BINARY else 1)):
            if st.src[k] < 0 or st.src[k] >= p.nregs:
                return JC_ERR_VALUE
        if st.dst == p.nregs:
            p.nregs += 1
            p.buffer_of[st.dst] = nbuf
            nbuf += 1
        if st.kind == CHAIN_UNARY:
            if unary_out_dtype(st.op, dtype) != dtype:
                return JC_ERR_UNSUPPORTED
            p.fn[s] = <void*>unary_loop_for(st.op, dtype)
        elif st.kind == CHAIN_BINARY:
            if binary_out_dtype(st.op, dtype) != dtype:
                return JC_ERR_UNSUPPORTED
            p.fn[s] = <void*>binary_loop_for(st.op, dtype)
        elif st.kind == CHAIN_TERNARY:
            if st.op != T_CLAMP:
                return JC_ERR_UNSUPPORTED
            p.fn[s] = <void*>ternary_loop_for(st.op, dtype)
        elif st.kind == CHAIN_PARAM:
            p.fn[s] = <void*>param_loop_for(st.op, dtype)
        else:
            return JC_ERR_VALUE
        if p.fn[s] == NULL:
            return JC_ERR_DTYPE
    if nbuf > CHAIN_MAX_BUFFERS:
        return JC_ERR_UNSUPPORTED
    s = 0
    while s < nsteps:
        p.paired[s] = False
        p.pair_scalar[s] = _pair_with_next(p, steps, s)
        if p.pair_scalar[s] >= 0:
            p.paired[s] = True
            s += 1
            p.paired[s] = False
        s += 1
    return JC_OK


cdef void _fill_row(const char* src, Py_ssize_t period, Py_ssize_t start, Py_ssize_t m,
                    Py_ssize_t item, char* dst) noexcept nogil:
    """dst[i] = src[(start + i) % period] for i < m, in memcpy segments."""
    cdef Py_ssize_t pos = start % period
    cdef Py_ssize_t done = 0, piece
    while done < m:
        piece = period - pos
        if piece > m - done:
            piece = m - done
        memcpy(dst + done * item, src + pos * item, piece * item)
        done += piece
        pos = 0


cdef bint _run_pair(const ChainPlan* p, const ChainStep* steps, int s, const char** reg,
                    const Py_ssize_t* stride, Py_ssize_t start, Py_ssize_t m) noexcept nogil:
    """Run paired steps s and s + 1 over one tile in one pass; False when the loop declines."""
    cdef const ChainStep* a = &steps[s]
    cdef const ChainStep* b = &steps[s + 1]
    cdef char* dst = (p.out_data + start * p.item if s + 1 == p.nsteps - 1
                      else <char*>reg[b.dst])
    cdef const char* scalar = reg[p.pair_scalar[s]]
    cdef Py_ssize_t ea = stride[a.src[0]] // p.item, eb = stride[a.src[1]] // p.item
    if p.item == sizeof(float):
        return jc_arith_pair_f32(a.op, b.op, <const float*>reg[a.src[0]],
                                 <const float*>reg[a.src[1]], (<const float*>scalar)[0],
                                 <float*>dst, m, ea, eb)
    return jc_arith_pair_f64(a.op, b.op, <const double*>reg[a.src[0]],
                             <const double*>reg[a.src[1]], (<const double*>scalar)[0],
                             <double*>dst, m, ea, eb)


cdef inline void _prefetch_tile(const ChainPlan* p, Py_ssize_t start, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t m = min(p.tile, n - start)
    cdef int k
    for k in range(p.ninputs):
        if p.layout[k] == LAYOUT_FULL:
            jc_prefetch_span(p.input_data[k] + start * p.item, m * p.item, 0)
    jc_prefetch_span(p.out_data + start * p.item, m * p.item, 1)


cdef void _run_tiles(const ChainPlan* p, const ChainStep* steps, Py_ssize_t n,
                     Py_ssize_t first_tile, Py_ssize_t last_tile) noexcept nogil:
    """Run the program over tiles [first_tile, last_tile) with this thread's buffers."""
    cdef double buffers[CHAIN_MAX_BUFFERS][CHAIN_TILE]     # 32 KiB of stack, per thread
    cdef Py_ssize_t tile_len = p.tile
    cdef const char* reg[CHAIN_MAX_INPUTS + CHAIN_MAX_BUFFERS]
    cdef Py_ssize_t stride[CHAIN_MAX_INPUTS + CHAIN_MAX_BUFFERS]
    cdef Py_ssize_t tile, start, m, item = p.item
    cdef int s, k
    cdef char* dst
    cdef const ChainStep* st
    for k in range(p.ninputs, p.nregs):
        reg[k] = <const char*>buffers[p.buffer_of[k]]
        stride[k] = item
    for tile in range(first_tile, last_tile):
        start = tile * tile_len - p.shift
        m = min(n, start + tile_len)
        if start < 0:
            start = 0
        m -= start
        # A tile's steps run for a while in L1 without touching memory, so
        # the hardware prefetcher loses the stream and every tile would
        # start with cold misses: fetch the next tile's data now.
        if tile + 1 < last_tile:
            _prefetch_tile(p, (tile + 1) * tile_len - p.shift, n)
        for k in range(p.ninputs):
            if p.layout[k] == LAYOUT_FULL:
                reg[k] = p.input_data[k] + start * item
                stride[k] = item
            elif p.layout[k] == LAYOUT_SCALAR:
                reg[k] = p.input_data[k]
                stride[k] = 0
            else:
                _fill_row(p.input_data[k], p.period[k], start, m, item,
                          <char*>buffers[p.buffer_of[k]])
                reg[k] = <const char*>buffers[p.buffer_of[k]]
                stride[k] = item
        s = 0
        while s < p.nsteps:
            if p.paired[s] and _run_pair(p, steps, s, reg, stride, start, m):
                s += 2
                continue
            st = &steps[s]
            # The last step writes straight into the output tile.
            dst = p.out_data + start * item if s == p.nsteps - 1 else <char*>reg[st.dst]
            if st.kind == CHAIN_UNARY:
                (<unary_loop>p.fn[s])(reg[st.src[0]], dst, m, stride[st.src[0]], item)
            elif st.kind == CHAIN_BINARY:
                (<binary_loop>p.fn[s])(reg[st.src[0]], reg[st.src[1]], dst, m,
                                       stride[st.src[0]], stride[st.src[1]], item)
            elif st.kind == CHAIN_TERNARY:
                (<ternary_loop>p.fn[s])(reg[st.src[0]], reg[st.src[1]], reg[st.src[2]], dst, m,
                                        stride[st.src[0]], stride[st.src[1]],
                                        stride[st.src[2]], item)
            else:
                (<param_loop>p.fn[s])(reg[st.src[0]], dst, m, stride[st.src[0]], item,
                                      st.param[0], st.param[1])
            s += 1


cdef int run_chain(const ChainStep* steps, int nsteps, const View* inputs,
                   int ninputs, View* out) noexcept nogil:
    cdef ChainPlan plan
    cdef int status = _plan_chain(&plan, steps, nsteps, inputs, ninputs, out)
    cdef Py_ssize_t n = view_numel(out)
    cdef Py_ssize_t ntiles, length, nchunks, k
    cdef int nt
    if status != JC_OK or n == 0:
        return status
    ntiles = (n + plan.shift + plan.tile - 1) // plan.tile
    nt = threads_for(n)
    if nt > ntiles:
        nt = <int>ntiles
    if nt <= 1:
        _run_tiles(&plan, steps, n, 0, ntiles)
    else:
        # dynamic chunks of whole tiles (see elementwise.pxd's chunk_length)
        length = chunk_length(ntiles, nt, 1)
        nchunks = (ntiles + length - 1) // length
        for k in prange(nchunks, num_threads=nt, schedule='dynamic', chunksize=1):
            _run_tiles(&plan, steps, n, k * length, min(ntiles, (k + 1) * length))
    return JC_OK


def chain(program, inputs):
    """Run a fused elementwise program over ``inputs`` with the tiled kernel.

    Parameters
    ----------
    program : sequence of tuples
        Steps ``(op, dst, srcs)`` or ``(op, dst, srcs, (p0, p1))``: ``op`` a
        name from ``elementwise.UNARY_OPS`` / ``BINARY_OPS`` / ``TERNARY_OPS``
        / ``PARAM_OPS``, ``dst`` the register written (registers
        ``0..len(inputs)-1`` are the inputs), ``srcs`` the registers read.
        The last step's result is returned.
    inputs : sequence of ndarray
        float32 or float64 arrays of one dtype (see fused_chain.pxd for the
        layouts a chain accepts).

    Returns
    -------
    ndarray
        A new C-contiguous array of the inputs' broadcast shape.
    """
    cdef ChainStep steps[CHAIN_MAX_STEPS]
    cdef View views[CHAIN_MAX_INPUTS]
    cdef int k, s, status
    arrays = [np.asarray(a) for a in inputs]
    if not 1 <= len(arrays) <= CHAIN_MAX_INPUTS:
        raise ValueError(f"a chain takes 1 to {CHAIN_MAX_INPUTS} inputs, got {len(arrays)}")
    if not 1 <= len(program) <= CHAIN_MAX_STEPS:
        raise ValueError(f"a chain has 1 to {CHAIN_MAX_STEPS} steps, got {len(program)}")
    tables = (
        (_elementwise.UNARY_OPS, CHAIN_UNARY), (_elementwise.BINARY_OPS, CHAIN_BINARY),
        (_elementwise.TERNARY_OPS, CHAIN_TERNARY), (_elementwise.PARAM_OPS, CHAIN_PARAM),
    )
    for s, step in enumerate(program):
        name, dst, srcs = step[0], step[1], tuple(step[2])
        params = tuple(step[3]) if len(step) > 3 else ()
        for table, kind in tables:
            if name in table:
                steps[s].kind = kind
                steps[s].op = table[name]
                break
        else:
            raise ValueError(f"unknown elementwise op {name!r} in chain step {s}")
        if not 1 <= len(srcs) <= 3 or len(params) > 2:
            raise ValueError(f"chain step {s} needs 1-3 sources and at most 2 parameters, got {step!r}")
        steps[s].dst = dst
        for k in range(3):
            steps[s].src[k] = srcs[k] if k < len(srcs) else 0
        for k in range(2):
            steps[s].param[k] = params[k] if k < len(params) else 0.0
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    out = np.empty(shape, dtype=arrays[0].dtype)
    for k in range(len(arrays)):
        views[k] = view_of(arrays[k])
    cdef View vo = view_of(out)
    cdef int nsteps = len(program)
    cdef int ninputs = len(arrays)
    with nogil:
        status = run_chain(steps, nsteps, views, ninputs, &vo)
    raise_for_status(status, "fused chain",
                     ", ".join(f"{a.dtype} {a.shape}" for a in arrays))
    return out
