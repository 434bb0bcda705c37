"""One entry for the API and the CLI: a ward's day as CSV or PDF bytes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum

from hub.influx.v1 import InfluxV1
from hub.reports.csvout import to_csv
from hub.reports.figures import gather
from hub.reports.pdf import to_pdf
from hub.reports.settings import ReportsSettings
from hub.wards import WardSettings


class ReportFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"


MEDIA_TYPES = {ReportFormat.CSV: "text/csv; charset=utf-8", ReportFormat.PDF: "application/pdf"}


def daily_report(
    influx: InfluxV1,
    settings: ReportsSettings,
    wards: Mapping[str, WardSettings],
    ward: str,
    day: date,
    fmt: ReportFormat,
) -> bytes:
    figures = gather(influx, settings, wards, ward, day)
    if fmt == ReportFormat.PDF:
        return to_pdf(figures)
    return to_csv(figures).encode()


def file_name(ward: str, day: date, fmt: ReportFormat) -> str:
    return f"bao-cao-{ward}-{day.isoformat()}.{fmt.value}"
