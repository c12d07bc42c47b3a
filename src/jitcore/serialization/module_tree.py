"""Between ``ScriptModule``/``ScriptFunction`` objects and the archive's ``ModuleRecord`` tree.

``record_of`` reads a compiled model without copying its arrays; ``rebuild``
makes a fresh ScriptModule or ScriptFunction from a validated record, naming
no Python class or function from the archive: the class's qualified name only
becomes the IR ``ClassType`` it was.
"""

import collections
import functools
import inspect

from jitcore._runtime.types import (
    BoolType, ClassType, DictType, FloatType, IntType, ListType, StrType, TupleType,
)
from jitcore.errors import FormatError
from jitcore.modules import Method, ScriptFunction, ScriptModule, call_signature
from jitcore.nn.parameter import Parameter
from jitcore.serialization.limits import MANIFEST_NAME, MAX_ATTRIBUTE_DEPTH
from jitcore.serialization.problems import malformed
from jitcore.serialization.records import (
    ATTRIBUTE_TYPES, FUNCTION, MODULE, ModuleRecord, is_storable_attribute,
)

__all__ = ["record_of", "rebuild", "reserved_member_names", "FUNCTION_METHOD"]

#: The method name a ScriptFunction's single graph is stored under.
FUNCTION_METHOD = "forward"
#: The instance attribute of scripted models holding ``{function name: Graph}``.
_FUNCTION_TABLE = "functions"


@functools.cache
def reserved_member_names():
    """Names a module member may not take: ScriptModule's own attributes and internal state.

    A parameter called ``graph`` or ``_modules`` would be shadowed by (or
    clobber) the ScriptModule machinery, and a graph's ``prim::GetAttr`` would
    then reach something the archive never declared.
    """
    fresh = ScriptModule("_", ClassType("_"))
    return frozenset(dir(ScriptModule)) | frozenset(vars(fresh))


def _check_not_reserved(name, where, error):
    if name in reserved_member_names():
        raise error(f"{where}: the member name {name!r} is reserved by ScriptModule itself")


# ------------------------------------------------------------------------------ saving

def record_of(obj):
    """The archive record of a ScriptModule or ScriptFunction (sharing its arrays).

    Raises
    ------
    TypeError
        If ``obj`` is not a ScriptModule/ScriptFunction, a submodule is not a
        ScriptModule, or an attribute has a type archives do not hold.
    ValueError
        If a member name is reserved by ScriptModule.
    """
    if isinstance(obj, ScriptFunction):
        record = ModuleRecord(FUNCTION, obj.name, methods={FUNCTION_METHOD: obj.graph})
        record.signatures = _storable_signatures({FUNCTION_METHOD: obj.method})
        record.results = _named_results({FUNCTION_METHOD: obj.method})
    elif isinstance(obj, ScriptModule):
        record = _module_record(obj, "module (root)")
    else:
        raise TypeError(f"jitcore.save expects a ScriptModule or ScriptFunction (from jitcore.trace or "
                        f"jitcore.script), got {type(obj).__name__}")
    # A scripted model carries its compilation unit's function table (every node of a
    # scripted ScriptModule shares the root's).
    record.functions = dict(vars(obj).get(_FUNCTION_TABLE) or {})
    return record


def _module_record(module, where):
    state = vars(module)
    record = ModuleRecord(MODULE, str(state["_class_type"]), training=bool(module.training),
                          non_persistent=set(state["_non_persistent_buffers"]))
    record.methods = {name: module._jit_method_graph(name) for name in module.methods}
    record.signatures = _storable_signatures({name: module._jit_method(name) for name in module.methods})
    record.results = _named_results({name: module._jit_method(name) for name in module.methods})
    record.parameters = dict(state["_parameters"])
    record.buffers = dict(state["_buffers"])
    internal = reserved_member_names()
    for name, value in state.items():
        if name in internal or name == _FUNCTION_TABLE:
            continue
        if not is_storable_attribute(value):
            raise TypeError(f"cannot save attribute {name!r} of {where}: archives hold attributes of type "
                            f"{', '.join(ATTRIBUTE_TYPES)} (ints in int64) and lists and dicts "
                            f"(str or int keys) of those nested at most {MAX_ATTRIBUTE_DEPTH} deep, "
                            f"not this {type(value).__name__}")
        record.attributes[name] = value
    for name, child in state["_modules"].items():
        if child is not None and not isinstance(child, ScriptModule):
            raise TypeError(f"cannot save submodule {name!r} of {where}: it is a {type(child).__name__}, "
                            "not a ScriptModule")
        record.submodules[name] = None if child is None else _module_record(child, f"module {name!r}")
    for table in (record.parameters, record.buffers, record.attributes, record.submodules):
        for name in table:
            _check_not_reserved(name, f"cannot save {where}", ValueError)
    return record


