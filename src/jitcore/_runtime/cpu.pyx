"""The instruction-set level the kernels use, and what runs at it.

The level is ``kernels/cpu_features.h``'s ``jc_isa()``: the highest of
baseline, avx2 (x86-64-v3) and avx512 (x86-64-v4) the CPU runs, capped by the
environment variable ``JITCORE_ISA`` (read once, when jitcore's extension
modules load; set it before starting Python).  A request above the CPU's level
is clamped down to it; an unknown value is ignored, with one RuntimeWarning
when this module is imported.

Which kernel runs at a level is each family's selection function's decision
(``use_rowmajor_kernel`` in blas.pyx, ``use_direct3x3`` / ``use_winograd3x3``
in conv.pyx, ``max_row_2x2`` in pooling.pyx, ``JC_SIMD_PICK`` in
simd_clones.h); :func:`kernel_families` reports it from the levels the kernel
headers declare, the ones those functions compare ``jc_isa()`` with.
"""

import warnings

from libc.stdlib cimport getenv

from jitcore._runtime.kernels.cpu_features cimport (
    jc_isa, jc_isa_of_cpu, jc_isa_parse, jc_isa_choose, jc_isa_name, JC_ISA_UNSET, JC_ISA_INVALID,
    JC_ISA_BASELINE, JC_ISA_AVX2, JC_ISA_AVX512, JC_ISA_NONE,
)

cdef extern from "kernels/simd_clones.h" nogil:
    int JC_SIMD_TOP_ISA
    int jc_simd_level()

cdef extern from "kernels/gemm_rowmajor.h" nogil:
    int JC_GEMM_ROWMAJOR_ISA
    int JC_GEMM_ROWMAJOR_AVX2_ISA

cdef extern from "kernels/conv_direct.h" nogil:
    int JC_DIRECT3X3_ISA
    int JC_DIRECT3X3_AVX2_ISA

cdef extern from "kernels/conv_winograd.h" nogil:
    int JC_WINOGRAD_ISA

cdef extern from "kernels/conv_winograd_avx2.h" nogil:
    int JC_WINOGRAD_AVX2_ISA

cdef extern from "kernels/pooling_max2x2.h" nogil:
    int JC_MAX2X2_ISA
    int JC_MAX2X2_AVX2_ISA

cdef extern from *:
    """
    #if defined(__clang__)
    #define JC_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #define JC_COMPILER "gcc " __VERSION__
    #else
    #define JC_COMPILER "unknown"
    #endif
    """
    const char* JC_COMPILER
    int CYTHON_HEX_VERSION

ISA_LEVELS = ("baseline", "avx2", "avx512")
"""The names ``JITCORE_ISA`` accepts, lowest first."""


cdef str name_of(int level):
    return jc_isa_name(level).decode("ascii")


cdef int parse(object value):
    """A JITCORE_ISA value (None when unset) -> jc_isa_parse's answer."""
    if value is None:
        return JC_ISA_UNSET
    encoded = value.encode("utf-8")
    return jc_isa_parse(encoded)


def isa():
    """Return the level the kernels use: ``'baseline'``, ``'avx2'`` or ``'avx512'``."""
    return name_of(jc_isa())


def cpu_isa():
    """Return the highest level this CPU runs, whatever ``JITCORE_ISA`` says."""
    return name_of(jc_isa_of_cpu())


cdef object environment_request():
    cdef const char* value = getenv(b"JITCORE_ISA")
    return None if value == NULL else value.decode("utf-8", "replace")


# What the kernels' modules read when they loaded, just before this one.
cdef object REQUESTED = environment_request()


def requested_isa():
    """Return the ``JITCORE_ISA`` value the kernels read, or None when it was unset."""
    return REQUESTED


