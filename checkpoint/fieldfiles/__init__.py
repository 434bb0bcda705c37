"""The field files that ship in the wheel, and putting them in place.

``firmware_config/`` (systemd units, Mosquitto templates, install guides, examples) and
``dashboards/`` (Grafana dashboards and provisioning) link to the repository's
directories of those names, which stay the source; the wheel carries copies.

``checkpoint install-files --dest DIR`` copies both trees into DIR and points each unit
at this install: ``ExecStart=`` at the ``checkpoint`` command being run, ``Documentation=``
at the guide copied into DIR. The units in the repository are written for the documented
layout (the venv in /opt/checkpoint/venv, DIR = /opt/checkpoint/field).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path

from checkpoint.errors import ConfigError

TREES = ("firmware_config", "dashboards")
DEFAULT_DEST = "/opt/checkpoint/field"
# Where the shipped units expect the command: the hub's venv, and the node's A/B layout
# (the ``current`` link its updater switches, docs/field.md "Software updates").
DEFAULT_COMMANDS = ("/opt/checkpoint/venv/bin/checkpoint", "/opt/checkpoint/current/bin/checkpoint")


@dataclass
class Installed:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def _command() -> str:
    """The ``checkpoint`` script beside the running interpreter (a venv's bin/)."""
    script = Path(sys.executable).with_name("checkpoint")
    return str(script) if script.exists() else DEFAULT_COMMANDS[0]


def _placed_unit(text: str, dest: Path) -> str:
    """A unit's text pointed at this install."""
    for command in DEFAULT_COMMANDS:
        text = text.replace(command, _command())
    return text.replace(DEFAULT_DEST, str(dest))


def install(dest: Path, *, force: bool = False) -> Installed:
    """Copy the field files into ``dest``. A file there that differs from what would be
    written is refused (it may hold local edits) unless ``force``; nothing is written then."""
    dest = dest.resolve()
    plan: list[tuple[Path, bytes]] = []
    with as_file(files(__name__)) as root:
        for tree in TREES:
            for source in sorted((root / tree).rglob("*")):
                if source.is_dir() or "__pycache__" in source.parts:
                    continue
                target = dest / source.relative_to(root)
                data = source.read_bytes()
                if source.suffix == ".service":
                    data = _placed_unit(data.decode(), dest).encode()
                plan.append((target, data))
    clashes = [t for t, d in plan if t.exists() and t.read_bytes() != d]
    if clashes and not force:
        names = ", ".join(str(c) for c in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise ConfigError(f"{names}{more}: differ from the shipped files; --force replaces them")
    done = Installed()
    for target, data in plan:
        if target.exists() and target.read_bytes() == data:
            done.unchanged.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        done.written.append(target)
    return done
