"""``jitcore.profile()``: where a compiled model's time goes, op by op.

While the context is active, every compiled call (from any thread) records one
event for the whole call (``jitcore::call``) and one per kernel or call
instruction it executes, each with its op, the shapes of its inputs, its thread
and its start and end.  Off, a call pays one check.  ``table()`` summarises per
op as ``torch.profiler``'s ``key_averages().table()`` does; ``export_chrome_trace()``
writes Chrome's trace event JSON (one lane per thread), which Perfetto
(https://ui.perfetto.dev) and ``chrome://tracing`` open.

Calls that fall back to the reference interpreter (Python) are not recorded.  A
kernel's OpenMP worker threads are not lanes of their own: a parallel region
runs inside its node's event on the calling thread.
"""

import json
import os
import time
from dataclasses import dataclass

from jitcore._runtime import profiling

__all__ = ["profile", "ProfilerEvent", "CALL_EVENT"]

#: The name of the event that spans one whole compiled call.
CALL_EVENT = "jitcore::call"

_SORT_KEYS = {
    "total": "total_us", "cpu_time_total": "total_us", "self": "self_us", "self_cpu_time_total": "self_us",
    "avg": "avg_us", "cpu_time": "avg_us", "count": "count", "max": "max_us", "name": "name",
}


@dataclass(frozen=True)
class ProfilerEvent:
    """One recorded event.

    Attributes
    ----------
    name : str
        The op (``aten::linear``, ``prim::CallMethod``) or ``jitcore::call``.
    start_us, end_us : float
        Microseconds since the profile began.
    thread : int
        ``threading.get_ident()`` of the calling thread.
    depth : int
        0 for a call, 1 for its instructions, one more per nested call.
    input_shapes : tuple
        Per input (at most 4): its shape, None for a non-tensor, ``...`` where
        the shapes did not fit the recorder.
    self_us : float
        The duration minus that of the events nested in it.
    call : tuple or None
        For a ``jitcore::call`` event: ``(callers, openmp)``, the compiled calls
        in flight when it began (itself included; they share the intra-op
        threads) and ``"pool"`` or ``"serial"`` as the thread guard ran it
        (None when it did not choose: one intra-op thread, or several callers).
    """

    name: str
    start_us: float
    end_us: float
    thread: int
    depth: int
    input_shapes: tuple
    self_us: float = 0.0
    call: tuple | None = None

    @property
    def duration_us(self):
        return self.end_us - self.start_us


def _with_self_times(events):
    """The events with ``self_us``: each one's duration minus its direct children's."""
    children = [0.0] * len(events)
    by_thread = {}
    for index, event in enumerate(events):
        by_thread.setdefault(event.thread, []).append(index)
    for indices in by_thread.values():
        indices.sort(key=lambda i: (events[i].start_us, events[i].depth))
        stack = []
        for i in indices:
            while stack and events[stack[-1]].depth >= events[i].depth:
                stack.pop()
            if stack:
                children[stack[-1]] += events[i].duration_us
            stack.append(i)
    return [ProfilerEvent(e.name, e.start_us, e.end_us, e.thread, e.depth, e.input_shapes,
                          e.duration_us - children[k], e.call) for k, e in enumerate(events)]


def _shape_text(shapes):
    return "[" + ", ".join("[]" if s is None else "..." if s is Ellipsis else str(list(s)) for s in shapes) + "]"


