"""Releases on the hub: files on disk under ``releases.directory``/<version>/, one row each
in the state store. An upload is a tar.gz of a release directory (checkpoint release
build); it is verified against the release public key before it is kept."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import BigInteger, Column, Engine, String, Table, insert, select

from checkpoint.release.manifest import MANIFEST_FILE, Manifest
from checkpoint.release.signing import ReleaseError, verify_release
from hub.state import metadata
from hub.state.types import UtcDateTime

releases_table = Table(
    "releases",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("uploaded_at", UtcDateTime(), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
)


@dataclass(frozen=True, slots=True)
class StoredRelease:
    version: str
    size: int
    manifest_sha256: str
    uploaded_at: datetime
    uploaded_by: str


def _unpack(data: bytes, into: Path) -> Path:
    """The one release directory inside a tar.gz, unpacked safely into ``into``."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(into, filter="data")  # no links out, no absolute paths, no devices
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ReleaseError("bad_upload", f"not a usable tar.gz: {exc}") from None
    found = [p.parent for p in into.rglob(MANIFEST_FILE)]
    if len(found) != 1:
        raise ReleaseError("bad_upload", f"expected one release directory, found {len(found)}")
    return found[0]


class ReleaseStore:
    def __init__(self, engine: Engine, directory: Path, public_key: str | None) -> None:
        self.engine = engine
        self.directory = directory
        self.public_key = public_key

    def add(self, archive: bytes, by: str) -> StoredRelease:
        if self.public_key is None:
            raise ReleaseError("no_key", "the hub has no releases.public_key configured")
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.directory, prefix=".upload-") as scratch:
            root = _unpack(archive, Path(scratch))
            manifest = verify_release(root, self.public_key)
            if self.get(manifest.version) is not None:
                raise ReleaseError("exists", f"release {manifest.version} is already uploaded")
            target = self.directory / manifest.version
            shutil.rmtree(target, ignore_errors=True)  # a half-kept earlier attempt
            root.rename(target)
        stored = StoredRelease(
            version=manifest.version,
            size=manifest.size,
            manifest_sha256=hashlib.sha256((target / MANIFEST_FILE).read_bytes()).hexdigest(),
            uploaded_at=datetime.now(UTC),
            uploaded_by=by,
        )
        with self.engine.begin() as conn:
            conn.execute(insert(releases_table).values(asdict(stored)))
        return stored

    def get(self, version: str) -> StoredRelease | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(releases_table).where(releases_table.c.version == version)
            ).first()
        return None if row is None else StoredRelease(**row._mapping)

    def all(self) -> list[StoredRelease]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(releases_table).order_by(releases_table.c.uploaded_at))
            return [StoredRelease(**r._mapping) for r in rows]

    def manifest(self, version: str) -> Manifest:
        return Manifest.model_validate_json((self.directory / version / MANIFEST_FILE).read_bytes())

    def file(self, version: str, path: str) -> Path | None:
        """A file of a stored release (its manifest, signature or a listed file), else None."""
        if self.get(version) is None:
            return None
        parts = PurePosixPath(path).parts
        if not parts or ".." in parts or PurePosixPath(path).is_absolute():
            return None
        found = self.directory / version / path
        return found if found.is_file() else None
