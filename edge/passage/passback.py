"""Anti-passback at one node: which passes came in and have not gone out since.

In memory, bounded (``max_passes``, oldest forgotten first) and forgetting an unmatched
"in" after ``forget_after_s``: a pass that left by another checkpoint must not stay locked
out for ever. The hub sees the zone as a whole (rule ``passback``).
"""

from __future__ import annotations

from collections import OrderedDict

from checkpoint.contract.node.config import AntiPassbackConfig


class Passback:
    def __init__(self, config: AntiPassbackConfig) -> None:
        self.config = config
        self._inside: OrderedDict[str, float] = OrderedDict()  # pass id -> in at (clock)

    def refuses(self, pass_id: str | None, direction: str, now: float) -> bool:
        """Whether an "in" of ``pass_id`` now is a second one without an "out"."""
        if not self.config.enabled or pass_id is None or direction != "in":
            return False
        at = self._inside.get(pass_id)
        return at is not None and now - at < self.config.forget_after_s

    def admitted(self, pass_id: str | None, direction: str, now: float) -> None:
        if not self.config.enabled or pass_id is None:
            return
        self._inside.pop(pass_id, None)
        if direction == "in":
            self._inside[pass_id] = now
            while len(self._inside) > self.config.max_passes:
                self._inside.popitem(last=False)
