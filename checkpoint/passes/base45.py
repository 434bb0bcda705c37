"""Base45 (RFC 9285): bytes as QR alphanumeric characters.

QR codes store the 45 alphanumeric characters at 5.5 bits each, so base45 text takes about
the same QR space as raw bytes in byte mode, while staying plain text that keyboard-wedge
scanners and logs pass through unchanged.
"""

from __future__ import annotations

from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE: Final = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """Not base45; the caller turns this into a pass refusal reason."""


def encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = divmod(n, 45 * 45)
        e, d = divmod(n, 45)
        out += [ALPHABET[d], ALPHABET[e], ALPHABET[c]]
    if len(data) % 2:
        e, d = divmod(data[-1], 45)
        out += [ALPHABET[d], ALPHABET[e]]
    return "".join(out)


def decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise Base45Error(f"length {len(text)} is not a whole number of base45 groups")
    try:
        values = [_VALUE[c] for c in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not base45") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise Base45Error(f"group {i // 3} decodes past two bytes")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise Base45Error("final group decodes past one byte")
            out.append(n)
    return bytes(out)
