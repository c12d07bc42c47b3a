/*
 * Streaming (non-temporal) variants of the float add/sub/mul/div loops of
 * vecloops.h, for outputs too large to stay in cache.
 *
 * Why: an ordinary store first reads the output's cache line from memory
 * (read-for-ownership), so `out = a + b` over arrays larger than the
 * last-level cache moves 4 bytes of DRAM traffic per 3 it needs, and the
 * output evicts the inputs the next chunk would have found in cache.  A
 * non-temporal store writes the line straight to memory.  Below the
 * threshold the output is likely to be read again from cache (streaming
 * gains nothing there, and the next op would have to fetch a streamed output
 * from DRAM), so only outputs of at least JC_STREAM_MIN_BYTES take these
 * loops.  The measurements: docs/performance.md, "Measurements behind the
 * code".
 *
 * Only the arithmetic ops stream: they are bound by memory traffic.  The
 * transcendental loops are bound by arithmetic: a streaming tanh (one
 * 64-byte block per iteration) was slower than vecloops.h's loop on cached
 * data and no faster on large arrays.
 *
 * How: each 64-byte block of results is computed into a local array (gcc
 * keeps it in one zmm, two ymm or four xmm registers, per clone) and written
 * with SSE2's _mm_stream_ps / _mm_stream_pd, which every x86-64 CPU has, so
 * one source serves the SSE2, AVX2 and AVX-512 copies (simd_clones.h).  The
 * values are the same IEEE operations as the ordinary loops compute, so a
 * result never depends on which loop wrote it.  Elsewhere (no SSE2) the
 * "streaming" store is a plain store.
 *
 * The loops use elementwise.pxd's loop ABI (char pointers, byte strides), so
 * they drop into the broadcasting driver in place of the ordinary loops.  A
 * non-unit output stride or an output not aligned to its element size falls
 * back to ordinary stores; the loop ends with an sfence, so its streamed
 * stores are visible before the caller (or another thread) reads them.
 */
#ifndef JITCORE_VECSTREAM_H
#define JITCORE_VECSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include "simd_clones.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Outputs of at least this many bytes are streamed (elementwise.pyx). */
#define JC_STREAM_MIN_BYTES ((size_t)8 << 20)

#define JC_STREAM_BLOCK_BYTES 64

static inline void jc_stream_block_f32(float *dst, const float *blk)
{
#if defined(__SSE2__)
    for (int j = 0; j < 16; j += 4) _mm_stream_ps(dst + j, _mm_load_ps(blk + j));
#else
    for (int j = 0; j < 16; j++) dst[j] = blk[j];
#endif
}

static inline void jc_stream_block_f64(double *dst, const double *blk)
{
#if defined(__SSE2__)
    for (int j = 0; j < 8; j += 2) _mm_stream_pd(dst + j, _mm_load_pd(blk + j));
#else
    for (int j = 0; j < 8; j++) dst[j] = blk[j];
#endif
}

static inline void jc_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

/*
 * out[k] = VALUE(k) for k < n, out contiguous: ordinary stores up to the
 * first 64-byte boundary, streamed 64-byte blocks, ordinary stores for the
 * tail.  SUFFIX picks the block store (f32 / f64).
 */
#define JC_STREAM_RUN(T, SUFFIX, out, n, VALUE)                               \
    do {                                                                      \
        enum { LANES = JC_STREAM_BLOCK_BYTES / sizeof(T) };                   \
        ptrdiff_t k = 0;                                                      \
        while (k < (n) && ((uintptr_t)((out) + k) % JC_STREAM_BLOCK_BYTES) != 0) { \
            (out)[k] = VALUE;                                                 \
            k++;                                                              \
        }                                                                     \
        for (; k + LANES <= (n); k += LANES) {                                \
            T blk[LANES] __attribute__((aligned(JC_STREAM_BLOCK_BYTES)));     \
            const ptrdiff_t base = k;                                         \
            /* kept a loop, so the vectoriser (not SLP) turns it into one */  \
            /* zmm / two ymm / four xmm computations */                       \
            _Pragma("GCC unroll 1")                                           \
            for (int j = 0; j < LANES; j++) {                                 \
                const ptrdiff_t k = base + j;  /* VALUE's index, shadowed */  \
                blk[j] = VALUE;                                               \
            }                                                                 \
            jc_stream_block_##SUFFIX((out) + base, blk);                      \
        }                                                                     \
        for (; k < (n); k++) (out)[k] = VALUE;                                \
        jc_stream_fence();                                                    \
    } while (0)

/* out[k] = a[k * ea] OP b[k * eb], the binary_loop ABI; a scalar operand
 * (stride 0) is hoisted so the loop vectorises. */
#define JC_DEFINE_BINARY_STREAM(NAME, T, SUFFIX, OP)                          \
    JC_SIMD_VARIANTS(void, NAME, (const char *ac, const char *bc, char *oc, ptrdiff_t n, \
                                  ptrdiff_t sa, ptrdiff_t sb, ptrdiff_t so), { \
        const T *a = (const T *)ac;                                           \
        const T *b = (const T *)bc;                                           \
        const ptrdiff_t ea = sa / (ptrdiff_t)sizeof(T), eb = sb / (ptrdiff_t)sizeof(T); \
        T *out = (T *)oc;                                                     \
        if (so != (ptrdiff_t)sizeof(T) || ((uintptr_t)oc % sizeof(T)) != 0) { \
            for (ptrdiff_t k = 0; k < n; k++)                                 \
                *(T *)(oc + k * so) = a[k * ea] OP b[k * eb];                 \
        } else if (ea == 1 && eb == 1) {                                      \
            JC_STREAM_RUN(T, SUFFIX, out, n, a[k] OP b[k]);                   \
        } else if (ea == 1 && eb == 0) {                                      \
            const T s = b[0];                                                 \
            JC_STREAM_RUN(T, SUFFIX, out, n, a[k] OP s);                      \
        } else if (ea == 0 && eb == 1) {                                      \
            const T s = a[0];                                                 \
            JC_STREAM_RUN(T, SUFFIX, out, n, s OP b[k]);                      \
        } else {                                                              \
            JC_STREAM_RUN(T, SUFFIX, out, n, a[k * ea] OP b[k * eb]);         \
        }                                                                     \
    })                                                                        \
    __attribute__((unused)) static void NAME(const char *ac, const char *bc, char *oc, \
                                             ptrdiff_t n, ptrdiff_t sa, ptrdiff_t sb, ptrdiff_t so) \
    { JC_SIMD_PICK(NAME)(ac, bc, oc, n, sa, sb, so); }

#define JC_DEFINE_BINARY_STREAMS(SUFFIX, T)                                   \
    JC_DEFINE_BINARY_STREAM(jc_stream_add_##SUFFIX, T, SUFFIX, +)             \
    JC_DEFINE_BINARY_STREAM(jc_stream_sub_##SUFFIX, T, SUFFIX, -)             \
    JC_DEFINE_BINARY_STREAM(jc_stream_mul_##SUFFIX, T, SUFFIX, *)             \
    JC_DEFINE_BINARY_STREAM(jc_stream_div_##SUFFIX, T, SUFFIX, /)

JC_DEFINE_BINARY_STREAMS(f32, float)
JC_DEFINE_BINARY_STREAMS(f64, double)

#endif /* JITCORE_VECSTREAM_H */
