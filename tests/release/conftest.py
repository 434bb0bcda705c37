from __future__ import annotations

from pathlib import Path

import pytest

from greenzone.release.build import build_wheel, keygen

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's own wheel, built from this source tree once per session."""
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def release_key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "keys" / "release.pem"
    return path, keygen(path)
