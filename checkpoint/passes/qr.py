"""The pass as a QR image (PNG, SVG); the printable card is hub/passes/card.py.

segno is imported on use, so that a node that only verifies does not need it. Error
correction M: a printed card survives a scuff or a fold, and a typical pass (about 215
characters) still fits version 8 (49 modules).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno


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
