"""Download a release from the hub: the signed manifest first, then, once the disk has
room for it, every file, each checked against the manifest before anything installs."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from checkpoint.contract.node.update import UpdateConfig
from checkpoint.release.manifest import MANIFEST_FILE, SIGNATURE_FILE, Manifest
from checkpoint.release.signing import ReleaseError, check_files, check_manifest

_TIMEOUT_S = 30.0
_MAX_MANIFEST_BYTES = 1_000_000


def release_url(hub_url: str, version: str, path: str) -> str:
    quoted = urllib.parse.quote(path)
    return f"{hub_url.rstrip('/')}/releases/{urllib.parse.quote(version)}/files/{quoted}"


def _get(url: str, limit: int | None = None) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:  # noqa: S310 - http(s) only (config pattern)
            data: bytes = response.read(limit + 1 if limit else -1)
    except (urllib.error.URLError, OSError) as exc:
        raise ReleaseError("download_failed", f"{url}: {exc}") from None
    if limit is not None and len(data) > limit:
        raise ReleaseError("download_failed", f"{url}: larger than {limit} bytes")
    return data


def _download(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, target.open("wb") as f:  # noqa: S310
            shutil.copyfileobj(response, f, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        raise ReleaseError("download_failed", f"{url}: {exc}") from None


def room_needed(manifest: Manifest, config: UpdateConfig) -> int:
    return int(manifest.size * (1 + config.install_factor)) + config.min_free_bytes


def fetch_manifest(config: UpdateConfig, version: str) -> tuple[bytes, str, Manifest]:
    assert config.hub_url is not None
    assert config.release_key is not None
    text = _get(release_url(config.hub_url, version, MANIFEST_FILE), _MAX_MANIFEST_BYTES)
    signature = _get(release_url(config.hub_url, version, SIGNATURE_FILE), 1000).decode(
        "ascii", errors="replace"
    )
    manifest = check_manifest(text, signature, config.release_key)
    if manifest.version != version:
        raise ReleaseError(
            "bad_manifest", f"asked for {version}, the manifest is {manifest.version}"
        )
    return text, signature, manifest


def fetch_release(config: UpdateConfig, version: str, target: Path) -> Manifest:
    """Download and verify release ``version`` into ``target`` (replaced if present).

    Refused before any file is downloaded: a bad signature, a release this node's config
    or contract cannot run, and too little disk (ReleaseError ``no_space``).
    """
    assert config.hub_url is not None
    text, signature, manifest = fetch_manifest(config, version)
    reason = manifest.unsupported_reason()
    if reason is not None:
        raise ReleaseError("unsupported", reason)
    config.root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(config.root).free
    if free < room_needed(manifest, config):
        raise ReleaseError(
            "no_space",
            f"{free} bytes free on {config.root}, release {version} needs "
            f"{room_needed(manifest, config)} (download, install, spare)",
        )
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    (target / MANIFEST_FILE).write_bytes(text)
    (target / SIGNATURE_FILE).write_text(signature, encoding="ascii")
    for entry in manifest.files:
        _download(release_url(config.hub_url, version, entry.path), target / entry.path)
    check_files(target, manifest)
    return manifest
