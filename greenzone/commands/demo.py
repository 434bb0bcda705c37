"""``checkpoint demo``: a simulated ward through the real broker and hub into InfluxDB."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Annotated

import paho.mqtt.client as mqtt_client
import typer
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table

from checkpoint.contract import AlertMessage, BarrierAlarm, Passage, Reading, decode_model, topics
from checkpoint.contract.models import Decision
from checkpoint.errors import ContractError
from checkpoint.localstack import LocalStack
from checkpoint.settings.mqtt import MqttSettings
from hub.api.roles import Role
from hub.api.settings import ApiSettings
from hub.config import HubConfig, InfluxSettings, MetricsSettings
from hub.wards import WardSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as mqtt
    from rich.console import Console

    from checkpoint.contract import Event
    from checkpoint.localstack import LocalStack
    from hub.influx.v1 import InfluxV1
    from hub.service import HubService


def describe(e: Event) -> str | None:
    """One line for an event the hub stored: readings, passages and barrier alarms."""

    if isinstance(e, Reading):
        flag = "[bold red]FEVER?[/]" if e.object_c >= 37.5 else ""
        return (
            f"{e.ts:%H:%M:%S} stored reading  {e.node_id:<18} "
            f"{e.object_c:5.2f} °C (ambient {e.ambient_c:.1f}) {flag}"
        )
    if isinstance(e, Passage):
        colour = "green" if e.decision == Decision.ADMIT else "red"
        t = e.temperature
        temp = (t.second_c if t.second_c is not None else t.first_c) if t is not None else None
        return (
            f"{e.ts:%H:%M:%S} stored passage  {e.node_id:<18} {e.direction:<3} "
            f"[{colour}]{e.decision.value:<6}[/] {e.reason.value:<18} "
            + (f"{temp:5.2f} °C" if temp is not None else "")
        )
    if isinstance(e, BarrierAlarm):
        return (
            f"{e.ts:%H:%M:%S} stored barrier  {e.node_id:<18} "
            f"[bold yellow]{e.kind.value}[/] {e.detail}"
        )
    return None


# The node events' measurements, and what the demo calls them.
EVENT_MEASUREMENTS = {
    "reading": "readings",
    "passage": "passages",
    "barrier": "barrier alarms",
    "health": "health reports",
}


def distinct_events(influx: InfluxV1) -> dict[str, int]:
    """Distinct event ids InfluxDB holds, by measurement (a redelivered event is the same
    point, so this is also the number of points)."""
    counts = {}
    for measurement in EVENT_MEASUREMENTS:
        # The measurement is one of our constants above, not input.
        query = f'SELECT count(distinct("event_id")) AS n FROM "{measurement}"'  # noqa: S608
        rows = influx.query(query)
        counts[measurement] = int(rows[0]["n"]) if rows else 0
    return counts


def print_summary(console: Console, influx: InfluxV1) -> None:
    """What InfluxDB holds at the end, read back with InfluxQL."""

    rows = influx.query(
        'SELECT count("object_c") AS n, mean("object_c") AS mean_c, max("object_c") AS max_c '
        'FROM "reading" GROUP BY "checkpoint"'
    )
    decisions = influx.query(
        'SELECT count("duration_ms") AS n FROM "passage" GROUP BY "decision", "reason"'
    )
    counts = distinct_events(influx)
    influx.close()
    table = Table(title="Stored in InfluxDB (read back with InfluxQL)")
    for col in ("checkpoint", "readings", "mean °C", "max °C"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["checkpoint"], str(row["n"]), f"{row['mean_c']:.2f}", f"{row['max_c']:.2f}"
        )
    console.print(table)
    passages = Table(title="Passages by decision (InfluxQL)")
    for col in ("decision", "reason", "passages"):
        passages.add_column(col)
    for row in decisions:
        passages.add_row(row["decision"], row["reason"], str(row["n"]))
    console.print(passages)
    by_kind = ", ".join(f"{counts[m]} {name}" for m, name in EVENT_MEASUREMENTS.items())
    console.print(f"InfluxDB: {sum(counts.values())} distinct events ({by_kind})")


def alert_line(payload: bytes) -> str | None:
    try:
        alert = decode_model(AlertMessage, payload)
    except ContractError:
        return None
    colour = {"critical": "bold red", "warning": "yellow", "info": "cyan"}[alert.severity]
    where = alert.node_id or alert.checkpoint_id or alert.ward_id
    return (
        f"{alert.updated_at:%H:%M:%S} [{colour}]ALERT {alert.change.value:<9}[/] "
        f"{alert.kind:<20} {where:<18} {alert.summary}"
    )


def command_centre(host: str, port: int, say: Callable[[str | None], None]) -> mqtt.Client:
    """What the ward command centre receives: alerts on the ward's topic, printed."""

    centre = mqtt_client.Client(CallbackAPIVersion.VERSION2, client_id="demo-command-centre")
    centre.on_connect = lambda c, *_a: c.subscribe(topics.alert_topic("phucla"), qos=1)
    centre.on_message = lambda _c, _u, msg: say(alert_line(bytes(msg.payload)))
    centre.connect(host, port)
    centre.loop_start()
    return centre


