"""The node's retained status message: ``online`` on every connect, ``offline`` as its
last will and when it stops cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from checkpoint import __version__
from checkpoint.contract import NodeStatus, encode


def status_payload(node_id: str, state: str) -> bytes:
    status = NodeStatus(
        node_id=node_id,
        state="online" if state == "online" else "offline",
        ts=datetime.now(UTC),
        software_version=__version__,
    )
    return encode(status)
