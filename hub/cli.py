"""``checkpoint hub ...``. Imports only typer until a command runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

hub_app = typer.Typer(help="Run the hub service.", no_args_is_help=True)


@hub_app.command("run")
def run_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
) -> None:
    """Ingest node events into InfluxDB until SIGTERM."""
    from checkpoint.settings.loading import load_model
    from hub.config import HubConfig
    from hub.influx.v1 import InfluxV1
    from hub.ingest.consumer import Ingest

    cfg = load_model(HubConfig, config)
    influx = InfluxV1(cfg.influx.url, cfg.influx.database)
    ingest = Ingest(cfg, influx)
    ingest.start()
    try:
        threading.Event().wait()
    finally:
        ingest.stop()
        influx.close()
