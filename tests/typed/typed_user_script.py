"""A typed user script (tests/test_typing.py runs mypy --strict on it, then runs it)."""
import warnings

import numpy as np
import numpy.typing as npt

import jitcore
from jitcore import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Linear(4, 2)

    def forward(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        y: npt.NDArray[np.float32] = nn.functional.relu(self.layer1(x))
        return y


def fun(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return x + 3


def main(path: str) -> float:
    nn.init.manual_seed(0)
    x = np.ones((1, 4), np.float32)
    traced: jitcore.ScriptModule = jitcore.trace(Net().eval(), (x,))
    scripted: jitcore.ScriptFunction = jitcore.script(fun)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jitcore.TracerWarning)
        also: jitcore.ScriptFunction = jitcore.trace(fun, (x,))
    graph: jitcore.ir.Graph = traced.graph
    kinds = [node.kind for node in graph.walk()]
    text: str = traced.code + str(graph) + graph.to_dot() + scripted.code + str(also.graph_for(x))
    fast = jitcore.optimize_for_inference(traced)
    jitcore.save(fast, path, extra_files={"notes": b"typed"})
    loaded = jitcore.load(path)
    if isinstance(loaded, jitcore.ScriptModule):
        names = [name for name, _ in loaded.named_parameters()]
        assert names or kinds
    jitcore.set_num_threads(jitcore.get_num_threads())
    with jitcore.profile() as prof:
        out = np.asarray(loaded(x))
    table: str = prof.table(sort_by="total", row_limit=5)
    prof.export_chrome_trace(path + ".trace.json")
    jitcore.draw(traced, path + ".dot")
    config = jitcore.show_config(mode="dicts")
    assert "build" in config and table and text
    try:
        jitcore.load(path + ".dot")
    except jitcore.FormatError as error:
        print(error)
    return float(out.sum())


if __name__ == "__main__":
    print(main("typed_model.jc"))
