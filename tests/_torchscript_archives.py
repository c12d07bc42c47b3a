"""Fixture archives and zip surgery shared by the ``test_serialization_torchscript*`` modules.

The fixtures under ``tests/data/pt/`` are written by ``tests/data/pt/make_fixtures.py``
(torch's ``torch.jit.save``); their tensors are ramps, so ``ramp`` rebuilds the
expected values with NumPy alone.  ``replace_members`` re-zips an archive with
some members changed (the standard ``zipfile``, code deflated as torch does),
so a test can plant exactly one defect.
"""

import io
import pathlib
import zipfile

import numpy as np

FIXTURES = pathlib.Path(__file__).parent / "data" / "pt"


def fixture_bytes(name):
    return (FIXTURES / name).read_bytes()


def ramp(*shape, scale=8.0):
    """NumPy twin of make_fixtures.ramp (float64; cast as needed)."""
    count = int(np.prod(shape))
    return ((np.arange(count, dtype=np.float64) - count // 2) / scale).reshape(shape)


def members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def top_folder(data):
    return next(iter(members(data))).split("/")[0]


def replace_members(data, changes=None, drop=(), rename_folder=None):
    """``data`` re-zipped with ``changes`` (relative name -> bytes) applied and ``drop`` names removed."""
    changes = changes or {}
    old = members(data)
    folder = top_folder(data)
    relative = {name[len(folder) + 1:]: payload for name, payload in old.items()}
    relative.update(changes)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, payload in relative.items():
            if name in drop:
                continue
            method = zipfile.ZIP_DEFLATED if name.startswith("code/") else zipfile.ZIP_STORED
            archive.writestr(f"{rename_folder or folder}/{name}", payload, compress_type=method)
    return out.getvalue()


def member(data, relative):
    return members(data)[f"{top_folder(data)}/{relative}"]
