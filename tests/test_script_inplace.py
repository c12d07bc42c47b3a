"""In-place array updates in jitcore.script and jitcore.trace, with NumPy's aliasing semantics.

Every function is compiled and run on copies of the same inputs as the plain Python
function: the results and every input afterwards (which the function may have written)
must be equal, scripted, optimised (``optimize_for_inference``, which specialises on the
inputs and fuses) and re-scripted from ``.code``.
"""

from typing import List

import numpy as np
import pytest

import jitcore
from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source
from jitcore.testing import assert_roundtrip

RNG = np.random.default_rng(3)


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------ augmented assignment

def add_into_argument(x, y):
    y += x
    return y


def every_operator_in_place(x):
    y = x * 1.0
    y += 2.0
    y -= 0.5
    y *= 3.0
    y /= 2.0
    y **= 2.0
    z = np.floor(y)
    z //= 2.0
    z %= 3.0
    return y, z


def int_bitwise_in_place(a, b):
    c = a & b
    c |= b
    c ^= 3
    c &= 14
    return c


def accumulate_rows(x):
    acc = np.zeros(x.shape[1:], dtype=x.dtype)
    for i in range(x.shape[0]):
        acc += x[i]
    return acc


def alias_sees_the_update(x):
    y = x
    y += 1.0
    return x


def reads_before_and_after_a_write(x):
    before = x * 2.0
    s1 = x.sum()
    x *= 3.0
    after = x * 2.0
    return before, after, s1, x.sum()


def residual_block(x, w):
    out = np.maximum(x @ w, 0.0)
    out += x
    return np.maximum(out, 0.0)


def update_in_a_branch(x, flag: bool):
    y = x + 0.0
    if flag:
        y += 1.0
    else:
        y *= 2.0
    return y


def update_a_view_in_place(x):
    v = x[1:]
    v -= x[:-1]
    return x


def float64_into_float32(x, y):
    x += y
    return x


def loop_updates_a_view_each_step(x):
    for i in range(x.shape[0]):
        x[i] *= float(i + 1)
    return x


def update_then_reduce_in_a_loop(x):
    total = 0.0
    for i in range(3):
        x += 1.0
        total += float(x.sum())
    return total


# ---------------------------------------------------------------- item assignment

def set_a_row(x):
    x[0] = 5.0
    return x


def set_a_column_from_an_array(x, v):
    x[:, 1] = v
    return x


def set_a_block_broadcast(x):
    x[1:, :2] = np.zeros((1, 2), dtype=x.dtype)
    return x


def shift_with_overlap(x):
    x[1:] = x[:-1]
    return x


def add_to_a_slice(x):
    x[0, 1:3] += 10.0
    return x


def set_everything(x):
    x[...] = 0.5
    return x


def fill_method(x):
    x.fill(2.0)
    return x


def new_array_then_set_items(n: int):
    out = np.zeros((n, 2), dtype=np.float32)
    for i in range(n):
        out[i, 0] = float(i)
        out[i, 1] = float(i * i)
    return out


def set_item_from_a_list_of_arrays(xs: List[np.ndarray]):
    out = np.zeros((len(xs), xs[0].shape[0]), dtype=xs[0].dtype)
    for i in range(len(xs)):
        out[i] = xs[i]
    return out


def int_array_set_from_floats(x):
    x[0] = 2.7
    x[1:] = np.ones(x.shape[0] - 1) * 1.9
    return x


def negative_index_assignment(x):
    x[-1] = x[0]
    return x


def written_zeros_stay_fresh_per_call(x):
    buf = np.zeros(3, dtype=np.float64)
    buf[0] = float(x.sum())
    return buf


def list_item_augmented_in_place(x):
    xs: List[np.ndarray] = [x, x]
    xs[0] += 1.0            # ndarray.__iadd__: x itself changes, so xs[1] sees it
    counts: List[List[int]] = [[1], [2]]
    counts[1] += [3]        # list.__iadd__: the inner list itself grows
    return xs[1], x, len(counts[1])


def ufunc_out_arguments(x, y):
    out = np.empty_like(x)
    np.add(x, y, out=out)
    np.multiply(x, 2.0, out=x)      # the first operand is also the output
    total = np.zeros(x.shape[1:])
    for i in range(x.shape[0]):
        np.add(total, x[i], out=total)
    return out, total


