"""``Code``: the flat instruction array a Graph is lowered to, and its frame pool.

A frame is the per-call state: one register array, one storage header per
input (arguments are pinned without malloc) and the arena that memory
planning places intermediates in.  Frames are cached per Code, so a call
borrows one without malloc and many threads can run the same Code at once,
each in its own frame: the first ``HOT_FRAMES`` idle frames sit in slots a
call takes with one atomic exchange (no lock on the common path); more idle
frames wait in a mutex-protected free list.  Constant registers are filled
when a frame is created and survive in the cache, which makes constants free
at call time.
"""

cimport cython
from cpython.ref cimport PyObject
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport strncpy, memset

from jitcore._runtime.registers cimport (
    Reg, R_EMPTY, R_STR, R_TENSOR, R_LIST, R_TUPLE, R_DICT, reg_clear, reg_copy, reg_from_object,
    reg_to_object,
)
from jitcore._runtime.tensor cimport Storage, STORAGE_CONSTANT, STORAGE_ARENA
from jitcore._runtime.allocator cimport jc_alloc, jc_free
from jitcore._runtime.openmp_helpers cimport ThreadGuard

cdef extern from *:
    """
    #define jc_frame_take(p) __atomic_exchange_n((p), NULL, __ATOMIC_ACQUIRE)
    #define jc_frame_peek(p) __atomic_load_n((p), __ATOMIC_RELAXED)
    #define jc_int_peek(p) __atomic_load_n((p), __ATOMIC_RELAXED)
    static inline int jc_slot_put(void** p, void* f) {
        void* expected = NULL;
        return __atomic_compare_exchange_n(p, &expected, f, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    """
    Frame* jc_frame_take(Frame** slot) noexcept nogil
    Frame* jc_frame_peek(Frame** slot) noexcept nogil
    int jc_int_peek(int* value) noexcept nogil
    bint jc_slot_put(void** slot, void* f) noexcept nogil

# Frames kept per Code; beyond this, a returned frame is freed (a burst of
# many concurrent callers should not pin memory forever).
cdef int MAX_POOLED_FRAMES = 64

_OPCODE_NAMES = ["kernel", "move", "jump", "jump_if_false", "loop_test", "loop_next",
                 "set_int", "call", "raise"]


cdef int frame_fail(Frame* f, int status, const char* message) noexcept nogil:
    """Record why an instruction failed; returns ``status`` for ``return frame_fail(...)``."""
    strncpy(f.message, message, sizeof(f.message) - 1)
    f.message[sizeof(f.message) - 1] = 0
    return status


cdef Frame* _frame_new(const CodeData* c) noexcept nogil:
    cdef Frame* f = <Frame*>calloc(1, sizeof(Frame))
    cdef int k
    if f == NULL:
        return NULL
    f.code = c
    f.regs = <Reg*>calloc(c.n_regs + c.n_inputs + 1, sizeof(Reg))
    f.pins = <Storage*>calloc(c.n_inputs + 1, sizeof(Storage))
    f.slots = <Storage*>calloc(c.n_slots + 1, sizeof(Storage))
    f.arena = <char*>jc_alloc(c.arena_bytes)
    if f.regs == NULL or f.pins == NULL or f.slots == NULL or f.arena == NULL:
        _frame_free(c, f)
        return NULL
    for k in range(c.n_slots):
        # refcount 0: free for the instruction planned into it
        f.slots[k].data = f.arena + c.slot_offset[k]
        f.slots[k].nbytes = c.slot_bytes[k]
        f.slots[k].flags = STORAGE_ARENA
    for k in range(c.n_constants):
        reg_copy(&f.regs[k], &c.constants[k])
    return f


cdef void _frame_free(const CodeData* c, Frame* f) noexcept nogil:
    cdef int k
    if f.regs != NULL:
        for k in range(c.n_regs + c.n_inputs):
            reg_clear(&f.regs[k])
    free(f.regs)
    free(f.pins)
    free(f.slots)
    if f.arena != NULL:
        jc_free(f.arena, c.arena_bytes)
    free(f)


