"""Past the configured age of its lists the node applies the stricter fallback policy."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.contract.models import Reason
from checkpoint.contract.node.trust import VerifierSettings
from checkpoint.passes.model import Category
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import FixedTrust, TrustState
from edge.trust.verifier import OfflineVerifier
from tests.passes.factory import NOW, context, make_pass, revocations, signed, trust_list

KEY = Ed25519PrivateKey.generate()
RESIDENT = signed(make_pass(), KEY)
MEDIC = signed(make_pass(category=Category.MEDICAL), KEY)


def stale_verifier(max_age_s: float) -> OfflineVerifier:
    state = TrustState.of(trust_list(("k1", KEY)), revocations(), default_policy())
    return OfflineVerifier(FixedTrust(state), VerifierSettings(max_age_s=max_age_s))


def test_fresh_lists_follow_the_level() -> None:
    assert stale_verifier(3600).check(RESIDENT, context(direction="out")).valid


def test_stale_lists_fall_back_to_the_strict_rule() -> None:
    verifier = stale_verifier(60)  # the lists are 300 s old
    out = verifier.check(RESIDENT, context(direction="out"))
    assert out.reason is Reason.STALE_TRUST
    assert out.trust_age_s is not None
    assert out.trust_age_s > 60
    # The fallback still lets residents home and medical staff through.
    assert verifier.check(RESIDENT, context(direction="in")).valid
    assert verifier.check(MEDIC, context(direction="out")).valid


def test_age_grows_with_the_clock() -> None:
    verifier = stale_verifier(3600)
    later = context(NOW + timedelta(hours=2), direction="out")
    result = verifier.check(RESIDENT, later)
    assert result.reason is Reason.STALE_TRUST
    assert result.trust_age_s == 2 * 3600 + 300


def test_no_lists_at_all() -> None:
    verifier = OfflineVerifier(FixedTrust(TrustState()))
    result = verifier.check(RESIDENT, context())
    assert result.reason is Reason.STALE_TRUST
    assert result.trust_version is None
    assert result.trust_age_s is None


def test_missing_revocations_count_as_stale() -> None:
    state = TrustState.of(trust_list(("k1", KEY)), None, default_policy())
    verifier = OfflineVerifier(FixedTrust(state))
    assert verifier.check(RESIDENT, context(direction="out")).reason is Reason.STALE_TRUST
