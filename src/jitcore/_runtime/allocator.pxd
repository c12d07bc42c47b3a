# The runtime's memory: 64-byte-aligned blocks from a size-classed caching
# pool, safe to call from any thread without the GIL.  Every tensor the
# interpreter creates (intermediates, outputs) is carved from here, so a
# steady stream of calls of one shape reuses blocks instead of calling malloc.

# Alignment of every block (a cache line; AVX-512 loads need 64).
cdef enum:
    ALLOC_ALIGNMENT = 64

# A block of at least ``nbytes`` bytes (``nbytes`` may be 0), 64-byte
# aligned; NULL when memory is exhausted.  Return it with ``jc_free`` and the
# same ``nbytes``.
cdef void* jc_alloc(size_t nbytes) noexcept nogil
cdef void jc_free(void* block, size_t nbytes) noexcept nogil
