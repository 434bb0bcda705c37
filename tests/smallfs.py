"""A real small filesystem for disk-full tests: a tmpfs of a given size, mounted as root.

A full disk has to be a real ENOSPC from the kernel, not SQLite's page limit standing in
for it: what fails first on a real full disk (the WAL growing) is what the outbox must
survive. Tests that cannot mount (not root, no mount namespace rights) are skipped.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_filesystem(where: Path, size_bytes: int) -> Iterator[Path]:
    """Mount a tmpfs of ``size_bytes`` on ``where`` (created) for the block; always unmount."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        # Lazy: a process killed a moment ago may still hold a file open.
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(where: Path, leave_bytes: int) -> Path:
    """Another program filling the disk (a runaway log): a file that leaves ``leave_bytes``."""
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    filler = where / "runaway.log"
    with filler.open("ab") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler
