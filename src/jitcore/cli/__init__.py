"""The ``jitcore`` command: ``inspect``, ``check``, ``bench``, ``draw`` and ``convert``.

One module per subcommand; each has ``add_parser(subparsers)``, which declares its
arguments, and ``run(args)``, which returns the exit status.  Errors a user can act
on (a missing or corrupt archive, a bad ``--input``) print one line on stderr and
exit with status 1; argparse's usage errors exit with status 2.
"""

import argparse
import sys

from jitcore.cli import bench, check, convert, draw, inspect
from jitcore.cli.common import CommandError, one_line

__all__ = ["main", "build_parser"]

_COMMANDS = (inspect, check, bench, draw, convert)


def build_parser():
    """The ``argparse`` parser of the ``jitcore`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="jitcore",
        description="Inspect, check, benchmark and draw jitcore archives (.jc).",
        epilog="Run 'jitcore COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"jitcore {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.add_parser(subparsers)
    return parser


def _version():
    from jitcore.build_info import show_config
    return show_config(mode="dicts")["build"]["jitcore"]


def main(argv=None):
    """Run the ``jitcore`` command with ``argv`` (``sys.argv[1:]`` by default).

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        The exit status: 0 on success, 1 when the command failed (the reason
        is printed on one line), 2 for a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CommandError as error:
        print(f"jitcore {args.command}: error: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        print(f"jitcore {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # ``jitcore inspect m.jc --json | head``: the reader left; nothing to report
        sys.stderr.close()
        return 1
    except Exception as error:  # noqa: BLE001  (a command line shows no tracebacks)
        print(f"jitcore {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 1
