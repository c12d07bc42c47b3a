"""``jitcore convert IN OUT``: a TorchScript archive (``.pt``) into a jitcore one (``.jc``).

IN is read without PyTorch and without executing anything from it (its pickles
by a restricted reader, its code compiled by jitcore's TorchScript frontend:
docs/migrating-from-torchscript.md); OUT gets the same module tree, weights,
methods and ``extra/`` files.  An archive jitcore cannot read or compile is
reported on one line naming the entry, or the op and the archive's code line.
"""

import os

from jitcore.cli.common import CommandError, add_subcommand, one_line
from jitcore.errors import CompileError, FormatError, SaveError
from jitcore.serialization.save import save
from jitcore.serialization.source import archive_buffer
from jitcore.serialization.torchscript import is_torchscript_archive, load_torchscript, read_torchscript_archive

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "convert", "convert a TorchScript archive (.pt) to a jitcore archive (.jc)",
                            __doc__)
    parser.add_argument("source", metavar="IN", help="a TorchScript archive written by torch.jit.save")
    parser.add_argument("target", metavar="OUT", help="the jitcore archive to write (.jc)")
    parser.set_defaults(run=run)
    return parser


def run(args):
    source, target = str(args.source), str(args.target)
    if not os.path.isfile(source):
        raise CommandError(f"{source}: no such file")
    try:
        buffer = archive_buffer(source)
        if not is_torchscript_archive(buffer):
            raise CommandError(f"{source}: not a TorchScript archive (a zip with <folder>/data.pkl and code/)")
        extra = dict.fromkeys(read_torchscript_archive(buffer).extra_files)
        model = load_torchscript(buffer, extra)
        save(model, target, extra_files=extra)
    except FormatError as error:
        raise CommandError(f"{source}: not a valid TorchScript archive: {one_line(error)}") from None
    except CompileError as error:
        raise CommandError(f"{source}: cannot be compiled: {_compile_message(error)}") from None
    except SaveError as error:
        raise CommandError(f"{target}: cannot be written: {one_line(error)}") from None
    except OSError as error:
        raise CommandError(f"{error.filename or source}: {error.strerror or one_line(error)}") from None
    print(f"wrote {target}")
    return 0


def _compile_message(error):
    """The error's first line and where in the archive's code it is (``File "...", line N``)."""
    lines = str(error).strip().splitlines()
    where = next((line.strip() for line in lines[1:] if line.strip().startswith("File ")), "")
    return f"{lines[0]} ({where})" if where else (lines[0] if lines else type(error).__name__)
