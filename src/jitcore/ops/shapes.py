"""Building blocks of the dtype/shape rules (``OpDef.infer``).

A rule sees the IR types of an op's inputs and, where an input is a known
constant, its Python value (else :data:`UNKNOWN`).  Shapes are tuples whose
unknown dimensions are None; a shape of None means the rank is unknown.
"""

from jitcore._runtime.types import JitType, TensorType

from .dtypes import promote, weak_sample
from .sentinel import Sentinel

__all__ = [
    "UNKNOWN", "known", "broadcast", "normalize_dim", "tensor_of", "operand_dtype",
    "reduced_shape", "unknown_tensor",
]


#: ``constant_values[i]`` of an input whose value is not a known constant.
UNKNOWN = Sentinel("UNKNOWN")


def known(value):
    """True when a constant value is known."""
    return value is not UNKNOWN


def unknown_tensor(dtype=None):
    """A tensor type with a dtype (or None) and unknown rank."""
    return TensorType(dtype, None)


def tensor_of(t: JitType):
    """``t`` as a TensorType; a non-tensor argument passed where a tensor is expected is a 0-d tensor."""
    if isinstance(t, TensorType):
        return t
    return TensorType(None, ())


def broadcast(*shapes):
    """NumPy broadcasting of shapes with unknown (None) dimensions.

    Raises
    ------
    ValueError
        If two known dimensions cannot broadcast.
    """
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        sizes = {d for d in dims if d is not None and d != 1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(map(_fmt, shapes))} cannot be broadcast "
                             f"(dimension {i - rank}: {sorted(sizes)})")
        if sizes:
            out.append(sizes.pop())
        elif None in dims:
            # a None may be 1 or anything else: the result is unknown
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _fmt(shape):
    return "(" + ", ".join("*" if d is None else str(d) for d in shape) + ")"


def normalize_dim(dim, rank, what="dim"):
    """A possibly negative dim as an index in ``range(rank)``.

    Raises
    ------
    IndexError
        If ``dim`` is out of range for a tensor of ``rank`` dimensions.
    """
    bound = max(rank, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{what} {dim} is out of range for a tensor of rank {rank} "
                         f"(expected {-bound} <= {what} < {bound})")
    return dim % bound


def reduced_shape(shape, dims, keepdim):
    """The shape after reducing ``dims`` (None or [] = every dim) of ``shape``."""
    if shape is None:
        return None
    rank = len(shape)
    axes = set(range(rank)) if not dims else {normalize_dim(d, rank) for d in dims}
    if keepdim:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def operand_dtype(types, constants, indices):
    """The NEP 50 result dtype of the inputs at ``indices``; None where unknown.

    A None constant of an optional operand (``clamp(x, min=None)``) takes no part.
    """
    samples = [weak_sample(types[i], constants[i]) for i in indices
               if not (constants[i] is None or types[i].kind == "NoneType")]
    return promote(samples)
