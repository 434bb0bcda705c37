"""Thermometer faults, from the node's Reading events.

- out of range: an object temperature no person's skin has (sensor broken, aimed at a wall);
  cleared after a few in-range readings in a row.
- stuck: the same value, to the hundredth, many times in a row (a frozen I2C register).
- ambient: the object reads no warmer than the air around the sensor (fouled lens, nobody
  ever in view): mean(object - ambient) over the window below ``ambient_min_delta_c``.
- peers: the node's median is off the median of the ward's other nodes by more than
  ``peer_drift_c`` (slow calibration drift that no single node can see itself).
"""

from __future__ import annotations

import bisect
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import islice

from checkpoint.contract import Event, Reading
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.base import Latch, Rule, node_subject
from hub.rules.config import RulesConfig, Thresholds


class ThermometerRule(Rule):
    consumes = (Reading,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        # node -> its last readings' object temperatures and object-minus-ambient deltas:
        # floats, so that each check reads its window without touching the events.
        self._history: dict[str, _History] = {}
        self._in_range: dict[str, int] = {}
        # ward -> node -> median of its last drift_window readings, for the peer comparison,
        # and the same medians kept sorted per ward: every reading of every node compares
        # against the ward's others, so that comparison must not sort them each time.
        self._medians: dict[str, dict[str, float]] = {}
        self._sorted: dict[str, list[float]] = {}
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Reading):
            return []
        # Every reading of every node comes through here (most of the hub's rules cost):
        # each check computes only whether its condition holds, and a signal is built only
        # when the latch says that changed.
        th = self.th(event.ward_id)
        node = event.node_id
        key = f"node:{node}"  # Subject.key of node_subject(event)
        history = self._history.get(node)
        if history is None:
            history = self._history[node] = _History(max(th.drift_window, th.stuck_readings))
        history.objects.append(event.object_c)
        history.deltas.append(event.object_c - event.ambient_c)
        out: list[Signal] = []
        self._range(event, th, key, out)
        for check in (self._stuck, self._ambient, self._peers):
            verdict = check(event, th, history)
            if verdict is not None:
                self._verdict(out, event, key, *verdict)
        return out

    def _verdict(
        self,
        out: list[Signal],
        event: Reading,
        key: str,
        kind: str,
        holds: bool,
        raise_: Callable[[Subject], Raise],
        cleared: str,
    ) -> None:
        """Append the Raise (``holds``) or the Clear, but only if the latch says that is
        news: most readings change nothing, and building a signal costs more than checking."""
        if self._latch.flips(key, kind, holds):
            subject = node_subject(event)
            out.append(raise_(subject) if holds else Clear(kind, subject, cleared))

    def _range(self, event: Reading, th: Thresholds, key: str, out: list[Signal]) -> None:
        kind = "thermometer_out_of_range"
        if not th.physiological_min_c <= event.object_c <= th.physiological_max_c:
            self._in_range[event.node_id] = 0
            summary = f"thermometer at {event.node_id} reads {event.object_c} °C"
            details = {"object_c": event.object_c, "ambient_c": event.ambient_c}
            self._verdict(out, event, key, kind, True, _warning(kind, summary, details), "")
            return
        run = self._in_range.get(event.node_id, 0) + 1
        self._in_range[event.node_id] = run
        if run >= th.range_clear_readings:
            self._verdict(out, event, key, kind, False, _never, "readings back in range")

    # The window checks: each says whether its fault holds, and how to raise it if so.

    def _stuck(self, event: Reading, th: Thresholds, history: _History) -> Verdict | None:
        values = _last(history.objects, th.stuck_readings)
        if values is None:
            return None
        return (
            "thermometer_stuck",
            max(values) - min(values) <= th.stuck_tolerance_c,
            lambda s: _warn(
                "thermometer_stuck",
                s,
                f"thermometer at {event.node_id} stuck at {event.object_c} °C",
                {"value_c": event.object_c, "readings": len(values)},
            ),
            "value changes again",
        )

    def _ambient(self, event: Reading, th: Thresholds, history: _History) -> Verdict | None:
        deltas = _last(history.deltas, th.drift_window)
        if deltas is None:
            return None
        delta = sum(deltas) / len(deltas)
        return (
            "thermometer_ambient_drift",
            delta < th.ambient_min_delta_c,
            lambda s: _warn(
                "thermometer_ambient_drift",
                s,
                f"thermometer at {event.node_id} reads ambient ({delta:+.1f} °C above air)",
                {"mean_delta_c": round(delta, 2)},
            ),
            "object above ambient again",
        )

    def _peers(self, event: Reading, th: Thresholds, history: _History) -> Verdict | None:
        """Compare the reporting node's median with the median of the ward's others.

        Medians are cached per node and recomputed only for the node that reported, so a
        reading costs one sort of its own window plus one over the ward's nodes.
        """
        medians = self._medians.setdefault(event.ward_id, {})
        ordered = self._sorted.setdefault(event.ward_id, [])
        old = medians.pop(event.node_id, None)
        if old is not None:
            del ordered[bisect.bisect_left(ordered, old)]
        window = _last(history.objects, th.drift_window)
        if window is None:
            return None
        median = statistics.median(window)
        if len(ordered) < th.peer_min_nodes:  # the ward's others, before this node joins
            medians[event.node_id] = median
            bisect.insort(ordered, median)
            return None
        ward_median = _median_of_sorted(ordered)
        medians[event.node_id] = median
        bisect.insort(ordered, median)
        off = median - ward_median
        return (
            "thermometer_drift",
            abs(off) > th.peer_drift_c,
            lambda s: _warn(
                "thermometer_drift",
                s,
                f"thermometer at {event.node_id} reads {off:+.1f} °C off the ward's others",
                {"node_median_c": round(median, 2), "ward_median_c": round(ward_median, 2)},
            ),
            "agrees with the ward again",
        )


# kind, whether the fault holds, how to raise it (built only when it is news), the clear text
Verdict = tuple[str, bool, Callable[[Subject], Raise], str]


class _History:
    __slots__ = ("deltas", "objects")

    def __init__(self, size: int) -> None:
        self.objects: deque[float] = deque(maxlen=size)
        self.deltas: deque[float] = deque(maxlen=size)


def _last(values: deque[float], n: int) -> Sequence[float] | None:
    """The last ``n`` values, or None while there are fewer."""
    size = len(values)
    if size < n:
        return None
    return values if size == n else list(islice(values, size - n, None))


def _warn(kind: str, subject: Subject, summary: str, details: dict[str, float | int]) -> Raise:
    return Raise(kind, "warning", subject, summary, details)


def _warning(kind: str, summary: str, details: dict[str, float]) -> Callable[[Subject], Raise]:
    return lambda s: _warn(kind, s, summary, details)


def _never(_subject: Subject) -> Raise:
    raise AssertionError("a verdict that does not hold builds no Raise")


def _median_of_sorted(values: list[float]) -> float:
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
