"""``checkpoint demo``: a simulated ward through the real broker and hub into InfluxDB."""

from __future__ import annotations

import threading
from typing import Annotated

import typer


def demo_command(
    nodes: Annotated[int, typer.Option(min=1, max=200, help="Checkpoints in the ward")] = 5,
    duration: Annotated[
        float | None, typer.Option(min=1, help="Seconds to run (default: until Ctrl-C)")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.1, help="People per second, whole ward")] = 3.0,
) -> None:
    """Start Mosquitto and InfluxDB, the hub and a simulated ward; print what arrives."""
    from rich.console import Console
    from rich.table import Table

    from checkpoint.contract import Event, Reading
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
                if isinstance(e, Reading):
                    flag = "[bold red]FEVER?[/]" if e.object_c >= 37.5 else ""
                    console.print(
                        f"{e.ts:%H:%M:%S} stored reading  {e.node_id:<18} "
                        f"{e.object_c:5.2f} °C (ambient {e.ambient_c:.1f}) {flag}"
                    )

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
        rows = influx.query(
            'SELECT count("object_c") AS n, mean("object_c") AS mean_c, max("object_c") AS max_c '
            'FROM "reading" GROUP BY "checkpoint"'
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
        console.print(
            f"hub: {ingest.stats['received']} received, {ingest.stats['stored']} stored, "
            f"{ingest.stats['rejected']} rejected"
        )
