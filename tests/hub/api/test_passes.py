"""Passes through the API: issued -> PNG -> a 640x480 camera frame -> the edge's real
decoder -> verified offline -> admitted; revoked through the API -> a running node's trust
store over real Mosquitto -> refused; and the hub's alert when a revoked pass got in."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from checkpoint.contract.models import Decision, Passage, Reason
from checkpoint.contract.node.trust import TrustConfig
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.passes.model import Category
from checkpoint.passes.state import FixedTrust, TrustState
from edge.events import MemoryEmitter
from edge.hardware.qr_decode import decode_frame
from edge.trust import TrustStore
from edge.trust.verifier import OfflineVerifier
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.passes.desk import PassDesk
from hub.passes.publisher import TrustPublisher
from hub.passes.settings import PassesSettings
from hub.rules.config import RulesConfig
from hub.rules.engine import RuleSet
from hub.wards import WardSettings
from tests.helpers import pdftotext, wait_for
from tests.hub.api.conftest import Keys, auth
from tests.passes import mqtt
from tests.passes.factory import context
from tests.passes.frames import camera_frame, read_png_gray

# A moment just past, with the signing key created a day before it: nothing here may
# depend on when the test runs (the green level has no curfew).
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
def desk(api_ctx: ApiContext, tmp_path: Path) -> PassDesk:
    desk = PassDesk(api_ctx.engine, PassesSettings(), directory=tmp_path / "passes")
    desk.keys.create_key("hub-a", now=NOW - timedelta(days=1))
    api_ctx.passes = desk
    return desk


@pytest.fixture
def client(api_ctx: ApiContext, desk: PassDesk) -> Iterator[TestClient]:
    with TestClient(create_app(api_ctx)) as c:
        yield c


def issue(client: TestClient, token: str, **fields: object) -> dict[str, object]:
    body = {
        "category": "resident",
        "ward_id": "phucla",
        "label": "To 7",
        "valid_from": (NOW - timedelta(hours=1)).isoformat(),
    } | fields
    resp = client.post("/passes", json=body, headers=auth(token))
    assert resp.status_code == 201, resp.text
    result: dict[str, object] = resp.json()
    return result


def test_issued_through_the_api_read_by_the_edge_decoder_and_admitted(
    client: TestClient, keys: Keys, desk: PassDesk
) -> None:
    issued = issue(client, keys.technician, category="essential_worker")
    png = client.get(f"/passes/{issued['pass_id']}/qr.png", headers=auth(keys.technician))
    assert png.headers["content-type"] == "image/png"
    frame = camera_frame(
        read_png_gray(png.content), scale=0.9, offset=(60, 200), noise=12.0, blur=1
    )
    assert frame.shape == (480, 640)
    scan = decode_frame(frame)
    assert scan is not None
    assert scan.text == issued["text"]
    state = TrustState.of(desk.keys.trust_list(NOW), desk.ledger.snapshot(NOW), desk.policy)
    check = OfflineVerifier(FixedTrust(state)).check(scan.text, context(NOW, direction="in"))
    assert (check.valid, check.reason, check.pass_id) == (True, Reason.OK, issued["pass_id"])

    svg = client.get(f"/passes/{issued['pass_id']}/qr.svg", headers=auth(keys.commander))
    assert svg.text.lstrip().startswith(("<?xml", "<svg"))
    pdf = client.get(f"/passes/{issued['pass_id']}/card.pdf", headers=auth(keys.commander))
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF-")
    card = client.get(f"/passes/{issued['pass_id']}/card.png", headers=auth(keys.commander))
    assert card.headers["content-type"] == "image/png"
    found = zxingcpp.read_barcodes(np.asarray(Image.open(io.BytesIO(card.content)).convert("L")))
    assert [b.text for b in found] == [issued["text"]]


def test_the_card_prints_the_ward_name_from_the_wards_section(
    api_ctx: ApiContext, client: TestClient, keys: Keys, desk: PassDesk, tmp_path: Path
) -> None:
    api_ctx.wards = {"phucla": WardSettings(name="Phường Phúc La, quận Hà Đông")}
    issued = issue(client, keys.commander)
    pdf = client.get(f"/passes/{issued['pass_id']}/card.pdf", headers=auth(keys.commander))
    (tmp_path / "card.pdf").write_bytes(pdf.content)
    assert "Phường Phúc La, quận Hà Đông" in pdftotext(tmp_path / "card.pdf")


def test_rules_for_issuing(client: TestClient, keys: Keys, desk: PassDesk) -> None:
    assert (
        client.post(
            "/passes",
            json={"category": "resident", "ward_id": "hoangmai"},
            headers=auth(keys.technician),
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/passes",
            json={"category": "mayor", "ward_id": "phucla"},
            headers=auth(keys.technician),
        ).status_code
        == 422
    )
    long = client.post(
        "/passes",
        json={
            "category": "resident",
            "ward_id": "phucla",
            "checkpoints": [f"phucla-checkpoint-{i:02d}" for i in range(8)],
            "label": "x" * 24,
        },
        headers=auth(keys.technician),
    )
    assert long.status_code in (201, 422)  # too long for a reliable QR is refused, not a 500
    as_number = client.post(
        "/passes",
        json={"category": "resident", "ward_id": "phucla", "valid_from": 1.5e9},
        headers=auth(keys.technician),
    )
    assert as_number.status_code == 422  # a date is an ISO string, not Unix seconds
    without_salt = client.post(
        "/passes",
        json={"category": "resident", "ward_id": "phucla", "document_number": "0012"},
        headers=auth(keys.commander),
    )
    assert "salt" in without_salt.json()["detail"][0]["msg"]
    desk.issuer.salt = b"phucla-salt"  # as from its systemd credential
    issued = issue(client, keys.commander, document_number="001234567890")
    log = client.get("/audit?action=pass.issue", headers=auth(keys.admin)).json()["items"]
    assert "001234567890" not in str(log)
    assert "001234567890" not in str(issued)
    listed = client.get("/passes", headers=auth(keys.commander)).json()
    assert issued["pass_id"] in {p["pass_id"] for p in listed}
    assert client.get("/passes/nope", headers=auth(keys.admin)).status_code == 404


def test_a_revocation_through_the_api_reaches_a_running_node(
    client: TestClient, keys: Keys, desk: PassDesk, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "broker")  # trust topics are global: our own broker
    broker.start()
    try:
        node_store = TrustStore(tmp_path / "node-trust", TrustConfig())
        with (
            mqtt.publisher(broker.port, "hub") as hub_client,
            mqtt.client(broker.port, "node", on_message=node_store.on_message),
        ):
            desk.start(TrustPublisher(hub_client))
            issued = issue(client, keys.technician)
            verifier = OfflineVerifier(node_store, TrustConfig())
            wait_for(lambda: node_store.health().keys_version is not None, what="the key list")
            text = str(issued["text"])
            now = datetime.now(UTC)
            assert verifier.check(text, context(now, direction="in")).reason is Reason.OK
            before = node_store.health().revocation_version

            resp = client.post(f"/passes/{issued['pass_id']}/revoke", headers=auth(keys.commander))
            assert resp.status_code == 200
            assert resp.json()["revoked_at"] is not None
            wait_for(lambda: node_store.health().revocation_version != before, what="the delta")
            refused = verifier.check(text, context(now, direction="in"))
            assert refused.reason is Reason.PASS_REVOKED
            again = client.post(f"/passes/{issued['pass_id']}/revoke", headers=auth(keys.commander))
            assert again.status_code == 409
            # A node that missed a delta asks (through a technician) for the full list.
            snap = client.post("/passes/revocations/snapshot", headers=auth(keys.technician))
            assert snap.status_code == 200
            assert snap.json()["revoked"] == 1
            wait_for(
                lambda: node_store.health().revocation_version == snap.json()["version"],
                what="the snapshot at the node",
            )
            assert verifier.check(text, context(now, direction="in")).reason is Reason.PASS_REVOKED
            desk.stop()
    finally:
        broker.stop()


def test_a_revoked_pass_admitted_offline_raises_an_alert(desk: PassDesk) -> None:
    record = desk.issue(
        by="test",
        category=Category.RESIDENT,
        ward_id="phucla",
        valid_for=timedelta(days=3),
        valid_from=NOW - timedelta(hours=2),
        zone_id=None,
        checkpoints=(),
        hours=(),
        label="",
        document_number=None,
    )
    desk.revoke(record.pass_id)
    revoked = desk.revoked_at(record.pass_id)
    assert revoked is not None
    rules = RuleSet(RulesConfig(), revoked_at=desk.revoked_at)
    em = MemoryEmitter(
        "phucla-cp02-n1", "phucla-cp02", "phucla", clock=lambda: revoked + timedelta(minutes=10)
    )

    def admitted(pass_id: str) -> Passage:
        check = {
            "pass_id": pass_id,
            "category": "resident",
            "valid": True,
            "reason": "ok",
            "revocation_version": 0,
            "trust_age_s": 7200.0,
        }
        return em.emit(
            Passage,
            direction="in",
            decision=Decision.ADMIT,
            reason=Reason.OK,
            zone_level="green",
            temperature=None,
            pass_check=check,
            barrier=None,
            duration_ms=900,
        )

    signals = rules.on_events([admitted(record.pass_id), admitted("another-pass")], revoked)
    raised = [s for s in signals if getattr(s, "kind", "") == "revoked_pass_admitted"]
    assert len(raised) == 1
    assert raised[0].details["pass_id"] == record.pass_id  # type: ignore[union-attr]
