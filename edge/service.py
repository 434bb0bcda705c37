"""The node runtime behind ``checkpoint edge run``: outbox, uplink, node, health, systemd.

The main thread owns the node: it applies pushed configs, answers commands, emits health
and pets the systemd watchdog. Down-messages arrive from the uplink thread through a
queue, so the node is never rebuilt under a running MQTT callback. A stop request (SIGTERM)
only sets a flag, which is safe from a signal handler; the loop notices it within 0.2 s.
"""

from __future__ import annotations

import logging
import queue
import shutil
import time
from pathlib import Path

from checkpoint import __version__, systemd
from checkpoint.atomic import write_atomic
from checkpoint.contract import Command, CommandResult, ConfigAck, Health, decode_model, topics
from checkpoint.contract.levels import ZoneLevels, levels_topic
from checkpoint.contract.models import CommandName, one_line
from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import CheckpointError, ContractError
from checkpoint.passes.documents import POLICY_DOC
from checkpoint.passes.envelope import unwrap
from checkpoint.settings.loading import load_model
from edge.events import Emitter
from edge.health import cpu_temperature_c
from edge.node import Node
from edge.policy_now import level_for, screens, shift_at
from edge.runtime_node import NODE_COMMANDS, CommandUnsupportedError, NodeFactory, NodeLike
from edge.trust.store import Outcome, TrustStore
from edge.trust.verifier import OfflineVerifier
from edge.update.agent import Updater
from edge.update.gate import GateParts
from edge.uplink.config_push import ConfigRefused, check_push, write_atomically
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox

log = logging.getLogger(__name__)

_TICK_S = 0.2  # the longest the loop sleeps: how quickly a stop request is noticed
# How long a node about to restart into another version waits for the hub to confirm
# what it sent (a confirmation round is ingest.confirm_interval_s, 0.1 s by default).
_SETTLE_S = 15.0


def real_node_factory(trust: TrustStore) -> NodeFactory:
    """The node on its real hardware, verifying passes offline against ``trust``."""

    def build(config: NodeConfig, emitter: Emitter) -> NodeLike:
        return Node(
            config,
            emitter,
            verifier=OfflineVerifier(trust, config.trust),
            shift_plan=lambda now: shift_at(trust, config, now),
            screens=lambda level, zone: screens(trust, config, level, zone),
        )

    return build


