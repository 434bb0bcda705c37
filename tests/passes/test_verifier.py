"""Every refusal has its own reason; a good pass is admitted with the list versions used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.contract.models import Reason
from checkpoint.passes import base45, codec
from checkpoint.passes.documents import LevelRule
from checkpoint.passes.model import Category, HourWindow
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import FixedTrust, TrustState
from edge.trust.verifier import OfflineVerifier
from tests.passes.factory import (
    NOW,
    context,
    make_pass,
    revocations,
    signed,
    trust_list,
    verifier,
)

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()


def test_good_pass_is_admitted_with_versions_and_age() -> None:
    result = verifier(("k1", KEY)).check(signed(make_pass(), KEY), context())
    assert result.valid
    assert result.reason is Reason.OK
    assert result.pass_id == "Pa55-0001"
    assert result.category == "resident"
    assert result.key_id == "k1"
    assert result.trust_version == 1
    assert result.revocation_version == 3
    assert result.trust_age_s == pytest.approx(300.0)


def flip_bit(text: str, byte: int, bit: int = 0) -> str:
    raw = bytearray(base45.decode(text[len(codec.PREFIX) :]))
    raw[byte] ^= 1 << bit
    return codec.PREFIX + base45.encode(bytes(raw))


def refusal(text: str, **ctx: Any) -> Reason:
    result = verifier(("k1", KEY), revoked=("Revoked-01",)).check(text, context(**ctx))
    assert not result.valid
    return result.reason


GOOD = signed(make_pass(), KEY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("https://example.org/not-a-pass", Reason.PASS_NOT_A_PASS),
        ("", Reason.PASS_NOT_A_PASS),
        ("GZ1:" + "A" * 5000, Reason.PASS_NOT_A_PASS),
        (GOOD[:-30], Reason.PASS_UNREADABLE),
        (GOOD[: len(GOOD) // 2], Reason.PASS_UNREADABLE),
        ("GZ1:", Reason.PASS_UNREADABLE),
        ("GZ1:hello world", Reason.PASS_UNREADABLE),
        (signed(make_pass(), OTHER), Reason.PASS_BAD_SIGNATURE),
        (signed(make_pass(key_id="k9"), KEY), Reason.PASS_UNKNOWN_KEY),
        (flip_bit(GOOD, -1), Reason.PASS_BAD_SIGNATURE),
    ],
    ids=[
        "url",
        "empty",
        "oversized",
        "truncated-tail",
        "truncated-half",
        "prefix-only",
        "not-base45",
        "forged-signature",
        "unknown-key",
        "signature-bit-flip",
    ],
)
def test_unusable_texts(text: str, reason: Reason) -> None:
    assert refusal(text) is reason


def test_payload_altered_after_signing() -> None:
    # Change the category code byte: still a well-formed pass, but not the one signed.
    body = codec.body_of(make_pass(category=Category.VISITOR))
    position = body.index(codec.CATEGORY_CODES.index(Category.VISITOR).to_bytes(1, "big"), 10)
    altered = flip_bit(GOOD, position, 0)
    assert codec.split(altered).fields["category"] != "resident"
    assert refusal(altered) is Reason.PASS_BAD_SIGNATURE


def test_expired_and_not_yet_valid() -> None:
    assert refusal(GOOD, now=NOW + timedelta(days=14)) is Reason.PASS_EXPIRED
    assert refusal(GOOD, now=NOW - timedelta(days=2)) is Reason.PASS_NOT_YET_VALID


def test_revoked() -> None:
    assert refusal(signed(make_pass(pass_id="Revoked-01"), KEY)) is Reason.PASS_REVOKED


def test_wrong_ward() -> None:
    assert refusal(GOOD, ward_id="yenhoa") is Reason.PASS_WRONG_WARD


def test_not_here() -> None:
    text = signed(make_pass(checkpoints=("phucla-cp01", "phucla-cp02")), KEY)
    assert refusal(text) is Reason.PASS_NOT_HERE
    ok = verifier(("k1", KEY)).check(text, context(checkpoint_id="phucla-cp02"))
    assert ok.valid


def test_pass_hours() -> None:
    # 06:00-08:00 local; NOW is 10:00 local.
    text = signed(make_pass(hours=(HourWindow(start=360, end=480),)), KEY)
    assert refusal(text) is Reason.OUTSIDE_HOURS
    assert verifier(("k1", KEY)).check(text, context(now=NOW - timedelta(hours=3))).valid


def test_curfew_of_the_level() -> None:
    # yellow: 22h-6h curfew for residents, not for medical staff. 23:00 local:
    late = NOW + timedelta(hours=13)
    assert refusal(GOOD, now=late, zone_level="yellow") is Reason.OUTSIDE_HOURS
    medic = signed(make_pass(category=Category.MEDICAL), KEY)
    assert verifier(("k1", KEY)).check(medic, context(late, zone_level="yellow")).valid


def test_level_not_allowed() -> None:
    # red: residents may come home but not leave; a delivery rider may not enter.
    assert refusal(GOOD, zone_level="red", direction="out") is Reason.LEVEL_NOT_ALLOWED
    rider = signed(make_pass(category=Category.DELIVERY), KEY)
    assert refusal(rider, zone_level="red") is Reason.LEVEL_NOT_ALLOWED
    assert refusal(GOOD, zone_level="no-such-level") is Reason.LEVEL_NOT_ALLOWED
    assert verifier(("k1", KEY)).check(GOOD, context(zone_level="red")).valid


def test_a_ward_can_have_its_own_rule_for_a_level() -> None:
    base = default_policy()
    # Phuc La's district plan: at level 3 residents may not leave at all.
    strict = LevelRule(allow_in=frozenset(Category), allow_out=frozenset({Category.MEDICAL}))
    policy = base.model_copy(update={"ward_levels": {"phucla": {"level3": strict}}})
    state = TrustState.of(trust_list(("k1", KEY)), revocations(), policy)
    node = OfflineVerifier(FixedTrust(state))
    leaving = context(zone_level="level3", direction="out")
    assert node.check(GOOD, leaving).reason is Reason.LEVEL_NOT_ALLOWED
    elsewhere = signed(make_pass(ward_id="yenhoa"), KEY)
    assert node.check(
        elsewhere, context(ward_id="yenhoa", zone_level="level3", direction="out")
    ).valid
    assert node.check(GOOD, context(zone_level="level2", direction="out")).valid  # not overridden
