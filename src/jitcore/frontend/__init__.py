"""Frontends: turn Python into IR graphs (``trace`` here; ``script`` in ``frontend/script``)."""

from jitcore.frontend.tracing import trace, trace_module

__all__ = ["trace", "trace_module"]
