"""The ``wards:`` section of the hub config: each ward's full name and shift plan, by ward id.

One place for what the console, the printed pass card and the daily report say about a ward.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, model_validator

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


class WardSettings(StrictModel):
    # As long as the ward file allows: provisioning copies the ward file's `name` here.
    name: str = Field(
        default="",
        max_length=200,
        description="The ward's full name with diacritics, e.g. Phường Phúc La: on the "
        "console, the printed pass card and the daily report (none: the ward id)",
    )
    shifts: list[Shift] | None = Field(
        default=None,
        max_length=12,
        description="The ward's shift plan for the daily report, on whole local hours; "
        "none: four 6-hour shifts",
    )


def ward_name(wards: Mapping[str, WardSettings], ward_id: str) -> str:
    """The ward's full name, or "" when the config names none."""
    ward = wards.get(ward_id)
    return ward.name if ward is not None else ""


def ward_shifts(wards: Mapping[str, WardSettings], ward_id: str) -> tuple[Shift, ...]:
    ward = wards.get(ward_id)
    return tuple(ward.shifts) if ward is not None and ward.shifts else DEFAULT_SHIFTS
