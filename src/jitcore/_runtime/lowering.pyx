"""Lowering: a ``Graph`` becomes a ``Code`` the interpreter runs without the GIL.

* One register per value.  Constants take the low registers and are loaded
  once per frame, not per call.
* Every op node is resolved here, once, to a C handler pointer and
  immediates: the handler its registry entry names (``OpDef.handler``, a
  :class:`~jitcore._runtime.handler_table.HandlerDef` of the op modules'
  tables), specialised on the node's constant arguments.  The interpreter
  never looks anything up by name.
* ``prim::If`` becomes a conditional jump over the then-branch and a jump
  over the else-branch, each branch ending with moves of its outputs into
  the If's output registers; ``prim::Loop`` becomes a counted test at the
  top, moves of the carried values into the body's inputs, the body, moves
  back, and a jump to the test.  Each construct ends with a no-op that is
  its single exit, where values used inside it but defined outside are
  released.
* A value is released right after its last use.  A use inside a nested
  block counts as a use by the whole construct, so a value read in a loop
  body lives until the loop ends.
* A ``jc::FusedElementwise`` node whose chain the tile kernel runs becomes
  one instruction (``op_fused``); other nodes with a ``Subgraph`` attribute
  and ``prim::CallFunction`` lower their graph to a separate Code, called
  with a frame of its own.
* Memory planning (``memory_planning.assign_slots``): the single output of a
  kernel whose type has a known dtype and shape, that does not leave the
  Code (a graph output, or moved into one), gets a slot in the frame's arena
  chosen from its live range (definition to release).

Unsupported ops raise :class:`jitcore.errors.CompileError` naming the op;
the executor then falls back to the reference interpreter.
"""

from jitcore._runtime.code cimport (
    Code, Handler, OP_KERNEL, OP_MOVE, OP_JUMP, OP_JUMP_IF_FALSE, OP_LOOP_TEST, OP_LOOP_NEXT,
    OP_SET_INT, OP_CALL, OP_RAISE,
)
from jitcore._runtime.op_support cimport OpImpl
from jitcore._runtime.handler_table cimport HandlerDef
from jitcore._runtime.op_python cimport resolve_python
from jitcore._runtime.handlers import HANDLERS
from jitcore._runtime.op_python import python_target
from jitcore._runtime.op_fused cimport fused_chain_program, h_fused_chain

from jitcore import ops as _ops
from jitcore.errors import CompileError, JitcoreError
from jitcore._runtime.memory_planning import LiveRange, assign_slots
from jitcore._runtime.types import TensorType

import numpy as np

__all__ = ["lower", "supported_ops"]

# prim kinds lowered to control flow or plain moves by this module itself.
_STRUCTURAL = ("prim::Constant", "prim::If", "prim::Loop", "prim::RaiseException",
               "prim::CallFunction")


def lower(graph, functions=None, *, attributes=None):
    """Lower ``graph`` to a :class:`Code`.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction[name=...]`` nodes.
    attributes : list of list of Value, optional
        For a method graph (first input ``self``): the outputs of the
        ``prim::GetAttr`` chains from ``self`` that read data (arrays,
        scalars), grouped by attribute (every value of a group reads the same
        attribute).  The Code then takes the graph's inputs after ``self``,
        followed by one input per group; the chains are not emitted, and
        ``self`` and the module objects along the chains must have no other
        use.  The caller fetches the attributes at call time.

    Returns
    -------
    Code

    Raises
    ------
    CompileError
        If a node has no runtime implementation (the message names the op
        and its source range) or uses an unsupported construct.
    """
    lowering = _Lowering(graph, functions or {}, {})
    if attributes is not None:
        lowering.lift_attributes(attributes)
    return lowering.run()


def supported_ops():
    """Qualified names of every registered op the runtime can lower."""
    cdef OpImpl impl
    names = []
    for op in _ops.all_ops():
        consts = [None] * len(op.schema.arguments)
        # defaults stand in for constant arguments some handlers specialise on
        for k, a in enumerate(op.schema.arguments):
            if a.has_default:
                consts[k] = (a.default,)
        if _resolve_impl(op.schema.qualified_name, consts, &impl):
            names.append(op.schema.qualified_name)
    return names


cdef bint _resolve_impl(str name, list consts, OpImpl* impl) except -1:
    """Fill ``impl`` for op ``name`` with the handler its registry entry names."""
    try:
        op = _ops.get(name)
    except KeyError:
        op = None
    if op is None or op.handler is None:
        return _resolve_by_name(name, consts, impl)
    handler_name, param = op.handler
    return (<HandlerDef>HANDLERS[handler_name]).resolve(param, op, consts, impl)


# prim::PythonOp is no registered op (it calls the model's own Python function):
# the one kind resolved by name.
cdef bint _resolve_by_name(str name, list consts, OpImpl* impl) except -1:
    return resolve_python(name, consts, impl)


