"""Recurrent sequences: one GEMM for every step's input projection, then per step one
recurrent product and fused gate math (see ``recurrent.pxd``); on packed weights the
product is ``gemv_rowmajor.h``'s and a step may split its hidden units over threads."""
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    Status, JC_OK, JC_ERR_OOM, JC_ERR_DTYPE, DT_FLOAT32, DT_FLOAT64, real,
)
from jitcore._runtime.kernels.blas cimport gemm
from jitcore._runtime.kernels.vecloops cimport (
    jc_sigmoid_f32_contig, jc_sigmoid_f64_contig, jc_tanh_f32_contig, jc_tanh_f64_contig,
)

cdef extern from "gemv_rowmajor.h" nogil:
    void jc_gemv_rowmajor_f32(Py_ssize_t k, Py_ssize_t n, const float* x, const float* w,
                              Py_ssize_t ldw, float* y)
    void jc_gemv_rowmajor_f64(Py_ssize_t k, Py_ssize_t n, const double* x, const double* w,
                              Py_ssize_t ldw, double* y)

# Multiply-adds of one direction before the other direction pays for a thread
# of its own (an OpenMP region costs a few microseconds).
cdef Py_ssize_t DIRECTION_GRAIN = 1 << 16
# Multiply-adds of one step's recurrent product (packed weights) before its
# hidden units are split over threads: one OpenMP region per step.
cdef Py_ssize_t STEP_GRAIN = 1 << 16
# Hidden units come to a thread in multiples of this (whole cache lines of a gate row).
cdef Py_ssize_t UNIT_BLOCK = 16
# False: every step runs on one thread (set by set_step_split, for A/B measurements)
cdef bint step_split_enabled = True


cdef int rnn_gates(int mode) noexcept nogil:
    if mode == RNN_LSTM:
        return 4
    if mode == RNN_GRU:
        return 3
    return 1


cdef inline void sigmoid_run(real* x, Py_ssize_t n) noexcept nogil:
    if real is float:
        jc_sigmoid_f32_contig(x, x, n)
    else:
        jc_sigmoid_f64_contig(x, x, n)


cdef inline void tanh_run(const real* x, real* out, Py_ssize_t n) noexcept nogil:
    if real is float:
        jc_tanh_f32_contig(x, out, n)
    else:
        jc_tanh_f64_contig(x, out, n)


