"""Trust documents signed by a hub anchor key, so a node takes keys and revocations only
from the hub, even from a broker that someone else could write to.

    {"v": 1, "name": "keys", "key_id": "anchor-a", "signature": "<base64url>",
     "document": "<the document's JSON text>"}

The document travels as text and the signature covers those exact bytes (after the domain
tag and the name, so a signed key list cannot be replayed as a policy): re-serialising a
parsed model is not byte-stable (sets have no order), a string is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract import decode_model, encode
from checkpoint.errors import ContractError
from checkpoint.passes.keys import load_public_key
from checkpoint.passes.model import KeyId

DOMAIN: Final = b"greenzone-trust\x00"


class SignedDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    name: str = Field(max_length=64, description="The trust document name (topic level)")
    key_id: KeyId = Field(description="The anchor key that signed it")
    signature: str = Field(max_length=100, description="Ed25519, base64url")
    document: str = Field(max_length=60_000, description="The document as JSON text")


def _message(name: str, document: str) -> bytes:
    return DOMAIN + name.encode() + b"\x00" + document.encode()


def seal(name: str, document: BaseModel, key_id: str, key: Ed25519PrivateKey) -> bytes:
    """The payload to publish: ``document`` signed with the anchor key ``key_id``."""
    text = document.model_dump_json()
    signature = base64.urlsafe_b64encode(key.sign(_message(name, text))).decode().rstrip("=")
    return encode(SignedDocument(name=name, key_id=key_id, signature=signature, document=text))


def _looks_sealed(payload: bytes) -> bool:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return False  # the document parser reports it with its reason
    return isinstance(data, dict) and "document" in data


def unwrap(name: str, payload: bytes, anchors: Mapping[str, str] | None) -> bytes:
    """The document bytes of a trust message.

    With anchors configured only a document signed by one of them passes (``unsigned``,
    ``unknown_key`` or ``bad_signature`` otherwise). Without, a node takes sealed documents
    unchecked and plain ones as they are: that is for development, say so in its health.
    """
    sealed = _looks_sealed(payload)
    if anchors:
        if not sealed:
            raise ContractError("unsigned", f"{name} is not signed; this node requires it")
        return open_sealed(name, payload, anchors)
    return open_sealed(name, payload, None) if sealed else payload


def open_sealed(name: str, payload: bytes, anchors: Mapping[str, str] | None) -> bytes:
    """The signed document's JSON bytes; ContractError(``bad_signature`` ...) otherwise.

    ``anchors`` None means "do not check" (development nodes without configured anchors).
    """
    sealed = decode_model(SignedDocument, payload)
    if sealed.name != name:
        raise ContractError("bad_signature", f"signed as {sealed.name!r}, published as {name!r}")
    if anchors is not None:
        public = anchors.get(sealed.key_id)
        if public is None:
            raise ContractError("unknown_key", f"anchor key {sealed.key_id!r} is not configured")
        try:
            raw = base64.urlsafe_b64decode(sealed.signature + "=" * (-len(sealed.signature) % 4))
            load_public_key(public).verify(raw, _message(name, sealed.document))
        except (InvalidSignature, binascii.Error, ValueError):
            raise ContractError(
                "bad_signature", f"{name} is not signed by {sealed.key_id!r}"
            ) from None
    return sealed.document.encode()
