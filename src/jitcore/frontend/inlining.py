"""Inlining moved to :mod:`jitcore.passes.inline`; this name stays for the frontend's importers."""

from jitcore.passes.inline import inline_calls  # noqa: F401

__all__ = ["inline_calls"]
