# Branch-free, vectorisable float32/float64 transcendentals (vecmath.h):
# Cody-Waite range reduction + polynomials, bit-identical in scalar, SSE2 and
# AVX2 code.  Error bounds are in vecmath.h and asserted by
# tests/test_kernels_vecmath.py.  scalar_math.pxd's fmath_* route through
# these, so every kernel (elementwise, fused chains, GEMM epilogues, softmax)
# shares one definition.
#
# The header path is relative to src/jitcore/_runtime, which is on the
# include path of the kernel modules (include_directories('..')) and of the
# runtime modules (meson's implicit source-dir include) alike.
cdef extern from "kernels/vecmath.h" nogil:
    float jc_expf(float x) noexcept
    double jc_exp(double x) noexcept
    float jc_expm1f(float x) noexcept
    double jc_expm1(double x) noexcept
    float jc_logf(float x) noexcept
    double jc_log(double x) noexcept
    float jc_tanhf(float x) noexcept
    double jc_tanh(double x) noexcept
    float jc_sigmoidf(float x) noexcept
    double jc_sigmoid(double x) noexcept
    float jc_erff(float x) noexcept
    double jc_erf(double x) noexcept          # libm erf (no branch-free double version)
    float jc_gelu_erff(float x) noexcept
    double jc_gelu_erf(double x) noexcept
    float jc_gelu_tanhf(float x) noexcept
    double jc_gelu_tanh(double x) noexcept
    float jc_siluf(float x) noexcept
    double jc_silu(double x) noexcept
    float jc_leaky_reluf(float x, float slope) noexcept
    double jc_leaky_relu(double x, double slope) noexcept
    float jc_eluf(float x, float alpha) noexcept
    double jc_elu(double x, double alpha) noexcept
