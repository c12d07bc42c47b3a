"""``jitcore inspect MODEL``: what an archive holds, without running it.

Methods with their signatures (input and output types as the archive records
them: dtypes and shapes where known), parameter and buffer counts and bytes,
the op histogram of each method with submodule calls inlined (``prim::Constant``
and ``prim::GetAttr``, which only read values, are left out), the archive's format
version, producer and extra files.
"""

import collections
import json

from jitcore.cli.common import add_model_argument, add_subcommand, method_records, open_archive
from jitcore.executor import parameter_names
from jitcore.ir.python_printer import graph_to_code
from jitcore.modules import ScriptModule
from jitcore.passes.inline import inline_calls

__all__ = ["add_parser", "run", "describe"]

_NOT_COUNTED = ("prim::Constant", "prim::GetAttr")


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "inspect", "show methods, signatures, parameters, ops and metadata "
                            "of an archive", __doc__)
    add_model_argument(parser)
    parser.add_argument("--graph", action="store_true", help="also print each method's IR graph")
    parser.add_argument("--code", action="store_true", help="also print each method as Python-like code")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.set_defaults(run=run)
    return parser


def _inlined(archive_model, method):
    self_object = archive_model if isinstance(archive_model, ScriptModule) else None
    return inline_calls(method.graph, self_object, functions=method.functions)


def _histogram(graph):
    counts = collections.Counter(node.kind for node in graph.walk() if node.kind not in _NOT_COUNTED)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _method(model, name, method):
    inputs = [{"name": n, "type": str(v.type)} for n, v in zip(parameter_names(method.inputs), method.inputs)]
    outputs = [str(v.type) for v in method.graph.outputs]
    arguments = ", ".join(f"{row['name']}: {row['type']}" for row in inputs)
    returns = outputs[0] if len(outputs) == 1 else f"Tuple[{', '.join(outputs)}]"
    return {"name": name, "signature": f"{name}({arguments}) -> {returns}", "inputs": inputs,
            "outputs": outputs, "ops": _histogram(_inlined(model, method))}


def _tensors(named):
    arrays = [array for _, array in named]
    return {"count": sum(int(a.size) for a in arrays), "bytes": sum(int(a.nbytes) for a in arrays),
            "tensors": len(arrays)}


def describe(archive):
    """The report ``inspect --json`` prints, as a dict."""
    model = archive.model
    is_module = isinstance(model, ScriptModule)
    methods = method_records(model)
    return {
        "path": archive.path,
        "kind": "ScriptModule" if is_module else "ScriptFunction",
        "name": model.original_name if is_module else model.name,
        "format_version": archive.format_version,
        "producer": archive.producer,
        "file_bytes": archive.size_bytes,
        "methods": [_method(model, name, method) for name, method in methods.items()],
        "parameters": _tensors(model.named_parameters() if is_module else []),
        "buffers": _tensors(model.named_buffers() if is_module else []),
        "submodules": [name for name, _ in model.named_modules()][1:] if is_module else [],
        "extra_files": {name: len(data) for name, data in archive.extra_files.items()},
    }


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _text(report):
    lines = [f"{report['path']}: {report['kind']} {report['name']}",
             f"  archive: format version {report['format_version']}, written by {report['producer']}, "
             f"{_size(report['file_bytes'])}"]
    for key in ("parameters", "buffers"):
        t = report[key]
        lines.append(f"  {key}: {t['count']:,} values in {t['tensors']} tensors ({_size(t['bytes'])})")
    if report["submodules"]:
        lines.append(f"  submodules: {len(report['submodules'])}")
    lines.append("  extra files: " + (", ".join(f"{name} ({_size(n)})" for name, n in report["extra_files"].items())
                                      or "none"))
    for method in report["methods"]:
        lines.append("")
        lines.append(f"def {method['signature']}")
        width = max((len(kind) for kind in method["ops"]), default=0)
        count = sum(method["ops"].values())
        lines.append(f"  {count} node{'' if count == 1 else 's'} (submodule calls inlined; "
                     "constants and attribute reads not counted):")
        lines += [f"    {kind:<{width}}  {count}" for kind, count in method["ops"].items()]
    return "\n".join(lines)


def run(args):
    archive = open_archive(args.model)
    report = describe(archive)
    if args.json:
        methods = method_records(archive.model)
        for row in report["methods"]:
            if args.graph:
                row["graph"] = str(methods[row["name"]].graph)
            if args.code:
                row["code"] = graph_to_code(methods[row["name"]].graph, row["name"])
        print(json.dumps(report, indent=2))
        return 0
    print(_text(report))
    for name, method in method_records(archive.model).items():
        if args.graph:
            print(f"\n# graph of {name}\n{method.graph}")
        if args.code:
            print(f"\n# code of {name}\n{graph_to_code(method.graph, name)}")
    return 0
