"""The register program of a fused elementwise chain, stored on its node for the runtime.

The fusion pass (:mod:`.fuse_elementwise`) asks :func:`chain_step` which nodes
can be a step of the runtime's tiled chain kernel, and :func:`attach_program`
compiles a fused node's ``Subgraph`` into the program that kernel runs and
stores it as four attributes of the node, so lowering only reads them:

``chain_steps`` (strings)
    the kernel of each step, by name (``"mul"``, ``"tanh"``, ``"leaky_relu"``);
    names, not op codes, so a saved graph means the same in any build;
``chain_registers`` (ints, three per step)
    the register the step writes, then the one or two it reads (``-1`` for
    none).  The node's inputs are registers ``0 .. n-1``, the scalar constants
    of ``chain_consts`` the next ones, and temporaries follow;
``chain_consts`` (floats)
    the scalar constants the steps read (``x * 0.5``);
``chain_params`` (floats, two per step)
    the parameters of a parametrised kernel (leaky_relu's slope, clamp's bounds).

Temporaries are reused once dead, and a step never writes a register it reads:
every inner loop then runs its vectorised, non-aliasing version.

Which op is which step comes from the registry alone: an op whose entry names
an elementwise ``kernel`` the chain kernel runs (its other arguments at their
defaults, as ``add``'s alpha of 1), or whose ``chain_step`` gives a kernel and
parameters for its constant arguments (gelu, leaky_relu, clamp).
"""

from jitcore import ops
from jitcore._runtime.op_fused import (
    CHAIN_BINARY_KERNELS, CHAIN_PARAM_KERNELS, CHAIN_UNARY_KERNELS, MAX_CHAIN_INPUTS,
    MAX_CHAIN_STEPS,
)
from jitcore.errors import SchemaMatchError
from jitcore.ops.effects import Effect
from jitcore.ops.registry import effect

from .graph_queries import constant_value

__all__ = ["chain_step", "attach_program"]

_ARITY = {**{k: 1 for k in CHAIN_UNARY_KERNELS}, **{k: 2 for k in CHAIN_BINARY_KERNELS}}


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _overload(node):
    if not ops.is_registered(node.kind):
        return None
    try:
        return ops.match(node.kind, [v.type for v in node.inputs])
    except SchemaMatchError:
        return None


def chain_step(node):
    """``(kernel, operands, params)`` when ``node`` can be a step of a chain, else None.

    ``operands`` are the node's input values the step reads (one or two),
    ``params`` the kernel's float parameters (empty for plain kernels).
    """
    if len(node.outputs) != 1 or effect(node.kind) is not Effect.PURE:
        return None     # an in-place update names its functional op's kernel, but writes
    op = _overload(node)
    if op is None:
        return None
    inputs = list(node.inputs)
    arguments = op.schema.arguments
    if op.chain_step is not None:
        constants = [constant_value(v) for v in inputs[1:]]
        constants += [a.default for a in arguments[len(inputs):]]
        step = op.chain_step(*constants)
        if step is None or step[0] not in CHAIN_PARAM_KERNELS and step[0] not in CHAIN_UNARY_KERNELS:
            return None
        kernel, params = step
        return kernel, inputs[:1], tuple(params)
    arity = _ARITY.get(op.kernel)
    if arity is None or len(inputs) < arity:
        return None
    # the arguments past the kernel's operands must be constants at their defaults
    for value, argument in zip(inputs[arity:], arguments[arity:]):
        if not argument.has_default or constant_value(value) != argument.default:
            return None
    return op.kernel, inputs[:arity], ()


class _NotAChain(Exception):
    """The group's program does not fit the chain kernel's registers."""


def _compile(sub):
    """``(ninputs, consts, [(kernel, dst, srcs, params)])`` of a fused subgraph."""
    inputs = list(sub.inputs)
    reg = {v: k for k, v in enumerate(inputs)}
    steps = []
    for n in sub.nodes:
        if n.kind == "prim::Constant":
            continue
        step = chain_step(n)
        if step is None:
            raise _NotAChain
        kernel, operands, params = step
        steps.append((kernel, operands, params, n.output()))
    if not steps or len(steps) > MAX_CHAIN_STEPS or sub.outputs[0] is not steps[-1][3]:
        raise _NotAChain
    # scalar constant operands become the registers after the inputs
    consts = []
    produced = {result for *_, result in steps}
    constants = [v for _, operands, _, _ in steps for v in operands
                 if v not in reg and v not in produced]
    for v in constants:
        c = constant_value(v)
        if not _is_number(c) and not isinstance(c, bool):
            raise _NotAChain
        if float(c) not in consts:
            consts.append(float(c))
        reg[v] = len(inputs) + consts.index(float(c))
    base = len(inputs) + len(consts)
    if base > MAX_CHAIN_INPUTS:
        raise _NotAChain
    for _, operands, _, _ in steps:
        if all(v in reg and len(inputs) <= reg[v] < base for v in operands):
            raise _NotAChain        # an op of constants only: constant propagation's job
    last_read = {}
    for i, (_, operands, _, _) in enumerate(steps):
        for v in operands:
            last_read[v] = i
    # a register is free again after the last step that reads it; the lowest
    # free one is taken first, so two temporaries alternate in a plain chain
    free, nregs, program = [], base, []
    for i, (kernel, operands, params, result) in enumerate(steps):
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
        program.append((kernel, dst, srcs, params))
    return len(inputs), consts, program


def attach_program(node):
    """Compile ``node``'s ``Subgraph`` and store its chain program as attributes.

    Returns
    -------
    bool
        False (and no attributes) when the group does not fit the chain
        kernel, whose lowering then runs the subgraph op by op.
    """
    try:
        _, consts, program = _compile(node.attr("Subgraph"))
    except _NotAChain:
        return False
    registers, params = [], []
    for _, dst, srcs, step_params in program:
        registers += [dst] + srcs + [-1] * (2 - len(srcs))
        params += list(step_params) + [0.0] * (2 - len(step_params))
    node.set_attr("chain_steps", [kernel for kernel, *_ in program])
    node.set_attr("chain_registers", registers)
    node.set_attr("chain_consts", consts)
    node.set_attr("chain_params", [float(p) for p in params])
    return True

