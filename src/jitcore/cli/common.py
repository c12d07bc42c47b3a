"""What the subcommands share: opening an archive, the methods of a model, one-line errors."""

import argparse
import os
from dataclasses import dataclass, field

from jitcore.errors import FormatError
from jitcore.modules import ScriptFunction
from jitcore.serialization.limits import MANIFEST_NAME
from jitcore.serialization.load import load_from_buffer
from jitcore.serialization.manifest import decode_manifest
from jitcore.serialization.source import archive_buffer
from jitcore.serialization.zip_reader import entry_payload, read_zip_directory

__all__ = ["CommandError", "one_line", "Archive", "open_archive", "method_records", "choose_method",
           "callable_of", "add_subcommand", "add_model_argument", "add_method_argument"]


class CommandError(Exception):
    """A failure the command reports on one line, exiting with ``status``."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def one_line(error):
    """An exception as one line: its first line of text, or its type when it has none."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@dataclass
class Archive:
    """A loaded archive and what its manifest says about it.

    Attributes
    ----------
    path : str
    model : ScriptModule or ScriptFunction
    format_version : int
    producer : str
        The jitcore version that wrote it.
    extra_files : dict of str to bytes
        The user files stored as ``extra/<name>``.
    size_bytes : int
        The file's size.
    """

    path: str
    model: object
    format_version: int
    producer: str
    size_bytes: int
    extra_files: dict = field(default_factory=dict)


def open_archive(path):
    """Load the archive at ``path`` with everything ``jitcore.load`` checks.

    Raises
    ------
    CommandError
        On one line, for a missing or unreadable file and for a malformed
        archive (the ``FormatError``'s message names the entry and field).
    """
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CommandError(f"{path}: is a directory, not a jitcore archive")
    try:
        buffer = archive_buffer(path)
        entries = read_zip_directory(buffer)
        if MANIFEST_NAME not in entries:
            raise FormatError(f"{MANIFEST_NAME}: the archive has no manifest (is it a jitcore archive?)")
        manifest = decode_manifest(entry_payload(buffer, entries[MANIFEST_NAME]), entries)
        extra = {name[len("extra/"):]: None for name in entries if name.startswith("extra/")}
        model = load_from_buffer(buffer, extra)
    except FormatError as error:
        raise CommandError(f"{path}: not a valid jitcore archive: {one_line(error)}") from None
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror or one_line(error)}") from None
    return Archive(path, model, manifest.format_version, manifest.producer, buffer.nbytes, extra)


def method_records(model):
    """``{name: Method}`` of a loaded model's compiled methods (a function's one under its name)."""
    if isinstance(model, ScriptFunction):
        return {model.name: model.method}
    return {name: model._jit_method(name) for name in model.methods}


def choose_method(archive, requested=None):
    """``(name, Method)`` of the method a command runs: ``requested``, else ``forward``, else
    the only one (a function's).  CommandError naming the methods there are otherwise."""
    methods = method_records(archive.model)
    name = requested or ("forward" if "forward" in methods or len(methods) != 1 else next(iter(methods)))
    if name not in methods:
        raise CommandError(f"{archive.path} has no method {name!r} (methods: {', '.join(methods) or 'none'})")
    return name, methods[name]


def callable_of(model, name):
    """What to call to run method ``name``: the model itself for ``forward`` and for a function."""
    if name == "forward" or isinstance(model, ScriptFunction):
        return model
    return getattr(model, name)


def add_method_argument(parser, verb):
    parser.add_argument("--method", default=None, help=f"the method to {verb} (default: forward, or a "
                                                       "function's own)")


def add_subcommand(subparsers, name, summary, doc):
    """The parser of subcommand ``name``: ``summary`` in ``jitcore --help``, and as its own
    ``--help`` description its module docstring ``doc`` from after the ``jitcore NAME ...:`` heading."""
    text = doc.strip().partition(": ")[2].replace("``", "'")
    return subparsers.add_parser(name, help=summary, description=text[:1].upper() + text[1:],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def add_model_argument(parser):
    parser.add_argument("model", metavar="MODEL", help="a jitcore archive (.jc) written by jitcore.save")
