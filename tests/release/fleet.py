"""Node processes for update tests: each a "Pi" of its own (a root with releases/ and the
``current`` symlink, a state dir with its outbox), run by a supervisor that does what
systemd does in the field: start ``current``'s checkpoint, and start it again when it
exits with the updater's restart code."""

from __future__ import annotations

import io
import subprocess
import sys
import sysconfig
import tarfile
import threading
from pathlib import Path
from typing import Any

import yaml

from checkpoint.settings.mqtt import MqttSettings
from edge.sim.node import node_config
from edge.update.layout import RESTART_EXIT_CODE, Layout


class NodeProcess:
    def __init__(
        self,
        directory: Path,
        ward: str,
        index: int,
        mqtt: MqttSettings,
        *,
        hub_url: str,
        release_key: str,
        node_number: int = 1,
        people_per_s: float = 2.0,
        update: dict[str, Any] | None = None,
    ) -> None:
        base = node_config(ward, index, mqtt).model_dump(mode="json", exclude_unset=True)
        self.node_id = base["node_id"] = f"{base['checkpoint_id']}-n{node_number}"
        self.dir = directory / self.node_id
        self.state = self.dir / "state"
        self.state.mkdir(parents=True)
        self.layout = Layout(self.dir / "opt")
        # Version A: the test environment itself, as if installed there.
        self.layout.switch(Path(sys.prefix))
        base["mqtt"] = {"host": mqtt.host, "port": mqtt.port}
        base["health"] = {"interval_s": 1.0}
        base["uplink"] = {"outbox": {"path": str(self.state / "outbox.db")}}
        base["update"] = {
            "enabled": True,
            "hub_url": hub_url,
            "release_key": release_key,
            "root": str(self.layout.root),
            "gate_timeout_s": 20.0,
            "min_free_bytes": 0,
            "inherit_site": sysconfig.get_paths()["purelib"],
            **(update or {}),
        }
        self.config = self.dir / "node.yaml"
        self.config.write_text(yaml.safe_dump(base))
        self.people_per_s = people_per_s
        self.exits: list[int] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._supervise, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _launch(self) -> subprocess.Popen[bytes]:
        exe = self.layout.current / "bin" / "checkpoint"
        with (self.dir / "node.log").open("ab") as log:
            return subprocess.Popen(
                [
                    str(exe),
                    "edge",
                    "run",
                    "--config",
                    str(self.config),
                    "--emulated",
                    str(self.people_per_s),
                ],
                stdout=log,
                stderr=log,
            )

    def _supervise(self) -> None:
        while not self._stopping:
            self.proc = self._launch()
            code = self.proc.wait()
            self.exits.append(code)
            if code != RESTART_EXIT_CODE:
                return

    def stop(self) -> None:
        self._stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._thread.join(30)

    def log(self) -> str:
        path = self.dir / "node.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def release_archive(release: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(release, arcname=release.name)
    return buffer.getvalue()
