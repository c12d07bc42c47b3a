"""The TorchScript compiler slot (jitcore.torchscript_compiler) and its use by ``load``."""


import pytest

import jitcore
from jitcore import torchscript_compiler
from jitcore.errors import FormatError
from jitcore.serialization.torchscript import load_torchscript


@pytest.fixture
def restore_compiler():
    saved = torchscript_compiler.registered_compiler()
    yield
    torchscript_compiler.register_compiler(saved)


def test_import_jitcore_registers_the_frontend_compiler():
    assert torchscript_compiler.registered_compiler() is jitcore._compile_torchscript


def test_load_uses_the_registered_compiler(restore_compiler, monkeypatch):
    seen = []
    torchscript_compiler.register_compiler(lambda archive: seen.append(archive) or "compiled")
    monkeypatch.setattr("jitcore.serialization.torchscript.read_torchscript_archive", lambda buffer: "archive")
    assert load_torchscript(b"ignored") == "compiled"
    assert seen == ["archive"]


def test_without_a_compiler_load_says_what_is_missing(restore_compiler, monkeypatch):
    torchscript_compiler._compiler.clear()
    monkeypatch.setattr("jitcore.serialization.torchscript.read_torchscript_archive", lambda buffer: "archive")
    with pytest.raises(FormatError, match="TorchScript frontend"):
        load_torchscript(b"ignored")
