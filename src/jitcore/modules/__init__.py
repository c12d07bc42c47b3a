"""The compiled-model layer: ``ScriptModule``, ``ScriptFunction`` and their ``Method`` records.

What ``trace`` and ``script`` build, ``save``/``load`` write and read, and a call runs
(through :mod:`jitcore.executor`).  This layer imports neither the frontends nor the
archive format: they import it.
"""

from .archiving import register_archive_format
from .class_types import class_type_of
from .method import Method, bind_arguments, call_signature, execute_graph
from .script_function import ScriptFunction
from .script_module import ScriptModule

__all__ = ["ScriptFunction", "ScriptModule", "Method", "execute_graph", "call_signature",
           "bind_arguments", "class_type_of", "register_archive_format"]
