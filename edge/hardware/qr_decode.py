"""QR decoding with zxing-cpp: a readable pass, an unreadable one, or nothing in view."""

from __future__ import annotations

from dataclasses import dataclass

import zxingcpp

from edge.hardware.camera import Frame


@dataclass(frozen=True, slots=True)
class Scan:
    """One code seen: ``text`` when it decoded, else ``error`` says why it did not."""

    text: str | None
    error: str | None = None
    source: str = "camera"

    @property
    def readable(self) -> bool:
        return self.text is not None


def decode_frame(frame: Frame) -> Scan | None:
    """The first QR code in ``frame``; None when no code is in view.

    ``return_errors`` makes zxing report a code it located but could not decode (checksum
    or format errors), so a damaged pass is refused as unreadable rather than ignored.
    """
    found = zxingcpp.read_barcodes(
        frame,
        # Only QR: faster, and noise is never mistaken for a 1-D barcode. Made per call: a
        # module-level nanobind object is reported as a leak at interpreter exit.
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_rotate=True,
        try_downscale=True,
        try_invert=False,
        return_errors=True,
    )
    if not found:
        return None
    good = [b for b in found if b.valid]
    if good:
        return Scan(text=good[0].text)
    error = found[0].error
    kind = error.type.name.lower() if error is not None else "unknown"
    return Scan(text=None, error=f"QR code found but not decodable ({kind} error)")
