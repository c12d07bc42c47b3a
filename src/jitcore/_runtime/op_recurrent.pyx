"""Handlers of the recurrent ops: ``aten::lstm``/``gru``/``rnn_tanh``/``rnn_relu`` (``.input``),
their ``jc::*_packed`` forms (weights transposed at freeze) and their cells.  They check every shape and dtype, then run ``kernels/recurrent`` layer by
layer (see ``recurrent.pxd`` for the kernel's layout)."""
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR, R_LIST, R_TUPLE
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_release, tensor_contiguous
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    tensor_arg, int_arg, double_arg, is_float_dtype, set_output,
)
from jitcore._runtime.kernels.view cimport (
    View, JC_OK, JC_ERR_DTYPE, JC_ERR_SHAPE, JC_ERR_VALUE, JC_ERR_OOM, itemsize_of,
)
from jitcore._runtime.kernels.recurrent cimport (
    RnnSequence, RnnWeights, RNN_LSTM, RNN_GRU, RNN_TANH, RNN_RELU, rnn_gates, rnn_layer,
)
from jitcore._runtime.kernels.dropout cimport dropout_kernel, next_dropout_seed

cdef const Tensor* list_tensor(const Reg* r, Py_ssize_t k) noexcept nogil:
    """Item ``k`` of a list/tuple register when it is a tensor, else NULL."""
    if (r.tag != R_LIST and r.tag != R_TUPLE) or k >= r.seq.size:
        return NULL
    if r.seq.items[k].tag != R_TENSOR:
        return NULL
    return &r.seq.items[k].t


cdef bint has_shape(const View* v, int ndim, Py_ssize_t d0, Py_ssize_t d1,
                    Py_ssize_t d2) noexcept nogil:
    if v.ndim != ndim or v.shape[0] != d0:
        return False
    if ndim > 1 and v.shape[1] != d1:
        return False
    return ndim < 3 or v.shape[2] == d2


cdef int contiguous_state(const Tensor* src, int dtype, Py_ssize_t n0, Py_ssize_t n1,
                          Py_ssize_t n2, int ndim, Tensor* out) noexcept nogil:
    """``out``: a new C-contiguous copy of state ``src`` (shape checked), the kernel's h/c."""
    cdef Tensor dense
    cdef Py_ssize_t shape[3]
    cdef int status
    out.storage = NULL
    if src.view.dtype != dtype:
        return JC_ERR_DTYPE
    if not has_shape(&src.view, ndim, n0, n1, n2):
        return JC_ERR_SHAPE
    shape[0], shape[1], shape[2] = n0, n1, n2
    status = tensor_alloc(out, dtype, ndim, shape)
    if status != JC_OK:
        return status
    status = tensor_contiguous(&dense, src)
    if status != JC_OK:
        tensor_release(out)
        return status
    memcpy(out.view.data, dense.view.data,
           <size_t>(n0 * (n1 if ndim > 1 else 1) * (n2 if ndim > 2 else 1)) * itemsize_of(dtype))
    tensor_release(&dense)
    return JC_OK


