"""Recurrent sequences: one GEMM for every step's input projection, then per step one
recurrent product and fused gate math (see ``recurrent.pxd``)."""
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

# Multiply-adds of one direction before the other direction pays for a thread
# of its own (an OpenMP region costs a few microseconds).
cdef Py_ssize_t DIRECTION_GRAIN = 1 << 16


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


cdef inline void lstm_gates(real* g, real* c, real* h_full, real* tmp,
                            Py_ssize_t H) noexcept nogil:
    """``g`` = the pre-activations i, f, g, o of one row; updates ``c``, writes ``h_full``."""
    cdef Py_ssize_t j
    sigmoid_run(g, 2 * H)                     # i, f
    tanh_run(g + 2 * H, g + 2 * H, H)         # g
    sigmoid_run(g + 3 * H, H)                 # o
    for j in range(H):
        c[j] = g[H + j] * c[j] + g[j] * g[2 * H + j]
    tanh_run(c, tmp, H)
    for j in range(H):
        h_full[j] = g[3 * H + j] * tmp[j]


cdef inline void gru_gates(real* gi, const real* gh, real* h, Py_ssize_t H) noexcept nogil:
    """``gi``/``gh``: the input and recurrent pre-activations r, z, n of one row; updates ``h``."""
    cdef Py_ssize_t j
    for j in range(2 * H):
        gi[j] = gi[j] + gh[j]
    sigmoid_run(gi, 2 * H)                    # r, z
    for j in range(H):
        gi[2 * H + j] = gi[2 * H + j] + gi[j] * gh[2 * H + j]
    tanh_run(gi + 2 * H, gi + 2 * H, H)       # n
    for j in range(H):
        # (1 - z) n + z h in ATen's form: (h - n) z + n
        h[j] = (h[j] - gi[2 * H + j]) * gi[H + j] + gi[2 * H + j]


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
    cdef bint gru = s.mode == RNN_GRU, lstm = s.mode == RNN_LSTM
    cdef Status status
    if rows == 0 or G == 0:
        return JC_OK
    xproj = <real*>malloc(<size_t>(rows * G) * sizeof(real))
    if gru:
        gh = <real*>malloc(<size_t>(B * G) * sizeof(real))
    if lstm:
        h_full = <real*>malloc(<size_t>(B * H) * sizeof(real))
        tmp = <real*>malloc(<size_t>H * sizeof(real))
    if xproj == NULL or (gru and gh == NULL) or (lstm and (h_full == NULL or tmp == NULL)):
        status = JC_ERR_OOM
    else:
        status = _run_steps(s, w, x, out, out_column, reverse, h, c, xproj, gh, h_full, tmp)
    free(xproj)
    free(gh)
    free(h_full)
    free(tmp)
    return status


cdef Status _run_steps(const RnnSequence* s, const RnnWeights* w, const real* x, real* out,
                       Py_ssize_t out_column, bint reverse, real* h, real* c, real* xproj,
                       real* gh, real* h_full, real* tmp) noexcept nogil:
    cdef Py_ssize_t T = s.steps, B = s.batch, F = s.features, H = s.hidden
    cdef Py_ssize_t Hout = s.hidden_out, G = rnn_gates(s.mode) * H
    cdef Py_ssize_t rows = T * B, step, t, b, row
    cdef Py_ssize_t ldc = s.batch_stride * G     # between the batch rows of one step
    cdef const real* b_ih = <const real*>w.b_ih
    cdef const real* b_hh = <const real*>w.b_hh
    cdef real* g
    cdef bint gru = s.mode == RNN_GRU, lstm = s.mode == RNN_LSTM
    cdef Status status
    # every step's input projection at once; the biases that simply add, folded in
    status = gemm(False, True, rows, G, F, <real>1, x, F, <const real*>w.w_ih, F,
                  <real>0, xproj, G)
    if status != JC_OK:
        return status
    for row in range(rows):
        if b_ih != NULL:
            add_row(xproj + row * G, b_ih, G)
        if b_hh != NULL and not gru:
            add_row(xproj + row * G, b_hh, G)
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
                lstm_gates(g + b * ldc, c + b * H, h_full + b * H if w.w_hr != NULL else h + b * H,
                           tmp, H)
            elif gru:
                if b_hh != NULL:
                    add_row(gh + b * G, b_hh, G)
                gru_gates(g + b * ldc, gh + b * G, h + b * H, H)
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
