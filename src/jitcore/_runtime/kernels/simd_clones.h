/*
 * Per-ISA copies of a hot loop: one source compiled for baseline x86-64
 * (SSE2), x86-64-v3 (AVX2) and x86-64-v4 (AVX-512), and a dispatch that
 * calls the copy of jc_isa()'s level (cpu_features.h), so JITCORE_ISA can
 * force the AVX2 or baseline copy.  The wheel stays portable -- never
 * -march=native -- and a machine with AVX-512 runs 16 float lanes instead of
 * 4 (the AVX-512 tanh loop takes about half the AVX2 one's time:
 * docs/performance.md).  Other compilers and platforms get the baseline copy.
 *
 * The copies use gcc's target strings arch=x86-64-v3/v4; a glibc ifunc
 * (target_clones) would pick from the CPU alone and could not be capped.
 *
 * x86-64-v3/v4 include FMA, but the build uses -std=c11, which turns gcc's FP
 * contraction off, so the copies compute bit-identical results.
 *
 * Use:
 *     JC_SIMD_VARIANTS(RET, NAME, (params), { body })
 * defines NAME_avx512, NAME_avx2 and NAME_baseline (the names do not exist
 * without variants but NAME_baseline); JC_SIMD_PICK(NAME) is the one of the
 * chosen level, to be called with the arguments:
 *     static inline void NAME(const float *x, ...) { JC_SIMD_PICK(NAME)(x, ...); }
 */
#ifndef JITCORE_SIMD_CLONES_H
#define JITCORE_SIMD_CLONES_H

#include <stdint.h>
#include "cpu_features.h"

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__)
#define JC_SIMD_HAS_VARIANTS 1
#else
#define JC_SIMD_HAS_VARIANTS 0
#endif

#if JC_SIMD_HAS_VARIANTS

/* The highest level with a copy of its own. */
#define JC_SIMD_TOP_ISA JC_ISA_AVX512

#define JC_SIMD_VARIANTS(RET, NAME, PARAMS, ...)                              \
    __attribute__((target("arch=x86-64-v4"), unused))                         \
    static RET NAME##_avx512 PARAMS __VA_ARGS__                               \
    __attribute__((target("arch=x86-64-v3"), unused))                         \
    static RET NAME##_avx2 PARAMS __VA_ARGS__                                 \
    __attribute__((unused)) static RET NAME##_baseline PARAMS __VA_ARGS__

#define JC_SIMD_PICK(NAME)                                                    \
    (jc_isa() == JC_ISA_AVX512 ? NAME##_avx512                                \
     : jc_isa() == JC_ISA_AVX2 ? NAME##_avx2 : NAME##_baseline)

#else

#define JC_SIMD_TOP_ISA JC_ISA_BASELINE

#define JC_SIMD_VARIANTS(RET, NAME, PARAMS, ...)                              \
    __attribute__((unused)) static RET NAME##_baseline PARAMS __VA_ARGS__

#define JC_SIMD_PICK(NAME) NAME##_baseline

#endif

/* The level of the copies JC_SIMD_PICK calls in this translation unit. */
static inline int jc_simd_level(void)
{
    const int level = jc_isa();
    return level < JC_SIMD_TOP_ISA ? level : JC_SIMD_TOP_ISA;
}

#endif /* JITCORE_SIMD_CLONES_H */