cdef class _Lowering:
    cdef object graph
    cdef dict functions
    cdef dict callee_cache      # function name -> Code
    cdef Code code
    cdef dict regs              # Value -> register
    cdef list names
    cdef dict def_path          # register -> construct path of its definition
    cdef list uses              # (register, pc, path)
    cdef dict construct_exit    # construct id -> pc of its exit no-op
    cdef set keep               # registers never released (outputs, constants)
    cdef int n_constants
    cdef dict hidden            # Loop node id -> (counter register, condition register)
    cdef list attribute_groups  # lifted attribute reads (lists of Values), or None
    cdef set skipped            # ids of the GetAttr nodes whose reads are Code inputs
    cdef list placeable         # (pc, register, Value): kernel outputs memory planning may place
    cdef list moves             # (destination, source) register of every move
    cdef dict last_use          # register -> pc after which it is released

    def __init__(self, graph, dict functions, dict callee_cache):
        self.graph = graph
        self.functions = functions
        self.callee_cache = callee_cache
        self.code = Code()
        self.regs = {}
        self.names = []
        self.def_path = {}
        self.uses = []
        self.construct_exit = {}
        self.keep = set()
        self.hidden = {}
        self.attribute_groups = None
        self.skipped = set()
        self.placeable = []
        self.moves = []
        self.last_use = {}

    def lift_attributes(self, list groups):
        """Make the attribute reads ``groups`` Code inputs (see :func:`lower`)."""
        if not self.graph.inputs:
            raise CompileError("a method graph needs a self input")
        self_value = self.graph.inputs[0]
        modules = {self_value}
        chain = []
        for group in groups:
            for v in group:
                node = v.node
                while node.kind == "prim::GetAttr" and id(node) not in self.skipped:
                    self.skipped.add(id(node))
                    chain.append(node)
                    if node.input(0) is self_value:
                        break
                    modules.add(node.input(0))
                    node = node.input(0).node
                if node.kind != "prim::GetAttr":
                    raise CompileError(f"%{v.debug_name} is not read from self by prim::GetAttr")
        for m in modules:
            for use in m.uses:
                if id(use.user) not in self.skipped:
                    what = "self" if m is self_value else f"the module %{m.debug_name}"
                    raise CompileError(f"{use.user.kind} uses {what} directly"
                                       f"{_where(use.user)}; only attribute reads are compiled")
        self.attribute_groups = groups

    def run(self):
        constants = [n for n in self.graph.walk() if n.kind == "prim::Constant"]
        for n in constants:
            self._new_reg(n.output(), ())
        self.n_constants = len(self.names)
        if self.attribute_groups is None:
            inputs = [self._new_reg(v, ()) for v in self.graph.inputs]
        else:
            inputs = [self._new_reg(v, ()) for v in self.graph.inputs[1:]]
            for group in self.attribute_groups:
                r = self._new_reg(group[0], ())
                inputs.append(r)
                for v in group[1:]:
                    self.regs[v] = r
        self._assign(self.graph.block, ())
        outputs = [self.regs[v] for v in self.graph.outputs]
        self.code._init_registers(len(self.names), self.n_constants, self.names, inputs, outputs)
        for n in constants:
            value = n.attr("value") if n.has_attr("value") else None
            try:
                self.code.set_constant(self.regs[n.output()], value)
            except (TypeError, ValueError) as e:
                raise CompileError(f"cannot load the constant %{n.output().debug_name}: {e}") from e
        self.keep.update(outputs)
        self.keep.update(range(self.n_constants))
        self._emit_block(self.graph.block, ())
        self.code.finalize(self._releases())
        ranges = self._live_ranges(outputs)
        slot_bytes, slot_of_pc = assign_slots(ranges)
        self.code.set_memory_plan(slot_bytes, slot_of_pc, {r.key: r.nbytes for r in ranges})
        return self.code

    cdef list _live_ranges(self, list outputs):
        """Live ranges (keyed by defining pc) of the placeable outputs that never leave this Code."""
        escaping = set(outputs)
        grew = True
        while grew:             # a value moved into an escaping register escapes too
            grew = False
            for dst, src in self.moves:
                if dst in escaping and src not in escaping:
                    escaping.add(src)
                    grew = True
        ranges = []
        for pc, r, value in self.placeable:
            nbytes = _static_nbytes(value.type)
            if nbytes is None or r in escaping or r in self.keep or r not in self.last_use:
                continue
            ranges.append(LiveRange(pc, pc, max(pc, self.last_use[r]), nbytes))
        return ranges

    # ------------------------------------------------------------ registers
    cdef int _new_reg(self, v, tuple path) except -1:
        cdef int r = len(self.names)
        self.regs[v] = r
        self.names.append(v.debug_name)
        self.def_path[r] = path
        return r

    cdef int _hidden_reg(self, str name, tuple path) except -1:
        cdef int r = len(self.names)
        self.names.append(name)
        self.def_path[r] = path
        return r

    cdef _assign(self, block, tuple path):
        for n in block.nodes:
            if n.kind == "prim::Constant" or id(n) in self.skipped:
                continue
            for v in n.outputs:
                self._new_reg(v, path)
            if n.kind == "prim::Loop":
                self.hidden[id(n)] = (self._hidden_reg("loop.i", path),
                                      self._hidden_reg("loop.cond", path))
            inner = path + (id(n),)
            for b in n.blocks:
                for v in b.inputs:
                    self._new_reg(v, inner)
                self._assign(b, inner)

    # -------------------------------------------------------------- emission
    cdef int _emit(self, int opcode, Handler fn, list ins, list outs, int node, tuple path,
                   long long imm=0, double fimm=0.0) except -1:
        cdef int pc = self.code.emit(opcode, fn, ins, outs, node, imm, fimm)
        for r in ins:
            self.uses.append((r, pc, path))
        for r in outs:
            # a definition with no later use is released right after it
            self.uses.append((r, pc, self.def_path[r]))
        return pc

    cdef int _node_index(self, n, str label, extra=None) except -1:
        return self.code.add_node(label, n.source_range, extra)

    cdef _emit_block(self, block, tuple path):
        for n in block.nodes:
            kind = n.kind
            if kind == "prim::Constant" or id(n) in self.skipped:
                continue
            if kind == "prim::If":
                self._emit_if(n, path)
            elif kind == "prim::Loop":
                self._emit_loop(n, path)
            elif kind == "prim::RaiseException":
                node = self._node_index(n, kind, n.attr("exception") if n.has_attr("exception") else None)
                message = list(n.inputs[:1])
                if message and _is_raise_message_format(message[0].node):
                    # the format string and its values: filled in only if it raises
                    message = list(message[0].node.inputs)
                self._emit(OP_RAISE, NULL, [self.regs[v] for v in message], [], node, path)
            elif kind == "aten::format" and _is_raise_message_format(n):
                continue
            elif kind == "prim::CallFunction" or n.has_attr("Subgraph"):
                if not self._emit_fused_chain(n, path):
                    self._emit_call(n, path)
            else:
                self._emit_op(n, path)

    cdef bint _emit_fused_chain(self, n, tuple path) except -1:
        """Emit a fused elementwise node as one tiled instruction; False when the
        tile kernel cannot run its chain (the node is then called as a sub-Code)."""
        cdef long long program = fused_chain_program(n)
        if program == 0:
            return False
        pc = self._emit(OP_KERNEL, h_fused_chain, [self.regs[v] for v in n.inputs],
                        [self.regs[v] for v in n.outputs], self._node_index(n, n.kind), path, program)
        if len(n.outputs) == 1:
            self.placeable.append((pc, self.regs[n.output()], n.output()))
        return True

    cdef _emit_moves(self, list dsts, list srcs, int node, tuple path):
        for d, s in zip(dsts, srcs):
            self.moves.append((d, s))
            self._emit(OP_MOVE, NULL, [s], [d], node, path)

    cdef _emit_if(self, n, tuple path):
        cdef int node = self._node_index(n, "prim::If")
        cdef tuple inner = path + (id(n),)
        outs = [self.regs[v] for v in n.outputs]
        then_block, else_block = n.blocks
        jump_else = self._emit(OP_JUMP_IF_FALSE, NULL, [self.regs[n.inputs[0]]], [], node, path)
        self._emit_block(then_block, inner)
        self._emit_moves(outs, [self.regs[v] for v in then_block.outputs], node, inner)
        jump_end = self._emit(OP_JUMP, NULL, [], [], node, inner)
        self.code._set_target(jump_else, self.code.n_instructions)
        self._emit_block(else_block, inner)
        self._emit_moves(outs, [self.regs[v] for v in else_block.outputs], node, inner)
        exit_pc = self._emit_exit(n, node, path)
        self.code._set_target(jump_end, exit_pc)

    cdef int _emit_exit(self, n, int node, tuple path) except -1:
        """The construct's single exit: a jump to the next instruction."""
        cdef int pc = self._emit(OP_JUMP, NULL, [], [], node, path)
        self.code._set_target(pc, pc + 1)
        self.construct_exit[id(n)] = pc
        return pc

    cdef _emit_loop(self, n, tuple path):
        cdef int node = self._node_index(n, "prim::Loop")
        cdef tuple inner = path + (id(n),)
        counter, cond = self.hidden[id(n)]
        body = n.blocks[0]
        trip = self.regs[n.inputs[0]]
        outs = [self.regs[v] for v in n.outputs]
        self._emit(OP_SET_INT, NULL, [], [counter], node, path, 0)
        self._emit_moves([cond], [self.regs[n.inputs[1]]], node, path)
        self._emit_moves(outs, [self.regs[v] for v in n.inputs[2:]], node, path)
        top = self._emit(OP_LOOP_TEST, NULL, [counter, trip, cond], [], node, inner)
        body_in = [self.regs[v] for v in body.inputs]
        self._emit_moves(body_in[:1], [counter], node, inner)
        self._emit_moves(body_in[1:], outs, node, inner)
        self._emit_block(body, inner)
        body_out = [self.regs[v] for v in body.outputs]
        self._emit_moves([cond] + outs, body_out, node, inner)
        self._emit(OP_LOOP_NEXT, NULL, [counter], [], node, inner)
        self.code._set_target(self.code.n_instructions - 1, top)
        exit_pc = self._emit_exit(n, node, path)
        self.code._set_target(top, exit_pc)

    cdef _emit_call(self, n, tuple path):
        if n.has_attr("Subgraph"):
            label = n.kind
            callee_graph = n.attr("Subgraph")
            key = None
        else:
            name = n.attr("name") if n.has_attr("name") else None
            if name not in self.functions:
                raise CompileError(f"prim::CallFunction of unknown function {name!r}"
                                   + _where(n))
            label = f"prim::CallFunction[name={name}]"
            callee_graph = self.functions[name]
            key = name
        callee = self.callee_cache.get(key) if key is not None else None
        if callee is None:
            callee = _Lowering(callee_graph, self.functions, self.callee_cache).run()
            if key is not None:
                self.callee_cache[key] = callee
        if callee.n_inputs != len(n.inputs) or callee.n_outputs != len(n.outputs):
            raise CompileError(f"{label}: the callee takes {callee.n_inputs} inputs and returns "
                               f"{callee.n_outputs} values, the call has {len(n.inputs)} and "
                               f"{len(n.outputs)}" + _where(n))
        node = self._node_index(n, label)
        pc = self._emit(OP_CALL, NULL, [self.regs[v] for v in n.inputs],
                        [self.regs[v] for v in n.outputs], node, path)
        self.code._set_callee(pc, callee)

    cdef _emit_op(self, n, tuple path):
        cdef OpImpl impl
        name = _qualified_name(n)
        consts = [(_constant_value(v),) if v.node.kind == "prim::Constant" else None
                  for v in n.inputs]
        if not _resolve_impl(name, consts, &impl):
            raise CompileError(f"the runtime has no kernel for {name}{_where(n)}; "
                               "run it with the reference interpreter")
        node = self._node_index(n, name, python_target(n, self.functions))
        pc = self._emit(OP_KERNEL, impl.fn, [self.regs[v] for v in n.inputs],
                        [self.regs[v] for v in n.outputs], node, path, impl.imm, impl.fimm)
        if len(n.outputs) == 1:
            self.placeable.append((pc, self.regs[n.output()], n.output()))

    # ------------------------------------------------------------- releases
    cdef list _releases(self):
        """Per instruction, the registers whose last use it is."""
        last = {}
        for r, pc, path in self.uses:
            home = self.def_path[r]
            if len(path) > len(home):
                # used inside a construct nested below the definition: the
                # value must survive until that construct exits
                pc = self.construct_exit[path[len(home)]]
            if pc > last.get(r, -1):
                last[r] = pc
        self.last_use = last
        releases = [[] for _ in range(self.code.n_instructions)]
        for r, pc in sorted(last.items()):
            if r not in self.keep:
                releases[pc].append(r)
        return releases


def _is_raise_message_format(n):
    """An ``aten::format`` whose string only ever becomes an exception's message: the
    raise instruction formats it, only when the program raises."""
    return n.kind == "aten::format" and all(
        u.user.kind == "prim::RaiseException" and u.offset == 0 for u in n.output().uses)


def _qualified_name(n):
    """The op overload a node runs: ``aten::add.Tensor``, or the kind for prims."""
    kind = n.kind
    if kind.startswith("prim::"):
        return kind
    from jitcore import ops
    try:
        return ops.match(kind, [v.type for v in n.inputs]).schema.qualified_name
    except JitcoreError as e:
        raise CompileError(f"{kind}: {e}{_where(n)}") from e


def _constant_value(v):
    n = v.node
    return n.attr("value") if n.has_attr("value") else None


def _static_nbytes(t):
    """Bytes of a tensor type whose dtype and every dimension are known, else None."""
    if not isinstance(t, TensorType) or t.dtype is None or t.shape is None:
        return None
    n = np.dtype(t.dtype).itemsize
    for d in t.shape:
        if d is None:
            return None
        n *= d
    return n


def _where(n):
    return f" (at {n.source_range})" if n.source_range is not None else ""
