# Elementwise kernels: op codes, the inner-loop ABI, the loop lookup and the
# broadcasting strided drivers.
#
# Lowering resolves ``(op, dtype)`` to a loop pointer once with
# ``unary_loop_for`` / ``binary_loop_for`` / ``ternary_loop_for`` /
# ``param_loop_for`` (NULL = that op does not exist for that dtype) and
# stores it in the instruction; at run time the interpreter calls
# ``run_unary`` / ``run_binary`` / ``run_ternary`` / ``run_param`` with the
# views and the pointer.
#
# Dtype contract (like a NumPy ufunc inner loop): every input already has the
# compute dtype (promotion and casts, e.g. int / int -> float64, are the
# caller's job; see cast.pxd).  The output has the compute dtype, except
# comparisons and logical ops, whose output is bool (``binary_out_dtype``).
# The bitwise ops have integer and bool loops only (on bool they are the
# logical ops).
# WHERE takes a bool condition as its first operand.
#
# Inner loops take byte strides; data pointers must be aligned to the item
# size and strides must be multiples of it (the drivers check this and return
# JC_ERR_UNSUPPORTED otherwise, e.g. for a field of a packed record array).

# Unary ops (x -> out, same dtype; LOGICAL_NOT and ISNAN -> bool).  The codes
# and names come from unary_ops.h's list; the ones other modules use by name
# are declared here.  Codes from FIRST_FLOAT_UNARY_OP on are its float math
# ops (float32/float64 loops; integer inputs are computed in float64 unless
# ``unary_keeps_ints``).
cdef extern from "kernels/unary_ops.h" nogil:
    enum:
        U_NEG "JC_UNARY_neg"
        U_ABS "JC_UNARY_abs"
        U_SIGN "JC_UNARY_sign"
        U_SQUARE "JC_UNARY_square"
        U_RELU "JC_UNARY_relu"
        U_LOGICAL_NOT "JC_UNARY_logical_not"
        U_POSITIVE "JC_UNARY_positive"     # identity copy (also the int/bool floor/ceil/round)
        U_ISNAN "JC_UNARY_isnan"
        U_BITWISE_NOT "JC_UNARY_bitwise_not"   # ~x for integers, logical not for bool
        U_EXP "JC_UNARY_exp"
        U_LOG "JC_UNARY_log"
        U_SQRT "JC_UNARY_sqrt"
        U_GELU "JC_UNARY_gelu"             # exact, with erf
        U_GELU_TANH "JC_UNARY_gelu_tanh"   # tanh approximation
        U_SOFTPLUS "JC_UNARY_softplus"     # beta 1, threshold 20
        FIRST_FLOAT_UNARY_OP "JC_FIRST_FLOAT_UNARY_OP"
        NUM_UNARY_OPS "JC_NUM_UNARY_OPS"
    const char* unary_name "jc_unary_name"(int op) noexcept
    bint unary_is_float_op "jc_unary_is_float_op"(int op) noexcept
    bint unary_keeps_ints "jc_unary_keeps_ints"(int op) noexcept

# Binary ops (a, b -> out).  The codes, names and dtype behaviour come from
# binary_ops.h's list; the ones other modules use by name are declared here.
cdef extern from "kernels/binary_ops.h" nogil:
    enum:
        B_ADD "JC_BINARY_add"       # B_ADD..B_DIV = 0..3: vecloops.h indexes its arithmetic loops by them
        B_SUB "JC_BINARY_sub"
        B_MUL "JC_BINARY_mul"
        B_DIV "JC_BINARY_div"                   # true division; float dtypes only
        B_POW "JC_BINARY_pow"
        B_MAXIMUM "JC_BINARY_maximum"
        B_MINIMUM "JC_BINARY_minimum"
        B_REMAINDER "JC_BINARY_remainder"
        B_FLOOR_DIVIDE "JC_BINARY_floor_divide"
        B_TRUNC_DIVIDE "JC_BINARY_trunc_divide"   # torch.div(rounding_mode="trunc")
        B_ATAN2 "JC_BINARY_atan2"               # float dtypes only
        B_EQ "JC_BINARY_eq"
        B_NE "JC_BINARY_ne"
        B_LT "JC_BINARY_lt"
        B_LE "JC_BINARY_le"
        B_GT "JC_BINARY_gt"
        B_GE "JC_BINARY_ge"
        B_LOGICAL_AND "JC_BINARY_logical_and"
        B_LOGICAL_OR "JC_BINARY_logical_or"
        B_LOGICAL_XOR "JC_BINARY_logical_xor"
        B_BITWISE_AND "JC_BINARY_bitwise_and"   # integer and bool dtypes only
        B_BITWISE_OR "JC_BINARY_bitwise_or"
        B_BITWISE_XOR "JC_BINARY_bitwise_xor"
        NUM_BINARY_OPS "JC_NUM_BINARY_OPS"
    const char* binary_name "jc_binary_name"(int op) noexcept
    # integer and bool operands are computed in float64 (div, atan2)
    bint binary_ints_as_float64 "jc_binary_ints_as_float64"(int op) noexcept
    # integer and bool loops only (the bitwise ops)
    bint binary_ints_only "jc_binary_ints_only"(int op) noexcept
    # the result is bool (comparisons, logical ops)
    bint binary_gives_bool "jc_binary_gives_bool"(int op) noexcept

