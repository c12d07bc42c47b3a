"""A 64-byte-aligned caching allocator for tensor storage.

Requests are rounded up to a size class (four classes per power of two, so
at most 25% is wasted) and a freed block goes onto its class's free list
instead of back to the system, up to a byte limit on the whole pool.  Blocks
above the largest class go straight to the system.

Two levels, so that a call takes no lock:

* a **per-thread cache** (blocks up to 64 KiB, a few per class, at most
  ``THREAD_CACHE_BYTES`` per thread): the output of a compiled call is
  usually freed on the thread that made it, so a steady stream of calls
  allocates and frees from its own thread's cache without any lock;
* the **shared pool** behind one mutex, which a thread cache refills from
  and spills into.  A thread's cache returns to the pool when the thread
  exits (a ``pthread`` key destructor).

Blocks of 4 MiB and more are 2 MiB-aligned and advised to use transparent
huge pages on Linux (see ``jc_aligned_malloc``).

Statistics count requests in both levels (``allocator_stats`` sums the live
thread caches under the pool mutex).

The free-list link is stored inside the free block itself, so the pool needs
no bookkeeping memory of its own.
"""

from libc.stdlib cimport calloc, free
from libc.string cimport memset

cdef extern from *:
    """
    #include <pthread.h>
    #include <stdlib.h>
    static pthread_mutex_t jc_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
    static void jc_pool_lock(void) { pthread_mutex_lock(&jc_pool_mutex); }
    static void jc_pool_unlock(void) { pthread_mutex_unlock(&jc_pool_mutex); }
    /* fork() while another thread is inside the pool: hold the mutex across the
       fork so the child gets consistent free lists and an unlocked mutex. */
    static void jc_pool_child(void) {
        pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        jc_pool_mutex = fresh;
    }
    static void jc_pool_register_atfork(void) {
        pthread_atfork(jc_pool_lock, jc_pool_unlock, jc_pool_child);
    }
    /* Large blocks ask for transparent huge pages, as NumPy does for its large
       arrays: with THP in "madvise" mode (a common default) a 16 MiB block is
       otherwise 4096 small pages, and a streaming kernel over it pays a page
       fault per 4 KiB on first touch and a TLB miss per 4 KiB on every pass.
       Such blocks are aligned to the 2 MiB huge-page size so that all of the
       block can be backed; the advice is only a hint, and its failure (no THP
       in this kernel, THP "never") changes nothing but speed. */
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    #define JC_HUGEPAGE_MIN_BYTES ((size_t)4 << 20)
    #define JC_HUGEPAGE_BYTES ((size_t)2 << 20)
    static int jc_huge_pages_advised(void) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        return 1;
    #else
        return 0;
    #endif
    }
    static void* jc_aligned_malloc(size_t n) {
        void* p = NULL;
        int huge = jc_huge_pages_advised() && n >= JC_HUGEPAGE_MIN_BYTES;
        if (posix_memalign(&p, huge ? JC_HUGEPAGE_BYTES : 64, n) != 0) return NULL;
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (huge) madvise(p, n, MADV_HUGEPAGE);
    #endif
        return p;
    }
    static int jc_floor_log2(size_t n) { return 63 - __builtin_clzll((unsigned long long)n); }

    /* One thread's cache.  Live caches form a list (under the pool mutex) so that
       statistics can sum them. */
    #define JC_THREAD_CLASSES 36        /* size classes up to 64 KiB */
    #define JC_THREAD_DEPTH 4           /* blocks kept per class */
    typedef struct jc_thread_cache {
        void* blocks[JC_THREAD_CLASSES][JC_THREAD_DEPTH];
        int count[JC_THREAD_CLASSES];
        size_t bytes;                   /* cached in this thread */
        size_t requests, hits;          /* served by this thread's jc_alloc */
        struct jc_thread_cache* next;
        struct jc_thread_cache* prev;
    } jc_thread_cache;
    static __thread jc_thread_cache* jc_my_cache __attribute__((tls_model("initial-exec"))) = NULL;
    static __thread int jc_cache_disabled __attribute__((tls_model("initial-exec"))) = 0;
    static pthread_key_t jc_cache_key;
    static jc_thread_cache* jc_caches = NULL;
    static jc_thread_cache* jc_get_cache(void) { return jc_my_cache; }
    static void jc_set_cache(jc_thread_cache* c) {
        jc_my_cache = c;
        pthread_setspecific(jc_cache_key, c);
    }
    static int jc_cache_off(void) { return jc_cache_disabled; }
    static void jc_cache_set_off(int v) { jc_cache_disabled = v; }
    """
    void jc_pool_lock() noexcept nogil
    void jc_pool_unlock() noexcept nogil
    void jc_pool_register_atfork() noexcept nogil
    void* jc_aligned_malloc(size_t n) noexcept nogil
    int jc_huge_pages_advised() noexcept nogil
    size_t JC_HUGEPAGE_MIN_BYTES
    size_t JC_HUGEPAGE_BYTES
    int jc_floor_log2(size_t n) noexcept nogil
    enum:
        JC_THREAD_CLASSES
        JC_THREAD_DEPTH
    ctypedef struct jc_thread_cache:
        void* blocks[JC_THREAD_CLASSES][JC_THREAD_DEPTH]
        int count[JC_THREAD_CLASSES]
        size_t bytes
        size_t requests
        size_t hits
        jc_thread_cache* next
        jc_thread_cache* prev
    ctypedef unsigned int pthread_key_t
    pthread_key_t jc_cache_key
    jc_thread_cache* jc_caches
    jc_thread_cache* jc_get_cache() noexcept nogil
    void jc_set_cache(jc_thread_cache* c) noexcept nogil
    int jc_cache_off() noexcept nogil
    void jc_cache_set_off(int v) noexcept nogil
    int pthread_key_create(pthread_key_t* key, void (*destructor)(void*) noexcept nogil) noexcept nogil

