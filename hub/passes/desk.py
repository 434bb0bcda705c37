"""The hub's pass desk at run time: issue and revoke (for the API), remember what was
issued (state store), and keep the nodes' trust documents published and fresh.

Keys, the revocation ledger and the issued passes live in the state store, so that every
hub instance on one PostgreSQL issues, revokes and verifies alike. One instance at a time
publishes the retained trust documents: the holder of the ``trust-publisher`` lease
(``hub/state/locks.py``). The others try to take it every ``lease_check_s``; the one that
does publishes everything at once with a fresh ``issued_at``. The holder also publishes
whenever the key or revocation version changes, whichever instance changed it.

Signing keys are created on purpose (``checkpoint passes keygen``), never implicitly: a
desk without a key publishes what it has and refuses to issue, with a message saying so.
Keys and a ledger found as files under ``passes.directory`` are taken into an empty store
at the first start. A key made with ``checkpoint passes keygen`` while the hub runs is
taken up at the next issue, readiness check or refresh, and the new trust list is
published before a pass signed by it goes out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Column, Engine, Integer, String, Table, Text, insert, select, update

from checkpoint.errors import ConfigError
from checkpoint.passes import codec
from checkpoint.passes.documents import RevocationSnapshot, ZonePolicy
from checkpoint.passes.errors import BadPassRequest, KeyStoreError, NoSigningKeyError
from checkpoint.passes.model import Pass
from checkpoint.settings.secrets import read_secret
from hub.passes.issuer import PassFields, PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.publisher import TrustPublisher
from hub.passes.revocations import RevocationLedger
from hub.passes.sealing import Sealer, local_secret
from hub.passes.settings import PassesSettings
from hub.passes.stored_keys import StoredKeys
from hub.passes.stored_ledger import StoredLedger
from hub.periodic import Periodic
from hub.policy import PolicyStore
from hub.publisher import PublishError
from hub.state import metadata
from hub.state.locks import Lease, exclusive, shares_instances
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
        lease_check_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.settings = settings
        root = directory if directory is not None else settings.directory
        metadata.create_all(engine)  # the pass tables, whenever this module came in
        self.keys = StoredKeys(engine, _sealer(engine, settings, root))
        self.ledger = StoredLedger(engine)
        self.root = root
        _take_over_files(engine, root, self.keys, self.ledger)
        self.lease = Lease(engine, "trust-publisher")
        self.lease_check_s = lease_check_s
        self._published: tuple[int, int] | None = None  # (keys, revocations) versions sent
        salt = read_secret(settings.salt_credential).encode() if settings.salt_credential else b""
        self.issuer = PassIssuer(self.keys, self.ledger, salt=salt)
        self.policies = PolicyStore(engine)
        self._fixed_policy = policy
        self.publisher: TrustPublisher | None = None
        self._lock = threading.Lock()  # one publication at a time
        self._refresher: Periodic | None = None
        self._due = 0.0  # monotonic time of the next full refresh

    # ---------------------------------------------------------------- issuing

    def issue(self, *, by: str, **asked: Unpack[PassFields]) -> IssuedRecord:
        """Sign and record a pass; BadPassRequest for bad fields, NoSigningKeyError when
        no key exists yet."""
        self.pick_up_keys()
        with self._lock:
            try:
                issued = self.issuer.issue(**asked)
            except NoSigningKeyError:
                raise
            except KeyStoreError as exc:
                # The reason names files on the hub: for its log, not for the API caller.
                log.error("cannot sign a pass: %s", exc)
                raise BadPassRequest(
                    "the hub has no usable signing key (its log says why; "
                    "`checkpoint passes keygen` makes one)"
                ) from None
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
            # The record's fields are the table's columns (seq: its default).
            conn.execute(insert(issued_passes).values(**asdict(record)))
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
        """Take keys made with ``checkpoint passes keygen`` since the last look into the
        store; the instance that publishes sends the new trust list (sealed with a new
        anchor) at once, so nodes know a key before its passes arrive."""
        if _take_over_files(self.engine, self.root, self.keys, None) and self.lease.held:
            log.info("pass keys changed in %s: publishing the trust list", self.root)
            self.publish_all()

    def has_signing_key(self) -> bool:
        self.pick_up_keys()
        try:
            return bool(self.keys.active_key_id)
        except KeyStoreError:
            return False

    # ---------------------------------------------------------------- publishing

    def start(self, publisher: TrustPublisher) -> None:
        """Publish through ``publisher`` while this instance holds the lease: everything
        at once when it takes it (a full revocation snapshot), then on every change and
        every ``refresh_s``."""
        self.publisher = publisher
        self._due = self._publish_turn(self._due)
        self._refresher = Periodic("trust-refresh", self.lease_check_s, self._refresh)
        self._refresher.start()

    @property
    def policy(self) -> ZonePolicy:
        return self.policy_now()

    def policy_now(self) -> ZonePolicy:
        """The policy in force, issued now: the wards' stored rules over the defaults."""
        now = datetime.now(UTC)
        if self._fixed_policy is not None:
            return self._fixed_policy.model_copy(update={"issued_at": now})
        return self.policies.document(now)

    def publish_policy(self) -> bool:
        """Send the policy now (after a ward changed its rules); False if it was not sent."""
        if self.publisher is None:
            return False
        try:
            with self._lock:
                self.publisher.signer = self.keys.anchor_signer()
                self.publisher.publish_policy(self.policy_now())
        except (PublishError, KeyStoreError) as exc:
            log.warning("zone policy not published: %s", exc)
            return False
        return True

    def levels_signer(self) -> tuple[str, Ed25519PrivateKey] | None:
        """The anchor key that seals the levels documents too; None without one."""
        try:
            return self.keys.anchor_signer()
        except KeyStoreError as exc:
            log.warning("levels go out unsigned: %s", exc)
            return None

    @property
    def publishing(self) -> bool:
        """Whether this instance holds the trust-publisher lease."""
        return self.lease.held

    def _versions(self) -> tuple[int, int]:
        return self.keys.trust_list().version, self.ledger.version

    def publish_all(self, *, snapshot: bool = False) -> bool:
        if self.publisher is None:
            return False
        try:
            with self._lock:
                sent = self._versions()
                self.publisher.signer = self.keys.anchor_signer()
                if self.keys.has_keys():
                    self.publisher.publish_keys(self.keys)
                if snapshot:
                    self.publisher.publish_snapshot(self.ledger)
                else:
                    self.publisher.publish_delta(self.ledger)
                self.publisher.publish_policy(self.policy_now())
        except (PublishError, KeyStoreError) as exc:
            log.warning("trust documents not published: %s", exc)
            return False
        self._published = sent
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
        if self.publisher is None or not self.lease.held:
            return  # the instance that publishes sees the new version within lease_check_s
        try:
            with self._lock:
                self.publisher.publish_delta(self.ledger)
        except PublishError as exc:
            log.warning("revocation delta not published (next refresh sends it): %s", exc)

    def _refresh(self) -> None:
        self.pick_up_keys()
        self._due = self._publish_turn(self._due)

    def _publish_turn(self, due: float) -> float:
        """One look: take the lease if free, publish what is due; the next refresh time."""
        now = time.monotonic()
        if not self.lease.held:
            if not self.lease.try_acquire():
                return due
            log.info("this hub publishes the trust documents now")
            return now + self.settings.refresh_s if self.publish_all(snapshot=True) else now
        if not self.lease.still_held():
            log.warning("trust-publisher lease lost (state store connection); retrying")
            return due
        if now >= due or self._published != self._versions():
            return now + self.settings.refresh_s if self.publish_all() else now
        return due

    def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.stop(timeout_s=5)
        self.lease.release()


