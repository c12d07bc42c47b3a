# ``Code``: a lowered graph.  A flat array of fixed-size instructions over
# numbered registers, constants preloaded into the low registers of every
# frame, jump targets patched, and for each instruction the registers to
# release after it (the last use of those values).  Handlers are C function
# pointers chosen at lowering time; the interpreter only indexes and calls.
cimport cython
from cpython.ref cimport PyObject
from jitcore._runtime.registers cimport Reg
from jitcore._runtime.tensor cimport Storage
from jitcore._runtime.openmp_helpers cimport ThreadGuard

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_mutex_t:
        pass
    int pthread_mutex_init(pthread_mutex_t*, void*)
    int pthread_mutex_destroy(pthread_mutex_t*)
    int pthread_mutex_lock(pthread_mutex_t*)
    int pthread_mutex_unlock(pthread_mutex_t*)

# Frames kept in a Code's lock-free cache (beyond them: a mutex-guarded pool).
cdef enum:
    HOT_FRAMES = 4

cdef struct Frame
cdef struct Instr
cdef struct CodeData

# An op's implementation: read inputs, write outputs, return a Status.  On
# failure it may explain itself with ``frame_fail``.
ctypedef int (*Handler)(Frame* f, const Instr* ins) noexcept nogil

cdef enum Opcode:
    OP_KERNEL = 0       # status = fn(frame, ins)
    OP_MOVE             # out0 = in0 (tensors/sequences shared)
    OP_JUMP             # pc = target
    OP_JUMP_IF_FALSE    # if not in0: pc = target
    OP_LOOP_TEST        # in (counter, max_trips, cond): if counter >= max or not cond: pc = target
    OP_LOOP_NEXT        # in0 (counter) += 1; pc = target
    OP_SET_INT          # out0 = imm
    OP_CALL             # outs = callee(ins)
    OP_RAISE            # raise the exception named by the instruction's node (message: in0)
    NUM_OPCODES

# Statuses beyond the kernel ABI's (view.pxd): produced by the interpreter.
cdef enum:
    JC_ERR_TYPE = 20        # a register holds the wrong kind of value
    JC_ERR_RAISED = 21      # prim::RaiseException ran
    JC_ERR_INTERRUPTED = 22 # a signal handler raised (Ctrl-C), or the interpreter is exiting

cdef struct Instr:
    int opcode
    Handler fn
    int n_in
    int n_out
    int args            # offset into CodeData.args: n_in input registers, then n_out outputs
    int n_release
    int release         # offset into CodeData.args of the registers released after this
    int target          # jump target (pc)
    long long imm       # op-specific immediate (an op code, an int)
    double fimm         # op-specific float immediate
    const CodeData* callee
    int node            # index into the Code's node table (kind, source range)

cdef struct Frame:
    Reg* regs
    const CodeData* code
    Frame* next_free            # link in the Code's frame pool
    # Filled when an instruction fails (possibly in a callee).
    int status
    int failed_pc
    const CodeData* failed_code
    char message[256]
    char operands[512]
    PyObject* raised            # the message str of prim::RaiseException (borrowed)
    # Per-frame memory (fields appended: the handler ABI above is unchanged).
    Storage* pins               # one header per input: arguments pinned without malloc
    char* arena                 # CodeData.arena_bytes of memory for planned intermediates
    Storage* slots              # one STORAGE_ARENA header per arena slot

cdef struct CodeData:
    Instr* instrs
    int n_instrs
    int* args
    int n_regs
    int n_constants             # registers [0, n_constants) hold constants
    Reg* constants
    int n_inputs
    int* input_regs
    int n_outputs
    int* output_regs
    PyObject* owner             # the Code object (borrowed): node table for errors
    pthread_mutex_t pool_lock
    Frame* free_frames
    int pooled
    # Frames a call takes and returns with one atomic exchange, no lock: as
    # many as there are concurrent callers in the common case.
    Frame* hot_frames[HOT_FRAMES]
    # The memory plan (see lowering): ``out_slot[pc]`` is the arena slot the
    # output of instruction ``pc`` is placed in, -1 for the allocator.
    int n_slots
    size_t* slot_offset
    size_t* slot_bytes
    size_t arena_bytes
    int* out_slot
    # Pool or serial, by timing this Code's calls (openmp_helpers.pxd).
    ThreadGuard guard

@cython.final
cdef class Code:
    cdef CodeData* data
    cdef list _nodes            # (label, source range or None) per node index
    cdef list _keepalive        # objects constant registers point into; callee Codes
    cdef list _pending_args     # building: per instruction (inputs, outputs)
    cdef list _pending_release  # building: per instruction registers to release
    cdef list _reg_names        # debug name per register
    cdef int _capacity
    cdef bint _finalized
    cdef dict _value_bytes      # pc -> bytes of each planned output (for memory_plan())

    cdef int emit(self, int opcode, Handler fn, list inputs, list outputs, int node,
                  long long imm=*, double fimm=*) except -1
    cdef int add_node(self, str label, object source_range, object extra=*) except -1
    cdef int set_constant(self, int reg, object value) except -1
    cdef int finalize(self, list releases) except -1
    cdef int set_memory_plan(self, list slot_bytes, dict slot_of_pc, dict value_bytes) except -1

cdef inline Reg* IN(Frame* f, const Instr* ins, int k) noexcept nogil:
    return &f.regs[f.code.args[ins.args + k]]

cdef inline Reg* OUT(Frame* f, const Instr* ins, int k) noexcept nogil:
    return &f.regs[f.code.args[ins.args + ins.n_in + k]]

cdef int frame_fail(Frame* f, int status, const char* message) noexcept nogil
cdef Frame* frame_acquire(const CodeData* c) noexcept nogil
cdef void frame_release(const CodeData* c, Frame* f) noexcept nogil
