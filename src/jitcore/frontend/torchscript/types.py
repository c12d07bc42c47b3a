"""TorchScript type annotations (``Tensor``, ``Optional[List[int]]``) to IR types, read from the AST.

The script frontend evaluates annotations as Python (``eval`` of the user's own
source); an archive's annotations are data, so they are read node by node here:
names from a fixed table, subscripts of ``Optional``/``List``/``Tuple``/``Dict``/
``Final`` built with ``typing``, and nothing else.
"""

import ast
import typing

import numpy as np

from jitcore._runtime.types import ClassType, TupleType
from jitcore.frontend.script.annotations import type_from_python_object
from jitcore.frontend.script.errors import compile_error

__all__ = ["archive_type", "python_annotation"]

_NAMES = {"Tensor": np.ndarray, "int": int, "float": float, "bool": bool, "str": str,
          "NoneType": type(None), "None": type(None), "Any": typing.Any,
          # every jitcore array is on the CPU: a device is None (dialect.py's ops.prim.device)
          "Device": type(None)}
_GENERICS = {"Optional": typing.Optional, "List": typing.List, "Tuple": typing.Tuple, "Dict": typing.Dict,
             "Final": typing.Final}


def python_annotation(node, where):
    """The ``typing`` object an annotation node spells (``Optional[Tensor]`` -> ``typing.Optional[np.ndarray]``)."""
    if isinstance(node, ast.Constant) and node.value is None:
        return type(None)
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in _GENERICS:
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        args = tuple(python_annotation(item, where) for item in items)
        generic = _GENERICS[node.value.id]
        if node.value.id in ("Optional", "List", "Final") and len(args) != 1:
            raise compile_error(f"{node.value.id}[...] takes one type, got {len(args)}", where)
        if node.value.id == "Dict" and len(args) != 2:
            raise compile_error(f"Dict[...] takes two types, got {len(args)}", where)
        return generic[args if len(args) > 1 else args[0]]
    raise compile_error(f"the type {ast.unparse(node)[:80]!r} is not supported; jitcore reads Tensor, int, float, "
                        "bool, str, NoneType, Any, Optional, List, Tuple, Dict and Final of those", where)


def archive_type(node, where, classes=None):
    """The IR type of an annotation node of archive code (None: no annotation, a Tensor as in TorchScript).

    ``__torch__.<Class>`` annotations name module classes: only ``self`` has one
    in the methods jitcore reads, and the caller skips it.  A NamedTuple class of
    the archive (``classes``: its declarations) is the tuple of its fields' types.

    Raises
    ------
    jitcore.CompileError
        For a type outside the table (a TorchScript class, an enum, a device).
    """
    if node is None:
        return None
    if _dotted(node).startswith("__torch__."):
        declaration = (classes or {}).get(_dotted(node))
        if declaration is not None and declaration.fields is not None:
            return TupleType([archive_type(annotation, where, classes) for _, annotation in declaration.fields])
        return ClassType(_dotted(node))
    jit_type = type_from_python_object(python_annotation(node, where))
    if jit_type is None:
        raise compile_error(f"the type {ast.unparse(node)[:80]!r} has no jitcore equivalent", where)
    return jit_type


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""