# Bytes one thread's cache may hold.
cdef size_t THREAD_CACHE_BYTES = 1024 * 1024

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


cdef jc_thread_cache* _thread_cache() noexcept nogil:
    """This thread's cache, made on first use; NULL when caching is off or memory is short."""
    global jc_caches
    cdef jc_thread_cache* c = jc_get_cache()
    if c != NULL or jc_cache_off() or _pool_limit == 0:
        return c
    c = <jc_thread_cache*>calloc(1, sizeof(jc_thread_cache))
    if c == NULL:
        return NULL
    jc_pool_lock()
    c.next = jc_caches
    if jc_caches != NULL:
        jc_caches.prev = c
    jc_caches = c
    jc_pool_unlock()
    jc_set_cache(c)
    return c


cdef void _spill_locked(jc_thread_cache* c) noexcept nogil:
    """Move every block of ``c`` to the shared pool (or the system); pool mutex held."""
    global _bytes_in_pool, _system_frees
    cdef int k
    cdef size_t rounded
    cdef void* block
    for k in range(JC_THREAD_CLASSES):
        rounded = _class_size(k)
        while c.count[k] > 0:
            c.count[k] -= 1
            block = c.blocks[k][c.count[k]]
            if _bytes_in_pool + rounded <= _pool_limit:
                (<void**>block)[0] = _free_list[k]
                _free_list[k] = block
                _bytes_in_pool += rounded
            else:
                free(block)
                _system_frees += 1
    c.bytes = 0


cdef void _thread_exit(void* cache) noexcept nogil:
    """``pthread`` key destructor: a finished thread's cache goes back to the pool."""
    global _requests, _cache_hits, jc_caches
    cdef jc_thread_cache* c = <jc_thread_cache*>cache
    if c == NULL:
        return
    jc_pool_lock()
    _spill_locked(c)
    _requests += c.requests
    _cache_hits += c.hits
    if c.prev != NULL:
        c.prev.next = c.next
    else:
        jc_caches = c.next
    if c.next != NULL:
        c.next.prev = c.prev
    jc_pool_unlock()
    # a late allocation during this thread's teardown goes to the pool directly
    jc_cache_set_off(1)
    jc_set_cache(NULL)
    free(c)


