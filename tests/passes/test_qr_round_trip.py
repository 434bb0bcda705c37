"""Issued at the hub -> QR PNG -> 640x480 camera frame -> zxing-cpp -> verified -> admitted."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp

from checkpoint.contract.models import Reason
from checkpoint.passes import qr
from checkpoint.passes.model import Category
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import FixedTrust, TrustState
from edge.trust.verifier import OfflineVerifier
from hub.passes.issuer import PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.revocations import RevocationLedger
from tests.passes.factory import context, issue_busy
from tests.passes.frames import camera_frame, read_png_gray

# A moment just past, with the signing key created a day before it: nothing here may
# depend on when the test runs (the green level has no curfew).
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
def issuer(tmp_path: Path) -> PassIssuer:
    keys = KeyStore(tmp_path / "keys")
    keys.create_key("hub-a", now=NOW - timedelta(days=1))
    return PassIssuer(keys, RevocationLedger(tmp_path / "revoked.json"), salt=b"phucla-salt")


def node_verifier(issuer: PassIssuer) -> OfflineVerifier:
    state = TrustState.of(
        issuer.keys.trust_list(NOW), issuer.ledger.snapshot(NOW), default_policy(1, NOW)
    )
    return OfflineVerifier(FixedTrust(state))


@pytest.mark.parametrize(
    ("scale", "offset", "noise", "blur"),
    [(1.0, (40, 60), 10.0, 0), (0.8, (150, 300), 18.0, 1), (1.3, (5, 10), 6.0, 1)],
)
def test_issued_pass_read_from_a_camera_frame_is_admitted(
    *, issuer: PassIssuer, scale: float, offset: tuple[int, int], noise: float, blur: int
) -> None:
    issued = issuer.issue(
        category=Category.ESSENTIAL_WORKER,
        ward_id="phucla",
        checkpoints=("phucla-cp07",),
        label="Cho Ha Dong",
        document_number="001234567890",
        valid_from=NOW - timedelta(hours=1),
    )
    image = read_png_gray(qr.png(issued.text, scale=5))
    frame = camera_frame(image, scale=scale, offset=offset, noise=noise, blur=blur)
    assert frame.shape == (480, 640)

    found = zxingcpp.read_barcodes(frame)
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
    assert found[0].text == issued.text

    result = node_verifier(issuer).check(found[0].text, context(NOW, direction="out"))
    assert result.reason is Reason.OK
    assert result.pass_id == issued.pass_.pass_id
    assert result.key_id == "hub-a"


def test_text_fits_a_small_qr(issuer: PassIssuer) -> None:
    issued = issue_busy(issuer, zone_id="to-dan-pho-19")
    code = qr.make_qr(issued.text)
    assert len(issued.text) < 300
    assert code.version <= 10  # 57 modules: >= 5 px per module across a 480 px frame height


def test_svg(issuer: PassIssuer) -> None:
    """The QR as SVG (the printable card, PDF and PNG: tests/hub/passes/test_card.py)."""
    issued = issuer.issue(category=Category.MEDICAL, ward_id="phucla", label="BV Ha Dong <ICU>")
    image = qr.svg(issued.text)
    assert image.startswith("<svg")

    ET.fromstring(image)  # noqa: S314 - our own output, parsed to prove it is well-formed XML


@pytest.mark.parametrize("seed", range(12))
def test_reads_reliably_from_three_pixels_per_module(issuer: PassIssuer, seed: int) -> None:
    """Random size (3-7 px per module), place, noise, and focus blur: every frame decodes."""
    issued = issue_busy(issuer)
    image = read_png_gray(qr.png(issued.text, scale=4))  # 4 px per module before scaling
    rng = random.Random(seed)
    scale = rng.uniform(0.75, 1.75)
    side = int(image.shape[0] * scale)
    offset = (rng.randint(0, 480 - side), rng.randint(0, 640 - side))
    frame = camera_frame(
        image, scale=scale, offset=offset, noise=rng.uniform(4, 25), blur=1, seed=seed
    )
    found = zxingcpp.read_barcodes(frame)
    assert [b.text for b in found] == [issued.text]
