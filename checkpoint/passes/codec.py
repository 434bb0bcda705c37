"""The pass on the wire: a compact binary body, an Ed25519 signature, as QR-safe text.

    GZ1:<base45( body | signature )>

``body`` is format byte 1, then length-prefixed fields (below), unix seconds as u32, and
``signature`` is 64 bytes of Ed25519 over ``DOMAIN + body``. The domain tag keeps a
signature on a pass from being valid for any other document the hub signs. A typical pass
is about 100 bytes of body, 215 characters of text: a version 8 QR at level M (49 modules),
which zxing-cpp reads from a blurred, noisy 640x480 frame from 3 pixels per module up.

Reading is split in two so the verifier can choose the reason: ``split`` only checks the
structure (pass_not_a_pass / pass_unreadable) and yields the key id; the fields become a
``Pass`` model only after the signature was checked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from checkpoint.contract.models import Reason
from checkpoint.passes import base45
from checkpoint.passes.errors import PassError
from checkpoint.passes.model import Category, Pass

PREFIX: Final = "GZ1:"
DOMAIN: Final = b"greenzone-pass\x00"
FORMAT: Final = 1
SIGNATURE_BYTES: Final = 64
MAX_TEXT: Final = 1200  # far above any real pass; longer input is not read at all

# Wire codes of the categories. Append only: a code, once issued, keeps its meaning.
CATEGORY_CODES: Final[tuple[Category, ...]] = (
    Category.RESIDENT,
    Category.TEMPORARY_RESIDENT,
    Category.ESSENTIAL_WORKER,
    Category.MEDICAL,
    Category.DELIVERY,
    Category.OFFICIAL,
    Category.VISITOR,
    Category.EMERGENCY,  # appended: the code of a category never changes
    Category.OPERATOR,
)


def _unix(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    if not 0 <= seconds < 2**32:
        raise ValueError(f"{moment} is outside the pass format's time range")
    return seconds


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def u8(self, value: int) -> None:
        self.out += struct.pack(">B", value)

    def u16(self, value: int) -> None:
        self.out += struct.pack(">H", value)

    def u32(self, value: int) -> None:
        self.out += struct.pack(">I", value)

    def blob(self, value: bytes) -> None:
        if len(value) > 255:
            raise ValueError("field longer than 255 bytes")
        self.u8(len(value))
        self.out += value

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8"))


class _Reader:
    """Bounds-checked reads; running off the end means the text was cut short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PassError(Reason.PASS_UNREADABLE, "pass data ends early (truncated?)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def blob(self) -> bytes:
        return self.take(self.u8())

    def text(self) -> str:
        raw = self.blob()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PassError(Reason.PASS_UNREADABLE, "a text field is not UTF-8") from None


def body_of(pass_: Pass) -> bytes:
    w = _Writer()
    w.u8(FORMAT)
    w.text(pass_.key_id)
    w.text(pass_.pass_id)
    w.u8(CATEGORY_CODES.index(pass_.category))
    w.text(pass_.ward_id)
    w.text(pass_.zone_id or "")
    w.u32(_unix(pass_.valid_from))
    w.u32(_unix(pass_.valid_until))
    w.u8(len(pass_.checkpoints))
    for checkpoint in pass_.checkpoints:
        w.text(checkpoint)
    w.u8(len(pass_.hours))
    for window in pass_.hours:
        w.u16(window.start)
        w.u16(window.end)
    w.text(pass_.label)
    w.blob(pass_.holder_hash or b"")
    return bytes(w.out)


def sign(pass_: Pass, key: Ed25519PrivateKey) -> str:
    """The QR text of ``pass_`` signed with ``key`` (whose id must be ``pass_.key_id``)."""
    body = body_of(pass_)
    signature = key.sign(DOMAIN + body)
    return PREFIX + base45.encode(body + signature)


@dataclass(frozen=True, slots=True)
class SignedPass:
    """A structurally sound pass text whose signature has not been checked yet."""

    key_id: str
    body: bytes
    signature: bytes
    fields: dict[str, object]

    @property
    def signed_message(self) -> bytes:
        return DOMAIN + self.body

    def to_pass(self) -> Pass:
        """The pass model; call only after the signature was verified."""
        try:
            return Pass.model_validate(self.fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PassError(Reason.PASS_UNREADABLE, f"{where}: {first['msg']}") from None


def split(text: str) -> SignedPass:
    """Check the structure of a scanned text; raise PassError with the refusal reason."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise PassError(Reason.PASS_NOT_A_PASS, "not a green-zone pass (no GZ1: prefix)")
    if len(text) > MAX_TEXT:
        raise PassError(Reason.PASS_NOT_A_PASS, f"{len(text)} characters is too long for a pass")
    # Scanners in keyboard-wedge mode may add a line end; nothing else is forgiven.
    try:
        raw = base45.decode(text[len(PREFIX) :].rstrip("\r\n"))
    except base45.Base45Error as exc:
        raise PassError(Reason.PASS_UNREADABLE, str(exc)) from None
    if len(raw) <= SIGNATURE_BYTES:
        raise PassError(Reason.PASS_UNREADABLE, f"only {len(raw)} bytes (truncated?)")
    r = _Reader(raw)
    fmt = r.u8()
    if fmt != FORMAT:
        raise PassError(Reason.PASS_UNREADABLE, f"pass format {fmt}; this node reads {FORMAT}")
    fields: dict[str, object] = {"key_id": r.text(), "pass_id": r.text()}
    code = r.u8()
    fields["category"] = CATEGORY_CODES[code] if code < len(CATEGORY_CODES) else f"code-{code}"
    fields["ward_id"] = r.text()
    fields["zone_id"] = r.text() or None
    fields["valid_from"] = datetime.fromtimestamp(r.u32(), UTC)
    fields["valid_until"] = datetime.fromtimestamp(r.u32(), UTC)
    fields["checkpoints"] = tuple(r.text() for _ in range(r.u8()))
    fields["hours"] = tuple({"start": r.u16(), "end": r.u16()} for _ in range(r.u8()))
    fields["label"] = r.text()
    fields["holder_hash"] = r.blob() or None
    body_len = r.pos
    rest = len(raw) - body_len
    if rest != SIGNATURE_BYTES:
        what = "truncated" if rest < SIGNATURE_BYTES else "has trailing data"
        raise PassError(Reason.PASS_UNREADABLE, f"signature is {rest} bytes, pass {what}")
    return SignedPass(str(fields["key_id"]), raw[:body_len], raw[body_len:], fields)
