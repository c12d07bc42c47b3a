"""The compilation unit: every function and method compiled for one ``jitcore.script`` call.

Called functions are compiled once each, kept by qualified name (the name of their
``prim::CallFunction`` node), and recursion is refused.  Methods are compiled per module
*instance* (its ``Final`` constants are baked into the graph), kept as
``{id(module): {method name: Graph}}`` — the table ``ScriptModule.from_module`` takes.
"""

import ast
import inspect

from jitcore._runtime.ir import Graph
from jitcore._runtime.types import TensorType
from jitcore.decorators import compiled_overload, is_ignored, is_unused, overload_declarations
from jitcore.modules import class_type_of
from jitcore.passes.inline import inline_calls

from .annotations import type_from_annotation
from .call_arguments import bind_call
from .compiler import FunctionCompiler
from .constant_pool import pool_constants
from .errors import calling, compile_error, describe_type
from .ignored_calls import ignored_call
from .named_tuples import argument_value
from .modules import ModuleValue
from .source import parse_function
from .values import ScriptValue, SugaredValue

__all__ = ["CompilationUnit"]


class CompilationUnit:
    """Compiles functions and module methods, each once, into graphs."""

    def __init__(self):
        self.functions = {}        # qualified name -> Graph
        self.method_graphs = {}    # id(module) -> {method name: Graph}
        self._function_names = {}  # function -> qualified name
        self._python_names = {}    # (ignored function, bound module id) -> name in functions
        self._modules = {}         # id(module) -> module (keeps the ids valid)
        self._active = []          # what is being compiled, for recursion checks

    # ------------------------------------------------------------- functions
    def function_graph(self, fn, source=None, where=None, overload=None):
        """``(qualified name, Graph)`` of a Python function, compiled on first request;
        ``overload`` as for :meth:`method_graph` (named ``<name>__<index>``)."""
        key = fn if overload is None else (fn, overload[0])
        name = self._function_names.get(key)
        if name is not None:
            return name, self.functions[name]
        if key in self._active:
            raise compile_error(f"recursive call of {fn.__qualname__!r}: recursion is not "
                                "supported in jitcore.script; rewrite it as a loop", where)
        source = source or parse_function(fn)
        self._active.append(key)
        try:
            declaration = None if overload is None else parse_function(overload[1])
            graph = self._compile(source, None, declaration)
        finally:
            self._active.pop()
        name = fn.__qualname__.replace(".<locals>", "")
        name = self._unique_name(name if overload is None else f"{name}__{overload[0]}")
        self._function_names[key] = name
        self.functions[name] = graph
        return name, graph

    def _unique_name(self, base):
        name, n = base, 1
        while name in self.functions:
            name = f"{base}.{n}"
            n += 1
        return name

    def python_function_name(self, target, display_name):
        """The ``functions`` key of an ``@jitcore.ignore`` callable (a ``prim::PythonOp`` target).

        One name per callable: a bound method is keyed by its function and instance, since
        ``module.method`` is a new object at every attribute access.
        """
        key = (getattr(target, "__func__", target), id(getattr(target, "__self__", None)))
        name = self._python_names.get(key)
        if name is None:
            name = self._unique_name(display_name)
            self._python_names[key] = name
            self.functions[name] = target
        return name

    # --------------------------------------------------------------- methods
    def method_graph(self, module, name, where=None, overload=None):
        """The graph of ``module.<name>`` (``self`` is its first input), compiled on first request.

        ``overload`` is ``(index, declaration)`` of an ``_overload_method`` declaration:
        the implementation compiled with its annotations, kept as ``<name>__<index>``.
        """
        table = self.method_graphs.setdefault(id(module), {})
        self._modules[id(module)] = module
        compiled_name = name if overload is None else f"{name}__{overload[0]}"
        if compiled_name in table:
            return table[compiled_name]
        key = (id(module), compiled_name)
        if key in self._active:
            raise compile_error(f"recursive call of {type(module).__name__}.{name}: recursion is "
                                "not supported in jitcore.script; rewrite it as a loop", where)
        fn = _method_source(type(module), name)
        if fn is None or not inspect.isfunction(fn):
            raise compile_error(f"{type(module).__name__} has no method {name!r} to compile")
        self._active.append(key)
        try:
            declaration = None if overload is None else parse_function(overload[1])
            graph = self._compile(parse_function(fn), module, declaration)
        finally:
            self._active.pop()
        table[compiled_name] = graph
        return graph

    def _overload(self, ctx, fn, declarations, args, kwargs, where, skip_self):
        """``(index, declaration)`` of the first declaration whose annotations take the
        call's arguments (materialised once, returned with it), as TorchScript picks one."""
        args = [a.as_value(ctx, where) if isinstance(a, SugaredValue) else a for a in args]
        kwargs = {k: v.as_value(ctx, where) if isinstance(v, SugaredValue) else v
                  for k, v in kwargs.items()}
        tried = []
        for index, declaration in enumerate(declarations):
            source = parse_function(declaration)
            params = source.definition.args.posonlyargs + source.definition.args.args
            params = params[1:] if skip_self else params
            signature = inspect.signature(declaration)
            parameters = list(signature.parameters.values())[1 if skip_self else 0:]
            types = [TensorType.get() if p.annotation is None else type_from_annotation(
                p.annotation, source, declaration.__globals__) for p in params]
            tried.append("(" + ", ".join(describe_type(t) for t in types) + ")")
            try:
                bound = inspect.Signature(parameters).bind(*args, **kwargs)
            except TypeError:
                continue
            by_name = dict(zip((p.name for p in parameters), types))
            if all(not hasattr(value, "type") or value.type.is_subtype_of(by_name[pname])
                   for pname, value in bound.arguments.items()):
                return (index, declaration), [ScriptValue(a) if hasattr(a, "type") else a
                                              for a in args], {
                    k: ScriptValue(v) if hasattr(v, "type") else v for k, v in kwargs.items()}
        given = ", ".join(describe_type(a.type) if hasattr(a, "type") else repr(a)
                          for a in list(args) + list(kwargs.values()))
        raise compile_error(f"no overload of {fn.__qualname__} takes ({given}); its "
                            f"declarations take {' or '.join(tried)}", where)

    # --------------------------------------------------------------- compile
    def _compile(self, source, module, declaration=None):
        """``source`` compiled into a graph; with ``declaration`` (the parsed source of an
        ``_overload_method`` declaration) its parameters and result take the
        declaration's annotations instead of their own."""
        graph = Graph()
        compiler = FunctionCompiler(self, source, graph)
        definition = source.definition
        _check_signature(source)
        params = definition.args.posonlyargs + definition.args.args
        typed_by, typed_params = source, params
        if declaration is not None:
            typed_by = declaration
            typed_params = declaration.definition.args.posonlyargs + declaration.definition.args.args
            if [p.arg for p in typed_params] != [p.arg for p in params]:
                raise compile_error(f"the overload declaration of {source.name} names its "
                                    f"parameters {[p.arg for p in typed_params]}, the "
                                    f"implementation {[p.arg for p in params]}; they must "
                                    "be the same", declaration.range_of(declaration.definition))
        type_globals = getattr(typed_by.fn, "__globals__", compiler.globals)
        for index, (param, typed) in enumerate(zip(params, typed_params)):
            if module is not None and index == 0:
                value = graph.add_input("self", class_type_of(type(module)))
                compiler.scope.bind(param.arg, ModuleValue(module, value, self))
                continue
            jit_type = TensorType.get() if typed.annotation is None else type_from_annotation(
                typed.annotation, typed_by, type_globals)
            # TorchScript names a parameter's first SSA value `x.1`
            value = graph.add_input(f"{param.arg}.1", jit_type)
            compiler.scope.bind(param.arg, argument_value(value, typed.annotation, typed_by,
                                                          type_globals))
        if module is not None and not params:
            raise compile_error(f"method {source.name} takes no self argument",
                                source.range_of(definition))
        returns = typed_by.definition.returns
        declared = None if returns is None else type_from_annotation(returns, typed_by,
                                                                     type_globals)
        if is_unused(source.fn):
            compiler.emit_raise("NotImplementedError", f"{source.name} was marked "
                                "@jitcore.unused and cannot run in compiled code",
                                source.range_of(definition))
            graph.register_output(compiler.uninitialized(declared or TensorType.get()))
        else:
            compiler.compile_body(definition.body, declared)
        _drop_unread_lists(graph)
        pool_constants(graph)
        graph.lint()
        return graph

    # ------------------------------------------------------------------ calls
    def call_function(self, ctx, fn, args, kwargs, where, overload=None):
        """Emit ``prim::CallFunction[name=f](args)`` for a call of Python function ``fn``
        (``overload``: ``(index, declaration)`` named by the call, as ``.code`` prints
        ``f__0(...)``; else matched from the arguments)."""
        if is_ignored(fn):
            name = fn.__qualname__.replace(".<locals>", "")
            return ignored_call(self, ctx, fn, fn, name, args, kwargs, where, skip_self=False)
        declarations = overload_declarations(fn)
        if declarations and overload is None:
            overload, args, kwargs = self._overload(ctx, fn, declarations, args, kwargs, where,
                                                    skip_self=False)
        with calling(fn.__qualname__, ctx.source.name, where):
            name, graph = self.function_graph(fn, where=where, overload=overload)
        inputs = bind_call(ctx, fn if overload is None else overload[1], graph.inputs, args,
                           kwargs, where, skip_self=False)
        output_type = graph.outputs[0].type
        node = ctx.node("prim::CallFunction", inputs, [output_type], where, attrs={"name": name})
        return ScriptValue(node.output())

    def call_compiled_function(self, ctx, compiled, args, kwargs, where):
        """Emit ``prim::CallFunction`` of an already compiled function (``jitcore.script``
        or ``jitcore.trace`` of a function), as TorchScript compiles such callees: its
        graph, with its own calls inlined, joins this unit's function table once."""
        name = self._function_names.get(compiled)
        if name is None:
            graph = _without_shapes(inline_calls(compiled.graph, functions=compiled.functions))
            for key, target in compiled.functions.items():
                if callable(target) and not isinstance(target, Graph):
                    # an @jitcore.ignore function its graph calls by name
                    if self.functions.get(key, target) is not target:
                        raise compile_error(f"{compiled.name} calls the Python function {key!r}, "
                                            "and another function of this name is called here",
                                            where)
                    self.functions[key] = target
            name = self._unique_name(compiled.name)
            self._function_names[compiled] = name
            self.functions[name] = graph
        graph = self.functions[name]
        inputs = bind_call(ctx, compiled, graph.inputs, args, kwargs, where, skip_self=False,
                           signature=compiled.call_signature())
        node = ctx.node("prim::CallFunction", inputs, [graph.outputs[0].type], where,
                        attrs={"name": name})
        return ScriptValue(node.output())

    def call_method(self, ctx, receiver, name, args, kwargs, where):
        """Emit ``prim::CallMethod[name=m](module, args)`` and compile the method."""
        module = receiver.module
        existing = getattr(module, "_jit_method_graph", None)
        if existing is not None:
            graph = existing(name)  # an already compiled (e.g. traced) module
        else:
            fn = _method_source(type(module), name)
            forced = compiled_overload(type(module), name) if fn is None else None
            if forced is not None:
                # `.forward__0(...)` as `.code` prints a call of an overload: that one
                name, index, declaration = forced
                fn = _method_source(type(module), name)
            if is_ignored(fn):
                return ignored_call(self, ctx, fn, getattr(module, name),
                                    f"{type(module).__name__}.{name}", args, kwargs, where,
                                    skip_self=True)
            declarations = overload_declarations(fn) if inspect.isfunction(fn) else []
            overload = None
            if forced is not None:
                overload = (index, declaration)
            elif declarations:
                overload, args, kwargs = self._overload(ctx, fn, declarations, args, kwargs,
                                                        where, skip_self=True)
            with calling(f"{type(module).__name__}.{name}", ctx.source.name, where):
                if overload is None:
                    graph = self.method_graph(module, name, where)
                else:
                    graph = self.method_graph(module, name, where, overload)
            if overload is not None:
                name = f"{name}__{overload[0]}"
                # the declaration's signature binds the call (its names, its defaults)
                fn = overload[1]
        if existing is not None:
            # a compiled module's methods take their graph's inputs positionally
            if kwargs or len(args) != len(graph.inputs) - 1:
                raise compile_error(f"{type(module).__name__}.{name} takes "
                                    f"{len(graph.inputs) - 1} positional arguments", where)
            arguments = [a.as_value(ctx, where) for a in args]
            for value, param in zip(arguments, graph.inputs[1:]):
                # a traced graph's inputs carry the example's dtype and shape, which do
                # not restrict later calls (as in TorchScript): any tensor may be passed
                both_tensors = isinstance(param.type, TensorType) and isinstance(value.type, TensorType)
                if not both_tensors and not value.type.is_subtype_of(param.type):
                    raise compile_error(f"{type(module).__name__}.{name} expected "
                                        f"{describe_type(param.type)} but got "
                                        f"{describe_type(value.type)}", where)
            inputs = [receiver.value] + arguments
        else:
            inputs = [receiver.value] + bind_call(ctx, fn, graph.inputs[1:], args, kwargs,
                                                  where, skip_self=True)
        node = ctx.node("prim::CallMethod", inputs, [graph.outputs[0].type], where,
                        attrs={"name": name})
        return ScriptValue(node.output())


