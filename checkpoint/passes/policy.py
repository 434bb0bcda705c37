"""Default zone policy: the colour levels and the districts' 5-level plans.

A ward command centre publishes its own policy (documents.ZonePolicy) over MQTT; this is
what a node uses until it has one, and the starting point the hub offers. Directive 16:
residents leave only for essential needs; strangers do not enter; medical staff and
officials always pass.
"""

from __future__ import annotations

from datetime import UTC, datetime

from checkpoint.passes.documents import LevelRule, ZonePolicy
from checkpoint.passes.model import Category, HourWindow

C = Category
# An operator badge signs shifts in and out and authorises overrides; it opens nothing.
EVERYONE = frozenset(Category) - {C.OPERATOR}
ALWAYS = frozenset({C.MEDICAL, C.OFFICIAL, C.EMERGENCY})
ESSENTIAL = ALWAYS | {C.ESSENTIAL_WORKER}
RESIDENTS = frozenset({C.RESIDENT, C.TEMPORARY_RESIDENT})
DAYTIME = (HourWindow(start=6 * 60, end=22 * 60),)  # 22h-6h curfew
WORKDAY = (HourWindow(start=6 * 60, end=18 * 60),)

GREEN = LevelRule(allow_in=EVERYONE, allow_out=EVERYONE)
YELLOW = LevelRule(
    allow_in=EVERYONE - {C.VISITOR},
    allow_out=EVERYONE,
    hours=DAYTIME,
    hours_exempt=ESSENTIAL,
)
ORANGE = LevelRule(
    allow_in=RESIDENTS | ESSENTIAL | {C.DELIVERY},
    allow_out=RESIDENTS | ESSENTIAL,
    hours=WORKDAY,
    hours_exempt=ESSENTIAL,
)
RED = LevelRule(allow_in=RESIDENTS | ESSENTIAL, allow_out=ALWAYS, hours_exempt=ALWAYS)
# Stale lists: a revoked pass might still look good, so only the people who must pass do,
# and residents may still come home.
FALLBACK = LevelRule(allow_in=RESIDENTS | ALWAYS, allow_out=ALWAYS)


# Higher is stricter; the colours and the 5-level plans rank side by side.
STRICTNESS = {
    "green": 0,
    "level1": 0,
    "yellow": 1,
    "level2": 1,
    "orange": 2,
    "level3": 2,
    "level4": 3,
    "red": 4,
    "level5": 4,
}


def default_policy(version: int = 0, issued_at: datetime | None = None) -> ZonePolicy:
    levels = {
        "green": GREEN,
        "yellow": YELLOW,
        "orange": ORANGE,
        "red": RED,
        # The 5-level plans (5 phuong an): 1 is normal life, 5 is full lockdown.
        "level1": GREEN,
        "level2": YELLOW,
        "level3": ORANGE,
        "level4": LevelRule(
            allow_in=RESIDENTS | ESSENTIAL, allow_out=ESSENTIAL, hours_exempt=ALWAYS
        ),
        "level5": RED,
    }
    return ZonePolicy(
        version=version,
        issued_at=issued_at or datetime(2026, 1, 1, tzinfo=UTC),
        levels=levels,
        strictness=STRICTNESS,
        fallback=FALLBACK,
    )
