# The ``jc::FusedElementwise`` handler: the node's whole chain runs as ONE
# instruction, tile by tile (kernels/fused_chain), instead of a call into a
# separate Code that makes a full pass over memory per op.
from jitcore._runtime.code cimport Frame, Instr

# Lowering asks ``fused_chain_program(node)`` for the immediate of the
# instruction: the address of the node's compiled chain program (interned,
# so it lives as long as the process), or 0 when the node carries no chain
# program; lowering then keeps the generic path (a call into the subgraph's
# own Code).  A malformed program raises CompileError.
cdef long long fused_chain_program(object node) except -1
cdef int h_fused_chain(Frame* f, const Instr* ins) noexcept nogil
