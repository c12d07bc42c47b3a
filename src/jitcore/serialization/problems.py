"""How a malformed archive is reported: one ``FormatError`` naming where and which field."""

from jitcore.errors import FormatError

__all__ = ["malformed"]


def malformed(where, field, detail):
    """A ``FormatError`` reading ``"<where>: field '<field>': <detail>"``.

    Parameters
    ----------
    where : str
        The entry (``'data/3'``, ``'jitcore/manifest.json'``) or zip record
        (``'zip end record'``) at fault.
    field : str
        The field inside it (``'local header offset'``, ``'tensors[2].shape'``).
    detail : str
        What was expected and what the archive holds.
    """
    return FormatError(f"{where}: field '{field}': {detail}")
