# The fused elementwise runner (issue 7): a short register program of
# elementwise steps applied tile by tile, so the data crosses memory once
# instead of once per op.
#
# Registers 0 .. ninputs-1 hold the inputs; each step reads up to three
# registers and writes one register >= ninputs (a temporary); the last step's
# result goes to ``out``.  Every step reuses the inner loops of
# elementwise.pxd, resolved once per call.  Within a tile a temporary lives in
# a per-thread stack buffer of CHAIN_TILE doubles (4 KiB; a tile is 512
# float64 or 1024 float32 elements), so a chain of k ops reads each
# input and writes the output exactly once.  4 KiB rather than 8: an input
# tile, two temporaries and the output tile then take half of a 32 KiB L1
# instead of all of it (measured: docs/performance.md).
# Two adjacent arithmetic steps whose second takes a scalar run as one pass
# (vecloops.h's jc_arith_pair_*), bit-identical to running them one by one.
#
# Supported layouts (anything else gives JC_ERR_UNSUPPORTED and the caller
# runs the ops unfused): ``out`` C-contiguous in float32 or float64; every
# input of ``out``'s dtype and either C-contiguous with ``out``'s shape, a
# single element (a scalar), or C-contiguous and broadcast along leading
# dimensions only (a bias row: shape (..., 1, C) against (N, C)).  Steps must
# keep the dtype (no comparisons or logical ops yet).
from jitcore._runtime.kernels.view cimport View

cdef enum:
    CHAIN_TILE = 512
    CHAIN_MAX_INPUTS = 8
    CHAIN_MAX_BUFFERS = 8     # temporaries plus broadcast-row inputs
    CHAIN_MAX_STEPS = 32

cdef enum ChainKind:
    CHAIN_UNARY = 0           # op is a unary op code (U_*, unary_ops.h)
    CHAIN_BINARY              # op is a binary op code (B_*, binary_ops.h)
    CHAIN_TERNARY             # op is a TernaryOp (CLAMP)
    CHAIN_PARAM               # op is a ParamOp, parameters in param[0..1]

ctypedef struct ChainStep:
    int kind
    int op
    int dst
    int src[3]
    double param[2]

cdef int run_chain(const ChainStep* steps, int nsteps, const View* inputs,
                   int ninputs, View* out) noexcept nogil
