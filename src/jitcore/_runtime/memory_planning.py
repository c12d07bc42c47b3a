"""Memory planning: place a program's intermediates in one arena per frame.

Lowering knows, for every instruction output of a statically known size, the
instruction that defines it and the instruction after which it is released
(its last use).  Two values whose live ranges do not overlap may share
memory.  :func:`assign_slots` packs the values into *slots* (regions of the
arena) greedily in definition order, the way PyTorch's static runtime and
TensorFlow Lite's arena planner do: a value takes the smallest free slot that
fits it, else grows the largest free slot, else opens a new slot.  The arena
is the sum of the slot sizes, allocated once per frame.

The plan is a placement hint, not a proof: at run time an instruction takes
its slot only when no tensor still references the slot (a view made by a
later op can outlive its register), otherwise the caching allocator serves
it.  So aliasing, loops and control flow can never make two live tensors
share memory; they can only cost an allocation.
"""

__all__ = ["LiveRange", "assign_slots"]


class LiveRange:
    """One planned value: defined by instruction ``start``, dead after instruction ``end``.

    Parameters
    ----------
    key : object
        What the caller identifies the value by (the defining instruction).
    start, end : int
        Instruction indices, ``start <= end``.
    nbytes : int
        Bytes the value needs.
    """

    __slots__ = ("key", "start", "end", "nbytes")

    def __init__(self, key, start, end, nbytes):
        if end < start:
            raise ValueError(f"live range of {key!r} ends ({end}) before it starts ({start})")
        if nbytes < 0:
            raise ValueError(f"live range of {key!r} needs a negative size ({nbytes})")
        self.key = key
        self.start = start
        self.end = end
        self.nbytes = nbytes

    def __repr__(self):
        return f"LiveRange({self.key!r}, {self.start}..{self.end}, {self.nbytes} bytes)"


def assign_slots(ranges):
    """Pack live ranges into arena slots; values alive at the same time never share one.

    Parameters
    ----------
    ranges : iterable of LiveRange

    Returns
    -------
    slot_bytes : list of int
        The size of each slot.
    slot_of : dict
        ``key -> slot index`` for every range.
    """
    slot_bytes = []
    busy_until = []         # per slot: the end of its current occupant
    slot_of = {}
    for r in sorted(ranges, key=lambda r: (r.start, r.end)):
        free = [s for s in range(len(slot_bytes)) if busy_until[s] < r.start]
        fitting = [s for s in free if slot_bytes[s] >= r.nbytes]
        if fitting:
            slot = min(fitting, key=lambda s: slot_bytes[s])
        elif free:
            slot = max(free, key=lambda s: slot_bytes[s])
            slot_bytes[slot] = r.nbytes
        else:
            slot = len(slot_bytes)
            slot_bytes.append(r.nbytes)
            busy_until.append(-1)
        busy_until[slot] = r.end
        slot_of[r.key] = slot
    return slot_bytes, slot_of
