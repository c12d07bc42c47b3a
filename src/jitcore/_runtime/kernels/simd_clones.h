/*
 * JC_SIMD_CLONES: compile a hot loop twice, for baseline x86-64 (SSE2) and
 * for x86-64-v3 (AVX2), and let the dynamic loader pick one at load time
 * (gcc target_clones + glibc ifunc).  The wheel stays portable -- never
 * -march=native -- and a machine with AVX2 runs 8 float lanes instead of 4.
 * Other compilers and platforms get the single baseline version.
 *
 * x86-64-v3 includes FMA, but the build uses -std=c11, which turns gcc's FP
 * contraction off, so the clones compute bit-identical results.
 */
#ifndef JITCORE_SIMD_CLONES_H
#define JITCORE_SIMD_CLONES_H

#include <stdint.h>     /* pulls in libc's features.h, so __GLIBC__ is defined */

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
#define JC_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define JC_SIMD_CLONES
#endif

#endif /* JITCORE_SIMD_CLONES_H */
