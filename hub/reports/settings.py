"""The ``reports:`` section of the hub config (the wards' names and shifts: ``wards:``)."""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel


class ReportsSettings(StrictModel):
    utc_offset_h: int = Field(
        default=7, ge=-12, le=14, description="Local time of the reports' days (Vietnam: +7)"
    )
