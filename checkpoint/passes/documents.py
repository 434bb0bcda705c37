"""What the hub publishes to nodes (retained, versioned): keys, revocations, zone policy.

Each document carries ``version`` (increasing, the node ignores anything not newer) and
``issued_at`` (when the hub last vouched for it; the hub republishes unchanged documents
with a fresh ``issued_at`` so that a node can tell "nothing changed" from "no news").
Topics and payloads are documented in docs/passes.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

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

    def allows(self, category: Category, direction: str) -> bool:
        return category in (self.allow_in if direction == "in" else self.allow_out)


class ZonePolicy(Document):
    """Per-level rules; ``fallback`` applies when the node's lists are too old to trust."""

    utc_offset_min: int = Field(
        default=7 * 60, ge=-14 * 60, le=14 * 60, description="Local time (Vietnam: UTC+7)"
    )
    levels: dict[Id, LevelRule] = Field(default_factory=dict)
    ward_levels: dict[Id, dict[Id, LevelRule]] = Field(
        default_factory=dict,
        description="Per ward: its district's own rules for some levels, over ``levels``",
    )
    fallback: LevelRule = Field(
        default_factory=LevelRule, description="Stricter rule once the lists are stale"
    )

    def rule(self, ward_id: str, level: str) -> LevelRule | None:
        """The rule at ``level`` in ``ward_id``; None for a level nobody defined."""
        own = self.ward_levels.get(ward_id, {}).get(level)
        return own if own is not None else self.levels.get(level)
