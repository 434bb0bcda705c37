"""Pass keys and revocations in the state store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from checkpoint.errors import ConfigError
from checkpoint.passes import codec
from checkpoint.passes.errors import KeyStoreError
from checkpoint.passes.model import Category
from hub.passes.desk import PassDesk
from hub.passes.issuer import PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.revocations import RevocationLedger
from hub.passes.sealing import Sealer
from hub.passes.settings import PassesSettings
from hub.passes.stored_keys import StoredKeys, pass_keys
from hub.passes.stored_ledger import StoredLedger
from hub.state import metadata

SECRET = "s" * 40
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def keys(engine: Engine) -> StoredKeys:
    metadata.create_all(engine)
    return StoredKeys(engine, Sealer(SECRET))


def test_private_keys_are_sealed_at_rest_and_bound_to_their_id(
    keys: StoredKeys, engine: Engine
) -> None:
    keys.create_key("k1", now=NOW)
    keys.create_key("k2", now=NOW + timedelta(days=1))
    with engine.connect() as conn:
        rows = {r.key_id: bytes(r.sealed) for r in conn.execute(select(pass_keys))}
    raw = keys.signing_key("k1").private_bytes_raw()
    assert raw not in rows["k1"]
    assert b"PRIVATE" not in rows["k1"]

    other = StoredKeys(engine, Sealer("t" * 40))
    with pytest.raises(KeyStoreError, match="secret differs"):
        other.signing_key("k1")
    # A sealed key copied onto another key's row does not open there.
    with engine.begin() as conn:
        conn.execute(update(pass_keys).where(pass_keys.c.key_id == "k2").values(sealed=rows["k1"]))
    with pytest.raises(KeyStoreError):
        keys.signing_key("k2")
    with pytest.raises(KeyStoreError, match="at least 32"):
        Sealer("short")
    assert "s" * 8 not in repr(Sealer(SECRET))


def test_the_newest_key_signs_and_every_change_bumps_the_trust_list(keys: StoredKeys) -> None:
    with pytest.raises(KeyStoreError, match="no signing key"):
        _ = keys.active_key_id
    keys.create_key("k1", now=NOW)
    keys.rotate("k2", now=NOW + timedelta(days=1))
    assert keys.active_key_id == "k2"
    assert keys.trust_list(NOW).version == 2
    with pytest.raises(KeyStoreError, match="rotate before retiring"):
        keys.retire("k2")
    keys.retire("k1")
    listed = keys.trust_list(NOW)
    assert (listed.version, [k.key_id for k in listed.keys]) == (3, ["k2"])
    with pytest.raises(KeyStoreError, match="exists already"):
        keys.create_key("k2")
    assert keys.anchor_signer() is None
    keys.create_anchor("a1")
    signer = keys.anchor_signer()
    assert signer is not None
    assert signer[0] == "a1"
    assert list(keys.anchor_public_keys()) == ["a1"]


def test_keys_and_revocations_made_as_files_are_taken_over_once(
    keys: StoredKeys, engine: Engine, tmp_path: Path
) -> None:
    files = KeyStore(tmp_path / "keys")
    files.create_key("k1", now=NOW)
    files.create_anchor("a1", now=NOW)
    file_ledger = RevocationLedger(tmp_path / "revoked.json")
    file_ledger.revoke("gone", now=NOW)
    assert keys.take_over(files) == 2
    assert keys.take_over(files) == 0
    files.rotate("k2", now=NOW + timedelta(days=1))
    files.retire("k1")
    assert keys.take_over(files) == 2  # the rotation and the retirement
    assert keys.active_key_id == "k2"
    assert keys.trust_list(NOW).version == max(files.index.version, 3)
    ledger = StoredLedger(engine)
    assert ledger.take_over(file_ledger) == 1
    assert ledger.take_over(file_ledger) == 0
    assert ledger.is_revoked("gone")

    # A pass signed with the stored key verifies against the file's public key.
    issued = PassIssuer(keys, ledger).issue(category=Category.RESIDENT, ward_id="phucla")
    signed = codec.split(issued.text)
    public = files.signing_key("k2").public_key()
    public.verify(signed.signature, signed.signed_message)
    assert keys.trust_list(NOW).keys[0].public_key == files.trust_list(NOW).keys[0].public_key


def test_two_instances_share_one_ledger(engine: Engine) -> None:
    metadata.create_all(engine)
    first, second = StoredLedger(engine), StoredLedger(engine)
    first.revoke("pass1", now=NOW, pass_valid_until=NOW + timedelta(days=3))
    assert second.revoked_at("pass1") == NOW
    assert second.revoke("pass1").revoked_at == NOW  # idempotent, whoever asks
    second.revoke("pass2", now=NOW, pass_valid_until=NOW + timedelta(hours=1))
    assert (first.version, second.delta(NOW).version) == (2, 2)
    assert [r.pass_id for r in first.delta(NOW).added] == ["pass1", "pass2"]

    snapshot = second.snapshot(NOW + timedelta(hours=2))  # p2's pass expired: dropped
    assert (snapshot.version, [r.pass_id for r in snapshot.revoked]) == (3, ["pass1"])
    first.revoke("pass3", now=NOW)
    delta = second.delta(NOW)
    assert (delta.base_version, delta.version, [r.pass_id for r in delta.added]) == (
        3,
        4,
        ["pass3"],
    )


def test_a_desk_on_postgresql_needs_the_sealing_credential(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name == "sqlite":
        desk = PassDesk(engine, PassesSettings(), directory=tmp_path / "passes")
        sealing = tmp_path / "passes" / "sealing.key"
        assert sealing.stat().st_mode & 0o777 == 0o600
        desk.keys.create_key("k1")
        assert PassDesk(engine, PassesSettings(), directory=tmp_path / "passes").keys.signing_key()
        return
    with pytest.raises(ConfigError, match="key_credential is required"):
        PassDesk(engine, PassesSettings(), directory=tmp_path / "passes")
