"""The archive's view of a compiled model: plain records, independent of ``ScriptModule``.

``save`` turns a ScriptModule or ScriptFunction into a ``ModuleRecord`` tree
(``module_tree.record_of``) and ``archive.write_archive`` stores that tree;
``archive.read_archive`` returns the same tree, validated, and
``module_tree.rebuild`` turns it back into a ScriptModule or ScriptFunction.
"""

from dataclasses import dataclass, field

from jitcore.serialization.limits import MAX_ATTRIBUTE_DEPTH

__all__ = ["ModuleRecord", "ATTRIBUTE_TYPES", "CONTAINER_TYPES", "is_storable_attribute", "MODULE",
           "FUNCTION"]

#: A module: a tree node with state, methods and submodules.
MODULE = "module"
#: A free function: one graph, no state.
FUNCTION = "function"
#: Python types of plain (non-tensor) attributes, by the name the manifest uses.
ATTRIBUTE_TYPES = {"bool": bool, "int": int, "float": float, "str": str}
#: Containers an attribute may also be (of the types above or containers again; dict keys
#: str or int), by the name the manifest uses.
CONTAINER_TYPES = {"list": list, "dict": dict}


def is_storable_attribute(value, depth=MAX_ATTRIBUTE_DEPTH):
    """True if an archive holds ``value`` as an attribute: a bool, int (int64), float or str,
    or a list or dict (str or int keys) of storable values, nested at most ``depth`` deep."""
    if type(value) is int:
        return -2 ** 63 <= value < 2 ** 63         # the loader reads int64
    if type(value) in ATTRIBUTE_TYPES.values():
        return True
    if depth == 0:
        return False
    if type(value) is list:
        return all(is_storable_attribute(v, depth - 1) for v in value)
    if type(value) is dict:
        return all(type(k) in (str, int) and is_storable_attribute(k)
                   and is_storable_attribute(v, depth - 1)
                   for k, v in value.items())
    return False


@dataclass
class ModuleRecord:
    """One node of the saved tree.

    Attributes
    ----------
    kind : str
        ``"module"`` or ``"function"``.
    qualname : str
        The class's qualified name (a module) or the function's name; stored,
        never resolved to a Python object.
    methods : dict of str to Graph
        Method name to graph, in definition order (a function has exactly one).
    parameters, buffers : dict of str to ndarray or None
        Tensor state, in registration order (None: registered but unset, as
        ``Linear(bias=False)``'s bias).
    non_persistent : set of str
        Buffers left out of ``state_dict`` (saved all the same: graphs read them).
    attributes : dict of str to bool, int, float, str, list or dict
        Plain attributes, in registration order (lists and dicts of plain values,
        nested too).
    submodules : dict of str to ModuleRecord or None
        Children, in registration order.
    training : bool
        The module's ``training`` flag (False for a function).
    functions : dict of str to Graph
        Root only: the graphs that ``prim::CallFunction[name=...]`` nodes call,
        by qualified name (a scripted model's compilation unit).
    signatures : dict of str to tuple of (str, object)
        Method name to its call parameters (``self`` excluded): ``(name, default)``,
        ``default`` ``inspect.Parameter.empty`` for a required one or a bool, int,
        float, str or None.  Only scripted methods whose defaults are such literals
        have one; calls of the others take positional arguments.
    results : dict of str to (str, tuple of str)
        Method name to the class name and field names of the NamedTuple its calls
        return (a scripted ``-> Stats``); a loaded method returns a
        ``collections.namedtuple`` made from them.
    """

    kind: str
    qualname: str
    methods: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    submodules: dict = field(default_factory=dict)
    non_persistent: set = field(default_factory=set)
    training: bool = False
    functions: dict = field(default_factory=dict)
    signatures: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)

    def walk(self, path=()):
        """Yield ``(path, record)`` for this record and every descendant, parents first."""
        yield path, self
        for name, child in self.submodules.items():
            if child is not None:
                yield from child.walk(path + (name,))
