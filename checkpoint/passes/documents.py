"""What the hub publishes to nodes (retained, versioned): keys, revocations, zone policy.

Each document carries ``version`` (increasing, the node ignores anything not newer) and
``issued_at`` (when the hub last vouched for it; the hub republishes unchanged documents
with a fresh ``issued_at`` so that a node can tell "nothing changed" from "no news").
Topics and payloads are documented in docs/passes.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from checkpoint.contract.models import Id
from checkpoint.passes.keys import load_public_key
from checkpoint.passes.model import Category, HourWindow, KeyId, PassId

# Names under checkpoint/v1/trust/<name> (topics.trust_topic).
KEYS_DOC: Final = "keys"
REVOCATIONS_DOC: Final = "revocations"
REVOCATIONS_DELTA_DOC: Final = "revocations-delta"
POLICY_DOC: Final = "policy"
DOCUMENT_NAMES: Final = (KEYS_DOC, REVOCATIONS_DOC, REVOCATIONS_DELTA_DOC, POLICY_DOC)


def _is_key(text: str) -> str:
    load_public_key(text)
    return text


PublicKeyText = Annotated[str, AfterValidator(_is_key), Field(description="base64url, 32 bytes")]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    version: int = Field(ge=0, description="Increases with every change")
    issued_at: AwareDatetime = Field(description="When the hub last published it")


# ---------------------------------------------------------------- trust list


class TrustedKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: KeyId
    public_key: PublicKeyText
    valid_from: AwareDatetime | None = Field(default=None, description="Not before (signing)")
    valid_until: AwareDatetime | None = Field(default=None, description="Not after")

    def usable_at(self, now: datetime, skew: timedelta = timedelta(0)) -> bool:
        if self.valid_from is not None and now + skew < self.valid_from:
            return False
        return self.valid_until is None or now < self.valid_until


class TrustList(Document):
    """The public keys a node accepts pass signatures from; removing a key retires it."""

    keys: tuple[TrustedKey, ...] = Field(default=(), max_length=64)

    @model_validator(mode="after")
    def _unique(self) -> TrustList:
        ids = [k.key_id for k in self.keys]
        if len(ids) != len(set(ids)):
            raise ValueError("key ids must be unique")
        return self

    def key(self, key_id: str) -> TrustedKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)


# ---------------------------------------------------------------- revocations


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_id: PassId
    revoked_at: AwareDatetime
    # Once the pass has expired anyway the entry can be dropped from snapshots.
    pass_valid_until: AwareDatetime | None = None


class RevocationSnapshot(Document):
    """Every revocation in force at ``version``; a node replaces its list with it."""

    revoked: tuple[Revocation, ...] = Field(default=())


class RevocationDelta(Document):
    """The revocations added after snapshot ``base_version``, up to ``version``.

    Cumulative since the base, so a node that missed earlier deltas catches up from the
    latest retained one, provided it holds the base snapshot or anything newer.
    """

    base_version: int = Field(ge=0)
    added: tuple[Revocation, ...] = Field(default=())

    @model_validator(mode="after")
    def _order(self) -> RevocationDelta:
        if self.version < self.base_version:
            raise ValueError("version must not be below base_version")
        return self


# ---------------------------------------------------------------- zone policy


class LevelRule(BaseModel):
    """Who may pass at one zone level, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_in: frozenset[Category] = Field(default=frozenset(), description="May enter")
    allow_out: frozenset[Category] = Field(default=frozenset(), description="May leave")
    hours: tuple[HourWindow, ...] = Field(
        default=(), description="Open hours (outside: curfew); empty means all day"
    )
    hours_exempt: frozenset[Category] = Field(
        default=frozenset(), description="Categories the curfew does not apply to"
    )
    temperature_check: bool = Field(
        default=True, description="Whether the node screens temperature before the pass"
    )

    def allows(self, category: Category, direction: str) -> bool:
        return category in (self.allow_in if direction == "in" else self.allow_out)


MAX_ZONE_DEPTH: Final = 8


def _is_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


TimeZoneName = Annotated[
    str,
    Field(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+/-]*$", examples=["Asia/Ho_Chi_Minh"]),
    AfterValidator(_is_time_zone),
]


