from os import PathLike
from types import TracebackType
from typing import Any, Literal

CALL_EVENT: str

class ProfilerEvent:
    name: str
    start_us: float
    end_us: float
    thread: int
    depth: int
    input_shapes: tuple[Any, ...]
    self_us: float
    call: tuple[int, str | None] | None
    @property
    def duration_us(self) -> float: ...

class profile:
    events: list[ProfilerEvent]
    dropped: int
    thread_names: dict[int, str]
    def __init__(self) -> None: ...
    def __enter__(self) -> profile: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]: ...
    def key_averages(self, group_by_input_shape: bool = ...) -> list[dict[str, Any]]: ...
    def table(self, sort_by: str = ..., row_limit: int | None = ..., group_by_input_shape: bool = ...) -> str: ...
    def lanes(self) -> dict[int, tuple[int, str]]: ...
    def chrome_trace(self) -> dict[str, Any]: ...
    def export_chrome_trace(self, path: str | PathLike[str]) -> str: ...
