"""C tensors at the Python boundary: zero-copy in and out, and the inputs that need care."""

import numpy as np
import pytest

from jitcore._runtime.tensor import contiguous_copy, round_trip


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_contiguous_input_round_trips_without_copy(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    out, copied = round_trip(a)
    assert not copied
    assert np.shares_memory(out, a)
    assert out.dtype == a.dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, a)


def test_strided_input_is_borrowed_with_its_strides():
    a = np.arange(24.0).reshape(4, 6)[::2, ::-3]
    out, copied = round_trip(a)
    assert not copied and np.shares_memory(out, a)
    assert out.strides == a.strides
    np.testing.assert_array_equal(out, a)


def test_big_endian_input_is_copied_once_to_native_order():
    a = np.arange(6, dtype=">f8").reshape(2, 3)
    out, copied = round_trip(a)
    assert copied
    assert out.dtype == np.float64 and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_unaligned_input_is_copied():
    raw = np.zeros(8 * 4 + 1, dtype=np.uint8)
    a = raw[1:].view(np.float64)
    a[:] = [1.0, 2.0, 3.0, 4.0]
    assert not a.flags.aligned
    out, copied = round_trip(a)
    assert copied and out.flags.aligned
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0, 4.0])


def test_read_only_input_is_borrowed_and_stays_read_only():
    a = np.arange(4.0)
    a.flags.writeable = False
    out, copied = round_trip(a)
    assert not copied and np.shares_memory(out, a)
    assert not out.flags.writeable


def test_array_interface_and_buffer_protocol_objects_are_accepted():
    class Wrapped:
        def __init__(self, arr):
            self.__array_interface__ = arr.__array_interface__
            self._keep = arr

    a = np.arange(5, dtype=np.int32)
    out, _ = round_trip(Wrapped(a))
    assert np.shares_memory(out, a)
    out, _ = round_trip(memoryview(np.arange(3.0)))
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0])


def test_unsupported_dtype_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="complex128"):
        round_trip(np.zeros(2, dtype=np.complex128))


def test_output_outlives_the_input_it_aliases():
    out, _ = round_trip(np.arange(1000.0))
    # the only reference to the input memory is now the output's base
    assert out.base is not None
    np.testing.assert_array_equal(out[-3:], [997.0, 998.0, 999.0])


@pytest.mark.parametrize("make", [
    lambda: np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),
    lambda: np.arange(30, dtype=np.int32).reshape(5, 6)[1::2, ::-2],
    lambda: np.broadcast_to(np.arange(3.0), (4, 3)),
    lambda: (np.arange(8) % 3 == 0)[::3],
])
def test_strided_copy_is_contiguous_and_equal(make):
    a = make()
    out = contiguous_copy(a)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_call_pinning_borrows_the_array_itself(dtype):
    from jitcore._runtime.tensor import pinned_view
    a = np.arange(12).reshape(3, 4).astype(dtype)[:, ::2]
    out = pinned_view(a)
    # NumPy collapses a base that is itself a view to the array owning the memory
    assert out.base is (a if a.base is None else a.base) and np.shares_memory(out, a)
    assert out.strides == a.strides and out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)


def test_call_pinning_keeps_read_only_arrays_read_only_and_accepts_subclasses():
    from jitcore._runtime.tensor import pinned_view
    from jitcore.nn import Parameter
    a = np.arange(4.0)
    a.flags.writeable = False
    assert not pinned_view(a).flags.writeable
    p = Parameter(np.ones((2, 2), np.float32))
    out = pinned_view(p)
    assert type(out) is np.ndarray and np.shares_memory(out, p)


@pytest.mark.parametrize("make", [
    lambda: np.arange(4.0).astype(">f8"),                                  # byte-swapped
    lambda: np.frombuffer(b"\0" + np.arange(4.0).tobytes(), np.float64, 4, offset=1),  # unaligned
    lambda: np.zeros(3, np.float16),                                       # unsupported dtype
    lambda: np.zeros((1,) * 9, np.float32),                                # rank above 8
])
def test_call_pinning_leaves_special_arrays_to_the_general_path(make):
    from jitcore._runtime.tensor import pinned_view
    assert pinned_view(make()) is None
