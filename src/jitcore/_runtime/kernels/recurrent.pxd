# Recurrent sequences (ATen ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` and their
# cells): one layer and direction at a time.
#
# The input projection of every time step is ONE GEMM (rows x G*H); each step
# then adds the recurrent product ``h W_hh^T`` (one GEMM, a GEMV at batch 1) and
# applies the gate math row by row with vecmath's contiguous sigmoid/tanh loops,
# writing h straight into the output.  The products go through ``blas.gemm``,
# whose panels are fixed by the shape, so the bits are the same at every thread
# count; the vecmath loops give the same bits at every ISA level.
#
# Layout: the sequence is a matrix of ``steps * batch`` rows; the row of step t,
# batch b is ``t * time_stride + b * batch_stride`` (time-major: (batch, 1);
# batch-first: (1, steps)).  The input has ``features`` columns, the output
# ``out_width`` (D * hidden_out), a direction writing columns
# ``[out_column, out_column + hidden_out)``.  Every array is C-contiguous.
from jitcore._runtime.kernels.view cimport Status

cdef enum RnnMode:
    RNN_LSTM = 0
    RNN_GRU = 1
    RNN_TANH = 2
    RNN_RELU = 3

# Gate blocks stacked in w_ih / w_hh: LSTM i, f, g, o; GRU r, z, n; RNN one.
cdef int rnn_gates(int mode) noexcept nogil

# The weights of one layer and direction (raw data of C-contiguous arrays of
# the sequence's dtype): w_ih (G*H, features), w_hh (G*H, hidden_out), b_ih and
# b_hh (G*H,) or NULL, w_hr (hidden_out, hidden) or NULL (LSTM projection).
# ``packed``: w_ih and w_hh are stored transposed, (features, G*H) and
# (hidden_out, G*H), as the ``jc::*_packed`` ops take them: the input
# projection is then a product of row-major operands (the unpacked GEMM
# kernel) and each step's recurrent product ``gemv_rowmajor.h``'s chains,
# whose bits depend on neither the thread count nor the BLAS; at two threads
# a step splits the hidden units, each thread its slice of every gate.
ctypedef struct RnnWeights:
    const char* w_ih
    const char* w_hh
    const char* b_ih
    const char* b_hh
    const char* w_hr
    bint packed

ctypedef struct RnnSequence:
    int mode                    # an RnnMode
    int dtype                   # DT_FLOAT32 or DT_FLOAT64
    Py_ssize_t steps, batch, features, hidden, hidden_out
    Py_ssize_t time_stride, batch_stride    # in rows
    Py_ssize_t out_width

# Run one direction over the whole sequence.  ``h`` (batch, hidden_out) holds
# h0 on entry and h_n on return; ``c`` (batch, hidden) the same for the LSTM
# cell state (NULL otherwise).  ``reverse`` runs from the last step to the
# first.  JC_ERR_OOM when the workspace cannot be allocated; BLAS's size
# limits as ``blas.gemm``.
cdef Status rnn_direction(const RnnSequence* seq, const RnnWeights* w, const char* x,
                          char* out, Py_ssize_t out_column, bint reverse,
                          char* h, char* c) noexcept nogil

# Both directions of one layer (``directions`` 1 or 2, weights/h/c one per
# direction, the reverse one writing columns [hidden_out, 2 hidden_out)), in
# two OpenMP threads when the work pays for a second thread.
cdef Status rnn_layer(const RnnSequence* seq, const RnnWeights* w, int directions,
                      const char* x, char* out, char** h, char** c) noexcept nogil
