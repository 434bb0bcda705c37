"""The end-to-end acknowledgement, hub -> node on ``checkpoint/v1/down/<node>/confirm``
(docs/contract.md, "Confirmations"): which of a node's events the hub made durable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from checkpoint.contract.models import SCHEMA_VERSION, Id, WireModel

MAX_CONFIRM_RANGES = 4096  # ranges in one Confirmation: a few tens of kB at most


def _ranges_ordered(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    last = -1
    for first, through in ranges:
        if first > through or first <= last:
            raise ValueError("ranges must be ascending and must not overlap: [first, last] each")
        last = through
    return ranges


SeqRanges = Annotated[
    list[tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]],
    AfterValidator(_ranges_ordered),
    Field(min_length=1, max_length=MAX_CONFIRM_RANGES),
]


class Confirmation(WireModel):
    """On ``.../confirm``: the hub has made these events of the node durable (derived from,
    stored in InfluxDB or kept as dead letters). The node deletes them from its outbox;
    until then it keeps them and sends them again after a reconnect."""

    v: Literal[1] = SCHEMA_VERSION
    node_id: Id
    seqs: SeqRanges = Field(description="Event sequence numbers as [first, last] ranges")


def confirmations(node_id: str, seqs: Iterable[int]) -> list[Confirmation]:
    """``seqs`` (any order, repeats allowed) as ranges, in as many messages as it takes."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return [
        Confirmation(node_id=node_id, seqs=ranges[i : i + MAX_CONFIRM_RANGES])
        for i in range(0, len(ranges), MAX_CONFIRM_RANGES)
    ]
