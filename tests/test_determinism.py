"""Same bits at every thread count, guard mode, call and caller, on every OpenBLAS
core type (docs/threading.md, "Determinism").

OpenBLAS reads ``OPENBLAS_CORETYPE`` once, when it loads, so each core type runs
``_determinism_probe.py`` in a subprocess of its own; the probe compares every
BLAS-backed op and a few whole models (traced, scripted, optimised, loaded) with
their serial 1-thread result, bit for bit.  Some machines of ours set
``OPENBLAS_CORETYPE=Haswell``; products split by thread count once gave other
bits there (and under ``Zen``) than on the default kernel.
"""

import json
import os
import subprocess
import sys

import pytest

PROBE = os.path.join(os.path.dirname(__file__), "_determinism_probe.py")

# The instruction sets each forced core type needs; forcing a kernel the CPU
# cannot run would end the probe with SIGILL instead of an answer.
CORETYPE_FLAGS = {
    None: (),
    "Haswell": ("avx2", "fma"),
    "Zen": ("avx2", "fma"),
    "SkylakeX": ("avx512f", "avx512dq", "avx512bw", "avx512vl"),
}

CORETYPE_NAMES = {"Zen": {"zen", "haswell"}}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


@pytest.mark.slow
@pytest.mark.parametrize("coretype", list(CORETYPE_FLAGS), ids=lambda c: c or "unset")
def test_every_blas_op_and_model_gives_the_serial_bits(coretype):
    flags = cpu_flags()
    if flags is None and coretype is not None:
        pytest.skip("cannot read the CPU's flags to know which core types it runs")
    missing = [f for f in CORETYPE_FLAGS[coretype] if flags is not None and f not in flags]
    if missing:
        pytest.skip(f"this CPU lacks {', '.join(missing)} for OPENBLAS_CORETYPE={coretype}")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    done = subprocess.run([sys.executable, PROBE], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if coretype is not None and report["coretype"] is not None:
        # the variable reached the BLAS the kernels call (OpenBLAS names its
        # Zen core type after the Haswell kernels it shares)
        assert report["coretype"].lower() in CORETYPE_NAMES.get(coretype, {coretype.lower()})
    assert len(report["checked"]) >= 25, report["checked"]
    assert report["problems"] == []
