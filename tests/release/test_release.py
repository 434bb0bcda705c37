"""A signed release verifies; one flipped byte anywhere in it is refused with the reason."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from checkpoint.release.manifest import MANIFEST_FILE, SIGNATURE_FILE, Manifest
from checkpoint.release.signing import ReleaseError, verify_release
from greenzone.cli import main
from greenzone.release.build import build_release, keygen, load_release_key
from tests.release.wheels import restamp


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def release(project_wheel: Path, release_key: tuple[Path, str], tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "tiny_dep-1.0-py3-none-any.whl").write_bytes(
        b"PK not really a wheel, hashed all the same"
    )
    return build_release(
        project_wheel, tmp_path / "releases", load_release_key(release_key[0]), wheelhouse=deps
    )


def test_a_built_release_verifies_with_every_file_hashed(
    release: Path, release_key: tuple[Path, str]
) -> None:
    manifest = verify_release(release, release_key[1])
    assert release.name == manifest.version
    assert {f.path for f in manifest.files} == {
        manifest.wheel,
        "wheelhouse/tiny_dep-1.0-py3-none-any.whl",
    }
    assert stat.S_IMODE(release_key[0].stat().st_mode) == 0o600


def test_one_flipped_byte_in_the_wheel_is_refused(
    release: Path, release_key: tuple[Path, str]
) -> None:
    manifest = Manifest.model_validate_json((release / MANIFEST_FILE).read_bytes())
    _flip(release / manifest.wheel, 1000)
    with pytest.raises(ReleaseError) as refused:
        verify_release(release, release_key[1])
    assert refused.value.reason == "bad_hash"
    assert manifest.wheel in refused.value.detail


def test_one_flipped_byte_in_the_manifest_is_refused(
    release: Path, release_key: tuple[Path, str]
) -> None:
    text = (release / MANIFEST_FILE).read_bytes()
    _flip(release / MANIFEST_FILE, text.index(b'"version"') + 12)
    with pytest.raises(ReleaseError) as refused:
        verify_release(release, release_key[1])
    assert refused.value.reason == "bad_signature"


def test_a_release_signed_by_another_key_is_refused(release: Path, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other.pem")
    with pytest.raises(ReleaseError) as refused:
        verify_release(release, other)
    assert refused.value.reason == "bad_signature"


def test_a_missing_signature_is_refused(release: Path, release_key: tuple[Path, str]) -> None:
    (release / SIGNATURE_FILE).unlink()
    with pytest.raises(ReleaseError) as refused:
        verify_release(release, release_key[1])
    assert refused.value.reason == "missing_file"


def test_unsupported_config_schema_is_named(
    project_wheel: Path, release_key: tuple[Path, str], tmp_path: Path
) -> None:
    built = build_release(
        project_wheel, tmp_path / "r", load_release_key(release_key[0]), min_config_version=7
    )
    manifest = verify_release(built, release_key[1])
    reason = manifest.unsupported_reason(config_version=1)
    assert reason is not None
    assert "config schema 7" in reason
    assert manifest.unsupported_reason(config_version=7) is None


def test_cli_keygen_build_verify_and_refusal(
    project_wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "release.pem"
    assert _cli(["release", "keygen", str(key)]) == 0
    public = capsys.readouterr().out.strip()
    wheel_b = restamp(project_wheel, "9.1.0", tmp_path / "b")
    assert (
        _cli(
            [
                "release",
                "build",
                "--key",
                str(key),
                "--out",
                str(tmp_path / "out"),
                "--wheel",
                str(wheel_b),
            ]
        )
        == 0
    )
    built = tmp_path / "out" / "9.1.0"
    assert json.loads((built / MANIFEST_FILE).read_text())["version"] == "9.1.0"
    assert _cli(["release", "verify", str(built), "--public-key", public]) == 0
    assert "verified" in capsys.readouterr().out
    _flip(built / wheel_b.name, 500)
    assert _cli(["release", "verify", str(built), "--public-key", public]) == 1
    assert "bad_hash" in capsys.readouterr().err
