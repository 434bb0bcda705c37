"""The seam between the passage state machine and pass verification.

The node hands the scanned text to a PassVerifier and gets a contract PassCheck back: valid
or not, with the reason the volunteer's light/buzzer pattern and the hub's counts use.
Signed-pass verification (Ed25519, trust and revocation lists, zone policy) implements this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from checkpoint.contract.models import PassCheck


@dataclass(frozen=True, slots=True)
class PassContext:
    """Where and when a pass is presented."""

    now: datetime
    ward_id: str
    checkpoint_id: str
    zone_level: str
    direction: Literal["in", "out"]
    zone_id: str | None = None  # the innermost zone the checkpoint guards
    # "badge": only an operator badge, valid here and now, passes (overrides, shifts);
    # zone levels and hours do not apply to it.
    purpose: Literal["passage", "badge"] = "passage"


class PassVerifier(Protocol):
    def check(self, text: str, context: PassContext) -> PassCheck:
        """Verify ``text`` (the decoded QR or wedge input) offline; never raise on bad input."""
        ...
