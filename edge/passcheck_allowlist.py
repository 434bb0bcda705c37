"""A small pass verifier for tests and the simulator: a list of known pass ids.

NOT the production verifier (that is signed-pass verification in checkpoint/passes/): it
checks no signature. It does what the passage state machine needs to be exercised: a text
that is no pass at all, a pass it does not know, and a pass whose category is not allowed
at the zone's current level, each refused with its contract Reason.

Pass text format: ``GZA:<pass id>``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from checkpoint.contract.models import PassCheck, Reason
from edge.passcheck import PassContext

PREFIX = "GZA:"
_PASS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Who may pass at each zone level (green -> red: ever fewer categories).
DEFAULT_LEVELS: dict[str, frozenset[str]] = {
    "green": frozenset({"resident", "pink_card", "essential", "medical", "official"}),
    "yellow": frozenset({"resident", "essential", "medical", "official"}),
    "orange": frozenset({"resident", "medical", "official"}),
    "red": frozenset({"medical", "official"}),
}


def pass_text(pass_id: str) -> str:
    """What a pass's QR code (or a wedge scan) holds in this format."""
    return f"{PREFIX}{pass_id}"


class AllowListVerifier:
    def __init__(
        self,
        passes: Mapping[str, str],
        levels: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """``passes``: pass id -> category; ``levels``: zone level -> allowed categories."""
        self.passes = dict(passes)
        self.levels = {k: frozenset(v) for k, v in (levels or DEFAULT_LEVELS).items()}

    def check(self, text: str, context: PassContext) -> PassCheck:
        if not text.startswith(PREFIX) or not _PASS_ID.fullmatch(text[len(PREFIX) :]):
            return PassCheck(valid=False, reason=Reason.PASS_NOT_A_PASS)
        pass_id = text[len(PREFIX) :]
        category = self.passes.get(pass_id)
        if category is None:
            # Well formed but not ours: the nearest contract reason is "not valid here".
            return PassCheck(pass_id=pass_id, valid=False, reason=Reason.PASS_NOT_HERE)
        # An unknown level allows nobody: a typo in the level must not open the zone.
        if category not in self.levels.get(context.zone_level, frozenset()):
            return PassCheck(
                pass_id=pass_id, category=category, valid=False, reason=Reason.LEVEL_NOT_ALLOWED
            )
        return PassCheck(pass_id=pass_id, category=category, valid=True, reason=Reason.OK)
