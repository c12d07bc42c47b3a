"""The tracer's per-thread state, kept at the bottom of the layers.

``jitcore.ops.dispatch`` sets ``state.tracer`` while a trace runs on a thread;
the runtime's call entry (``call_path.pyx``) reads it to route a compiled
module's call through the tracer.  Both import it from here, so the runtime
never imports the op layer above it.
"""

import threading

__all__ = ["state"]

state = threading.local()
