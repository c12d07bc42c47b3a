"""The handler of ``jc::FusedElementwise``: a whole elementwise chain in one instruction.

The fusion pass stores the node's register program of chain steps
(``kernels/fused_chain.pxd``) as attributes of the node
(``passes/chain_program.py`` documents them): node inputs take the first
registers, the scalar constants of the chain (``x * 0.5``) the next ones,
and temporaries follow (a temporary is one L1-resident tile buffer per
thread, and the kernel has only ``CHAIN_MAX_BUFFERS`` of them); a step never
writes a register it reads, so every inner loop runs its vectorised,
non-aliasing version.  Lowering reads the attributes, checks every register
(a graph read from a file may carry anything) and interns the program by
content, so a process holds one copy of each distinct chain however many
plans use it; the instruction's ``imm`` is the program's address.

At run time the handler views every input in the chain's float dtype (a
Python scalar input becomes a 0-d view, NEP 50 style: it never widens a
float32 chain), allocates the broadcast output once and runs the chain tile
by tile with OpenMP over tiles (``run_chain``).  Layouts the tile kernel does
not take (non-contiguous inputs, broadcasts along inner dimensions, too many
live temporaries) run the same program op by op over whole-array
temporaries, with the same inner loops, so the values do not depend on the
path taken.
"""

cimport cython

from libc.stdint cimport uintptr_t

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_TENSOR, R_FLOAT, reg_is_number
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_alloc_phase, tensor_release
from jitcore._runtime.op_support cimport ScalarBox, scalar_view, set_output
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_UNSUPPORTED, DT_FLOAT32, DT_FLOAT64,
)
from jitcore._runtime.kernels.broadcast cimport broadcast_into
from jitcore._runtime.kernels.elementwise cimport (
    unary_loop_for, binary_loop_for, ternary_loop_for, param_loop_for,
    run_unary, run_binary, run_ternary, run_param,
)
from jitcore._runtime.kernels.fused_chain cimport (
    ChainStep, run_chain, CHAIN_MAX_INPUTS, CHAIN_MAX_STEPS,
    CHAIN_UNARY, CHAIN_BINARY, CHAIN_TERNARY, CHAIN_PARAM,
)
from jitcore._runtime.kernels import elementwise as _elementwise
from jitcore.errors import CompileError

# A chain step reads at most this many registers (ChainStep.src).
cdef enum:
    MAX_REGISTERS = CHAIN_MAX_INPUTS + CHAIN_MAX_STEPS


ctypedef struct FusedProgram:
    int ninputs                     # node inputs: registers 0 .. ninputs-1
    int nconsts                     # scalar constants: the next nconsts registers
    int nsteps
    double consts[CHAIN_MAX_INPUTS]
    ChainStep steps[CHAIN_MAX_STEPS]


@cython.final
cdef class _Program:
    """Owner of one interned FusedProgram (see the module docstring)."""
    cdef FusedProgram p


# content key -> _Program; never shrinks (programs are tiny and immutable).
cdef dict _interned = {}

# What the tile kernel runs, by kernel name: the fusion pass
# (``passes/chain_program.py``) makes a chain step of an op whose registry
# entry names one of these kernels.  Every float unary kernel but those
# without a float-to-float loop (their ops give bool or are integer-only).
_NO_FLOAT_LOOP = ("positive", "logical_not", "isnan", "bitwise_not")
#: Unary kernels a chain step can run (one operand).
CHAIN_UNARY_KERNELS = frozenset(k for k in _elementwise.UNARY_OPS if k not in _NO_FLOAT_LOOP)
#: Binary kernels a chain step can run: those of a float result.
CHAIN_BINARY_KERNELS = frozenset(k for k in _elementwise.BINARY_OPS
                                 if k not in _elementwise.BOOL_BINARY_OPS
                                 and k not in _elementwise.INT_BINARY_OPS)
#: Parametrised unary kernels a chain step can run (one operand, two float parameters).
CHAIN_PARAM_KERNELS = frozenset(_elementwise.PARAM_OPS)
#: The most steps and inputs (tensors and scalar constants) one chain holds,
#: and the registers its steps may use.
MAX_CHAIN_STEPS = CHAIN_MAX_STEPS
MAX_CHAIN_INPUTS = CHAIN_MAX_INPUTS
MAX_CHAIN_REGISTERS = MAX_REGISTERS

