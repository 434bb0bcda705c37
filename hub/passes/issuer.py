"""Issuing passes: the plain functions the hub API calls (technician or commander role)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Required, TypedDict

from pydantic import ValidationError

from checkpoint.passes import codec
from checkpoint.passes.documents import Revocation
from checkpoint.passes.errors import BadPassRequest
from checkpoint.passes.model import Category, HourWindow, Pass
from hub.passes.protocols import Ledger, SigningKeys

HOLDER_HASH_BYTES = 16
# Alphanumeric capacity of a version 10 QR at level M (57 modules): read from 3 px per
# module, it fills 195 of a 480-row frame. Larger passes would scan unreliably.
MAX_TEXT_CHARS = 311


def holder_hash(salt: bytes, document_number: str) -> bytes:
    """A salted hash the ward can recompute from a shown document; the number is not stored."""
    normalised = "".join(document_number.split()).upper().encode()
    return hmac.new(salt, normalised, hashlib.sha256).digest()[:HOLDER_HASH_BYTES]


def new_pass_id() -> str:
    return secrets.token_urlsafe(9)  # 72 random bits, 12 characters


class PassFields(TypedDict, total=False):
    """What :meth:`PassIssuer.issue` takes, for callers that hand the fields on."""

    category: Required[Category]
    ward_id: Required[str]
    valid_for: timedelta
    valid_from: datetime | None
    zone_id: str | None
    checkpoints: tuple[str, ...]
    hours: tuple[HourWindow, ...]
    label: str
    document_number: str | None


@dataclass(frozen=True, slots=True)
class IssuedPass:
    pass_: Pass
    text: str  # what the QR code holds


class PassIssuer:
    def __init__(self, keys: SigningKeys, ledger: Ledger, *, salt: bytes = b"") -> None:
        self.keys = keys
        self.ledger = ledger
        self.salt = salt

    def issue(
        self,
        *,
        category: Category,
        ward_id: str,
        valid_for: timedelta = timedelta(days=14),
        valid_from: datetime | None = None,
        zone_id: str | None = None,
        checkpoints: tuple[str, ...] = (),
        hours: tuple[HourWindow, ...] = (),
        label: str = "",
        document_number: str | None = None,
    ) -> IssuedPass:
        """Sign a new pass with the active key; raise BadPassRequest on bad fields."""
        start = (valid_from or datetime.now(UTC)).replace(microsecond=0)
        key_id = self.keys.active_key_id
        if document_number is not None and not self.salt:
            raise BadPassRequest("a holder hash needs the ward's salt")
        try:
            pass_ = Pass(
                pass_id=new_pass_id(),
                category=category,
                ward_id=ward_id,
                zone_id=zone_id,
                valid_from=start,
                valid_until=start + valid_for,
                checkpoints=checkpoints,
                hours=hours,
                key_id=key_id,
                label=label,
                holder_hash=holder_hash(self.salt, document_number) if document_number else None,
            )
        except ValidationError as exc:
            raise BadPassRequest.from_validation(exc) from None
        try:
            text = codec.sign(pass_, self.keys.signing_key(key_id))
        except ValueError as exc:  # a validity window beyond what the format can carry
            raise BadPassRequest(str(exc)) from None
        if len(text) > MAX_TEXT_CHARS:
            raise BadPassRequest(
                f"pass is {len(text)} characters, over {MAX_TEXT_CHARS} for a reliable QR: "
                "list fewer or shorter checkpoint ids, or shorten the label"
            )
        return IssuedPass(pass_, text)

    def revoke(self, pass_: Pass, now: datetime | None = None) -> Revocation:
        return self.ledger.revoke(pass_.pass_id, pass_valid_until=pass_.valid_until, now=now)
