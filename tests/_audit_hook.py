"""Run code in a fresh Python process under an audit hook: the "loading executes nothing" tests.

The ``.jc`` loader, the ``.pt`` reader and ``jitcore.load`` of a ``.pt`` file are each
checked the same way: ``setup`` runs first (jitcore's own lazy imports happen there), then
a hook that records every forbidden audit event is installed, then ``body`` runs.
"""

import ast
import subprocess
import sys
import textwrap

__all__ = ["FORBIDDEN_EVENTS", "run_audited"]

#: Audit events that would mean an archive made Python run, import or unpickle something.
FORBIDDEN_EVENTS = ("exec", "compile", "import", "pickle.find_class", "marshal.load", "marshal.loads",
                    "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn",
                    "ctypes.dlopen", "code.__new__", "builtins.input")

_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
{setup}
forbidden, parse_allowed = {forbidden!r}, {parse_allowed!r}
seen, parsed = [], []
def hook(event, args):
    if event == "compile" and parse_allowed:
        parsed.append(args[1])     # ast.parse: source text to an AST, never bytecode (checked by the caller)
    elif event in forbidden:
        seen.append(event + " " + repr(args)[:120])
sys.addaudithook(hook)   # cannot be removed: this process exists only for this check
{body}
print("PARSED:", repr(sorted(set(parsed))))
print("EVENTS:", repr(seen))
"""


def run_audited(setup, body, args, *, parse_allowed=False, timeout=600):
    """Run ``setup``, install the hook, run ``body`` with ``sys.argv[1:] == args``.

    Parameters
    ----------
    setup, body : str
        Python source (dedented here).
    args : list of str
    parse_allowed : bool
        Record ``compile`` events (``ast.parse`` of an archive's code) by file name instead
        of counting them as forbidden.

    Returns
    -------
    (list of str, list of str, list of str)
        The lines ``body`` printed, the forbidden events seen, the names ``compile`` saw.
    """
    script = _SCRIPT.format(setup=textwrap.dedent(setup), body=textwrap.dedent(body),
                            forbidden=set(FORBIDDEN_EVENTS), parse_allowed=parse_allowed)
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr
    *printed, parsed, events = result.stdout.strip().splitlines()
    assert parsed.startswith("PARSED: ") and events.startswith("EVENTS: "), result.stdout
    return printed, ast.literal_eval(events[len("EVENTS: "):]), ast.literal_eval(parsed[len("PARSED: "):])