cdef inline void add_row(real* row, const real* bias, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        row[j] = row[j] + bias[j]


cdef inline void add_rows(real* row, const real* b1, const real* b2, Py_ssize_t n) noexcept nogil:
    """``row + b1 + b2`` in one pass, summed in that order (the bits of two add_row calls)."""
    cdef Py_ssize_t j
    for j in range(n):
        row[j] = (row[j] + b1[j]) + b2[j]


cdef inline void gemv_acc(Py_ssize_t k, Py_ssize_t n, const real* x, const real* w,
                          Py_ssize_t ldw, real* y) noexcept nogil:
    if real is float:
        jc_gemv_rowmajor_f32(k, n, x, w, ldw, y)
    else:
        jc_gemv_rowmajor_f64(k, n, x, w, ldw, y)


cdef inline void lstm_gates(real* g, Py_ssize_t gs, Py_ssize_t n, real* c, real* h_full,
                            real* tmp) noexcept nogil:
    """``n`` units of one row: pre-activations i, f, g, o at ``g``, ``gs`` apart; updates
    ``c``, writes ``h_full``."""
    cdef Py_ssize_t j
    sigmoid_run(g, n)                         # i
    sigmoid_run(g + gs, n)                    # f
    tanh_run(g + 2 * gs, g + 2 * gs, n)       # g
    sigmoid_run(g + 3 * gs, n)                # o
    for j in range(n):
        c[j] = g[gs + j] * c[j] + g[j] * g[2 * gs + j]
    tanh_run(c, tmp, n)
    for j in range(n):
        h_full[j] = g[3 * gs + j] * tmp[j]


cdef inline void gru_gates(real* gi, const real* gh, Py_ssize_t gs, Py_ssize_t n,
                           const real* h_prev, real* h_next) noexcept nogil:
    """``n`` units of one row: ``gi``/``gh`` the input and recurrent pre-activations r, z, n
    (``gs`` apart); ``h_next`` (may be ``h_prev``) from ``h_prev``."""
    cdef Py_ssize_t j
    for j in range(n):
        gi[j] = gi[j] + gh[j]
        gi[gs + j] = gi[gs + j] + gh[gs + j]
    sigmoid_run(gi, n)                        # r
    sigmoid_run(gi + gs, n)                   # z
    for j in range(n):
        gi[2 * gs + j] = gi[2 * gs + j] + gi[j] * gh[2 * gs + j]
    tanh_run(gi + 2 * gs, gi + 2 * gs, n)     # n
    for j in range(n):
        # (1 - z) n + z h in ATen's form: (h - n) z + n
        h_next[j] = (h_prev[j] - gi[2 * gs + j]) * gi[gs + j] + gi[2 * gs + j]


cdef inline void simple_gates(real* g, real* h, int mode, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t j
    if mode == RNN_TANH:
        tanh_run(g, h, H)
    else:
        for j in range(H):
            # NaN stays NaN, as np.maximum(x, 0)
            h[j] = 0 if g[j] < 0 else g[j]


cdef Status run_direction(const RnnSequence* s, const RnnWeights* w, const real* x, real* out,
                          Py_ssize_t out_column, bint reverse, real* h, real* c) noexcept nogil:
    cdef Py_ssize_t B = s.batch, H = s.hidden, G = rnn_gates(s.mode) * H
    cdef Py_ssize_t rows = s.steps * B
    cdef real* xproj
    cdef real* gh = NULL
    cdef real* h_full = NULL
    cdef real* tmp = NULL
    cdef real* h_next = NULL
    cdef bint gru = s.mode == RNN_GRU, lstm = s.mode == RNN_LSTM
    cdef bint proj = lstm and w.w_hr != NULL
    cdef Status status
    if rows == 0 or G == 0:
        return JC_OK
    xproj = <real*>malloc(<size_t>(rows * G) * sizeof(real))
    if gru:
        gh = <real*>malloc(<size_t>(B * G) * sizeof(real))
    if lstm:
        h_full = <real*>malloc(<size_t>(B * H) * sizeof(real))
        tmp = <real*>malloc(<size_t>H * sizeof(real))
    if w.packed:
        # + 1: hidden_out may be 0 (malloc(0) may return NULL)
        h_next = <real*>malloc(<size_t>(B * s.hidden_out) * sizeof(real) + 1)
    if xproj == NULL or (gru and gh == NULL) or (lstm and (h_full == NULL or tmp == NULL)) \
            or (w.packed and h_next == NULL):
        status = JC_ERR_OOM
    elif w.packed:
        status = _run_packed_steps(s, w, x, out, out_column, reverse, h, c, xproj, gh,
                                   h_full if proj else NULL, tmp, h_next)
    else:
        status = _run_steps(s, w, x, out, out_column, reverse, h, c, xproj, gh, h_full, tmp)
    free(xproj)
    free(gh)
    free(h_full)
    free(tmp)
    free(h_next)
    return status


cdef Status _project_inputs(const RnnSequence* s, const RnnWeights* w, const real* x,
                            real* xproj) noexcept nogil:
    """Every step's input projection at once, the biases that simply add folded in."""
    cdef Py_ssize_t rows = s.steps * s.batch, F = s.features, G = rnn_gates(s.mode) * s.hidden
    cdef Py_ssize_t row
    cdef const real* b_ih = <const real*>w.b_ih
    cdef const real* b_hh = <const real*>w.b_hh
    cdef Status status
    # packed: w_ih^T (F x G) row-major; else w_ih (G x F), its transpose
    status = gemm(False, not w.packed, rows, G, F, <real>1, x, F, <const real*>w.w_ih,
                  G if w.packed else F, <real>0, xproj, G)
    if status != JC_OK:
        return status
    for row in range(rows):
        if b_ih != NULL and b_hh != NULL and s.mode != RNN_GRU:
            add_rows(xproj + row * G, b_ih, b_hh, G)
        elif b_ih != NULL:
            add_row(xproj + row * G, b_ih, G)
    return JC_OK


cdef void _packed_units(const RnnSequence* s, const RnnWeights* w, real* g, Py_ssize_t ldc,
                        const real* h_prev, real* h_next, real* c, real* h_full, real* gh,
                        real* tmp, Py_ssize_t u0, Py_ssize_t u1, bint backwards) noexcept nogil:
    """Hidden units ``[u0, u1)`` of one step, every batch row: their columns of each gate's
    recurrent product (``g``'s rows, or ``gh`` for the GRU, hold the rest of the sum), then
    their gate math.  Reads all of ``h_prev``; writes only units ``[u0, u1)``.

    ``backwards`` takes the gates last to first: alternate steps do, so that a step starts
    on the part of w_hh^T the previous one read last, still in L2 (a 1 MB w_hh^T does not
    fit beside the rest).  Each column is its own FMA chain, so the order never changes a
    bit."""
    cdef Py_ssize_t B = s.batch, H = s.hidden, Hout = s.hidden_out
    cdef int gates = rnn_gates(s.mode)
    cdef Py_ssize_t G = gates * H, n = u1 - u0, b, q, qq, j
    cdef const real* w_hh = <const real*>w.w_hh
    cdef const real* b_hh = <const real*>w.b_hh
    cdef const real* hp
    cdef real* row
    cdef real* ghrow
    if n <= 0:
        return
    for b in range(B):
        row = g + b * ldc
        hp = h_prev + b * Hout
        if s.mode == RNN_GRU:
            ghrow = gh + b * G
            for qq in range(gates):
                q = gates - 1 - qq if backwards else qq
                for j in range(u0, u1):
                    ghrow[q * H + j] = b_hh[q * H + j] if b_hh != NULL else 0
                gemv_acc(Hout, n, hp, w_hh + q * H + u0, G, ghrow + q * H + u0)
            gru_gates(row + u0, ghrow + u0, H, n, hp + u0, h_next + b * Hout + u0)
            continue
        for qq in range(gates):
            q = gates - 1 - qq if backwards else qq
            gemv_acc(Hout, n, hp, w_hh + q * H + u0, G, row + q * H + u0)
        if s.mode == RNN_LSTM:
            lstm_gates(row + u0, H, n, c + b * H + u0,
                       (h_full + b * H if h_full != NULL else h_next + b * Hout) + u0, tmp + u0)
        else:
            simple_gates(row + u0, h_next + b * Hout + u0, s.mode, n)


cdef inline Py_ssize_t unit_edge(int part, int parts, Py_ssize_t H) noexcept nogil:
    """Where thread ``part``'s hidden units start: whole UNIT_BLOCKs, split evenly."""
    cdef Py_ssize_t blocks = (H + UNIT_BLOCK - 1) // UNIT_BLOCK
    return min(H, (part * blocks // parts) * UNIT_BLOCK)


cdef Status _run_packed_steps(const RnnSequence* s, const RnnWeights* w, const real* x,
                              real* out, Py_ssize_t out_column, bint reverse, real* h, real* c,
                              real* xproj, real* gh, real* h_full, real* tmp,
                              real* h_next) noexcept nogil:
    """The steps on packed weights: h is double-buffered (``h`` and ``h_next``) so that a
    step's threads all read the previous state while each writes its slice of the new one."""
    cdef Py_ssize_t T = s.steps, B = s.batch, H = s.hidden, Hout = s.hidden_out
    cdef Py_ssize_t G = rnn_gates(s.mode) * H
    cdef Py_ssize_t ldc = s.batch_stride * G, step, t, b, row
    cdef real* h_prev = h
    cdef real* swap
    cdef real* g
    cdef int nt, part
    cdef Status status = _project_inputs(s, w, x, xproj)
    if status != JC_OK:
        return status
    nt = threads_for(B * G * Hout, STEP_GRAIN) if step_split_enabled else 1
    if nt > (H + UNIT_BLOCK - 1) // UNIT_BLOCK:
        nt = <int>((H + UNIT_BLOCK - 1) // UNIT_BLOCK)
    for step in range(T):
        t = T - 1 - step if reverse else step
        g = xproj + t * s.time_stride * G      # the row of (t, 0); batch rows ldc apart
        if nt >= 2:
            for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
                _packed_units(s, w, g, ldc, h_prev, h_next, c, h_full, gh, tmp,
                              unit_edge(part, nt, H), unit_edge(part + 1, nt, H), step % 2 == 1)
        else:
            _packed_units(s, w, g, ldc, h_prev, h_next, c, h_full, gh, tmp, 0, H, step % 2 == 1)
        if h_full != NULL:
            status = gemm(False, True, B, Hout, H, <real>1, h_full, H, <const real*>w.w_hr, H,
                          <real>0, h_next, Hout)
            if status != JC_OK:
                return status
        for b in range(B):
            row = t * s.time_stride + b * s.batch_stride
            memcpy(out + row * s.out_width + out_column, h_next + b * Hout, Hout * sizeof(real))
        swap = h_prev
        h_prev = h_next
        h_next = swap
    if h_prev != h:
        memcpy(h, h_prev, <size_t>(B * Hout) * sizeof(real))
    return JC_OK


cdef Status _run_steps(const RnnSequence* s, const RnnWeights* w, const real* x, real* out,
                       Py_ssize_t out_column, bint reverse, real* h, real* c, real* xproj,
                       real* gh, real* h_full, real* tmp) noexcept nogil:
    cdef Py_ssize_t T = s.steps, B = s.batch, H = s.hidden
    cdef Py_ssize_t Hout = s.hidden_out, G = rnn_gates(s.mode) * H
    cdef Py_ssize_t step, t, b, row
    cdef Py_ssize_t ldc = s.batch_stride * G     # between the batch rows of one step
    cdef const real* b_hh = <const real*>w.b_hh
    cdef real* g
    cdef bint gru = s.mode == RNN_GRU, lstm = s.mode == RNN_LSTM
    cdef Status status
    status = _project_inputs(s, w, x, xproj)
    if status != JC_OK:
        return status
    for step in range(T):
        t = T - 1 - step if reverse else step
        g = xproj + t * s.time_stride * G      # the row of (t, 0); batch rows ldc apart
        if gru:
            status = gemm(False, True, B, G, Hout, <real>1, h, Hout, <const real*>w.w_hh, Hout,
                          <real>0, gh, G)
        else:
            status = gemm(False, True, B, G, Hout, <real>1, h, Hout, <const real*>w.w_hh, Hout,
                          <real>1, g, ldc)
        if status != JC_OK:
            return status
        for b in range(B):
            if lstm:
                lstm_gates(g + b * ldc, H, H, c + b * H,
                           h_full + b * H if w.w_hr != NULL else h + b * H, tmp)
            elif gru:
                if b_hh != NULL:
                    add_row(gh + b * G, b_hh, G)
                gru_gates(g + b * ldc, gh + b * G, H, H, h + b * H, h + b * H)
            else:
                simple_gates(g + b * ldc, h + b * H, s.mode, H)
        if lstm and w.w_hr != NULL:
            status = gemm(False, True, B, Hout, H, <real>1, h_full, H, <const real*>w.w_hr, H,
                          <real>0, h, Hout)
            if status != JC_OK:
                return status
        for b in range(B):
            row = t * s.time_stride + b * s.batch_stride
            if out + row * s.out_width + out_column != h + b * Hout:
                memcpy(out + row * s.out_width + out_column, h + b * Hout, Hout * sizeof(real))
    return JC_OK


cdef Status rnn_direction(const RnnSequence* seq, const RnnWeights* w, const char* x,
                          char* out, Py_ssize_t out_column, bint reverse,
                          char* h, char* c) noexcept nogil:
    if seq.dtype == DT_FLOAT32:
        return run_direction(seq, w, <const float*>x, <float*>out, out_column, reverse,
                             <float*>h, <float*>c)
    if seq.dtype == DT_FLOAT64:
        return run_direction(seq, w, <const double*>x, <double*>out, out_column, reverse,
                             <double*>h, <double*>c)
    return JC_ERR_DTYPE


cdef Status rnn_layer(const RnnSequence* seq, const RnnWeights* w, int directions,
                      const char* x, char* out, char** h, char** c) noexcept nogil:
    cdef Status status[2]
    cdef Py_ssize_t work = seq.steps * seq.batch * rnn_gates(seq.mode) * seq.hidden \
        * (seq.features + seq.hidden_out)
    cdef int d
    cdef int nt = threads_for(work, DIRECTION_GRAIN) if directions == 2 else 1
    status[0] = JC_OK
    status[1] = JC_OK
    if nt >= 2:
        for d in prange(2, nogil=True, num_threads=2, schedule='static', chunksize=1):
            status[d] = rnn_direction(seq, &w[d], x, out, d * seq.hidden_out, d == 1, h[d], c[d])
    else:
        for d in range(directions):
            status[d] = rnn_direction(seq, &w[d], x, out, d * seq.hidden_out, d == 1, h[d], c[d])
            if status[d] != JC_OK:
                break
    return status[0] if status[0] != JC_OK else status[1]


def set_step_split(bint enabled):
    """Let a step's recurrent product on packed weights split its hidden units over
    threads (the default) or keep every step on one thread, process-wide, for A/B
    measurements in one process (``benchmarks/bench_decode_ab.py``).

    Parameters
    ----------
    enabled : bool

    Returns
    -------
    bool
        The previous setting.
    """
    global step_split_enabled
    previous = step_split_enabled
    step_split_enabled = enabled
    return previous
