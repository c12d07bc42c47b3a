# Contiguous loops ``out[i] = f(x[i])`` of the compute-bound float ops, built
# as SSE2 and AVX2 clones picked at load time (vecloops.h, simd_clones.h).
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
