"""Compiling an archive's methods and functions with the script frontend's compiler.

``ArchiveUnit`` is a ``CompilationUnit`` whose methods and functions come from
the archive's ``code/`` files instead of live Python functions: the statement
and expression compiler, the control-flow lowering, module attribute access and
``prim::CallMethod``/``prim::CallFunction`` emission are the script frontend's.
Only the function prologue differs: parameter and return annotations are read
by ``types.archive_type``, never evaluated.
"""

from jitcore._runtime.ir import Graph
from jitcore._runtime.types import TensorType
from jitcore.frontend.script.call_arguments import bind_call
from jitcore.frontend.script.compiler import FunctionCompiler
from jitcore.frontend.script.constant_pool import pool_constants
from jitcore.frontend.script.errors import calling, compile_error, describe_type
from jitcore.frontend.script.modules import ModuleValue
from jitcore.frontend.script.unit import CompilationUnit
from jitcore.frontend.script.values import ScriptValue
from jitcore.modules import class_type_of

from .dialect import rewrite
from .types import archive_type

__all__ = ["ArchiveUnit"]


class ArchiveUnit(CompilationUnit):
    """Compiles the methods of ``ArchiveModule`` instances and the archive's free functions."""

    def __init__(self, version):
        super().__init__()
        self.version = version          # the file format version (which op semantics the code has)
        self.classes = {}
        self.archive_functions = {}
        self._rewritten = set()
        self.in_place_sites = set()     # (SourceRange, functional kind) of each compiled in-place op
        self.missing_op_sites = {}      # SourceRange -> (spelling, kind) of each call of an op jitcore lacks

    def method_graph(self, module, name, where=None):
        table = self.method_graphs.setdefault(id(module), {})
        self._modules[id(module)] = module
        if name in table:
            return table[name]
        declaration = getattr(type(module), "_archive_class", None)
        method = None if declaration is None else declaration.methods.get(name)
        if method is None:
            raise compile_error(f"{type(module).__name__} has no method {name!r} in the archive's code", where)
        key = (id(module), name)
        if key in self._active:
            raise compile_error(f"recursive call of {method.qualified_name}: recursion is not supported", where)
        self._active.append(key)
        try:
            table[name] = self._compile_archive(method.source, module)
        finally:
            self._active.pop()
        return table[name]

    def call_archive_function(self, ctx, qualified_name, args, kwargs, where):
        """Emit ``prim::CallFunction[name=<qualified name>]`` of a function of the archive's code."""
        declaration = self.archive_functions.get(qualified_name)
        named_tuple = self.classes.get(qualified_name)
        if declaration is None and named_tuple is not None and named_tuple.fields is not None:
            return self._named_tuple(ctx, named_tuple, args, kwargs, where)
        if declaration is None and qualified_name in self.classes:
            raise compile_error(f"{qualified_name} is a class of the archive; jitcore makes NamedTuples in code, "
                                "not TorchScript classes", where)
        if declaration is None:
            raise compile_error(f"{qualified_name} is not a function of the archive's code", where)
        if qualified_name not in self.functions:
            if qualified_name in self._active:
                raise compile_error(f"recursive call of {qualified_name}: recursion is not supported", where)
            self._active.append(qualified_name)
            try:
                with calling(qualified_name, ctx.source.name, where):
                    self.functions[qualified_name] = self._compile_archive(declaration.source, None)
            finally:
                self._active.pop()
        graph = self.functions[qualified_name]
        inputs = bind_call(ctx, declaration.source.fn, graph.inputs, args, kwargs, where, skip_self=False,
                           signature=declaration.signature)
        node = ctx.node("prim::CallFunction", inputs, [graph.outputs[0].type], where,
                        attrs={"name": qualified_name})
        return ScriptValue(node.output())

    def _named_tuple(self, ctx, declaration, args, kwargs, where):
        """``__torch__.Out(a, n=b)`` of a NamedTuple class: the tuple of its fields (jitcore's tuples
        have no field names: a result comes back as a plain tuple)."""
        names = [name for name, _ in declaration.fields]
        if len(args) > len(names) or set(kwargs) - set(names) or set(kwargs) & set(names[:len(args)]):
            raise compile_error(f"{declaration.qualified_name} takes the fields {', '.join(names)}, each once", where)
        given = dict(zip(names, args), **kwargs)
        values = []
        for name, annotation in declaration.fields:
            if name in given:
                value = given[name].as_value(ctx, where)
            elif name in declaration.constants:
                value = ctx.constant(declaration.constants[name], where)
            else:
                raise compile_error(f"{declaration.qualified_name}: no value for the field {name!r}", where)
            declared = archive_type(annotation, where, self.classes)
            if not value.type.is_subtype_of(declared):
                raise compile_error(f"{declaration.qualified_name}.{name} is {describe_type(declared)}, "
                                    f"given a {describe_type(value.type)}", where)
            values.append(value)
        return ScriptValue(ctx.tuple_construct(values, where))

    def _compile_archive(self, source, module):
        if id(source) not in self._rewritten:
            rewrite(source)
            self._rewritten.add(id(source))
        graph = Graph()
        compiler = FunctionCompiler(self, source, graph)
        definition = source.definition
        for index, param in enumerate(definition.args.args):
            if module is not None and index == 0:
                value = graph.add_input("self", class_type_of(type(module)))
                compiler.scope.bind(param.arg, ModuleValue(module, value, self))
                continue
            jit_type = archive_type(param.annotation, source.range_of(param), self.classes) or TensorType.get()
            if jit_type.kind == "Class":
                raise compile_error(f"parameter {param.arg!r} is a TorchScript class, which jitcore does not "
                                    "support", source.range_of(param))
            compiler.scope.bind(param.arg, ScriptValue(graph.add_input(f"{param.arg}.1", jit_type)))
        if module is not None and not definition.args.args:
            raise compile_error(f"method {source.name} takes no self argument", source.range_of(definition))
        declared = None if definition.returns is None else archive_type(definition.returns,
                                                                        source.range_of(definition.returns),
                                                                        self.classes)
        compiler.compile_body(definition.body, declared)
        _unwrap_computed_messages(graph)
        pool_constants(graph)
        graph.lint()
        return graph


def _unwrap_computed_messages(graph):
    """``format("{}", m)`` of a message ``m`` that is itself an ``aten::format``: ``m``.

    ``ops.prim.RaiseException(_0)`` with ``_0 = torch.format(...)`` is rewritten as
    ``raise E(f"{_0}")``, a second format; with the inner one feeding the raise directly the
    runtime builds the message only when it raises, and the graph lowers (a format whose
    string is used otherwise has no kernel).
    """
    for node in graph.walk():
        if node.kind != "aten::format" or len(node.inputs) != 2:
            continue
        text, inner = node.inputs
        if (text.node.kind == "prim::Constant" and text.node.has_attr("value") and text.node.attr("value") == "{}"
                and inner.node.kind == "aten::format" and len(inner.uses) == 1):
            node.output().replace_all_uses_with(inner)
            node.destroy()
