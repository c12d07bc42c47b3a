"""``@jitcore._overload_method`` / ``@jitcore._overload``: TorchScript's overload declarations.

Each call compiles the implementation with the declaration its arguments match
(``<name>__<i>``), so ``isinstance`` on a declared parameter is decided when compiling;
the eager Python call runs the implementation as written.
"""

import io
from typing import List, Tuple

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.frontend.script import ScriptCompileError

Tensor = np.ndarray


class _Joins(nn.Module):
    """torchvision's DenseNet-layer pattern: a tensor or a list of them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 2, 1)

    @jitcore._overload_method
    def forward(self, input: List[Tensor]) -> Tensor:
        pass

    @jitcore._overload_method
    def forward(self, input: Tensor) -> Tensor:
        pass

    def forward(self, input: Tensor) -> Tensor:
        if isinstance(input, Tensor):
            parts = [input]
        else:
            parts = input
        return self.conv(np.concatenate(parts, 1))


class _CallsBoth(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = _Joins()
        self.second = _Joins()

    def forward(self, x):
        y = self.first([x[:, :1], x[:, 1:]])
        return self.second(np.concatenate([y, y], 1))


@jitcore._overload
def _pair(x: int) -> Tuple[int, int]:
    pass


@jitcore._overload
def _pair(x: List[int]) -> Tuple[int, int]:
    pass


def _pair(x):
    if isinstance(x, int):
        return (x, x)
    return (x[0], x[1])


def _uses_pair(n: int) -> int:
    a = _pair(n)
    b = _pair([n, 2 * n])
    return a[0] * 100 + a[1] * 10 + b[0] + b[1]


def _pairs_a_float(x: float):
    return _pair(x)


def test_each_call_compiles_the_declaration_its_arguments_match():
    jitcore.manual_seed(0)
    model = _CallsBoth().eval()
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    scripted = jitcore.script(model)
    graph = str(scripted.graph)
    assert 'prim::CallMethod[name="forward__0"]' in graph      # the list declaration
    assert 'prim::CallMethod[name="forward__1"]' in graph      # the tensor declaration
    scripted.graph.lint()
    assert "forward__0" in scripted.code and "forward__1" in scripted.code
    expected = model(x)
    np.testing.assert_allclose(scripted(x), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jitcore.optimize_for_inference(scripted)(x), expected,
                               rtol=1e-5, atol=1e-6)
    buffer = io.BytesIO()
    jitcore.save(scripted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(jitcore.load(buffer)(x), scripted(x))


def test_a_module_scripted_alone_compiles_its_implementation_as_annotated():
    jitcore.manual_seed(0)
    layer = _Joins().eval()
    x = np.random.default_rng(1).standard_normal((1, 4, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(jitcore.script(layer)(x), layer(x), rtol=1e-6)
    np.testing.assert_allclose(layer([x[:, :3], x[:, 3:]]), layer(x), rtol=1e-6)


def test_overloaded_functions():
    scripted = jitcore.script(_uses_pair)
    for n in (0, 3, -7):
        assert scripted(n) == _uses_pair(n)
    assert "_pair__0(" in scripted.code and "_pair__1(" in scripted.code
    # the text scripts again: `_pair__0(n)` names the overload (this module's globals)
    import linecache
    text = scripted.code
    filename = "<rescripted _uses_pair>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = dict(globals())
    exec(compile(text, filename, "exec"), namespace)
    rescripted = jitcore.script(namespace["_uses_pair"])
    assert [rescripted(n) for n in (0, 3, -7)] == [_uses_pair(n) for n in (0, 3, -7)]


def test_no_matching_declaration_is_a_compile_error_at_the_call():
    with pytest.raises(ScriptCompileError) as info:
        jitcore.script(_pairs_a_float)
    message = str(info.value)
    assert "no overload of _pair takes (float)" in message
    assert "(int) or (List[int])" in message
    marker_line = next(line for line in message.splitlines() if "<--- HERE" in line)
    assert marker_line.count("~") == len("_pair(x)")


class _RenamesItsParameter(nn.Module):
    @jitcore._overload_method
    def forward(self, values: List[Tensor]) -> Tensor:
        pass

    def forward(self, input):
        return input[0]


class _CallsRenamed(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = _RenamesItsParameter()

    def forward(self, x):
        return self.inner([x])


def test_a_declaration_must_name_the_parameters_as_the_implementation():
    with pytest.raises(ScriptCompileError, match=r"names its parameters \['self', 'values'\]"):
        jitcore.script(_CallsRenamed())


_DECLARED_SOURCE = """
import jitcore
from typing import List

@jitcore._overload
def first(x: int) -> int:
    pass

@jitcore._overload
def first(x: List[int]) -> int:
    pass

def first(x):
    return x if isinstance(x, int) else x[0]
"""


def test_running_the_same_declarations_again_replaces_them():
    from jitcore.decorators import overload_declarations
    code = compile(_DECLARED_SOURCE, "<declared twice>", "exec")
    for _ in range(2):      # a reload runs the same source again
        namespace = {"__name__": "declared_twice"}
        exec(code, namespace)
    assert len(overload_declarations(namespace["first"])) == 2


def test_code_calls_overloads_by_their_compiled_names_and_rescripts():
    # `.code` prints `(self.first).forward__0(...)`: scripting that text again compiles the
    # same overloads
    import linecache
    jitcore.manual_seed(0)
    model = _CallsBoth().eval()
    x = np.random.default_rng(2).standard_normal((1, 4, 3, 3)).astype(np.float32)
    text = jitcore.script(model).code
    assert "forward__0(" in text and "forward__1(" in text
    filename = "<rescripted _CallsBoth>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = {"Tensor": np.ndarray, "np": np}
    exec(compile(text, filename, "exec"), namespace)
    rewritten = type("RescriptedCallsBoth", (_CallsBoth,), {"forward": namespace["forward"]})
    clone = rewritten.__new__(rewritten)
    clone.__dict__.update(model.__dict__)
    np.testing.assert_array_equal(jitcore.script(clone)(x), jitcore.script(model)(x))