class profile:
    """Record what compiled calls execute while the ``with`` block runs.

    Entering the same profile again adds to its events (one time origin).
    Profiles do not nest: entering one while another records raises RuntimeError.

    Examples
    --------
    >>> with jitcore.profile() as prof:                   # doctest: +SKIP
    ...     model(x)
    >>> print(prof.table(sort_by="total", row_limit=10))   # doctest: +SKIP
    >>> prof.export_chrome_trace("trace.json")             # doctest: +SKIP

    Attributes
    ----------
    events : list of ProfilerEvent
        Filled when the block ends, in start order.
    dropped : int
        Events not recorded because the recorder's buffer (about a million
        events) was full.
    thread_names : dict of int to str
        The names of the threads whose calls were recorded (the trace's lanes).
    """

    def __init__(self):
        self.events = []
        self.dropped = 0
        self.thread_names = {}
        self._origin = None

    def __enter__(self):
        if self._origin is None:
            self._origin = time.perf_counter()
        profiling.start()
        return self

    def __exit__(self, *exc):
        raw, dropped, names = profiling.stop()
        self.dropped += dropped
        self.thread_names.update(names)
        origin = self._origin
        events = self.events + [ProfilerEvent(CALL_EVENT if name == "<call>" else name, (start - origin) * 1e6,
                                              (end - origin) * 1e6, thread, depth, shapes, 0.0, call)
                                for name, start, end, thread, depth, shapes, call in raw]
        events.sort(key=lambda e: (e.start_us, e.depth))
        self.events = _with_self_times(events)
        return False

    # ------------------------------------------------------------------ summary
    def key_averages(self, group_by_input_shape=False):
        """Per op (and input shapes, when grouped): count, total, self, average, min and max in µs.

        Returns
        -------
        list of dict
            Keys ``name``, ``input_shapes`` (text, or None), ``count``,
            ``total_us``, ``self_us``, ``avg_us``, ``min_us``, ``max_us``.
        """
        rows = {}
        for e in self.events:
            key = (e.name, _shape_text(e.input_shapes) if group_by_input_shape else None)
            row = rows.get(key)
            if row is None:
                row = rows[key] = {"name": key[0], "input_shapes": key[1], "count": 0, "total_us": 0.0,
                                   "self_us": 0.0, "min_us": float("inf"), "max_us": 0.0}
            row["count"] += 1
            row["total_us"] += e.duration_us
            row["self_us"] += e.self_us
            row["min_us"] = min(row["min_us"], e.duration_us)
            row["max_us"] = max(row["max_us"], e.duration_us)
        for row in rows.values():
            row["avg_us"] = row["total_us"] / row["count"]
        return list(rows.values())

    def table(self, sort_by="total", row_limit=None, group_by_input_shape=False):
        """The per-op summary as text, as ``torch.profiler``'s ``key_averages().table()``.

        Parameters
        ----------
        sort_by : str, optional
            ``"total"`` (default), ``"self"``, ``"avg"``, ``"max"``, ``"count"``
            or ``"name"``; torch's ``"cpu_time_total"`` and
            ``"self_cpu_time_total"`` are accepted too.  Descending except ``name``.
        row_limit : int, optional
            Show at most this many rows.
        group_by_input_shape : bool, optional
            One row per op and input shapes.

        Returns
        -------
        str
        """
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"sort_by must be one of {', '.join(_SORT_KEYS)}, not {sort_by!r}")
        key = _SORT_KEYS[sort_by]
        rows = sorted(self.key_averages(group_by_input_shape), key=lambda r: r[key], reverse=key != "name")
        if row_limit is not None:
            rows = rows[:row_limit]
        whole = sum(e.self_us for e in self.events) or 1.0
        header = ["Name", "Self %", "Self", "Total %", "Total", "Avg", "Min", "Max", "# Calls"]
        if group_by_input_shape:
            header.append("Input shapes")
        lines = []
        for r in rows:
            line = [r["name"], f"{100 * r['self_us'] / whole:.2f}%", _us(r["self_us"]),
                    f"{100 * r['total_us'] / whole:.2f}%", _us(r["total_us"]), _us(r["avg_us"]),
                    _us(r["min_us"]), _us(r["max_us"]), str(r["count"])]
            if group_by_input_shape:
                line.append(r["input_shapes"])
            lines.append(line)
        widths = [max(len(row[k]) for row in [header, *lines]) for k in range(len(header))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def text(row):
            return "  ".join(cell.ljust(w) if k in (0, 9) else cell.rjust(w)
                             for k, (cell, w) in enumerate(zip(row, widths)))

        calls = [e for e in self.events if e.name == CALL_EVENT]
        footer = (f"Self time total: {_us(whole)} in {len(calls)} calls"
                  + (f"; {self.dropped} events dropped (buffer full)" if self.dropped else ""))
        return "\n".join([rule, text(header), rule, *map(text, lines), rule, footer])

    # ------------------------------------------------------------------- trace
    def lanes(self):
        """``{thread ident: (lane number, name)}``: lanes in order of first event."""
        lanes = {}
        for e in self.events:
            if e.thread not in lanes:
                lanes[e.thread] = (len(lanes), self.thread_names.get(e.thread, f"thread {len(lanes)}"))
        return lanes

    def chrome_trace(self):
        """The trace as Chrome's trace event format (a dict ready for ``json.dump``)."""
        pid = os.getpid()
        lanes = self.lanes()
        trace = [{"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": "jitcore"}}]
        for lane, name in lanes.values():
            trace.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": lane, "args": {"name": name}})
            trace.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": lane,
                          "args": {"sort_index": lane}})
        for e in self.events:
            args = {"input_shapes": [None if s is None else "..." if s is Ellipsis else list(s)
                                     for s in e.input_shapes],
                    "self_us": round(e.self_us, 3), "depth": e.depth}
            if e.call is not None:
                args["calls_in_flight"], args["openmp"] = e.call
            trace.append({
                "name": e.name, "cat": "call" if e.name == CALL_EVENT else "op", "ph": "X",
                "ts": round(e.start_us, 3), "dur": round(e.duration_us, 3), "pid": pid,
                "tid": lanes[e.thread][0], "args": args,
            })
        return {"traceEvents": trace, "displayTimeUnit": "ms",
                "otherData": {"producer": "jitcore.profile", "dropped_events": self.dropped}}

    def export_chrome_trace(self, path):
        """Write the trace to ``path`` as Chrome trace event JSON (Perfetto opens it)."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.chrome_trace(), file)
        return os.fspath(path)


def _us(value):
    if value >= 1e6:
        return f"{value / 1e6:.3f}s"
    if value >= 1e3:
        return f"{value / 1e3:.3f}ms"
    return f"{value:.3f}us"
