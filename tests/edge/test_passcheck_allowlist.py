"""The allow-list verifier used by tests and the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checkpoint.contract.models import Reason
from edge.passcheck import PassContext
from edge.passcheck_allowlist import AllowListVerifier, pass_text

VERIFIER = AllowListVerifier({"r1": "resident", "m1": "medical", "p1": "pink_card"})


def ctx(level: str) -> PassContext:
    return PassContext(
        now=datetime.now(UTC), ward_id="w", checkpoint_id="w-cp01", zone_level=level, direction="in"
    )


@pytest.mark.parametrize(
    ("text", "level", "reason"),
    [
        (pass_text("r1"), "green", Reason.OK),
        (pass_text("p1"), "green", Reason.OK),
        (pass_text("p1"), "yellow", Reason.LEVEL_NOT_ALLOWED),
        (pass_text("r1"), "red", Reason.LEVEL_NOT_ALLOWED),
        (pass_text("m1"), "red", Reason.OK),
        (pass_text("r1"), "purple", Reason.LEVEL_NOT_ALLOWED),  # unknown level: nobody
        (pass_text("zz"), "green", Reason.PASS_NOT_HERE),
        ("hello", "green", Reason.PASS_NOT_A_PASS),
        ("GZA:", "green", Reason.PASS_NOT_A_PASS),
        ("GZA:" + "a" * 65, "green", Reason.PASS_NOT_A_PASS),
        ("GZA:a b", "green", Reason.PASS_NOT_A_PASS),
    ],
)
def test_reasons(text: str, level: str, reason: Reason) -> None:
    check = VERIFIER.check(text, ctx(level))
    assert check.reason == reason
    assert check.valid is (reason == Reason.OK)
