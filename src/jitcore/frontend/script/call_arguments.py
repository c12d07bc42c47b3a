"""Binding the arguments of a call in script to the inputs of the compiled callee."""

import inspect

from .errors import compile_error, describe_type
from .values import SugaredValue

__all__ = ["bind_call", "check_arity"]


def check_arity(what, args, kwargs, where, low, high=None, keywords=()):
    """Refuse a call of ``what`` (``"len"``, ``"list.append"``) that passes fewer than ``low`` or
    more than ``high`` (default ``low``) arguments, or a keyword outside ``keywords``."""
    unknown = [k for k in kwargs if k not in keywords]
    if unknown:
        raise compile_error(f"{what}() got an unexpected keyword argument {unknown[0]!r} in "
                            "jitcore.script", where)
    high = low if high is None else high
    count = len(args) + len(kwargs)
    if not low <= count <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise compile_error(f"{what}() takes {expected} arguments, got {count}", where)


def bind_call(ctx, fn, params, args, kwargs, where, skip_self, signature=None):
    """IR inputs for calling a compiled function whose graph inputs are ``params``.

    Positional and keyword arguments are matched with Python's rules (``inspect``), missing
    ones take the function's defaults, and each is checked against the parameter type.
    ``signature`` is ``fn``'s own unless given (a compiled function's call signature).
    """
    signature = inspect.signature(fn) if signature is None else signature
    parameters = list(signature.parameters.values())[1 if skip_self else 0:]
    try:
        bound = inspect.Signature(parameters).bind(*args, **kwargs)
    except TypeError as e:
        raise compile_error(f"{_name(fn)}(): {e}", where) from None
    bound.apply_defaults()
    inputs = []
    for (pname, sugared), param in zip(bound.arguments.items(), params):
        if isinstance(sugared, SugaredValue):
            value = sugared.as_value(ctx, where)
        else:
            try:
                value = ctx.constant(sugared, where)
            except TypeError:
                raise compile_error(f"the default value {sugared!r} of parameter {pname!r} cannot "
                                    "be a constant in jitcore.script", where) from None
        if not value.type.is_subtype_of(param.type):
            raise compile_error(f"{_name(fn)}() expected a value of type "
                                f"{describe_type(param.type)} for argument {pname!r} but got "
                                f"{describe_type(value.type)}", where)
        inputs.append(value)
    return inputs


def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
