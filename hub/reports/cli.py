"""``checkpoint hub report``: the daily briefing from the command line."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from checkpoint.errors import ConfigError
from checkpoint.settings.loading import load_model
from checkpoint.settings.secrets import read_secret
from hub.config import HubConfig
from hub.influx.v1 import InfluxV1
from hub.reports.render import ReportFormat, daily_report, file_name


def write_report(config: Path, ward: str, day: str, fmt: str, out: Path | None) -> Path | None:
    """Write the report to ``out`` (or stdout for CSV); return the file written, if any."""
    try:
        chosen = ReportFormat(fmt)
    except ValueError:
        raise ConfigError("--format must be csv or pdf") from None
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise ConfigError(f"--date {day!r} is not a date (YYYY-MM-DD)") from None
    cfg = load_model(HubConfig, config)
    ix = cfg.influx
    password = read_secret(ix.password_credential) if ix.password_credential else None
    influx = InfluxV1(ix.url, ix.database, username=ix.username, password=password)
    try:
        body = daily_report(influx, cfg.reports, cfg.wards, ward, when, chosen)
    finally:
        influx.close()
    if out is None and chosen == ReportFormat.CSV:
        sys.stdout.write(body.decode())
        return None
    target = out or Path(file_name(ward, when, chosen))
    target.write_bytes(body)
    print(f"wrote {target}", file=sys.stderr)
    return target
