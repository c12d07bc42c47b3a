"""Where the numbers were taken: CPU, cores, load, library versions, commit, date."""

import datetime
import importlib.metadata
import os
import pathlib
import platform
import subprocess

__all__ = ["machine_info", "machine_line"]

_PACKAGES = ("jitcore", "numpy", "scipy", "threadpoolctl", "torch", "onnxruntime", "onnx")
_REPO = pathlib.Path(__file__).resolve().parents[2]


def _cpuinfo():
    """CPU model name, family and physical core count from /proc/cpuinfo (Linux), else guesses."""
    model, family, cores = platform.processor() or platform.machine(), None, set()
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, family, None
    physical_id = "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model name":
            model = value
        elif key == "cpu family":
            family = value
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            cores.add((physical_id, value))
    return model, family, (len(cores) or None)


def _isa():
    """The instruction set jitcore's kernels run at here (``jc_isa()``; JITCORE_ISA may force it)."""
    try:
        from jitcore._runtime import cpu
    except ImportError:
        return None
    return cpu.isa()


def _versions():
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _blas():
    try:
        import threadpoolctl
        import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS too)
    except ImportError:
        return []
    return [f"{p.get('internal_api')} {p.get('version')} ({p.get('prefix')}, "
            f"{p.get('num_threads')} thread{'' if p.get('num_threads') == 1 else 's'})"
            for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas"]


def _commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_REPO,
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=_REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+uncommitted changes" if dirty.stdout.strip() else "")


def _load_average():
    """The 1, 5 and 15 minute load averages (a busy machine makes slower, noisier numbers)."""
    if not hasattr(os, "getloadavg"):
        return None
    return [round(x, 2) for x in os.getloadavg()]


def machine_info():
    """A JSON-able description of the machine and software the benchmark runs on."""
    model, family, physical = _cpuinfo()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": model,
        "cpu_family": family,
        "isa": _isa(),
        "physical_cores": physical,
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "os": f"{platform.system()} {platform.release()}",
        "load_average": _load_average(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": _versions(),
        "blas": _blas(),
        "commit": _commit(),
    }


def machine_line(info):
    """One line for a table caption: CPU, cores, load, date, commit."""
    cores = f"{info['physical_cores']} physical / {info['logical_cores']} logical cores"
    load = info.get("load_average")
    load_text = f", load average {load[0]:.2f} at start" if load else ""
    commit = f", jitcore commit {info['commit']}" if info.get("commit") else ""
    family = f" (family {info['cpu_family']})" if info.get("cpu_family") else ""
    isa = f", jitcore kernels at {info['isa']}" if info.get("isa") else ""
    return (f"{info['cpu']}{family}, {cores}{isa}, {info['os']}{load_text}, {info['date']}"
            f"{commit}")