cdef Frame* frame_acquire(const CodeData* c) noexcept nogil:
    """A frame for one call of ``c``: from the cache, or new (NULL when out of memory)."""
    cdef CodeData* m = <CodeData*>c
    cdef Frame* f = NULL
    cdef int k
    for k in range(HOT_FRAMES):
        if jc_frame_peek(&m.hot_frames[k]) != NULL:
            f = jc_frame_take(&m.hot_frames[k])
            if f != NULL:
                break
    if f == NULL and jc_int_peek(&m.pooled) > 0:
        pthread_mutex_lock(&m.pool_lock)
        f = m.free_frames
        if f != NULL:
            m.free_frames = f.next_free
            m.pooled -= 1
        pthread_mutex_unlock(&m.pool_lock)
    if f == NULL:
        f = _frame_new(c)
    if f != NULL:
        f.status = 0
        f.failed_pc = -1
        f.failed_code = NULL
        f.message[0] = 0
        f.operands[0] = 0
        f.raised = NULL
    return f


cdef void frame_release(const CodeData* c, Frame* f) noexcept nogil:
    """Clear a frame's value registers and return it to the cache."""
    cdef CodeData* m = <CodeData*>c
    cdef int k
    cdef bint pooled = False
    for k in range(c.n_constants, c.n_regs + c.n_inputs):
        if f.regs[k].tag != R_EMPTY:
            reg_clear(&f.regs[k])
    for k in range(HOT_FRAMES):
        if jc_frame_peek(&m.hot_frames[k]) == NULL and jc_slot_put(<void**>&m.hot_frames[k], f):
            return
    pthread_mutex_lock(&m.pool_lock)
    if m.pooled < MAX_POOLED_FRAMES:
        f.next_free = m.free_frames
        m.free_frames = f
        m.pooled += 1
        pooled = True
    pthread_mutex_unlock(&m.pool_lock)
    if not pooled:
        _frame_free(c, f)


