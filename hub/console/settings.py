"""The ``console:`` section of the hub config."""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel


class ConsoleSettings(StrictModel):
    enabled: bool = Field(default=True, description="Serve the console at /console")
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 7, description="A sign-in lasts this long (one shift)"
    )
    grafana_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\"'<>]+$",
        description="Grafana base URL for the checkpoint detail links (none: no links)",
    )
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh",
        description="Times on the console's pages are shown in this zone",
    )
    traffic_window_s: float = Field(
        default=600.0,
        gt=0,
        description="A checkpoint with a passage this recent is 'online with traffic'",
    )
