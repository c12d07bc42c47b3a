"""The runtime handlers an op's registry entry names (``OpDef.handler``).

Each op module (``op_reduction``, ``op_shape``, ...) exports ``HANDLERS``, a
dict from handler names to :class:`HandlerDef`; :mod:`jitcore._runtime.handlers`
merges them, the registry checks every ``handler=`` against that table, and
lowering resolves a node through it.  A handler serves one op or a family of
ops: the family's member is the handler *parameter* (``("reduce", "sum")``),
which selects the instruction's immediate.  Where the immediate also depends
on the op's schema or on constant arguments (a reduction's argument
positions, pad's mode), the handler has a ``Specialise`` function that reads
them from the OpDef and the constants, never from the op's name.
"""


cdef class HandlerDef:
    """A runtime handler: its C function, the immediate of each parameter and
    its specialisation on the op's schema and constant arguments."""

    @property
    def parameters(self):
        """The parameters an op may name with this handler (a frozenset), or
        None when it takes none."""
        return None if self.immediates is None else frozenset(self.immediates)

    cdef int resolve(self, object param, object op, list consts, OpImpl* out) except -1:
        """Fill ``out`` for ``op`` (an OpDef naming this handler with ``param``);
        0 when the handler cannot run it for these constant arguments."""
        out.fn = self.fn
        out.imm = 0
        out.fimm = 0.0
        if self.immediates is not None:
            value = self.immediates[param]
            if isinstance(value, tuple):
                out.imm, out.fimm = value
            else:
                out.imm = value
        if self.specialise != NULL:
            return self.specialise(param, op, consts, out)
        return 1

    def __repr__(self):
        return f"<handler {self.name}>"


cdef HandlerDef handler(str name, Handler fn, dict immediates=None, Specialise specialise=NULL):
    """A :class:`HandlerDef`: ``immediates`` maps each parameter to the
    instruction's ``imm`` (or ``(imm, fimm)``); None when ops name no parameter."""
    cdef HandlerDef h = HandlerDef.__new__(HandlerDef)
    h.name = name
    h.fn = fn
    h.immediates = immediates
    h.specialise = specialise
    return h


cdef int argument_position(object op, str argument) except -2:
    """The position of ``argument`` in ``op``'s schema, or -1 when it has none."""
    for k, a in enumerate(op.schema.arguments):
        if a.name == argument:
            return k
    return -1


cdef tuple constant_argument(object op, list consts, str argument):
    """``(value,)`` when ``op``'s argument of that name is a constant, else None."""
    cdef int k = argument_position(op, argument)
    return None if k < 0 or k >= len(consts) else consts[k]
