"""Named marker values of the op registry (``NO_DEFAULT``, ``UNKNOWN``)."""

__all__ = ["Sentinel"]

_BY_NAME = {}


def _named(name):
    return _BY_NAME[name]


class Sentinel:
    """A unique marker compared with ``is``: prints as its name and pickles to itself.

    Parameters
    ----------
    name : str
        What it prints as; unique among markers (unpickling looks it up).
    truth_value : bool, optional
        The marker's ``bool()``; when omitted, ``bool()`` raises, so that a
        marker standing for "no value" is never mistaken for a falsy value.
    """

    __slots__ = ("_name", "_truth_value")

    def __init__(self, name, truth_value=None):
        if name in _BY_NAME:
            raise ValueError(f"a marker named {name} exists already")
        self._name = name
        self._truth_value = truth_value
        _BY_NAME[name] = self

    def __repr__(self):
        return self._name

    def __bool__(self):
        if self._truth_value is None:
            raise TypeError(f"{self._name} has no truth value; compare it with `is`")
        return self._truth_value

    def __reduce__(self):
        return (_named, (self._name,))
