"""Signing keys stay private on disk, rotate by id, and retire through the trust list."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from checkpoint.contract.models import Reason
from checkpoint.passes.errors import BadPassRequest, KeyStoreError
from checkpoint.passes.keys import public_key_text
from checkpoint.passes.model import Category
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import FixedTrust, TrustState
from edge.trust.verifier import OfflineVerifier
from hub.passes.issuer import PassIssuer, holder_hash
from hub.passes.keystore import KeyStore
from hub.passes.revocations import RevocationLedger
from tests.passes.factory import NOW, context, revocations


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_keys_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    key_id = keys.create_key("hub-a", now=NOW)
    assert mode(tmp_path / "keys") == 0o700
    assert mode(tmp_path / "keys" / f"{key_id}.pem") == 0o600
    assert mode(tmp_path / "keys" / "keys.json") == 0o600
    assert "PRIVATE" not in (tmp_path / "keys" / "keys.json").read_text()


def test_a_loose_key_file_is_refused(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a", now=NOW)
    (tmp_path / "hub-a.pem").chmod(0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        keys.signing_key()


def test_no_key_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="create one first"):
        KeyStore(tmp_path).signing_key()


def node(keys: KeyStore) -> OfflineVerifier:
    state = TrustState.of(keys.trust_list(NOW), revocations(), default_policy())
    return OfflineVerifier(FixedTrust(state))


def test_key_rotation(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "keys")
    keys.create_key("hub-a", now=NOW - timedelta(days=30))
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "revoked.json"))
    start = NOW - timedelta(days=1)
    old = issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=start)
    assert old.pass_.key_id == "hub-a"

    keys.rotate("hub-b", now=NOW - timedelta(days=2))
    new = issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=start)
    assert new.pass_.key_id == "hub-b"
    assert keys.trust_list(NOW).version == 2
    # Both keys trusted: passes signed before the rotation keep working.
    assert node(keys).check(old.text, context()).valid
    assert node(keys).check(new.text, context()).valid

    with pytest.raises(KeyStoreError, match="rotate before"):
        keys.retire("hub-b")
    keys.retire("hub-a", now=NOW)
    reloaded = KeyStore(tmp_path / "keys")  # the index survives a hub restart
    assert [k.key_id for k in reloaded.trust_list(NOW).keys] == ["hub-b"]
    assert reloaded.trust_list(NOW).version == 3
    assert node(reloaded).check(old.text, context()).reason is Reason.PASS_UNKNOWN_KEY
    assert node(reloaded).check(new.text, context()).valid


def test_duplicate_key_id_is_refused(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a")
    with pytest.raises(KeyStoreError, match="exists"):
        keys.create_key("hub-a")


def test_holder_hash_is_salted_and_normalised() -> None:
    one = holder_hash(b"ward-1", "0012 3456 7890")
    assert one == holder_hash(b"ward-1", "001234567890")
    assert one != holder_hash(b"ward-2", "001234567890")
    assert len(one) == 16
    assert b"001234567890" not in one


def test_issuing_with_a_document_needs_the_salt(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a")
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "r.json"))
    with pytest.raises(BadPassRequest, match="salt"):
        issuer.issue(category=Category.RESIDENT, ward_id="phucla", document_number="0012")


def test_anchor_keys_stay_out_of_the_pass_trust_list(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a")
    with pytest.raises(KeyStoreError, match="no anchor"):
        keys.anchor_signer()
    keys.create_anchor("anchor-a")
    key_id, key = keys.anchor_signer()
    assert key_id == "anchor-a"
    assert keys.anchor_public_keys() == {"anchor-a": public_key_text(key.public_key())}
    assert [k.key_id for k in keys.trust_list().keys] == ["hub-a"]
    assert mode(tmp_path / "anchor-a.pem") == 0o600
    with pytest.raises(KeyStoreError, match="exists"):
        keys.create_key("anchor-a")


def test_a_window_beyond_the_format_is_a_clear_error(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a")
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "r.json"))
    with pytest.raises(BadPassRequest, match="time range"):
        issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_for=timedelta(days=40000))
    with pytest.raises(BadPassRequest, match="ward_id"):
        issuer.issue(category=Category.RESIDENT, ward_id="")


def test_a_pass_too_big_for_a_reliable_qr_is_refused(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    keys.create_key("hub-a")
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "r.json"))
    many = tuple(f"phucla-checkpoint-number-{i:02d}" for i in range(8))
    with pytest.raises(BadPassRequest, match="reliable QR"):
        issuer.issue(category=Category.OFFICIAL, ward_id="phucla", checkpoints=many)
    assert issuer.issue(category=Category.OFFICIAL, ward_id="phucla", checkpoints=many[:3])
