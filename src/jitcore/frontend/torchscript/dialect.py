"""The TorchScript dialect of archive code, on top of what ``jitcore.script`` compiles.

Names archive code uses and the script frontend does not know are given to it
as compile-time values (``dialect_globals``):

- ``torch.<op>(...)`` and ``ops.aten.<op>(...)``: the registry op ``aten::<op>``,
  its overload chosen by the arguments' types against the ATen schemas
  (keyword arguments and defaults bound by the schema);
- ``ops.prim.<op>(...)``: ``prim::<op>`` nodes the registry has;
- ``CONSTANTS.c<n>``: the n-th tensor of ``constants.pkl``, a constant;
- ``__torch__.<path>.<function>(...)``: a function of the archive's code, compiled
  once and called with ``prim::CallFunction``;
- ``annotate(T, v)``, ``unchecked_cast(T, v)``, ``uninitialized(T)``; ``inf`` and ``nan``;
- ``ops.prim.device(x)`` and ``torch.device(...)``: ``None`` (every array is on the CPU), and
  ``ops.prim.type`` of it ``"cpu"``;
- ``torch.is_grad_enabled()``, ``torch.is_autocast_enabled()``, ``ops.prim.is_nested(x)``,
  ``ops.prim.requires_grad(x)``: ``False`` (jitcore is inference only, without autocast or
  nested tensors);
- ``torch._transformer_encoder_layer_fwd(...)`` (torch's fast path, traced): the registry
  ops it fuses (``fused_layers.py``);
- ``torch.<op>_(a, ...)`` (in place): the registry's ``aten::<op>_`` where it has one, else
  ``a = torch.<op>(a, ...)``, checked by ``in_place.py``; an update of module state raises where it runs.

A few spellings are rewritten in the AST before compiling (``rewrite``):
``torch.__is__``/``__isnot__``/``__not__`` become ``is``/``is not``/``not`` (so
``Optional`` refinement applies; ``x is True`` becomes ``x is not None and x == True``), ``ops.prim.RaiseException(msg, "builtins.E")``
a ``raise E(f"{msg}")``, ``x : T = v`` an ``x = annotate(T, v)``, ``getattr(self, "0")`` an attribute read, and the type
argument of ``annotate``/``unchecked_cast``/``uninitialized`` an index into the
function's table of types read by ``types.archive_type`` (annotations are
never evaluated).
"""

import ast

import numpy as np

from jitcore import ops
from jitcore._runtime.types import ListType, StrType, TensorType
from jitcore.frontend.script.emitter import python_constant
from jitcore.frontend.script.errors import compile_error, describe_type
from jitcore.frontend.script.values import BuiltinValue, ScriptValue, SugaredValue

from .fused_layers import transformer_encoder_layer
from .types import archive_type

__all__ = ["dialect_globals", "rewrite"]

#: Exceptions ``prim::RaiseException`` may name that compiled code raises as themselves.
_EXCEPTIONS = {"AssertionError", "ValueError", "RuntimeError", "TypeError", "IndexError", "KeyError",
               "NotImplementedError", "ZeroDivisionError", "Exception"}
_TYPE_BUILTINS = ("annotate", "unchecked_cast", "uninitialized")
_MKLDNN_MESSAGE = ("{spelling}: the archive was saved after torch.jit.optimize_for_inference converted it to "
                   "MKLDNN tensors, whose constants the file does not hold (torch.jit.load cannot run it either); "
                   "save the frozen module (torch.jit.freeze) instead")

# ------------------------------------------------------------------ compile-time names

class _AtenNamespace(SugaredValue):
    """``torch`` / ``ops.aten``: ``torch.conv2d(...)`` is the registry op ``aten::conv2d``."""

    def __init__(self, spelling):
        self.spelling = spelling

    def describe(self):
        return f"the op namespace {self.spelling!r}"

    def attr(self, ctx, name, where):
        value = self._op(ctx, name, where)
        if name not in _CHANGED_OPS:
            return value
        spelling = f"{self.spelling}.{name}"

        def checked(ctx, args, kwargs, where):
            _check_op_version(ctx, name, spelling, where, args)
            return value.call(ctx, args, kwargs, where)
        return BuiltinValue(value.name, checked)

    def _op(self, ctx, name, where):
        kind = f"aten::{name}"
        if "mkldnn" in name or name == "to_dense":
            raise compile_error(_MKLDNN_MESSAGE.format(spelling=f"{self.spelling}.{name}"), where)
        if name in _SPECIAL:
            return BuiltinValue(kind, _SPECIAL[name])
        if _is_in_place(name) and list(ops.overloads(kind[:-1])):
            return BuiltinValue(kind, lambda ctx, args, kwargs, where: _in_place(ctx, kind, args, kwargs, where))
        if not list(ops.overloads(kind)):
            if _in_torch_library(ctx):
                spelling = f"{self.spelling}.{name}"
                return BuiltinValue(kind, lambda ctx, args, kwargs, where: missing_op(ctx, spelling, kind, args,
                                                                                      kwargs, where))
            raise compile_error(f"{self.spelling}.{name}: jitcore has no op {kind}", where)
        return BuiltinValue(kind, lambda ctx, args, kwargs, where: ctx.emit_op_call(
            kind, args, _without_tensor_options(kind, kwargs, where), where))