def isa_reason():
    """Return one sentence saying why :func:`isa` is the level it is."""
    requested = REQUESTED
    cdef int parsed = parse(requested)
    if parsed == JC_ISA_UNSET:
        return "the CPU's level (JITCORE_ISA is unset or empty)"
    if parsed == JC_ISA_INVALID:
        return (f"the CPU's level (JITCORE_ISA={requested!r} is not one of "
                f"{', '.join(ISA_LEVELS)}: ignored)")
    if parsed > jc_isa_of_cpu():
        return f"JITCORE_ISA={requested!r} clamped to the CPU's level {cpu_isa()!r}"
    return f"JITCORE_ISA={requested!r}"


def _resolve(str cpu_level, value):
    """The level ``jc_isa()`` would choose on a CPU of ``cpu_level`` with
    JITCORE_ISA set to ``value`` (None: unset): the C rule, for the tests."""
    return name_of(jc_isa_choose(ISA_LEVELS.index(cpu_level), parse(value)))


def kernel_families():
    """Describe, per kernel family, the levels it has code for and what runs now.

    Returns
    -------
    list of dict
        One per family: ``family`` (a name), ``levels`` (the levels with code
        of their own, lowest first) and ``runs`` (the code the selection
        function picks at :func:`isa`'s level).
    """
    cdef int level = jc_isa()
    simd = [name_of(lv) for lv in range(JC_ISA_BASELINE, JC_SIMD_TOP_ISA + 1)]
    families = [{
        "family": "elementwise / fused-chain / sum loops (vecloops.h, vecstream.h, pairwise_leaf.h)",
        "levels": simd,
        "runs": f"the {name_of(jc_simd_level())} copy",
    }]
    # each family's kernels: the levels they need (JC_ISA_NONE: not compiled in)
    for family, kernels, fallback in (
            ("float32 row-major GEMM (gemm_rowmajor.h)",
             (JC_GEMM_ROWMAJOR_AVX2_ISA, JC_GEMM_ROWMAJOR_ISA), "BLAS gemm/gemv"),
            ("conv2d 3x3 direct (conv_direct.h)",
             (JC_DIRECT3X3_AVX2_ISA, JC_DIRECT3X3_ISA), "im2col + BLAS GEMM"),
            ("conv2d 3x3 Winograd (conv_winograd.h, conv_winograd_avx2.h)",
             (JC_WINOGRAD_AVX2_ISA, JC_WINOGRAD_ISA), "im2col + BLAS GEMM"),
            ("max_pool2d 2x2 float32 rows (pooling_max2x2.h)",
             (JC_MAX2X2_AVX2_ISA, JC_MAX2X2_ISA), "the scalar loop")):
        compiled = [needs for needs in kernels if needs != JC_ISA_NONE]
        reached = [needs for needs in compiled if level >= needs]
        families.append({
            "family": family,
            "levels": ["baseline"] + [name_of(needs) for needs in compiled],
            "runs": f"the {name_of(max(reached))} kernel" if reached else fallback,
        })
    return families


def compiled_with():
    """Return the C compiler and Cython that built the kernels.

    The compiler decides which per-ISA copies exist (simd_clones.h: gcc 11 or
    later on x86-64), so it belongs with the levels.

    Returns
    -------
    dict
        ``compiler`` (e.g. ``'gcc 12.2.0'``) and ``cython`` (e.g. ``'3.3.2'``).
    """
    cdef unsigned int v = <unsigned int>CYTHON_HEX_VERSION
    return {"compiler": JC_COMPILER.decode("utf-8", "replace"),
            "cython": f"{v >> 24}.{(v >> 16) & 0xff}.{(v >> 8) & 0xff}"}


def _warn_if_unknown():
    requested = REQUESTED
    if parse(requested) == JC_ISA_INVALID:
        warnings.warn(
            f"JITCORE_ISA={requested!r} is not one of {', '.join(ISA_LEVELS)}; ignored, "
            f"the kernels use the CPU's level {cpu_isa()!r}",
            RuntimeWarning, stacklevel=2)


_warn_if_unknown()