#: The attributes of a ``jc::FusedElementwise`` node that hold its chain
#: program (written by ``passes.chain_program``, documented there).
CHAIN_ATTRIBUTES = ("chain_steps", "chain_registers", "chain_consts", "chain_params")


def _step_code(str kernel, int noperands):
    """``(chain kind, op code)`` of a step running ``kernel`` on ``noperands`` registers."""
    if noperands == 2 and kernel in CHAIN_BINARY_KERNELS:
        return CHAIN_BINARY, _elementwise.BINARY_OPS[kernel]
    if noperands == 1 and kernel in CHAIN_PARAM_KERNELS:
        return CHAIN_PARAM, _elementwise.PARAM_OPS[kernel]
    if noperands == 1 and kernel in CHAIN_UNARY_KERNELS:
        return CHAIN_UNARY, _elementwise.UNARY_OPS[kernel]
    raise ValueError(f"no chain step runs kernel {kernel!r} on {noperands} operand(s)")


def _checked_program(node):
    """``(ninputs, consts, steps)`` from the node's chain attributes, every register
    checked (an archive's graph may carry anything); None without them.

    Raises
    ------
    ValueError
        Naming what is malformed.
    """
    if node.kind != "jc::FusedElementwise" or not node.has_attr("chain_steps"):
        return None
    kernels, regs, consts, params = (list(node.attr(a)) for a in CHAIN_ATTRIBUTES)
    nsteps, ninputs = len(kernels), len(node.inputs)
    if not 0 < nsteps <= CHAIN_MAX_STEPS:
        raise ValueError(f"{nsteps} chain steps (1 to {CHAIN_MAX_STEPS} allowed)")
    if len(regs) != 3 * nsteps or len(params) != 2 * nsteps:
        raise ValueError(f"{nsteps} steps need {3 * nsteps} chain_registers and {2 * nsteps} "
                         f"chain_params, got {len(regs)} and {len(params)}")
    base = ninputs + len(consts)
    if base > CHAIN_MAX_INPUTS:
        raise ValueError(f"{ninputs} inputs and {len(consts)} constants exceed {CHAIN_MAX_INPUTS}")
    written = set(range(base))
    steps = []
    for s in range(nsteps):
        dst, srcs = regs[3 * s], [r for r in regs[3 * s + 1:3 * s + 3] if r != -1]
        if not srcs or any(r not in written for r in srcs):
            raise ValueError(f"chain step {s} reads registers {srcs}, not all of them written before")
        if not base <= dst < MAX_REGISTERS or dst in srcs:
            raise ValueError(f"chain step {s} writes register {dst}: a temporary from {base} to "
                             f"{MAX_REGISTERS - 1} that it does not read")
        kind, op = _step_code(kernels[s], len(srcs))
        written.add(dst)
        steps.append((kind, op, dst, tuple(srcs), (float(params[2 * s]), float(params[2 * s + 1]))))
    return ninputs, tuple(float(c) for c in consts), tuple(steps)


cdef long long fused_chain_program(object node) except -1:
    cdef _Program prog
    cdef int s, k
    try:
        key = _checked_program(node)
    except (ValueError, TypeError) as e:
        raise CompileError(f"jc::FusedElementwise: malformed chain program: {e}") from None
    if key is None:
        return 0
    prog = _interned.get(key)
    if prog is None:
        prog = _Program()
        ninputs, consts, steps = key
        prog.p.ninputs = ninputs
        prog.p.nconsts = len(consts)
        prog.p.nsteps = len(steps)
        for k, c in enumerate(consts):
            prog.p.consts[k] = c
        for s, (kind, op, dst, srcs, params) in enumerate(steps):
            prog.p.steps[s].kind = kind
            prog.p.steps[s].op = op
            prog.p.steps[s].dst = dst
            for k in range(3):
                prog.p.steps[s].src[k] = srcs[k] if k < len(srcs) else 0
            for k in range(2):
                prog.p.steps[s].param[k] = params[k]
        _interned[key] = prog
    return <long long><size_t>&prog.p


def chain_program(node):
    """The chain program lowering runs for a ``jc::FusedElementwise`` node, for tests and debugging.

    Parameters
    ----------
    node : jitcore.ir.Node

    Returns
    -------
    tuple or None
        ``(ninputs, consts, steps)`` with steps ``(kind, op, dst, srcs,
        params)``, or None when the node carries no chain program (the
        runtime then runs its subgraph op by op).
    """
    return _checked_program(node)


