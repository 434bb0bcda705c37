"""Reason cards for the manual override: laminated QR cards at the post, one per reason.

After the key is turned and the operator's badge is scanned, the operator may scan one of
these (``GZR:emergency``, ``GZR:medical``, ``GZR:elderly_without_pass``, ``GZR:other``);
none within ``override.reason_timeout_s`` records ``other``.
"""

from __future__ import annotations

from typing import Final

from checkpoint.contract.models import OverrideReason
from edge.hardware.qr_decode import Scan

CARD_PREFIX: Final = "GZR:"


def card_text(reason: OverrideReason) -> str:
    return CARD_PREFIX + reason.value


def reason_of(scan: Scan | None) -> OverrideReason:
    """The reason on a card; ``other`` for no card, an unreadable one or any other code."""
    if scan is None or scan.text is None or not scan.text.startswith(CARD_PREFIX):
        return OverrideReason.OTHER
    try:
        return OverrideReason(scan.text[len(CARD_PREFIX) :])
    except ValueError:
        return OverrideReason.OTHER
