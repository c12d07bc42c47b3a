"""The classes and functions of an archive's ``code/`` files, read with ``ast`` (never compiled to bytecode).

``code/__torch__/torch/nn/modules/linear.py`` holds ``class Linear(Module):``
with its attribute declarations (``__parameters__ = ["weight", "bias", ]``,
``__buffers__``, ``weight : Tensor``, ``in_features : Final[int] = 4``,
``__annotations__["0"] = <type>``) and methods; a file may also define free
functions (``__torch__.torch.nn.functional.relu``).  The qualified name of each
is its file's path with dots, plus its own name.
"""

import ast
import inspect
from dataclasses import dataclass, field

from jitcore.frontend.script.errors import compile_error
from jitcore.frontend.script.source import FunctionSource

__all__ = ["ClassDeclaration", "FunctionDeclaration", "read_declarations"]

#: Code files are parsed whole; larger ones are refused (the archive reader caps them too).
MAX_CODE_CHARS = 64 * 1024 * 1024


class ArchiveFunction:
    """What the script compiler reads of a function it compiles: names, its globals, no closure.

    Archive code has no Python function object; this stands in for one, with the
    TorchScript dialect's names as globals (``dialect.dialect_globals``) and the
    types ``annotate``/``unchecked_cast`` calls name (``types``, filled by ``dialect``).
    """

    __closure__ = None

    def __init__(self, qualified_name, globals_):
        self.__name__ = qualified_name.rsplit(".", 1)[-1]
        self.__qualname__ = qualified_name
        self.__globals__ = globals_
        self.types = []


@dataclass
class FunctionDeclaration:
    """One ``def`` of archive code: its source (for the compiler) and its call signature."""

    qualified_name: str
    source: FunctionSource
    signature: inspect.Signature


@dataclass
class ClassDeclaration:
    """One ``class X(Module):`` of archive code."""

    qualified_name: str
    parameters: list = field(default_factory=list)
    buffers: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    attribute_types: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)     # name -> FunctionDeclaration
    #: Why jitcore cannot use this class (a TorchScript class, enum, interface), with the range;
    #: an archive may define one and never use it on the paths jitcore compiles.
    unsupported: tuple = None
    #: A NamedTuple class: its fields in order, ``(name, annotation node)`` (defaults in ``constants``).
    fields: list = None


def read_declarations(code, folder, globals_):
    """``({class name: ClassDeclaration}, {function name: FunctionDeclaration})`` of every code file.

    Parameters
    ----------
    code : dict of str to str
        The source of each file by its path under ``code/``.
    folder : str
        The archive's top folder (error messages name ``<folder>/code/<path>``).
    globals_ : dict
        The names archive code sees (``dialect.dialect_globals``).

    Raises
    ------
    jitcore.CompileError
        Naming the file and line of anything that is not a class or function
        definition jitcore reads.
    """
    classes, functions = {}, {}
    for path, text in code.items():
        if not path.endswith(".py"):
            continue
        filename = f"{folder}/code/{path}"
        module_name = path[:-3].replace("/", ".")
        if len(text) > MAX_CODE_CHARS:
            raise compile_error(f"{filename} has {len(text)} characters, more than {MAX_CODE_CHARS}")
        try:
            tree = ast.parse(text, filename=filename)
        except (SyntaxError, ValueError) as error:
            raise compile_error(f"{filename} is not valid TorchScript source: {error}") from None
        lines = text.splitlines(keepends=True)
        for statement in tree.body:
            where = _Where(filename, lines)
            if isinstance(statement, ast.ClassDef):
                declaration = _read_class(f"{module_name}.{statement.name}", statement, where, globals_)
                classes[declaration.qualified_name] = declaration
            elif isinstance(statement, ast.FunctionDef):
                declaration = _function(f"{module_name}.{statement.name}", statement, where, globals_)
                functions[declaration.qualified_name] = declaration
            elif not _is_import(statement):
                raise compile_error(f"{type(statement).__name__} statements at the top of a code file are not "
                                    "TorchScript that jitcore reads", where.range(statement))
    return classes, functions


