"""``jitcore draw MODEL -o graph.svg``: a picture of a method's graph (svg, png, pdf or dot).

Submodule calls, ``prim::If``/``prim::Loop`` blocks and fused nodes are clusters;
constants and parameters are folded into their users' labels.  ``--optimized``
draws the specialised, fused graph that calls on the ``--input`` shapes run.
Rendering svg/png/pdf needs the ``graphviz`` Python package and Graphviz's ``dot``
program; a ``.dot`` file needs neither.
"""

from jitcore.cli.common import (
    CommandError, add_method_argument, add_model_argument, add_subcommand, choose_method, open_archive,
)
from jitcore.cli.inputs import add_input_argument, make_inputs
from jitcore.drawing import FORMATS, draw
from jitcore.errors import JitcoreError
from jitcore.modules import ScriptModule

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "draw", "draw a method's graph to an svg, png, pdf or dot file", __doc__)
    add_model_argument(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help=f"the file to write; its suffix picks the format ({', '.join(FORMATS)})")
    add_method_argument(parser, "draw")
    parser.add_argument("--optimized", action="store_true",
                        help="draw the specialised, optimised graph calls on the --input shapes run")
    add_input_argument(parser)
    parser.add_argument("--collapse-fused", dest="expand_fused", action="store_false",
                        help="draw each fused node as one box instead of a cluster of its ops")
    parser.set_defaults(run=run)
    return parser


def run(args):
    archive = open_archive(args.model)
    model = archive.model
    name, method = choose_method(archive, args.method)
    target = model
    if args.optimized:
        if isinstance(model, ScriptModule) and name != "forward":
            raise CommandError("--optimized draws forward only")
        target = model.graph_for(*make_inputs(method, args.inputs))
    try:
        draw(target, args.output, method=name, expand_fused=args.expand_fused)
    except ValueError as error:
        raise CommandError(str(error), status=2) from None
    except JitcoreError as error:
        raise CommandError(str(error)) from None
    print(f"wrote {args.output}")
    return 0