def _of_a_tensor(args):
    """Whether the call's first argument is a tensor (the overloads torch's upgraders cover)."""
    return bool(args) and isinstance(args[0], ScriptValue) and isinstance(args[0].value.type, TensorType)


#: Ops whose meaning changed, torch's operator upgraders: the file format version that has the current
#: meaning, what the op did before, and which calls the upgraders cover (torch writes at least that
#: version into a file with such a call; ``torch.div(1., float(E))`` of two numbers is unchanged).
_CHANGED_OPS = {
    "div": (4, "aten::div of two integer tensors rounded toward zero", _of_a_tensor),
    "div_": (4, "aten::div of two integer tensors rounded toward zero", _of_a_tensor),
    "full": (5, "aten::full with an integer fill value and no dtype made a float tensor", lambda args: True),
}


def _check_op_version(ctx, name, spelling, where, args):
    """Refuse a call whose meaning changed after the torch that wrote the file (jitcore has no upgraders)."""
    version = getattr(ctx.unit, "version", None)
    changed = _CHANGED_OPS[name]
    if version is not None and version < changed[0] and changed[2](args):
        raise compile_error(f"{spelling} in a file of format version {version}: the torch that wrote it is older "
                            f"than version {changed[0]}, where {changed[1]}; jitcore compiles the current meaning "
                            "and applies no operator upgraders (re-save the model with a current torch)", where)


def _in_torch_library(ctx):
    """Whether ``ctx`` compiles code of torch's own library: a function such as
    ``torch.nn.functional.interpolate`` or a method of a ``torch.nn`` module class."""
    return getattr(ctx.fn, "__qualname__", "").startswith("__torch__.torch.")


def missing_op(ctx, spelling, kind, args, kwargs, where):
    """An op jitcore lacks in torch's library code: a raise naming it, recorded for
    ``reachable_ops.check_reachable_ops``.

    TorchScript compiles every branch of a library function such as ``interpolate`` (one per
    mode) into the archive; the model's calls pass the mode as a constant, so the branches of
    the other modes never run.  Loading fails if constant propagation cannot prove the call
    dead; in the model's own code a missing op is a load-time error at once.
    """
    for a in list(args) + list(kwargs.values()):
        a.as_value(ctx, where)
    ctx.emit_raise("RuntimeError", f"{spelling}: jitcore has no op {kind}", where)
    ctx.unit.missing_op_sites[where] = (spelling, kind)
    return _Unreached(ctx.uninitialized(TensorType.get(), where))


class _Unreached(ScriptValue):
    """The result of an op jitcore lacks, after the raise: a tensor, or as many as the code unpacks
    (``a, b = torch._native_multi_head_attention(...)``)."""

    def unpacked(self, ctx, count, where):
        return [ScriptValue(ctx.uninitialized(TensorType.get(), where)) for _ in range(count)]


#: Keyword arguments of torch's factory ops that only say where and how a tensor is laid out, with the
#: values that mean what jitcore always does (a dense CPU tensor, contiguous or as its input is).
_TENSOR_OPTIONS = {"layout": (None, 0), "device": (None,), "pin_memory": (None, False),
                   "memory_format": (None, 0, 1)}


def _without_tensor_options(kind, kwargs, where):
    """``kwargs`` without ``layout=None, device=None, pin_memory=False`` where the registry's schema has none."""
    names = {a.name for opdef in ops.overloads(kind) for a in opdef.schema.arguments}
    kept = {}
    for name, value in kwargs.items():
        if name in _TENSOR_OPTIONS and name not in names:
            constant = None if _is_none_typed(value) else python_constant(value)
            if not any(constant is ok or (type(constant) is type(ok) and constant == ok)
                       for ok in _TENSOR_OPTIONS[name]):
                raise compile_error(f"{kind} with {name}={constant!r}: jitcore makes dense CPU tensors only", where)
            continue
        kept[name] = value
    return kept


