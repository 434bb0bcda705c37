"""The hub's Ed25519 signing keys, on disk with key ids, for rotation.

Layout of the key directory (0700):

    keys.json          key ids, created / retired times, which one signs new passes
    <key_id>.pem       PKCS#8 private key, mode 0600, never leaves the hub

Pass keys sign passes and are published in the trust list. Anchor keys sign the trust
documents themselves; their public halves go into each node's config (``trust.anchors``).

Rotation: ``rotate()`` makes a new key the signing key; the old one stays in the trust list
(passes it signed keep working) until ``retire()`` removes it.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from checkpoint.atomic import write_atomic
from checkpoint.passes.documents import TrustedKey, TrustList
from checkpoint.passes.errors import KeyStoreError, NoSigningKeyError
from checkpoint.passes.keys import public_key_text
from checkpoint.passes.model import KeyId

_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")


class KeyRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_id: KeyId
    public_key: str
    created_at: AwareDatetime
    retired_at: AwareDatetime | None = None


class KeyIndex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, description="Trust list version; bumps on every change")
    active: str | None = None
    keys: list[KeyRecord] = Field(default_factory=list)
    # Anchor keys sign the trust documents; nodes hold their public halves in config.
    anchor: str | None = None
    anchors: list[KeyRecord] = Field(default_factory=list)


class KeyStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
        self._index_path = directory / "keys.json"
        self._seen = self._stamp()
        self.index = self._load_index()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self._index_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def reload(self) -> bool:
        """Take up keys made by another process (``checkpoint passes keygen`` while the hub
        runs); True if the index changed. keys.json is replaced atomically, so a changed
        inode, time or size is a new index."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self.index = self._load_index()
        self._seen = stamp
        return True

    def _load_index(self) -> KeyIndex:
        if not self._index_path.exists():
            return KeyIndex()
        try:
            return KeyIndex.model_validate_json(self._index_path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise KeyStoreError(f"cannot read {self._index_path}: {exc}") from None

    def _save_index(self) -> None:
        write_atomic(self._index_path, self.index.model_dump_json(indent=2).encode(), mode=0o600)
        self._seen = self._stamp()

    def _pem_path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise KeyStoreError(f"bad key id {key_id!r}")
        return self.directory / f"{key_id}.pem"

    @property
    def active_key_id(self) -> str:
        if self.index.active is None:
            raise NoSigningKeyError(f"no signing key in {self.directory}; create one first")
        return self.index.active

    def _generate(self, key_id: str | None, prefix: str, moment: datetime) -> KeyRecord:
        key_id = key_id or f"{prefix}{moment:%Y%m%d}-{secrets.token_hex(2)}"
        if any(r.key_id == key_id for r in self.index.keys + self.index.anchors):
            raise KeyStoreError(f"key id {key_id!r} exists already")
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        write_atomic(self._pem_path(key_id), pem, mode=0o600)
        public = public_key_text(key.public_key())
        return KeyRecord(key_id=key_id, public_key=public, created_at=moment)

    def create_key(self, key_id: str | None = None, now: datetime | None = None) -> str:
        """Generate a pass key, make it the signing key, and return its id."""
        record = self._generate(key_id, "k", now or datetime.now(UTC))
        self.index.keys.append(record)
        self.index.active = record.key_id
        self.index.version += 1
        self._save_index()
        return record.key_id

    def create_anchor(self, key_id: str | None = None, now: datetime | None = None) -> str:
        """Generate the key that signs trust documents from now on. Older anchors stay in
        ``anchor_public_keys`` so nodes can be given the new one before the switch."""
        record = self._generate(key_id, "a", now or datetime.now(UTC))
        self.index.anchors.append(record)
        self.index.anchor = record.key_id
        self._save_index()
        return record.key_id

    def anchor_signer(self) -> tuple[str, Ed25519PrivateKey]:
        if self.index.anchor is None:
            raise KeyStoreError(f"no anchor key in {self.directory}; create one first")
        return self.index.anchor, self.signing_key(self.index.anchor)

    def anchor_public_keys(self) -> dict[str, str]:
        """For the nodes' ``trust.anchors`` config."""
        return {r.key_id: r.public_key for r in self.index.anchors}

    rotate = create_key  # a rotation is a new signing key; the old one stays trusted

    def retire(self, key_id: str, now: datetime | None = None) -> None:
        """Drop a key from the trust list; passes it signed stop verifying at nodes."""
        record = self._record(key_id)
        if key_id == self.index.active:
            raise KeyStoreError(f"{key_id!r} signs new passes; rotate before retiring it")
        record.retired_at = now or datetime.now(UTC)
        self.index.version += 1
        self._save_index()

    def _record(self, key_id: str) -> KeyRecord:
        for record in self.index.keys:
            if record.key_id == key_id:
                return record
        raise KeyStoreError(f"no key {key_id!r}")

    def signing_key(self, key_id: str | None = None) -> Ed25519PrivateKey:
        path = self._pem_path(key_id or self.active_key_id)
        if path.stat().st_mode & 0o077:
            raise KeyStoreError(f"{path} is readable by others; chmod 600 it")
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{path} is not an Ed25519 key")
        return key

    def trust_list(self, now: datetime | None = None) -> TrustList:
        """The public keys nodes should accept, versioned by every create/retire."""
        keys = tuple(
            TrustedKey(key_id=r.key_id, public_key=r.public_key, valid_from=r.created_at)
            for r in self.index.keys
            if r.retired_at is None
        )
        return TrustList(version=self.index.version, issued_at=now or datetime.now(UTC), keys=keys)