class EdgeService:
    def __init__(
        self,
        config: NodeConfig,
        *,
        config_path: Path | None = None,
        node_factory: NodeFactory | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        # Trust lists and levels live beside the outbox (systemd StateDirectory=).
        self.state_dir = config.uplink.outbox.path.parent
        self.trust = TrustStore.from_config(config.trust, self.state_dir)
        self.levels = self._load_levels()
        self._policy_before = self.trust.policy  # zones nest as this policy says
        self.node_factory = node_factory or real_node_factory(self.trust)
        self.started = time.monotonic()
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.stop_requested = False
        self.refused_versions: set[str] = set()
        self.own_flags: set[str] = set()  # config_refused: the last push was not applied
        # Events lost to a full disk that a stored health report has told the hub about.
        self.lost_reported = 0
        out = config.uplink.outbox
        self.outbox = Outbox(
            out.path,
            node_id=config.node_id,
            checkpoint_id=config.checkpoint_id,
            ward_id=config.ward_id,
            max_bytes=out.max_bytes,
            disk_headroom_bytes=out.disk_headroom_bytes,
        )
        self.link = self._new_link(config)
        self.node: NodeLike | None = None
        self.updater = Updater(config.update, self.state_dir, self.outbox, config.trust.anchors)
        self.gate = GateParts(
            self.link.connected.is_set, lambda: self.outbox.depth, lambda: self.node
        )

    def _new_link(self, config: NodeConfig) -> Link:
        return Link(
            config.node_id,
            config.mqtt,
            self.outbox,
            drain=config.uplink.outbox,
            link=config.uplink.link,
            on_message=lambda topic, payload: self.inbox.put((topic, payload)),
        )

    def request_stop(self) -> None:
        """Safe from a signal handler: only sets a flag."""
        self.stop_requested = True

    # ---------------------------------------------------------------- the loop

    def run(self) -> None:
        try:
            self.node = self.node_factory(self._effective(self.config), self.outbox)
            self.link.start()
            systemd.notify("READY=1")
            log.info("node %s running (config %s)", self.config.node_id, self.config.version)
            watchdog = systemd.watchdog_interval_s()
            next_health = time.monotonic()
            next_pet = time.monotonic()
            while not (self.stop_requested or self.updater.restart_requested):
                self.updater.tick(self.gate)
                now = time.monotonic()
                if watchdog is not None and now >= next_pet:
                    systemd.notify("WATCHDOG=1")
                    next_pet = now + watchdog
                if now >= next_health:
                    self.emit_health()
                    next_health = now + self.config.health.interval_s
                try:
                    topic, payload = self.inbox.get(timeout=_TICK_S)
                except queue.Empty:
                    continue
                self.handle(topic, payload)
        finally:
            systemd.notify("STOPPING=1")
            if self.updater.restart_requested:
                self._settle(_SETTLE_S)
            self.close()

    def _settle(self, timeout_s: float) -> None:
        """Before a restart into another version: stop deciding, then let the uplink send
        what waits and the hub confirm it, so that the next version has nothing to send
        again (the hub would store it once all the same). Bounded: an unreachable hub
        must not hold a switch back; the outbox keeps what is left."""
        if self.node is not None:
            self.node.close()
            self.node = None
        deadline = time.monotonic() + timeout_s
        while self.outbox.held and self.link.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        if self.node is not None:
            self.node.close()
            self.node = None
        self.link.stop()
        self.outbox.close()

    def handle(self, topic: str, payload: bytes) -> None:
        if topic == topics.config_topic(self.config.node_id):
            self.apply_config(payload)
        elif topic == topics.command_topic(self.config.node_id):
            self.run_command(payload)
        elif topic == topics.release_topic(self.config.node_id):
            self.updater.on_desired(payload)
        elif topic == levels_topic(self.config.ward_id):
            self.apply_levels(payload)
        elif topics.trust_name(topic) is not None:
            if not topics.is_levels_topic(topic):  # other wards' levels
                outcome = self.trust.on_message(topic, payload)
                if topics.trust_name(topic) == POLICY_DOC and outcome is Outcome.APPLIED:
                    self._relevel(level_for(self.config, self.levels, self._policy_before))
                self._policy_before = self.trust.policy
        else:
            log.warning("node %s: message on unexpected topic %s", self.config.node_id, topic)

    # ---------------------------------------------------------------- config push

    def apply_config(self, payload: bytes) -> None:
        try:
            accepted = check_push(payload, self.config)
        except ConfigRefused as exc:
            if exc.version in self.refused_versions:
                return  # the retained push again after a reconnect: already answered
            self.refused_versions.add(exc.version)
            self.own_flags.add("config_refused")
            log.error("node %s: refused config %s: %s", self.config.node_id, exc.version, exc)
            self.outbox.emit(
                ConfigAck,
                version=one_line(exc.version, 64),
                applied=False,
                error=one_line(str(exc), 2048),
            )
            return
        if accepted.config == self.config:
            return  # the retained push of what already runs
        old = self.config
        try:
            self._switch(accepted.config)
        except Exception as exc:
            log.exception("node %s: config %s failed to apply", old.node_id, accepted.version)
            self._switch(old)
            self.refused_versions.add(accepted.version)
            self.own_flags.add("config_refused")
            self.outbox.emit(
                ConfigAck,
                version=accepted.version,
                applied=False,
                error=one_line(f"failed to apply: {type(exc).__name__}: {exc}", 2048),
            )
            return
        log.info("node %s: applied config %s", old.node_id, accepted.version)
        self.own_flags.discard("config_refused")
        self.outbox.emit(ConfigAck, version=accepted.version, applied=True, error=None)

    def _switch(self, config: NodeConfig) -> None:
        """Write ``config`` to disk, rebuild the node on it, and reconnect if needed."""
        if self.config_path is not None:
            write_atomically(self.config_path, config)
        if self.node is not None:
            self.node.close()
            self.node = None
        self.node = self.node_factory(self._effective(config), self.outbox)
        previous, self.config = self.config, config
        self.outbox.max_bytes = config.uplink.outbox.max_bytes
        if (config.mqtt, config.uplink) != (previous.mqtt, previous.uplink):
            self.link.stop()
            self.link = self._new_link(config)
            self.link.start()

    # ---------------------------------------------------------------- zone levels

    def _levels_path(self) -> Path:
        return self.state_dir / "levels.json"

    def _load_levels(self) -> ZoneLevels | None:
        """The last levels document, so a node that boots offline keeps its level."""
        try:
            return decode_model(ZoneLevels, self._levels_path().read_bytes())
        except (OSError, ContractError):
            return None

    def _effective(self, config: NodeConfig) -> NodeConfig:
        level = level_for(config, self.levels, self.trust.policy)
        return (
            config
            if level == config.zone_level
            else config.model_copy(update={"zone_level": level})
        )

    def apply_levels(self, payload: bytes) -> None:
        name = topics.trust_name(levels_topic(self.config.ward_id)) or "levels"
        try:
            # Signed by a hub anchor like the other trust documents, when anchors are set.
            document = unwrap(name, payload, self.trust.anchors)
            levels = decode_model(ZoneLevels, document)
        except ContractError as exc:
            self.trust.rejected[f"levels_{exc.reason}"] += 1
            log.error("node %s: unusable levels document: %s", self.config.node_id, exc)
            return
        if self.levels is not None and levels.version <= self.levels.version:
            return  # the retained copy again, or an older one
        write_atomic(self._levels_path(), document)
        before = level_for(self.config, self.levels, self.trust.policy)
        self.levels = levels
        self._relevel(before)

    def _relevel(self, before: str) -> None:
        """Rebuild or reconfigure the node if its effective level is no longer ``before``."""
        after = level_for(self.config, self.levels, self.trust.policy)
        if after == before or self.node is None:
            return
        log.info("node %s: zone level %s -> %s", self.config.node_id, before, after)
        if not self.node.reconfigure(self._effective(self.config)):
            self._switch(self.config)

    # ---------------------------------------------------------------- commands

    def run_command(self, payload: bytes) -> None:
        try:
            command = decode_model(Command, payload)
        except ContractError as exc:
            log.error("node %s: bad command: %s", self.config.node_id, exc)
            self.outbox.emit(
                CommandResult,
                command_id="unknown",
                command="unknown",
                ok=False,
                detail=one_line(str(exc), 2048),
            )
            return
        ok, detail = self._execute(command)
        self.outbox.emit(
            CommandResult,
            command_id=command.id,
            command=command.name.value,
            ok=ok,
            detail=one_line(detail, 2048),
        )

    def _execute(self, command: Command) -> tuple[bool, str]:
        if command.name is CommandName.RELOAD_CONFIG:
            return self._reload()
        action = NODE_COMMANDS.get(command.name)
        if action is None or self.node is None:
            return False, str(CommandUnsupportedError(command.name.value))
        try:
            result = action(self.node, command.args)
        except CommandUnsupportedError as exc:
            return False, str(exc)
        except (CheckpointError, TypeError, ValueError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, "" if result is None else str(result)

    def _reload(self) -> tuple[bool, str]:
        if self.config_path is None:
            return False, "no config file to reload"
        try:
            config = load_model(NodeConfig, self.config_path)
        except CheckpointError as exc:
            return False, str(exc)
        if config.node_id != self.config.node_id:
            return False, f"the file is for node {config.node_id!r}"
        old = self.config
        try:
            self._switch(config)
        except Exception as exc:  # noqa: BLE001 - keep running on the old config
            self._switch(old)
            return False, f"failed to apply: {type(exc).__name__}: {exc}"
        return True, f"config {config.version}"

    # ---------------------------------------------------------------- health

    def flags(self) -> list[str]:
        """What the runtime knows: outbox, uplink, config pushes, trust lists."""
        trust = set(self.trust.health().flags)
        flags = self.outbox.flags | self.link.flags | self.own_flags | trust
        if self.outbox.lost > self.lost_reported:
            # The outbox clears disk_full at its first append that fits again, which is
            # not a health report: while the disk was full those were lost like the rest,
            # so the hub would never hear of it. Keep saying it until a report is stored.
            flags.add("disk_full")
        return sorted(flags)

    # In every health report, so the hub knows which node applied which version.
    @property
    def levels_version(self) -> int | None:
        return self.levels.version if self.levels else None

    @property
    def policy_version(self) -> int | None:
        return self.trust.policy.version if self.trust.policy else None

    def emit_health(self) -> Health:
        lost = self.outbox.lost
        health = self._emit_health()
        if self.outbox.lost == lost:  # this report was stored: the hub will hear of it
            self.lost_reported = lost
        return health

    def _emit_health(self) -> Health:
        if self.node is not None:
            # The node adds what only it knows: camera rate, sensor errors, its own flags.
            health = self.node.health(
                outbox_depth=self.outbox.depth,
                outbox_dropped=self.outbox.dropped_total,
                extra_flags=self.flags(),
                levels_version=self.levels_version,
                policy_version=self.policy_version,
            )
            if health is not None:
                return health
        try:
            disk_free = shutil.disk_usage(self.outbox.path.parent).free
        except OSError:
            disk_free = 0
        operator, shift = self.node.on_duty() if self.node is not None else (None, None)
        return self.outbox.emit(
            Health,
            uptime_s=round(time.monotonic() - self.started, 1),
            cpu_temp_c=cpu_temperature_c(),
            disk_free_bytes=disk_free,
            outbox_depth=self.outbox.depth,
            outbox_dropped=self.outbox.dropped_total,
            config_version=self.config.version,
            software_version=__version__,
            flags=self.flags(),
            levels_version=self.levels_version,
            policy_version=self.policy_version,
            operator=operator,
            shift=shift,
        )
