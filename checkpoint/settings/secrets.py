"""Secrets from systemd credentials, so that config files hold no passwords."""

from __future__ import annotations

import os
from pathlib import Path

from checkpoint.errors import ConfigError


def read_secret(name: str) -> str:
    """Read credential ``name`` from ``$CREDENTIALS_DIRECTORY`` (``LoadCredential=``)."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise ConfigError(
            f"credential {name!r} is configured but $CREDENTIALS_DIRECTORY is not set "
            "(run under systemd with LoadCredential=, or set it by hand)"
        )
    path = Path(directory) / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"credential {name!r}: cannot read {path}: {exc.strerror}") from None
