"""The node runtime in a process of its own, for kill -9, SIGTERM and network tests.

    python -m tests.edge.uplink.node_proc NODE.yaml EVENTS [RATE]

The child side (``main``) runs EdgeService with a scripted node that emits EVENTS
passages, as fast as it can or RATE a second, and prints ``seq id type`` for every event
the runtime emits (passages and its own health reports) once ``emit`` has returned, so
each printed event is committed. The parent side (``write_config``, ``NodeProcess``,
``outbox_depth``, ``outbox_event_ids``) is what the tests use to drive it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from checkpoint.contract import Health, decode_event, topics
from checkpoint.contract.node.config import HealthConfig, NodeConfig
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings, UplinkSettings
from checkpoint.settings.loading import load_model
from checkpoint.settings.mqtt import MqttSettings
from edge.events import Emitter
from edge.service import EdgeService
from tests.edge.uplink.support import ScriptedNode, passage

ROOT = Path(__file__).parents[3]
_MODULE = "tests.edge.uplink.node_proc"

# ---------------------------------------------------------------- the child


class _Printer:
    """One line per committed event; a lock, as the traffic and the main thread both print."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, seq: int, event_id: str, kind: str) -> None:
        with self.lock:
            sys.stdout.write(f"{seq} {event_id} {kind}\n")
            sys.stdout.flush()


class _PrintingService(EdgeService):
    printer = _Printer()

    def emit_health(self) -> Health:
        health = super().emit_health()
        self.printer(health.seq, health.id, "health")
        return health


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    printer = _PrintingService.printer

    def factory(config: NodeConfig, emitter: Emitter) -> ScriptedNode:
        def traffic() -> None:
            start = time.monotonic()
            for i in range(count):
                if rate > 0:  # paced from the start, so a slow moment does not bunch them
                    time.sleep(max(0.0, start + i / rate - time.monotonic()))
                event = passage(emitter)
                printer(event.seq, event.id, "passage")

        threading.Thread(target=traffic, daemon=True).start()
        return ScriptedNode(config, emitter)

    service = _PrintingService(
        load_model(NodeConfig, path),
        config_path=path,
        node_factory=factory,
    )
    signal.signal(signal.SIGTERM, lambda _s, _f: service.request_stop())
    service.run()


# ---------------------------------------------------------------- the parent


def write_config(
    directory: Path,
    unique: str,
    mqtt: MqttSettings,
    *,
    ward: str = "w1",
    window: int = 100,
    rate: float = 500,
    burst: int = 10,
    health_s: float = 3600,
    link: LinkSettings | None = None,
    state: Path | None = None,
    disk_headroom_bytes: int = 8 * 1024 * 1024,
) -> Path:
    """``directory/node.yaml`` for node ``<unique>-n1``; its outbox in ``state`` (default
    ``directory/state``). Written again with other figures, it restarts the same node."""
    config = NodeConfig(
        node_id=f"{unique}-n1",
        checkpoint_id=f"{unique}-cp",
        ward_id=ward,
        mqtt=mqtt,
        uplink=UplinkSettings(
            outbox=OutboxSettings(
                path=(state or directory / "state") / "outbox.sqlite",
                window=window,
                rate_per_s=rate,
                burst=burst,
                disk_headroom_bytes=disk_headroom_bytes,
            ),
            link=link or LinkSettings(),
        ),
        health=HealthConfig(interval_s=health_s),
    )
    path = directory / "node.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


@dataclass(frozen=True, slots=True)
class Emitted:
    seq: int
    id: str
    type: str


class NodeProcess:
    """The child, started (optionally through a prefix such as ``ip netns exec NS``), with
    its printed events collected by a thread so that the test never blocks on the pipe."""

    def __init__(
        self,
        config: Path,
        events: int,
        *,
        rate: float = 0.0,
        prefix: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.events: list[Emitted] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", _MODULE, str(config), str(events), str(rate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            # A line cut short by kill -9 has no newline: that print did not finish, so the
            # event may or may not be committed; the outbox itself says (outbox_event_ids).
            if not line.endswith("\n"):
                break
            seq, event_id, kind = line.split()
            with self._lock:
                self.events.append(Emitted(int(seq), event_id, kind))

    def emitted(self, kind: str | None = None) -> list[Emitted]:
        with self._lock:
            return [e for e in self.events if kind is None or e.type == kind]

    def kill(self) -> None:
        """kill -9, then wait until everything it printed has been read."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._reader.join(10)

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM: a clean stop (says offline, closes the outbox); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(10)
        return code


def outbox_depth(path: Path) -> int:
    """Events waiting in the file, read beside the running node (a WAL reader never blocks
    it; opening a second Outbox could, and a busy file must not look unreadable)."""
    db = sqlite3.connect(path)
    try:
        (depth,) = db.execute("SELECT count(*) FROM events").fetchone()
    finally:
        db.close()
    return int(depth)


def outbox_event_ids(path: Path, node_id: str) -> dict[int, str]:
    """seq -> event id of every event the file holds, read without the Outbox (which would
    change nothing, but this also proves each stored payload is a whole, valid event)."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT seq, type, payload FROM events ORDER BY seq").fetchall()
    finally:
        db.close()
    held: dict[int, str] = {}
    for seq, kind, payload in rows:
        event = decode_event(topics.event_topic(node_id, kind), bytes(payload))
        assert event.seq == seq, f"row {seq} holds the event with seq {event.seq}"
        held[seq] = event.id
    return held


if __name__ == "__main__":
    main()
