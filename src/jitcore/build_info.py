"""What this jitcore build is and what it runs on here: :func:`show_config`."""

import platform
import sys

import numpy as np

from jitcore import threads
from jitcore._runtime import cpu, openmp_helpers

__all__ = ["show_config"]


def _version():
    try:
        from importlib.metadata import version
        return version("jitcore")
    except Exception:   # an uninstalled source tree
        return "unknown"


def _pools(info, user_api):
    """The ``user_api`` entries (``blas``, ``openmp``) of ``threads.threading_info()``, in a short form."""
    return [{key: pool.get(key) for key in ("internal_api", "prefix", "version", "num_threads", "filepath")}
            for pool in info if pool.get("user_api") == user_api]


def _config():
    info = threads.threading_info()
    own = info[0]
    return {
        "build": {
            "jitcore": _version(),
            **cpu.compiled_with(),
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "openmp": bool(own["openmp_enabled"]),
        },
        "cpu": {
            "machine": platform.machine(),
            "isa_of_cpu": cpu.cpu_isa(),
            "isa": cpu.isa(),
            "why": cpu.isa_reason(),
            "JITCORE_ISA": cpu.requested_isa(),
        },
        "kernels": cpu.kernel_families(),
        "threads": {
            "num_threads": own["num_threads"],
            "wait_policy": own["wait_policy"],
            "kernels_blas": own["kernels_blas"],
            "kernels_blas_threads": own["kernels_blas_threads"],
            "openmp": _pools(info, "openmp"),
            "blas": _pools(info, "blas"),
        },
    }


def _report(config):
    lines = []
    for section in ("build", "cpu"):
        lines.append(f"{section}:")
        lines += [f"  {key}: {value}" for key, value in config[section].items()]
    lines.append(f"kernels (at {config['cpu']['isa']}):")
    for family in config["kernels"]:
        lines.append(f"  {family['family']}")
        lines.append(f"    levels with code: {', '.join(family['levels'])}; runs: {family['runs']}")
    lines.append("threads:")
    for key, value in config["threads"].items():
        if key not in ("blas", "openmp"):
            lines.append(f"  {key}: {value}")
    for pool in config["threads"]["openmp"]:
        lines.append(f"  openmp: {pool['prefix']} {pool['version'] or ''}".rstrip()
                     + f", {pool['num_threads']} threads, {pool['filepath']}")
    for pool in config["threads"]["blas"]:
        lines.append(f"  blas: {pool['internal_api']} {pool['version']}, "
                     f"{pool['num_threads']} threads, {pool['filepath']}")
    return "\n".join(lines)


def show_config(mode="stdout"):
    """Show how jitcore was built and what its kernels run on this machine.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, optional
        ``"stdout"`` (the default) prints a report; ``"dicts"`` returns it.

    Returns
    -------
    dict or None
        With ``mode="dicts"``: ``build`` (jitcore, compiler, Cython, NumPy and
        Python versions, whether OpenMP is compiled in), ``cpu`` (the CPU's
        instruction-set level, the level the kernels use and why, the
        ``JITCORE_ISA`` value read), ``kernels`` (per kernel family: the
        levels it has code for and what runs at the chosen level) and
        ``threads`` (intra-op threads, the BLAS the kernels call, and the
        OpenMP and BLAS libraries threadpoolctl finds loaded, with their
        thread counts).  None with ``mode="stdout"``.

    Notes
    -----
    The level is the highest of ``baseline``, ``avx2`` (x86-64-v3) and
    ``avx512`` (x86-64-v4) that the CPU runs, capped by the environment
    variable ``JITCORE_ISA`` (docs/kernels.md, "CPU features and JITCORE_ISA").

    Examples
    --------
    >>> import jitcore
    >>> jitcore.show_config(mode="dicts")["cpu"]["isa"] in ("baseline", "avx2", "avx512")
    True
    """
    config = _config()
    if mode == "dicts":
        return config
    if mode != "stdout":
        raise ValueError(f"mode must be 'stdout' or 'dicts', not {mode!r}")
    print(_report(config))
    return None
