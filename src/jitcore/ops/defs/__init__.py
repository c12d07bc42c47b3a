"""The op definitions, one module per family; importing this package registers them all.

The order is the order of overload resolution across families: tensor ops
come before the scalar ops that share their kind (``aten::add.Tensor`` before
``aten::add.int``), so that Python callables map to the tensor kind first.
"""

from . import (  # noqa: F401  (imported for their register() calls)
    elementwise, comparison, activation, reduction, linalg, nn, shape, indexing, creation, scalar,
    fused, prim, lists, dicts, resampling, padding, recurrent, float_values, einsum, inplace,
    strings,
)
