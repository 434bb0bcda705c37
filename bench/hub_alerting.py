"""Derivation factory for ``./run bench hub_ingest --derivation bench.hub_alerting:factory``.

Builds the hub's rules and alerts (hub.alerts.runtime.Alerting) on the benchmark hub's
state store and starts their delivery, so that fever alerts reach
``checkpoint/v1/alerts/<ward>`` and the benchmark can time them.
"""

from __future__ import annotations

from typing import Any

from hub.influx.v1 import InfluxV1
from hub.service import HubParts


def factory(parts: HubParts) -> Any:
    from hub.alerts.runtime import Alerting

    cfg = parts.config
    influx = InfluxV1(cfg.influx.url, cfg.influx.database) if cfg.influx.api == "v1" else None
    alerting = Alerting(cfg, influx, engine=parts.engine)
    alerting.start(ticker=True)  # the process ends with the benchmark; no stop needed
    parts.metrics.set_open_alerts_source(alerting.open_alerts)
    return alerting.derivation
