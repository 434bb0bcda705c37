"""Decide what an incoming MQTT message is: an event, a node status, or a reject.

Pure and fast (it runs on the MQTT network thread): no I/O, the clock passed in. The
reject reasons are the contract codec's (checkpoint/contract/codec.py) plus the hub's own
below; dashboards and the dead-letter store group by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from checkpoint.contract import Event, NodeStatus, decode_event, decode_status, topics
from checkpoint.contract.codec import REASONS
from checkpoint.errors import ContractError
from hub.config import IngestSettings

BAD_TIMESTAMP = "bad_timestamp"  # the event's time is far ahead of or behind the hub's clock
ID_REUSED = "id_reused"  # an id already stored for a different point: a node bug, keep both
INFLUX_REFUSED = "influx_refused"  # InfluxDB refused the point itself (not an outage)
DECODE_ERROR = "decode_error"  # the decoder failed unexpectedly: a hub bug, keep the input
RATE_LIMITED = "rate_limited"  # a valid event over its node's budget (hub/ingest/admission.py)
RETAINED = "retained"  # published retained where only statuses are: the hub clears it
HUB_REASONS = (BAD_TIMESTAMP, ID_REUSED, INFLUX_REFUSED, DECODE_ERROR, RATE_LIMITED, RETAINED)
ALL_REASONS = (*REASONS, *HUB_REASONS)


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str
    event: Event | None = None  # bad_timestamp: the event itself was sound


Classified = Event | NodeStatus | Rejected


@lru_cache(maxsize=8)
def _window(now: datetime, future_s: float, past_s: float) -> tuple[datetime, datetime]:
    """The latest and earliest event time accepted at ``now``: one arrival's messages
    share one ``now``, so this is worked out once for all of them."""
    return now + timedelta(seconds=future_s), now - timedelta(seconds=past_s)


def classify(
    topic: str, payload: bytes, now: datetime, settings: IngestSettings, *, retained: bool = False
) -> Classified:
    """Never raises for bad input: every failure becomes a ``Rejected`` with a reason.

    ``retained``: the broker kept the message for new subscribers. Only a node's status is
    meant to be kept; anything else retained would come again with every subscription (and
    an event is not an event twice), so it is refused whatever it holds."""
    try:
        if topics.is_status_topic(topic):
            return decode_status(topic, payload)
        if retained:
            raise ContractError(RETAINED, f"{len(payload)} bytes published retained on {topic!r}")
        event = decode_event(topic, payload)
    except ContractError as exc:
        return Rejected(exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - a decoder bug must not drop the message
        return Rejected(DECODE_ERROR, f"{type(exc).__name__}: {exc}"[:500])
    latest, earliest = _window(now, settings.max_future_s, settings.max_past_s)
    if event.ts > latest:
        return Rejected(
            BAD_TIMESTAMP,
            f"ts {event.ts.isoformat()} is more than {settings.max_future_s:g}s "
            f"ahead of the hub's clock ({now.isoformat()})",
            event,
        )
    if event.ts < earliest:
        return Rejected(
            BAD_TIMESTAMP,
            f"ts {event.ts.isoformat()} is more than {settings.max_past_s:g}s "
            f"before the hub's clock ({now.isoformat()})",
            event,
        )
    return event
