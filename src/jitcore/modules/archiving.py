"""``save`` and pickling of compiled models, which the archive layer above provides.

The archive format (:mod:`jitcore.serialization`) reads and writes ScriptModule and
ScriptFunction, so it sits above them and they cannot import it.  It registers its
writer here when it is imported (``import jitcore`` imports it); ``m.save(f)`` and
``pickle.dumps(m)`` then reach it through this table.
"""

__all__ = ["Archivable", "register_archive_format"]

_FORMAT = {}


def register_archive_format(save, reduce):
    """Make ``save(obj, f, extra_files)`` and ``reduce(obj)`` what compiled models save and pickle with.

    ``reduce(obj)`` returns ``obj.__reduce__()``: a callable and its arguments that
    rebuild ``obj``, from archive bytes, when unpickled.
    """
    _FORMAT["save"] = save
    _FORMAT["reduce"] = reduce


def _archive_function(name):
    try:
        return _FORMAT[name]
    except KeyError:
        raise RuntimeError("no archive format is registered: import jitcore.serialization "
                           "(import jitcore does) to save or pickle compiled models") from None


class Archivable:
    """``save`` and pickling for compiled modules and functions: both go through the archive."""

    def save(self, f, extra_files=None):
        """Save to ``f`` (a path or a binary file object); see ``jitcore.save``."""
        _archive_function("save")(self, f, extra_files)

    def __reduce__(self):
        # Pickles as the archive's bytes, so it travels to multiprocessing/Dask/Ray workers
        # and unpickling runs the safe loader, never arbitrary code.
        return _archive_function("reduce")(self)
