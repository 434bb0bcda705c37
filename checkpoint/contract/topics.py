"""The MQTT topic tree, defined once for nodes, the hub and third-party clients.

Every topic starts ``checkpoint/v1/`` and puts the node id at level 3, so that a broker
ACL can say "a node writes only under ``checkpoint/v1/up/<its id>/`` and reads only
under ``checkpoint/v1/down/<its id>/``" (Mosquitto: ``pattern write checkpoint/v1/up/%u/#``).

    checkpoint/v1/up/<node>/events/<type>   node -> hub   QoS 1, events from the outbox
    checkpoint/v1/up/<node>/status          node -> hub   retained online/offline (last will)
    checkpoint/v1/down/<node>/config        hub -> node   retained, the node's config
    checkpoint/v1/down/<node>/commands      hub -> node   QoS 1, technician commands
    checkpoint/v1/down/<node>/confirm       hub -> node   QoS 1, events the hub made durable
    checkpoint/v1/down/<node>/release       hub -> node   retained, signed: the version to run
    checkpoint/v1/trust/<name>              hub -> nodes  retained: keys, revocations, policy
    checkpoint/v1/alerts/<ward>             hub -> ward   alert changes for a command centre
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checkpoint.errors import ContractError

ROOT = "checkpoint/v1"
UP = f"{ROOT}/up"
DOWN = f"{ROOT}/down"
TRUST = f"{ROOT}/trust"
ALERTS = f"{ROOT}/alerts"

# Ids become topic levels, InfluxDB tag values and file names: keep them plain.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ID_RE = re.compile(ID_PATTERN)

# Subscriptions the hub makes.
ALL_UP = f"{UP}/#"  # everything nodes publish: an unknown topic is dead-lettered, not unseen
ALL_EVENTS = f"{UP}/+/events/+"
ALL_STATUS = f"{UP}/+/status"
# What the command centre must hear about at once: the hub's priority lane takes these.
PRIORITY_EVENT_TYPES = ("passage", "barrier")
PRIORITY_FILTERS = (*(f"{UP}/+/events/{t}" for t in PRIORITY_EVENT_TYPES), ALL_STATUS)

# Subscriptions a node makes besides its own config and commands: keys, revocations, zone
# policy and every ward's levels, all retained.
ALL_TRUST = f"{TRUST}/#"
LEVELS_PREFIX = "levels-"  # trust/levels-<ward>: a ward's zone levels (contract/levels.py)

# Broker ACL entries (Mosquitto): the hub's subtrees; node_up_filter and node_down_filter
# confine one node's account to its own subtree.
ALL_TOPICS = f"{ROOT}/#"
ALL_DOWN = f"{DOWN}/#"
ALL_ALERTS = f"{ALERTS}/#"


def node_up_filter(node_id: str) -> str:
    """Everything one node may publish: a broker ACL line for that node's account."""
    return _node_topic(UP, node_id, "#")


def node_down_filter(node_id: str) -> str:
    """Everything the hub sends one node: a broker ACL line for that node's account."""
    return _node_topic(DOWN, node_id, "#")


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is usable as a topic level, else raise ContractError."""
    if not _ID_RE.fullmatch(value):
        raise ContractError(
            "bad_id",
            f"{what} {value!r} must be 1-63 characters of a-z, 0-9, '_' or '-', "
            "starting with a letter or digit",
        )
    return value


def _node_topic(side: str, node_id: str, tail: str) -> str:
    """``<side>/<node>/<tail>``: a topic in one node's subtree, its node id checked."""
    return f"{side}/{check_id(node_id, 'node id')}/{tail}"


def event_topic(node_id: str, event_type: str) -> str:
    return _node_topic(UP, node_id, f"events/{event_type}")


def status_topic(node_id: str) -> str:
    return _node_topic(UP, node_id, "status")


def config_topic(node_id: str) -> str:
    return _node_topic(DOWN, node_id, "config")


def command_topic(node_id: str) -> str:
    return _node_topic(DOWN, node_id, "commands")


def confirm_topic(node_id: str) -> str:
    return _node_topic(DOWN, node_id, "confirm")


def release_topic(node_id: str) -> str:
    """The node's desired software version (checkpoint/release/desired.py), retained."""
    return _node_topic(DOWN, node_id, "release")


def trust_topic(name: str) -> str:
    return f"{TRUST}/{check_id(name, 'trust document name')}"


def levels_topic(ward_id: str) -> str:
    return trust_topic(f"{LEVELS_PREFIX}{ward_id}")


def alert_topic(ward_id: str) -> str:
    return f"{ALERTS}/{check_id(ward_id, 'ward id')}"


def shared(group: str, topic_filter: str) -> str:
    """An MQTT 5 shared subscription: the broker gives each message to one group member."""
    return f"$share/{check_id(group, 'share group')}/{topic_filter}"


@dataclass(frozen=True, slots=True)
class UpTopic:
    """A parsed node -> hub topic."""

    node_id: str
    channel: str  # "events" or "status"
    event_type: str | None  # set for "events"


def parse_up_topic(topic: str) -> UpTopic:
    """Split a node -> hub topic; raise ContractError(``unknown_topic``) otherwise."""
    parts = topic.split("/")
    if len(parts) >= 4 and "/".join(parts[:3]) == UP and _ID_RE.fullmatch(parts[3]):
        if len(parts) == 6 and parts[4] == "events" and parts[5]:
            return UpTopic(parts[3], "events", parts[5])
        if len(parts) == 5 and parts[4] == "status":
            return UpTopic(parts[3], "status", None)
    raise ContractError("unknown_topic", f"{topic!r} is not a node event or status topic")


# Predicates for hot paths (every received message): a split and index checks, no regex.


def is_status_topic(topic: str) -> bool:
    """``checkpoint/v1/up/<node>/status``, as the priority lane subscribes to it: a topic
    that only ends in /status is an unknown topic, dead-lettered as such."""
    parts = topic.split("/")
    return len(parts) == 5 and parts[4] == "status"


def is_priority_event_topic(topic: str) -> bool:
    """A passage or barrier alarm: what ``PRIORITY_FILTERS`` delivers, statuses aside."""
    parts = topic.split("/")
    return len(parts) == 6 and parts[4] == "events" and parts[5] in PRIORITY_EVENT_TYPES


def trust_name(topic: str) -> str | None:
    """The document name of a ``checkpoint/v1/trust/<name>`` topic, else None."""
    prefix, _, name = topic.rpartition("/")
    return name if prefix == TRUST and name else None


def is_levels_topic(topic: str) -> bool:
    """Any ward's ``trust/levels-<ward>`` topic (a node applies only its own ward's)."""
    name = trust_name(topic)
    return name is not None and name.startswith(LEVELS_PREFIX)
