"""``checkpoint edge ...`` and ``checkpoint sim``. Imports only typer until a command runs."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from checkpoint.localstack.stack import MQTT_URL_ENV, parse_mqtt_url
from checkpoint.settings.loading import load_model
from checkpoint.settings.mqtt import MqttSettings

edge_app = typer.Typer(help="Run a checkpoint node.", no_args_is_help=True)


@edge_app.command("run")
def run_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Node config (YAML)")],
    emulated: Annotated[
        float | None,
        typer.Option(
            "--emulated",
            min=0,
            help="No hardware: a virtual node with this many people per second (bench, tests)",
        ),
    ] = None,
) -> None:
    """Run the node on real hardware (GPIO, I2C thermometer) until SIGTERM."""

    from checkpoint.contract.node.config import NodeConfig  # noqa: PLC0415 - the edge/hub extra
    from edge.service import EdgeService  # noqa: PLC0415 - the edge/hub extra
    from edge.update.layout import RESTART_EXIT_CODE  # noqa: PLC0415 - the edge/hub extra

    factory = None
    if emulated is not None:
        from edge.sim.process import emulated_factory  # noqa: PLC0415 - the edge extra

        factory = emulated_factory(emulated)
    service = EdgeService(load_model(NodeConfig, config), config_path=config, node_factory=factory)
    # For systemd, a clean stop with exit code 0: the handler only sets a flag, and the
    # main loop notices it within 0.2 s, says offline and closes the outbox.
    signal.signal(signal.SIGTERM, lambda _s, _f: service.request_stop())
    service.run()
    if service.updater.restart_requested:
        # Switched to another version (or back): systemd starts ``current`` again.
        raise typer.Exit(RESTART_EXIT_CODE)


def sim_command(
    *,
    nodes: Annotated[int, typer.Option(min=1, max=500, help="Virtual nodes")] = 3,
    duration: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds to run (default: until Ctrl-C)")
    ] = None,
    rate: Annotated[float, typer.Option(min=0.01, help="People per second, whole ward")] = 2.0,
    ward: Annotated[str, typer.Option(help="Ward id")] = "phucla",
    mqtt_url: Annotated[
        str | None, typer.Option(help="Broker (default $CHECKPOINT_MQTT_URL or local 1883)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated traffic")] = 1,
) -> None:
    """Run N virtual nodes (mock pins, emulated thermometer, rendered QR passes, emulated
    barrier) against a real broker: residents in and out, fevers, strangers, forced
    barriers. Prints what happened when it stops."""
    from edge.sim.ward import SimWard, run_for  # noqa: PLC0415 - the edge extra

    url = mqtt_url or os.environ.get(MQTT_URL_ENV, "mqtt://127.0.0.1:1883")
    host, port = parse_mqtt_url(url)
    sim = SimWard(ward, nodes, MqttSettings(host=host, port=port), seed=seed)
    try:
        sim.connect()
        typer.echo(f"ward {ward}: {nodes} virtual nodes -> {url}, ~{rate:g} people/s")
        run_for(sim, duration, rate)
    except KeyboardInterrupt:
        typer.echo("stopping ...")
    finally:
        sim.close()
    for what, count in sim.summary().items():
        typer.echo(f"{count:6d}  {what}")