def _is_none_typed(sugared):
    """Whether ``sugared`` is a value of type NoneType (a ``device`` parameter: devices are None)."""
    return isinstance(sugared, ScriptValue) and sugared.value.type.kind == "NoneType"


def _is_in_place(name):
    return name.endswith("_") and not name.endswith("__")


def _in_place(ctx, kind, args, kwargs, where):
    """``torch.add_(a, ...)``: the registry's in-place op where it has one (``aten::add_``), else the
    functional op, which the rewriter binds back to ``a`` (``in_place.check_in_place`` then proves
    nothing reads the old tensor).

    An update of module state (``self.num_batches_tracked`` in training mode) compiles
    to a raise naming the op: inference never takes that path, and compiled code
    cannot change a module's tensors.
    """
    if not args:
        raise compile_error(f"{kind} needs the tensor it updates", where)
    target = args[0].as_value(ctx, where)
    if target.node.kind == "prim::GetAttr":
        for a in list(args[1:]) + list(kwargs.values()):
            a.as_value(ctx, where)
        message = (f"{kind} updates module state in place, which jitcore does not run (a compiled model's "
                   "tensors do not change); the archive reaches it on this path (training mode)")
        ctx.emit_raise("RuntimeError", message, where)
        return ScriptValue(ctx.uninitialized(TensorType.get(), where))
    if list(ops.overloads(kind)):
        return ctx.emit_op_call(kind, args, kwargs, where)
    result = ctx.emit_op_call(kind[:-1], args, kwargs, where)
    ctx.unit.in_place_sites.add((where, kind[:-1]))
    return result


def _format(ctx, args, kwargs, where):
    """``torch.format(text, *values)``: a variadic schema, so its inputs are passed as they come."""
    if kwargs or not args:
        raise compile_error("torch.format takes a format string and positional values", where)
    values = [a.as_value(ctx, where) for a in args]
    if not values[0].type.is_subtype_of(StrType.get()):
        raise compile_error("torch.format's first argument must be a str", where)
    return ScriptValue(ctx.node("aten::format", values, [StrType.get()], where).output())


def _convolution(ctx, args, kwargs, where):
    """``torch._convolution`` (what torch's tracer records for ``nn.Conv1d``/``nn.Conv2d``): ``aten::conv<n>d``
    or ``aten::conv_transpose<n>d`` for 1-d and 2-d; its benchmark/cudnn flags do not change the result."""
    if kwargs or len(args) not in (12, 13):
        raise compile_error("torch._convolution takes 12 or 13 positional arguments", where)
    transposed, dimensions = python_constant(args[6]), _list_length(ctx, args[3], where)
    if not isinstance(transposed, bool) or dimensions is None:
        raise compile_error("torch._convolution with a computed stride or transposed flag is not supported", where)
    if dimensions not in (1, 2):
        raise compile_error(f"torch._convolution of {dimensions}-d inputs: jitcore has 1-d and 2-d convolutions "
                            "only", where)
    input_, weight, bias, stride, padding, dilation, _, output_padding, groups = args[:9]
    if transposed:
        return ctx.emit_op_call(f"aten::conv_transpose{dimensions}d",
                                [input_, weight, bias, stride, padding, output_padding, groups, dilation], {}, where)
    return ctx.emit_op_call(f"aten::conv{dimensions}d", [input_, weight, bias, stride, padding, dilation, groups], {},
                            where)


def _list_length(ctx, sugared, where):
    """The length of a list known when compiling (a literal ``[1, 1]``), else None."""
    node = sugared.as_value(ctx, where).node
    if node.kind == "prim::ListConstruct":
        return len(node.inputs)
    value = node.attr("value") if node.kind == "prim::Constant" and node.has_attr("value") else None
    return len(value) if isinstance(value, list) else None


def _warn(ctx, args, kwargs, where):
    """``torch.warn(message, stacklevel)``: compiled code does not emit Python warnings (docs/migrating-from-torchscript.md)."""
    for a in list(args) + list(kwargs.values()):
        a.as_value(ctx, where)
    return ScriptValue(ctx.constant(None, where))