class ZoneSpec(BaseModel):
    """A green zone; ``parent`` is the zone it lies inside (Hoang Mai's 3 nested layers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parent: Id | None = Field(default=None, description="The enclosing zone, if any")
    levels: dict[Id, LevelRule] = Field(
        default_factory=dict, description="This zone's own rules for some levels"
    )


def zone_chain(zones: Mapping[str, ZoneSpec], zone_id: str | None) -> list[str]:
    """``zone_id`` and the zones around it, innermost first."""
    chain: list[str] = []
    current = zone_id
    while current is not None:
        if current in chain or len(chain) >= MAX_ZONE_DEPTH:
            raise ValueError(f"zone {zone_id!r}: zones nest in a loop or too deep")
        chain.append(current)
        spec = zones.get(current)
        current = spec.parent if spec is not None else None
    return chain


def check_zones(zones: Mapping[str, ZoneSpec]) -> None:
    """Every parent is a zone; no loops; at most MAX_ZONE_DEPTH layers."""
    for zone_id, zone in zones.items():
        if zone.parent is not None and zone.parent not in zones:
            raise ValueError(f"zone {zone_id!r}: parent {zone.parent!r} is not a zone")
        zone_chain(zones, zone_id)


class Shift(BaseModel):
    """One shift of a checkpoint's plan: who is on duty is whoever signed in with a badge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Id = Field(description="e.g. ca1")
    hours: HourWindow = Field(description="Local time, e.g. 07:00-11:00")


class ZonePolicy(Document):
    """Per-level rules; ``fallback`` applies when the node's lists are too old to trust."""

    time_zone: TimeZoneName = Field(
        default="Asia/Ho_Chi_Minh", description="The ward's local time, for hours and shifts"
    )
    utc_offset_min: int = Field(
        default=7 * 60,
        ge=-14 * 60,
        le=14 * 60,
        description="Kept for older documents; ``time_zone`` decides local time",
    )
    levels: dict[Id, LevelRule] = Field(default_factory=dict)
    ward_levels: dict[Id, dict[Id, LevelRule]] = Field(
        default_factory=dict,
        description="Per ward: its district's own rules for some levels, over ``levels``",
    )
    zones: dict[Id, ZoneSpec] = Field(
        default_factory=dict, max_length=1000, description="Zone id -> where it lies, own rules"
    )
    strictness: dict[Id, int] = Field(
        default_factory=dict,
        description="Level -> rank, higher is stricter: an outer zone's level applies "
        "inside unless the inner zone's is stricter",
    )
    shifts: dict[Id, tuple[Shift, ...]] = Field(
        default_factory=dict,
        description="Ward or checkpoint id -> its shift plan; a checkpoint's own wins",
    )
    fallback: LevelRule = Field(
        default_factory=LevelRule, description="Stricter rule once the lists are stale"
    )

    @model_validator(mode="after")
    def _zones_nest(self) -> ZonePolicy:
        check_zones(self.zones)
        return self

    def zone_chain(self, zone_id: str | None) -> list[str]:
        """``zone_id`` and the zones around it, innermost first."""
        return zone_chain(self.zones, zone_id)

    def rule(self, ward_id: str, level: str, zone_id: str | None = None) -> LevelRule | None:
        """The rule at ``level`` in ``zone_id`` of ``ward_id``: the innermost zone that has
        its own, else the ward's district's, else the common one; None if nobody defined it."""
        for zone in self.zone_chain(zone_id):
            spec = self.zones.get(zone)
            if spec is not None and level in spec.levels:
                return spec.levels[level]
        own = self.ward_levels.get(ward_id, {}).get(level)
        return own if own is not None else self.levels.get(level)

    def effective_level(
        self, levels: Mapping[str, str], checkpoint_id: str, zone_id: str | None
    ) -> str | None:
        """The strictest level set on the checkpoint or any zone around it; None if none is.

        An unranked level counts below every ranked one; between equals the innermost wins.
        """
        places = [checkpoint_id, *self.zone_chain(zone_id)]
        found = [levels[p] for p in places if p in levels]
        if not found:
            return None
        return max(found, key=lambda lv: self.strictness.get(lv, -1))

    def shift_at(self, ward_id: str, checkpoint_id: str, now: datetime) -> Shift | None:
        """The planned shift at the checkpoint now; None outside every shift (or no plan)."""
        plan = self.shifts.get(checkpoint_id, self.shifts.get(ward_id, ()))
        minute = self.local_minute(now)
        return next((s for s in plan if s.hours.contains(minute)), None)

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.time_zone))

    def local_minute(self, now: datetime) -> int:
        local = self.local(now)
        return local.hour * 60 + local.minute