def start_hub(
    stack: LocalStack, show: Callable[[list[Event]], None]
) -> tuple[HubService, str, str]:
    """The real hub (ingest, rules, alerts, API, console, metrics) on the stack, with an
    admin key and a console key for the ward's commander."""
    from hub.api.keys import KeyStore  # noqa: PLC0415 - the hub extra
    from hub.passes.keystore import KeyStore as PassKeys  # noqa: PLC0415 - the hub extra
    from hub.service import HubService  # noqa: PLC0415 - the hub extra

    cfg = HubConfig(
        data_dir=stack.workdir / "hub",
        mqtt=MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port),
        influx=InfluxSettings(url=stack.influx_url, database="demo"),
        metrics=MetricsSettings(port=0),
        api=ApiSettings(port=0),
        wards={"phucla": WardSettings(name="Phường Phúc La")},
    )
    # A signing key, as an installer makes with `checkpoint passes keygen`: the demo hub
    # issues passes through its API like a real one.
    PassKeys(cfg.data_dir / cfg.passes.directory / "keys").create_key()
    hub = HubService(cfg)
    hub.start()
    assert hub.ingest is not None
    assert hub.engine is not None
    hub.ingest.on_stored = show
    keys = KeyStore(hub.engine)
    _, token = keys.issue(Role.ADMIN, "demo")
    _, commander = keys.issue(Role.COMMANDER, "Trực ban phường Phúc La", wards=["phucla"])
    return hub, token, commander


def demo_command(
    nodes: Annotated[int, typer.Option(min=1, max=200, help="Checkpoints in the ward")] = 5,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Seconds to run (default: until Ctrl-C)")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.1, help="People per second, whole ward")] = 3.0,
) -> None:
    """Start Mosquitto and InfluxDB, the hub (ingest, rules, alerts, API) and a simulated
    ward; print what is stored and every alert the command centre receives."""

    from edge.sim.ward import SimWard, run_for  # noqa: PLC0415 - the edge extra
    from hub.influx.v1 import InfluxV1  # noqa: PLC0415 - the hub extra

    console = Console(highlight=False)
    print_lock = threading.Lock()
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # Connection chatter of a dozen clients would drown what the demo is about.
        for name in ("edge", "hub", "checkpoint"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def say(line: str | None) -> None:
        if line:
            with print_lock:
                console.print(line, soft_wrap=True)

    def show(events: list[Event]) -> None:
        for e in events:
            say(describe(e))

    stack = LocalStack()
    with console.status("starting Mosquitto and InfluxDB ..."):
        stack.start()
    with stack:
        console.print(
            f"[green]Mosquitto[/] mqtt://{stack.mqtt_host}:{stack.mqtt_port}   "
            f"[green]InfluxDB[/] {stack.influx_url}"
        )
        mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
        hub, token, commander = start_hub(stack, show)
        assert hub.api is not None
        assert hub.ingest is not None
        console.print(
            f"[green]hub API[/] http://127.0.0.1:{hub.api.port}/docs   "
            f"[green]key[/] {token}   [green]metrics[/] "
            f"http://127.0.0.1:{hub.metrics_port}/metrics",
            soft_wrap=True,
        )
        console.print(
            f"[green]console[/] http://127.0.0.1:{hub.api.port}/console   "
            f"[green]sign in with[/] {commander}",
            soft_wrap=True,  # a key cut in two would not work when pasted
        )
        centre = command_centre(stack.mqtt_host, stack.mqtt_port, say)
        ward = SimWard("phucla", nodes, mqtt)
        try:
            ward.connect()
            console.print(
                f"ward phucla: {nodes} checkpoints, ~{rate:g} people/s "
                f"({f'for {duration:g}s' if duration else 'Ctrl-C to stop'})"
            )
            run_for(ward, duration, rate)
        except KeyboardInterrupt:
            console.print("stopping ...")
        finally:
            if not ward.close(confirm_s=30):
                console.print("[yellow]some events were not confirmed by the hub in 30 s[/]")
            ingest = hub.ingest
            open_alerts = hub.alerting.open_alerts() if hub.alerting is not None else 0
            hub.stop()  # stores and counts what it still held
            stats = dict(ingest.stats)
            stored_metric = hub.metrics.registry.get_sample_value(
                "checkpoint_hub_events_stored_total"
            )
            centre.disconnect()
            centre.loop_stop()
        print_summary(console, InfluxV1(stack.influx_url, "demo"))
        for what, count in ward.summary().items():
            console.print(f"{count:6d}  {what}")
        console.print(
            f"hub: {stats['received']} received, {stats['stored']} stored "
            f"(checkpoint_hub_events_stored_total {stored_metric:.0f}), "
            f"{stats['rejected']} rejected, {stats['duplicates']} duplicates; "
            f"{open_alerts} alerts open"
        )