cdef void release_all(Tensor* tensors, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    if tensors == NULL:
        return
    for k in range(n):
        tensor_release(&tensors[k])
    free(tensors)


cdef Tensor* contiguous_params(const Reg* params, int dtype, int* status) noexcept nogil:
    """Every tensor of ``params`` C-contiguous (shared when it is), in one malloc'd array."""
    cdef Py_ssize_t n = params.seq.size, k
    cdef Tensor* dense = <Tensor*>malloc(<size_t>(n if n > 0 else 1) * sizeof(Tensor))
    status[0] = JC_OK
    if dense == NULL:
        status[0] = JC_ERR_OOM
        return NULL
    for k in range(n):
        dense[k].storage = NULL
    for k in range(n):
        if params.seq.items[k].tag != R_TENSOR:
            status[0] = JC_ERR_TYPE
        elif params.seq.items[k].t.view.dtype != dtype:
            status[0] = JC_ERR_DTYPE
        else:
            status[0] = tensor_contiguous(&dense[k], &params.seq.items[k].t)
        if status[0] != JC_OK:
            release_all(dense, n)
            return NULL
    return dense


cdef int read_states(Frame* f, const Reg* hx, int mode, const Tensor** h0,
                     const Tensor** c0) noexcept nogil:
    """The initial states: ``hx`` itself, or for the LSTM its list ``[h0, c0]``."""
    c0[0] = NULL
    if mode == RNN_LSTM:
        h0[0] = list_tensor(hx, 0)
        c0[0] = list_tensor(hx, 1)
        if h0[0] == NULL or c0[0] == NULL or hx.seq.size != 2:
            return frame_fail(f, JC_ERR_TYPE, b"an LSTM's hx must be a list of two tensors [h, c]")
    elif hx.tag == R_TENSOR:
        h0[0] = &hx.t
    else:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor hx")
    return JC_OK


ctypedef struct Geometry:
    int mode, layers, directions, per
    bint biases, proj
    bint packed         # w_ih, w_hh transposed: (features, gates), (hidden_out, gates)
    Py_ssize_t steps, batch, features, hidden, hidden_out


cdef int check_weights(Frame* f, const Geometry* g, const Tensor* p) noexcept nogil:
    """The shape of every layer's and direction's weights, as ATen checks them."""
    cdef int layer, d, k
    cdef Py_ssize_t gates = rnn_gates(g.mode) * g.hidden, features
    for layer in range(g.layers):
        features = g.features if layer == 0 else g.directions * g.hidden_out
        for d in range(g.directions):
            k = (layer * g.directions + d) * g.per
            if g.packed and not has_shape(&p[k].view, 2, features, gates, 0):
                return frame_fail(f, JC_ERR_SHAPE, b"a packed weight_ih has the wrong shape: "
                                  b"expected (features of the layer's input, gates * hidden_size)")
            if g.packed and not has_shape(&p[k + 1].view, 2, g.hidden_out, gates, 0):
                return frame_fail(f, JC_ERR_SHAPE, b"a packed weight_hh has the wrong shape: "
                                  b"expected (hidden_size or proj_size, gates * hidden_size)")
            if not g.packed and not has_shape(&p[k].view, 2, gates, features, 0):
                return frame_fail(f, JC_ERR_SHAPE, b"a weight_ih has the wrong shape: expected "
                                  b"(gates * hidden_size, features of the layer's input)")
            if not g.packed and not has_shape(&p[k + 1].view, 2, gates, g.hidden_out, 0):
                return frame_fail(f, JC_ERR_SHAPE, b"a weight_hh has the wrong shape: expected "
                                  b"(gates * hidden_size, hidden_size or proj_size)")
            if g.biases and (not has_shape(&p[k + 2].view, 1, gates, 0, 0)
                             or not has_shape(&p[k + 3].view, 1, gates, 0, 0)):
                return frame_fail(f, JC_ERR_SHAPE, b"a bias has the wrong shape: expected "
                                  b"(gates * hidden_size,)")
            if g.proj and not has_shape(&p[k + g.per - 1].view, 2, g.hidden_out, g.hidden, 0):
                return frame_fail(f, JC_ERR_SHAPE, b"a weight_hr has the wrong shape: expected "
                                  b"(proj_size, hidden_size)")
    return JC_OK


cdef RnnWeights weights_at(const Geometry* g, const Tensor* p, int layer, int d) noexcept nogil:
    cdef int k = (layer * g.directions + d) * g.per
    cdef RnnWeights w
    w.w_ih = p[k].view.data
    w.w_hh = p[k + 1].view.data
    w.b_ih = p[k + 2].view.data if g.biases else NULL
    w.b_hh = p[k + 3].view.data if g.biases else NULL
    w.w_hr = p[k + g.per - 1].view.data if g.proj else NULL
    w.packed = g.packed
    return w


cdef int run_layers(const Geometry* g, const Tensor* p, const View* x, bint batch_first,
                    double dropout, bint train, View* out, View* h_n, View* c_n) noexcept nogil:
    """Every layer in turn; between layers the sequence lives in malloc'd buffers."""
    cdef Py_ssize_t rows = g.steps * g.batch, width = g.directions * g.hidden_out
    cdef Py_ssize_t isz = itemsize_of(x.dtype)
    cdef Py_ssize_t h_stride = g.batch * g.hidden_out * isz, c_stride = g.batch * g.hidden * isz
    cdef char* buffers[2]
    cdef char* h[2]
    cdef char* c[2]
    cdef RnnWeights w[2]
    cdef RnnSequence seq
    cdef const char* src = x.data
    cdef char* dst
    cdef View between
    cdef int layer, d, status = JC_OK
    buffers[0] = NULL
    buffers[1] = NULL
    if g.layers > 1:
        # + 1: an empty sequence still gets a pointer (malloc(0) may return NULL)
        buffers[0] = <char*>malloc(<size_t>(rows * width * isz) + 1)
        if g.layers > 2:
            buffers[1] = <char*>malloc(<size_t>(rows * width * isz) + 1)
        if buffers[0] == NULL or (g.layers > 2 and buffers[1] == NULL):
            free(buffers[0])
            free(buffers[1])
            return JC_ERR_OOM
    seq.mode = g.mode
    seq.dtype = x.dtype
    seq.steps = g.steps
    seq.batch = g.batch
    seq.hidden = g.hidden
    seq.hidden_out = g.hidden_out
    seq.time_stride = 1 if batch_first else g.batch
    seq.batch_stride = g.steps if batch_first else 1
    seq.out_width = width
    for layer in range(g.layers):
        seq.features = g.features if layer == 0 else width
        dst = out.data if layer == g.layers - 1 else buffers[layer % 2]
        for d in range(g.directions):
            w[d] = weights_at(g, p, layer, d)
            h[d] = h_n.data + (layer * g.directions + d) * h_stride
            c[d] = c_n.data + (layer * g.directions + d) * c_stride if c_n != NULL else NULL
        status = rnn_layer(&seq, w, g.directions, src, dst, h, c)
        if status == JC_OK and train and dropout > 0 and layer < g.layers - 1:
            between.data = dst
            between.dtype = x.dtype
            between.ndim = 1
            between.shape[0] = rows * width
            between.strides[0] = isz
            status = dropout_kernel(&between, dropout, next_dropout_seed(), &between)
        if status != JC_OK:
            break
        src = dst
    free(buffers[0])
    free(buffers[1])
    return status


cdef int h_rnn(Frame* f, const Instr* ins) noexcept nogil:
    # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    cdef long long biases, layers, train, bidirectional, batch_first
    cdef double dropout
    if int_arg(f, ins, 3, &biases) != JC_OK or int_arg(f, ins, 4, &layers) != JC_OK \
            or double_arg(f, ins, 5, &dropout) != JC_OK or int_arg(f, ins, 6, &train) != JC_OK \
            or int_arg(f, ins, 7, &bidirectional) != JC_OK \
            or int_arg(f, ins, 8, &batch_first) != JC_OK:
        return JC_ERR_TYPE
    return run_rnn(f, ins, False, biases, layers, dropout, train, bidirectional, batch_first)


cdef int h_rnn_packed(Frame* f, const Instr* ins) noexcept nogil:
    # (input, hx, params, has_biases, num_layers, bidirectional, batch_first)
    cdef long long biases, layers, bidirectional, batch_first
    if int_arg(f, ins, 3, &biases) != JC_OK or int_arg(f, ins, 4, &layers) != JC_OK \
            or int_arg(f, ins, 5, &bidirectional) != JC_OK \
            or int_arg(f, ins, 6, &batch_first) != JC_OK:
        return JC_ERR_TYPE
    return run_rnn(f, ins, True, biases, layers, 0.0, 0, bidirectional, batch_first)


cdef int run_rnn(Frame* f, const Instr* ins, bint packed, long long biases, long long layers,
                 double dropout, long long train, long long bidirectional,
                 long long batch_first) noexcept nogil:
    """Both schemas' common part: inputs 0-2 are (input, hx, params)."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Reg* hx = IN(f, ins, 1)
    cdef Reg* params = IN(f, ins, 2)
    cdef const Tensor* h0
    cdef const Tensor* c0 = NULL
    cdef Geometry g
    cdef Tensor dense_x, output, h_n, c_n
    cdef Tensor* p = NULL
    cdef Py_ssize_t shape[3], n_params
    cdef int status, per_with_proj
    if x == NULL:
        return JC_ERR_TYPE
    g.packed = packed
    g.mode = <int>ins.imm
    if read_states(f, hx, g.mode, &h0, &c0) != JC_OK:
        return JC_ERR_TYPE
    if params.tag != R_LIST and params.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list of weight tensors (params)")
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"recurrent layers take float32 or float64 input")
    if x.ndim != 3:
        return frame_fail(f, JC_ERR_SHAPE, b"expected a 3-D input (seq, batch, feature), or "
                          b"(batch, seq, feature) with batch_first")
    if not (0.0 <= dropout <= 1.0):
        return frame_fail(f, JC_ERR_VALUE, b"dropout must be in [0, 1]")
    n_params = params.seq.size
    # every layer has params, so a count beyond theirs is wrong (and never overflows int)
    g.layers = <int>layers if 0 < layers <= n_params else 0
    g.directions = 2 if bidirectional else 1
    g.biases = biases != 0
    if g.layers == 0 or n_params % (g.layers * g.directions) != 0:
        return frame_fail(f, JC_ERR_VALUE, b"the number of params does not fit num_layers "
                          b"and bidirectional")
    g.per = <int>(n_params // (g.layers * g.directions))
    per_with_proj = 5 if g.biases else 3
    g.proj = g.mode == RNN_LSTM and g.per == per_with_proj
    if g.per != (4 if g.biases else 2) + (1 if g.proj else 0):
        return frame_fail(f, JC_ERR_VALUE, b"the number of params does not fit num_layers, "
                          b"bidirectional and has_biases")
    g.steps = x.shape[1] if batch_first else x.shape[0]
    g.batch = x.shape[0] if batch_first else x.shape[1]
    g.features = x.shape[2]
    p = contiguous_params(params, x.dtype, &status)
    if p == NULL:
        if status == JC_ERR_DTYPE:
            return frame_fail(f, status, b"every weight must have the input's dtype")
        return frame_fail(f, status, b"params must be tensors")
    if p[1].view.ndim != 2 or (g.proj and p[g.per - 1].view.ndim != 2):
        release_all(p, n_params)
        return frame_fail(f, JC_ERR_SHAPE, b"weight_hh and weight_hr must be 2-D")
    g.hidden_out = p[1].view.shape[0 if g.packed else 1]
    g.hidden = p[g.per - 1].view.shape[1] if g.proj else g.hidden_out
    if p[1].view.shape[1 if g.packed else 0] != rnn_gates(g.mode) * g.hidden:
        release_all(p, n_params)
        return frame_fail(f, JC_ERR_SHAPE, b"weight_hh_l0 has the wrong number of rows for "
                          b"the op's gates")
    status = check_weights(f, &g, p)
    if status != JC_OK:
        release_all(p, n_params)
        return status
    output.storage = NULL
    h_n.storage = NULL
    c_n.storage = NULL
    dense_x.storage = NULL
    status = contiguous_state(h0, x.dtype, g.layers * g.directions, g.batch, g.hidden_out, 3,
                              &h_n)
    if status != JC_OK:
        release_all(p, n_params)
        return frame_fail(f, status, b"h0 must have shape (num_layers * num_directions, batch, "
                          b"hidden_size or proj_size) and the input's dtype")
    if c0 != NULL:
        status = contiguous_state(c0, x.dtype, g.layers * g.directions, g.batch, g.hidden, 3,
                                  &c_n)
        if status != JC_OK:
            release_all(p, n_params)
            tensor_release(&h_n)
            return frame_fail(f, status, b"c0 must have shape (num_layers * num_directions, "
                              b"batch, hidden_size) and the input's dtype")
    shape[0], shape[1], shape[2] = x.shape[0], x.shape[1], g.directions * g.hidden_out
    status = tensor_alloc(&output, x.dtype, 3, shape)
    if status == JC_OK:
        status = tensor_contiguous(&dense_x, &IN(f, ins, 0).t)
    if status == JC_OK:
        status = run_layers(&g, p, &dense_x.view, batch_first != 0, dropout, train != 0,
                            &output.view, &h_n.view, &c_n.view if c0 != NULL else NULL)
    release_all(p, n_params)
    tensor_release(&dense_x)
    if status != JC_OK:
        tensor_release(&output)
        tensor_release(&h_n)
        tensor_release(&c_n)
        return status
    set_output(f, ins, 0, &output)
    set_output(f, ins, 1, &h_n)
    if c0 != NULL:
        set_output(f, ins, 2, &c_n)
    return JC_OK


cdef int h_cell(Frame* f, const Instr* ins) noexcept nogil:
    # (input, hx, w_ih, w_hh, b_ih, b_hh); lstm_cell's hx is [h, c]
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Reg* hx = IN(f, ins, 1)
    cdef const Tensor* h0
    cdef const Tensor* c0 = NULL
    cdef Tensor p[4]
    cdef Tensor h1, c1
    cdef Reg* r
    cdef Geometry g
    cdef RnnSequence seq
    cdef RnnWeights w
    cdef char* hp[2]
    cdef char* cp[2]
    cdef int k, status = JC_OK
    if x == NULL:
        return JC_ERR_TYPE
    g.mode = <int>ins.imm
    g.packed = False
    if read_states(f, hx, g.mode, &h0, &c0) != JC_OK:
        return JC_ERR_TYPE
    if not is_float_dtype(x.dtype):
        return frame_fail(f, JC_ERR_DTYPE, b"recurrent cells take float32 or float64 input")
    if x.ndim != 2:
        return frame_fail(f, JC_ERR_SHAPE, b"expected a 2-D input (batch, input_size)")
    g.biases = IN(f, ins, 4).tag != R_NONE
    if g.biases != (IN(f, ins, 5).tag != R_NONE):
        return frame_fail(f, JC_ERR_VALUE, b"b_ih and b_hh must both be given or both be None")
    for k in range(4):
        p[k].storage = NULL
    for k in range(4 if g.biases else 2):
        r = IN(f, ins, 2 + k)
        if r.tag != R_TENSOR:
            status = frame_fail(f, JC_ERR_TYPE, b"expected tensor weights")
        elif r.t.view.dtype != x.dtype:
            status = frame_fail(f, JC_ERR_DTYPE, b"every weight must have the input's dtype")
        else:
            status = tensor_contiguous(&p[k], &r.t)
        if status != JC_OK:
            break
    if status == JC_OK and p[1].view.ndim != 2:
        status = frame_fail(f, JC_ERR_SHAPE, b"w_hh must be 2-D (gates * hidden_size, hidden_size)")
    if status == JC_OK:
        g.layers = 1
        g.directions = 1
        g.per = 4 if g.biases else 2
        g.proj = False
        g.steps = 1
        g.batch = x.shape[0]
        g.features = x.shape[1]
        g.hidden = g.hidden_out = p[1].view.shape[1]
        status = check_weights(f, &g, p)
    h1.storage = NULL
    c1.storage = NULL
    if status == JC_OK:
        status = contiguous_state(h0, x.dtype, g.batch, g.hidden, 0, 2, &h1)
        if status != JC_OK:
            frame_fail(f, status, b"hx must have shape (batch, hidden_size) and the input's dtype")
    if status == JC_OK and c0 != NULL:
        status = contiguous_state(c0, x.dtype, g.batch, g.hidden, 0, 2, &c1)
        if status != JC_OK:
            frame_fail(f, status, b"c must have shape (batch, hidden_size) and the input's dtype")
    if status == JC_OK:
        # one step of a one-layer sequence whose output rows are h itself
        seq.mode = g.mode
        seq.dtype = x.dtype
        seq.steps = 1
        seq.batch = g.batch
        seq.features = g.features
        seq.hidden = seq.hidden_out = g.hidden
        seq.time_stride = g.batch
        seq.batch_stride = 1
        seq.out_width = g.hidden
        w = weights_at(&g, p, 0, 0)
        hp[0] = h1.view.data
        cp[0] = c1.view.data if c0 != NULL else NULL
        status = _cell_step(&seq, &w, &IN(f, ins, 0).t, hp, cp)
    for k in range(4):
        tensor_release(&p[k])
    if status != JC_OK:
        tensor_release(&h1)
        tensor_release(&c1)
        return status
    set_output(f, ins, 0, &h1)
    if c0 != NULL:
        set_output(f, ins, 1, &c1)
    return JC_OK


cdef int _cell_step(const RnnSequence* seq, const RnnWeights* w, const Tensor* x_tensor,
                    char** h, char** c) noexcept nogil:
    cdef Tensor dense
    cdef int status = tensor_contiguous(&dense, x_tensor)
    if status != JC_OK:
        return status
    status = rnn_layer(seq, w, 1, dense.view.data, h[0], h, c)
    tensor_release(&dense)
    return status


_MODES = {"lstm": RNN_LSTM, "gru": RNN_GRU, "rnn_tanh": RNN_TANH, "rnn_relu": RNN_RELU}

HANDLERS = {h.name: h for h in (
    handler("rnn", h_rnn, _MODES),
    handler("rnn_packed", h_rnn_packed, _MODES),
    handler("rnn_cell", h_cell, _MODES),
)}
