"""The updater takes the desired version only as the hub's anchor key sealed it, and answers
a request once: a refusal is remembered across restarts, not retried on every reconnect."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.contract import encode
from checkpoint.contract.models import UpdateReport, UpdateStatus
from checkpoint.contract.node.update import UpdateConfig
from checkpoint.localstack.process import free_port
from checkpoint.passes.envelope import seal
from checkpoint.passes.keys import public_key_text
from checkpoint.release.desired import RELEASE_DOC, DesiredRelease
from edge.events import MemoryEmitter
from edge.update.agent import Updater
from tests.helpers import wait_for

ANCHOR = Ed25519PrivateKey.generate()
RELEASE_KEY = public_key_text(Ed25519PrivateKey.generate().public_key())


def _updater(tmp_path: Path, emitter: MemoryEmitter) -> Updater:
    config = UpdateConfig(
        enabled=True,
        # Nothing listens there: a download that is tried fails at once.
        hub_url=f"http://127.0.0.1:{free_port()}",
        release_key=RELEASE_KEY,
        root=tmp_path / "opt",
    )
    anchors = {"anchor-a": public_key_text(ANCHOR.public_key())}
    return Updater(config, tmp_path, emitter, anchors, version="0.1.0")


def _desired(release: str = "0.2.0") -> DesiredRelease:
    return DesiredRelease(
        version=1, issued_at=datetime.now(UTC), release=release, rollout_id="ro-1"
    )


def test_an_unsealed_or_foreign_request_is_ignored(tmp_path: Path) -> None:
    emitter = MemoryEmitter("n1", "cp1", "w1")
    updater = _updater(tmp_path, emitter)
    updater.on_desired(encode(_desired()))
    updater.on_desired(seal(RELEASE_DOC, _desired(), "anchor-a", Ed25519PrivateKey.generate()))
    updater.on_desired(seal("keys", _desired(), "anchor-a", ANCHOR))  # signed as another name
    assert updater._worker is None
    assert emitter.events == []
    assert not (tmp_path / "opt").exists()


def test_a_sealed_request_is_acted_on_and_its_refusal_remembered(tmp_path: Path) -> None:
    emitter = MemoryEmitter("n1", "cp1", "w1")
    updater = _updater(tmp_path, emitter)
    sealed = seal(RELEASE_DOC, _desired(), "anchor-a", ANCHOR)
    updater.on_desired(sealed)
    report = wait_for(lambda: emitter.events, timeout_s=30, what="a report")[0]
    assert isinstance(report, UpdateReport)
    assert report.status is UpdateStatus.REFUSED
    assert report.reason == "download_failed"
    assert (report.from_version, report.to_version) == ("0.1.0", "0.2.0")
    assert not updater.restart_requested
    # After a restart, the retained request again: already answered.
    again = _updater(tmp_path, emitter)
    again.on_desired(sealed)
    assert again._worker is None
    assert len(emitter.events) == 1