def _sealer(engine: Engine, settings: PassesSettings, root: Path) -> Sealer:
    if settings.key_credential:
        return Sealer(read_secret(settings.key_credential))
    if shares_instances(engine):
        raise ConfigError(
            "passes.key_credential is required with a PostgreSQL state store: every hub "
            "instance unseals the shared signing keys with that secret"
        )
    return Sealer(local_secret(root / "sealing.key"))


def _take_over_files(
    engine: Engine, root: Path, keys: StoredKeys, ledger: StoredLedger | None
) -> int:
    """Keys made with ``checkpoint passes keygen`` go into the store (those it lacks, and
    retirements); with ``ledger``, revocations of a file ledger into an empty store, once.
    Returns how many keys changed."""
    taken = 0
    with exclusive(engine, "pass-desk-take-over"):
        if (root / "keys" / "keys.json").exists():
            taken = keys.take_over(KeyStore(root / "keys"))
            if taken:
                log.info("%d pass keys taken into the state store from %s", taken, root)
        if ledger is not None and (root / "revoked.json").exists():
            ledger.take_over(RevocationLedger(root / "revoked.json"))
    return taken


def _record(row: object) -> IssuedRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return IssuedRecord(**{f.name: m[f.name] for f in fields(IssuedRecord)})


def pass_of(record: IssuedRecord) -> Pass:
    """The pass inside a record's QR text (for the printable card); the hub signed it."""
    return codec.split(record.text).to_pass()
