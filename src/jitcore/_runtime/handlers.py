"""Every runtime handler a registry entry may name: ``OpDef.handler`` -> :class:`HandlerDef`.

The op modules' ``HANDLERS`` tables merged into one; a handler name belongs
to one module.  The registry checks each entry's handler against this table
and lowering resolves every node through it.
"""

from jitcore._runtime import (
    op_conv, op_creation, op_dict, op_elementwise, op_float_values, op_index, op_inplace,
    op_linalg, op_list, op_nn, op_python, op_recurrent, op_reduction, op_scalar, op_shape,
    op_string,
)

__all__ = ["HANDLERS"]


def _merge(*modules):
    table = {}
    for module in modules:
        for name, h in module.HANDLERS.items():
            if name in table:
                raise RuntimeError(f"handler {name!r} of {module.__name__} is already a "
                                   "handler of another module")
            table[name] = h
    return table


HANDLERS = _merge(op_conv, op_creation, op_dict, op_elementwise, op_float_values, op_index,
                  op_inplace, op_linalg, op_list, op_nn, op_python, op_recurrent, op_reduction,
                  op_scalar, op_shape, op_string)
