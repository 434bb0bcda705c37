"""The hub's revocation ledger: versioned, idempotent, compacted by snapshots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hub.passes.revocations import RevocationLedger
from tests.passes.factory import NOW


def test_versions_deltas_and_snapshots(tmp_path: Path) -> None:
    ledger = RevocationLedger(tmp_path / "r.json")
    ledger.revoke("Pass-0001", now=NOW)
    ledger.revoke("Pass-0001", now=NOW)  # twice changes nothing
    assert ledger.version == 1
    assert ledger.revoked_at("Pass-0001") == NOW
    assert ledger.is_revoked("Pass-0001")
    assert not ledger.is_revoked("Pass-0009")
    snap = ledger.snapshot(NOW)
    assert [r.pass_id for r in snap.revoked] == ["Pass-0001"]
    assert ledger.delta(NOW).added == ()

    ledger.revoke("Pass-0002", now=NOW)
    ledger.revoke("Pass-0003", now=NOW)
    delta = RevocationLedger(tmp_path / "r.json").delta(NOW)  # survives a restart
    assert (delta.base_version, delta.version) == (1, 3)
    assert [r.pass_id for r in delta.added] == ["Pass-0002", "Pass-0003"]


def test_snapshot_drops_expired_passes(tmp_path: Path) -> None:
    ledger = RevocationLedger(tmp_path / "r.json")
    ledger.revoke("Gone-0001", pass_valid_until=NOW - timedelta(days=1), now=NOW)
    ledger.revoke("Live-0001", pass_valid_until=NOW + timedelta(days=1), now=NOW)
    snap = ledger.snapshot(NOW)
    assert [r.pass_id for r in snap.revoked] == ["Live-0001"]
    assert snap.version == 3  # compaction is a change nodes must take
    assert ledger.delta(NOW).base_version == 3