def _storable_signatures(methods):
    """``{method: ((name, default), ...)}`` for the :class:`Method` records whose call
    signature says more than their graph's input names (defaults: a scripted method's)
    and that an archive can hold: plain parameters whose defaults are literals."""
    stored = {}
    for name, method in methods.items():
        if not method.has_defaults:
            continue        # a loaded graph's input names give the same signature
        parameters = []
        for p in method.signature.parameters.values():
            literal = p.default is inspect.Parameter.empty or p.default is None or \
                type(p.default) in ATTRIBUTE_TYPES.values()
            if p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD or not literal:
                break
            parameters.append((p.name, p.default))
        else:
            stored[name] = tuple(parameters)
    return stored


def _named_results(methods):
    """``{method: (class name, field names)}`` for the methods whose calls return a NamedTuple."""
    return {name: (method.result_class.__name__, tuple(method.result_class._fields))
            for name, method in methods.items() if method.result_class is not None}


def _signature(parameters):
    return inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
        for name, default in parameters])


def _check_kind(record, path):
    """The manifest's ``kind`` must fit the graphs: a module's methods take the
    module (``self``, of a class type) first, a function's graph takes no module.

    The kind decides how a call binds its arguments, so a function archive
    relabelled ``"module"`` (or the converse) would otherwise load and then
    pass every argument one place off.
    """
    for method, graph in record.methods.items():
        first = graph.inputs[0] if len(graph.inputs) else None
        takes_module = first is not None and isinstance(first.type, ClassType)
        if record.kind == MODULE and not takes_module:
            found = "no input" if first is None else f"%{first.debug_name} : {first.type}"
            raise malformed(MANIFEST_NAME, f"{path}.kind",
                            f"a 'module' method takes the module (self, of a class type) as its first input, "
                            f"but method {method!r} takes {found} (is this a function archive?)")
        if record.kind == FUNCTION and takes_module:
            raise malformed(MANIFEST_NAME, f"{path}.kind",
                            f"a 'function' takes no module, but its graph's first input is "
                            f"%{first.debug_name} : {first.type} (is this a module archive?)")


def _check_signatures(record, path, skip_self):
    """The recorded signatures must fit their graphs (one parameter per graph input)."""
    for method, parameters in record.signatures.items():
        inputs = len(record.methods[method].inputs) - (1 if skip_self else 0)
        if len(parameters) != inputs:
            raise FormatError(f"jitcore/manifest.json: field '{path}' method {method!r}: "
                              f"{len(parameters)} arguments recorded for a graph of {inputs} inputs")


def _check_results(record, path):
    """A method recorded to return a NamedTuple must return a tuple of as many items as it has fields."""
    for method, (class_name, fields) in record.results.items():
        outputs = record.methods[method].outputs
        returned = outputs[0].type if len(outputs) == 1 else None
        if not isinstance(returned, TupleType) or len(returned.elems) != len(fields):
            found = returned if returned is not None else f"{len(outputs)} outputs"
            raise malformed(MANIFEST_NAME, f"{path}.methods",
                            f"method {method!r} is recorded to return a {class_name} of {len(fields)} "
                            f"fields, but its graph returns {found}")


def _loaded_signature(record, name, graph, skip_self):
    """The call signature of a loaded method: the recorded parameters (else one per graph
    input) and, when it returns a NamedTuple, that class rebuilt from its recorded names."""
    if name not in record.signatures and name not in record.results:
        return None
    signature = _signature(record.signatures[name]) if name in record.signatures else \
        call_signature(list(graph.inputs)[1 if skip_self else 0:])
    if name in record.results:
        class_name, fields = record.results[name]
        signature = signature.replace(return_annotation=_named_tuple_class(class_name, fields))
    return signature


