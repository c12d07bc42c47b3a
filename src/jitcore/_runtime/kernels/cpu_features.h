/*
 * The instruction-set level the kernels may use: the one CPU-feature probe of
 * jitcore.  Every kernel family asks jc_isa() (through its one selection
 * function) instead of probing the CPU itself, so that the environment
 * variable JITCORE_ISA can force a lower level: the AVX2 and baseline paths
 * that most users' machines run can then be tested on an AVX-512 machine.
 *
 *   JC_ISA_BASELINE  x86-64 (SSE2), and every non-x86 build
 *   JC_ISA_AVX2      x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE
 *   JC_ISA_AVX512    x86-64-v4: v3 plus AVX-512F/BW/DQ/VL
 *
 * JITCORE_ISA=baseline|avx2|avx512 caps the level; a level above what the
 * CPU has is clamped down to the CPU's, never up (the kernels would fault).
 * Any other value is ignored here (the Python side, cpu.pyx, warns).
 *
 * Why a copy per extension module: the extension modules are loaded with
 * RTLD_LOCAL, so they share no C symbol; each translation unit that includes
 * this header keeps its own cached level.  The level is resolved when the
 * module is loaded (a constructor, as the glibc ifunc resolvers of the
 * former target_clones ran), so all modules loaded by `import jitcore` read
 * the same environment and agree.  Set JITCORE_ISA before starting Python.
 */
#ifndef JITCORE_CPU_FEATURES_H
#define JITCORE_CPU_FEATURES_H

#include <stdlib.h>
#include <string.h>

#define JC_ISA_BASELINE 0
#define JC_ISA_AVX2 1
#define JC_ISA_AVX512 2
/* The level of a kernel that is not compiled in: jc_isa() never reaches it. */
#define JC_ISA_NONE 3

/* What JITCORE_ISA said, besides a level. */
#define JC_ISA_UNSET (-1)
#define JC_ISA_INVALID (-2)

#if defined(__GNUC__) && defined(__x86_64__)
#define JC_ISA_PROBE_X86 1
#else
#define JC_ISA_PROBE_X86 0
#endif

/* The highest level this CPU (and its OS: the probes check XSAVE state) runs. */
static int jc_isa_of_cpu(void)
{
#if JC_ISA_PROBE_X86
    __builtin_cpu_init();
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    /* the very predicates the former target_clones resolver used */
    if (__builtin_cpu_supports("x86-64-v4")) return JC_ISA_AVX512;
    if (__builtin_cpu_supports("x86-64-v3")) return JC_ISA_AVX2;
#else
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")) {
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
            return JC_ISA_AVX512;
        return JC_ISA_AVX2;
    }
#endif
#endif
    return JC_ISA_BASELINE;
}

/* A JITCORE_ISA value -> a level, JC_ISA_UNSET (NULL or empty) or JC_ISA_INVALID. */
static int jc_isa_parse(const char *value)
{
    if (value == NULL || value[0] == '\0') return JC_ISA_UNSET;
    if (strcmp(value, "baseline") == 0) return JC_ISA_BASELINE;
    if (strcmp(value, "avx2") == 0) return JC_ISA_AVX2;
    if (strcmp(value, "avx512") == 0) return JC_ISA_AVX512;
    return JC_ISA_INVALID;
}

/* The level chosen for a CPU level and a parsed request: the request caps it. */
static int jc_isa_choose(int cpu, int requested)
{
    return (requested >= 0 && requested < cpu) ? requested : cpu;
}

/* This translation unit's level, resolved once (-1: not yet). */
static int jc_isa_cached = -1;

static int jc_isa_resolve(void)
{
    const int level = jc_isa_choose(jc_isa_of_cpu(), jc_isa_parse(getenv("JITCORE_ISA")));
    __atomic_store_n(&jc_isa_cached, level, __ATOMIC_RELAXED);
    return level;
}

/* The level the kernels use: JC_ISA_BASELINE, JC_ISA_AVX2 or JC_ISA_AVX512. */
static inline int jc_isa(void)
{
    const int level = __atomic_load_n(&jc_isa_cached, __ATOMIC_RELAXED);
    return __builtin_expect(level >= 0, 1) ? level : jc_isa_resolve();
}

__attribute__((constructor, unused)) static void jc_isa_resolve_at_load(void)
{
    (void)jc_isa();
}

static const char *jc_isa_name(int level)
{
    switch (level) {
    case JC_ISA_BASELINE: return "baseline";
    case JC_ISA_AVX2: return "avx2";
    case JC_ISA_AVX512: return "avx512";
    default: return "none";
    }
}

/* The L1 data cache's geometry: sets of 64-byte lines and lines per set (its
 * associativity), as the C library reports it (glibc reads CPUID), or 64 sets of
 * 8 lines (32 KB 8-way, the smallest common x86 L1) where it reports nothing.
 * Kernels size their blocking from it (gemm_rowmajor's packing decision); which
 * blocking runs never changes a result, only its speed. */
#include <unistd.h>

static void jc_l1d_geometry(long *sets, long *ways)
{
    long size = -1, assoc = -1, line = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL1_DCACHE_ASSOC) && \
    defined(_SC_LEVEL1_DCACHE_LINESIZE)
    size = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    assoc = sysconf(_SC_LEVEL1_DCACHE_ASSOC);
    line = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
#endif
    if (size > 0 && assoc > 0 && line == 64 && size % (assoc * line) == 0) {
        *sets = size / (assoc * line);
        *ways = assoc;
    } else {
        *sets = 64;
        *ways = 8;
    }
}

#endif /* JITCORE_CPU_FEATURES_H */
