# Maps over the values of float tensors that the elementwise tables do not
# carry (their result or their extra arguments differ): isnan, isinf and
# isfinite (bool result), nan_to_num (three replacement values), round to a number of
# decimals (NumPy's rint(x * 10**d) / 10**d, in the input's dtype).
#   x    float32 or float64, any strides.
#   out  x's shape; bool for FV_ISINF / FV_ISFINITE / FV_ISNAN, else x's dtype.
# Integer inputs are the caller's (their results need no arithmetic).
from jitcore._runtime.kernels.view cimport View, Status

cdef enum FloatValueOp:
    FV_ISINF = 0
    FV_ISFINITE
    FV_ISNAN
    FV_NAN_TO_NUM       # a: NaN's replacement, b: +inf's, c: -inf's
    FV_ROUND            # a: 10**|decimals|, b: 1 when decimals < 0

cdef Status float_values_kernel(const View* x, int op, double a, double b, double c,
                                View* out) noexcept nogil
