"""Install a verified release into a fresh virtual environment beside the running one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from checkpoint.release.manifest import Manifest
from checkpoint.release.signing import ReleaseError

_PIP_TIMEOUT_S = 600.0


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReleaseError("install_failed", f"{what}: {exc}") from None
    if done.returncode != 0:
        raise ReleaseError("install_failed", f"{what}: {done.stderr.strip()[-400:]}")


def install(
    files: Path,
    manifest: Manifest,
    venv: Path,
    *,
    system_site_packages: bool,
    inherit_site: Path | None = None,
) -> Path:
    """Create ``venv`` (replaced if a half-done one is there) with the release installed
    from its own files only (no package index); return its ``checkpoint`` executable.

    ``inherit_site``: a site-packages directory the new venv also sees, after its own
    (tests: the dependencies of the test environment instead of a wheelhouse).
    """
    shutil.rmtree(venv, ignore_errors=True)
    python = Path(sys.base_prefix) / "bin" / "python3"
    args = [str(python if python.exists() else sys.executable), "-m", "venv"]
    _run([*args, *(["--system-site-packages"] if system_site_packages else []), str(venv)], "venv")
    if inherit_site is not None:
        purelib = next((venv / "lib").glob("python3*/site-packages"))
        (purelib / "_greenzone_inherit.pth").write_text(f"{inherit_site}\n")
    wheels = [str(files / f.path) for f in manifest.files if f.path.endswith(".whl")]
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--no-deps",
            *wheels,
        ],
        "pip install",
    )
    checkpoint = venv / "bin" / "checkpoint"
    if not checkpoint.exists():
        raise ReleaseError("install_failed", f"{checkpoint} was not installed")
    return checkpoint
