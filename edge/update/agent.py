"""The node's updater: acts on the hub's desired-version document and gates a new version.

Running version A, told to run B: download and verify B (edge/update/fetch.py) and install
it beside A (install.py) on a worker thread while the node keeps deciding, record the
trial, switch ``current`` and ask the runtime to exit with RESTART_EXIT_CODE; systemd
starts B. B, finding the trial, must pass its gate (gate.py) within ``gate_timeout_s``:
then it reports ``applied``. Otherwise it switches ``current`` back, remembers B as
refused (the retained request is not retried) and exits for A to start again.

Every outcome is an UpdateReport event in the outbox, which lives outside both venvs:
what either version stored is sent once, by whichever runs next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from checkpoint import __version__
from checkpoint.contract.models import UpdateReport, UpdateStatus
from checkpoint.contract.node.update import UpdateConfig
from checkpoint.errors import ContractError
from checkpoint.passes.envelope import unwrap
from checkpoint.release.desired import RELEASE_DOC, DesiredRelease
from checkpoint.release.signing import ReleaseError
from edge.events import Emitter
from edge.update.fetch import fetch_release
from edge.update.gate import GateParts, gate_problem
from edge.update.install import install
from edge.update.layout import Layout
from edge.update.state import Trial, UpdateState, load_state, save_state

log = logging.getLogger(__name__)

_GATE_EVERY_S = 1.0


class Updater:
    def __init__(
        self,
        config: UpdateConfig,
        state_dir: Path,
        emitter: Emitter,
        anchors: Mapping[str, str],
        *,
        version: str = __version__,
    ) -> None:
        self.config = config
        self.layout = Layout(config.root)
        self.state_path = state_dir / "update.json"
        self.state: UpdateState = load_state(self.state_path)
        self.emitter = emitter
        self.anchors = anchors
        self.version = version
        self.restart_requested = False
        self._worker: threading.Thread | None = None
        self._gate_deadline = time.monotonic() + config.gate_timeout_s
        self._next_gate = 0.0

    @property
    def on_trial(self) -> bool:
        trial = self.state.trial
        return trial is not None and trial.to_version == self.version

    def _report(
        self, status: UpdateStatus, to: str, reason: str | None, detail: str, *, source: str = ""
    ) -> None:
        self.emitter.emit(
            UpdateReport,
            status=status,
            from_version=source or self.version,
            to_version=to,
            reason=reason,
            detail=detail[:2048],
        )

    # ---------------------------------------------------------------- requests

    def on_desired(self, payload: bytes) -> None:
        """The retained desired-version document arrived (again, after each connect)."""
        try:
            desired = DesiredRelease.model_validate_json(unwrap(RELEASE_DOC, payload, self.anchors))
        except (ContractError, ValueError) as exc:
            log.error("update: unusable release document: %s", exc)
            return
        if not self.config.enabled or desired.release == self.version:
            return
        if desired.release in self.state.refused or self.state.trial is not None:
            return  # already answered, or a switch is under way
        if self._worker is not None and self._worker.is_alive():
            return
        self._worker = threading.Thread(
            target=self._stage, args=(desired,), name="update", daemon=True
        )
        self._worker.start()

    def _stage(self, desired: DesiredRelease) -> None:
        version = desired.release
        try:
            files = self.layout.files_dir(version)
            manifest = fetch_release(self.config, version, files)
            install(
                files,
                manifest,
                self.layout.venv_dir(version),
                system_site_packages=self.config.system_site_packages,
                inherit_site=self.config.inherit_site,
            )
        except ReleaseError as exc:
            log.error("update to %s refused: %s", version, exc)
            self.state.refused[version] = exc.reason
            save_state(self.state_path, self.state)
            self._report(UpdateStatus.REFUSED, version, exc.reason, exc.detail)
            return
        previous = self.layout.current_target()
        self.state.trial = Trial(
            from_version=self.version,
            to_version=version,
            previous=str(previous) if previous else "",
            rollout_id=desired.rollout_id,
        )
        save_state(self.state_path, self.state)
        self._report(UpdateStatus.INSTALLED, version, None, f"switching to {version}")
        self.layout.switch(self.layout.venv_dir(version))
        log.info("update: switched to %s; restarting into it", version)
        self.restart_requested = True

    # ---------------------------------------------------------------- the gate

    def tick(self, parts: GateParts) -> None:
        """Called by the runtime's loop: gate a version on trial, once a second."""
        if not self.on_trial or time.monotonic() < self._next_gate:
            return
        self._next_gate = time.monotonic() + _GATE_EVERY_S
        problem = gate_problem(parts)
        if problem is None:
            self._report(UpdateStatus.APPLIED, self.version, None, "health gate passed")
            self.state.trial = None
            save_state(self.state_path, self.state)
            log.info("update: %s passed its health gate", self.version)
        elif time.monotonic() >= self._gate_deadline:
            self.roll_back(problem)

    def roll_back(self, problem: str) -> None:
        trial = self.state.trial
        assert trial is not None
        log.error("update: %s failed its health gate (%s); rolling back", self.version, problem)
        self._report(
            UpdateStatus.ROLLED_BACK,
            trial.from_version,
            "health_gate",
            problem,
            source=self.version,
        )
        if trial.previous:
            self.layout.switch(Path(trial.previous))
        self.state.refused[trial.to_version] = "health_gate"
        self.state.trial = None
        save_state(self.state_path, self.state)
        self.restart_requested = True
