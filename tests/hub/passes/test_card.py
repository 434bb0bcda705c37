"""The printable pass card as a person meets it: the PDF rasterised with pdftoppm (and the
PNG), its QR read back with zxing-cpp, no ink at the card's edges, every word inside the
card, Vietnamese with its diacritics, the ward's full name, a QR without seams."""

from __future__ import annotations

import io
import re
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image

from hub.passes import card
from hub.passes.issuer import IssuedPass, PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.revocations import RevocationLedger
from tests.helpers import pdftotext
from tests.passes.factory import issue_busy

DPI = 300
PX = DPI / 25.4
WARD = "Phường Phúc La, quận Hà Đông, Hà Nội"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> PassIssuer:
    where = tmp_path_factory.mktemp("card")
    keys = KeyStore(where / "keys")
    keys.create_key("k20261122-ab12", now=NOW - timedelta(days=1))
    return PassIssuer(keys, RevocationLedger(where / "revoked.json"), salt=b"phucla-salt")


def busy_pass(issuer: PassIssuer) -> IssuedPass:
    return issue_busy(issuer, zone_id="phucla-to7", label="Khu trọ 12 Quang Trung")


def rasterise(pdf: bytes, where: Path) -> np.ndarray:
    (where / "card.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", "card.pdf", "page"],
        cwd=where,
        check=True,
        timeout=60,
    )
    return np.asarray(Image.open(where / "page.png").convert("L"))


def assert_looks_right(page: np.ndarray, layout: card.CardLayout, text: str) -> None:
    height, width = page.shape  # poppler rounds the page up, Pillow to the nearest pixel
    assert abs(height - card.CARD_H_MM * PX) <= 1
    assert abs(width - card.CARD_W_MM * PX) <= 1
    # The QR reads back, from the page as printed.
    found = zxingcpp.read_barcodes(page)
    assert [b.text for b in found] == [text]
    # No ink within 1 mm of the card's edges: nothing runs off the card.
    edge = round(PX)
    for band in (page[:edge], page[-edge:], page[:, :edge], page[:, -edge:]):
        assert band.min() > 200
    # The finder pattern's solid 3x3 centre is solid: no light seam between its modules.
    module = layout.qr_size / len(layout.matrix)
    top = round((layout.qr_y + 6 * module) * PX) + 1
    left = round((layout.qr_x + 6 * module) * PX) + 1
    size = round(3 * module * PX) - 2
    assert page[top : top + size, left : left + size].max() < 100


def page_streams(pdf: bytes) -> list[bytes]:
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            continue  # not deflated (not the page's drawing)
    return out


def test_the_pdf_card_reads_back_and_keeps_its_text_inside(
    issuer: PassIssuer, tmp_path: Path
) -> None:
    issued = busy_pass(issuer)
    layout = card.layout(issued.pass_, issued.text, ward_name=WARD)
    pdf = card.pdf(layout)
    page = rasterise(pdf, tmp_path)
    assert_looks_right(page, layout, issued.text)

    # Every word poppler finds lies inside the card's margins (points; 1 pt = 25.4/72 mm).
    boxes = pdftotext(tmp_path / "card.pdf", "-bbox")
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        boxes,
    )
    assert len(words) > 20
    mm = 25.4 / 72
    for x0, y0, x1, y1, word in words:
        assert float(x0) * mm >= card.MARGIN_MM - 0.01, word
        assert float(x1) * mm <= card.CARD_W_MM - card.MARGIN_MM + 0.01, word
        assert float(y0) * mm >= 1.0, word
        assert float(y1) * mm <= card.CARD_H_MM - card.MARGIN_MM + 0.01, word
    # Vietnamese with its diacritics, the ward's full name, the card's facts.
    text = pdftotext(tmp_path / "card.pdf", "-layout")
    for expected in (WARD, "Tạm trú", "Khu trọ 12 Quang Trung", issued.pass_.pass_id):
        assert expected in text
    local_end = issued.pass_.valid_until + timedelta(hours=7)
    assert f"Đến / Until: {local_end:%Y-%m-%d %H:%M}" in text
    # The embedded font has a glyph for every character (no tofu boxes).
    for bold, path in card.FONTS.items():
        cmap = TTFont(path).getBestCmap()
        for run in layout.runs:
            if run.bold == bold:
                assert all(ord(c) in cmap for c in run.text), run.text
    # The QR is one filled path: one fill operator for all its rectangles.
    content = next(s for s in page_streams(pdf) if b" re" in s)
    drawing = content.split(b"BT", 1)[0]  # what comes before the first text object
    assert drawing.count(b" re") > 100
    assert len(re.findall(rb"\sf\s", drawing)) == 1


def test_the_png_card_is_the_same_layout(issuer: PassIssuer) -> None:
    issued = busy_pass(issuer)
    layout = card.layout(issued.pass_, issued.text, ward_name=WARD)
    image = Image.open(io.BytesIO(card.png(layout)))
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert_looks_right(np.asarray(image.convert("L")), layout, issued.text)


@pytest.mark.parametrize(
    "ward_name",
    ["", "Phường Phúc La", WARD, "Phường " + "Nguyễn Thái Bình Quận Một " * 3],
)
def test_every_line_fits_whatever_the_names(issuer: PassIssuer, ward_name: str) -> None:
    issued = busy_pass(issuer)
    layout = card.layout(issued.pass_, issued.text, ward_name=ward_name)
    for run in layout.runs:
        assert run.x >= card.MARGIN_MM
        assert run.x + run.width <= card.CARD_W_MM - card.MARGIN_MM
        assert run.baseline <= card.CARD_H_MM - card.MARGIN_MM
    assert layout.runs[0].text.startswith(ward_name.split(maxsplit=1)[0] if ward_name else "Phường")


def test_a_name_that_cannot_fit_is_refused_not_clipped(issuer: PassIssuer) -> None:
    issued = busy_pass(issuer)
    with pytest.raises(card.CardError, match="does not fit"):
        card.layout(issued.pass_, issued.text, ward_name="Phường " * 60)
