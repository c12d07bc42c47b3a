# Dtype conversion kernels: one inner loop per (source, destination) dtype
# pair, with the unary-loop ABI of elementwise.pxd, so ``run_unary`` drives
# them with full broadcasting and strides.
#
# Semantics follow NumPy's ``astype`` (unsafe casting): float -> int
# truncates toward zero; NaN, inf and out-of-range floats become the integer
# minimum (what NumPy gives on x86, and defined here instead of C's undefined
# behaviour); anything -> bool is ``x != 0``; bool -> anything is 0 or 1;
# float64 -> float32 rounds to nearest.
from jitcore._runtime.kernels.view cimport View
from jitcore._runtime.kernels.elementwise cimport unary_loop

# NULL for a dtype code outside DType.
cdef unary_loop cast_loop_for(int src_dtype, int dst_dtype) noexcept nogil

# Cast ``x`` into ``out`` (broadcasting ``x`` to ``out``'s shape); the dtypes
# come from the views.  JC_ERR_DTYPE / JC_ERR_SHAPE as run_unary.
cdef int run_cast(const View* x, View* out) noexcept nogil
