"""The handler of ``jc::FusedElementwise``: a whole elementwise chain in one instruction.

At lowering time the node's ``Subgraph`` is compiled into a register program
of chain steps (``kernels/fused_chain.pxd``): node inputs take the first
registers, the scalar constants of the subgraph (``x * 0.5``) the next ones,
and the intermediate values share as few temporaries as their lifetimes
allow (a temporary is one L1-resident tile buffer per thread, and the kernel
has only ``CHAIN_MAX_BUFFERS`` of them); a step never writes a register it
reads, so every inner loop runs its vectorised, non-aliasing version.  Programs are interned by content,
so a process holds one copy of each distinct chain however many plans use
it; the instruction's ``imm`` is the program's address.

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

# Unary kernels that are no chain step of their own: gelu, gelu_tanh and
# softplus steps come from their parametrised ops (``_param_step``); the rest
# are not ops, give bool, or have no float loop (bitwise_not).
_NOT_PLAIN_UNARY = ("gelu", "gelu_tanh", "softplus", "positive", "logical_not", "isnan",
                    "bitwise_not")
# Binary kernels whose ops take an alpha argument (``_ALPHA_BINARY``).
_ALPHA_KERNELS = ("add", "sub")
# aten kind -> (chain kind, op code) of the ops whose extra arguments need no
# checking: every unary kernel but those above, and every binary kernel of a
# float result (not the bool ones, nor the integer-only bitwise ones).  An
# op's registry entry names its kernel, which is the op's own name
# (tests/test_runtime_op_fused.py checks the two agree).
_PLAIN = {"aten::" + _name: (CHAIN_UNARY, _code) for _name, _code in _elementwise.UNARY_OPS.items()
          if _name not in _NOT_PLAIN_UNARY}
_PLAIN.update({"aten::" + _name: (CHAIN_BINARY, _code)
               for _name, _code in _elementwise.BINARY_OPS.items()
               if _name not in _elementwise.BOOL_BINARY_OPS and _name not in _elementwise.INT_BINARY_OPS
               and _name not in _ALPHA_KERNELS})
_ALPHA_BINARY = {"aten::" + _name: _elementwise.BINARY_OPS[_name] for _name in _ALPHA_KERNELS}
# The ops with constant float parameters (``_param_step``).
_PARAM_KINDS = ("aten::gelu", "aten::softplus", "aten::leaky_relu", "aten::elu",
                "aten::clamp", "aten::hardtanh", "aten::relu6")

#: Every op a chain step can be: the fusion pass groups exactly these
#: (``passes.fuse_elementwise.FUSIBLE_KINDS`` is this set).
CHAIN_KINDS = frozenset(_PLAIN) | frozenset(_ALPHA_BINARY) | frozenset(_PARAM_KINDS)
#: The most steps and inputs (tensors and scalar constants) one chain holds.
MAX_CHAIN_STEPS = CHAIN_MAX_STEPS
MAX_CHAIN_INPUTS = CHAIN_MAX_INPUTS


class _NotAChain(Exception):
    """The subgraph uses something the tile kernel does not implement."""


def _const(value):
    """The Python value of a ``prim::Constant`` output, or raise _NotAChain."""
    node = value.node
    if node.kind != "prim::Constant":
        raise _NotAChain
    return node.attr("value") if node.has_attr("value") else None


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _param_step(node):
    """(kind, op, operand, params) of the ops that take constant float parameters."""
    kind = node.kind
    ins = list(node.inputs)
    if kind == "aten::gelu":
        approximate = _const(ins[1]) if len(ins) > 1 else "none"
        name = {"none": "gelu", "tanh": "gelu_tanh"}.get(approximate)
        if name is None:
            raise _NotAChain
        return CHAIN_UNARY, _elementwise.UNARY_OPS[name], ins[0], ()
    if kind == "aten::softplus":
        # the kernel is the beta=1, threshold=20 softplus (the defaults)
        if [_const(v) for v in ins[1:]] not in ([], [1], [1, 20]):
            raise _NotAChain
        return CHAIN_UNARY, _elementwise.UNARY_OPS["softplus"], ins[0], ()
    if kind == "aten::leaky_relu":
        slope = _const(ins[1]) if len(ins) > 1 else 0.01
        if not _is_number(slope):
            raise _NotAChain
        return CHAIN_PARAM, _elementwise.PARAM_OPS["leaky_relu"], ins[0], (float(slope), 0.0)
    if kind == "aten::elu":
        args = [_const(v) for v in ins[1:]]
        alpha = args[0] if args else 1.0
        if not _is_number(alpha) or any(a != 1 for a in args[1:]):
            raise _NotAChain
        return CHAIN_PARAM, _elementwise.PARAM_OPS["elu"], ins[0], (float(alpha), 0.0)
    if kind == "aten::relu6":
        return CHAIN_PARAM, _elementwise.PARAM_OPS["hardtanh"], ins[0], (0.0, 6.0)
    if kind in ("aten::clamp", "aten::hardtanh"):
        default = (float("-inf"), float("inf")) if kind == "aten::clamp" else (-1.0, 1.0)
        bounds = []
        for k in (1, 2):
            b = _const(ins[k]) if len(ins) > k else None
            if b is None:
                b = default[k - 1]
            if not _is_number(b):
                raise _NotAChain
            bounds.append(float(b))
        return CHAIN_PARAM, _elementwise.PARAM_OPS["hardtanh"], ins[0], tuple(bounds)
    raise _NotAChain


def _compile(sub):
    """``(ninputs, consts, steps)`` for a subgraph; raises _NotAChain."""
    inputs = list(sub.inputs)
    reg = {v: k for k, v in enumerate(inputs)}
    nodes = [n for n in sub.nodes if n.kind != "prim::Constant"]
    # (kind, op, operand values, params, output value) per op
    ops = []
    for n in nodes:
        if len(n.outputs) != 1:
            raise _NotAChain
        if n.kind in _PLAIN:
            kind, op = _PLAIN[n.kind]
            arity = 1 if kind == CHAIN_UNARY else 2
            if len(n.inputs) != arity:
                raise _NotAChain
            ops.append((kind, op, list(n.inputs), (), n.output()))
        elif n.kind in _ALPHA_BINARY:
            if len(n.inputs) not in (2, 3) or (len(n.inputs) == 3 and _const(n.inputs[2]) != 1):
                raise _NotAChain
            ops.append((CHAIN_BINARY, _ALPHA_BINARY[n.kind], list(n.inputs[:2]), (), n.output()))
        else:
            kind, op, operand, params = _param_step(n)
            ops.append((kind, op, [operand], params, n.output()))
    if not ops or len(ops) > CHAIN_MAX_STEPS or sub.outputs[0] is not ops[len(ops) - 1][4]:
        raise _NotAChain
    # Scalar constant operands become registers after the inputs.
    consts = []
    produced = {op[4] for op in ops}
    for _, _, operands, _, _ in ops:
        for v in operands:
            if v not in reg and v not in produced:
                c = _const(v)
                if not _is_number(c) and not isinstance(c, bool):
                    raise _NotAChain
                if float(c) not in consts:
                    consts.append(float(c))
    base = len(inputs) + len(consts)
    if base > CHAIN_MAX_INPUTS:
        raise _NotAChain
    for _, _, operands, _, _ in ops:
        for v in operands:
            if v not in reg and v not in produced:
                reg[v] = len(inputs) + consts.index(float(_const(v)))
    for _, _, operands, _, _ in ops:
        if all(v in reg and len(inputs) <= reg[v] < base for v in operands):
            raise _NotAChain        # an op of constants only: constant propagation's job
    # Temporaries: a register is free again after the last op that reads it.
    last_read = {}
    for i, (_, _, operands, _, _) in enumerate(ops):
        for v in operands:
            last_read[v] = i
    # A step never writes a register it reads: in-place loops would need
    # gcc's runtime alias check to pass, and it fails for equal pointers, so
    # the loop would run scalar.  Two temporaries alternate in a plain chain.
    free, nregs, steps = [], base, []
    for i, (kind, op, operands, params, result) in enumerate(ops):
        srcs = [reg[v] for v in operands]
        if free:
            free.sort()
            dst = free.pop(0)
        else:
            dst, nregs = nregs, nregs + 1
        for v in set(operands):
            if reg[v] >= base and last_read[v] == i:
                free.append(reg[v])
        reg[result] = dst
        steps.append((kind, op, dst, tuple(srcs), tuple(params)))
    return len(inputs), tuple(consts), tuple(steps)


cdef long long fused_chain_program(object node) except -1:
    cdef _Program prog
    cdef int s, k
    if node.kind != "jc::FusedElementwise" or not node.has_attr("Subgraph"):
        return 0
    try:
        key = _compile(node.attr("Subgraph"))
    except _NotAChain:
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
                prog.p.steps[s].param[k] = params[k] if k < len(params) else 0.0
        _interned[key] = prog
    return <long long><size_t>&prog.p


def chain_program(node):
    """The compiled chain of a ``jc::FusedElementwise`` node, for tests and debugging.

    Parameters
    ----------
    node : jitcore.ir.Node

    Returns
    -------
    tuple or None
        ``(ninputs, consts, steps)`` with steps ``(kind, op, dst, srcs,
        params)``, or None when the runtime runs this node's subgraph op by
        op (an op or argument the tile kernel does not implement).
    """
    if fused_chain_program(node) == 0:
        return None
    return _compile(node.attr("Subgraph"))


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
