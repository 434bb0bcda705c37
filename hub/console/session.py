"""Console sign-in: an API key exchanged for a session cookie.

A browser cannot put a key in a header of EventSource or of a plain link, so the console
works with a cookie: a random token (only its SHA-256 is stored, like API keys), HttpOnly
so page scripts never read it, SameSite=Strict so another site's page never sends it,
Secure when the console is served over TLS. Every change also carries the session's CSRF
token. Sessions live in the state store, so they survive a hub restart; each request
re-reads the key, so a revoked key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, String, Table, delete, insert, select

from hub.api.keys import KeyStore
from hub.api.roles import Principal
from hub.state import metadata
from hub.state.types import UtcDateTime

COOKIE = "gz_console"

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: datetime

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf, token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine, keys: KeyStore) -> None:
        self.engine = engine
        self.keys = keys

    def open(self, principal: Principal, lifetime: timedelta) -> tuple[str, Session]:
        """A new session for a signed-in key: its cookie token and the session."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        session = Session(principal, secrets.token_urlsafe(32), now + lifetime)
        with self.engine.begin() as conn:
            # Expired sessions go when someone signs in: no timer needed.
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < now))
            conn.execute(
                insert(console_sessions).values(
                    token_sha256=_digest(token),
                    key_id=principal.key_id,
                    csrf=session.csrf,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        t = console_sessions
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.token_sha256 == _digest(token))).first()
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        principal = self.keys.active(row.key_id)
        return None if principal is None else Session(principal, row.csrf, row.expires_at)

    def close(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(console_sessions).where(console_sessions.c.token_sha256 == _digest(token))
            )