FUNCTIONS = [
    (add_into_argument, lambda: [(arr(3, 4), arr(3, 4)), (arr(4), arr(2, 4))]),
    (every_operator_in_place, lambda: [(np.abs(arr(3, 4)) + 0.1,)]),
    (int_bitwise_in_place, lambda: [(np.arange(12).reshape(3, 4), np.arange(4))]),
    (accumulate_rows, lambda: [(arr(5, 3, 4),), (arr(1, 2, dtype=np.float64),)]),
    (alias_sees_the_update, lambda: [(arr(3),)]),
    (reads_before_and_after_a_write, lambda: [(np.arange(12.0).reshape(3, 4),)]),
    (residual_block, lambda: [(arr(4, 6), arr(6, 6))]),
    (update_in_a_branch, lambda: [(arr(3), True), (arr(3), False)]),
    (update_a_view_in_place, lambda: [(arr(6),)]),
    (float64_into_float32, lambda: [(arr(2, 5), arr(5, dtype=np.float64))]),
    (loop_updates_a_view_each_step, lambda: [(arr(4, 3),)]),
    (update_then_reduce_in_a_loop, lambda: [(np.arange(4.0),)]),
    (set_a_row, lambda: [(arr(3, 4),)]),
    (set_a_column_from_an_array, lambda: [(arr(3, 4), arr(3))]),
    (set_a_block_broadcast, lambda: [(arr(3, 4),), (arr(2, 3, dtype=np.float64),)]),
    (shift_with_overlap, lambda: [(arr(6),)]),
    (add_to_a_slice, lambda: [(arr(3, 4),)]),
    (set_everything, lambda: [(arr(2, 2),)]),
    (fill_method, lambda: [(arr(3),), (np.arange(3),)]),
    (new_array_then_set_items, lambda: [(4,), (0,)]),
    (set_item_from_a_list_of_arrays, lambda: [([arr(3), arr(3)],)]),
    (int_array_set_from_floats, lambda: [(np.arange(4),)]),
    (negative_index_assignment, lambda: [(arr(4, 2),)]),
    (written_zeros_stay_fresh_per_call, lambda: [(np.arange(3.0),), (np.ones(2),)]),
    (list_item_augmented_in_place, lambda: [(arr(3, 2),)]),
    (ufunc_out_arguments, lambda: [(arr(3, 4), arr(4)), (arr(2, 5, dtype=np.float64), arr(5))]),
]


def _copy(inputs):
    return tuple([a.copy() for a in x] if isinstance(x, list) else
                 x.copy() if isinstance(x, np.ndarray) else x for x in inputs)


def _assert_same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    else:
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
        assert np.asarray(ours).dtype == np.asarray(theirs).dtype


