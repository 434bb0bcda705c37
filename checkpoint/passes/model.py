"""The pass: what a checkpoint needs to decide, and nothing that names a person.

A pass carries no name and no ID-card number. ``holder_hash`` is at most a salted hash the
issuing ward can recompute from a document it is shown; it is opaque to everyone else.
Hours are minutes after local midnight in the ward's time zone (policy ``utc_offset_min``).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from checkpoint.contract.models import Id

KeyId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,15}$", examples=["hub-2026a"])]
PassId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{4,32}$", examples=["Kq3v9XbT2mPa"])]
Minute = Annotated[int, Field(ge=0, le=1440, description="Minutes after local midnight")]


class Category(StrEnum):
    """Who carries the pass; the zone policy says which categories pass at each level."""

    RESIDENT = "resident"
    TEMPORARY_RESIDENT = "temporary_resident"  # the "pink card" (the hong)
    ESSENTIAL_WORKER = "essential_worker"
    MEDICAL = "medical"
    DELIVERY = "delivery"
    OFFICIAL = "official"
    VISITOR = "visitor"
    EMERGENCY = "emergency"  # ambulance crews, fire: the curfew does not stop them
    OPERATOR = "operator"  # the on-duty operator's badge: shifts and overrides, never a passage


_WINDOW = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)")


class HourWindow(BaseModel):
    """A daily window in local time; ``end`` before ``start`` wraps past midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Minute = Field(description="Opens at this local minute (inclusive)")
    end: Minute = Field(description="Closes at this local minute (exclusive)")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        """A ward file may write ``"07:00-22:00"`` for ``{start: 420, end: 1320}``."""
        if not isinstance(data, str):
            return data
        match = _WINDOW.fullmatch(data.strip())
        if match is None:
            raise ValueError(f"hours {data[:40]!r} are not like 07:00-22:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return {"start": h1 * 60 + m1, "end": h2 * 60 + m2}

    def contains(self, minute_of_day: int) -> bool:
        if self.start == self.end:
            return True  # a window from a time back to itself is the whole day
        if self.start < self.end:
            return self.start <= minute_of_day < self.end
        return minute_of_day >= self.start or minute_of_day < self.end


def within(windows: tuple[HourWindow, ...], minute_of_day: int) -> bool:
    """No windows means no restriction."""
    return not windows or any(w.contains(minute_of_day) for w in windows)


class Pass(BaseModel):
    """The signed content of a pass (the QR holds this, encoded, plus an Ed25519 signature)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_id: PassId = Field(description="Random id; what events and revocations refer to")
    category: Category
    ward_id: Id = Field(description="The ward that issued the pass and where it is valid")
    zone_id: Id | None = Field(default=None, description="Narrower green zone, if any")
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    checkpoints: tuple[Id, ...] = Field(
        default=(), max_length=8, description="Checkpoints it opens; empty means any in the ward"
    )
    hours: tuple[HourWindow, ...] = Field(
        default=(), max_length=4, description="Daily windows it is valid in; empty means any"
    )
    key_id: KeyId = Field(description="The hub key that signed it")
    label: str = Field(default="", max_length=24, description="Short display text, never a name")
    holder_hash: bytes | None = Field(
        default=None, min_length=8, max_length=16, description="Truncated salted hash, optional"
    )

    @model_validator(mode="after")
    def _window(self) -> Pass:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def valid_at(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until
