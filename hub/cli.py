"""``checkpoint hub ...``. Imports only typer until a command runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from checkpoint import systemd
from checkpoint.errors import ConfigError
from checkpoint.settings.loading import load_model
from hub.api.roles import Role
from hub.config import HubConfig
from hub.publisher import HubPublisher

if TYPE_CHECKING:
    from hub.api.keys import KeyStore

hub_app = typer.Typer(help="Run the hub service.", no_args_is_help=True)


@hub_app.command("run")
def run_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
) -> None:
    """Ingest node events into InfluxDB and serve /metrics until SIGTERM or Ctrl-C."""
    from hub.service import HubService  # noqa: PLC0415 - the hub extra

    cfg = load_model(HubConfig, config)
    service = HubService(cfg)
    try:
        service.start()
        # systemd (Type=notify, WatchdogSec=): ready once ingest is connected; then pet the
        # watchdog while the ingest writer lives, so a wedged hub gets restarted.
        systemd.notify("READY=1")
        interval = systemd.watchdog_interval_s() or 3600.0
        stop = threading.Event()
        while not stop.wait(interval):
            if service.healthy():
                systemd.notify("WATCHDOG=1")
    except KeyboardInterrupt:
        # greenzone.cli turns SIGTERM into KeyboardInterrupt: for the hub that is the
        # normal way to stop (systemd), so it ends with exit code 0 after a clean stop.
        systemd.notify("STOPPING=1")
    finally:
        service.stop()


@hub_app.command("api")
def api_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
) -> None:
    """Serve only the API (another process runs ingest against the same state store)."""
    from hub.alerts.store import AlertStore  # noqa: PLC0415 - the hub extra
    from hub.api.app import create_app  # noqa: PLC0415 - the hub extra
    from hub.api.context import ApiContext  # noqa: PLC0415 - the hub extra
    from hub.api.server import ApiServer  # noqa: PLC0415 - the hub extra
    from hub.influx.v1 import InfluxV1  # noqa: PLC0415 - the hub extra
    from hub.state import open_store  # noqa: PLC0415 - the hub extra

    cfg = load_model(HubConfig, config)
    engine = open_store(cfg.resolved_state_url())
    influx = InfluxV1(cfg.influx.url, cfg.influx.database, username=cfg.influx.username)
    downlink = HubPublisher(cfg.mqtt, f"{cfg.client_id}-api", connect_wait_s=5.0)
    downlink.start()
    ctx = ApiContext(
        engine,
        influx=influx,
        downlink=downlink,
        alerts=AlertStore(engine, cfg.alerts),
        probes={"broker": downlink.connected, "influxdb": influx.ping},
        stream_poll_s=cfg.api.stream_poll_s,
        console=cfg.console,
        reports=cfg.reports,
        wards=cfg.wards,
    )
    server = ApiServer(create_app(ctx), cfg.api)
    try:
        server.start()
        typer.echo(f"API on http://{cfg.api.host}:{server.port}", err=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass  # SIGTERM or Ctrl-C: a normal stop
    finally:
        ctx.closing.set()  # open alert streams end, their clients reconnect
        server.stop()
        downlink.stop()
        influx.close()


@hub_app.command("report")
def report_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
    ward: Annotated[str, typer.Option(help="The ward id")],
    day: Annotated[str, typer.Option("--date", help="The local day, YYYY-MM-DD")],
    fmt: Annotated[str, typer.Option("--format", help="csv or pdf")] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="Write here (default: CSV to stdout, PDF to FILE name)")
    ] = None,
) -> None:
    """The daily briefing of a ward, from InfluxDB: CSV or a printable PDF."""
    from hub.reports.cli import write_report  # noqa: PLC0415 - the hub extra

    write_report(config, ward, day, fmt, out)


keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
hub_app.add_typer(keys_app, name="keys")


def _key_store(config: Path) -> KeyStore:
    from hub.api.keys import KeyStore  # noqa: PLC0415 - the hub extra
    from hub.state import open_store  # noqa: PLC0415 - the hub extra

    cfg = load_model(HubConfig, config)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return KeyStore(open_store(cfg.resolved_state_url()))


@keys_app.command("create")
def keys_create(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
    role: Annotated[str, typer.Option(help="technician, commander or admin")],
    label: Annotated[str, typer.Option(help="Who holds the key")] = "",
    ward: Annotated[
        list[str] | None, typer.Option(help="Limit the key to this ward (repeatable)")
    ] = None,
) -> None:
    """Create an API key and print its token (shown once)."""

    try:
        chosen = Role(role)
    except ValueError:
        raise ConfigError(f"--role must be one of: {', '.join(r.value for r in Role)}") from None
    store = _key_store(config)
    principal, token = store.issue(chosen, label or chosen.value, wards=ward or None)
    typer.echo(token)
    typer.echo(f"key {principal.key_id}: role {chosen.value}, wards {ward or 'all'}", err=True)


@keys_app.command("list")
def keys_list(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
) -> None:
    """List API keys (never their tokens)."""
    store = _key_store(config)
    for principal, created, revoked in store.list():
        wards = ",".join(sorted(principal.wards)) if principal.wards is not None else "all"
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "active"
        typer.echo(
            f"{principal.key_id}  {principal.role.value:<10}  {wards:<20}  "
            f"{created:%Y-%m-%d %H:%M}  {state}  {principal.label}"
        )


@keys_app.command("revoke")
def keys_revoke(
    config: Annotated[Path, typer.Option("--config", "-c", help="Hub config (YAML)")],
    key_id: Annotated[str, typer.Argument(help="The key id (from `keys list`)")],
) -> None:
    """Revoke an API key; it stops working at once."""
    store = _key_store(config)
    store.revoke(key_id)
    typer.echo(f"revoked {key_id}", err=True)
