"""A ward's own part of the zone policy, as the ward officer writes it in the ward file
and as command staff set it through the hub API.

The hub keeps one ``WardPolicy`` per ward and composes them with the common defaults into
the one signed ``ZonePolicy`` document every node receives (``compose``). Hours are local
time in the ward's ``time_zone`` and may be written ``"07:00-22:00"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from checkpoint.contract.models import Id
from checkpoint.passes.documents import (
    LevelRule,
    Shift,
    TimeZoneName,
    ZonePolicy,
    ZoneSpec,
    check_zones,
)
from checkpoint.passes.policy import default_policy


class WardPolicy(BaseModel):
    """Who may pass, when, and with what checks, per level and zone; and the shift plans."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "levels": {
                        "level3": {
                            "allow_in": ["resident", "temporary_resident", "essential_worker"],
                            "allow_out": ["essential_worker", "emergency"],
                            "hours": ["07:00-22:00"],
                            "hours_exempt": ["emergency"],
                        }
                    },
                    "zones": {"phucla-to7": {}, "phucla-to7-ngo2": {"parent": "phucla-to7"}},
                    "shifts": [
                        {"name": "ca1", "hours": "07:00-11:00"},
                        {"name": "ca2", "hours": "11:00-15:00"},
                    ],
                }
            ]
        },
    )

    time_zone: TimeZoneName = Field(default="Asia/Ho_Chi_Minh", description="Local time")
    levels: dict[Id, LevelRule] = Field(
        default_factory=dict,
        max_length=32,
        description="The ward's rule per level, over the common defaults",
    )
    zones: dict[Id, ZoneSpec] = Field(
        default_factory=dict,
        max_length=500,
        description="The ward's zones: which lies inside which, and their own rules",
    )
    shifts: tuple[Shift, ...] = Field(
        default=(), max_length=12, description="Every checkpoint's shift plan by default"
    )
    checkpoint_shifts: dict[Id, tuple[Shift, ...]] = Field(
        default_factory=dict, max_length=500, description="A checkpoint's own shift plan"
    )

    @model_validator(mode="after")
    def _consistent(self) -> WardPolicy:
        check_zones(self.zones)
        for plan in (self.shifts, *self.checkpoint_shifts.values()):
            names = [s.name for s in plan]
            if len(names) != len(set(names)):
                raise ValueError("shift names must be unique within a plan")
        return self


def compose(wards: Mapping[str, WardPolicy], version: int, issued_at: datetime) -> ZonePolicy:
    """The document for every node: the defaults, with each ward's part over them."""
    base = default_policy(version, issued_at)
    zones: dict[str, ZoneSpec] = {}
    owner: dict[str, str] = {}
    shifts: dict[str, tuple[Shift, ...]] = {}
    time_zones = {w.time_zone for w in wards.values()} or {base.time_zone}
    if len(time_zones) > 1:
        raise ValueError(f"the wards of one hub disagree on the time zone: {sorted(time_zones)}")
    for ward_id, ward in sorted(wards.items()):
        for zone_id, spec in ward.zones.items():
            if zone_id in owner:
                raise ValueError(f"zone {zone_id!r} is in both {owner[zone_id]} and {ward_id}")
            owner[zone_id] = ward_id
            zones[zone_id] = spec
        if ward.shifts:
            shifts[ward_id] = ward.shifts
        shifts.update(ward.checkpoint_shifts)
    return base.model_copy(
        update={
            "time_zone": time_zones.pop(),
            "ward_levels": {w: p.levels for w, p in wards.items() if p.levels},
            "zones": zones,
            "shifts": shifts,
        }
    )
