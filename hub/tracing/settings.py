"""How long the hub keeps which pass went through which checkpoint."""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel


class TracingSettings(StrictModel):
    retention_days: float = Field(
        default=21,
        gt=0,
        le=3650,
        description="Passage details (the pass id seen at each passage, measurement "
        "passage_trace) older than this are deleted; the passage counts stay",
    )
    purge_every_s: float = Field(
        default=3600, ge=60, le=86400, description="How often the old details are deleted"
    )
