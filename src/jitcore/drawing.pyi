from os import PathLike

from jitcore.ir import Graph
from jitcore.modules import ScriptFunction, ScriptModule

FORMATS: tuple[str, ...]

def model_to_dot(model: ScriptModule | ScriptFunction | Graph, *, method: str = ...,
                 expand_fused: bool = ...) -> str: ...
def draw(model: ScriptModule | ScriptFunction | Graph, path: str | PathLike[str], *, method: str = ...,
         expand_fused: bool = ...) -> str: ...
