/*
 * JC_SIMD_CLONES: compile a hot loop three times, for baseline x86-64 (SSE2),
 * x86-64-v3 (AVX2) and x86-64-v4 (AVX-512), and let the dynamic loader pick
 * one at load time (gcc target_clones + glibc ifunc).  The wheel stays
 * portable -- never -march=native -- and a machine with AVX-512 runs 16
 * float lanes instead of 4 (measured on an AMD EPYC with AVX-512: the v4
 * tanh loop takes ~0.55x the time of the v3 one).  Other compilers and
 * platforms get the single baseline version.
 *
 * x86-64-v3/v4 include FMA, but the build uses -std=c11, which turns gcc's FP
 * contraction off, so the clones compute bit-identical results.
 */
#ifndef JITCORE_SIMD_CLONES_H
#define JITCORE_SIMD_CLONES_H

#include <stdint.h>     /* pulls in libc's features.h, so __GLIBC__ is defined */

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) \
    && defined(__linux__) && defined(__GLIBC__)
#define JC_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define JC_SIMD_CLONES
#endif

#endif /* JITCORE_SIMD_CLONES_H */
