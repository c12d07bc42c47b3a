# Reductions over any set of axes of a strided view, with or without kept
# dimensions.
#
# ``axis_mask`` has bit d set when axis d is reduced (MAX_DIMS <= 8 axes).
# ``out`` is allocated by the caller: rank ``x.ndim`` with the reduced axes of
# size 1 (keepdims) or rank ``x.ndim - popcount(axis_mask)``; its dtype must
# be ``reduce_out_dtype(op, x.dtype)``:
#   SUM, PROD   float32 -> float32, float64 -> float64, int32/int64/bool -> int64
#   MEAN        float32 / float64 only (cast integers to float64 first)
#   MAX, MIN    the input dtype (NaN propagates, like np.max)
#   ARGMAX/MIN  int64; the index is the C-order flat index inside the reduced
#               block (one axis: the index along it; all axes: np.argmax(x));
#               first occurrence wins, a NaN is the maximum and the minimum.
# Sums use pairwise summation (NumPy's scheme: blocks of 128 with eight
# accumulators) along the innermost reduced run and pairwise over runs, so
# float32 sums stay accurate.  Parallel execution only evaluates subtrees of
# that same fixed tree, so results are bit-identical for any thread count.
# Empty reductions: SUM -> 0, PROD -> 1, MEAN -> NaN, the others JC_ERR_VALUE.
from jitcore._runtime.kernels.view cimport View, MAX_DIMS

cdef enum ReduceOp:
    R_SUM = 0
    R_MEAN
    R_PROD
    R_MAX
    R_MIN
    R_ARGMAX
    R_ARGMIN
    NUM_REDUCE_OPS

# -1 when the op does not exist for that dtype.
cdef int reduce_out_dtype(int op, int dtype) noexcept nogil

# Shape of the result (JC_ERR_VALUE for an axis bit beyond x.ndim).
cdef int reduced_shape(const View* x, unsigned int axis_mask, bint keepdims,
                       int* ndim, Py_ssize_t* shape) noexcept nogil

cdef int run_reduce(int op, const View* x, View* out, unsigned int axis_mask) noexcept nogil
