"""The in-place handlers (``_runtime/op_inplace.pyx``) against NumPy's own in-place semantics.

Each op runs in a one-node graph through the runtime interpreter; NumPy's ``x op= y``,
``x[...] = v`` and ``x.fill(v)`` on a copy of the same arrays are the oracle, for the
written array (bit for bit), the op's output (the same memory as the written array) and
the failures NumPy raises for.
"""

import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.ops.defs.inplace import IN_PLACE_OF

RNG = np.random.default_rng(7)

# the in-place update of each operator and the NumPy spelling that is its oracle
UPDATES = {
    "aten::add_": lambda a, b: a.__iadd__(b), "aten::sub_": lambda a, b: a.__isub__(b),
    "aten::mul_": lambda a, b: a.__imul__(b), "aten::div_": lambda a, b: a.__itruediv__(b),
    "aten::floor_divide_": lambda a, b: a.__ifloordiv__(b),
    "aten::remainder_": lambda a, b: a.__imod__(b), "aten::pow_": lambda a, b: a.__ipow__(b),
    "aten::__iand__": lambda a, b: a.__iand__(b), "aten::__ior__": lambda a, b: a.__ior__(b),
    "aten::__ixor__": lambda a, b: a.__ixor__(b),
}
_BITWISE = ("aten::__iand__", "aten::__ior__", "aten::__ixor__")


def _run(kind, target, other, alpha=None):
    """Run ``kind(target, other[, alpha])`` as a one-node graph; returns its output."""
    other_decl = ", %b : Tensor" if isinstance(other, np.ndarray) else ""
    lines = []
    if not isinstance(other, np.ndarray):
        lines.append(f"  %b : {type(other).__name__} = prim::Constant[value={other!r}]()")
    extra = ""
    if alpha is not None:
        lines.append(f"  %alpha : int = prim::Constant[value={alpha}]()")
        extra = ", %alpha"
    text = (f"graph(%a : Tensor{other_decl}):\n" + "\n".join(lines) + ("\n" if lines else "")
            + f"  %y : Tensor = {kind}(%a, %b{extra})\n  return (%y)\n")
    code = compile_graph(parse_graph(text))
    args = (target, other) if isinstance(other, np.ndarray) else (target,)
    return code(*args)


def test_every_functional_update_has_an_oracle_here():
    assert set(IN_PLACE_OF.values()) == set(UPDATES)


def _update_cases():
    for kind in sorted(UPDATES):
        for dtype in ("float32", "float64", "int64", "int32"):
            # bitwise ops take integers; true division into an int array is a same_kind error
            if not (dtype.startswith("float") and kind in _BITWISE) and \
                    not (dtype.startswith("int") and kind == "aten::div_"):
                yield kind, dtype


