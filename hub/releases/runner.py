"""Advances running rollouts on a timer thread, so a rollout moves (or pauses) by itself."""

from __future__ import annotations

import logging
import threading

from hub.releases.rollout import Rollouts

log = logging.getLogger(__name__)


class RolloutRunner:
    def __init__(self, rollouts: Rollouts, step_s: float) -> None:
        self.rollouts = rollouts
        self.step_s = step_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollouts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.step_s):
            try:
                self.rollouts.step()
            except Exception:  # a broker or InfluxDB hiccup: try again next step
                log.exception("rollout step failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10.0)