# Ternary ops: WHERE(cond: bool, a, b), CLAMP(x, lo, hi) (np.clip).
cdef enum TernaryOp:
    T_WHERE = 0
    T_CLAMP
    NUM_TERNARY_OPS

# Unary ops with up to two double parameters (float dtypes only).
cdef enum ParamOp:
    P_LEAKY_RELU = 0    # p0 = negative slope
    P_HARDTANH          # clamp to [p0, p1] (also clamp by scalars)
    P_POW_SCALAR        # x ** p0
    P_ELU               # p0 = alpha
    P_AFFINE            # x * p0 + p1 (scalar mul/add chains, in x's dtype)
    NUM_PARAM_OPS

ctypedef void (*unary_loop)(const char* x, char* out, Py_ssize_t n,
                            Py_ssize_t sx, Py_ssize_t so) noexcept nogil
ctypedef void (*binary_loop)(const char* a, const char* b, char* out, Py_ssize_t n,
                             Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil
ctypedef void (*ternary_loop)(const char* a, const char* b, const char* c, char* out,
                              Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb,
                              Py_ssize_t sc, Py_ssize_t so) noexcept nogil
ctypedef void (*param_loop)(const char* x, char* out, Py_ssize_t n, Py_ssize_t sx,
                            Py_ssize_t so, double p0, double p1) noexcept nogil

cdef unary_loop unary_loop_for(int op, int dtype) noexcept nogil
cdef binary_loop binary_loop_for(int op, int dtype) noexcept nogil
cdef ternary_loop ternary_loop_for(int op, int dtype) noexcept nogil
cdef param_loop param_loop_for(int op, int dtype) noexcept nogil

# Output dtype of an op given the compute dtype (-1 for an unknown op).
cdef int unary_out_dtype(int op, int dtype) noexcept nogil
cdef int binary_out_dtype(int op, int dtype) noexcept nogil

from jitcore._runtime.kernels.view cimport View

# The loop to write ``out`` with: binary_loop_for's, or, for float
# add/sub/mul/div into a contiguous output of at least JC_STREAM_MIN_BYTES,
# the streaming variant (vecstream.h: non-temporal stores, same values).
cdef binary_loop binary_loop_into(int op, int dtype, const View* out) noexcept nogil


# Broadcasting drivers.  ``out`` has the broadcast shape of the inputs and is
# allocated by the caller (any strides; C-contiguous is the fast case).  A
# NULL loop gives JC_ERR_DTYPE, inputs that do not broadcast to ``out`` give
# JC_ERR_SHAPE.  The loop pointer is trusted to match the views' dtypes.
cdef int run_unary(const View* x, View* out, unary_loop fn) noexcept nogil
cdef int run_binary(const View* a, const View* b, View* out, binary_loop fn) noexcept nogil
cdef int run_ternary(const View* a, const View* b, const View* c, View* out,
                     ternary_loop fn) noexcept nogil
cdef int run_param(const View* x, View* out, param_loop fn, double p0, double p1) noexcept nogil

# Checked entry points: look the loop up from the views' dtypes, verify every
# dtype (JC_ERR_DTYPE on a mismatch), then run.  For callers that did not
# resolve a loop at lowering time, and for the Python test wrappers.
cdef int unary_op(int op, const View* x, View* out) noexcept nogil
cdef int binary_op(int op, const View* a, const View* b, View* out) noexcept nogil
cdef int ternary_op(int op, const View* a, const View* b, const View* c, View* out) noexcept nogil
cdef int param_op(int op, const View* x, View* out, double p0, double p1) noexcept nogil

# Parallel elementwise work is handed out in chunks, dynamically, about
# CHUNKS_PER_THREAD per thread.  A static even split waits for its slowest
# thread, and on a shared machine the OS regularly preempts one of them (a
# 2-thread static run measured slower than 1 thread under load); with
# dynamic chunks the other thread takes over the preempted one's share.
# Where chunk boundaries fall never changes a result: every element is
# computed by the same code whichever chunk holds it.
cdef enum:
    CHUNKS_PER_THREAD = 8

cdef inline Py_ssize_t chunk_length(Py_ssize_t n, int nthreads, Py_ssize_t quantum) noexcept nogil:
    """Length of one dynamic chunk of ``n`` units for ``nthreads`` threads.

    A multiple of ``quantum`` (e.g. 16 elements, a cache line of float32, so
    two threads never write the same line), at least one quantum.
    """
    cdef Py_ssize_t length = n // (<Py_ssize_t>nthreads * CHUNKS_PER_THREAD)
    length = (length + quantum - 1) // quantum * quantum
    return length if length > quantum else quantum