cdef inline size_t _class_size(int c) noexcept nogil:
    """The block size of size class ``c`` (inverse of ``size_class``)."""
    cdef int b, m
    if c < SMALL_CLASSES:
        return <size_t>(c + 1) * 64
    b = (c - SMALL_CLASSES) // 4 + 8
    m = (c - SMALL_CLASSES) % 4 + 5
    return (<size_t>m) << (b - 2)


cdef void* jc_alloc(size_t nbytes) noexcept nogil:
    global _system_allocations, _cache_hits, _bytes_in_pool, _requests
    cdef size_t rounded
    cdef int c = size_class(nbytes, &rounded)
    cdef void* block = NULL
    cdef jc_thread_cache* tc
    if 0 <= c < JC_THREAD_CLASSES:
        tc = _thread_cache()
        if tc != NULL:
            tc.requests += 1
            if tc.count[c] > 0:
                # the lock-free path of a steady stream of calls
                tc.count[c] -= 1
                tc.bytes -= rounded
                tc.hits += 1
                return tc.blocks[c][tc.count[c]]
            jc_pool_lock()
        else:
            jc_pool_lock()
            _requests += 1
    else:
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
    cdef jc_thread_cache* tc
    if block == NULL:
        return
    c = size_class(nbytes, &rounded)
    if 0 <= c < JC_THREAD_CLASSES and _pool_limit != 0:
        tc = _thread_cache()
        if (tc != NULL and tc.count[c] < JC_THREAD_DEPTH
                and tc.bytes + rounded <= THREAD_CACHE_BYTES):
            tc.blocks[c][tc.count[c]] = block
            tc.count[c] += 1
            tc.bytes += rounded
            return
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
        served by malloc), ``cache_hits`` (served from a thread cache or the
        pool), ``system_frees``, ``bytes_in_pool`` (cached, free, in the pool
        and the thread caches), ``bytes_in_shared_pool`` (of those, in the shared
        pool: what ``clear_pool`` empties, whatever other threads keep) and
        ``pool_limit``.
    """
    cdef size_t requests, hits, cached, shared
    cdef jc_thread_cache* c
    jc_pool_lock()
    requests, hits, cached = _requests, _cache_hits, _bytes_in_pool
    shared = _bytes_in_pool
    c = jc_caches
    while c != NULL:
        # other threads' counters are read without their owner's cooperation:
        # exact when those threads are idle, which is when tests look
        requests += c.requests
        hits += c.hits
        cached += c.bytes
        c = c.next
    out = dict(requests=requests, system_allocations=_system_allocations,
               cache_hits=hits, system_frees=_system_frees,
               bytes_in_pool=cached, bytes_in_shared_pool=shared, pool_limit=_pool_limit)
    jc_pool_unlock()
    return out


def clear_pool():
    """Return every cached block to the system (e.g. after a large one-off call).

    Covers the shared pool and the calling thread's cache; another thread's
    cache (at most 1 MiB) returns to the pool when that thread exits.
    """
    global _bytes_in_pool, _system_frees
    cdef int c
    cdef void* block
    cdef void* nxt
    cdef jc_thread_cache* tc = jc_get_cache()
    jc_pool_lock()
    if tc != NULL:
        _spill_locked(tc)
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


def huge_page_policy():
    """How the allocator asks for transparent huge pages.

    Returns
    -------
    dict
        ``advised`` (True on Linux builds, which ``madvise(MADV_HUGEPAGE)``
        blocks of at least ``min_bytes``), ``min_bytes`` and ``alignment`` (the
        huge-page size such blocks are aligned to).
    """
    return dict(advised=bool(jc_huge_pages_advised()), min_bytes=JC_HUGEPAGE_MIN_BYTES,
                alignment=JC_HUGEPAGE_BYTES)


def _block_address(size_t nbytes):
    """Allocate a block of ``nbytes``, free it and return its address (for tests)."""
    cdef void* p = jc_alloc(nbytes)
    if p == NULL:
        raise MemoryError(f"allocation of {nbytes} bytes failed")
    jc_free(p, nbytes)
    return <size_t>p


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


pthread_key_create(&jc_cache_key, _thread_exit)
jc_pool_register_atfork()
