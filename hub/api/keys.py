"""API keys: issued once in clear text, stored only as a hash.

A key reads ``cpk_<id>_<secret>``. The secret is 32 random bytes, so a plain SHA-256 of it is
as good as a slow password hash and keeps each request cheap; the id finds the row without
scanning. Revoked keys stay in the table for the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Row, String, Table, Text, insert, select, update

from checkpoint.errors import CheckpointError
from hub.api.roles import Principal, Role
from hub.state import metadata
from hub.state.types import UtcDateTime

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("wards", Text, nullable=True),  # JSON list; NULL = all wards
    Column("label", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(16), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

PREFIX = "cpk"


class UnknownKeyError(CheckpointError, KeyError):
    pass


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(
        self,
        role: Role,
        label: str,
        *,
        wards: list[str] | None = None,
        created_by: str | None = None,
    ) -> tuple[Principal, str]:
        """Create a key; return it with its clear-text token, which is never shown again."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    secret_sha256=_digest(secret),
                    role=role.value,
                    wards=json.dumps(sorted(set(wards))) if wards is not None else None,
                    label=label,
                    created_at=datetime.now(UTC),
                    created_by=created_by,
                )
            )
        principal = Principal(key_id, role, frozenset(wards) if wards is not None else None, label)
        return principal, f"{PREFIX}_{key_id}_{secret}"

    def authenticate(self, token: str) -> Principal | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        _, key_id, secret = parts
        row = self._row(key_id)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        return self._principal(row)

    def active(self, key_id: str) -> Principal | None:
        """The key's principal while it is not revoked (a console session re-checks its key
        on every request, so revoking the key ends the session)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None or row.revoked_at is not None else self._principal(row)

    @staticmethod
    def _principal(row: object) -> Principal:
        wards = json.loads(row.wards) if row.wards is not None else None  # type: ignore[attr-defined]
        return Principal(
            row.key_id,  # type: ignore[attr-defined]
            Role(row.role),  # type: ignore[attr-defined]
            frozenset(wards) if wards is not None else None,
            row.label,  # type: ignore[attr-defined]
        )

    def get(self, key_id: str) -> Principal:
        """The key ``key_id``, revoked or not; UnknownKeyError if there is none."""
        row = self._row(key_id)
        if row is None:
            raise UnknownKeyError(f"no active API key {key_id!r}")
        return self._principal(row)

    def _row(self, key_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()

    def list(self) -> list[tuple[Principal, datetime, datetime | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [(self._principal(r), r.created_at, r.revoked_at) for r in rows]

    def revoke(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        if result.rowcount == 0:
            raise UnknownKeyError(f"no active API key {key_id!r}")