def _method_source(cls, name):
    """The Python function compiled as method ``name`` of ``cls``: the method itself, or a
    property's getter for ``__<property>_getter`` (TorchScript compiles properties so)."""
    fn = getattr(cls, name, None)
    if fn is None and name.startswith("__") and name.endswith("_getter"):
        prop = inspect.getattr_static(cls, name[2:-len("_getter")], None)
        if isinstance(prop, property):
            return prop.fget
    return fn


def _check_signature(source):
    args = source.definition.args
    where = source.range_of(source.definition)
    if args.vararg is not None:
        raise compile_error(f"*{args.vararg.arg} parameters are not supported in jitcore.script; "
                            "take a list or a tuple instead", source.range_of(args.vararg))
    if args.kwarg is not None:
        raise compile_error(f"**{args.kwarg.arg} parameters are not supported in jitcore.script; "
                            "take named parameters instead", source.range_of(args.kwarg))
    if args.kwonlyargs:
        raise compile_error("keyword-only parameters are not supported in jitcore.script; make "
                            "them positional", source.range_of(args.kwonlyargs[0]))
    if source.definition.decorator_list and any(
            _decorator_name(d) == "classmethod" for d in source.definition.decorator_list):
        raise compile_error("class methods are not supported in jitcore.script; use a plain "
                            "method, a static method or a module-level function", where)


def _drop_unread_lists(graph):
    """Remove list literals nothing reads: a literal handed to a NumPy function as a
    Python list of its items (``np.concatenate([a, b], 1)``) is built again by the op
    that takes it, and its own ``prim::ListConstruct`` would print in ``.code``."""
    for node in reversed(list(graph.walk())):
        if node.kind == "prim::ListConstruct" and not node.output().uses:
            node.destroy()


def _decorator_name(node):
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def _without_shapes(graph):
    """``graph`` with every tensor typed ``Tensor``: a traced callee's example shapes and
    dtypes say nothing about the arrays a scripted caller passes (TorchScript calls a
    traced function with any tensor too); shape propagation specialises it per call."""
    values = list(graph.inputs)
    for node in graph.walk():
        values.extend(node.outputs)
        for block in node.blocks:
            values.extend(block.inputs)
    for value in values:
        if isinstance(value.type, TensorType):
            value.set_type(TensorType.get())
    return graph
