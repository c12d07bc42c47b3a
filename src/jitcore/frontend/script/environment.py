"""Scopes of variables while compiling, and the type rules that join them.

Each block being compiled (a function body, an ``if`` branch, a loop body) has a
:class:`Scope` whose parent is the enclosing one.  Assigning binds a name in the
innermost scope; when the branches of an ``if`` or the body of a loop end, the
compiler compares what each scope bound (``assigned``) with the parent and turns the
differences into block outputs: that is how SSA form with ``prim::If``/``prim::Loop``
outputs is built.

Names starting with ``$`` are the compiler's own variables for early exits
(``$exit``, ``$stop``, ``$ret``, ``$retval``); they are joined like user variables.
"""

from jitcore._runtime.types import NoneType, OptionalType, TensorType, ListType, TupleType

__all__ = ["Scope", "Undefined", "unify_types", "EXIT", "STOP", "RETURNED", "RETVAL",
           "NEVER", "MAYBE", "ALWAYS", "DIVERGE"]

EXIT = "$exit"        # skip the rest of the current body (return, break or continue happened)
STOP = "$stop"        # leave the innermost loop (break or return happened)
RETURNED = "$ret"     # a return statement ran
RETVAL = "$retval"    # the value it returned

# How a statement (or block) leaves: never, on some paths, on every path (return, break,
# continue), or by raising on every path.
NEVER, MAYBE, ALWAYS, DIVERGE = "never", "maybe", "always", "diverge"


class Undefined:
    """A name that is not defined at this point, with the reason to report on use."""

    def __init__(self, name, reason):
        self.name = name
        self.reason = reason


class Scope:
    """Variables bound in one block, with declared types and ``is None`` refinements.

    Parameters
    ----------
    parent : Scope or None
    """

    def __init__(self, parent=None):
        self.parent = parent
        self.assigned = {}    # name -> SugaredValue or Undefined, in assignment order
        self.declared = {}    # name -> JitType from an annotated assignment
        self.refined = {}     # name -> ScriptValue narrowed by an `is not None` / isinstance test

    def lookup(self, name):
        """The binding of ``name`` (refinements first), searching outwards; None if unbound."""
        scope = self
        while scope is not None:
            if name in scope.refined:
                return scope.refined[name]
            if name in scope.assigned:
                return scope.assigned[name]
            scope = scope.parent
        return None

    def lookup_unrefined(self, name):
        """The binding of ``name`` ignoring refinements."""
        scope = self
        while scope is not None:
            if name in scope.assigned:
                return scope.assigned[name]
            scope = scope.parent
        return None

    def declared_type(self, name):
        scope = self
        while scope is not None:
            if name in scope.declared:
                return scope.declared[name]
            scope = scope.parent
        return None

    def bind(self, name, value):
        """Bind ``name`` here; a new assignment ends any refinement of it in this scope."""
        self.assigned[name] = value
        self.refined.pop(name, None)

    def refine(self, name, value):
        self.refined[name] = value

    def child(self):
        return Scope(self)


def unify_types(a, b):
    """The type of a variable that holds an ``a`` on one path and a ``b`` on another, or None.

    Tensors of different refinements unify to ``Tensor``; ``T`` and ``None`` to
    ``Optional[T]``; lists and tuples element-wise.  Numbers do not mix: ``int`` and
    ``float`` have no common type (as in TorchScript), so a variable keeps one type.
    """
    if a == b:
        return a
    if isinstance(a, TensorType) and isinstance(b, TensorType):
        return TensorType.get()
    none = NoneType.get()
    if a == none:
        return b if isinstance(b, OptionalType) else OptionalType(b)
    if b == none:
        return a if isinstance(a, OptionalType) else OptionalType(a)
    if isinstance(a, OptionalType) or isinstance(b, OptionalType):
        inner = unify_types(a.elem if isinstance(a, OptionalType) else a,
                            b.elem if isinstance(b, OptionalType) else b)
        return None if inner is None else OptionalType(inner)
    if isinstance(a, ListType) and isinstance(b, ListType):
        inner = unify_types(a.elem, b.elem)
        return ListType(inner) if inner is not None and inner == a.elem == b.elem or (
            inner is not None and isinstance(inner, TensorType)) else None
    if isinstance(a, TupleType) and isinstance(b, TupleType) and len(a.elems) == len(b.elems):
        items = [unify_types(x, y) for x, y in zip(a.elems, b.elems)]
        return None if any(t is None for t in items) else TupleType(items)
    return None
