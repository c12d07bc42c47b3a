"""``--input`` specifications and the random inputs they describe.

A specification is ``[NAME=]DIMS[:DTYPE]``: ``x=1,3,224,224:float32``, ``2,4`` (the next
input in order, float32 unless the graph says otherwise), ``x=`` for a 0-d tensor.  An
``int``, ``float`` or ``bool`` input takes a value instead: ``n=3``.  An input with no
specification takes the dtype and shape of its graph type when the archive records
them (a traced model's example input).
"""

import numpy as np

from jitcore._runtime.types import DTYPES, TensorType
from jitcore.cli.common import CommandError
from jitcore.executor import parameter_names

__all__ = ["InputSpec", "parse_spec", "make_inputs", "add_input_argument", "describe_inputs"]

# scalar input types by their kind, and how their value is read
_SCALARS = {"int": int, "float": float, "bool": lambda text: {"true": True, "false": False}[text.lower()]}


class InputSpec:
    """One parsed ``--input``: ``name`` (or None), ``text`` (the dims or value) and ``dtype`` (or None)."""

    __slots__ = ("name", "text", "dtype", "source")

    def __init__(self, name, text, dtype, source):
        self.name, self.text, self.dtype, self.source = name, text, dtype, source


def parse_spec(source):
    """Parse one ``--input`` argument (``argparse`` ``type=``); ValueError names what is wrong."""
    name, sep, rest = source.partition("=")
    if not sep:
        name, rest = None, source
    elif not name.isidentifier():
        raise ValueError(f"{source!r}: {name!r} is not an input name")
    text, sep, dtype = rest.partition(":")
    if sep and dtype not in DTYPES:
        raise ValueError(f"{source!r}: unknown dtype {dtype!r} (one of {', '.join(DTYPES)})")
    return InputSpec(name, text.strip(), dtype or None, source)


def add_input_argument(parser):
    parser.add_argument(
        "--input", "-i", dest="inputs", metavar="[NAME=]DIMS[:DTYPE]", action="append", default=[],
        type=_argparse_spec,
        help="shape and dtype of an input, e.g. x=1,3,224,224:float32 (repeat for each input; "
             "an int/float/bool input takes a value, n=3). Inputs left out take the shape and "
             "dtype the archive records for them, when it does.")


def _argparse_spec(text):
    import argparse
    try:
        return parse_spec(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _assign(specs, names):
    """``{name: spec}``: named specs by name, unnamed ones to the remaining inputs in order."""
    assigned = {}
    for spec in specs:
        if spec.name is None:
            continue
        if spec.name not in names:
            raise CommandError(f"--input {spec.source}: the model has no input {spec.name!r} "
                               f"(its inputs: {', '.join(names) or 'none'})")
        if spec.name in assigned:
            raise CommandError(f"--input {spec.name} is given twice")
        assigned[spec.name] = spec
    free = [name for name in names if name not in assigned]
    unnamed = [spec for spec in specs if spec.name is None]
    if len(unnamed) > len(free):
        raise CommandError(f"{len(specs)} --input given for {len(names)} inputs ({', '.join(names)})")
    assigned.update(zip(free, unnamed))
    return assigned


def _dims(spec, name):
    try:
        return tuple(int(d) for d in spec.text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise CommandError(f"--input {spec.source}: dimensions of {name!r} must be integers "
                           f"separated by commas, e.g. {name}=1,3,224,224") from None


def _tensor(name, expected, spec, rng):
    if spec is None:
        if not expected.is_complete():
            raise CommandError(f"input {name!r} has type {expected} in the archive: give its shape "
                               f"with --input {name}=DIMS[:DTYPE]")
        shape, dtype = expected.shape, expected.dtype
    else:
        shape = _dims(spec, name)
        if any(d < 0 for d in shape):
            raise CommandError(f"--input {spec.source}: dimensions must be >= 0")
        dtype = spec.dtype or expected.dtype or "float32"
        if expected.rank is not None and len(shape) != expected.rank:
            raise CommandError(f"--input {spec.source}: {name!r} is {expected} in the archive, "
                               f"{expected.rank}-dimensional; got {len(shape)} dimensions")
    if dtype in ("float32", "float64"):
        return rng.standard_normal(shape).astype(dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.integers(0, 10, size=shape).astype(dtype)


def _scalar(name, expected, spec):
    parse = _SCALARS.get(expected.kind)
    if parse is None:
        raise CommandError(f"input {name!r} has type {expected}; the command makes tensors and "
                           "int/float/bool values only")
    if spec is None:
        raise CommandError(f"input {name!r} is {expected}: give its value with --input {name}=VALUE")
    try:
        return parse(spec.text)
    except (ValueError, KeyError):
        raise CommandError(f"--input {spec.source}: {name!r} takes a value of type {expected}") from None


def make_inputs(method, specs, seed=0):
    """Random call arguments for ``method`` (a :class:`jitcore.modules.Method`) following ``specs``.

    Returns
    -------
    list
        One value per parameter, in order: ndarrays (standard normal floats,
        integers in [0, 10), random booleans) and the given scalars.
    """
    names = parameter_names(method.inputs)
    assigned = _assign(specs, names)
    rng = np.random.default_rng(seed)
    values = []
    for name, value in zip(names, method.inputs):
        expected, spec = value.type, assigned.get(name)
        if isinstance(expected, TensorType):
            values.append(_tensor(name, expected, spec, rng))
        else:
            values.append(_scalar(name, expected, spec))
    return values


def describe_inputs(method, values):
    """``[{"name", "dtype", "shape"}]`` of call arguments, for reports and JSON."""
    rows = []
    for name, value in zip(parameter_names(method.inputs), values):
        if isinstance(value, np.ndarray):
            rows.append({"name": name, "dtype": value.dtype.name, "shape": list(value.shape)})
        else:
            rows.append({"name": name, "dtype": type(value).__name__, "value": value})
    return rows