cdef int _run_unfused(const FusedProgram* p, const View* views, View* out) noexcept nogil:
    """The program op by op over whole-array temporaries (any layout, any broadcast)."""
    cdef Tensor temps[MAX_REGISTERS]
    cdef const View* regs[MAX_REGISTERS]
    cdef int k, s, dt = out.dtype, status = JC_OK
    cdef int base = p.ninputs + p.nconsts
    cdef const ChainStep* st
    cdef View* dst
    for k in range(MAX_REGISTERS):
        temps[k].storage = NULL
        regs[k] = &views[k] if k < base else &temps[k].view
    for s in range(p.nsteps):
        st = &p.steps[s]
        if s == p.nsteps - 1:
            dst = out
        else:
            dst = &temps[st.dst].view
            if temps[st.dst].storage == NULL:
                status = tensor_alloc(&temps[st.dst], dt, out.ndim, out.shape)
                if status != JC_OK:
                    break
        if st.kind == CHAIN_UNARY:
            status = run_unary(regs[st.src[0]], dst, unary_loop_for(st.op, dt))
        elif st.kind == CHAIN_BINARY:
            status = run_binary(regs[st.src[0]], regs[st.src[1]], dst, binary_loop_for(st.op, dt))
        elif st.kind == CHAIN_TERNARY:
            status = run_ternary(regs[st.src[0]], regs[st.src[1]], regs[st.src[2]], dst,
                                 ternary_loop_for(st.op, dt))
        else:
            status = run_param(regs[st.src[0]], dst, param_loop_for(st.op, dt),
                               st.param[0], st.param[1])
        if status != JC_OK:
            break
    for k in range(base, MAX_REGISTERS):
        tensor_release(&temps[k])
    return status


cdef size_t _full_input_phase(const View* views, int n, int ndim,
                              const Py_ssize_t* shape) noexcept nogil:
    """Where in its 64-byte line the first input of the output's full shape
    starts (0 if none): the output is allocated at the same phase, so that
    the chain's line-aligned tiles align both (see fused_chain.pyx)."""
    cdef int k, d
    for k in range(n):
        if views[k].ndim != ndim:
            continue
        for d in range(ndim):
            if views[k].shape[d] != shape[d]:
                break
        else:
            return <size_t>(<uintptr_t>views[k].data % 64)
    return 0


cdef int h_fused_chain(Frame* f, const Instr* ins) noexcept nogil:
    cdef const FusedProgram* p = <const FusedProgram*><size_t>ins.imm
    cdef View views[CHAIN_MAX_INPUTS]
    cdef ScalarBox boxes[CHAIN_MAX_INPUTS]
    cdef Reg number
    cdef Reg* r
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int k, status, ndim = 0, dt = -1
    cdef Tensor out
    # The compute dtype: the one float dtype of the tensor inputs.
    for k in range(p.ninputs):
        r = IN(f, ins, k)
        if r.tag == R_TENSOR:
            if dt == -1:
                dt = r.t.view.dtype
            elif r.t.view.dtype != dt:
                return frame_fail(f, JC_ERR_DTYPE, b"a fused elementwise chain expects tensor "
                                  b"inputs of one dtype, got a mix")
        elif not reg_is_number(r):
            return frame_fail(f, JC_ERR_TYPE, b"a fused elementwise chain expects tensor or "
                              b"number inputs")
    if dt != DT_FLOAT32 and dt != DT_FLOAT64:
        return frame_fail(f, JC_ERR_DTYPE, b"a fused elementwise chain expects float32 or "
                          b"float64 tensors")
    for k in range(p.ninputs):
        r = IN(f, ins, k)
        if r.tag == R_TENSOR:
            views[k] = r.t.view
        else:
            scalar_view(r, dt, &boxes[k], &views[k])
        status = broadcast_into(&views[k], &ndim, shape)
        if status != JC_OK:
            return frame_fail(f, status, b"the inputs of a fused elementwise chain do not "
                              b"broadcast together")
    number.tag = R_FLOAT
    for k in range(p.nconsts):
        number.f = p.consts[k]
        scalar_view(&number, dt, &boxes[p.ninputs + k], &views[p.ninputs + k])
    status = tensor_alloc_phase(&out, dt, ndim, shape,
                                _full_input_phase(views, p.ninputs, ndim, shape))
    if status != JC_OK:
        return status
    status = run_chain(p.steps, p.nsteps, views, p.ninputs + p.nconsts, &out.view)
    if status == JC_ERR_UNSUPPORTED:
        status = _run_unfused(p, views, &out.view)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)
