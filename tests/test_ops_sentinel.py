"""The registry's marker values: identity, printing, pickling, truth."""
import pickle

import pytest

from jitcore.ops import NO_DEFAULT, UNKNOWN
from jitcore.ops.sentinel import Sentinel


def test_markers_print_as_their_names_and_pickle_to_themselves():
    for marker, name in ((NO_DEFAULT, "NO_DEFAULT"), (UNKNOWN, "UNKNOWN")):
        assert repr(marker) == name
        assert pickle.loads(pickle.dumps(marker)) is marker


def test_unknown_has_no_truth_value_but_no_default_is_true():
    with pytest.raises(TypeError, match="compare it with `is`"):
        bool(UNKNOWN)
    assert bool(NO_DEFAULT) is True


def test_marker_names_are_unique():
    with pytest.raises(ValueError, match="UNKNOWN exists already"):
        Sentinel("UNKNOWN")
