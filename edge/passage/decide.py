"""The decision itself: a pure function of the temperature and pass results."""

from __future__ import annotations

from checkpoint.contract.models import Decision, PassCheck, Reason
from edge.hardware.qr_decode import Scan
from edge.thermometry import Screening


def temperature_refusal(screening: Screening) -> Reason | None:
    """Refuse before asking for a pass: a fever or a thermometer we cannot trust."""
    if screening.fault is not None:
        return Reason.THERMOMETER_FAULT
    if screening.check.fever:
        return Reason.FEVER
    return None


def unreadable_check(scan: Scan | None) -> PassCheck | None:
    """The pass check for a missing or unreadable code; None when the verifier must decide."""
    if scan is None:
        return PassCheck(valid=False, reason=Reason.NO_PASS)
    if scan.text is None:
        return PassCheck(valid=False, reason=Reason.PASS_UNREADABLE)
    return None


def decide(
    temperature: Reason | None, pass_check: PassCheck | None, *, passback: bool = False
) -> tuple[Decision, Reason]:
    """``passback``: the pass came in here before and has not gone out since."""
    if temperature is not None:
        return Decision.REFUSE, temperature
    if pass_check is None or not pass_check.valid:
        return Decision.REFUSE, pass_check.reason if pass_check else Reason.NO_PASS
    if passback:
        return Decision.REFUSE, Reason.PASSBACK
    return Decision.ADMIT, Reason.OK
