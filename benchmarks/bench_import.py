"""asv: how long ``import jitcore`` takes in a fresh interpreter (issue 20: <= 100 ms).

``timeraw_import_jitcore`` is asv's raw timing: asv runs the returned code in a new
interpreter each time, so nothing is cached in ``sys.modules``.  ``timeraw_import_numpy``
is the floor jitcore stands on (jitcore needs NumPy; everything else it imports on first
use: SciPy's BLAS on the first matrix product, the op registry and the frontends on the
first trace, script or load).

Script mode prints the median and best of fresh interpreters, NumPy alone beside it, and
the jitcore modules ``-X importtime`` lists, slowest first:
``python benchmarks/bench_import.py [--repeat 15]``.  In an editable (meson-python)
install each fresh interpreter first runs the build's up-to-date check (``ninja -n``, a
subprocess); the script does that check before it starts the clock, since an installed
jitcore has none.
"""

import argparse
import os
import statistics
import subprocess
import sys

# Runs before the clock in script mode: an editable install's rebuild check.
_SETTLE_EDITABLE = """
import sys
for finder in sys.meta_path:
    if "jitcore" in getattr(finder, "_top_level_modules", ()):
        finder._rebuild()
        break
"""

_TIMED = """
import time
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def timeraw_import_jitcore():
    return "import jitcore"


def timeraw_import_numpy():
    return "import numpy"


def _fresh_seconds(module):
    """Seconds ``import module`` takes in a new interpreter (after the editable check)."""
    code = _SETTLE_EDITABLE + _TIMED.format(module=module)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def _slowest_jitcore_modules(count):
    """(cumulative µs, module) of the jitcore modules ``-X importtime`` lists, slowest first."""
    code = _SETTLE_EDITABLE + "import numpy\nimport jitcore"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, check=True).stderr
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip().startswith("jitcore"):
            rows.append((int(parts[1]), parts[2].strip()))
    return sorted(rows, reverse=True)[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"fresh interpreters, {args.repeat} each; load average before: {os.getloadavg()[0]:.2f}")
    for module in ("numpy", "jitcore"):
        times = [_fresh_seconds(module) for _ in range(args.repeat)]
        print(f"import {module:8s} median {1e3 * statistics.median(times):6.1f} ms, "
              f"best {1e3 * min(times):6.1f} ms")
    print("jitcore modules after numpy (-X importtime, cumulative):")
    for micros, module in _slowest_jitcore_modules(8):
        print(f"  {micros / 1e3:6.1f} ms  {module}")
    loaded = subprocess.run([sys.executable, "-c", _SETTLE_EDITABLE + "import jitcore\nprint(*sorted("
                             "m for m in sys.modules if m.split('.')[0] in ('scipy', 'torch', 'dask', 'ray')))"],
                            capture_output=True, text=True, check=True).stdout.split()
    print(f"scipy/torch/dask/ray modules imported by `import jitcore`: {len(loaded)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
