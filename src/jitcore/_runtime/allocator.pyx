"""A 64-byte-aligned caching allocator for tensor storage.

Requests are rounded up to a size class (four classes per power of two, so
at most 25% is wasted) and a freed block goes onto its class's free list
instead of back to the system, up to a byte limit on the whole pool.  The
free lists live behind one mutex: an allocation is a handful of
instructions inside the lock, far below what the kernels that use the block
cost, and two threads rarely contend.  Blocks above the largest class go
straight to the system.

The free-list link is stored inside the free block itself, so the pool needs
no bookkeeping memory of its own.
"""

from libc.stdlib cimport free
from libc.string cimport memset

cdef extern from *:
    """
    #include <pthread.h>
    #include <stdlib.h>
    static pthread_mutex_t jc_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
    static void jc_pool_lock(void) { pthread_mutex_lock(&jc_pool_mutex); }
    static void jc_pool_unlock(void) { pthread_mutex_unlock(&jc_pool_mutex); }
    static void* jc_aligned_malloc(size_t n) {
        void* p = NULL;
        if (posix_memalign(&p, 64, n) != 0) return NULL;
        return p;
    }
    static int jc_floor_log2(size_t n) { return 63 - __builtin_clzll((unsigned long long)n); }
    """
    void jc_pool_lock() noexcept nogil
    void jc_pool_unlock() noexcept nogil
    void* jc_aligned_malloc(size_t n) noexcept nogil
    int jc_floor_log2(size_t n) noexcept nogil

# Classes: 64, 128, 192, 256, then four per power of two up to 2**30 bytes.
cdef enum:
    SMALL_CLASSES = 4
    LARGEST_LOG2 = 30
    NUM_CLASSES = SMALL_CLASSES + (LARGEST_LOG2 - 8) * 4

cdef void* _free_list[NUM_CLASSES]
memset(_free_list, 0, sizeof(_free_list))

# Default cap on cached bytes; blocks freed beyond it return to the system.
cdef size_t _pool_limit = 256 * 1024 * 1024

# Statistics (updated under the mutex).
cdef size_t _bytes_in_pool = 0
cdef size_t _system_allocations = 0
cdef size_t _system_frees = 0
cdef size_t _cache_hits = 0
cdef size_t _requests = 0


cdef inline int size_class(size_t nbytes, size_t* rounded) noexcept nogil:
    """Class index of a request and its rounded size; -1 above the largest class."""
    cdef int b, shift
    cdef size_t m
    if nbytes <= 256:
        if nbytes == 0:
            nbytes = 1
        m = (nbytes + 63) // 64
        rounded[0] = m * 64
        return <int>m - 1
    b = jc_floor_log2(nbytes - 1)       # 2**b < nbytes <= 2**(b+1)
    if b >= LARGEST_LOG2:
        rounded[0] = (nbytes + ALLOC_ALIGNMENT - 1) // ALLOC_ALIGNMENT * ALLOC_ALIGNMENT
        return -1
    shift = b - 2                       # four steps of 2**(b-2) per doubling
    m = ((nbytes - 1) >> shift) + 1     # 5..8
    rounded[0] = m << shift
    return SMALL_CLASSES + (b - 8) * 4 + <int>(m - 5)


cdef void* jc_alloc(size_t nbytes) noexcept nogil:
    global _system_allocations, _cache_hits, _bytes_in_pool, _requests
    cdef size_t rounded
    cdef int c = size_class(nbytes, &rounded)
    cdef void* block = NULL
    jc_pool_lock()
    _requests += 1
    if c >= 0 and _free_list[c] != NULL:
        block = _free_list[c]
        _free_list[c] = (<void**>block)[0]
        _bytes_in_pool -= rounded
        _cache_hits += 1
    else:
        _system_allocations += 1
    jc_pool_unlock()
    if block == NULL:
        block = jc_aligned_malloc(rounded)
    return block


cdef void jc_free(void* block, size_t nbytes) noexcept nogil:
    global _bytes_in_pool, _system_frees
    cdef size_t rounded
    cdef int c
    if block == NULL:
        return
    c = size_class(nbytes, &rounded)
    jc_pool_lock()
    if c >= 0 and _bytes_in_pool + rounded <= _pool_limit:
        (<void**>block)[0] = _free_list[c]
        _free_list[c] = block
        _bytes_in_pool += rounded
        block = NULL
    else:
        _system_frees += 1
    jc_pool_unlock()
    if block != NULL:
        free(block)


def allocator_stats():
    """Counters of the tensor allocator.

    Returns
    -------
    dict
        ``requests`` (blocks asked for), ``system_allocations`` (of those,
        served by malloc), ``cache_hits`` (served from the pool),
        ``system_frees``, ``bytes_in_pool`` (cached, free) and ``pool_limit``.
    """
    jc_pool_lock()
    out = dict(requests=_requests, system_allocations=_system_allocations,
               cache_hits=_cache_hits, system_frees=_system_frees,
               bytes_in_pool=_bytes_in_pool, pool_limit=_pool_limit)
    jc_pool_unlock()
    return out


def clear_pool():
    """Return every cached block to the system (e.g. after a large one-off call)."""
    global _bytes_in_pool, _system_frees
    cdef int c
    cdef void* block
    cdef void* nxt
    jc_pool_lock()
    for c in range(NUM_CLASSES):
        block = _free_list[c]
        while block != NULL:
            nxt = (<void**>block)[0]
            free(block)
            _system_frees += 1
            block = nxt
        _free_list[c] = NULL
    _bytes_in_pool = 0
    jc_pool_unlock()


def set_pool_limit(size_t nbytes):
    """Cap the bytes the pool keeps cached (0 disables caching); returns the old cap."""
    global _pool_limit
    jc_pool_lock()
    old = _pool_limit
    _pool_limit = nbytes
    jc_pool_unlock()
    if nbytes < old:
        clear_pool()
    return old


def rounded_size(size_t nbytes):
    """The size class a request of ``nbytes`` is served from (for tests and docs)."""
    cdef size_t rounded
    size_class(nbytes, &rounded)
    return rounded


def _alloc_free_cycle(size_t nbytes, int count):
    """Allocate ``count`` blocks of ``nbytes``, check alignment, free them (for tests).

    Returns True when every block was 64-byte aligned.
    """
    cdef void* p
    cdef bint aligned = True
    cdef int i, j
    cdef size_t* ptrs = <size_t*>jc_alloc(count * sizeof(size_t))
    if ptrs == NULL:
        raise MemoryError
    for i in range(count):
        p = jc_alloc(nbytes)
        if p == NULL:
            for j in range(i):
                jc_free(<void*>ptrs[j], nbytes)
            jc_free(ptrs, count * sizeof(size_t))
            raise MemoryError(f"allocation of {nbytes} bytes failed")
        aligned = aligned and (<size_t>p) % ALLOC_ALIGNMENT == 0
        ptrs[i] = <size_t>p
    for i in range(count):
        jc_free(<void*>ptrs[i], nbytes)
    jc_free(ptrs, count * sizeof(size_t))
    return aligned
