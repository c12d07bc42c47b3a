# jitcore.nn.functional: every function takes and returns ndarrays (typed Any here).
from typing import Any

def __getattr__(name: str) -> Any: ...