class _Where:
    """Source ranges in one code file."""

    def __init__(self, filename, lines):
        self.filename = filename
        self.lines = lines

    def source(self, fn, definition):
        return FunctionSource(fn, definition, self.filename, 1, 0, self.lines)

    def range(self, node):
        return self.source(None, node).range_of(node)


def _is_import(statement):
    # TorchScript code files may start with `import __torch__...` lines (classes it refers to): names only
    return isinstance(statement, ast.Import) and all(alias.name.startswith("__torch__") for alias in statement.names)


def _function(qualified_name, definition, where, globals_):
    fn = ArchiveFunction(qualified_name, globals_)
    return FunctionDeclaration(qualified_name, where.source(fn, definition), _signature(definition, where))


def _signature(definition, where):
    """The Python signature of a ``def`` (defaults are literals in TorchScript code)."""
    args = definition.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise compile_error("*args, **kwargs, keyword-only and positional-only parameters are not TorchScript",
                            where.range(definition))
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    parameters = []
    for arg, default in zip(args.args, defaults):
        value = inspect.Parameter.empty if default is None else _literal(default, where)
        parameters.append(inspect.Parameter(arg.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value))
    return inspect.Signature(parameters)


def _literal(node, where):
    try:
        value = ast.literal_eval(node)   # reads literal nodes only; evaluates nothing
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise compile_error(f"the default value {ast.unparse(node)[:80]} is not a literal", where.range(node)) from None
    return value


def _string_list(node, where, what):
    if not (isinstance(node, ast.List) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                               for e in node.elts)):
        raise compile_error(f"{what} must be a list of strings", where.range(node))
    return [e.value for e in node.elts]


def _read_named_tuple(declaration, definition, where):
    """``class Out(NamedTuple):`` with ``y : Tensor`` field declarations (and literal defaults)."""
    declaration.fields = []
    for statement in definition.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            declaration.fields.append((statement.target.id, statement.annotation))
            if statement.value is not None:
                declaration.constants[statement.target.id] = _literal(statement.value, where)
        elif not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            raise compile_error(f"{type(statement).__name__} statements in a NamedTuple are not field "
                                "declarations", where.range(statement))
    return declaration


def _read_class(qualified_name, definition, where, globals_):
    declaration = ClassDeclaration(qualified_name)
    bases = [ast.unparse(b) for b in definition.bases]
    if bases == ["NamedTuple"]:
        return _read_named_tuple(declaration, definition, where)
    if bases != ["Module"]:
        declaration.unsupported = (f"class {qualified_name} derives from {', '.join(bases) or 'nothing'}; jitcore "
                                   "reads TorchScript module classes (Module) and NamedTuples, not TorchScript classes, "
                                   "enums or interfaces", where.range(definition))
        return declaration
    for statement in definition.body:
        if isinstance(statement, ast.FunctionDef):
            declaration.methods[statement.name] = _function(f"{qualified_name}.{statement.name}", statement,
                                                            where, globals_)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id in ("__parameters__", "__buffers__"):
                names = _string_list(statement.value, where, target.id)
                (declaration.parameters if target.id == "__parameters__" else declaration.buffers).extend(names)
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                  and target.value.id == "__annotations__" and isinstance(target.slice, ast.Constant)
                  and isinstance(target.slice.value, str)):
                declaration.attribute_types[target.slice.value] = statement.value    # a non-identifier name
            else:
                raise compile_error(f"unexpected assignment in the declaration of {qualified_name}",
                                    where.range(statement))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            declaration.attribute_types[name] = statement.annotation
            if statement.value is not None:
                declaration.constants[name] = _literal(statement.value, where)
        elif not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            raise compile_error(f"{type(statement).__name__} statements in a class body are not TorchScript "
                                "declarations", where.range(statement))
    return declaration
