"""The hub API's state (keys, audit, levels, what was sent, issued passes) on both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from checkpoint.passes.model import Category
from hub.api.audit import AuditLog
from hub.api.keys import KeyStore
from hub.api.roles import Role
from hub.api.sent import SentLog
from hub.levels import LevelStore
from hub.passes.desk import PassDesk
from hub.passes.settings import PassesSettings
from hub.state import metadata


def test_keys_audit_levels_and_sent_log(engine: Engine) -> None:
    metadata.create_all(engine)  # tables of modules imported after the store opened
    keys = KeyStore(engine)
    principal, token = keys.issue(Role.COMMANDER, "night shift", wards=["phucla"])
    assert keys.authenticate(token) == principal
    keys.revoke(principal.key_id)
    assert keys.authenticate(token) is None

    audit = AuditLog(engine)
    audit.record(principal, "level.set", "phucla-cp01", ward_id="phucla", detail={"level": "red"})
    [entry] = audit.entries(wards=frozenset({"phucla"}))
    assert (entry.action, entry.detail, entry.ts.tzinfo is not None) == (
        "level.set",
        {"level": "red"},
        True,
    )

    levels = LevelStore(engine)
    levels.set("phucla", "phucla-cp01", "red", principal.key_id)
    levels.set("phucla", "phucla-z2", "level3", principal.key_id)
    doc = levels.set("phucla", "phucla-cp01", "orange", principal.key_id)  # an upsert
    assert (doc.version, doc.levels) == (3, {"phucla-cp01": "orange", "phucla-z2": "level3"})

    sent = SentLog(engine)
    sent.record("command", "c1", "phucla-cp01-n1", "phucla", "remeasure", {}, principal.key_id)
    got = sent.get("command", "c1")
    assert got is not None
    assert got.name == "remeasure"


def test_issued_passes(engine: Engine, tmp_path: Path, pass_key_credential: str) -> None:
    settings = PassesSettings(key_credential=pass_key_credential)
    desk = PassDesk(engine, settings, directory=tmp_path / "passes")
    desk.keys.create_key("k1")
    record = desk.issue(
        by="k",
        category=Category.RESIDENT,
        ward_id="phucla",
        valid_for=timedelta(days=1),
    )
    assert desk.get(record.pass_id).text == record.text
    revoked = desk.revoke(record.pass_id)
    assert revoked.revoked_at is not None
    assert desk.revoked_at(record.pass_id) == revoked.revoked_at
