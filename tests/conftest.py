"""Shared test set-up: the fixtures several modules use, and known failures.

Known failures of work still in progress are marked in ONE place so they stay
visible.  Each entry is a test that fails on main today, with the reason; the
closing note of the session that added it names them too.  Remove an entry as
soon as its test passes (the marks are non-strict only so that a fix lands
without also having to edit this file).
"""

import pytest

KNOWN_FAILURES = {
}


@pytest.fixture
def two_threads():
    """Run the test with 2 intra-op threads; the count before is restored after."""
    from jitcore import threads
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = KNOWN_FAILURES.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