class _PrimNamespace(SugaredValue):
    """``ops.prim.<op>``: the ``prim::<op>`` nodes of the registry, inputs positional."""

    def describe(self):
        return "the op namespace 'ops.prim'"

    def attr(self, ctx, name, where):
        kind = f"prim::{name}"
        if "mkldnn" in name.lower():
            raise compile_error(_MKLDNN_MESSAGE.format(spelling=f"ops.prim.{name}"), where)
        if name == "device":
            return BuiltinValue(kind, _tensor_device)
        if name == "type":
            return BuiltinValue(kind, _device_type)
        if name in _PRIM_ANSWERED:
            return BuiltinValue(kind, _answered(f"ops.prim.{name}", _PRIM_ANSWERED[name], True))
        if not list(ops.overloads(kind)):
            raise compile_error(f"ops.prim.{name}: jitcore has no op {kind}", where)
        return BuiltinValue(kind, lambda ctx, args, kwargs, where: ctx.emit_op_call(kind, args, kwargs, where))


class _OpsRoot(SugaredValue):
    def describe(self):
        return "the op namespace root 'ops'"

    def attr(self, ctx, name, where):
        if name == "aten":
            return _AtenNamespace("ops.aten")
        if name == "prim":
            return _PrimNamespace()
        raise compile_error(f"ops.{name}: jitcore reads the ops.aten and ops.prim namespaces", where)


class _Constants(SugaredValue):
    """``CONSTANTS.c<n>``: the archive's ``constants.pkl`` values."""

    def __init__(self, values):
        self.values = values

    def describe(self):
        return "CONSTANTS"

    def attr(self, ctx, name, where):
        index = int(name[1:]) if name[:1] == "c" and name[1:].isdigit() else -1
        if not 0 <= index < len(self.values):
            raise compile_error(f"CONSTANTS.{name} is not one of the archive's {len(self.values)} constants", where)
        value = self.values[index]
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
            # a 0-d tensor (torch's tracer records `x * 2.0` so) does not decide the result dtype
            # in torch's promotion; as a Python number it does not in NumPy's either (NEP 50)
            value = value.item()
        try:
            return ScriptValue(ctx.constant(value, where))
        except TypeError:
            raise compile_error(f"CONSTANTS.{name} is a {type(self.values[index]).__name__}, which jitcore "
                                "cannot hold as a constant", where) from None


class _ArchiveFunctions(SugaredValue):
    """``__torch__.a.b.f``: a path into the archive's functions, called through the unit."""

    def __init__(self, unit, path="__torch__"):
        self.unit = unit
        self.path = path

    def describe(self):
        return f"{self.path!r}"

    def attr(self, ctx, name, where):
        return _ArchiveFunctions(self.unit, f"{self.path}.{name}")

    def call(self, ctx, args, kwargs, where):
        if self.path == "__torch__.torch.backends.mha.get_fastpath_enabled":
            # torch's fused attention/encoder kernels: jitcore runs the layers' standard
            # path, which computes the same
            return ScriptValue(ctx.constant(False, where))
        return self.unit.call_archive_function(ctx, self.path, args, kwargs, where)


def _declared_type(ctx, args, name, where):
    index = args[0].constant() if args and isinstance(args[0], ScriptValue) else None
    if not isinstance(index, int) or not 0 <= index < len(ctx.fn.types):
        raise compile_error(f"{name} takes a type and a value", where)
    return ctx.fn.types[index]


def _annotate(ctx, args, kwargs, where):
    declared = _declared_type(ctx, args, "annotate", where)
    variable = python_constant(args[2]) if len(args) == 3 else None
    if len(args) not in (2, 3) or kwargs or (len(args) == 3 and not isinstance(variable, str)):
        raise compile_error("annotate takes a type and a value", where)
    if variable is not None:
        # `_0 : Optional[int] = None` (rewritten): the variable keeps the declared type where paths join
        ctx.scope.declared[variable] = declared
    node = args[1].as_value(ctx, where).node if isinstance(args[1], ScriptValue) else None
    if node is not None and node.kind == "prim::ListConstruct" and not node.inputs and isinstance(declared, ListType):
        return ScriptValue(ctx.list_construct([], declared.elem, where))
    value = args[1].as_value(ctx, where)
    if not value.type.is_subtype_of(declared):
        raise compile_error(f"annotate({describe_type(declared)}, ...) of a value of type "
                            f"{describe_type(value.type)}", where)
    return ScriptValue(value)


