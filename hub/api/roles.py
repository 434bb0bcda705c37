"""Who may do what: a key has one role and, optionally, a set of wards it is limited to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    TECHNICIAN = "technician"  # nodes: health, config pushes, commands
    COMMANDER = "commander"  # alerts, zone levels, passes
    ADMIN = "admin"  # everything, including API keys


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: Role
    wards: frozenset[str] | None  # None: every ward
    label: str

    def may_act_in(self, ward_id: str) -> bool:
        return self.wards is None or ward_id in self.wards

    def covers(self, role: Role, wards: frozenset[str] | None) -> bool:
        """A key with ``role`` and ``wards`` gives no more than this one: the same role (or
        this one is admin), and no ward this one may not act in (None: every ward)."""
        if role is not self.role and self.role is not Role.ADMIN:
            return False
        return self.wards is None or (wards is not None and wards <= self.wards)

    def visible_wards(self, requested: str | None) -> frozenset[str] | None:
        """The wards a listing may show: the request's ward, within the key's limit."""
        if requested is not None:
            return frozenset({requested})
        return self.wards
