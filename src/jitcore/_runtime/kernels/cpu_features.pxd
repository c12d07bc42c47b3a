# The instruction-set level the kernels may use (cpu_features.h): detected once,
# capped by JITCORE_ISA.  Each kernel family's selection function compares
# jc_isa() with the level its kernel needs; nothing else probes the CPU.
cdef extern from "kernels/cpu_features.h" nogil:
    enum:
        JC_ISA_BASELINE
        JC_ISA_AVX2
        JC_ISA_AVX512
        JC_ISA_NONE         # the level of a kernel not compiled in: never reached
        JC_ISA_UNSET        # jc_isa_parse: JITCORE_ISA unset or empty
        JC_ISA_INVALID      # jc_isa_parse: not one of the level names
    int jc_isa() noexcept
    int jc_isa_of_cpu() noexcept
    int jc_isa_parse(const char* value) noexcept
    int jc_isa_choose(int cpu, int requested) noexcept
    const char* jc_isa_name(int level) noexcept
    # the L1 data cache's sets (of 64-byte lines) and ways: the C library's report, or
    # 64 x 8 (32 KB 8-way) where it has none
    void jc_l1d_geometry(long* sets, long* ways) noexcept
