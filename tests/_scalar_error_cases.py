"""Scripted functions whose run-time failures tests/test_runtime_op_scalar.py and
tests/test_runtime_op_list.py assert (jitcore.script needs them in a file)."""
import math
from typing import List


def floor_of(x: float) -> int:
    return math.floor(x)


def ceil_of(x: float) -> int:
    return math.ceil(x)


def int_of(x: float) -> int:
    return int(x)


def positions_by(n: int, step: int) -> List[int]:
    return list(range(0, n, step))


def total_by(n: int, step: int) -> int:
    total = 0
    for i in range(0, n, step):
        total += i
    return total
