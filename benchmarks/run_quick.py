"""Run every asv benchmark of this folder once against the installed jitcore.

This is the quickest mode of the suite (CI runs it so benchmarks never rot):
each ``time_*``, ``peakmem_*``, ``mem_*`` and ``track_*`` method is called once
for every parameter combination, after its ``setup``.  It then runs
``asv check`` on the same files when asv is installed.  For real numbers use
``asv run`` (see docs/benchmarks.md).

Usage: ``python benchmarks/run_quick.py [name-filter]``
"""

import importlib.util
import inspect
import itertools
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
PREFIXES = ("time_", "peakmem_", "mem_", "track_")


def _param_sets(cls):
    params = getattr(cls, "params", None)
    if params is None:
        return [()]
    if params and not isinstance(params[0], (list, tuple)):
        params = [params]
    return list(itertools.product(*params))


def _run_class(cls, name_filter):
    ran = 0
    methods = [m for m in dir(cls) if m.startswith(PREFIXES) and name_filter in f"{cls.__name__}.{m}"]
    for args in _param_sets(cls) if methods else []:
        obj = cls()
        if hasattr(obj, "setup"):
            try:
                obj.setup(*args)
            except NotImplementedError:   # asv's way to skip a parameter combination
                continue
        for m in methods:
            start = time.perf_counter()
            getattr(obj, m)(*args)
            print(f"  {cls.__name__}.{m}{args}: {1e3 * (time.perf_counter() - start):.2f} ms")
            ran += 1
        if hasattr(obj, "teardown"):
            obj.teardown(*args)
    return ran


def main(argv):
    name_filter = argv[1] if len(argv) > 1 else ""
    sys.path.insert(0, str(HERE))
    total = 0
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(path.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            # asv skips private names (shared base classes), and so do we
            if cls.__module__ == module.__name__ and not cls.__name__.startswith("_"):
                total += _run_class(cls, name_filter)
    print(f"{total} benchmarks ran once")
    if total == 0:
        raise SystemExit("no benchmark ran: the suite is empty or the filter matched nothing")
    if importlib.util.find_spec("asv") is not None and not name_filter:
        # asv of this interpreter, checking against this interpreter's jitcore
        subprocess.run([sys.executable, "-m", "asv", "check", "--config", str(HERE / "asv.conf.json"),
                        "-E", f"existing:{sys.executable}"], check=True, cwd=HERE)


if __name__ == "__main__":
    main(sys.argv)
