"""asv: compile time — trace, script, lower to the runtime, freeze and optimise.

Timed on fresh objects every call (tracing and scripting cache nothing between calls).
``freeze`` and ``optimize_for_inference`` are skipped while this checkout lacks them.
"""

import jitcore

try:   # asv imports this file as benchmarks.bench_compile
    from .peers.models import make_case, rnn_loop
    from .peers.runtime import runtime_function
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.models import make_case, rnn_loop
    from peers.runtime import runtime_function


class Trace:
    """``jitcore.trace`` of whole models (includes one eager run of the model)."""

    params = [["mlp-b1", "cnn-b1", "encoder-b1"]]
    param_names = ["model"]

    def setup(self, model):
        self.case = make_case(model)

    def time_trace(self, model):
        jitcore.trace(self.case.model, self.case.inputs)


class Script:
    """``jitcore.script`` of the RNN loop, and its lowering to the runtime."""

    def setup(self):
        self.case = make_case("rnn-loop")

    def time_script(self):
        jitcore.script(rnn_loop)

    def time_script_and_lower(self):
        runtime_function(rnn_loop, *self.case.inputs)


class Optimize:
    """``jitcore.freeze`` and ``jitcore.optimize_for_inference`` of a traced model."""

    params = [["mlp-b1", "cnn-b1", "encoder-b1"]]
    param_names = ["model"]

    def setup(self, model):
        missing = [name for name in ("freeze", "optimize_for_inference")
                   if not hasattr(jitcore, name)]
        if missing:
            raise NotImplementedError(f"jitcore has no {', '.join(missing)} yet")
        case = make_case(model)
        self.traced = jitcore.trace(case.model, case.inputs)

    def time_freeze(self, model):
        jitcore.freeze(self.traced)

    def time_optimize_for_inference(self, model):
        jitcore.optimize_for_inference(self.traced)
