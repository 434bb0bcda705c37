"""The hub's pass signing keys and trust-document anchor keys in the shared state store.

Every hub instance on one PostgreSQL signs with the same keys and publishes the same trust
list. Private halves are stored sealed (``hub/passes/sealing.py``) and unsealed only to
sign; they never leave this module as text. The newest pass key signs new passes (a
rotation adds a newer one); the newest anchor key seals the trust documents.

Keys made with ``checkpoint passes keygen`` (files under ``passes.directory``) are taken
into the store when a hub starts (``take_over``): the first keys, and later rotations.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from sqlalchemy import Column, Engine, LargeBinary, String, Table, Text, insert, select, update

from checkpoint.passes.documents import TrustedKey, TrustList
from checkpoint.passes.errors import KeyStoreError, NoSigningKeyError
from checkpoint.passes.keys import public_key_text
from hub.passes import versions
from hub.passes.keystore import KeyStore
from hub.passes.sealing import Sealer
from hub.state import metadata
from hub.state.types import UtcDateTime

SIGNER = "pass"  # the role of a key that signs passes
ANCHOR = "anchor"
_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")

pass_keys = Table(
    "pass_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("role", String(8), nullable=False),  # SIGNER or ANCHOR
    Column("public_key", Text, nullable=False),
    Column("sealed", LargeBinary, nullable=False),  # the private key, DER, sealed
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime(), nullable=True),
)


class StoredKeys:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self._sealer = sealer

    def _newest(self, role: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(pass_keys.c.key_id)
                .where(pass_keys.c.role == role, pass_keys.c.retired_at.is_(None))
                .order_by(pass_keys.c.created_at.desc(), pass_keys.c.key_id.desc())
                .limit(1)
            ).scalar_one_or_none()

    @property
    def active_key_id(self) -> str:
        found = self._newest(SIGNER)
        if found is None:
            raise NoSigningKeyError("no signing key in the state store; create one first")
        return found

    def has_keys(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(pass_keys.c.key_id).limit(1)).first() is not None

    def _add(self, role: str, key_id: str | None, now: datetime | None) -> str:
        moment = now or datetime.now(UTC)
        prefix = "k" if role == SIGNER else "a"
        key_id = key_id or f"{prefix}{moment:%Y%m%d}-{secrets.token_hex(2)}"
        key = Ed25519PrivateKey.generate()
        der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        self._insert(role, key_id, public_key_text(key.public_key()), der, moment, None)
        return key_id

    def _insert(
        self,
        role: str,
        key_id: str,
        public: str,
        der: bytes,
        created: datetime,
        retired: datetime | None,
    ) -> None:
        if not _KEY_ID.match(key_id):
            raise KeyStoreError(f"bad key id {key_id!r}")
        with self.engine.begin() as conn:
            versions.lock(conn)
            if conn.execute(select(pass_keys.c.key_id).where(pass_keys.c.key_id == key_id)).first():
                raise KeyStoreError(f"key id {key_id!r} exists already")
            conn.execute(
                insert(pass_keys).values(
                    key_id=key_id,
                    role=role,
                    public_key=public,
                    sealed=self._sealer.seal(key_id, der),
                    created_at=created,
                    retired_at=retired,
                )
            )
            if role == SIGNER:
                versions.bump(conn, versions.KEYS)

    def create_key(self, key_id: str | None = None, now: datetime | None = None) -> str:
        """Generate a pass key; being the newest, it signs new passes. Returns its id."""
        return self._add(SIGNER, key_id, now)

    rotate = create_key  # a rotation is a new signing key; the old one stays trusted

    def create_anchor(self, key_id: str | None = None, now: datetime | None = None) -> str:
        """Generate the key that seals trust documents from now on."""
        return self._add(ANCHOR, key_id, now)

    def retire(self, key_id: str, now: datetime | None = None) -> None:
        """Drop a pass key from the trust list; passes it signed stop verifying at nodes."""
        if key_id == self._newest(SIGNER):
            raise KeyStoreError(f"{key_id!r} signs new passes; rotate before retiring it")
        with self.engine.begin() as conn:
            versions.lock(conn)
            done = conn.execute(
                update(pass_keys)
                .where(pass_keys.c.key_id == key_id, pass_keys.c.role == SIGNER)
                .values(retired_at=now or datetime.now(UTC))
            )
            if done.rowcount == 0:
                raise KeyStoreError(f"no key {key_id!r}")
            versions.bump(conn, versions.KEYS)

    def signing_key(self, key_id: str | None = None) -> Ed25519PrivateKey:
        key_id = key_id or self.active_key_id
        with self.engine.connect() as conn:
            sealed = conn.execute(
                select(pass_keys.c.sealed).where(pass_keys.c.key_id == key_id)
            ).scalar_one_or_none()
        if sealed is None:
            raise KeyStoreError(f"no key {key_id!r}")
        key = load_der_private_key(self._sealer.open(key_id, bytes(sealed)), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"key {key_id!r} is not an Ed25519 key")
        return key

    def anchor_signer(self) -> tuple[str, Ed25519PrivateKey] | None:
        """The anchor key that seals trust documents, or None if there is none yet."""
        anchor = self._newest(ANCHOR)
        return None if anchor is None else (anchor, self.signing_key(anchor))

    def anchor_public_keys(self) -> dict[str, str]:
        """For the nodes' ``trust.anchors`` config."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(pass_keys.c.key_id, pass_keys.c.public_key).where(pass_keys.c.role == ANCHOR)
            )
            return {r.key_id: r.public_key for r in rows}

    def trust_list(self, now: datetime | None = None) -> TrustList:
        """The public keys nodes should accept, versioned by every create/retire."""
        with self.engine.connect() as conn:
            version = versions.read(conn, versions.KEYS)
            rows = list(
                conn.execute(
                    select(pass_keys)
                    .where(pass_keys.c.role == SIGNER, pass_keys.c.retired_at.is_(None))
                    .order_by(pass_keys.c.created_at, pass_keys.c.key_id)
                )
            )
        keys = tuple(
            TrustedKey(key_id=r.key_id, public_key=r.public_key, valid_from=r.created_at)
            for r in rows
        )
        return TrustList(version=version, issued_at=now or datetime.now(UTC), keys=keys)

    def take_over(self, files: KeyStore) -> int:
        """Seal into the store the keys of a ``checkpoint passes keygen`` directory that it
        does not hold yet (a first start, a rotation made with keygen), and retire those
        retired there; returns how many changed."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(pass_keys.c.key_id, pass_keys.c.retired_at))
            held = {r.key_id: r.retired_at for r in rows}
        index = files.index
        records = [(SIGNER, r) for r in index.keys] + [(ANCHOR, r) for r in index.anchors]
        changed = 0
        for role, record in sorted(records, key=lambda item: item[1].created_at):
            if record.key_id not in held:
                der = files.signing_key(record.key_id).private_bytes(
                    Encoding.DER, PrivateFormat.PKCS8, NoEncryption()
                )
                self._insert(
                    role,
                    record.key_id,
                    record.public_key,
                    der,
                    record.created_at,
                    record.retired_at,
                )
                changed += 1
        for record in index.keys:  # after the inserts: a newer key signs by then
            if record.retired_at and record.key_id in held and held[record.key_id] is None:
                self.retire(record.key_id, record.retired_at)
                changed += 1
        if changed:
            # Nodes take only a newer version: never below what the files' hub published.
            with self.engine.begin() as conn:
                versions.lock(conn)
                current = versions.read(conn, versions.KEYS)
                versions.write(conn, versions.KEYS, max(index.version, current))
        return changed
