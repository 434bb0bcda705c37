"""Where the API listens (the ``api:`` section of the hub config)."""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import Host


class ApiSettings(StrictModel):
    enabled: bool = Field(default=True, description="Serve the API from `checkpoint hub run`")
    host: Host = Field(default="127.0.0.1", description="Bind address; put TLS in front of it")
    port: int = Field(default=8080, ge=0, le=65535, description="Bind port (0: any free port)")
    root_path: str = Field(default="", description="Prefix when served behind a reverse proxy")
    stream_poll_s: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often an open alert stream (console, /alerts/stream) looks for changes",
    )
