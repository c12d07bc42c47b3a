# The fused epilogue of GEMM-shaped kernels (linear, matmul, addmm, conv2d):
# add a bias, apply an activation and add a residual to an output tile right
# after BLAS wrote it, while the tile is still in cache, instead of three more
# passes over memory.
from cython.parallel cimport prange
from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport View, real
from jitcore._runtime.kernels.scalar_math cimport relu_of, gelu_erf_of, sigmoid_of, clamp_of
# tanh is FMA-based (vecmath.h): its contiguous loops are the AVX2/AVX-512
# clones, where a per-element call from this baseline-compiled code would not
# vectorise (3x slower epilogue).  Same bits as the standalone op.
from jitcore._runtime.kernels.vecloops cimport (
    jc_tanh_f32_contig, jc_tanh_f64_contig, jc_gelu_tanh_f32_contig, jc_gelu_tanh_f64_contig,
)

# The unary kernels' own scalar functions (division and addition only, no
# contraction: the same bits in every clone and here).
cdef extern from "kernels/unary_ops.h" nogil:
    float jc_hardswishf(float x) noexcept
    double jc_hardswish(double x) noexcept
    float jc_hardsigmoidf(float x) noexcept
    double jc_hardsigmoid(double x) noexcept

cdef enum Activation:
    ACT_NONE = 0
    ACT_RELU = 1
    ACT_GELU_ERF = 2      # 0.5 x (1 + erf(x / sqrt 2))
    ACT_GELU_TANH = 3     # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    ACT_SILU = 4          # x sigmoid(x)
    ACT_SIGMOID = 5
    ACT_TANH = 6
    ACT_RELU6 = 7         # clamp to [0, 6]: the parametrised hardtanh kernel's clamp_of
    ACT_HARDSWISH = 8     # x clip(x / 6 + 1/2, 0, 1)
    ACT_HARDSIGMOID = 9   # clip(x / 6 + 1/2, 0, 1)
    ACT_COUNT = 10

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


cdef inline void activate_row(real* x, Py_ssize_t n, int activation) noexcept nogil:
    """Apply ``activation`` in place to ``n`` contiguous values.

    The scalar formulas are the elementwise kernels' own (``scalar_math``),
    so a fused activation means exactly what the standalone op means.
    """
    cdef Py_ssize_t j
    # The switch sits outside the loops so each loop vectorises on its own.
    if activation == ACT_RELU:
        for j in range(n):
            x[j] = relu_of(x[j])
    elif activation == ACT_GELU_ERF:
        for j in range(n):
            x[j] = gelu_erf_of(x[j])
    elif activation == ACT_GELU_TANH:
        if real is float:
            jc_gelu_tanh_f32_contig(x, x, n)
        else:
            jc_gelu_tanh_f64_contig(x, x, n)
    elif activation == ACT_SILU:
        for j in range(n):
            x[j] = x[j] * sigmoid_of(x[j])
    elif activation == ACT_SIGMOID:
        for j in range(n):
            x[j] = sigmoid_of(x[j])
    elif activation == ACT_TANH:
        if real is float:
            jc_tanh_f32_contig(x, x, n)
        else:
            jc_tanh_f64_contig(x, x, n)
    elif activation == ACT_RELU6:
        for j in range(n):
            x[j] = clamp_of(x[j], <real>0, <real>6)
    elif activation == ACT_HARDSWISH:
        for j in range(n):
            x[j] = jc_hardswishf(x[j]) if real is float else jc_hardswish(x[j])
    elif activation == ACT_HARDSIGMOID:
        for j in range(n):
            x[j] = jc_hardsigmoidf(x[j]) if real is float else jc_hardsigmoid(x[j])


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


# An activation costs roughly this many additions; it weighs the epilogue's
# work when deciding whether to open a parallel region.
cdef enum:
    ACTIVATION_COST = 8


cdef inline void apply_epilogue_parallel(real* c, Py_ssize_t rows, Py_ssize_t cols,
                                         Py_ssize_t ldc, const TileEpilogue* t) noexcept nogil:
    """Apply ``t`` to a whole tile, splitting its rows over threads when it is large.

    Call it outside any parallel region; inside one use ``apply_tile_epilogue``.
    """
    cdef Py_ssize_t work = rows * cols * (ACTIVATION_COST if t.activation != ACT_NONE else 1)
    cdef int nt = threads_for(work)
    cdef Py_ssize_t chunk
    cdef int part
    if epilogue_is_empty(t):
        return
    if nt <= 1 or rows < 2:
        apply_tile_epilogue(c, rows, cols, ldc, t, 0, rows)
        return
    chunk = (rows + nt - 1) // nt
    for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
        apply_tile_epilogue(c, rows, cols, ldc, t, part * chunk,
                            min(rows, (part + 1) * chunk))


cdef inline dict activation_codes():
    """Name -> ``Activation`` code.  The names other than ``"none"`` are unary
    kernel names (``elementwise.UNARY_OPS``; ``"gelu"`` is the erf form), so
    the epilogue fuser can match an op by its registry ``kernel``, or the names
    of ``clamp_activations()``."""
    return {"none": ACT_NONE, "relu": ACT_RELU, "gelu": ACT_GELU_ERF,
            "gelu_tanh": ACT_GELU_TANH, "silu": ACT_SILU, "sigmoid": ACT_SIGMOID,
            "tanh": ACT_TANH, "relu6": ACT_RELU6, "hardswish": ACT_HARDSWISH,
            "hardsigmoid": ACT_HARDSIGMOID}


cdef inline dict clamp_activations():
    """Epilogue name -> the constant bounds of the clamp it is: what the fuser
    matches by an op's chain step (``("hardtanh", (low, high))``: relu6, and
    hardtanh with those bounds), since those ops have no unary kernel."""
    return {"relu6": (0.0, 6.0)}


cdef inline int activation_code(str name) except -1:
    """The ``Activation`` code of a name (for wrappers): see ``activation_codes``."""
    codes = activation_codes()
    if name not in codes:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(codes)}")
    return codes[name]
