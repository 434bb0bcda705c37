"""The pass as a QR image (PNG, SVG) and as a printable card (SVG).

segno is imported on use, so that a node that only verifies does not need it. Error
correction M: a printed card survives a scuff or a fold, and a typical pass (about 215
characters) still fits version 8 (49 modules).
"""

from __future__ import annotations

import io
from datetime import timedelta, timezone
from html import escape
from typing import TYPE_CHECKING

from checkpoint.passes.model import Pass

if TYPE_CHECKING:
    import segno

CATEGORY_TITLES = {
    "resident": "Resident / Cu dan",
    "temporary_resident": "Temporary resident / Tam tru",
    "essential_worker": "Essential worker",
    "medical": "Medical staff / Y te",
    "delivery": "Delivery / Giao hang",
    "official": "Official / Cong vu",
    "visitor": "Visitor",
}


def make_qr(text: str) -> segno.QRCode:
    import segno  # noqa: PLC0415 - the edge/hub extra

    # Alphanumeric mode is what the GZ1:+base45 text is designed for; segno picks it.
    return segno.make_qr(text, error="m", boost_error=False)


def png(text: str, *, scale: int = 6, border: int = 4) -> bytes:
    out = io.BytesIO()
    make_qr(text).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def svg(text: str, *, scale: int = 6, border: int = 4) -> str:
    out = io.BytesIO()
    make_qr(text).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    return out.getvalue().decode()


def card_svg(pass_: Pass, text: str, *, utc_offset_min: int = 7 * 60) -> str:
    """A 86x54 mm card (ID-1 size): QR on the left, category, ward, validity on the right.

    Times are printed in the ward's local time (default UTC+7), which is what a volunteer
    and the holder read.
    """
    zone = timezone(timedelta(minutes=utc_offset_min))
    hours, minutes = divmod(abs(utc_offset_min), 60)
    sign = "+" if utc_offset_min >= 0 else "-"
    utc_name = f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    qr = make_qr(text)
    size = qr.symbol_size(scale=1, border=4)[0]
    modules = "".join(
        f'<rect x="{x}" y="{y}" width="1" height="1"/>'
        for y, row in enumerate(qr.matrix_iter(scale=1, border=4))
        for x, dark in enumerate(row)
        if dark
    )
    lines = [
        CATEGORY_TITLES.get(pass_.category.value, pass_.category.value),
        f"Ward: {pass_.ward_id}" + (f" / {pass_.zone_id}" if pass_.zone_id else ""),
        f"From {pass_.valid_from.astimezone(zone):%Y-%m-%d %H:%M}",
        f"Until {pass_.valid_until.astimezone(zone):%Y-%m-%d %H:%M} ({utc_name})",
        pass_.label,
        f"Pass {pass_.pass_id} (key {pass_.key_id})",
    ]
    texts = "".join(
        f'<text x="50" y="{8 + 7 * i}" font-size="{4 if i == 0 else 3}"'
        f' font-family="sans-serif">{escape(line)}</text>'
        for i, line in enumerate(lines)
        if line
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="86mm" height="54mm" viewBox="0 0 86 54">'
        '<rect width="86" height="54" fill="#fff" stroke="#000" stroke-width="0.3"/>'
        f'<g transform="translate(2 3) scale({46 / size})" fill="#000">{modules}</g>'
        f"{texts}</svg>"
    )