def _unchecked_cast(ctx, args, kwargs, where):
    declared = _declared_type(ctx, args, "unchecked_cast", where)
    if len(args) != 2 or kwargs:
        raise compile_error("unchecked_cast takes a type and a value", where)
    value = args[1].as_value(ctx, where)
    if value.type.is_subtype_of(declared):
        return ScriptValue(value)
    return ScriptValue(ctx.node("prim::unchecked_cast", [value], [declared], where).output())


def _uninitialized(ctx, args, kwargs, where):
    return ScriptValue(ctx.uninitialized(_declared_type(ctx, args, "uninitialized", where), where))


def dialect_globals(constants, unit):
    """The names archive code sees besides Python's builtins (a fresh dict per archive)."""
    return {"torch": _AtenNamespace("torch"), "ops": _OpsRoot(), "CONSTANTS": _Constants(constants),
            "__torch__": _ArchiveFunctions(unit),
            "annotate": BuiltinValue("annotate", _annotate),
            "unchecked_cast": BuiltinValue("unchecked_cast", _unchecked_cast),
            "uninitialized": BuiltinValue("uninitialized", _uninitialized),
            # TorchScript prints float constants it cannot spell as literals by these names
            "inf": float("inf"), "nan": float("nan")}


def _device(ctx, args, kwargs, where):
    """``torch.device("cpu")``: jitcore computes on the CPU whatever device an archive names; it is ``None``."""
    if len(args) != 1 or kwargs or not isinstance(python_constant(args[0]), str):
        raise compile_error("torch.device takes one constant string", where)
    return ScriptValue(ctx.constant(None, where))


def _tensor_device(ctx, args, kwargs, where):
    """``ops.prim.device(x)`` (a scripted LSTM's zero state is made on its input's device): ``None``,
    the device every jitcore array is on (as ``torch.device`` is)."""
    if len(args) != 1 or kwargs or not args[0].as_value(ctx, where).type.is_subtype_of(TensorType.get()):
        raise compile_error("ops.prim.device takes one tensor", where)
    return ScriptValue(ctx.constant(None, where))


def _answered(spelling, answer, takes_tensor):
    """A query of torch's state that has one answer in jitcore, as a constant (so that
    constant propagation prunes the paths it rules out)."""
    def emit(ctx, args, kwargs, where):
        if kwargs or len(args) != int(takes_tensor) or (
                takes_tensor and not args[0].as_value(ctx, where).type.is_subtype_of(TensorType.get())):
            raise compile_error(f"{spelling} takes {'one tensor' if takes_tensor else 'no arguments'}", where)
        return ScriptValue(ctx.constant(answer, where))
    return emit


#: What jitcore answers to torch's state queries: it computes no gradients (inference only),
#: runs no autocast and has no nested tensors (docs/migrating-from-torchscript.md).
_ANSWERED = {"is_grad_enabled": False, "is_autocast_enabled": False}
_PRIM_ANSWERED = {"is_nested": False, "requires_grad": False}


def _device_type(ctx, args, kwargs, where):
    """``ops.prim.type(device)`` (``x.device.type``): ``"cpu"``, the type of the one device
    jitcore computes on (``ops.prim.device`` compiles to ``None``)."""
    if len(args) != 1 or kwargs or python_constant(args[0]) is not None:
        raise compile_error("ops.prim.type takes a device", where)
    return ScriptValue(ctx.constant("cpu", where))


_SPECIAL = {**{name: _answered(f"torch.{name}", answer, False) for name, answer in _ANSWERED.items()},
            "format": _format, "_convolution": _convolution, "warn": _warn, "device": _device,
            "_transformer_encoder_layer_fwd": transformer_encoder_layer}


# ------------------------------------------------------------------------- AST rewrites

def rewrite(source):
    """Rewrite the dialect spellings of ``source.definition`` in place (see the module docstring)."""
    _Rewriter(source).visit(source.definition)
    ast.fix_missing_locations(source.definition)     # new nodes take their parent's position


def _is_torch_call(node, name):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch")


def _is_prim_call(node, name):
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Attribute) and func.attr == name and isinstance(func.value, ast.Attribute)
            and func.value.attr == "prim" and isinstance(func.value.value, ast.Name) and func.value.value.id == "ops")


