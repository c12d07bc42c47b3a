"""Run-time failures of the scalar handlers (_runtime/op_scalar.pyx): a float that no int64
holds (NaN, inf, beyond 2**63) raises where C's conversion would be undefined."""

import math

import pytest

import jitcore
from jitcore.errors import KernelError

import _scalar_error_cases as cases


@pytest.mark.parametrize("fn", [cases.floor_of, cases.ceil_of, cases.int_of])
@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, 1e19, -1e19])
def test_a_float_no_int64_holds_raises(fn, x):
    compiled = jitcore.script(fn)
    with pytest.raises(KernelError, match="cannot convert float NaN or infinity, or a float "
                                          "outside int64, to int"):
        compiled(x)
    assert compiled(2.5) == fn(2.5)     # and the op still works afterwards
