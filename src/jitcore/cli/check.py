"""``jitcore check MODEL``: validate an archive and run it once on random inputs.

The archive goes through everything ``jitcore.load`` checks (zip structure,
checksums, manifest, IR parsing), then every graph through ``lint()``, then one
call of the method on random inputs (``--input``); ``--reference`` also runs the
reference interpreter and compares.  Exit status 0 when every step passed, 1 when
one failed (it is named).
"""

import json
import time

import numpy as np

from jitcore.cli.common import (
    add_method_argument, add_model_argument, add_subcommand, callable_of, choose_method, method_records,
    one_line, open_archive,
)
from jitcore.cli.inputs import add_input_argument, describe_inputs, make_inputs
from jitcore.ir import Graph
from jitcore.modules import ScriptModule

__all__ = ["add_parser", "run"]

# float32 outputs of the compiled kernels and the NumPy reference differ by
# summation order only
_TOLERANCE = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-12)}


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "check", "validate an archive and run it once on random inputs "
                            "(exit status 0/1)", __doc__)
    add_model_argument(parser)
    add_input_argument(parser)
    add_method_argument(parser, "run")
    parser.add_argument("--reference", action="store_true",
                        help="also run the reference interpreter and compare the outputs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.set_defaults(run=run)
    return parser


def _graphs(model):
    """``(name, graph)`` of every graph the archive holds: each module's methods, the functions."""
    modules = model.named_modules() if isinstance(model, ScriptModule) else [("", model)]
    for path, module in modules:
        for name, method in method_records(module).items():
            yield (f"{path}.{name}" if path else name), method.graph
    for name, function in model.functions.items():
        if isinstance(function, Graph):
            yield name, function


def _outputs(result):
    """A call's outputs as a flat list of arrays (tuples and lists of outputs flattened)."""
    if isinstance(result, (tuple, list)):
        return [array for item in result for array in _outputs(item)]
    return [np.asarray(result)]


def _describe(arrays):
    return [{"dtype": a.dtype.name, "shape": list(a.shape), "finite": bool(np.isfinite(a).all())
             if a.dtype.kind == "f" else True} for a in arrays]


def _compare(actual, expected):
    if len(actual) != len(expected):
        return f"{len(actual)} outputs, the reference gives {len(expected)}"
    for k, (a, e) in enumerate(zip(actual, expected)):
        if a.shape != e.shape or a.dtype != e.dtype:
            return f"output {k} is {a.dtype}{list(a.shape)}, the reference gives {e.dtype}{list(e.shape)}"
        if a.dtype.kind not in "biuf":      # None and other non-numbers: equal or not
            if a.tolist() != e.tolist():
                return f"output {k} is {a.tolist()!r}, the reference gives {e.tolist()!r}"
            continue
        tolerance = _TOLERANCE.get(a.dtype.name, dict(rtol=0, atol=0))
        if not np.allclose(a, e, equal_nan=True, **tolerance):
            error = float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64))))
            return f"output {k} differs from the reference (max abs difference {error:.3g})"
    return None


def _steps(archive, args):
    """Run the checks in order; yields ``(step, ok, detail)`` and stops at the first failure."""
    model = archive.model
    yield "load", True, f"format version {archive.format_version}, written by {archive.producer}"
    graphs = 0
    for name, graph in _graphs(model):
        try:
            graph.lint()
        except Exception as error:  # noqa: BLE001  (any lint failure is the check's answer)
            yield "lint", False, f"{name}: {one_line(error)}"
            return
        graphs += 1
    yield "lint", True, f"{graphs} graphs"
    name, method = choose_method(archive, args.method)
    inputs = make_inputs(method, args.inputs, seed=args.seed)
    call = callable_of(model, name)
    start = time.perf_counter()
    try:
        outputs = _outputs(call(*inputs))
    except Exception as error:  # noqa: BLE001
        yield "run", False, f"{type(error).__name__}: {error}"
        return
    seconds = time.perf_counter() - start
    described = _describe(outputs)
    shapes = ", ".join(f"{d['dtype']}{d['shape']}" for d in described)
    yield "run", True, f"{name}({_input_text(method, inputs)}) -> {shapes} in {seconds * 1e3:.2f} ms"
    if not all(d["finite"] for d in described):
        yield "finite", False, "an output holds NaN or infinity"
        return
    if args.reference:
        reference = (model.call_reference(*inputs, method=name) if isinstance(model, ScriptModule)
                     else model.call_reference(*inputs))
        problem = _compare(outputs, _outputs(reference))
        yield "reference", problem is None, problem or "the outputs match the reference interpreter"


def _input_text(method, inputs):
    return ", ".join(f"{row['name']}={row['dtype']}{row.get('shape', '')}" if "shape" in row
                     else f"{row['name']}={row['value']!r}" for row in describe_inputs(method, inputs))


def run(args):
    archive = open_archive(args.model)
    steps = []
    for step, ok, detail in _steps(archive, args):
        steps.append({"step": step, "ok": ok, "detail": detail})
        if not args.json:
            print(f"{'ok  ' if ok else 'FAIL'}  {step:<9} {detail}")
    passed = all(row["ok"] for row in steps)
    if args.json:
        print(json.dumps({"path": archive.path, "passed": passed, "steps": steps}, indent=2))
    else:
        print(f"{archive.path}: {'passed' if passed else 'FAILED'}")
    return 0 if passed else 1