def _in_place_target(node):
    """The variable ``torch.<op>_(name, ...)`` updates, if ``node`` is such a call."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_in_place(node.func.attr)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"
            and node.args and isinstance(node.args[0], ast.Name)):
        return node.args[0].id
    return None


def _is_bool(value, constant, negated):
    """``value is True`` (an ``Optional[bool]``) as ``value is not None and value == True``: the
    script compiler compares ``is`` with None only, and the two mean the same for a bool or None.
    ``value`` must be a name (it is read twice)."""
    if not isinstance(value, ast.Name):
        return ast.Compare(left=value, ops=[ast.IsNot() if negated else ast.Is()], comparators=[constant])
    test = ast.BoolOp(op=ast.And(), values=[
        ast.Compare(left=ast.Name(id=value.id, ctx=ast.Load()), ops=[ast.IsNot()], comparators=[ast.Constant(None)]),
        ast.Compare(left=ast.Name(id=value.id, ctx=ast.Load()), ops=[ast.Eq()], comparators=[constant])])
    return ast.UnaryOp(op=ast.Not(), operand=test) if negated else test


class _Rewriter(ast.NodeTransformer):
    def __init__(self, source):
        self.source = source
        self.classes = source.fn.__globals__["__torch__"].unit.classes    # NamedTuple types

    def where(self, node):
        return self.source.range_of(node)

    def visit_Name(self, node):
        if node.id.startswith("__") and node.id.endswith("__") and node.id != "__torch__":
            raise compile_error(f"the name {node.id} is not TorchScript that jitcore reads", self.where(node))
        return node

    def visit_AnnAssign(self, node):
        # `_0 : Optional[int] = None`: the script compiler would evaluate the annotation as Python,
        # so the statement becomes `_0 = annotate(Optional[int], None)`, its type read from the table
        if node.value is None or not isinstance(node.target, ast.Name):
            raise compile_error("an annotated statement in archive code must assign a name", self.where(node))
        self.generic_visit(node)
        types = self.source.fn.types
        types.append(archive_type(node.annotation, self.where(node.annotation), self.classes))
        call = ast.Call(func=ast.Name(id="annotate", ctx=ast.Load()),
                        args=[ast.copy_location(ast.Constant(len(types) - 1), node.annotation), node.value,
                              ast.copy_location(ast.Constant(node.target.id), node.target)], keywords=[])
        return ast.copy_location(ast.Assign(targets=[node.target], value=ast.copy_location(call, node.value)), node)

    def visit_Assign(self, node):
        self.generic_visit(node)
        target = _in_place_target(node.value)
        if target is None:
            return node
        # t = torch.relu_(a, ...)  ->  a = torch.relu_(a, ...); t = a
        update = ast.copy_location(ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=node.value), node)
        alias = ast.copy_location(ast.Assign(targets=node.targets, value=ast.Name(id=target, ctx=ast.Load())), node)
        return [update, alias]

    def visit_Expr(self, node):
        target = _in_place_target(node.value)
        if target is not None:
            self.generic_visit(node)
            return ast.copy_location(ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=node.value),
                                     node)
        if _is_prim_call(node.value, "RaiseException"):
            call = node.value
            self.generic_visit(call)
            message = call.args[0] if call.args else ast.Constant("")
            if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
                # a computed message (torch.format(...) bound to a name): the f-string f"{message}"
                message = ast.copy_location(ast.JoinedStr(values=[ast.FormattedValue(
                    value=message, conversion=-1, format_spec=None)]), message)
            kind = call.args[1].value if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) else "Exception"
            name = str(kind).rsplit(".", 1)[-1]
            if name not in _EXCEPTIONS:
                name = "Exception"
            raise_node = ast.Raise(exc=ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[message], keywords=[]),
                                   cause=None)
            return ast.copy_location(raise_node, node)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        for name, operator in (("__is__", ast.Is), ("__isnot__", ast.IsNot)):
            if _is_torch_call(node, name) and len(node.args) == 2:
                if isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, bool):
                    return ast.copy_location(_is_bool(*node.args, negated=name == "__isnot__"), node)
                return ast.copy_location(ast.Compare(left=node.args[0], ops=[operator()],
                                                     comparators=[node.args[1]]), node)
        if _is_torch_call(node, "__not__") and len(node.args) == 1:
            return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=node.args[0]), node)
        if (isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            return ast.copy_location(ast.Attribute(value=node.args[0], attr=node.args[1].value, ctx=ast.Load()), node)
        if isinstance(node.func, ast.Name) and node.func.id in _TYPE_BUILTINS and node.args:
            types = self.source.fn.types
            types.append(archive_type(node.args[0], self.where(node.args[0]), self.classes))
            node.args[0] = ast.copy_location(ast.Constant(len(types) - 1), node.args[0])
        return node