@pytest.mark.parametrize("kind, dtype", list(_update_cases()))
def test_update_writes_the_array_as_numpy_does(kind, dtype):
    low = 1 if kind in ("aten::pow_", "aten::floor_divide_", "aten::remainder_") else -3
    a = RNG.integers(low, 4, size=(3, 4)).astype(dtype)
    b = RNG.integers(1, 3, size=(4,)).astype(dtype)
    expected = a.copy()
    UPDATES[kind](expected, b)
    alpha = 1 if kind in ("aten::add_", "aten::sub_") else None
    out = _run(kind, a, b, alpha)
    np.testing.assert_array_equal(a, expected)
    assert a.dtype == np.dtype(dtype)
    assert np.shares_memory(out, a) and np.array_equal(out, a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_float64_operand_is_rounded_into_a_float32_array_as_numpy_rounds(dtype):
    a = RNG.standard_normal((2, 5)).astype(np.float32)
    b = RNG.standard_normal((5,)).astype(dtype)
    expected = a.copy()
    expected += b
    _run("aten::add_", a, b, 1)
    np.testing.assert_array_equal(a, expected)


def test_add_with_alpha_scales_the_operand():
    a, b = np.ones(3), np.arange(3.0)
    _run("aten::add_", a, b, 3)
    np.testing.assert_array_equal(a, 1 + 3 * np.arange(3.0))


def test_an_update_writes_through_a_strided_view():
    base = np.zeros((4, 6))
    view = base[1:3, ::2]
    _run("aten::add_", view, np.arange(3.0), 1)
    expected = np.zeros((4, 6))
    expected[1:3, ::2] += np.arange(3.0)
    np.testing.assert_array_equal(base, expected)


def test_an_operand_overlapping_the_array_is_read_before_it_is_written():
    a = np.arange(6.0)
    expected = a.copy()
    expected[1:] += expected[:-1]
    # two views of one buffer, given as the two inputs
    _run("aten::add_", a[1:], a[:-1], 1)
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("kind, other", [("aten::add_", 0.5), ("aten::div_", 2)])
def test_an_int_array_refuses_a_float_result_as_numpy(kind, other):
    a = np.arange(3)
    with pytest.raises(TypeError):
        UPDATES[kind](a.copy(), other)
    with pytest.raises(TypeError, match="same_kind"):
        _run(kind, a, other, 1 if kind == "aten::add_" else None)
    np.testing.assert_array_equal(a, np.arange(3))     # nothing written


def test_the_operand_must_broadcast_to_the_array_not_the_array_to_it():
    a = np.ones((1, 3))
    with pytest.raises(ValueError):
        np.ones((1, 3)).__iadd__(np.ones((2, 3)))
    with pytest.raises(KernelError, match="non-broadcastable output operand"):
        _run("aten::add_", a, np.ones((2, 3)), 1)


def test_a_read_only_array_is_not_written():
    a = np.ones(3)
    a.flags.writeable = False
    with pytest.raises(KernelError, match="read-only"):
        _run("aten::mul_", a, 2.0)


# ----------------------------------------------------------- copy_ and fill_

def _copy(target, src):
    text = ("graph(%a : Tensor, %b : Tensor):\n  %f : bool = prim::Constant[value=False]()\n"
            "  %y : Tensor = aten::copy_(%a, %b, %f)\n  return (%y)\n")
    return compile_graph(parse_graph(text))(target, src)


@pytest.mark.parametrize("src_dtype", ["float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("dst_dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_copy_casts_unsafely_as_item_assignment_does(dst_dtype, src_dtype):
    src = (RNG.standard_normal((2, 3)) * 4).astype(src_dtype)
    dst = np.zeros((2, 3), dst_dtype)
    expected = dst.copy()
    expected[...] = src
    out = _copy(dst, src)
    np.testing.assert_array_equal(dst, expected)
    assert np.shares_memory(out, dst)


def test_copy_broadcasts_and_drops_leading_size_one_dims_as_numpy():
    dst = np.zeros((2, 3))
    _copy(dst, np.arange(3.0).reshape(1, 1, 3))
    np.testing.assert_array_equal(dst, np.tile(np.arange(3.0), (2, 1)))
    with pytest.raises(KernelError, match="does not broadcast"):
        _copy(dst, np.ones((3, 2)))
    with pytest.raises(KernelError, match="more dimensions"):
        _copy(np.zeros(3), np.ones((2, 3)))


def test_copy_of_an_overlapping_source_shifts_as_numpy():
    a = np.arange(6.0)
    expected = a.copy()
    expected[1:] = expected[:-1]
    _copy(a[1:], a[:-1])
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("value, dtype", [(2.5, "float32"), (-1, "float64"), (2.9, "int64"),
                                          (7, "int32"), (3, "bool"), (True, "float32")])
def test_fill_casts_a_number_as_item_assignment_does(value, dtype):
    a = np.zeros(4, dtype)
    expected = a.copy()
    expected.fill(value)
    text = (f"graph(%a : Tensor):\n  %v : {type(value).__name__} = prim::Constant[value={value!r}]()\n"
            "  %y : Tensor = aten::fill_(%a, %v)\n  return (%y)\n")
    compile_graph(parse_graph(text))(a)
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("value, message", [(float("nan"), "NaN"), (float("inf"), "infinity")])
def test_fill_refuses_what_numpy_refuses(value, message):
    a = np.zeros(2, np.int64)
    with pytest.raises((ValueError, OverflowError)):
        a[0] = value
    text = ("graph(%a : Tensor, %v : float):\n  %y : Tensor = aten::fill_(%a, %v)\n"
            "  return (%y)\n")
    with pytest.raises(KernelError, match=message):
        compile_graph(parse_graph(text))(a, value)


def test_fill_refuses_an_int_out_of_int32_range():
    text = ("graph(%a : Tensor, %v : int):\n  %y : Tensor = aten::fill_(%a, %v)\n"
            "  return (%y)\n")
    with pytest.raises(KernelError, match="out of bounds for int32"):
        compile_graph(parse_graph(text))(np.zeros(2, np.int32), 2**40)


def test_index_put_refuses_accumulate():
    text = ("graph(%a : Tensor, %i : Tensor, %v : Tensor):\n"
            "  %l : Tensor?[] = prim::ListConstruct(%i)\n"
            "  %t : bool = prim::Constant[value=1]()\n"
            "  %y : Tensor = aten::index_put_(%a, %l, %v, %t)\n  return (%y)\n")
    a = np.zeros(3)
    with pytest.raises(KernelError, match="accumulate=True is not supported"):
        compile_graph(parse_graph(text))(a, np.array([0, 0]), np.ones(2))
    np.testing.assert_array_equal(a, np.zeros(3))


# ------------------------------------------------------------------ bernoulli_ (torch's)

_BERNOULLI = """graph(%x : Tensor, %p : float):
  %r : Tensor = aten::bernoulli_(%x, %p)
  return (%r)"""


def test_bernoulli_fills_ones_with_probability_p_in_place():
    import jitcore
    run = compile_graph(parse_graph(_BERNOULLI), fallback=False)
    for dtype in (np.float32, np.float64):
        x = np.full((50_000,), 7.0, dtype=dtype)
        jitcore.manual_seed(1)
        out = run(x, 0.3)
        assert np.shares_memory(out, x) and out.dtype == dtype
        assert set(np.unique(x)) <= {0.0, 1.0}
        assert abs(x.mean() - 0.3) < 0.01
        jitcore.manual_seed(1)
        again = run(np.zeros_like(x), 0.3)
        np.testing.assert_array_equal(again, x)          # manual_seed restarts the stream
    rows = np.zeros((6, 8))
    run(rows[:, ::2], 1.0)                               # a strided view: written through it
    np.testing.assert_array_equal(rows[:, ::2], 1.0)
    np.testing.assert_array_equal(rows[:, 1::2], 0.0)


def test_bernoulli_refuses_a_probability_outside_0_1_and_int_arrays():
    run = compile_graph(parse_graph(_BERNOULLI), fallback=False)
    with pytest.raises(KernelError, match=r"probability must be in \[0, 1\]"):
        run(np.zeros(3), 1.5)
    with pytest.raises(TypeError, match="bernoulli_ fills float32 or float64 arrays"):
        run(np.zeros(3, dtype=np.int64), 0.5)
