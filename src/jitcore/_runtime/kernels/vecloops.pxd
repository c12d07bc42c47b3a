# Contiguous loops ``out[i] = f(x[i])`` of the compute-bound float ops, built
# as SSE2, AVX2 and AVX-512 clones picked at load time (vecloops.h, simd_clones.h).
# They compute exactly what the scalar vecmath.pxd functions compute, so a
# caller may use them for unit-stride runs and the scalar functions for
# strided ones.  ``out`` may equal ``x``; partial overlap is not allowed.
cdef extern from "kernels/vecloops.h" nogil:
    void jc_exp_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_exp_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_expm1_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_expm1_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_log_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_log_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_tanh_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_tanh_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_sigmoid_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_sigmoid_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_silu_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_silu_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    void jc_erf_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_gelu_erf_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_gelu_tanh_f32_contig(const float* x, float* out, Py_ssize_t n) noexcept
    void jc_gelu_tanh_f64_contig(const double* x, double* out, Py_ssize_t n) noexcept
    # ``out[i] = f(x[i], p)``: the slope of leaky_relu, the alpha of elu
    void jc_leaky_relu_f32_contig(const float* x, float* out, Py_ssize_t n, float p) noexcept
    void jc_leaky_relu_f64_contig(const double* x, double* out, Py_ssize_t n, double p) noexcept
    void jc_elu_f32_contig(const float* x, float* out, Py_ssize_t n, float p) noexcept
    void jc_elu_f64_contig(const double* x, double* out, Py_ssize_t n, double p) noexcept

# The float arithmetic ops over contiguous runs: ``op`` 0..3 is add, sub, mul,
# div (elementwise.pxd's B_ADD..B_DIV), ``ea`` / ``eb`` the element strides of
# the operands, 1 (an array) or 0 (a broadcast scalar).  Returns 0, doing
# nothing, for any other op or stride; ``out`` may equal an array operand.
cdef extern from "kernels/vecloops.h" nogil:
    int jc_arith_f32_contig(int op, const float* a, const float* b, float* out, Py_ssize_t n,
                            Py_ssize_t ea, Py_ssize_t eb) noexcept
    int jc_arith_f64_contig(int op, const double* a, const double* b, double* out, Py_ssize_t n,
                            Py_ssize_t ea, Py_ssize_t eb) noexcept

# One element of the FMA-based functions (tanh and gelu_tanh), cloned like the
# loops: what baseline-compiled scalar code calls instead of vecmath.pxd's
# inline versions (which would call libm's fma per operation there).  Same
# bits as the contiguous loops.
cdef extern from "kernels/vecloops.h" nogil:
    float jc_tanhf_one(float x) noexcept
    double jc_tanh_one(double x) noexcept
    float jc_gelu_tanhf_one(float x) noexcept
    double jc_gelu_tanh_one(double x) noexcept

# Two arithmetic steps in one pass (fused chains): ``out = (a op1 b) op2 s``
# with ``op1`` in B_ADD..B_DIV, ``op2`` B_ADD or B_MUL, ``ea`` / ``eb`` the
# element strides (1 or 0, not both 0).  Bit-identical to the two steps run
# one after the other; returns 0, doing nothing, for anything else.
cdef extern from "kernels/vecloops.h" nogil:
    int jc_arith_pair_f32(int op1, int op2, const float* a, const float* b, float s, float* out,
                          Py_ssize_t n, Py_ssize_t ea, Py_ssize_t eb) noexcept
    int jc_arith_pair_f64(int op1, int op2, const double* a, const double* b, double s,
                          double* out, Py_ssize_t n, Py_ssize_t ea, Py_ssize_t eb) noexcept

# Streaming (non-temporal store) variants of float add/sub/mul/div with the
# binary_loop ABI, for outputs of at least JC_STREAM_MIN_BYTES (vecstream.h says why).
# Same values as the loops above; elementwise.pyx's binary_loop_into picks them.
cdef extern from "kernels/vecstream.h" nogil:
    size_t JC_STREAM_MIN_BYTES
    void jc_stream_add_f32(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_sub_f32(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_mul_f32(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_div_f32(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_add_f64(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_sub_f64(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_mul_f64(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
    void jc_stream_div_f64(const char*, const char*, char*, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                           Py_ssize_t) noexcept
