"""Signed passes, trust lists and contexts for the pass tests (real keys, real signatures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.passes import codec
from checkpoint.passes.documents import Revocation, RevocationSnapshot, TrustedKey, TrustList
from checkpoint.passes.keys import public_key_text
from checkpoint.passes.model import Category, Pass
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import FixedTrust, TrustState
from edge.passcheck import PassContext
from edge.trust.verifier import OfflineVerifier

if TYPE_CHECKING:
    from hub.passes.issuer import IssuedPass, PassIssuer

# 10:00 local time in Ha Noi (UTC+7).
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def issue_busy(issuer: PassIssuer, **over: Any) -> IssuedPass:
    """A pass with about as much as a pass carries: two checkpoints, a label, a holder hash."""
    fields: dict[str, Any] = {
        "category": Category.TEMPORARY_RESIDENT,
        "ward_id": "phucla",
        "checkpoints": ("phucla-cp07", "phucla-cp08"),
        "label": "Khu tro 12 Quang Trung",
        "document_number": "079201000123",
    }
    return issuer.issue(**(fields | over))


def make_pass(key_id: str = "k1", **over: Any) -> Pass:
    fields: dict[str, Any] = {
        "pass_id": "Pa55-0001",
        "category": Category.RESIDENT,
        "ward_id": "phucla",
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=13),
        "key_id": key_id,
        "label": "To 7 - Phuc La",
    }
    fields.update(over)
    return Pass.model_validate(fields)


def trust_list(*keys: tuple[str, Ed25519PrivateKey], version: int = 1) -> TrustList:
    return TrustList(
        version=version,
        issued_at=NOW - timedelta(minutes=5),
        keys=tuple(
            TrustedKey(key_id=kid, public_key=public_key_text(k.public_key())) for kid, k in keys
        ),
    )


def revocations(*pass_ids: str, version: int = 3) -> RevocationSnapshot:
    return RevocationSnapshot(
        version=version,
        issued_at=NOW - timedelta(minutes=5),
        revoked=tuple(Revocation(pass_id=p, revoked_at=NOW - timedelta(hours=1)) for p in pass_ids),
    )


def verifier(
    *keys: tuple[str, Ed25519PrivateKey], revoked: tuple[str, ...] = ()
) -> OfflineVerifier:
    state = TrustState.of(trust_list(*keys), revocations(*revoked), default_policy())
    return OfflineVerifier(FixedTrust(state))


def context(
    now: datetime = NOW,
    *,
    ward_id: str = "phucla",
    checkpoint_id: str = "phucla-cp07",
    zone_level: str = "green",
    direction: Literal["in", "out"] = "in",
) -> PassContext:
    return PassContext(now, ward_id, checkpoint_id, zone_level, direction)


def signed(pass_: Pass, key: Ed25519PrivateKey) -> str:
    return codec.sign(pass_, key)
