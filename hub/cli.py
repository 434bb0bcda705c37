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
    """Ingest node events into InfluxDB and serve /metrics until SIGTERM or Ctrl-C."""
    from checkpoint.settings.loading import load_model
    from hub.config import HubConfig
    from hub.service import HubService

    cfg = load_model(HubConfig, config)
    service = HubService(cfg)
    try:
        service.start()
        threading.Event().wait()
    except KeyboardInterrupt:
        # checkpoint.cli turns SIGTERM into KeyboardInterrupt: for the hub that is the
        # normal way to stop (systemd), so it ends with exit code 0 after a clean stop.
        pass
    finally:
        service.stop()