@cython.final
cdef class Code:
    """A lowered graph: instructions, registers, constants, a node table.

    Built by :func:`jitcore._runtime.lowering.lower`; run by the interpreter.
    ``dump()`` prints a readable listing.
    """

    def __cinit__(self):
        self.data = <CodeData*>calloc(1, sizeof(CodeData))
        if self.data == NULL:
            raise MemoryError
        pthread_mutex_init(&self.data.pool_lock, NULL)
        self.data.owner = <PyObject*>self
        self._nodes = []
        self._keepalive = []
        self._pending_args = []
        self._pending_release = []
        self._reg_names = []
        self._capacity = 0
        self._finalized = False

    def __dealloc__(self):
        cdef Frame* f
        cdef int k
        if self.data == NULL:
            return
        while self.data.free_frames != NULL:
            f = self.data.free_frames
            self.data.free_frames = f.next_free
            _frame_free(self.data, f)
        for k in range(HOT_FRAMES):
            f = jc_frame_take(&self.data.hot_frames[k])
            if f != NULL:
                _frame_free(self.data, f)
        if self.data.constants != NULL:
            for k in range(self.data.n_constants):
                reg_clear(&self.data.constants[k])
            free(self.data.constants)
        free(self.data.instrs)
        free(self.data.args)
        free(self.data.input_regs)
        free(self.data.output_regs)
        free(self.data.slot_offset)
        free(self.data.slot_bytes)
        free(self.data.out_slot)
        pthread_mutex_destroy(&self.data.pool_lock)
        free(self.data)
        self.data = NULL

    # ----------------------------------------------------------- building
    def _init_registers(self, int n_regs, int n_constants, list names, list inputs, list outputs):
        """Declare the register file: constants first, then everything else."""
        cdef int k
        self.data.n_regs = n_regs
        self.data.n_constants = n_constants
        self._reg_names = names
        self.data.constants = <Reg*>calloc(n_constants if n_constants else 1, sizeof(Reg))
        self.data.input_regs = <int*>malloc((len(inputs) or 1) * sizeof(int))
        self.data.output_regs = <int*>malloc((len(outputs) or 1) * sizeof(int))
        if self.data.constants == NULL or self.data.input_regs == NULL or self.data.output_regs == NULL:
            raise MemoryError
        self.data.n_inputs = len(inputs)
        self.data.n_outputs = len(outputs)
        for k in range(len(inputs)):
            self.data.input_regs[k] = inputs[k]
        for k in range(len(outputs)):
            self.data.output_regs[k] = outputs[k]

    cdef int set_constant(self, int reg, object value) except -1:
        cdef Reg* r = &self.data.constants[reg]
        reg_from_object(r, value, f"constant %{self._reg_names[reg]}")
        _mark_constant(r)
        return 0

    def _keep(self, obj):
        """Keep ``obj`` alive as long as this Code (callees)."""
        self._keepalive.append(obj)

    cdef int add_node(self, str label, object source_range, object extra=None) except -1:
        self._nodes.append((label, source_range, extra))
        return len(self._nodes) - 1

    cdef int emit(self, int opcode, Handler fn, list inputs, list outputs, int node,
                  long long imm=0, double fimm=0.0) except -1:
        cdef int pc = self.data.n_instrs
        cdef Instr* ins
        if pc == self._capacity:
            self._capacity = max(16, 2 * self._capacity)
            ins = <Instr*>realloc(self.data.instrs, self._capacity * sizeof(Instr))
            if ins == NULL:
                raise MemoryError
            self.data.instrs = ins
        ins = &self.data.instrs[pc]
        memset(ins, 0, sizeof(Instr))
        ins.opcode = opcode
        ins.fn = fn
        ins.n_in = len(inputs)
        ins.n_out = len(outputs)
        ins.target = -1
        ins.imm = imm
        ins.fimm = fimm
        ins.node = node
        self._pending_args.append((list(inputs), list(outputs)))
        self.data.n_instrs = pc + 1
        return pc

    def _set_target(self, int pc, int target):
        self.data.instrs[pc].target = target

    def _set_callee(self, int pc, Code callee):
        self._keepalive.append(callee)
        self.data.instrs[pc].callee = callee.data

    @property
    def n_instructions(self):
        return self.data.n_instrs

    @property
    def n_registers(self):
        return self.data.n_regs

    @property
    def n_constants(self):
        return self.data.n_constants

    cdef int finalize(self, list releases) except -1:
        """Pack argument and release lists into one C array."""
        cdef int pc, k, offset = 0
        cdef list flat = []
        for pc in range(self.data.n_instrs):
            ins_inputs, ins_outputs = self._pending_args[pc]
            self.data.instrs[pc].args = len(flat)
            flat.extend(ins_inputs)
            flat.extend(ins_outputs)
            self.data.instrs[pc].release = len(flat)
            self.data.instrs[pc].n_release = len(releases[pc])
            flat.extend(releases[pc])
        self.data.args = <int*>malloc((len(flat) or 1) * sizeof(int))
        if self.data.args == NULL:
            raise MemoryError
        for k in range(len(flat)):
            self.data.args[k] = flat[k]
        self._pending_release = releases
        self._finalized = True
        return 0

    cdef int set_memory_plan(self, list slot_bytes, dict slot_of_pc, dict value_bytes) except -1:
        """Install the arena layout: slot sizes, and the slot of each planned instruction.

        Must run before the first frame is made (lowering calls it once).
        """
        cdef CodeData* c = self.data
        cdef int k, pc
        cdef size_t offset = 0, size
        self._value_bytes = {pc: value_bytes[pc] for pc in slot_of_pc}
        c.slot_offset = <size_t*>calloc(len(slot_bytes) + 1, sizeof(size_t))
        c.slot_bytes = <size_t*>calloc(len(slot_bytes) + 1, sizeof(size_t))
        c.out_slot = <int*>malloc((c.n_instrs + 1) * sizeof(int))
        if c.slot_offset == NULL or c.slot_bytes == NULL or c.out_slot == NULL:
            raise MemoryError
        for k, size in enumerate(slot_bytes):
            # every slot starts on a cache line, as allocator blocks do
            c.slot_offset[k] = offset
            c.slot_bytes[k] = size
            offset += (size + 63) // 64 * 64
        c.n_slots = len(slot_bytes)
        c.arena_bytes = offset
        for pc in range(c.n_instrs):
            c.out_slot[pc] = slot_of_pc.get(pc, -1)
        return 0

    def memory_plan(self):
        """The arena layout memory planning chose.

        Returns
        -------
        dict
            ``arena_bytes`` (per frame), ``slot_bytes`` (one entry per slot),
            ``planned`` (``{pc: slot}`` for each instruction whose output is
            placed in the arena) and ``value_bytes`` (``{pc: bytes}`` of those
            outputs: their sum is what the arena saves against).
        """
        cdef CodeData* c = self.data
        planned = {}
        if c.out_slot != NULL:
            planned = {pc: c.out_slot[pc] for pc in range(c.n_instrs) if c.out_slot[pc] >= 0}
        return dict(arena_bytes=c.arena_bytes,
                    slot_bytes=[c.slot_bytes[k] for k in range(c.n_slots)], planned=planned,
                    value_bytes=dict(self._value_bytes or {}))

    # ---------------------------------------------------------- inspection
    def node_label(self, int index):
        """``(label, source_range, extra)`` of node ``index``.

        ``label`` is the qualified op name or the node kind; ``extra`` is the
        exception name of a ``prim::RaiseException`` (else None).
        """
        return self._nodes[index]

    def register_name(self, int reg):
        return self._reg_names[reg]

    def instructions(self):
        """The instructions as dicts (opcode, inputs, outputs, release, target, op, imm)."""
        out = []
        for pc in range(self.data.n_instrs):
            ins = &self.data.instrs[pc]
            inputs, outputs = self._pending_args[pc]
            out.append(dict(pc=pc, opcode=_OPCODE_NAMES[ins.opcode], op=self._nodes[ins.node][0],
                            inputs=list(inputs), outputs=list(outputs),
                            release=list(self._pending_release[pc]),
                            target=ins.target if ins.target >= 0 else None, imm=ins.imm))
        return out

    def dump(self):
        """A readable listing: one line per instruction, constants first."""
        lines = [f"Code: {self.data.n_instrs} instructions, {self.data.n_regs} registers "
                 f"({self.data.n_constants} constants), inputs "
                 + ", ".join(self._reg(r) for r in self._input_list())
                 + " -> outputs " + ", ".join(self._reg(r) for r in self._output_list())]
        for k in range(self.data.n_constants):
            lines.append(f"  const {self._reg(k)} = {_constant_text(&self.data.constants[k])}")
        for d in self.instructions():
            outs = ", ".join(self._reg(r) for r in d["outputs"])
            ins = ", ".join(self._reg(r) for r in d["inputs"])
            text = f"{d['pc']:4d}  "
            if outs:
                text += outs + " = "
            if d["opcode"] == "kernel":
                text += f"{d['op']}({ins})"
            elif d["opcode"] == "set_int":
                text += f"set_int {d['imm']}"
            else:
                text += f"{d['opcode']}({ins})"
            if d["target"] is not None:
                text += f" -> {d['target']}"
            if d["release"]:
                text += "    ; release " + ", ".join(self._reg(r) for r in d["release"])
            source = self._nodes[self.data.instrs[d["pc"]].node][1]
            if source is not None:
                text += f"    # {source}"
            lines.append(text)
        return "\n".join(lines)

    def _reg(self, int r):
        return f"r{r}:%{self._reg_names[r]}"

    def _input_list(self):
        return [self.data.input_regs[k] for k in range(self.data.n_inputs)]

    def _output_list(self):
        return [self.data.output_regs[k] for k in range(self.data.n_outputs)]

    @property
    def n_inputs(self):
        return self.data.n_inputs

    @property
    def n_outputs(self):
        return self.data.n_outputs

    def pooled_frames(self):
        """How many idle frames the cache holds (lock-free slots and pool; for tests)."""
        cdef int k
        pthread_mutex_lock(&self.data.pool_lock)
        n = self.data.pooled
        pthread_mutex_unlock(&self.data.pool_lock)
        for k in range(HOT_FRAMES):
            if jc_frame_peek(&self.data.hot_frames[k]) != NULL:
                n += 1
        return n

    def thread_guard(self):
        """The contention guard's view of this Code (openmp_helpers.pxd), for tests and tuning.

        Returns
        -------
        dict
            ``mode`` ("pool" or "serial", the preferred one), ``pool_seconds`` and
            ``serial_seconds`` (running means per call, 0.0 until measured),
            ``calls`` (timed calls) and ``probe_period`` (calls between probes).
        """
        cdef ThreadGuard g = self.data.guard
        return dict(mode="serial" if g.mode == 1 else "pool", pool_seconds=g.mean[0],
                    serial_seconds=g.mean[1], calls=g.calls, probe_period=g.period)

    def __repr__(self):
        return f"<Code: {self.data.n_instrs} instructions, {self.data.n_regs} registers>"


cdef void _mark_constant(Reg* r):
    """Flag tensors (also inside lists) so that outputs aliasing them are copied."""
    cdef Py_ssize_t k
    if r.tag == R_TENSOR:
        r.t.storage.flags |= STORAGE_CONSTANT
    elif r.tag == R_LIST or r.tag == R_TUPLE or r.tag == R_DICT:
        r.seq.frozen = True     # every frame on every thread shares it: mutating ops refuse
        for k in range(r.seq.size):
            _mark_constant(&r.seq.items[k])


cdef str _constant_text(const Reg* r):
    if r.tag == R_TENSOR:
        shape = ", ".join(str(r.t.view.shape[i]) for i in range(r.t.view.ndim))
        return f"tensor(dtype code {r.t.view.dtype}, shape ({shape}))"
    return repr(reg_to_object(r))
