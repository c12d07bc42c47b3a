"""Where in the user's code a traced operation happens: source ranges and located warnings.

The tracer runs inside NumPy and jitcore frames; the location worth reporting is the
innermost frame that belongs to neither (the user's ``x + 3`` line), as TorchScript's
``# file.py:3:0`` comments and TracerWarnings show it.
"""

import os
import sys
import warnings

import numpy as np

from jitcore._runtime.ir import SourceRange

__all__ = ["user_frame", "user_source_range", "warn_at_user_code"]

_JITCORE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
# Frames of the jitcore package other than its layers are machinery; the layers
# (jitcore/nn/layers) are "user" code from the point of view of a source range.
_USER_CODE_INSIDE_JITCORE = (os.path.join(_JITCORE_DIR, "nn", "layers") + os.sep,)


def _is_machinery(filename):
    path = os.path.abspath(filename)
    if path.startswith(_USER_CODE_INSIDE_JITCORE):
        return False
    return (path.startswith(_JITCORE_DIR + os.sep) or path.startswith(_NUMPY_DIR + os.sep)
            or filename.startswith("<frozen "))


def user_frame(skip_layers=False):
    """The innermost frame outside jitcore's machinery and NumPy, or None.

    Parameters
    ----------
    skip_layers : bool, default False
        Also skip frames in ``jitcore.nn`` layers, for warnings addressed to the author of
        the model rather than of the layer.
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside_layers = os.path.abspath(filename).startswith(_USER_CODE_INSIDE_JITCORE)
        if not _is_machinery(filename) and not (skip_layers and inside_layers):
            return frame
        frame = frame.f_back
    return None


def _column(frame):
    """The 0-based column of the instruction a frame is executing (Python >= 3.11)."""
    try:
        positions = list(frame.f_code.co_positions())
        _, _, col, _ = positions[frame.f_lasti // 2]
        return col or 0
    except (AttributeError, IndexError):
        return 0


def user_source_range():
    """A :class:`SourceRange` for the user's line that is executing, or None."""
    frame = user_frame()
    if frame is None:
        return None
    return SourceRange(frame.f_code.co_filename, frame.f_lineno, _column(frame))


def warn_at_user_code(message, category, skip_layers=True):
    """Issue a warning attributed to the user's file and line (not to jitcore's).

    Uses the user frame's module warning registry, so the usual ``once per location``
    filtering applies as for ``warnings.warn``.
    """
    frame = user_frame(skip_layers=skip_layers) or user_frame()
    if frame is None:
        warnings.warn(message, category, stacklevel=2)
        return
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=module_globals.get("__name__"), registry=registry,
                           module_globals=module_globals)
