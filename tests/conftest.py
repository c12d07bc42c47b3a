"""Known failures of work still in progress, marked in ONE place so they stay visible.

Each entry is a test that fails on main today, with the reason; the closing note
of the session that added it names them too.  Remove an entry as soon as its
test passes (the marks are non-strict only so that a fix lands without also
having to edit this file).
"""

import pytest

KNOWN_FAILURES = {
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = KNOWN_FAILURES.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
