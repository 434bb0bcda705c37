"""The read stage of a lane: each arrival becomes what its batch will do with it.

A node status is kept for the rules; a sound event becomes its InfluxDB line; anything
else becomes a dead letter with its reason (bad input, a node over its budget, an event id
reused for another event). Runs on the session's reader thread, once per message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from checkpoint.contract import Event, Health, NodeStatus
from checkpoint.contract.models import EventBase
from hub.config import HubConfig
from hub.influx.lineproto import LineProtocolError
from hub.influx.schema import event_line, trace_point
from hub.ingest.admission import NodeAdmission
from hub.ingest.batch import Pending
from hub.ingest.classify import DECODE_ERROR, ID_REUSED, RATE_LIMITED, Rejected, classify
from hub.ingest.deadletters import DeadLetter
from hub.ingest.ratelog import RateLimitedLog
from hub.ingest.recent import RecentIds
from hub.metrics import HubMetrics

log = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        config: HubConfig,
        *,
        recent: RecentIds,
        refused: RecentIds,
        admission: NodeAdmission,
        stats: dict[str, int],
        metrics: HubMetrics,
    ) -> None:
        self.config = config
        self.recent = recent  # shared by the lanes
        self.refused = refused  # events kept as dead letters, shared by the lanes
        self.admission = admission  # one budget per node across the lanes
        self.stats = stats  # the lane's counters
        self.metrics = metrics
        self._reject_log = RateLimitedLog(log, config.ingest.reject_log_per_min)

    def read(self, item: Pending, now: datetime) -> bool:
        """Classify and prepare ``item``; False for a copy the priority lane has (not
        counted as received twice)."""
        result = classify(item.topic, item.payload, now, self.config.ingest, retained=item.retained)
        if item.copy:
            if isinstance(result, Rejected):
                return False  # the priority lane dead-letters it; one dead letter is enough
            if not isinstance(result, NodeStatus) and self.recent.get(result.id) is not None:
                return False  # the priority lane stored it already
        event = result.event if isinstance(result, Rejected) else result
        if isinstance(event, EventBase):  # a node's own event (its topic's): confirmable
            item.confirm = (event.node_id, event.seq)
        if isinstance(result, NodeStatus):
            item.status = result
            self.stats["statuses"] += 1
        elif isinstance(result, Rejected):
            self.reject(item, result, now)
            if isinstance(result.event, Health):
                # Dead-lettered for its time, yet a node's own report: the rules still
                # hear it (no line: it is not stored), or a node whose clock jumped far
                # ahead would only ever look silent, never raise clock_skew.
                item.event = result.event
        elif not self.admission.admit(result.node_id, result.ts.timestamp()):
            # Valid, but its node is over budget: kept as a dead letter (one row, no rules
            # pass) so that the broker's queue, which every node shares, keeps moving.
            detail = (
                f"node {result.node_id} made more than {self.config.ingest.node_max_per_minute} "
                f"events in the minute of {result.ts.isoformat()}; event {result.id}"
            )
            self.reject(item, Rejected(RATE_LIMITED, detail, result), now)
        else:
            self._prepare(item, result, now)
        return True

    def _prepare(self, item: Pending, event: Event, now: datetime) -> None:
        """A sound event within its node's budget: its line (and its pass trace), unless
        its id was stored for another event."""
        try:
            line, time_ns = event_line(event)
            trace = trace_point(event)
            if trace is not None:
                line += "\n" + trace.to_line()  # written in the same request
        except LineProtocolError as exc:
            # The contract let through what line protocol cannot carry: a hub bug; the
            # message is kept, and no rule hears of it.
            self.reject(item, Rejected(DECODE_ERROR, f"event {event.id}: {exc}"), now)
            return
        seen = self.recent.get(event.id)
        if seen is not None and seen != time_ns:
            detail = (
                f"event id {event.id} was stored at {seen} ns, this one would be at {time_ns} ns"
            )
            self.reject(item, Rejected(ID_REUSED, detail), now)
            return
        # Stored before (redelivery, replay): written again it overwrites its own point,
        # which is cheaper than a second code path; counted once stored.
        item.line, item.event, item.time_ns = line, event, time_ns

    def reject(self, item: Pending, rejected: Rejected, now: datetime) -> None:
        event = rejected.event
        if event is not None and self.refused.get(event.id) is not None:
            # Sent again (the node's confirmation was lost, or it reconnected first): the
            # event is kept already. Acknowledged and confirmed as before, not kept twice.
            self.stats["duplicates"] += 1
            self.metrics.duplicates.inc()
            return
        item.refused_id = None if event is None else event.id
        self.stats["rejected"] += 1
        self.metrics.rejected.labels(reason=rejected.reason).inc()
        limit = self.config.ingest.dead_letter_max_bytes
        item.dead = DeadLetter(
            now,
            item.topic,
            rejected.reason,
            rejected.detail,
            item.payload[:limit],
            len(item.payload),
        )
        self._reject_log.report(
            rejected.reason,
            "rejected %s on %s: %s",
            rejected.reason,
            item.topic,
            rejected.detail[:300],
        )
