"""``checkpoint stack``: a local Mosquitto + InfluxDB for development, until Ctrl-C."""

from __future__ import annotations

import threading

import typer

from checkpoint.localstack import LocalStack


def stack_command() -> None:
    """Start a real Mosquitto and InfluxDB on free loopback ports and print their addresses."""

    with LocalStack() as stack:
        typer.echo(f"export CHECKPOINT_MQTT_URL=mqtt://{stack.mqtt_host}:{stack.mqtt_port}")
        typer.echo(f"export CHECKPOINT_INFLUX_URL={stack.influx_url}")
        typer.echo("# running; Ctrl-C stops both and deletes their data", err=True)
        threading.Event().wait()
