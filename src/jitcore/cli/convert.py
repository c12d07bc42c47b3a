"""``jitcore convert IN OUT``: a TorchScript archive (``.pt``) into a jitcore one (``.jc``).

Reading TorchScript archives is not part of jitcore yet (it is its own issue); until
it is, the command says so and exits with status 2.
"""

import sys

from jitcore.cli.common import add_subcommand

__all__ = ["add_parser", "run", "NOT_AVAILABLE"]

NOT_AVAILABLE = 2

_MESSAGE = ("reading TorchScript archives (.pt) is not available in this jitcore yet; "
            "to make a .jc today, rebuild the model with jitcore.nn (a torch state_dict converted to "
            "ndarrays loads with load_state_dict(strict=True)), then jitcore.trace or jitcore.script "
            "it and jitcore.save it")


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "convert", "convert a TorchScript archive (.pt) to a jitcore archive "
                            "(.jc) (not available yet)", __doc__)
    parser.add_argument("source", metavar="IN", help="a TorchScript archive written by torch.jit.save")
    parser.add_argument("target", metavar="OUT", help="the jitcore archive to write (.jc)")
    parser.set_defaults(run=run)
    return parser


def run(args):
    print(f"jitcore convert: {_MESSAGE}", file=sys.stderr)
    return NOT_AVAILABLE
