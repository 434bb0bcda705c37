"""Derivation factory for ``./run bench hub_ingest --derivation bench.hub_alerting:factory``.

Builds the alerts part (hub.alerts.runtime.Alerting, merged separately from the ingest
branch) around the benchmark's hub and starts its delivery, so that fever alerts reach
``checkpoint/v1/alerts/<ward>`` and the benchmark can time them. Written against the
Alerting interface (``Alerting(config, influx)``, ``.derivation``, ``.start``); not
exercised on the ingest branch, where hub.alerts does not exist yet.
"""

from __future__ import annotations

from typing import Any

from hub.influx.v1 import InfluxV1
from hub.service import HubParts


def factory(parts: HubParts) -> Any:
    from hub.alerts.runtime import Alerting

    cfg = parts.config
    influx = InfluxV1(cfg.influx.url, cfg.influx.database) if cfg.influx.api == "v1" else None
    alerting = Alerting(cfg, influx)
    alerting.start(ticker=True)  # the process ends with the benchmark; no stop needed
    parts.metrics.set_open_alerts_source(alerting.open_alerts)
    return alerting.derivation
