"""``checkpoint demo``: a simulated ward through the real broker and hub into InfluxDB."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from checkpoint.contract import Event
    from hub.influx.v1 import InfluxV1


def describe(e: Event) -> str | None:
    """One line for an event the hub stored: readings, passages and barrier alarms."""
    from checkpoint.contract import BarrierAlarm, Passage, Reading
    from checkpoint.contract.models import Decision

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


def print_summary(console: Console, influx: InfluxV1) -> None:
    """What InfluxDB holds at the end, read back with InfluxQL."""
    from rich.table import Table

    rows = influx.query(
        'SELECT count("object_c") AS n, mean("object_c") AS mean_c, max("object_c") AS max_c '
        'FROM "reading" GROUP BY "checkpoint"'
    )
    decisions = influx.query(
        'SELECT count("duration_ms") AS n FROM "passage" GROUP BY "decision", "reason"'
    )
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


def demo_command(
    nodes: Annotated[int, typer.Option(min=1, max=200, help="Checkpoints in the ward")] = 5,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Seconds to run (default: until Ctrl-C)")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.1, help="People per second, whole ward")] = 3.0,
) -> None:
    """Start Mosquitto and InfluxDB, the hub and a simulated ward; print what arrives."""
    from rich.console import Console

    from checkpoint.localstack import LocalStack
    from checkpoint.settings.mqtt import MqttSettings
    from edge.sim.ward import SimWard, run_for
    from hub.config import HubConfig, InfluxSettings
    from hub.influx.v1 import InfluxV1
    from hub.ingest.consumer import Ingest

    console = Console(highlight=False)
    print_lock = threading.Lock()

    def show(events: list[Event]) -> None:
        with print_lock:
            for e in events:
                line = describe(e)
                if line:
                    console.print(line, soft_wrap=True)

    stack = LocalStack()
    with console.status("starting Mosquitto and InfluxDB ..."):
        stack.start()
    with stack:
        console.print(
            f"[green]Mosquitto[/] mqtt://{stack.mqtt_host}:{stack.mqtt_port}   "
            f"[green]InfluxDB[/] {stack.influx_url}"
        )
        mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
        cfg = HubConfig(mqtt=mqtt, influx=InfluxSettings(url=stack.influx_url, database="demo"))
        influx = InfluxV1(cfg.influx.url, cfg.influx.database)
        ingest = Ingest(cfg, influx, on_stored=show)
        ingest.start()
        ward = SimWard("phucla", nodes, mqtt)
        try:
            ward.connect()
            console.print(
                f"ward phucla: {nodes} checkpoints, ~{rate:g} people/s "
                f"({f'for {duration:g}s' if duration else 'Ctrl-C to stop'})"
            )
            run_for(ward, duration if duration is not None else float("inf"), rate)
        except KeyboardInterrupt:
            console.print("stopping ...")
        finally:
            ward.close()
            ingest.stop()
        print_summary(console, influx)
        console.print(
            f"hub: {ingest.stats['received']} received, {ingest.stats['stored']} stored, "
            f"{ingest.stats['rejected']} rejected"
        )
