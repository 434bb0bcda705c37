"""The hub's pass desk at run time: issue and revoke (for the API), remember what was
issued (state store), and keep the nodes' trust documents published and fresh.

Signing keys are created on purpose (``checkpoint passes keygen``), never implicitly: a
desk without a key publishes what it has and refuses to issue, with a message saying so.
A key made while the hub runs is taken up at the next issue or readiness check, and the
new trust list is published before a pass signed by it goes out.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, Engine, Integer, String, Table, Text, insert, select, update

from checkpoint.passes import codec
from checkpoint.passes.documents import RevocationSnapshot, ZonePolicy
from checkpoint.passes.errors import BadPassRequest, KeyStoreError, NoSigningKeyError
from checkpoint.passes.model import Category, HourWindow, Pass
from checkpoint.passes.policy import default_policy
from checkpoint.settings.secrets import read_secret
from hub.passes.issuer import PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.publisher import PublishError, TrustPublisher
from hub.passes.revocations import RevocationLedger
from hub.passes.settings import PassesSettings
from hub.state import metadata
from hub.state.types import UtcDateTime

log = logging.getLogger(__name__)

issued_passes = Table(
    "issued_passes",
    metadata,
    Column("pass_id", String(32), primary_key=True),
    Column("ward_id", String(64), nullable=False, index=True),
    Column("category", String(32), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("label", String(64), nullable=False),
    Column("text", Text, nullable=False),  # the QR content: signed, no personal data
    Column("valid_from", UtcDateTime(), nullable=False),
    Column("valid_until", UtcDateTime(), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("issued_by", String(16), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("seq", Integer, nullable=False, default=0),
)


class PassNotFoundError(KeyStoreError, KeyError):
    pass


class AlreadyRevokedError(KeyStoreError):
    pass


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    pass_id: str
    ward_id: str
    category: str
    key_id: str
    label: str
    text: str
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None


class PassDesk:
    def __init__(
        self,
        engine: Engine,
        settings: PassesSettings,
        directory: Path | None = None,
        *,
        policy: ZonePolicy | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        root = directory if directory is not None else settings.directory
        self.keys = KeyStore(root / "keys")
        self.ledger = RevocationLedger(root / "revoked.json")
        salt = read_secret(settings.salt_credential).encode() if settings.salt_credential else b""
        self.issuer = PassIssuer(self.keys, self.ledger, salt=salt)
        self.policy = policy or default_policy(1, datetime.now(UTC))
        self.publisher: TrustPublisher | None = None
        self._lock = threading.Lock()  # the ledger and key files are not thread-safe
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    # ---------------------------------------------------------------- issuing

    def issue(
        self,
        *,
        by: str,
        category: Category,
        ward_id: str,
        valid_for: timedelta,
        valid_from: datetime | None,
        zone_id: str | None,
        checkpoints: tuple[str, ...],
        hours: tuple[HourWindow, ...],
        label: str,
        document_number: str | None,
    ) -> IssuedRecord:
        """Sign and record a pass; BadPassRequest for bad fields, NoSigningKeyError when
        no key exists yet."""
        self.pick_up_keys()
        with self._lock:
            try:
                issued = self.issuer.issue(
                    category=category,
                    ward_id=ward_id,
                    valid_for=valid_for,
                    valid_from=valid_from,
                    zone_id=zone_id,
                    checkpoints=checkpoints,
                    hours=hours,
                    label=label,
                    document_number=document_number,
                )
            except NoSigningKeyError:
                raise
            except KeyStoreError as exc:
                raise BadPassRequest(f"{exc} (checkpoint passes keygen)") from None
        p = issued.pass_
        record = IssuedRecord(
            p.pass_id,
            p.ward_id,
            p.category.value,
            p.key_id,
            p.label,
            issued.text,
            p.valid_from,
            p.valid_until,
            datetime.now(UTC),
            by,
            None,
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert(issued_passes).values(
                    pass_id=record.pass_id,
                    ward_id=record.ward_id,
                    category=record.category,
                    key_id=record.key_id,
                    label=record.label,
                    text=record.text,
                    valid_from=record.valid_from,
                    valid_until=record.valid_until,
                    issued_at=record.issued_at,
                    issued_by=by,
                )
            )
        return record

    def get(self, pass_id: str) -> IssuedRecord:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(issued_passes).where(issued_passes.c.pass_id == pass_id)
            ).first()
        if row is None:
            raise PassNotFoundError(f"no pass {pass_id!r} was issued here")
        return _record(row)

    def find(self, *, wards: frozenset[str] | None, limit: int, offset: int) -> list[IssuedRecord]:
        q = select(issued_passes).order_by(issued_passes.c.issued_at.desc())
        if wards is not None:
            q = q.where(issued_passes.c.ward_id.in_(sorted(wards)))
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(q.limit(limit).offset(offset))]

    def revoke(self, pass_id: str) -> IssuedRecord:
        """Revoke, record, and send the delta to the nodes (if the broker is there)."""
        record = self.get(pass_id)
        if record.revoked_at is not None:
            raise AlreadyRevokedError(f"pass {pass_id} was revoked at {record.revoked_at}")
        with self._lock:
            revocation = self.ledger.revoke(pass_id, pass_valid_until=record.valid_until)
        with self.engine.begin() as conn:
            conn.execute(
                update(issued_passes)
                .where(issued_passes.c.pass_id == pass_id)
                .values(revoked_at=revocation.revoked_at)
            )
        self.publish_delta()
        return self.get(pass_id)

    def revoked_at(self, pass_id: str) -> datetime | None:
        return self.ledger.revoked_at(pass_id)

    def pick_up_keys(self) -> None:
        """Take up keys made on disk since the last look; publish the new trust list (and
        seal with a new anchor) at once, so nodes know a key before its passes arrive."""
        with self._lock:
            changed = self.keys.reload()
            if changed and self.publisher is not None and self.keys.index.anchor is not None:
                self.publisher.signer = self.keys.anchor_signer()
        if changed:
            log.info("pass keys changed in %s: publishing the trust list", self.keys.directory)
            self.publish_all()

    def has_signing_key(self) -> bool:
        self.pick_up_keys()
        return self.keys.index.active is not None

    # ---------------------------------------------------------------- publishing

    def start(self, publisher: TrustPublisher) -> None:
        """Publish everything now (a full revocation snapshot), then refresh periodically."""
        self.publisher = publisher
        self.publish_all(snapshot=True)
        self._refresher = threading.Thread(
            target=self._refresh_loop, name="trust-refresh", daemon=True
        )
        self._refresher.start()

    def publish_all(self, *, snapshot: bool = False) -> bool:
        if self.publisher is None:
            return False
        try:
            with self._lock:
                if self.keys.index.active is not None or self.keys.index.keys:
                    self.publisher.publish_keys(self.keys)
                if snapshot:
                    self.publisher.publish_snapshot(self.ledger)
                else:
                    self.publisher.publish_delta(self.ledger)
                self.publisher.publish_policy(
                    self.policy.model_copy(update={"issued_at": datetime.now(UTC)})
                )
        except (PublishError, KeyStoreError) as exc:
            log.warning("trust documents not published: %s", exc)
            return False
        return True

    def publish_snapshot(self) -> RevocationSnapshot | None:
        """The full revocation list, on demand; None if it could not be sent."""
        if self.publisher is None:
            return None
        try:
            with self._lock:
                return self.publisher.publish_snapshot(self.ledger)
        except PublishError as exc:
            log.warning("revocation snapshot not published: %s", exc)
            return None

    def publish_delta(self) -> None:
        if self.publisher is None:
            return
        try:
            with self._lock:
                self.publisher.publish_delta(self.ledger)
        except PublishError as exc:
            log.warning("revocation delta not published (next refresh sends it): %s", exc)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.settings.refresh_s):
            self.pick_up_keys()
            self.publish_all()

    def stop(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=5)


def _record(row: object) -> IssuedRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return IssuedRecord(
        m["pass_id"],
        m["ward_id"],
        m["category"],
        m["key_id"],
        m["label"],
        m["text"],
        m["valid_from"],
        m["valid_until"],
        m["issued_at"],
        m["issued_by"],
        m["revoked_at"],
    )


def pass_of(record: IssuedRecord) -> Pass:
    """The pass inside a record's QR text (for the printable card); the hub signed it."""
    return codec.split(record.text).to_pass()
