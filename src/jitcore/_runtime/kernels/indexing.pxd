# Index kernels.  Every output is allocated by the caller with the shape and
# dtype below (JC_ERR_SHAPE / JC_ERR_DTYPE otherwise); inputs may have any
# strides (0 for broadcast dims, negative for flipped views).  Each kernel
# checks every index before it writes anything.
from libc.stdint cimport int64_t
from jitcore._runtime.kernels.view cimport View, Status

# out[i0, .., ik] = x[t0[i0], .., tk[ik]]: one table per dim, of out.shape[d]
# indices into x's dim d, or NULL for the identity (out.shape[d] == x.shape[d]).
# flip, roll, tile/repeat, repeat_interleave and index_select are such tables.
# An index outside [0, x.shape[d]) is JC_ERR_INDEX.
cdef Status table_gather_kernel(const View* x, int64_t** tables,
                                View* out) noexcept nogil

# torch.gather / np.take_along_axis: out has index's shape and x's dtype;
# out[.., j, ..] = x[.., index[.., j, ..], ..] along ``dim`` (0 <= dim < ndim),
# index.shape[d] <= x.shape[d] for the other dims; int64 or int32 indices,
# negative ones count from the end (NumPy), others outside are JC_ERR_INDEX.
cdef Status gather_dim_kernel(const View* x, int dim, const View* index, View* out) noexcept nogil

# out = value where mask else x; mask is bool with x's shape (broadcast by the
# caller with zero strides); ``value`` points at one item of x's dtype.
cdef Status masked_fill_kernel(const View* x, const View* mask, const char* value,
                               View* out) noexcept nogil

# tril (upper=False: keep j - i <= diagonal) and triu (upper=True: keep
# j - i >= diagonal) over the last two dims (x.ndim >= 2); the rest is zero.
cdef Status triangle_kernel(const View* x, long long diagonal, bint upper,
                            View* out) noexcept nogil