def _check(compiled, fn, make_inputs, calls=2):
    for inputs in make_inputs():
        for _ in range(calls):      # the second call runs the graph specialised on the first
            ours_in, theirs_in = _copy(inputs), _copy(inputs)
            _assert_same(compiled(*ours_in), fn(*theirs_in))
            _assert_same(ours_in, theirs_in)     # what was written, as NumPy wrote it


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_scripted_update_matches_numpy(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    assert_roundtrip(scripted.graph)
    _check(scripted, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_optimized_update_matches_numpy(fn, make_inputs):
    optimized = jitcore.optimize_for_inference(script(fn))
    optimized.graph.lint()
    _check(optimized, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_code_rescripts(fn, make_inputs):
    rescripted = script_source(script(fn).code)
    rescripted.graph.lint()
    _check(rescripted, fn, make_inputs, calls=1)


def test_an_update_of_an_argument_changes_the_callers_array():
    x, y = np.ones(3, np.float32), np.arange(3, dtype=np.float32)
    out = script(add_into_argument)(y, x)
    np.testing.assert_array_equal(x, [1, 2, 3])
    assert np.shares_memory(out, x)


def test_a_read_only_argument_is_refused_and_left_unchanged():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(jitcore.KernelError, match="read-only"):
        script(fill_method)(x)
    np.testing.assert_array_equal(x, np.ones(3))


def test_a_residual_update_is_fused_after_specialisation():
    optimized = jitcore.optimize_for_inference(script(residual_block))
    x, w = arr(4, 6), arr(6, 6)
    optimized(x, w)
    kinds = {node.kind for node in optimized.graph_for(x, w).walk()}
    assert "aten::add_" not in kinds


# ---------------------------------------------------------------------- tracing

TRACEABLE = [add_into_argument, every_operator_in_place, alias_sees_the_update,
             reads_before_and_after_a_write, residual_block, update_a_view_in_place,
             set_a_row, set_a_column_from_an_array, shift_with_overlap,
             add_to_a_slice, set_everything]


@pytest.mark.parametrize("fn", TRACEABLE, ids=lambda f: f.__name__)
def test_traced_update_matches_numpy(fn):
    make_inputs = dict(FUNCTIONS)[fn]
    example = make_inputs()[0]
    traced = jitcore.trace(fn, _copy(example))
    traced.graph.lint()
    ours_in, theirs_in = _copy(example), _copy(example)
    _assert_same(traced(*ours_in), fn(*theirs_in))
    _assert_same(ours_in, theirs_in)


def test_trace_refuses_an_array_index_beside_other_indices():
    def masked(x):
        x[0, x[0] > 0] = 0.0
        return x
    with pytest.raises(TypeError, match="sole index"):
        jitcore.trace(masked, (arr(2, 3),))


# ----------------------------------------------------- through an array index

def set_through_a_mask(x):
    x[x < 0] = 0.0
    return x


def set_through_indices(x, idx):
    x[idx] = 5.0
    return x


def add_through_indices_repeated(x, idx, v):
    x[idx] += v         # NumPy: a repeated index is updated once (x[idx] = x[idx] + v)
    return x


def scale_where_masked(x):
    mask = x > 1.0
    x[mask] = x[mask] * 2.0
    return x


def set_from_an_overlapping_view(x, idx):
    x[idx] = x[1:3]
    return x


def int_array_through_a_mask(x):
    x[x > 2] = 1.9      # cast unsafely, as NumPy
    return x


MASKED = [
    (set_through_a_mask, lambda: [(arr(3, 4),), (arr(5, dtype=np.float64),)]),
    (set_through_indices, lambda: [(arr(5, 2), np.array([0, 3, -1]))]),
    (add_through_indices_repeated, lambda: [(arr(5, 2), np.array([0, 3, 0]), np.ones((3, 2),
                                                                                      np.float32))]),
    (scale_where_masked, lambda: [(arr(3, 4) * 2,)]),
    (set_from_an_overlapping_view, lambda: [(arr(6), np.array([0, 4]))]),
    (int_array_through_a_mask, lambda: [(np.arange(6),)]),
]


@pytest.mark.parametrize("fn, make_inputs", MASKED, ids=[f.__name__ for f, _ in MASKED])
def test_assignment_through_an_array_index_matches_numpy(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    _check(scripted, fn, make_inputs)
    _check(jitcore.optimize_for_inference(script(fn)), fn, make_inputs)
    _check(script_source(scripted.code), fn, make_inputs, calls=1)


@pytest.mark.parametrize("fn, make_inputs", MASKED[:4], ids=[f.__name__ for f, _ in MASKED[:4]])
def test_traced_assignment_through_an_array_index_matches_numpy(fn, make_inputs):
    example = make_inputs()[0]
    traced = jitcore.trace(fn, _copy(example))
    ours_in, theirs_in = _copy(example), _copy(example)
    _assert_same(traced(*ours_in), fn(*theirs_in))
    _assert_same(ours_in, theirs_in)


def test_an_index_out_of_range_is_a_clear_error():
    with pytest.raises(jitcore.KernelError, match="index out of range"):
        script(set_through_indices)(arr(3), np.array([5]))


# ---------------------------------------------------------------- module state

class RunningTotal(jitcore.nn.Module):
    """A buffer updated in place by forward, as torch modules keep running statistics."""

    def __init__(self):
        super().__init__()
        self.register_buffer("total", np.zeros(3, dtype=np.float32))

    def forward(self, x):
        self.total += x
        return self.total * 1.0


@pytest.mark.parametrize("way", ["script", "trace"])
def test_forward_updates_a_buffer_in_place(way):
    module = RunningTotal().eval()
    ones = np.ones(3, np.float32)
    compiled = (script(module) if way == "script"
                else jitcore.trace(module, (ones,), check_trace=False))
    module.total[...] = 0.0
    np.testing.assert_array_equal(compiled(ones), [1, 1, 1])
    np.testing.assert_array_equal(compiled(ones), [2, 2, 2])
    np.testing.assert_array_equal(module.total, [2, 2, 2])


@pytest.mark.parametrize("way", ["script", "trace"])
def test_freezing_a_module_that_writes_its_state_is_refused(way):
    module = RunningTotal().eval()
    ones = np.ones(3, np.float32)
    compiled = (script(module) if way == "script"
                else jitcore.trace(module, (ones,), check_trace=False))
    with pytest.raises(jitcore.JitcoreError, match="writes the attribute 'total' in place"):
        jitcore.freeze(compiled)
