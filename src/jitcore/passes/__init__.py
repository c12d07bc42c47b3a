"""Graph optimisation passes, one per module, and the pipeline that orders them.

Every pass is ``pass(graph, ...) -> bool``: it edits ``graph`` in place, keeps
``graph.lint()`` green and the graph's outputs unchanged, and returns whether
it changed anything.  ``pipeline.run(graph, level)`` runs them to a fixed
point; ``specialize(graph, inputs)`` is what ``graph_for`` shows.
"""

from . import pipeline
from .batch_loop_matmul import batch_loop_matmul
from .constant_propagation import propagate_constants
from .cse import eliminate_common_subexpressions
from .dead_code import eliminate_dead_code
from .fold_batch_norm import fold_batch_norm
from .fuse_elementwise import fuse_elementwise
from .fuse_conv_pool import fuse_conv_pool
from .fuse_epilogues import fuse_epilogues
from .hoist_loop_invariants import hoist_loop_invariants
from .inline import inline, inline_calls
from .output_aliasing import copy_aliased_outputs, fresh_outputs
from .pack_nchwc_weights import pack_nchwc_weights
from .pack_winograd_weights import pack_winograd_weights
from .peephole import peephole
from .shape_propagation import propagate_shapes
from .specialize import specialize
from .unroll_loops import unroll_loops

__all__ = [
    "inline", "inline_calls", "eliminate_dead_code", "propagate_constants", "unroll_loops",
    "eliminate_common_subexpressions", "peephole", "propagate_shapes", "fold_batch_norm",
    "fuse_epilogues", "fuse_elementwise", "specialize", "pipeline", "batch_loop_matmul",
    "hoist_loop_invariants", "fuse_conv_pool", "fresh_outputs", "copy_aliased_outputs",
    "pack_winograd_weights", "pack_nchwc_weights",
]
