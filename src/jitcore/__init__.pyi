# Type information for jitcore's public API (PEP 561).  The implementation is
# plain Python and Cython; these stubs describe what users call.
from os import PathLike
from typing import IO, Any, Callable, Literal, Mapping, Sequence, TypeVar, overload

from jitcore import errors as errors
from jitcore import ir as ir
from jitcore import nn as nn
from jitcore.drawing import draw as draw
from jitcore.language import annotate as annotate
from jitcore.language import is_scripting as is_scripting
from jitcore.language import is_tracing as is_tracing
from jitcore.language import Attribute as Attribute
from jitcore.language import Final as Final
from jitcore.errors import (
    CompileError as CompileError,
    FormatError as FormatError,
    IRParseError as IRParseError,
    JitcoreError as JitcoreError,
    KernelError as KernelError,
    LintError as LintError,
    SaveError as SaveError,
    SchemaError as SchemaError,
    SchemaMatchError as SchemaMatchError,
    ScriptRaisedError as ScriptRaisedError,
    TracerWarning as TracerWarning,
    TracingCheckError as TracingCheckError,
)
from jitcore.modules import ScriptFunction as ScriptFunction, ScriptModule as ScriptModule
from jitcore.nn.init import manual_seed as manual_seed
from jitcore.profiler import profile as profile

ops: Any

__version__: str

_F = TypeVar("_F", bound=Callable[..., Any])
_Path = str | PathLike[str]

@overload
def trace(func: nn.Module, example_inputs: Any, *, check_trace: bool = ..., check_inputs: Sequence[Any] | None = ...,
          check_tolerance: float = ..., strict: bool = ...) -> ScriptModule: ...
@overload
def trace(func: Callable[..., Any], example_inputs: Any, *, check_trace: bool = ...,
          check_inputs: Sequence[Any] | None = ..., check_tolerance: float = ...,
          strict: bool = ...) -> ScriptFunction: ...
def trace_module(mod: nn.Module, inputs: Mapping[str, Any], *, check_trace: bool = ...,
                 check_inputs: Sequence[Mapping[str, Any]] | None = ..., check_tolerance: float = ...,
                 strict: bool = ...) -> ScriptModule: ...
@overload
def script(obj: nn.Module) -> ScriptModule: ...  # type: ignore[overload-overlap]  # a Module is callable too
@overload
def script(obj: Callable[..., Any]) -> ScriptFunction: ...
def save(m: ScriptModule | ScriptFunction, f: _Path | IO[bytes],
         extra_files: Mapping[str, bytes | str] | None = ...) -> None: ...
def load(f: _Path | IO[bytes], extra_files: dict[str, Any] | None = ..., *,
         mmap: bool = ...) -> ScriptModule | ScriptFunction: ...
@overload
def freeze(module: ScriptModule) -> ScriptModule: ...
@overload
def freeze(module: ScriptFunction) -> ScriptFunction: ...
@overload
def optimize_for_inference(module: ScriptModule) -> ScriptModule: ...
@overload
def optimize_for_inference(module: ScriptFunction) -> ScriptFunction: ...
def export(fn: _F) -> _F: ...
def ignore(fn: _F) -> _F: ...
def unused(fn: _F) -> _F: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def threading_info() -> list[dict[str, Any]]: ...
@overload
def show_config(mode: Literal["stdout"] = ...) -> None: ...
@overload
def show_config(mode: Literal["dicts"]) -> dict[str, Any]: ...

__all__: list[str]
