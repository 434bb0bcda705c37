"""With anchor keys configured, a node takes trust documents only as the hub signed them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from checkpoint.contract import encode, topics
from checkpoint.contract.models import Reason
from checkpoint.contract.node.trust import TrustConfig
from checkpoint.passes.envelope import seal
from checkpoint.passes.keys import public_key_text
from edge.trust import Outcome, TrustStore
from edge.trust.verifier import OfflineVerifier
from tests.passes.factory import context, make_pass, revocations, signed, trust_list

ANCHOR = Ed25519PrivateKey.generate()
INTRUDER = Ed25519PrivateKey.generate()
PASS_KEY = Ed25519PrivateKey.generate()
ATTACKER_KEY = Ed25519PrivateKey.generate()
CONFIG = TrustConfig(anchors={"anchor-a": public_key_text(ANCHOR.public_key())})


@pytest.fixture
def store(tmp_path: Path) -> TrustStore:
    store = TrustStore.from_config(CONFIG, tmp_path)
    keys = seal("keys", trust_list(("k1", PASS_KEY)), "anchor-a", ANCHOR)
    assert store.on_message(topics.trust_topic("keys"), keys) is Outcome.APPLIED
    snapshot = seal("revocations", revocations(), "anchor-a", ANCHOR)
    assert store.on_message(topics.trust_topic("revocations"), snapshot) is Outcome.APPLIED
    return store


def test_signed_lists_verify_passes(store: TrustStore) -> None:
    assert OfflineVerifier(store).check(signed(make_pass(), PASS_KEY), context()).valid
    assert store.health().signed
    assert "trust_unchecked" not in store.health().flags


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (encode(trust_list(("evil", ATTACKER_KEY), version=9)), "unsigned"),
        (
            seal("keys", trust_list(("evil", ATTACKER_KEY), version=9), "anchor-a", INTRUDER),
            "bad_signature",
        ),
        (
            seal("keys", trust_list(("evil", ATTACKER_KEY), version=9), "anchor-z", INTRUDER),
            "unknown_key",
        ),
        (
            seal("policy", trust_list(("evil", ATTACKER_KEY), version=9), "anchor-a", ANCHOR),
            "bad_signature",
        ),
    ],
    ids=["plain", "wrong-signer", "unknown-anchor", "replayed-as-other-name"],
)
def test_forged_key_lists_are_refused(store: TrustStore, payload: bytes, reason: str) -> None:
    assert store.on_message(topics.trust_topic("keys"), payload) is Outcome.REJECTED
    assert store.health().rejected == {reason: 1}
    # The attacker's passes stay refused; the real ones still pass.
    verifier = OfflineVerifier(store)
    forged = signed(make_pass(key_id="evil"), ATTACKER_KEY)
    assert verifier.check(forged, context()).reason is Reason.PASS_UNKNOWN_KEY
    assert verifier.check(signed(make_pass(), PASS_KEY), context()).valid


def test_tampered_document_text_is_refused(store: TrustStore) -> None:
    sealed = seal("keys", trust_list(("k1", PASS_KEY), version=5), "anchor-a", ANCHOR)
    tampered = sealed.replace(b'\\"version\\":5', b'\\"version\\":6')
    assert tampered != sealed
    assert store.on_message(topics.trust_topic("keys"), tampered) is Outcome.REJECTED
    assert store.health().rejected == {"bad_signature": 1}


def test_anchor_config_is_checked() -> None:
    with pytest.raises(ValidationError, match="32"):
        TrustConfig(anchors={"anchor-a": "c2hvcnQ"})
    with pytest.raises(ValidationError, match="max_age_s"):
        TrustConfig.model_validate({"max_age_s": 0})
    with pytest.raises(ValidationError, match="extra"):
        TrustConfig.model_validate({"max_age": 60})
