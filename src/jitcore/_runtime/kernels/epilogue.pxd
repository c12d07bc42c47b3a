# The fused epilogue of GEMM-shaped kernels (linear, matmul, addmm, conv2d):
# add a bias, apply an activation and add a residual to an output tile right
# after BLAS wrote it, while the tile is still in cache, instead of three more
# passes over memory.
from libc.math cimport exp, expf, erf, erff, tanh, tanhf
from jitcore._runtime.kernels.view cimport View, real

cdef enum Activation:
    ACT_NONE = 0
    ACT_RELU = 1
    ACT_GELU_ERF = 2      # 0.5 x (1 + erf(x / sqrt 2))
    ACT_GELU_TANH = 3     # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    ACT_SILU = 4          # x sigmoid(x)
    ACT_SIGMOID = 5
    ACT_TANH = 6
    ACT_COUNT = 7

# What a caller asks of a kernel's epilogue (NULL pointer: nothing).
#   bias      NULL or a 1-D view; linear/matmul/addmm add it along the last
#             output dim (length n), conv2d per output channel (length C_out).
#   activation  an Activation code, applied after the bias.
#   residual  NULL or a view with exactly the output's shape (any strides;
#             zero strides express broadcasting) added to the result,
#             before the activation, or after it when residual_after_activation.
ctypedef struct Epilogue:
    const View* bias
    int activation
    const View* residual
    bint residual_after_activation

# The same, resolved to pointers for one row-major output tile of
# ``rows x cols``: element (i, j) of an operand lives at
# ``ptr + i * row_stride + j * col_stride`` (bytes).  ``addend`` carries a
# bias (or addmm's input) scaled by ``addend_scale``.
ctypedef struct TileEpilogue:
    const char* addend
    Py_ssize_t addend_row_stride
    Py_ssize_t addend_col_stride
    double addend_scale
    int activation
    const char* residual
    Py_ssize_t residual_row_stride
    Py_ssize_t residual_col_stride
    bint residual_after_activation


cdef inline bint epilogue_is_empty(const TileEpilogue* t) noexcept nogil:
    return t.addend == NULL and t.activation == ACT_NONE and t.residual == NULL


cdef inline real sigmoid_of(real x) noexcept nogil:
    # Split on the sign so exp never overflows.
    cdef real e
    if real is float:
        if x >= 0:
            return 1.0 / (1.0 + expf(-x))
        e = expf(x)
    else:
        if x >= 0:
            return 1.0 / (1.0 + exp(-x))
        e = exp(x)
    return e / (1 + e)


cdef inline void activate_row(real* x, Py_ssize_t n, int activation) noexcept nogil:
    """Apply ``activation`` in place to ``n`` contiguous values."""
    cdef Py_ssize_t j
    cdef real v
    # The switch sits outside the loops so each loop vectorises on its own.
    if activation == ACT_RELU:
        for j in range(n):
            x[j] = x[j] if x[j] > 0 else (x[j] * 0 if x[j] != x[j] else 0)
    elif activation == ACT_GELU_ERF:
        for j in range(n):
            v = x[j]
            if real is float:
                x[j] = 0.5 * v * (1 + erff(v * <float>0.7071067811865476))
            else:
                x[j] = 0.5 * v * (1 + erf(v * 0.7071067811865476))
    elif activation == ACT_GELU_TANH:
        for j in range(n):
            v = x[j]
            if real is float:
                x[j] = 0.5 * v * (1 + tanhf(<float>0.7978845608028654 * (v + <float>0.044715 * v * v * v)))
            else:
                x[j] = 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
    elif activation == ACT_SILU:
        for j in range(n):
            x[j] = x[j] * sigmoid_of(x[j])
    elif activation == ACT_SIGMOID:
        for j in range(n):
            x[j] = sigmoid_of(x[j])
    elif activation == ACT_TANH:
        for j in range(n):
            if real is float:
                x[j] = tanhf(x[j])
            else:
                x[j] = tanh(x[j])


cdef inline void add_strided_row(real* x, Py_ssize_t n, const char* src,
                                 Py_ssize_t src_stride, real scale) noexcept nogil:
    """``x[j] += scale * src[j]`` for a strided (possibly broadcast) source row."""
    cdef Py_ssize_t j
    cdef const real* s = <const real*>src
    if src_stride == sizeof(real):
        if scale == 1:
            for j in range(n):
                x[j] += s[j]
        else:
            for j in range(n):
                x[j] += scale * s[j]
    elif src_stride == 0:
        for j in range(n):
            x[j] += scale * s[0]
    else:
        for j in range(n):
            x[j] += scale * (<const real*>(src + j * src_stride))[0]


cdef inline void apply_tile_epilogue(real* c, Py_ssize_t rows, Py_ssize_t cols,
                                     Py_ssize_t ldc, const TileEpilogue* t,
                                     Py_ssize_t row_begin, Py_ssize_t row_end) noexcept nogil:
    """Apply ``t`` to rows ``[row_begin, row_end)`` of a tile (``ldc`` in elements).

    Callers split a tile's rows across threads; the operands of ``t`` point
    at row 0 of the tile.
    """
    cdef Py_ssize_t i
    cdef real* row
    for i in range(row_begin, row_end):
        row = c + i * ldc
        if t.addend != NULL:
            add_strided_row(row, cols, t.addend + i * t.addend_row_stride,
                            t.addend_col_stride, <real>t.addend_scale)
        if t.residual != NULL and not t.residual_after_activation:
            add_strided_row(row, cols, t.residual + i * t.residual_row_stride,
                            t.residual_col_stride, <real>1)
        activate_row(row, cols, t.activation)
        if t.residual != NULL and t.residual_after_activation:
            add_strided_row(row, cols, t.residual + i * t.residual_row_stride,
                            t.residual_col_stride, <real>1)
