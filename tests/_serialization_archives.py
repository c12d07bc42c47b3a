"""Models and archive surgery shared by the ``test_serialization_*`` modules.

``MODELS`` builds one compiled model of every kind the test suite knows
(traced functions and modules, scripted functions and modules, shared weights,
``None`` parameters, plain attributes, every dtype).  The surgery helpers read
archives with Python's ``zipfile`` (an independent zip reader) and re-pack
edited entries with valid checksums, so a test can plant exactly one defect.
"""

import hashlib
import io
import json
import struct
import zipfile

import numpy as np

from jitcore import nn
from jitcore.frontend.script import script
from jitcore.frontend.tracing import trace
from jitcore.serialization import save_to_bytes
from jitcore.serialization.zip_writer import ZipWriter

MANIFEST = "jitcore/manifest.json"
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


def _rng():
    return np.random.default_rng(1234)


# ------------------------------------------------------------------------------- models

def _scaled_tanh(x):
    return np.tanh(x) * 2.0


def _traced_function():
    table = np.arange(24, dtype=np.float32).reshape(4, 6) / 10   # > 16 elements: stored as @ref

    def shifted(a, b):
        return np.maximum(a * 2.0, b) + table
    x = _rng().standard_normal((4, 6)).astype(np.float32)
    return trace(shifted, (x, x + 1), check_trace=False), (x, x - 0.5)


class _Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3, bias=False)          # bias registered as None

    def forward(self, x):
        return self.fc2(np.tanh(self.fc1(x)))


def _traced_mlp():
    x = _rng().standard_normal((5, 4)).astype(np.float32)
    return trace(_Mlp(), x, check_trace=False), (x,)


def _traced_conv_net():
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 3))
    net.eval()
    x = _rng().standard_normal((2, 2, 5, 5)).astype(np.float32)
    return trace(net, x, check_trace=False), (x,)


class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)

    def forward(self, x):
        return self.b(self.a(x))


def _traced_tied():
    x = _rng().standard_normal((2, 3)).astype(np.float64)
    module = _Tied().double()
    module.b.weight = module.a.weight                   # one array, two parameters
    return trace(module, x, check_trace=False), (x,)


class _WithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.register_buffer("steps", np.array([3, 4], dtype=np.int64))
        self.register_buffer("mask", np.array([True, False, True]), persistent=False)
        self.register_buffer("counts", np.array([1, 2, 3], dtype=np.int32))
        self.register_buffer("empty", np.zeros((0, 4), dtype=np.float32))

    def forward(self, x):
        return self.lin(x * self.mask)


def _traced_with_attributes():
    x = _rng().standard_normal((2, 3)).astype(np.float32)
    traced = trace(_WithState(), x, check_trace=False)
    traced.scale = 0.1
    traced.limit = float("inf")
    traced.steps_done = 7
    traced.enabled = True
    traced.label = "naïve \"model\"\n"
    traced.eval()
    return traced, (x,)


def _scripted_function():
    def gated(x, n: int):
        y = x
        for _ in range(n):
            if float(y.sum()) > 0:
                y = _scaled_tanh(y)
            else:
                y = y - 1.0
        return y
    x = _rng().standard_normal((3, 3)).astype(np.float32)
    return script(gated), (x, 3)


class _Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        h = self.lin(x)
        if float(h.sum()) > 0:
            h = _scaled_tanh(h)
        else:
            h = h * 0.5
        return h


def _scripted_module():
    x = _rng().standard_normal((2, 3)).astype(np.float32)
    return script(_Gate()), (x,)


def _scripted_layers_reading_training():
    """Scripted layers whose forward branches on ``self.training`` (batch norm, dropout)."""
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5))
    model.eval()
    x = _rng().standard_normal((1, 2, 5, 5)).astype(np.float32)
    return script(model), (x,)


#: name -> factory returning (compiled model, call arguments)
MODELS = {
    "traced_function": _traced_function,
    "traced_mlp": _traced_mlp,
    "traced_conv_net": _traced_conv_net,
    "traced_tied_weights": _traced_tied,
    "traced_with_attributes": _traced_with_attributes,
    "scripted_function": _scripted_function,
    "scripted_module": _scripted_module,
    "scripted_layers_reading_training": _scripted_layers_reading_training,
}


def outputs(model, args):
    """The model's outputs as a tuple of ndarrays."""
    result = model(*args)
    return tuple(result) if isinstance(result, tuple) else (result,)


def small_archive():
    """The bytes of a small archive with code, two tensors and an extra file."""
    model, _ = _traced_mlp()
    return save_to_bytes(model, extra_files={"note.txt": "hello"})


# ------------------------------------------------------------------------------ surgery

def read_entries(data):
    """``[(name, bytes)]`` of an archive, in zip order, read with ``zipfile``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def entry_layout(data):
    """``{name: (local header offset, payload offset, size)}``, parsed with ``zipfile`` + ``struct``."""
    layout = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            fields = _LOCAL_HEADER.unpack_from(data, info.header_offset)
            payload = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
            layout[info.filename] = (info.header_offset, payload, info.file_size)
    return layout


def central_header_offsets(data):
    """``{name: offset of its central directory header}``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        position = archive.start_dir
    offsets = {}
    for info in infos:
        offsets[info.filename] = position
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_length + extra_length + comment_length
    return offsets


def manifest_of(data):
    """The decoded manifest of an archive."""
    return json.loads(dict(read_entries(data))[MANIFEST])


def repack(entries, manifest=None, fix_checksums=True):
    """Write ``entries`` (``[(name, bytes)]``) as a jitcore-style zip, ``data/`` aligned.

    ``manifest`` (a dict) replaces the manifest entry; with ``fix_checksums`` its
    ``entries`` rows get the real sizes and SHA-256 of the payloads, so the only
    defect is the one the test planted.
    """
    entries = list(entries)
    if manifest is not None:
        rows = manifest.get("entries") if isinstance(manifest, dict) else None
        if fix_checksums and isinstance(rows, list):       # fuzzed manifests may mangle the list
            payloads = dict(entries)
            for row in rows:
                if isinstance(row, dict) and isinstance(row.get("name"), str) and row["name"] in payloads:
                    row["size"] = len(payloads[row["name"]])
                    row["sha256"] = hashlib.sha256(payloads[row["name"]]).hexdigest()
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        entries = [(n, text if n == MANIFEST else b) for n, b in entries]
    stream = io.BytesIO()
    writer = ZipWriter(stream)
    for name, payload in entries:
        writer.add(name, payload, align=64 if name.startswith("data/") else 1)
    writer.finish()
    return stream.getvalue()


def with_manifest_edit(data, edit, fix_checksums=True):
    """``data`` re-packed after ``edit(manifest_dict)`` (checksums fixed unless told not to)."""
    manifest = manifest_of(data)
    edit(manifest)
    return repack(read_entries(data), manifest, fix_checksums)


def with_entry(data, name, payload, fix_checksums=True):
    """``data`` with entry ``name``'s payload replaced (added if missing)."""
    entries = read_entries(data)
    if name in dict(entries):
        entries = [(n, payload if n == name else b) for n, b in entries]
    else:
        entries.append((name, payload))
    manifest = manifest_of(data)
    if name not in {row["name"] for row in manifest["entries"]}:
        manifest["entries"].append({"name": name, "size": 0, "sha256": ""})
    return repack(entries, manifest, fix_checksums)


def patched(data, offset, fmt, value):
    """``data`` with ``struct`` format ``fmt`` written at ``offset``."""
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)
