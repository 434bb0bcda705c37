"""The A/B layout on a node::

    <root>/releases/<version>/files/   the verified release (manifest, wheel, wheelhouse)
    <root>/releases/<version>/venv/    a virtual environment with that release installed
    <root>/current -> releases/<version>/venv    what systemd's ExecStart runs

The symlink is switched by renaming a new symlink over it (os.replace), so a power cut
leaves the old target or the new one, never none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

# Exit code of a node that switched versions and wants to run the other one; systemd's
# unit restarts on it (RestartForceExitStatus=), the test supervisor does the same.
RESTART_EXIT_CODE: Final = 75


class Layout:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.current = root / "current"

    def release_dir(self, version: str) -> Path:
        return self.root / "releases" / version

    def files_dir(self, version: str) -> Path:
        return self.release_dir(version) / "files"

    def venv_dir(self, version: str) -> Path:
        return self.release_dir(version) / "venv"

    def current_target(self) -> Path | None:
        try:
            return Path(os.readlink(self.current))
        except OSError:
            return None

    def switch(self, target: Path) -> None:
        """Point ``current`` at ``target`` atomically, and make it survive a power cut."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".current.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, self.current)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