@functools.lru_cache(maxsize=256)
def _named_tuple_class(class_name, fields):
    """``collections.namedtuple(class_name, fields)``, one class per name and fields (the
    manifest reader checked that they are identifiers)."""
    return collections.namedtuple(class_name, fields)


def _check_attribute_reads(record, path):
    """Each plain attribute a method reads (``prim::GetAttr`` of ``self``, or of a submodule
    reached from it) must hold a value of the type the graph reads it as, so no program sees
    a list of another item type."""
    for method, graph in record.methods.items():
        owners = {graph.inputs[0]: (record, path)} if len(graph.inputs) else {}
        for node in graph.walk():
            if node.kind != "prim::GetAttr" or node.input(0) not in owners:
                continue
            owner, owner_path = owners[node.input(0)]
            name = node.attr("name")
            if owner.submodules.get(name) is not None:
                owners[node.output()] = (owner.submodules[name], f"{owner_path}.{name}")
            elif name in owner.attributes and not _fits(owner.attributes[name], node.output().type):
                raise malformed(MANIFEST_NAME, f"{owner_path}.attributes",
                                f"attribute {name!r} does not hold the {node.output().type} that "
                                f"method {method!r} of {path} reads")


_SCALAR_FITS = {IntType.get(): (int,), FloatType.get(): (int, float), BoolType.get(): (bool,),
                StrType.get(): (str,)}


def _fits(value, jit_type):
    if isinstance(jit_type, ListType):
        return type(value) is list and all(_fits(v, jit_type.elem) for v in value)
    if isinstance(jit_type, DictType):
        return type(value) is dict and all(_fits(k, jit_type.key) and _fits(v, jit_type.value)
                                           for k, v in value.items())
    allowed = _SCALAR_FITS.get(jit_type)
    return allowed is None or type(value) in allowed


# ------------------------------------------------------------------------------ loading

def rebuild(record):
    """A new ScriptModule or ScriptFunction from a validated record (arrays are shared, not copied).

    Raises
    ------
    jitcore.errors.FormatError
        If a member name is reserved by ScriptModule.
    """
    functions = record.functions
    if record.kind == FUNCTION:
        (graph,) = record.methods.values()
        _check_kind(record, "root")
        _check_signatures(record, "root", skip_self=False)
        (name,) = record.methods
        _check_results(record, "root")
        return ScriptFunction(record.qualname, graph, functions,
                              _loaded_signature(record, name, graph, skip_self=False))
    return _rebuild_module(record, "root", functions, {})


def _rebuild_module(record, path, functions, parameters_by_array):
    for table in (record.parameters, record.buffers, record.attributes, record.submodules):
        for name in table:
            _check_not_reserved(name, f"jitcore/manifest.json: field '{path}'", FormatError)
    original_name = record.qualname.rsplit(".", 1)[-1]
    _check_kind(record, path)
    _check_signatures(record, path, skip_self=True)
    _check_attribute_reads(record, path)
    _check_results(record, path)
    methods = {name: Method(name, graph, functions, _loaded_signature(record, name, graph, skip_self=True),
                            takes_self=True)
               for name, graph in record.methods.items()}
    module = ScriptModule(original_name, ClassType(record.qualname), methods, functions)
    object.__setattr__(module, "training", record.training)
    for name, array in record.parameters.items():
        # One stored tensor used by two modules (tied weights) stays one Parameter object.
        if array is not None and id(array) not in parameters_by_array:
            parameters_by_array[id(array)] = Parameter(array)
        module.register_parameter(name, None if array is None else parameters_by_array[id(array)])
    for name, array in record.buffers.items():
        module.register_buffer(name, array, persistent=name not in record.non_persistent)
    for name, value in record.attributes.items():
        object.__setattr__(module, name, value)
    for name, child in record.submodules.items():
        module.add_module(name, None if child is None else _rebuild_module(child, f"{path}.{name}", functions,
                                                                   parameters_by_array))
    return module
