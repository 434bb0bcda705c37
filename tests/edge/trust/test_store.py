"""The node's trust store: newest wins, survives a reboot offline, refuses junk with a reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.contract import encode, topics
from checkpoint.contract.models import Reason
from checkpoint.contract.node.trust import VerifierSettings
from checkpoint.passes import documents as docs
from checkpoint.passes.policy import default_policy
from edge.trust import Outcome, TrustStore
from edge.trust.verifier import OfflineVerifier
from tests.passes.factory import NOW, context, make_pass, revocations, signed, trust_list

KEY = Ed25519PrivateKey.generate()
GOOD = signed(make_pass(), KEY)
REVOKED = signed(make_pass(pass_id="Revoked-01"), KEY)


def send(store: TrustStore, name: str, document: docs.Document) -> Outcome:
    return store.on_message(topics.trust_topic(name), encode(document))


def delta(base: int, version: int, *pass_ids: str, minutes_ago: int = 1) -> docs.RevocationDelta:
    added = revocations(*pass_ids).revoked
    issued = NOW - timedelta(minutes=minutes_ago)
    return docs.RevocationDelta(version=version, base_version=base, issued_at=issued, added=added)


def loaded(directory: Path) -> TrustStore:
    store = TrustStore(directory)
    assert send(store, "keys", trust_list(("k1", KEY))) is Outcome.APPLIED
    assert send(store, "revocations", revocations(version=3)) is Outcome.APPLIED
    assert send(store, "policy", default_policy(2, NOW)) is Outcome.APPLIED
    return store


def test_node_boots_offline_with_its_stored_lists(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    assert send(store, "revocations-delta", delta(3, 4, "Revoked-01")) is Outcome.APPLIED
    del store

    rebooted = TrustStore(tmp_path)  # no broker, no network: only the files
    verifier = OfflineVerifier(rebooted)
    admitted = verifier.check(GOOD, context())
    assert admitted.valid
    assert (admitted.trust_version, admitted.revocation_version) == (1, 4)
    assert verifier.check(REVOKED, context()).reason is Reason.PASS_REVOKED
    assert rebooted.policy is not None
    assert rebooted.policy.version == 2


def test_a_fresh_node_without_lists_refuses_as_stale(tmp_path: Path) -> None:
    store = TrustStore(tmp_path)
    assert OfflineVerifier(store).check(GOOD, context()).reason is Reason.STALE_TRUST
    health = store.health(NOW)
    assert health.stale
    assert health.flags == ["trust_stale", "trust_unchecked"]


def test_older_documents_are_ignored(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    assert send(store, "keys", trust_list(version=0)) is Outcome.IGNORED_OLD
    assert OfflineVerifier(store).check(GOOD, context()).valid


def test_republished_lists_only_refresh_the_age(tmp_path: Path) -> None:
    store = TrustStore(tmp_path, VerifierSettings(max_age_s=3600))
    old = trust_list(("k1", KEY)).model_copy(update={"issued_at": NOW - timedelta(days=2)})
    send(store, "keys", old)
    send(store, "revocations", revocations(version=3))
    assert store.health(NOW).stale
    assert send(store, "keys", trust_list(("k1", KEY))) is Outcome.REFRESHED
    health = store.health(NOW)
    assert not health.stale
    assert health.age_s == 300


def test_a_delta_without_its_base_waits_for_the_snapshot(tmp_path: Path) -> None:
    store = loaded(tmp_path)  # holds revocations version 3
    assert send(store, "revocations-delta", delta(5, 6, "Revoked-01")) is Outcome.PENDING_SNAPSHOT
    assert store.health(NOW).needs_snapshot
    assert OfflineVerifier(store).check(REVOKED, context()).valid  # nothing known yet

    send(store, "revocations", revocations("Other-0001", version=5))
    assert not store.health(NOW).needs_snapshot
    assert store.trust_state().revocation_version == 6
    assert OfflineVerifier(store).check(REVOKED, context()).reason is Reason.PASS_REVOKED


def test_a_later_cumulative_delta_catches_up(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    # Missed version 4 (one pass); version 5 carries both since base 3.
    assert send(store, "revocations-delta", delta(3, 5, "Revoked-01", "Other-0001")) is (
        Outcome.APPLIED
    )
    assert store.trust_state().revoked == {"Revoked-01", "Other-0001"}


def test_junk_is_rejected_with_a_reason_and_kept(tmp_path: Path) -> None:
    store = loaded(tmp_path)
    cases = {
        topics.trust_topic("keys"): b"\xff\xfe",
        topics.trust_topic("policy"): b"{not json",
        topics.trust_topic("revocations"): b'{"v": 1, "version": -1}',
        topics.trust_topic("unknown"): b"{}",
    }
    for topic, payload in cases.items():
        assert store.on_message(topic, payload) is Outcome.REJECTED
    assert store.health(NOW).rejected == {
        "not_utf8": 1,
        "not_json": 1,
        "bad_schema": 1,
        "unknown_topic": 1,
    }
    assert len(list((tmp_path / "rejected").iterdir())) == 4
    assert OfflineVerifier(store).check(GOOD, context()).valid  # last good copy still used


def test_a_corrupt_file_is_set_aside_at_boot(tmp_path: Path) -> None:
    loaded(tmp_path)
    (tmp_path / "policy.json").write_text('{"v": 1, "vers')  # power cut, old write code
    store = TrustStore(tmp_path)
    assert store.policy is None
    assert store.keys is not None
    assert (tmp_path / "policy.bad").exists()
    assert store.health(NOW).rejected == {"corrupt_file": 1}
