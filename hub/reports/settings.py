"""The ``reports:`` section of the hub config: each ward's full name and shift plan."""

from __future__ import annotations

from pydantic import Field, model_validator

from checkpoint.contract.models import Id
from checkpoint.settings.base import StrictModel


class Shift(StrictModel):
    name: str = Field(max_length=32, description="As the ward calls it, e.g. Ca 1")
    start_h: int = Field(ge=0, le=23, description="Local hour the shift starts")
    end_h: int = Field(ge=1, le=24, description="Local hour it ends (24: midnight)")

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end_h <= self.start_h:
            raise ValueError("end_h must be after start_h (a shift lies within one day)")
        return self


# Used when a ward has no shift plan: four 6-hour shifts from midnight.
DEFAULT_SHIFTS = (
    Shift(name="Ca 1", start_h=0, end_h=6),
    Shift(name="Ca 2", start_h=6, end_h=12),
    Shift(name="Ca 3", start_h=12, end_h=18),
    Shift(name="Ca 4", start_h=18, end_h=24),
)


class WardReport(StrictModel):
    name: str = Field(
        default="", max_length=128, description="The ward's full name, e.g. Phường Phúc La"
    )
    shifts: list[Shift] | None = Field(
        default=None,
        max_length=12,
        description="The ward's shift plan on whole local hours; none: four 6-hour shifts",
    )


class ReportsSettings(StrictModel):
    utc_offset_h: int = Field(
        default=7, ge=-12, le=14, description="Local time of the reports' days (Vietnam: +7)"
    )
    wards: dict[Id, WardReport] = Field(default_factory=dict, description="By ward id")

    def ward(self, ward_id: str) -> WardReport:
        return self.wards.get(ward_id) or WardReport()

    def shifts(self, ward_id: str) -> tuple[Shift, ...]:
        plan = self.ward(ward_id).shifts
        return tuple(plan) if plan else DEFAULT_SHIFTS
